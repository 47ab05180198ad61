//! The HTTP tester's answer as it arrives: a page opens a watch (a server-sent event stream) under
//! a key of its choosing before it sends, and the tester passes the status line and each chunk to
//! it the moment they come, so a streamed response reads as it is written. A watch belongs to one
//! account and one function: nobody else's request reaches it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;
use uuid::Uuid;

use crate::error::{Error, Result};

use super::tester::Chunk;

/// The most watches one account may hold open (a tab each).
pub const MAX_WATCHES: usize = 8;

/// What a watch hears, in order: the head once, then each chunk.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Heard {
    Head { status_line: String, first_byte_ms: u64 },
    Chunk(Chunk),
}

type Key = (Uuid, Uuid, String);

/// The open watches.
#[derive(Debug, Default)]
pub struct Watches {
    open: Mutex<HashMap<Key, broadcast::Sender<Heard>>>,
}

/// An open watch; it closes when dropped.
#[derive(Debug)]
pub struct Watch {
    watches: Arc<Watches>,
    key: Key,
    pub heard: broadcast::Receiver<Heard>,
}

impl Drop for Watch {
    fn drop(&mut self) {
        self.watches.open.lock().unwrap_or_else(PoisonError::into_inner).remove(&self.key);
    }
}

/// Where the tester tells a watch what it hears (nowhere when no page watches).
#[derive(Clone, Debug, Default)]
pub struct Ear(Option<broadcast::Sender<Heard>>);

impl Ear {
    pub fn hear(&self, heard: Heard) {
        if let Some(sender) = &self.0 {
            let _ = sender.send(heard);
        }
    }
}

impl Watches {
    /// Opens a watch on `function` under `key` for `account`.
    pub fn open(self: &Arc<Self>, account: Uuid, function: Uuid, key: &str) -> Result<Watch> {
        let well_formed = (8..=64).contains(&key.len())
            && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
        if !well_formed {
            return Err(Error::invalid("key", "8 to 64 letters, digits or dashes"));
        }
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        if open.keys().filter(|(a, ..)| *a == account).count() >= MAX_WATCHES {
            return Err(Error::Conflict(format!(
                "at most {MAX_WATCHES} testers may listen at once: close another tab's URL tester"
            )));
        }
        let key = (account, function, key.to_owned());
        if open.contains_key(&key) {
            return Err(Error::Conflict("that key is being watched already".into()));
        }
        // Enough room for a long streamed answer to be read a little late.
        let (sender, heard) = broadcast::channel(1024);
        open.insert(key.clone(), sender);
        Ok(Watch { watches: self.clone(), key, heard })
    }

    /// The ear of the watch on `function` under `key` for `account`, if one is open.
    pub fn ear(&self, account: Uuid, function: Uuid, key: Option<&str>) -> Ear {
        let Some(key) = key.filter(|k| !k.is_empty()) else { return Ear::default() };
        let open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        Ear(open.get(&(account, function, key.to_owned())).cloned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_watch_hears_only_its_own_account_and_function() {
        let watches = Arc::new(Watches::default());
        let (ada, bob, function) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
        let mut watch = watches.open(ada, function, "key-0001").expect("opens");
        let head = Heard::Head { status_line: "HTTP/1.1 200 OK".into(), first_byte_ms: 3 };
        watches.ear(bob, function, Some("key-0001")).hear(head.clone());
        watches.ear(ada, Uuid::new_v4(), Some("key-0001")).hear(head.clone());
        assert!(watch.heard.try_recv().is_err(), "another account's or function's request");
        watches.ear(ada, function, Some("key-0001")).hear(head.clone());
        assert_eq!(watch.heard.try_recv().expect("heard"), head);
        assert!(watches.open(ada, function, "key-0001").is_err(), "taken");
        assert!(watches.open(ada, function, "short").is_err());
        assert!(watches.open(ada, function, "no/slashes/here").is_err());
        drop(watch);
        assert!(watches.ear(ada, function, Some("key-0001")).0.is_none(), "closed when dropped");
        let held: Vec<Watch> = (0..MAX_WATCHES)
            .map(|i| watches.open(ada, function, &format!("key-{i:04}")).expect("opens"))
            .collect();
        assert!(matches!(watches.open(ada, function, "key-more"), Err(Error::Conflict(_))));
        assert!(watches.open(bob, function, "key-0000").is_ok(), "per account");
        drop(held);
    }
}
