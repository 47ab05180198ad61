//! Passwords as argon2id PHC strings, computed in memory kept between hashes.
//!
//! Argon2 with the default parameters works in 19 MiB. Allocating, zeroing and returning that for
//! every hash cost twice the hashing itself when a class signed up at once (measured with `perf`
//! under `scripts/bench-class 100`: page faults, zeroing and the TLB shootdowns of each `munmap`),
//! so each hashing thread takes a workspace from a small pool and gives it back. At most
//! [`CONCURRENT_HASHES`] hashes run at once, so the pool never holds more than that many.
//!
//! A workspace is also kept out of forks (`MADV_DONTFORK`): the embedded engine forks the console
//! for every execution environment, and the copies live as long as the environment, so each page
//! argon2 then wrote was a copy-on-write fault with a TLB shootdown on every core — a third of
//! the console's CPU during a class's sign-ups, before this.
//!
//! The strings are the ones `argon2`'s `PasswordHasher` writes and its `PasswordVerifier` reads
//! (the tests check both directions), so stored hashes and their parameters stay portable.

use std::sync::{LazyLock, Mutex, PoisonError};

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{Output, ParamsString, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};

use crate::error::Result;

/// At most this many argon2 hashes at once (and workspaces kept): one per core, up to four. A
/// flood of sign-ins waits its turn instead of taking the console's memory and every core.
pub(super) static CONCURRENT_HASHES: LazyLock<usize> = LazyLock::new(|| {
    std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get).clamp(1, 4)
});
static HASHING: LazyLock<tokio::sync::Semaphore> =
    LazyLock::new(|| tokio::sync::Semaphore::new(*CONCURRENT_HASHES));

/// Workspaces for the default parameters, handed from one hash to the next.
static WORKSPACES: Mutex<Vec<Workspace>> = Mutex::new(Vec::new());

/// Memory for argon2's blocks whose whole pages are not inherited by a forked child.
struct Workspace(Vec<Block>);

impl Workspace {
    fn new(blocks: usize) -> Self {
        let workspace = Self(vec![Block::default(); blocks]);
        pages::inherit_in_forks(&workspace.0, false);
        workspace
    }
}

impl Drop for Workspace {
    fn drop(&mut self) {
        // The allocator may hand these pages to anything next: children must get them again.
        pages::inherit_in_forks(&self.0, true);
    }
}

#[expect(unsafe_code, reason = "madvise has no safe wrapper in the crates the console uses")]
mod pages {
    /// Keeps the whole pages of `memory` out of the copies of this process that are forked
    /// (`MADV_DONTFORK`), or, with `inherited`, lets them in again — before the memory is freed,
    /// since the allocator may hand the pages to anything next. Pages at the edges, which may
    /// hold other data, are left as they are.
    pub(super) fn inherit_in_forks<T>(memory: &[T], inherited: bool) {
        let page = 4096;
        let start = memory.as_ptr() as usize;
        let end = start + std::mem::size_of_val(memory);
        let (first, last) = (start.next_multiple_of(page), end / page * page);
        if first < last {
            let advice = if inherited { libc::MADV_DOFORK } else { libc::MADV_DONTFORK };
            // SAFETY: a page-aligned range inside memory the caller owns; this advice changes
            // only whether forked children map it, never what it holds. The engine's forked
            // children run only code and data prepared before their fork, never these buffers.
            unsafe { libc::madvise(first as *mut libc::c_void, last - first, advice) };
        }
    }
}

/// Runs an argon2 computation off the async threads, within [`CONCURRENT_HASHES`].
pub(super) async fn hashing<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T> {
    let _permit = HASHING.acquire().await.map_err(|e| anyhow::anyhow!("hashing closed: {e}"))?;
    Ok(tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| anyhow::anyhow!("password hashing task failed: {e}"))?)
}

/// `work` with memory for `params`: a kept workspace when they are the defaults, else its own.
fn with_memory<T>(params: &Params, work: impl FnOnce(&mut [Block]) -> T) -> T {
    let blocks = params.block_count();
    if blocks != Params::default().block_count() {
        return work(&mut vec![Block::default(); blocks]);
    }
    let kept = WORKSPACES.lock().unwrap_or_else(PoisonError::into_inner).pop();
    // Argon2 writes every block before it reads it: a workspace needs no clearing between hashes.
    let mut workspace = kept.unwrap_or_else(|| Workspace::new(blocks));
    let result = work(&mut workspace.0);
    let mut pool = WORKSPACES.lock().unwrap_or_else(PoisonError::into_inner);
    if pool.len() < *CONCURRENT_HASHES {
        pool.push(workspace);
    }
    result
}

fn hash_error(e: impl std::fmt::Display) -> crate::error::Error {
    anyhow::anyhow!("hashing a password: {e}").into()
}

fn malformed(e: impl std::fmt::Display) -> crate::error::Error {
    anyhow::anyhow!("stored password hash is malformed: {e}").into()
}

/// The argon2id PHC string of `password` with a new salt and the default parameters.
pub(super) fn hash(password: &[u8]) -> Result<String> {
    let argon2 = Argon2::default();
    let salt = SaltString::generate(&mut OsRng);
    let mut salt_bytes = [0u8; 64];
    let salt_bytes = salt.as_salt().decode_b64(&mut salt_bytes).map_err(hash_error)?;
    let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
    with_memory(argon2.params(), |blocks| {
        argon2.hash_password_into_with_memory(password, salt_bytes, &mut out, blocks)
    })
    .map_err(hash_error)?;
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(argon2.params()).map_err(hash_error)?,
        salt: Some(salt.as_salt()),
        hash: Some(Output::new(&out).map_err(hash_error)?),
    };
    Ok(phc.to_string())
}

/// Whether `password` matches the PHC string `stored` (any argon2 variant, version and
/// parameters it names). The comparison is constant-time (`Output`'s equality).
pub(super) fn verify(password: &[u8], stored: &str) -> Result<bool> {
    let parsed = PasswordHash::new(stored).map_err(malformed)?;
    let algorithm = Algorithm::try_from(parsed.algorithm).map_err(malformed)?;
    let version = parsed.version.map(Version::try_from).transpose().map_err(malformed)?;
    let params = Params::try_from(&parsed).map_err(malformed)?;
    let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
        return Ok(false);
    };
    let mut salt_bytes = [0u8; 64];
    let salt_bytes = salt.decode_b64(&mut salt_bytes).map_err(malformed)?;
    let argon2 = Argon2::new(algorithm, version.unwrap_or_default(), params.clone());
    let mut out = vec![0u8; expected.len()];
    with_memory(&params, |blocks| {
        argon2.hash_password_into_with_memory(password, salt_bytes, &mut out, blocks)
    })
    .map_err(hash_error)?;
    Ok(Output::new(&out).map_err(malformed)? == expected)
}

#[cfg(test)]
mod tests {
    use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};

    use super::*;

    #[test]
    fn hashes_are_argon2id_phc_strings_the_crate_verifies() {
        let stored = hash(b"correct horse battery").unwrap();
        assert!(stored.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{stored}");
        let parsed = PasswordHash::new(&stored).unwrap();
        assert!(Argon2::default().verify_password(b"correct horse battery", &parsed).is_ok());
        assert!(Argon2::default().verify_password(b"correct horse battery!", &parsed).is_err());
        assert_ne!(stored, hash(b"correct horse battery").unwrap(), "a new salt each time");
    }

    #[test]
    fn verifies_what_the_crate_hashed_whatever_its_parameters() {
        let salt = SaltString::generate(&mut OsRng);
        let defaults = Argon2::default().hash_password(b"p4ssword-one", &salt).unwrap().to_string();
        assert!(verify(b"p4ssword-one", &defaults).unwrap());
        assert!(!verify(b"p4ssword-two", &defaults).unwrap());
        // Other parameters and variant (a hash from before a change of defaults) need memory of
        // their own size: still verified.
        let other =
            Argon2::new(Algorithm::Argon2i, Version::V0x13, Params::new(8192, 3, 1, None).unwrap())
                .hash_password(b"p4ssword-one", &salt)
                .unwrap()
                .to_string();
        assert!(verify(b"p4ssword-one", &other).unwrap());
        assert!(!verify(b"p4ssword-one ", &other).unwrap());
        assert!(verify(b"x", "not a hash").is_err());
    }

    /// The `VmFlags` of the mapping of this process that holds `address`.
    fn vm_flags(address: usize) -> String {
        let smaps = std::fs::read_to_string("/proc/self/smaps").expect("smaps");
        let mut inside = false;
        for line in smaps.lines() {
            if let Some((range, _)) = line.split_once(' ')
                && let Some((from, to)) = range.split_once('-')
                && let (Ok(from), Ok(to)) =
                    (usize::from_str_radix(from, 16), usize::from_str_radix(to, 16))
            {
                inside = (from..to).contains(&address);
            } else if inside && let Some(flags) = line.strip_prefix("VmFlags:") {
                return flags.trim().to_owned();
            }
        }
        panic!("no mapping holds {address:#x}");
    }

    #[test]
    fn a_workspace_is_kept_out_of_forks_until_it_is_freed() {
        let dont_copy = |address: usize| vm_flags(address).split(' ').any(|f| f == "dc");
        let workspace = Workspace::new(Params::default().block_count());
        let middle = workspace.0.as_ptr() as usize + (8 << 20);
        assert!(dont_copy(middle), "{}", vm_flags(middle));
        let memory = vec![7u8; 4 << 20];
        let other = memory.as_ptr() as usize + (2 << 20);
        assert!(!dont_copy(other), "{}", vm_flags(other));
        drop(workspace);
        // The pages are given back as the allocator's own again (or already unmapped).
        let smaps = std::fs::read_to_string("/proc/self/smaps").unwrap();
        if smaps.lines().any(|l| {
            l.split_once(' ').and_then(|(r, _)| r.split_once('-')).is_some_and(|(f, t)| {
                (usize::from_str_radix(f, 16).unwrap_or(0)
                    ..usize::from_str_radix(t, 16).unwrap_or(0))
                    .contains(&middle)
            })
        }) {
            assert!(!dont_copy(middle), "{}", vm_flags(middle));
        }
    }

    #[test]
    fn a_reused_workspace_gives_the_same_answers() {
        // Many hashes through the kept workspaces, in threads: each verifies, none crosses over.
        let hashes: Vec<_> = (0..6)
            .map(|n| std::thread::spawn(move || (n, hash(format!("pw-{n}").as_bytes()).unwrap())))
            .map(|t| t.join().unwrap())
            .collect();
        for (n, stored) in &hashes {
            assert!(verify(format!("pw-{n}").as_bytes(), stored).unwrap());
            assert!(!verify(format!("pw-{}", n + 1).as_bytes(), stored).unwrap());
        }
        assert!(WORKSPACES.lock().unwrap().len() <= *CONCURRENT_HASHES);
    }
}
