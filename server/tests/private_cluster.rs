//! The zero-setup database: a private PostgreSQL cluster started from the machine's binaries.

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
    shared.stop().expect("no-op stop");
    let conn = cluster.connect_options().connect().await.expect("still running");
    conn.close().await.expect("close");

    let options = cluster.connect_options();
    cluster.stop().expect("stops");
    assert!(options.connect().await.is_err(), "stopped");
    std::fs::remove_dir_all(&data_dir).expect("clean up");
}
