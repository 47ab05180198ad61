//! A connection's AWS SDK clients: configurations and clients built once per connection settings
//! and region, with connect and operation timeouts, over one HTTP client; and the Test (STS GetCallerIdentity).

use sqlx::PgPool;

use super::*;
use crate::error::Result;

/// What an SDK configuration is built from: the same values give the same configuration, so it
/// is built once (loading one reads the environment and profile files, and resolves credentials)
/// and shared by every client; an edited connection has new values, hence a new entry.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct ConfigKey {
    region: String,
    endpoint_url: Option<String>,
    profile: Option<String>,
    access_key_id: Option<String>,
    secret_access_key: Option<String>,
    operation_timeout: std::time::Duration,
}

/// A configuration and the clients made from it. Making a client is not free (its HTTP client
/// checks its settings by building a TLS configuration), so each is made once per configuration.
#[derive(Clone, Debug)]
struct Clients {
    config: aws_config::SdkConfig,
    lambda: aws_sdk_lambda::Client,
    iam: aws_sdk_iam::Client,
    logs: aws_sdk_cloudwatchlogs::Client,
    metrics: aws_sdk_cloudwatch::Client,
}

type ClientCache = std::sync::Mutex<std::collections::HashMap<ConfigKey, Clients>>;

static SDK_CLIENTS: std::sync::LazyLock<ClientCache> = std::sync::LazyLock::new(Default::default);

/// One HTTP client for every SDK client the console makes: the SDK's default (hyper 1, rustls with
/// aws-lc, the proxy from the environment) built once. Left to itself, each SDK client builds its
/// own, with a new TLS configuration and new connections. Connectors are kept per connect/read
/// timeout, so connections of the same settings are pooled and reused.
static HTTP_CLIENT: std::sync::LazyLock<aws_sdk_lambda::config::SharedHttpClient> =
    std::sync::LazyLock::new(|| {
        use aws_smithy_http_client::{Builder, ConnectorBuilder, proxy::ProxyConfig, tls};
        Builder::new().build_with_connector_fn(|settings, components| {
            let mut connector = ConnectorBuilder::default()
                .tls_provider(tls::Provider::Rustls(tls::rustls_provider::CryptoMode::AwsLc));
            connector.set_connector_settings(settings.cloned());
            if let Some(components) = components {
                connector.set_sleep_impl(components.sleep_impl());
            }
            connector.set_proxy_config(Some(ProxyConfig::from_env()));
            connector.build()
        })
    });

impl Connection {
    /// The configuration and clients for one of this connection's regions, made once per
    /// distinct connection settings and region (see `ConfigKey`).
    async fn clients(&self, region: &str) -> Clients {
        let key = ConfigKey {
            region: region.to_owned(),
            endpoint_url: self.endpoint_url.clone(),
            profile: self.profile.clone(),
            access_key_id: self.access_key_id.clone(),
            secret_access_key: self.secret_access_key.clone(),
            operation_timeout: self.operation_timeout,
        };
        let cached = SDK_CLIENTS
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(&key)
            .cloned();
        if let Some(clients) = cached {
            return clients;
        }
        let config = self.load_sdk_config(region).await;
        let clients = Clients {
            lambda: aws_sdk_lambda::Client::new(&config),
            iam: aws_sdk_iam::Client::new(&config),
            logs: aws_sdk_cloudwatchlogs::Client::new(&config),
            metrics: aws_sdk_cloudwatch::Client::new(&config),
            config,
        };
        let mut cache = SDK_CLIENTS.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if cache.len() > 1000 {
            cache.clear(); // connections edited many times over: start afresh
        }
        cache.insert(key, clients.clone());
        clients
    }

    /// The AWS SDK configuration for one of this connection's regions.
    pub async fn sdk_config(&self, region: &str) -> aws_config::SdkConfig {
        self.clients(region).await.config
    }

    async fn load_sdk_config(&self, region: &str) -> aws_config::SdkConfig {
        let timeouts = aws_config::timeout::TimeoutConfig::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .operation_attempt_timeout(self.operation_timeout)
            .operation_timeout(self.operation_timeout)
            .build();
        let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new(region.to_owned()))
            .http_client(HTTP_CLIENT.clone())
            .timeout_config(timeouts);
        if let Some(url) = &self.endpoint_url {
            loader = loader.endpoint_url(url);
        }
        if let Some(profile) = &self.profile {
            loader = loader.profile_name(profile);
        }
        if let (Some(key), Some(secret)) = (&self.access_key_id, &self.secret_access_key) {
            loader = loader.credentials_provider(aws_sdk_lambda::config::Credentials::new(
                key.clone(),
                secret.clone(),
                None,
                None,
                "lambdaport-connection",
            ));
        }
        loader.load().await
    }

    /// The same connection with another limit on each cloud call (tests use short ones).
    #[must_use]
    pub fn with_operation_timeout(mut self, timeout: std::time::Duration) -> Self {
        self.operation_timeout = timeout;
        self
    }

    /// A Lambda client for `region`.
    pub async fn lambda(&self, region: &str) -> aws_sdk_lambda::Client {
        self.clients(region).await.lambda
    }

    /// An IAM client (IAM is global: it goes to the home region's endpoint).
    pub async fn iam(&self) -> aws_sdk_iam::Client {
        self.clients(self.home_region()).await.iam
    }

    /// A CloudWatch Logs client for `region`.
    pub async fn logs(&self, region: &str) -> aws_sdk_cloudwatchlogs::Client {
        self.clients(region).await.logs
    }

    pub async fn metrics(&self, region: &str) -> aws_sdk_cloudwatch::Client {
        self.clients(region).await.metrics
    }

    /// The first region, where account-wide calls go.
    pub fn home_region(&self) -> &str {
        self.regions.first().map_or("us-east-1", String::as_str)
    }
}

/// Tests a connection with STS GetCallerIdentity and remembers the account id it reports.
pub async fn test(pool: &PgPool, connection: &Connection) -> Result<String> {
    let config = connection.sdk_config(connection.home_region()).await;
    let answer = aws_sdk_sts::Client::new(&config).get_caller_identity().send().await;
    // The outcome is remembered either way: a failed Test is not "not tested".
    let (account, failure) = match answer {
        Ok(identity) => (identity.account().map(str::to_owned), None),
        Err(error) => {
            let context = format!("{} did not answer STS GetCallerIdentity", connection.name);
            (None, Some(crate::cloud::error(context, &error)))
        }
    };
    sqlx::query!(
        "update connection
         set cloud_account_id = coalesce($2, cloud_account_id), tested_at = now(), test_error = $3
         where connection_id = $1",
        connection.connection_id,
        account,
        failure.as_ref().map(ToString::to_string)
    )
    .execute(pool)
    .await?;
    match failure {
        Some(error) => Err(error),
        None => Ok(account.unwrap_or_default()),
    }
}
