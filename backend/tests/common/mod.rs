//! What the backend's integration tests share: a real engine on a free port, and accounts.

/// An engine on a free port with the role `r`: its base URL, and the engine (stopped when dropped).
pub async fn engine() -> (String, engine::testing::TestEngine) {
    let engine = engine::testing::engine_with_role("catalog-engine", "r").await;
    (engine.base.clone(), engine)
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
