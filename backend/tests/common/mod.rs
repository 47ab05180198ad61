//! What the backend's integration tests share: a real engine on a free port, and accounts.

/// An engine on a free port with a role; stopped when the sender drops.
pub async fn engine() -> (String, tokio::sync::oneshot::Sender<()>) {
    let dir = std::env::temp_dir().join(format!("catalog-engine-{}", uuid::Uuid::new_v4()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let engine = engine::Engine::open(engine::EngineConfig::new(addr, dir)).expect("engine");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(engine.serve(listener, async move {
        let _ = stopped.await;
    }));
    let base = format!("http://{addr}");
    let created = reqwest::Client::new()
        .post(format!("{base}/"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!(
            "Action=CreateRole&Version=2010-05-08&RoleName=r&AssumeRolePolicyDocument={}",
            engine::iam::percent_encode(engine::iam::LAMBDA_TRUST_POLICY)
        ))
        .send()
        .await
        .expect("role");
    assert!(created.status().is_success());
    (base, stop)
}

/// An account with `role` (`admin`, `developer`, `learner`).
pub async fn account(pool: &sqlx::PgPool, email: &str, role: &str) -> backend::accounts::Account {
    let id = sqlx::query_scalar!(
        "insert into account (email, password_hash, role) values ($1, 'x', $2) returning account_id",
        email,
        role
    )
    .fetch_one(pool)
    .await
    .expect("account");
    backend::accounts::get_account(pool, id).await.expect("get").expect("exists")
}
