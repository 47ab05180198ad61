//! A connection's AWS SDK clients: configurations built once per connection settings and region,
//! with connect and operation timeouts; and the Test (STS GetCallerIdentity).

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

type ConfigCache = std::sync::Mutex<std::collections::HashMap<ConfigKey, aws_config::SdkConfig>>;

static SDK_CONFIGS: std::sync::LazyLock<ConfigCache> = std::sync::LazyLock::new(Default::default);

impl Connection {
    /// The AWS SDK configuration for one of this connection's regions, built once per distinct
    /// connection settings and region (see `ConfigKey`).
    pub async fn sdk_config(&self, region: &str) -> aws_config::SdkConfig {
        let key = ConfigKey {
            region: region.to_owned(),
            endpoint_url: self.endpoint_url.clone(),
            profile: self.profile.clone(),
            access_key_id: self.access_key_id.clone(),
            secret_access_key: self.secret_access_key.clone(),
            operation_timeout: self.operation_timeout,
        };
        let cached = SDK_CONFIGS
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(&key)
            .cloned();
        if let Some(config) = cached {
            return config;
        }
        let config = self.load_sdk_config(region).await;
        let mut cache = SDK_CONFIGS.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if cache.len() > 1000 {
            cache.clear(); // connections edited many times over: start afresh
        }
        cache.insert(key, config.clone());
        config
    }

    async fn load_sdk_config(&self, region: &str) -> aws_config::SdkConfig {
        let timeouts = aws_config::timeout::TimeoutConfig::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .operation_attempt_timeout(self.operation_timeout)
            .operation_timeout(self.operation_timeout)
            .build();
        let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new(region.to_owned()))
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
        aws_sdk_lambda::Client::new(&self.sdk_config(region).await)
    }

    /// An IAM client (IAM is global: it goes to the home region's endpoint).
    pub async fn iam(&self) -> aws_sdk_iam::Client {
        aws_sdk_iam::Client::new(&self.sdk_config(self.home_region()).await)
    }

    /// A CloudWatch Logs client for `region`.
    pub async fn logs(&self, region: &str) -> aws_sdk_cloudwatchlogs::Client {
        aws_sdk_cloudwatchlogs::Client::new(&self.sdk_config(region).await)
    }

    pub async fn metrics(&self, region: &str) -> aws_sdk_cloudwatch::Client {
        aws_sdk_cloudwatch::Client::new(&self.sdk_config(region).await)
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
