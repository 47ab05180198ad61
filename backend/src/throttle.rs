//! Limits failed sign-ins per account and per client address, so passwords cannot be guessed at
//! speed, and sign-ups per address, so one client cannot mint accounts at will. Kept in memory:
//! one console process serves a deployment, and a restart forgetting the counts costs an attacker
//! a restart's worth of tries at most.
//!
//! A classroom signs in from one address (a NAT, a proxy): there, many people mistype at once. So
//! an address is not limited by how many failures come from it but by how many *accounts* fail
//! from it: each account keeps its own strict limit, and an address may fail at only so many
//! distinct accounts in a window. A learner who mistyped (under their account's limit) still gets
//! in with the right password, whatever their classmates did; guessing from one address is
//! bounded by accounts × per-account failures a window (50 × 6 = 300 a quarter hour by default),
//! and it cannot spread to new accounts past the address's allowance.

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::error::{Error, Result};

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Key {
    Account(String),
    SignUp(IpAddr),
}

#[derive(Clone, Copy, Debug)]
struct Window {
    started: Instant,
    failures: u32,
}

/// The accounts that failed from one address in a window.
#[derive(Debug)]
struct AddressWindow {
    started: Instant,
    accounts: HashSet<String>,
}

#[derive(Debug, Default)]
struct Counts {
    windows: HashMap<Key, Window>,
    addresses: HashMap<IpAddr, AddressWindow>,
}

/// Fixed-window counters of failed sign-ins.
#[derive(Debug)]
pub struct SignInThrottle {
    per_account: u32,
    accounts_per_address: u32,
    window: Duration,
    signups_per_address: u32,
    counts: Mutex<Counts>,
}

/// The window sign-ups are counted in.
const SIGNUP_WINDOW: Duration = Duration::from_secs(60 * 60);

impl Default for SignInThrottle {
    /// 6 failures per account (five mistakes and still the right password; a sixth wrong one
    /// locks), and 50 accounts failing per address, in 15 minutes; 20 sign-ups per address an
    /// hour.
    fn default() -> Self {
        Self::new(6, 50, Duration::from_secs(15 * 60))
    }
}

impl SignInThrottle {
    /// `per_account` failures per account and `accounts_per_address` distinct accounts failing
    /// from one address, each per `window`.
    pub fn new(per_account: u32, accounts_per_address: u32, window: Duration) -> Self {
        Self {
            per_account,
            accounts_per_address,
            window,
            signups_per_address: 20,
            counts: Mutex::new(Counts::default()),
        }
    }

    /// Allows `limit` sign-ups per address an hour (a class behind one NAT needs its size).
    #[must_use]
    pub fn with_signups_per_address(mut self, limit: u32) -> Self {
        self.signups_per_address = limit;
        self
    }

    /// Allows `limit` distinct accounts to fail from one address a window (a class's size, and
    /// some).
    #[must_use]
    pub fn with_accounts_per_address(mut self, limit: u32) -> Self {
        self.accounts_per_address = limit;
        self
    }

    /// Counts a sign-up attempt from `address`, refusing it once the address has used its hour's
    /// allowance. Every attempt counts, taken or not: probing for free emails costs the same.
    pub fn sign_up(&self, address: Option<IpAddr>) -> Result<()> {
        let Some(address) = address else { return Ok(()) };
        let now = Instant::now();
        let mut counts = self.lock();
        let window = counts
            .windows
            .entry(Key::SignUp(address))
            .or_insert(Window { started: now, failures: 0 });
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

    fn lock(&self) -> std::sync::MutexGuard<'_, Counts> {
        // A panic while holding the lock leaves plain counters behind; they are still usable.
        self.counts.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Decides and records in one step: refuses the attempt if the account has used up its
    /// failures, or if the address has failed at its allowance of accounts and this is a new one;
    /// else counts it as a failure until [`SignInThrottle::succeeded`] says otherwise. So
    /// concurrent guesses cannot all pass the check before any is counted.
    pub fn attempt(&self, email: &str, address: Option<IpAddr>) -> Result<()> {
        let now = Instant::now();
        let account = email.trim().to_lowercase();
        let mut counts = self.lock();
        let retry = |started: Instant| {
            let left = self.window.saturating_sub(now.duration_since(started));
            Err(Error::RateLimited { retry_after_secs: left.as_secs().max(1) })
        };
        if let Some(window) = counts.windows.get(&Key::Account(account.clone()))
            && now.duration_since(window.started) < self.window
            && window.failures >= self.per_account
        {
            return retry(window.started);
        }
        if let Some(from) = address.and_then(|a| counts.addresses.get(&a))
            && now.duration_since(from.started) < self.window
            && from.accounts.len() >= self.accounts_per_address as usize
            && !from.accounts.contains(&account)
        {
            return retry(from.started);
        }
        if counts.windows.len() + counts.addresses.len() > 100_000 {
            let keep = self.window.max(SIGNUP_WINDOW);
            counts.windows.retain(|_, w| now.duration_since(w.started) < keep);
            counts.addresses.retain(|_, w| now.duration_since(w.started) < keep);
        }
        let window = counts
            .windows
            .entry(Key::Account(account.clone()))
            .or_insert(Window { started: now, failures: 0 });
        if now.duration_since(window.started) >= self.window {
            *window = Window { started: now, failures: 0 };
        }
        window.failures += 1;
        if let Some(address) = address {
            let from = counts
                .addresses
                .entry(address)
                .or_insert_with(|| AddressWindow { started: now, accounts: HashSet::new() });
            if now.duration_since(from.started) >= self.window {
                *from = AddressWindow { started: now, accounts: HashSet::new() };
            }
            from.accounts.insert(account);
        }
        Ok(())
    }

    /// The attempt was right: the account's count is cleared. An account that failed from the
    /// address before stays among those that did (one right password must not make room for
    /// guessing at others); one that did not, never failed there.
    pub fn succeeded(&self, email: &str, address: Option<IpAddr>) {
        let account = email.trim().to_lowercase();
        let mut counts = self.lock();
        let attempts =
            counts.windows.remove(&Key::Account(account.clone())).map_or(0, |w| w.failures);
        if attempts <= 1
            && let Some(from) = address.and_then(|a| counts.addresses.get_mut(&a))
        {
            from.accounts.remove(&account);
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
    fn an_address_may_fail_at_only_so_many_accounts() {
        let throttle = SignInThrottle::new(100, 3, Duration::from_secs(60));
        for n in 0..3 {
            assert!(throttle.attempt(&format!("user{n}@x.io"), HOME).is_ok());
        }
        assert!(throttle.attempt("fresh@x.io", HOME).is_err(), "a fourth account is refused");
        assert!(throttle.attempt("user1@x.io", HOME).is_ok(), "one that failed here goes on");
        assert!(throttle.attempt("fresh@x.io", None).is_ok());
    }

    /// The review's classroom: 25 learners behind one address, each mistyping 5 times, each then
    /// signing in with the right password.
    #[test]
    fn a_class_behind_one_address_signs_in() {
        let throttle = SignInThrottle::default();
        for n in 0..25 {
            let email = format!("learner{n}@class.example");
            for _ in 0..5 {
                assert!(throttle.attempt(&email, HOME).is_ok(), "{email}: a wrong password");
            }
            assert!(throttle.attempt(&email, HOME).is_ok(), "{email}: the right password");
            throttle.succeeded(&email, HOME);
        }
        // Guessing across accounts from the same address stops at the address's allowance.
        let passed =
            (0..200).filter(|n| throttle.attempt(&format!("victim{n}@x.io"), HOME).is_ok()).count();
        assert_eq!(passed, 25, "50 accounts a window from one address, 25 already used");
    }

    #[test]
    fn a_right_first_try_takes_no_place_from_the_address() {
        let throttle = SignInThrottle::new(5, 2, Duration::from_secs(60));
        for n in 0..10 {
            let email = format!("right{n}@x.io");
            assert!(throttle.attempt(&email, HOME).is_ok());
            throttle.succeeded(&email, HOME);
        }
        assert!(throttle.attempt("typo@x.io", HOME).is_ok(), "ten right sign-ins used nothing");
    }

    #[test]
    fn success_clears_the_account_but_not_the_address() {
        let throttle = SignInThrottle::new(2, 2, Duration::from_secs(60));
        assert!(throttle.attempt("ada@x.io", HOME).is_ok(), "a wrong password");
        assert!(throttle.attempt("ada@x.io", HOME).is_ok(), "the right one");
        throttle.succeeded("ada@x.io", HOME);
        assert!(throttle.attempt("ada@x.io", None).is_ok());
        assert!(throttle.attempt("ada@x.io", None).is_ok(), "the account's count starts again");
        assert!(throttle.attempt("bob@x.io", HOME).is_ok());
        assert!(throttle.attempt("carol@x.io", HOME).is_err(), "ada failed here, so did bob");
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
