//! What the bigger forms post: one struct per form, the server function's only argument
//! (`#[server(flatten)]`, so the fields keep their plain names and a form works before the
//! WebAssembly loads). On the server each is parsed once into the backend's input (`TryFrom`),
//! with [`backend::input`]'s errors on the field that is wrong.

use serde::{Deserialize, Serialize};

/// Admin → Connections → Add.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewConnectionForm {
    pub name: String,
    /// `engine` or `aws`.
    pub kind: String,
    pub endpoint_url: String,
    pub profile: String,
    /// Separated by commas or spaces; the first is the home region.
    pub regions: String,
    pub access_key_id: String,
    pub secret_access_key: String,
}

/// Admin → Connections → Edit.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectionEditForm {
    pub connection_id: String,
    pub name: String,
    pub endpoint_url: Option<String>,
    pub profile: Option<String>,
    pub regions: String,
    pub access_key_id: Option<String>,
    /// Empty keeps the current secret.
    pub secret_access_key: Option<String>,
    /// The checkbox "Learners may run labs here" (`yes`).
    pub learners: Option<String>,
    /// Role names or ARNs, separated by commas, spaces or lines.
    pub allowed_roles: Option<String>,
}

/// The function page's catalog metadata.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MetadataForm {
    pub function_id: String,
    /// The owner's email.
    pub owner: String,
    pub team: String,
    pub lifecycle: String,
    pub environment: String,
    /// One `key=value` a line.
    pub tags: String,
    /// The tags as the page showed them (hidden): only what the user changed is written, so a
    /// tag added in the cloud since the page was read is left alone.
    pub tags_before: Option<String>,
}

/// The function page's configuration (UpdateFunctionConfiguration).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfigurationForm {
    pub function_id: String,
    pub memory_mb: String,
    pub timeout_s: String,
    pub description: String,
    pub handler: String,
    pub runtime: String,
    /// One `KEY=value` a line; absent when the editor never revealed the variables, which keeps
    /// the current ones.
    pub environment: Option<String>,
    /// The function's `RevisionId` when the page read it: a change made in the cloud since is
    /// reported, not overwritten.
    pub revision_id: Option<String>,
    /// The values the form showed when the page opened: only fields that differ from them are
    /// sent to the cloud. Absent (an older page, a script): every field is sent.
    pub memory_mb_was: Option<String>,
    pub timeout_s_was: Option<String>,
    pub description_was: Option<String>,
    pub handler_was: Option<String>,
    pub runtime_was: Option<String>,
    /// The variables as revealed, to tell whether the editor changed them.
    pub environment_was: Option<String>,
    /// `yes`: apply the changed fields even though the cloud changed since the page opened.
    pub apply_anyway: Option<String>,
}

/// The Test tab's editor. `intent` is the button pressed: `invoke` or `save`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TestEventForm {
    pub function_id: String,
    pub intent: String,
    /// The saved event being edited (absent for a new one).
    pub test_event_id: Option<String>,
    pub name: Option<String>,
    /// `yes`: everyone who may read the function sees it.
    pub shared: Option<String>,
    pub invocation_type: String,
    pub qualifier: Option<String>,
    /// For a tenant-isolated function: the tenant the invoke is for.
    pub tenant_id: Option<String>,
    pub payload: String,
}

/// The Logs tab's search, as its form (a GET) puts it in the address. Every field is optional:
/// the defaults are the last hour, newest first, no pattern, no context, 100 lines.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogsQuery {
    /// From the path for `/catalog/{id}/logs.txt`, which has only the search in its query.
    #[serde(default)]
    pub function_id: String,
    pub pattern: Option<String>,
    /// A preset of `LOG_RANGES` or `custom`.
    pub range: Option<String>,
    /// `YYYY-MM-DDTHH:MM` (UTC), for `custom`.
    pub start: Option<String>,
    pub end: Option<String>,
    /// `newest` or `oldest`.
    pub order: Option<String>,
    pub context: Option<String>,
    pub stream: Option<String>,
    pub limit: Option<String>,
    /// Where the previous page ended.
    pub cursor: Option<String>,
    /// An invocation to show whole (its request id).
    pub request: Option<String>,
    /// Where the list of streams continues.
    pub streams_from: Option<String>,
}

/// An alias, created (`intent=create`) or changed (`intent=update`) on the Versions tab.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AliasForm {
    pub function_id: String,
    pub intent: String,
    pub name: String,
    pub version: String,
    pub description: Option<String>,
    /// A second version taking `weight_percent` of the invocations; empty for none.
    pub weight_version: Option<String>,
    pub weight_percent: Option<String>,
}

/// The lab's step 2: the function and its role.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LabFunctionForm {
    pub lab_run_id: String,
    /// Absent once the function exists (the name is the run's).
    pub name: Option<String>,
    pub runtime: String,
    pub architecture: String,
    /// `new`, or `existing` with `existing_role`.
    pub role: String,
    pub existing_role: Option<String>,
    pub team: Option<String>,
    pub lifecycle: String,
    pub environment: String,
    /// One `key=value` a line.
    pub tags: Option<String>,
}

/// The one-page Create form, as it posts (and as its live check sends it).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateForm {
    /// `connection id|region`.
    pub target: String,
    pub name: String,
    pub runtime: String,
    pub architecture: String,
    /// `new`, or `existing` with `existing_role`.
    pub role: String,
    pub existing_role: Option<String>,
    /// The handler file; empty keeps the runtime's template.
    pub source: Option<String>,
    pub memory: String,
    pub timeout: String,
    /// `none` (no URL), `AWS_IAM` or `NONE`.
    pub auth_type: String,
    /// Allowed origins, comma-separated; empty for no CORS.
    pub cors: Option<String>,
    /// For a public URL: hours until it is switched off; empty for never.
    pub url_expiry_hours: Option<String>,
    pub team: Option<String>,
    pub lifecycle: String,
    pub environment: String,
    /// One `key=value` a line.
    pub tags: Option<String>,
    /// Another owner's email (admins); empty: whoever creates it.
    pub owner: Option<String>,
}

/// A new governance rule, as the Governance page's form posts it; fields the kind does not read
/// may be absent.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleForm {
    pub kind: String,
    pub severity: String,
    pub team_id: Option<String>,
    pub environment: Option<String>,
    pub lifecycle: Option<String>,
    pub connection_id: Option<String>,
    pub note: Option<String>,
    pub key: Option<String>,
    pub values: Option<String>,
    pub pattern: Option<String>,
    pub min: Option<String>,
    pub max: Option<String>,
    pub policy: Option<String>,
    pub max_hours: Option<String>,
    pub on_expiry: Option<String>,
}

#[cfg(feature = "ssr")]
mod parse {
    use backend::Error;
    use backend::input::{id, key_values, ticked, whole_number};

    use super::*;

    impl TryFrom<RuleForm> for backend::governance::RuleInput {
        type Error = Error;

        fn try_from(form: RuleForm) -> Result<Self, Error> {
            let optional_id = |field: &'static str, raw: Option<String>| {
                raw.filter(|s| !s.trim().is_empty()).map(|s| id(field, &s)).transpose()
            };
            Ok(Self {
                kind: form.kind,
                severity: form.severity,
                team_id: optional_id("team_id", form.team_id)?,
                environment: form.environment.unwrap_or_default(),
                lifecycle: form.lifecycle.unwrap_or_default(),
                connection_id: optional_id("connection_id", form.connection_id)?,
                note: form.note.unwrap_or_default(),
                key: form.key.unwrap_or_default(),
                values: form.values.unwrap_or_default(),
                pattern: form.pattern.unwrap_or_default(),
                min: form.min.unwrap_or_default(),
                max: form.max.unwrap_or_default(),
                policy: form.policy.unwrap_or_default(),
                max_hours: form.max_hours.unwrap_or_default(),
                on_expiry: form.on_expiry.unwrap_or_default(),
            })
        }
    }

    impl From<NewConnectionForm> for backend::connections::NewConnection {
        fn from(form: NewConnectionForm) -> Self {
            Self {
                name: form.name,
                kind: form.kind,
                endpoint_url: form.endpoint_url,
                profile: form.profile,
                regions: form.regions,
                access_key_id: form.access_key_id,
                secret_access_key: form.secret_access_key,
            }
        }
    }

    impl TryFrom<ConnectionEditForm> for (uuid::Uuid, backend::connections::ConnectionEdit) {
        type Error = Error;

        fn try_from(form: ConnectionEditForm) -> Result<Self, Error> {
            let edit = backend::connections::ConnectionEdit {
                name: form.name,
                endpoint_url: form.endpoint_url.unwrap_or_default(),
                profile: form.profile.unwrap_or_default(),
                regions: form.regions,
                access_key_id: form.access_key_id.unwrap_or_default(),
                secret_access_key: form.secret_access_key.unwrap_or_default(),
                learners: ticked(form.learners.as_deref()),
                allowed_roles: form.allowed_roles.unwrap_or_default(),
            };
            Ok((id("connection_id", &form.connection_id)?, edit))
        }
    }

    impl TryFrom<MetadataForm> for backend::catalog::Metadata {
        type Error = Error;

        fn try_from(form: MetadataForm) -> Result<Self, Error> {
            let how = "write one tag a line as key=value";
            let before =
                key_values("tags", form.tags_before.as_deref().unwrap_or_default(), how, true)?;
            let after = key_values("tags", &form.tags, how, true)?;
            let (tags, removed) = Self::tag_changes(&before, after);
            Ok(Self {
                tags,
                removed,
                owner: form.owner,
                team: form.team,
                lifecycle: form.lifecycle,
                environment: form.environment,
            })
        }
    }

    impl TryFrom<ConfigurationForm> for backend::catalog::ConfigChange {
        type Error = Error;

        fn try_from(form: ConfigurationForm) -> Result<Self, Error> {
            use backend::catalog::ConfigValues;
            let how = "write one variable a line as KEY=value";
            let number = |field, text: &Option<String>| {
                text.as_deref().filter(|t| !t.trim().is_empty()).map(|t| whole_number(field, t))
            };
            let opened_with = ConfigValues {
                memory_mb: number("memory_mb", &form.memory_mb_was).transpose()?,
                timeout_s: number("timeout_s", &form.timeout_s_was).transpose()?,
                description: form.description_was.clone(),
                handler: form.handler_was.as_deref().map(|h| h.trim().to_owned()),
                runtime: form.runtime_was.as_deref().map(|r| r.trim().to_owned()),
            };
            // A field is sent when the form did not say what it showed, or shows something else.
            fn changed<T: PartialEq>(value: T, was: Option<T>) -> Option<T> {
                (was.as_ref() != Some(&value)).then_some(value)
            }
            let environment = match form.environment {
                Some(text) if form.environment_was.as_deref() != Some(text.as_str()) => {
                    Some(key_values("environment", &text, how, false)?)
                }
                _ => None,
            };
            Ok(Self {
                memory_mb: changed(
                    whole_number("memory_mb", &form.memory_mb)?,
                    opened_with.memory_mb,
                ),
                timeout_s: changed(
                    whole_number("timeout_s", &form.timeout_s)?,
                    opened_with.timeout_s,
                ),
                description: changed(form.description, opened_with.description.clone()),
                handler: changed(form.handler.trim().to_owned(), opened_with.handler.clone()),
                runtime: changed(form.runtime.trim().to_owned(), opened_with.runtime.clone()),
                environment,
                revision_id: form.revision_id.filter(|r| !r.trim().is_empty()),
                opened_with,
                apply_anyway: form.apply_anyway.as_deref().is_some_and(|a| a == "yes"),
            })
        }
    }

    /// The step's input, with `role` already `new` or an existing role's name or ARN, and `name`
    /// as typed (empty when the form sent none: the run's own name applies).
    impl TryFrom<CreateForm> for backend::labs::CreateInput {
        type Error = Error;

        fn try_from(form: CreateForm) -> Result<Self, Error> {
            let (connection, region) = form
                .target
                .split_once('|')
                .ok_or_else(|| Error::invalid("target", "choose where the function runs"))?;
            let url = match form.auth_type.as_str() {
                "" | "none" => None,
                auth_type => Some(backend::labs::UrlChoice {
                    auth_type: auth_type.to_owned(),
                    cors_origins: backend::input::origins(form.cors.as_deref().unwrap_or_default()),
                    expires_in_hours: match form.url_expiry_hours.as_deref().map(str::trim) {
                        None | Some("") => None,
                        Some(raw) => Some(i64::from(whole_number("url_expiry_hours", raw)?)),
                    },
                }),
            };
            let function = backend::labs::FunctionInput::try_from(LabFunctionForm {
                lab_run_id: String::new(),
                name: Some(form.name.trim().to_owned()),
                runtime: form.runtime,
                architecture: form.architecture,
                role: form.role,
                existing_role: form.existing_role,
                team: form.team,
                lifecycle: form.lifecycle,
                environment: form.environment,
                tags: form.tags,
            })?;
            Ok(Self {
                connection_id: id("target", connection)?,
                region: region.to_owned(),
                function,
                source: form.source.unwrap_or_default(),
                memory_mb: whole_number("memory", &form.memory)?,
                timeout_s: whole_number("timeout", &form.timeout)?,
                url,
                owner: form.owner.map(|o| o.trim().to_owned()).filter(|o| !o.is_empty()),
            })
        }
    }

    impl TryFrom<LabFunctionForm> for backend::labs::FunctionInput {
        type Error = Error;

        fn try_from(form: LabFunctionForm) -> Result<Self, Error> {
            let role = match form.role.as_str() {
                "new" => "new".to_owned(),
                _ => form.existing_role.filter(|r| !r.trim().is_empty()).ok_or_else(|| {
                    Error::invalid("existing_role", "choose an existing role, or create a new one")
                })?,
            };
            Ok(Self {
                name: form.name.unwrap_or_default(),
                runtime: form.runtime,
                architecture: form.architecture,
                role,
                team: form.team.unwrap_or_default(),
                lifecycle: form.lifecycle,
                environment: form.environment,
                tags: key_values(
                    "tags",
                    form.tags.as_deref().unwrap_or_default(),
                    "key=value",
                    true,
                )?,
            })
        }
    }
}

/// The URL's configuration on the URL tab. CORS lists are comma-separated; `cors` unset means no
/// CORS configuration at all.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UrlConfigForm {
    pub function_id: String,
    pub auth_type: String,
    /// For a public URL: minutes until the sweeper switches it off (empty: never).
    pub expires_in_minutes: Option<String>,
    pub invoke_mode: String,
    pub cors: Option<String>,
    pub allow_origins: Option<String>,
    pub allow_methods: Option<String>,
    pub allow_headers: Option<String>,
    pub expose_headers: Option<String>,
    pub allow_credentials: Option<String>,
    pub max_age: Option<String>,
}

/// A request from the URL tab's HTTP tester; headers one `Name: value` per line.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UrlRequestForm {
    pub function_id: String,
    pub method: String,
    pub path: String,
    pub query: Option<String>,
    pub headers: Option<String>,
    pub cookies: Option<String>,
    pub body: Option<String>,
    /// The key of the page's open watch (`/catalog/{id}/url/watch/{key}`), to hear the answer as
    /// it arrives.
    pub watch: Option<String>,
}

/// The CORS preflight simulator's question: header names comma-separated.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PreflightForm {
    pub function_id: String,
    pub origin: String,
    pub method: String,
    pub headers: Option<String>,
    pub credentials: Option<String>,
}
