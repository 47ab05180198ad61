//! IAM's role API (awsQuery, XML, API 2010-05-08) as AWS speaks it: roles with their trust policy,
//! attached managed policies and inline policies, kept under `<data dir>/iam/roles`. Enough for the
//! lab and for CreateFunction's check that its role exists and trusts Lambda.
//!
//! One file (about 600 lines) for one protocol: every role operation shares the query parsing and
//! the XML shapes here.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use tokio::sync::RwLock;

use crate::logs::LogAccess;
use crate::store::write_json;

const XMLNS: &str = "https://iam.amazonaws.com/doc/2010-05-08/";

/// The trust policy that lets Lambda assume a role: what AWS's console puts on a new execution
/// role, and what CreateFunction requires of the role it is given.
pub const LAMBDA_TRUST_POLICY: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;

/// The managed policy that lets a function write its logs.
pub const BASIC_EXECUTION_POLICY: &str =
    "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole";

/// AWS-managed policies the engine knows: (ARN, document).
pub const MANAGED_POLICIES: &[(&str, &str)] = &[
    (
        "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["logs:CreateLogGroup","logs:CreateLogStream","logs:PutLogEvents"],"Resource":"*"}]}"#,
    ),
    (
        "arn:aws:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["logs:CreateLogGroup","logs:CreateLogStream","logs:PutLogEvents","ec2:CreateNetworkInterface","ec2:DescribeNetworkInterfaces","ec2:DescribeSubnets","ec2:DeleteNetworkInterface","ec2:AssignPrivateIpAddresses","ec2:UnassignPrivateIpAddresses"],"Resource":"*"}]}"#,
    ),
    (
        "arn:aws:iam::aws:policy/service-role/AWSLambdaRole",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["lambda:InvokeFunction"],"Resource":["*"]}]}"#,
    ),
    (
        "arn:aws:iam::aws:policy/AWSXRayDaemonWriteAccess",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["xray:PutTraceSegments","xray:PutTelemetryRecords","xray:GetSamplingRules","xray:GetSamplingTargets","xray:GetSamplingStatisticSummaries"],"Resource":["*"]}]}"#,
    ),
    (
        "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess",
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:Get*","s3:List*","s3:Describe*","s3-object-lambda:Get*","s3-object-lambda:List*"],"Resource":"*"}]}"#,
    ),
];

/// A role as the engine keeps it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Role {
    pub name: String,
    pub path: String,
    pub id: String,
    pub arn: String,
    pub created: String,
    /// The trust policy, as the JSON text it was given.
    pub assume_role_policy: String,
    pub description: Option<String>,
    pub max_session_duration: u32,
    /// Attached managed policies, by ARN, in attach order.
    pub attached: Vec<String>,
    /// Inline policies by name.
    pub inline: BTreeMap<String, String>,
    pub tags: Vec<(String, String)>,
}

impl Role {
    /// Whether the trust policy lets Lambda assume the role.
    pub fn trusts_lambda(&self) -> bool {
        let Ok(policy) = serde_json::from_str::<serde_json::Value>(&self.assume_role_policy) else {
            return false;
        };
        let statements = match &policy["Statement"] {
            serde_json::Value::Array(list) => list.clone(),
            one @ serde_json::Value::Object(_) => vec![one.clone()],
            _ => Vec::new(),
        };
        let has = |value: &serde_json::Value, wanted: &str| match value {
            serde_json::Value::String(s) => s == wanted || s == "*",
            serde_json::Value::Array(list) => list.iter().any(|v| v == wanted || v == "*"),
            _ => false,
        };
        statements.iter().any(|s| {
            s["Effect"] == "Allow"
                && has(&s["Action"], "sts:AssumeRole")
                && has(&s["Principal"]["Service"], "lambda.amazonaws.com")
        })
    }
}

/// An IAM error: the model's code, its status, and AWS's XML envelope.
#[derive(Debug)]
pub struct IamError {
    code: &'static str,
    status: StatusCode,
    message: String,
}

impl IamError {
    fn new(code: &'static str, status: StatusCode, message: impl Into<String>) -> Self {
        Self { code, status, message: message.into() }
    }

    fn no_role(name: &str) -> Self {
        Self::new(
            "NoSuchEntity",
            StatusCode::NOT_FOUND,
            format!("The role with name {name} cannot be found."),
        )
    }

    fn invalid(message: impl Into<String>) -> Self {
        Self::new("ValidationError", StatusCode::BAD_REQUEST, message)
    }

    fn service(cause: impl std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "engine internal error (IAM)");
        Self::new(
            "ServiceFailure",
            StatusCode::INTERNAL_SERVER_ERROR,
            "An internal error occurred.",
        )
    }
}

impl IntoResponse for IamError {
    fn into_response(self) -> Response {
        let kind = if self.status.is_server_error() { "Receiver" } else { "Sender" };
        let xml = format!(
            "<ErrorResponse xmlns=\"{XMLNS}\"><Error><Type>{kind}</Type><Code>{}</Code><Message>{}</Message></Error><RequestId>{}</RequestId></ErrorResponse>",
            self.code,
            escape(&self.message),
            uuid::Uuid::new_v4()
        );
        (self.status, [("content-type", "text/xml")], xml).into_response()
    }
}

/// Roles by name, in memory and on disk.
#[derive(Debug)]
pub struct Iam {
    dir: PathBuf,
    account_id: String,
    roles: RwLock<BTreeMap<String, Role>>,
    /// Writers of one role take turns; only they wait for the disk (as the function store's).
    writers: crate::store::Writers,
    /// Counts changes to roles (bumped once a change is what readers see), so what was read from
    /// them can be kept until the next change.
    generation: AtomicU64,
}

impl Iam {
    /// Loads every stored role (setting aside any it cannot read).
    pub fn open(dir: PathBuf, account_id: &str) -> anyhow::Result<Self> {
        let roles = crate::store::load_json_dir::<Role>(&dir)?
            .into_iter()
            .map(|role| (role.name.clone(), role))
            .collect();
        Ok(Self {
            dir,
            account_id: account_id.to_owned(),
            roles: RwLock::new(roles),
            writers: crate::store::Writers::new(),
            generation: AtomicU64::new(0),
        })
    }

    /// How many times roles have changed; read it before reading roles.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// What the role may do with its function's logs (`group`, `stream`) in `region`: what its
    /// attached and inline policies allow, as IAM evaluates them. A role that does not exist may
    /// do nothing.
    pub async fn log_access(
        &self,
        role_arn: &str,
        region: &str,
        group: &str,
        stream: &str,
    ) -> LogAccess {
        let Some(role) = self.role_by_arn(role_arn).await else {
            return LogAccess::default();
        };
        let managed = role.attached.iter().filter_map(|arn| {
            MANAGED_POLICIES.iter().find(|(known, _)| known == arn).map(|(_, document)| *document)
        });
        let documents: Vec<&str> =
            managed.chain(role.inline.values().map(String::as_str)).collect();
        let group_arn = format!("arn:aws:logs:{region}:{}:log-group:{group}", self.account_id);
        let stream_arn = format!("{group_arn}:log-stream:{stream}");
        let may = |action: &str, resource: &str| {
            crate::role_policy::allows(documents.iter().copied(), action, resource)
        };
        LogAccess {
            create_group: may("logs:CreateLogGroup", &group_arn),
            create_stream: may("logs:CreateLogStream", &stream_arn),
            put: may("logs:PutLogEvents", &stream_arn),
        }
    }

    /// The role an ARN names, if it exists in this account.
    pub async fn role_by_arn(&self, arn: &str) -> Option<Role> {
        let rest = arn.strip_prefix(&format!("arn:aws:iam::{}:role/", self.account_id))?;
        let name = rest.rsplit('/').next()?;
        self.roles.read().await.get(name).filter(|role| role.arn == arn).cloned()
    }

    /// Writes a role's record and then makes it what readers see; called by the role's only
    /// writer (holding `writers.of(name)`).
    async fn store(&self, role: Role) -> Result<(), IamError> {
        write_json(&self.dir.join(format!("{}.json", role.name)), &role)
            .await
            .map_err(IamError::service)?;
        self.publish(&role.name.clone(), Some(role)).await;
        Ok(())
    }

    /// Swaps a role (or its absence) into the map, then counts the change: a reader that sees
    /// the new generation reads the new role.
    async fn publish(&self, name: &str, role: Option<Role>) {
        let mut roles = self.roles.write().await;
        match role {
            Some(role) => roles.insert(name.to_owned(), role),
            None => roles.remove(name),
        };
        self.generation.fetch_add(1, Ordering::AcqRel);
    }

    /// Runs one query-protocol action.
    pub async fn dispatch(&self, params: &HashMap<String, String>) -> Response {
        let action = params.get("Action").map_or("", String::as_str);
        let result = match action {
            "CreateRole" => self.create_role(params).await,
            "GetRole" => self.get_role(params).await,
            "DeleteRole" => self.delete_role(params).await,
            "ListRoles" => self.list_roles(params).await,
            "AttachRolePolicy" => self.attach_role_policy(params).await,
            "DetachRolePolicy" => self.detach_role_policy(params).await,
            "ListAttachedRolePolicies" => self.list_attached_role_policies(params).await,
            "PutRolePolicy" => self.put_role_policy(params).await,
            "GetRolePolicy" => self.get_role_policy(params).await,
            "DeleteRolePolicy" => self.delete_role_policy(params).await,
            "ListRolePolicies" => self.list_role_policies(params).await,
            other => Err(IamError::new(
                "InvalidAction",
                StatusCode::BAD_REQUEST,
                format!("The engine does not implement IAM {other} yet"),
            )),
        };
        match result {
            Ok(result) => envelope(action, &result),
            Err(error) => error.into_response(),
        }
    }

    async fn create_role(&self, params: &HashMap<String, String>) -> Result<String, IamError> {
        let name = required(params, "RoleName")?;
        if name.is_empty()
            || name.len() > 64
            || !name.chars().all(|c| c.is_ascii_alphanumeric() || "+=,.@-_".contains(c))
        {
            return Err(IamError::invalid(format!(
                "1 validation error detected: Value '{name}' at 'roleName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]+"
            )));
        }
        let document = required(params, "AssumeRolePolicyDocument")?;
        if serde_json::from_str::<serde_json::Value>(document).is_err() {
            return Err(IamError::new(
                "MalformedPolicyDocument",
                StatusCode::BAD_REQUEST,
                "This policy contains invalid Json",
            ));
        }
        let path = params.get("Path").cloned().unwrap_or_else(|| "/".to_owned());
        if !path.starts_with('/') || !path.ends_with('/') {
            return Err(IamError::invalid(
                "The specified value for path is invalid. It must begin and end with / and contain only alphanumeric characters and/or / characters.",
            ));
        }
        let max_session_duration = match params.get("MaxSessionDuration") {
            None => 3600,
            Some(v) => v.parse().ok().filter(|d| (3600..=43200).contains(d)).ok_or_else(|| {
                IamError::invalid(format!(
                    "1 validation error detected: Value '{v}' at 'maxSessionDuration' failed to satisfy constraint: Member must have value between 3600 and 43200"
                ))
            })?,
        };
        let _writing = self.writers.of(name).await;
        if self.roles.read().await.contains_key(name) {
            return Err(IamError::new(
                "EntityAlreadyExists",
                StatusCode::CONFLICT,
                format!("Role with name {name} already exists."),
            ));
        }
        let role = Role {
            name: name.to_owned(),
            arn: format!("arn:aws:iam::{}:role{path}{name}", self.account_id),
            path,
            id: role_id(),
            created: now_iso(),
            assume_role_policy: document.to_owned(),
            description: params.get("Description").cloned(),
            max_session_duration,
            attached: Vec::new(),
            inline: BTreeMap::new(),
            tags: members(params, "Tags")
                .into_iter()
                .filter_map(|m| Some((m.get("Key")?.clone(), m.get("Value")?.clone())))
                .collect(),
        };
        let xml = role_xml(&role, true);
        self.store(role).await?;
        Ok(xml)
    }

    async fn get_role(&self, params: &HashMap<String, String>) -> Result<String, IamError> {
        let role = self.role(params).await?;
        Ok(role_xml(&role, true))
    }

    async fn delete_role(&self, params: &HashMap<String, String>) -> Result<String, IamError> {
        let name = required(params, "RoleName")?;
        let _writing = self.writers.of(name).await;
        let role = self.role(params).await?;
        if !role.attached.is_empty() || !role.inline.is_empty() {
            return Err(IamError::new(
                "DeleteConflict",
                StatusCode::CONFLICT,
                "Cannot delete entity, must detach all policies first.",
            ));
        }
        tokio::fs::remove_file(self.dir.join(format!("{name}.json")))
            .await
            .map_err(IamError::service)?;
        self.publish(name, None).await;
        Ok(String::new())
    }

    async fn list_roles(&self, params: &HashMap<String, String>) -> Result<String, IamError> {
        let prefix = params.get("PathPrefix").map_or("/", String::as_str);
        let roles = self.roles.read().await;
        let matching: Vec<&Role> = roles.values().filter(|r| r.path.starts_with(prefix)).collect();
        let (page, next) = paginate(&matching, params, |r| &r.name)?;
        let members: String = page.iter().map(|r| role_xml(r, false)).collect();
        Ok(format!("<Roles>{members}</Roles>{next}"))
    }

    async fn attach_role_policy(
        &self,
        params: &HashMap<String, String>,
    ) -> Result<String, IamError> {
        let arn = required(params, "PolicyArn")?;
        if !MANAGED_POLICIES.iter().any(|(known, _)| *known == arn) {
            return Err(IamError::new(
                "NoSuchEntity",
                StatusCode::NOT_FOUND,
                format!("Policy {arn} does not exist or is not attachable."),
            ));
        }
        self.change_role(params, |role| {
            if !role.attached.iter().any(|a| a == arn) {
                role.attached.push(arn.to_owned());
            }
            Ok(())
        })
        .await
    }

    async fn detach_role_policy(
        &self,
        params: &HashMap<String, String>,
    ) -> Result<String, IamError> {
        let arn = required(params, "PolicyArn")?;
        self.change_role(params, |role| {
            let before = role.attached.len();
            role.attached.retain(|a| a != arn);
            if role.attached.len() == before {
                return Err(IamError::new(
                    "NoSuchEntity",
                    StatusCode::NOT_FOUND,
                    format!("Policy {arn} was not found."),
                ));
            }
            Ok(())
        })
        .await
    }

    async fn list_attached_role_policies(
        &self,
        params: &HashMap<String, String>,
    ) -> Result<String, IamError> {
        let role = self.role(params).await?;
        let attached: Vec<&String> = role.attached.iter().collect();
        let (page, next) = paginate(&attached, params, |arn| arn.as_str())?;
        let members: String = page
            .iter()
            .map(|arn| {
                let name = arn.rsplit('/').next().unwrap_or(arn);
                format!(
                    "<member><PolicyName>{}</PolicyName><PolicyArn>{}</PolicyArn></member>",
                    escape(name),
                    escape(arn)
                )
            })
            .collect();
        Ok(format!("<AttachedPolicies>{members}</AttachedPolicies>{next}"))
    }

    async fn put_role_policy(&self, params: &HashMap<String, String>) -> Result<String, IamError> {
        let policy_name = required(params, "PolicyName")?;
        let document = required(params, "PolicyDocument")?;
        if serde_json::from_str::<serde_json::Value>(document).is_err() {
            return Err(IamError::new(
                "MalformedPolicyDocument",
                StatusCode::BAD_REQUEST,
                "Syntax errors in policy.",
            ));
        }
        self.change_role(params, |role| {
            role.inline.insert(policy_name.to_owned(), document.to_owned());
            Ok(())
        })
        .await
    }

    async fn get_role_policy(&self, params: &HashMap<String, String>) -> Result<String, IamError> {
        let policy_name = required(params, "PolicyName")?;
        let role = self.role(params).await?;
        let name = &role.name;
        let document = role.inline.get(policy_name).ok_or_else(|| no_inline(name, policy_name))?;
        Ok(format!(
            "<RoleName>{}</RoleName><PolicyName>{}</PolicyName><PolicyDocument>{}</PolicyDocument>",
            escape(name),
            escape(policy_name),
            percent_encode(document)
        ))
    }

    async fn delete_role_policy(
        &self,
        params: &HashMap<String, String>,
    ) -> Result<String, IamError> {
        let policy_name = required(params, "PolicyName")?;
        self.change_role(params, |role| {
            role.inline
                .remove(policy_name)
                .map(drop)
                .ok_or_else(|| no_inline(&role.name, policy_name))
        })
        .await
    }

    async fn list_role_policies(
        &self,
        params: &HashMap<String, String>,
    ) -> Result<String, IamError> {
        let role = self.role(params).await?;
        let names: Vec<&String> = role.inline.keys().collect();
        let (page, next) = paginate(&names, params, |n| n.as_str())?;
        let members: String =
            page.iter().map(|n| format!("<member>{}</member>", escape(n))).collect();
        Ok(format!("<PolicyNames>{members}</PolicyNames>{next}"))
    }

    /// The role named by `RoleName`.
    async fn role(&self, params: &HashMap<String, String>) -> Result<Role, IamError> {
        let name = required(params, "RoleName")?;
        self.roles.read().await.get(name).cloned().ok_or_else(|| IamError::no_role(name))
    }

    /// Applies `change` to the role named by `RoleName` and stores it; no output.
    async fn change_role(
        &self,
        params: &HashMap<String, String>,
        change: impl FnOnce(&mut Role) -> Result<(), IamError>,
    ) -> Result<String, IamError> {
        let name = required(params, "RoleName")?;
        let _writing = self.writers.of(name).await;
        let mut role = self.role(params).await?;
        change(&mut role)?;
        self.store(role).await?;
        Ok(String::new())
    }
}

fn no_inline(role: &str, policy: &str) -> IamError {
    IamError::new(
        "NoSuchEntity",
        StatusCode::NOT_FOUND,
        format!("The role policy with name {policy} cannot be found for role {role}."),
    )
}

fn required<'a>(params: &'a HashMap<String, String>, name: &str) -> Result<&'a str, IamError> {
    params.get(name).map(String::as_str).ok_or_else(|| {
        let field = name[..1].to_ascii_lowercase() + &name[1..];
        IamError::invalid(format!(
            "1 validation error detected: Value null at '{field}' failed to satisfy constraint: Member must not be null"
        ))
    })
}

/// The flattened list `name.member.N.Field` of a query request, in order.
fn members(params: &HashMap<String, String>, name: &str) -> Vec<HashMap<String, String>> {
    let mut items: BTreeMap<usize, HashMap<String, String>> = BTreeMap::new();
    let prefix = format!("{name}.member.");
    for (key, value) in params {
        if let Some((index, field)) = key.strip_prefix(&prefix).and_then(|r| r.split_once('.'))
            && let Ok(index) = index.parse()
        {
            items.entry(index).or_default().insert(field.to_owned(), value.clone());
        }
    }
    items.into_values().collect()
}

/// One page after `Marker` (the last key of the previous page), at most `MaxItems` (default
/// 100), and the `IsTruncated`/`Marker` elements that follow the list.
fn paginate<'a, T>(
    items: &'a [T],
    params: &HashMap<String, String>,
    key: impl Fn(&T) -> &str,
) -> Result<(&'a [T], String), IamError> {
    let max = match params.get("MaxItems") {
        None => 100,
        Some(v) => v.parse::<usize>().ok().filter(|n| (1..=1000).contains(n)).ok_or_else(|| {
            IamError::invalid(format!(
                "1 validation error detected: Value '{v}' at 'maxItems' failed to satisfy constraint: Member must have value between 1 and 1000"
            ))
        })?,
    };
    let start = params.get("Marker").map_or(0, |marker| {
        items.iter().position(|i| key(i) > marker.as_str()).unwrap_or(items.len())
    });
    let end = (start + max).min(items.len());
    let page = &items[start..end];
    let next = match page.last() {
        Some(last) if end < items.len() => {
            format!("<IsTruncated>true</IsTruncated><Marker>{}</Marker>", escape(key(last)))
        }
        _ => "<IsTruncated>false</IsTruncated>".to_owned(),
    };
    Ok((page, next))
}

fn role_xml(role: &Role, full: bool) -> String {
    let mut xml = format!(
        "<Path>{}</Path><RoleName>{}</RoleName><RoleId>{}</RoleId><Arn>{}</Arn><CreateDate>{}</CreateDate><AssumeRolePolicyDocument>{}</AssumeRolePolicyDocument><MaxSessionDuration>{}</MaxSessionDuration>",
        escape(&role.path),
        escape(&role.name),
        role.id,
        escape(&role.arn),
        role.created,
        percent_encode(&role.assume_role_policy),
        role.max_session_duration
    );
    if let Some(description) = &role.description {
        xml += &format!("<Description>{}</Description>", escape(description));
    }
    if full && !role.tags.is_empty() {
        let tags: String = role
            .tags
            .iter()
            .map(|(k, v)| {
                format!("<member><Key>{}</Key><Value>{}</Value></member>", escape(k), escape(v))
            })
            .collect();
        xml += &format!("<Tags>{tags}</Tags>");
    }
    if full { format!("<Role>{xml}</Role>") } else { format!("<member>{xml}</member>") }
}

/// AWS's success envelope: `<ActionResponse><ActionResult>…</ActionResult><ResponseMetadata>…`;
/// actions with no output have no result element.
fn envelope(action: &str, result: &str) -> Response {
    let result = if result.is_empty() {
        String::new()
    } else {
        format!("<{action}Result>{result}</{action}Result>")
    };
    let xml = format!(
        "<{action}Response xmlns=\"{XMLNS}\">{result}<ResponseMetadata><RequestId>{}</RequestId></ResponseMetadata></{action}Response>",
        uuid::Uuid::new_v4()
    );
    ([("content-type", "text/xml")], xml).into_response()
}

/// `AROA` and 17 upper-case alphanumerics, as AWS's role ids look.
fn role_id() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let random = [uuid::Uuid::new_v4(), uuid::Uuid::new_v4()];
    let id: String = random
        .iter()
        .flat_map(|u| *u.as_bytes())
        .take(17)
        .map(|b| ALPHABET[usize::from(b % 32)] as char)
        .collect();
    format!("AROA{id}")
}

fn now_iso() -> String {
    let now = time::OffsetDateTime::now_utc();
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        now.year(),
        u8::from(now.month()),
        now.day(),
        now.hour(),
        now.minute(),
        now.second()
    )
}

/// Escapes text for an XML element.
pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// RFC 3986 percent-encoding, as IAM returns policy documents.
pub fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 2);
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-_.~".contains(&byte) {
            out.push(byte as char);
        } else {
            out += &format!("%{byte:02X}");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trust_policies_are_read_as_aws_reads_them() {
        let role = |doc: &str| Role {
            name: "r".into(),
            path: "/".into(),
            id: role_id(),
            arn: "arn:aws:iam::000000000000:role/r".into(),
            created: now_iso(),
            assume_role_policy: doc.into(),
            description: None,
            max_session_duration: 3600,
            attached: vec![],
            inline: BTreeMap::new(),
            tags: vec![],
        };
        let lambda = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
        assert!(role(lambda).trusts_lambda());
        let listed = r#"{"Statement":{"Effect":"Allow","Principal":{"Service":["ec2.amazonaws.com","lambda.amazonaws.com"]},"Action":["sts:AssumeRole"]}}"#;
        assert!(role(listed).trusts_lambda());
        assert!(!role(&lambda.replace("lambda.", "ec2.")).trusts_lambda());
        assert!(!role(&lambda.replace("Allow", "Deny")).trusts_lambda());
        assert!(!role("not json").trusts_lambda());
        assert!(role_id().starts_with("AROA") && role_id().len() == 21);
        assert_eq!(percent_encode(r#"{"a": "b/c"}"#), "%7B%22a%22%3A%20%22b%2Fc%22%7D");
    }
}
