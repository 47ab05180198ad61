//! The zero-setup database: a private PostgreSQL cluster started from the machine's binaries,
//! reachable only by the console: its socket is in the 0700 cluster directory, and even there a
//! connection needs the generated password.

mod local_user;

use server::postgres::PrivateCluster;
use sqlx::{ConnectOptions as _, Connection as _};

#[tokio::test]
async fn private_cluster_starts_is_reused_and_stops() {
    let data_dir = std::env::temp_dir().join(format!("lambdaport-test-{}", uuid::Uuid::new_v4()));
    let cluster = PrivateCluster::start(&data_dir).await.expect("cluster starts");
    let mut conn = cluster.connect_options().connect().await.expect("connects over the socket");
    let one: i32 = sqlx::query_scalar("select 1").fetch_one(&mut conn).await.expect("query");
    assert_eq!(one, 1);
    conn.close().await.expect("close");

    // A second start on the same data dir shares the running cluster and leaves it running.
    let shared = PrivateCluster::start(&data_dir).await.expect("second start");
    shared.stop().await.expect("no-op stop");
    let conn = cluster.connect_options().connect().await.expect("still running");
    conn.close().await.expect("close");

    let options = cluster.connect_options();
    cluster.stop().await.expect("stops");
    assert!(options.connect().await.is_err(), "stopped");
    std::fs::remove_dir_all(&data_dir).expect("clean up");
}

/// Nobody else gets in: not without the password, not as another local user, and a cluster an
/// older version left with trust auth is given a password on its next start.
#[tokio::test]
async fn only_the_console_can_connect() {
    use std::os::unix::fs::PermissionsExt as _;
    let data_dir = std::env::temp_dir().join(format!("lambdaport-test-{}", uuid::Uuid::new_v4()));
    let cluster = PrivateCluster::start(&data_dir).await.expect("cluster starts");
    let root = std::fs::canonicalize(&data_dir).expect("dir").join("postgres");
    let socket_dir = cluster.socket_dir().to_owned();
    assert!(socket_dir.starts_with(&root), "the socket is inside the data dir: {socket_dir:?}");
    for private in [&root, &socket_dir] {
        let mode = std::fs::metadata(private).expect("meta").permissions().mode();
        assert_eq!(mode & 0o077, 0, "{private:?} is private: {mode:o}");
    }
    let password = std::fs::read_to_string(root.join("password")).expect("password file");
    assert_eq!(password.len(), 32);
    assert_eq!(
        std::fs::metadata(root.join("password")).expect("meta").permissions().mode() & 0o077,
        0
    );

    // The right socket and user, no password: refused.
    let without = cluster.connect_options().password("");
    assert!(without.connect().await.is_err(), "a password is required");
    let wrong = cluster.connect_options().password("guess");
    assert!(wrong.connect().await.is_err(), "the right password is required");

    // Another local user cannot reach the socket at all.
    if local_user::is_root() {
        local_user::ordinary_user();
        let socket = socket_dir.to_str().expect("utf-8");
        let out = std::process::Command::new("runuser")
            .args(["-u", local_user::TEST_USER, "--", "psql", "-h", socket, "-U", "lambdaport"])
            .args(["-d", "lambdaport", "-w", "-Atc", "select 1"])
            .output()
            .expect("psql runs");
        assert!(!out.status.success(), "another user connected: {out:?}");
    }

    // A cluster from before (trust auth, no password file) is upgraded on start.
    cluster.stop().await.expect("stops");
    std::fs::remove_file(root.join("password")).expect("forget the password");
    std::fs::write(root.join("data/pg_hba.conf"), "local all all trust\n").expect("old hba");
    let upgraded = PrivateCluster::start(&data_dir).await.expect("starts and upgrades");
    let mut conn = upgraded.connect_options().connect().await.expect("connects with a password");
    let one: i32 = sqlx::query_scalar("select 1").fetch_one(&mut conn).await.expect("query");
    assert_eq!(one, 1);
    conn.close().await.expect("close");
    let hba = std::fs::read_to_string(root.join("data/pg_hba.conf")).expect("hba");
    assert!(hba.contains("scram-sha-256") && !hba.contains("trust"), "{hba}");
    assert!(upgraded.connect_options().password("").connect().await.is_err());
    upgraded.stop().await.expect("stops");
    std::fs::remove_dir_all(&data_dir).expect("clean up");
}
