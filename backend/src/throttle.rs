//! Limits failed sign-ins per account and per client address, so passwords cannot be guessed at
//! speed, and sign-ups per address, so one client cannot mint accounts at will. Kept in memory: one console process serves a deployment, and a restart forgetting the
//! counts costs an attacker a restart's worth of tries at most.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::error::{Error, Result};

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Key {
    Account(String),
    Address(IpAddr),
    SignUp(IpAddr),
}

#[derive(Clone, Copy, Debug)]
struct Window {
    started: Instant,
    failures: u32,
}

/// Fixed-window counters of failed sign-ins.
#[derive(Debug)]
pub struct SignInThrottle {
    per_account: u32,
    per_address: u32,
    window: Duration,
    signups_per_address: u32,
    windows: Mutex<HashMap<Key, Window>>,
}

/// The window sign-ups are counted in.
const SIGNUP_WINDOW: Duration = Duration::from_secs(60 * 60);

impl Default for SignInThrottle {
    /// 5 failures per account and 20 per address in 15 minutes; 20 sign-ups per address an hour.
    fn default() -> Self {
        Self::new(5, 20, Duration::from_secs(15 * 60))
    }
}

impl SignInThrottle {
    pub fn new(per_account: u32, per_address: u32, window: Duration) -> Self {
        Self {
            per_account,
            per_address,
            window,
            signups_per_address: 20,
            windows: Mutex::new(HashMap::new()),
        }
    }

    /// Allows `limit` sign-ups per address an hour (a class behind one NAT needs its size).
    #[must_use]
    pub fn with_signups_per_address(mut self, limit: u32) -> Self {
        self.signups_per_address = limit;
        self
    }

    /// Counts a sign-up attempt from `address`, refusing it once the address has used its hour's
    /// allowance. Every attempt counts, taken or not: probing for free emails costs the same.
    pub fn sign_up(&self, address: Option<IpAddr>) -> Result<()> {
        let Some(address) = address else { return Ok(()) };
        let now = Instant::now();
        let mut windows = self.lock();
        let window =
            windows.entry(Key::SignUp(address)).or_insert(Window { started: now, failures: 0 });
        let elapsed = now.duration_since(window.started);
        if elapsed >= SIGNUP_WINDOW {
            *window = Window { started: now, failures: 0 };
        } else if window.failures >= self.signups_per_address {
            let retry_after_secs = (SIGNUP_WINDOW - elapsed).as_secs().max(1);
            return Err(Error::RateLimited { retry_after_secs });
        }
        window.failures += 1;
        Ok(())
    }

    fn keys(email: &str, address: Option<IpAddr>) -> impl Iterator<Item = Key> {
        std::iter::once(Key::Account(email.trim().to_lowercase())).chain(address.map(Key::Address))
    }

    fn limit(&self, key: &Key) -> u32 {
        match key {
            Key::Account(_) => self.per_account,
            Key::Address(_) => self.per_address,
            Key::SignUp(_) => self.signups_per_address,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Key, Window>> {
        // A panic while holding the lock leaves plain counters behind; they are still usable.
        self.windows.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Decides and records in one step: refuses the attempt if the account or the address has used
    /// up its failures, else counts it as a failure until [`SignInThrottle::succeeded`] says
    /// otherwise. So concurrent guesses cannot all pass the check before any is counted.
    pub fn attempt(&self, email: &str, address: Option<IpAddr>) -> Result<()> {
        let now = Instant::now();
        let mut windows = self.lock();
        for key in Self::keys(email, address) {
            if let Some(window) = windows.get(&key) {
                let elapsed = now.duration_since(window.started);
                if elapsed < self.window && window.failures >= self.limit(&key) {
                    let retry_after_secs = (self.window - elapsed).as_secs().max(1);
                    return Err(Error::RateLimited { retry_after_secs });
                }
            }
        }
        if windows.len() > 100_000 {
            windows.retain(|_, w| now.duration_since(w.started) < self.window.max(SIGNUP_WINDOW));
        }
        for key in Self::keys(email, address) {
            let window = windows.entry(key).or_insert(Window { started: now, failures: 0 });
            if now.duration_since(window.started) >= self.window {
                *window = Window { started: now, failures: 0 };
            }
            window.failures += 1;
        }
        Ok(())
    }

    /// The attempt was right: the account's count is cleared, and the address's takes this
    /// attempt back (only that: one right password must not reset guessing at other accounts).
    pub fn succeeded(&self, email: &str, address: Option<IpAddr>) {
        let mut windows = self.lock();
        windows.remove(&Key::Account(email.trim().to_lowercase()));
        if let Some(window) = address.and_then(|a| windows.get_mut(&Key::Address(a))) {
            window.failures = window.failures.saturating_sub(1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOME: Option<IpAddr> = Some(IpAddr::V4(std::net::Ipv4Addr::LOCALHOST));

    #[test]
    fn sign_ups_are_limited_per_address() {
        let throttle = SignInThrottle::default().with_signups_per_address(3);
        for _ in 0..3 {
            assert!(throttle.sign_up(HOME).is_ok());
        }
        assert!(matches!(throttle.sign_up(HOME), Err(Error::RateLimited { .. })));
        let elsewhere = Some(IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 0, 2)));
        assert!(throttle.sign_up(elsewhere).is_ok(), "other addresses are not affected");
        assert!(throttle.attempt("ada@x.io", HOME).is_ok(), "sign-in has its own counts");
    }

    #[test]
    fn account_is_locked_after_its_limit_and_unlocked_by_time() {
        let throttle = SignInThrottle::new(2, 100, Duration::from_millis(200));
        for _ in 0..2 {
            assert!(throttle.attempt("Ada@x.io", HOME).is_ok());
        }
        assert!(matches!(throttle.attempt("ada@x.io", HOME), Err(Error::RateLimited { .. })));
        assert!(throttle.attempt("bob@x.io", HOME).is_ok(), "other accounts are not locked");
        std::thread::sleep(Duration::from_millis(250));
        assert!(throttle.attempt("ada@x.io", HOME).is_ok());
    }

    #[test]
    fn address_is_locked_across_accounts() {
        let throttle = SignInThrottle::new(100, 3, Duration::from_secs(60));
        for n in 0..3 {
            assert!(throttle.attempt(&format!("user{n}@x.io"), HOME).is_ok());
        }
        assert!(throttle.attempt("fresh@x.io", HOME).is_err());
        assert!(throttle.attempt("fresh@x.io", None).is_ok());
    }

    #[test]
    fn success_clears_the_account_but_not_the_address() {
        let throttle = SignInThrottle::new(1, 2, Duration::from_secs(60));
        assert!(throttle.attempt("ada@x.io", HOME).is_ok());
        throttle.succeeded("ada@x.io", HOME);
        assert!(throttle.attempt("ada@x.io", None).is_ok());
        assert!(throttle.attempt("bob@x.io", HOME).is_ok());
        assert!(throttle.attempt("dan@x.io", HOME).is_ok());
        assert!(throttle.attempt("carol@x.io", HOME).is_err());
    }

    /// The review's H7: many guesses at once used to pass the check before any was counted.
    #[test]
    fn concurrent_guesses_stop_at_the_limit() {
        let throttle = std::sync::Arc::new(SignInThrottle::new(5, 100, Duration::from_secs(60)));
        let passed: usize = (0..20)
            .map(|_| {
                let throttle = throttle.clone();
                std::thread::spawn(move || throttle.attempt("ada@x.io", HOME).is_ok())
            })
            .collect::<Vec<_>>()
            .into_iter()
            .map(|t| usize::from(t.join().expect("thread")))
            .sum();
        assert_eq!(passed, 5);
        assert!(throttle.attempt("ada@x.io", HOME).is_err(), "the right password waits too");
    }
}
