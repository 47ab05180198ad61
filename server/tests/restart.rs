//! The real `lambdaport` binary killed in the middle of a lab step and started again: the step it
//! was doing is rolled back at startup (nothing leaked in the engine) and the learner can redo it.

use std::process::Stdio;
use std::time::Duration;

use reqwest::header::ORIGIN;
use sqlx::PgPool;
use tokio::io::{AsyncBufReadExt as _, BufReader};
use tokio::process::{Child, Command};

struct Running {
    child: Child,
    base: String,
    /// The first admin's password, printed on the first start only.
    password: Option<String>,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port()
}

/// Starts the binary and waits for it to say where it runs.
async fn launch(
    database_url: &str,
    data_dir: &std::path::Path,
    port: u16,
    engine_port: u16,
) -> Running {
    let mut child = Command::new(env!("CARGO_BIN_EXE_lambdaport"))
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .args(["--engine-listen", &format!("127.0.0.1:{engine_port}")])
        .env("DATABASE_URL", database_url)
        .env("LAMBDAPORT_DATA_DIR", data_dir)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .expect("the binary starts");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let mut password = None;
    let base = tokio::time::timeout(Duration::from_secs(60), async {
        while let Some(line) = lines.next_line().await.expect("read") {
            if let Some(p) = line.trim().strip_prefix("password:") {
                password = Some(p.trim().to_owned());
            }
            if let Some(rest) = line.split("running at ").nth(1) {
                return rest.split_whitespace().next().expect("url").to_owned();
            }
        }
        panic!("the server exited before it was ready");
    })
    .await
    .expect("ready within a minute");
    // Keep draining stdout so the server never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    Running { child, base, password }
}

async fn call(
    client: &reqwest::Client,
    base: &str,
    function: &str,
    form: &[(&str, &str)],
) -> reqwest::Response {
    client
        .post(format!("{base}/api/{function}"))
        .header(ORIGIN, base)
        .form(form)
        .send()
        .await
        .expect("server function call")
}

async fn pending(pool: &PgPool, run: uuid::Uuid) -> Option<i16> {
    sqlx::query_scalar("select pending_step from lab_run where lab_run_id = $1")
        .bind(run)
        .fetch_one(pool)
        .await
        .expect("run")
}

#[sqlx::test(migrator = "backend::db::MIGRATOR")]
async fn a_server_killed_mid_step_rolls_the_step_back_when_it_starts_again(pool: PgPool) {
    let options = pool.connect_options();
    let database_url = format!(
        "postgres://{}@{}:{}/{}",
        options.get_username(),
        options.get_host(),
        options.get_port(),
        options.get_database().expect("database")
    );
    let data_dir =
        std::env::temp_dir().join(format!("lambdaport-restart-{}", uuid::Uuid::new_v4()));
    let (port, engine_port) = (free_port(), free_port());
    let mut server = launch(&database_url, &data_dir, port, engine_port).await;
    let password = server.password.clone().expect("first start prints the admin password");
    let client = common_client();
    let signed_in = call(
        &client,
        &server.base,
        "sign_in",
        &[("email", "admin@lambdaport.local"), ("password", &password)],
    )
    .await;
    assert!(signed_in.status().is_success());

    let mut interrupted = None;
    for attempt in 0..8 {
        let target = sqlx::query_scalar::<_, uuid::Uuid>(
            "select connection_id from connection where name = 'Local'",
        )
        .fetch_one(&pool)
        .await
        .expect("local");
        let started =
            call(&client, &server.base, "start_lab", &[("target", &format!("{target}|us-east-1"))])
                .await;
        assert!(started.status().is_success(), "{:?}", started.text().await);
        let run: uuid::Uuid = started.json::<String>().await.expect("id").parse().expect("uuid");
        let name = format!("killed-{attempt}");
        let (client2, base, name2) = (client.clone(), server.base.clone(), name.clone());
        let step = tokio::spawn(async move {
            let form = [
                ("lab_run_id", run.to_string()),
                ("name", name2),
                ("runtime", "python3.12".into()),
                ("architecture", "x86_64".into()),
                ("role", "new".into()),
                ("lifecycle", "experimental".into()),
                ("environment", "dev".into()),
            ];
            let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
            // The connection dies with the server; either outcome is fine here.
            let _ = client2
                .post(format!("{base}/api/lab_function"))
                .header(ORIGIN, &base)
                .form(&form)
                .send()
                .await;
        });
        while pending(&pool, run).await.is_none() && !step.is_finished() {}
        server.child.start_kill().expect("kill");
        server.child.wait().await.expect("exited");
        let _ = step.await;
        let was_pending = pending(&pool, run).await.is_some();
        server = launch(&database_url, &data_dir, port, engine_port).await;
        if was_pending {
            interrupted = Some((run, name));
            break;
        }
    }
    let (run, name) = interrupted.expect("one kill landed in the middle of the step");

    // At startup the interrupted step is rolled back.
    let mut rolled_back = false;
    for _ in 0..300 {
        if pending(&pool, run).await.is_none() {
            rolled_back = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(rolled_back, "the restarted server reconciled the run");
    let live: i64 = sqlx::query_scalar("select count(*) from ledger_entry where lab_run_id = $1")
        .bind(run)
        .fetch_one(&pool)
        .await
        .expect("ledger");
    assert_eq!(live, 0, "whatever the step created is deleted and off the ledger");
    let engine = format!("http://127.0.0.1:{engine_port}");
    let gone = reqwest::get(format!("{engine}/2015-03-31/functions/{name}")).await.expect("get");
    assert_eq!(gone.status(), 404, "the function is not left behind");
    let roles = reqwest::Client::new()
        .post(format!("{engine}/"))
        .form(&[("Action", "ListRoles"), ("Version", "2010-05-08")])
        .send()
        .await
        .expect("roles")
        .text()
        .await
        .expect("text");
    assert!(!roles.contains(&format!("{name}-role-")), "the role is not left behind: {roles}");
    let why: Option<String> =
        sqlx::query_scalar("select last_failure from lab_run where lab_run_id = $1")
            .bind(run)
            .fetch_one(&pool)
            .await
            .expect("run");
    assert!(why.expect("a reason").contains("interrupted"));

    // The session survived the restart; the learner confirms the step again.
    let again = call(
        &client,
        &server.base,
        "lab_function",
        &[
            ("lab_run_id", &run.to_string()),
            ("name", &name),
            ("runtime", "python3.12"),
            ("architecture", "x86_64"),
            ("role", "new"),
            ("lifecycle", "experimental"),
            ("environment", "dev"),
        ],
    )
    .await;
    assert!(again.status().is_success(), "{:?}", again.text().await);
    let created = reqwest::get(format!("{engine}/2015-03-31/functions/{name}")).await.expect("get");
    assert_eq!(created.status(), 200);
    server.child.start_kill().expect("kill");
    let _ = server.child.wait().await;
    let _ = std::fs::remove_dir_all(&data_dir);
}

fn common_client() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}
