//! An ordinary local user for tests that run something as someone else (CI runs as root):
//! `lambdaport-test`, created if missing.

pub const TEST_USER: &str = "lambdaport-test";

pub fn is_root() -> bool {
    nix_uid() == 0
}

pub fn nix_uid() -> u32 {
    use std::os::unix::fs::MetadataExt as _;
    std::fs::metadata("/proc/self").map(|m| m.uid()).expect("/proc/self")
}

/// The ordinary user to run the engine as: (uid, gid).
pub fn ordinary_user() -> (u32, u32) {
    let lookup = || {
        let out = std::process::Command::new("id").args(["-u", TEST_USER]).output().ok()?;
        let uid = String::from_utf8(out.stdout).ok()?.trim().parse().ok()?;
        let out = std::process::Command::new("id").args(["-g", TEST_USER]).output().ok()?;
        let gid = String::from_utf8(out.stdout).ok()?.trim().parse().ok()?;
        Some((uid, gid))
    };
    if let Some(user) = lookup() {
        return user;
    }
    let status = std::process::Command::new("useradd")
        .args(["--system", "--no-create-home", "--shell", "/usr/sbin/nologin", TEST_USER])
        .status()
        .expect("useradd runs");
    assert!(status.success() || lookup().is_some(), "could not create the user {TEST_USER}");
    lookup().expect("the test user exists")
}
