//! The engine's own store of functions: one JSON file per function under `<data dir>/functions`,
//! written atomically, loaded at start, so functions survive a restart; and how a qualifier
//! (`$LATEST`, a version, an alias with routing weights) resolves to what runs (`resolve`).

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use tokio::sync::RwLock;

use crate::error::{LambdaError, Result};
use crate::model::{FunctionName, Settings};

/// Writes `value` as JSON to `path` durably: a staging file (readable by the engine's user only),
/// fsynced, renamed over the record, then the directory fsynced, so neither a crash nor a power
/// loss leaves a half-written or lost record. Shared by every on-disk record of the engine.
pub(crate) async fn write_json(path: &std::path::Path, value: &impl Serialize) -> Result<()> {
    let text = serde_json::to_vec_pretty(value).map_err(LambdaError::service)?;
    let path = path.to_path_buf();
    tokio::task::spawn_blocking(move || write_durably(&path, &text))
        .await
        .map_err(LambdaError::service)?
        .map_err(LambdaError::service)
}

/// [`write_json`]'s blocking part, for records written outside async code too.
pub(crate) fn write_durably(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let staging = path.with_extension("json.tmp");
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&staging)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    std::fs::rename(&staging, path)?;
    if let Some(dir) = path.parent() {
        std::fs::File::open(dir)?.sync_all()?;
    }
    Ok(())
}

/// Every `*.json` record under `dir`, parsed. One that cannot be read is set aside as
/// `<name>.corrupt` with a warning, so one bad file never keeps the engine from starting.
pub(crate) fn load_json_dir<T: serde::de::DeserializeOwned>(
    dir: &std::path::Path,
) -> anyhow::Result<Vec<T>> {
    use anyhow::Context as _;
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut records = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "json") {
            match read_json(&path) {
                Ok(record) => records.push(record),
                Err(error) => set_aside(&path, &error),
            }
        }
    }
    Ok(records)
}

pub(crate) fn read_json<T: serde::de::DeserializeOwned>(
    path: &std::path::Path,
) -> anyhow::Result<T> {
    let text = std::fs::read(path)?;
    Ok(serde_json::from_slice(&text)?)
}

/// Moves an unreadable record out of the way, keeping it for a person to look at.
pub(crate) fn set_aside(path: &std::path::Path, error: &anyhow::Error) {
    let aside = path.with_extension("corrupt");
    tracing::warn!(
        record = %path.display(),
        set_aside = %aside.display(),
        error = %format!("{error:#}"),
        "an unreadable engine record was set aside; the engine starts without it"
    );
    if let Err(error) = std::fs::rename(path, &aside) {
        tracing::error!(record = %path.display(), %error, "could not set the unreadable record aside");
    }
}

/// A function as the engine keeps it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Function {
    pub name: FunctionName,
    pub settings: Settings,
    pub code_sha256: String,
    pub code_key: String,
    pub code_size: u64,
    pub tags: BTreeMap<String, String>,
    pub revision_id: String,
    /// Changes with the code and settings only (not with policies or URLs): environments of an
    /// older one are replaced.
    #[serde(default)]
    pub runtime_revision: String,
    pub last_modified: String,
    /// `TenancyConfig.TenantIsolationMode` (`PER_TENANT`), fixed at creation: every invoke
    /// names a tenant and runs only in that tenant's environments.
    #[serde(default)]
    pub tenant_isolation: Option<String>,
    /// `PutFunctionConcurrency`: at most this many environments; 0 stops invocations.
    #[serde(default)]
    pub reserved_concurrency: Option<u32>,
    /// Function URLs by qualifier: `""` for the function, else an alias name.
    #[serde(default)]
    pub urls: BTreeMap<String, crate::model::UrlConfig>,
    /// Resource-policy statements by qualifier (`""` for the function), as AWS renders them.
    #[serde(default)]
    pub policies: BTreeMap<String, Vec<serde_json::Value>>,
    #[serde(default)]
    pub aliases: BTreeMap<String, Alias>,
    /// Published versions by number: frozen code and settings.
    #[serde(default)]
    pub versions: BTreeMap<u32, Version>,
    /// The highest version number ever published (numbers are never reused).
    #[serde(default)]
    pub last_version: u32,
    /// Which version this value describes: `None` is `$LATEST`. Set when a qualifier is resolved.
    #[serde(skip)]
    pub version: Option<u32>,
}

/// A published version: what `$LATEST` was when it was published.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Version {
    pub settings: Settings,
    pub code_sha256: String,
    pub code_key: String,
    pub code_size: u64,
    pub revision_id: String,
    pub last_modified: String,
}

impl Function {
    /// `$LATEST` or the version number, as `X-Amz-Executed-Version` and the logs name it.
    pub fn version_label(&self) -> String {
        self.version.map_or_else(|| "$LATEST".to_owned(), |n| n.to_string())
    }

    /// The function as published version `number`.
    pub fn at_version(&self, number: u32) -> Option<Self> {
        let version = self.versions.get(&number)?;
        let mut function = self.clone();
        function.settings = version.settings.clone();
        function.code_sha256.clone_from(&version.code_sha256);
        function.code_key.clone_from(&version.code_key);
        function.code_size = version.code_size;
        function.revision_id.clone_from(&version.revision_id);
        function.runtime_revision.clone_from(&version.revision_id);
        function.last_modified.clone_from(&version.last_modified);
        function.version = Some(number);
        Some(function)
    }
}

/// An alias: a name for a version, optionally sharing traffic with others.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Alias {
    pub function_version: String,
    pub description: String,
    /// `RoutingConfig.AdditionalVersionWeights`: version → share of invocations.
    pub additional_weights: BTreeMap<String, f64>,
    pub revision_id: String,
}

/// Functions by name, in memory and on disk.
///
/// Writers of one function take turns (a lock per name, striped), and only they wait for the
/// disk: the map is locked just long enough to read or swap a record, so writing one function
/// (two fsyncs) never holds up another function's writes or anyone's reads. A class making a
/// hundred functions at once queued every write, and every invoke behind it, on one lock held
/// across the fsyncs before this.
#[derive(Debug)]
pub struct Store {
    dir: PathBuf,
    functions: RwLock<BTreeMap<FunctionName, Function>>,
    writers: Writers,
}

/// One lock per name, striped over a fixed number of locks: names that share a stripe take
/// turns too, which costs time but never correctness.
#[derive(Debug)]
pub(crate) struct Writers([tokio::sync::Mutex<()>; Writers::STRIPES]);

impl Writers {
    const STRIPES: usize = 64;

    pub(crate) fn new() -> Self {
        Self(std::array::from_fn(|_| tokio::sync::Mutex::new(())))
    }

    /// Waits for the other writers of `name`; holding the guard, the caller is its only writer.
    pub(crate) async fn of(&self, name: &str) -> tokio::sync::MutexGuard<'_, ()> {
        use std::hash::{Hash as _, Hasher as _};
        let mut hasher = std::hash::DefaultHasher::new();
        name.hash(&mut hasher);
        let stripe = usize::try_from(hasher.finish() % Self::STRIPES as u64).expect("in range");
        self.0[stripe].lock().await
    }
}

impl Store {
    /// Loads every stored function (setting aside any it cannot read).
    pub fn open(dir: PathBuf) -> anyhow::Result<Self> {
        let functions = load_json_dir::<Function>(&dir)?
            .into_iter()
            .map(|function| (function.name.clone(), function))
            .collect();
        Ok(Self { dir, functions: RwLock::new(functions), writers: Writers::new() })
    }

    fn path(&self, name: &FunctionName) -> PathBuf {
        self.dir.join(format!("{}.json", name.as_str()))
    }

    async fn write(&self, function: &Function) -> Result<()> {
        write_json(&self.path(&function.name), function).await
    }

    pub async fn get(&self, name: &FunctionName) -> Option<Function> {
        self.functions.read().await.get(name).cloned()
    }

    /// Inserts a new function; a name in use is a conflict.
    pub async fn insert(&self, function: Function) -> Result<()> {
        let _writing = self.writers.of(function.name.as_str()).await;
        if self.functions.read().await.contains_key(&function.name) {
            return Err(LambdaError::conflict(format!(
                "Function already exist: {}",
                function.name.as_str()
            )));
        }
        self.write(&function).await?;
        self.functions.write().await.insert(function.name.clone(), function);
        Ok(())
    }

    /// Changes a function in place and stores it; `change` validates before it mutates.
    pub async fn update(
        &self,
        name: &FunctionName,
        change: impl FnOnce(&mut Function) -> Result<()>,
    ) -> Result<Function> {
        let _writing = self.writers.of(name.as_str()).await;
        let mut updated = self.get(name).await.ok_or_else(|| {
            LambdaError::not_found(format!("Function not found: {}", name.as_str()))
        })?;
        change(&mut updated)?;
        self.write(&updated).await?;
        self.functions.write().await.insert(name.clone(), updated.clone());
        Ok(updated)
    }

    /// The function, qualifier (`""` or an alias) and configuration of a Function URL id.
    pub async fn find_url(&self, id: &str) -> Option<(Function, String, crate::model::UrlConfig)> {
        let functions = self.functions.read().await;
        functions.values().find_map(|f| {
            let (key, url) = f.urls.iter().find(|(_, url)| url.id == id)?;
            Some((f.clone(), key.clone(), url.clone()))
        })
    }

    /// The sum of reserved concurrency over every function but `except`.
    pub async fn reserved_total(&self, except: &FunctionName) -> u64 {
        self.functions
            .read()
            .await
            .values()
            .filter(|f| &f.name != except)
            .filter_map(|f| f.reserved_concurrency)
            .map(u64::from)
            .sum()
    }

    pub async fn remove(&self, name: &FunctionName) -> Option<Function> {
        let _writing = self.writers.of(name.as_str()).await;
        let removed = self.functions.write().await.remove(name)?;
        if let Err(error) = tokio::fs::remove_file(self.path(name)).await {
            tracing::warn!(%error, function.name = name.as_str(), "removing a function's record");
        }
        Some(removed)
    }

    /// A page of functions after `marker` (exclusive), by name.
    pub async fn page(&self, marker: Option<&str>, limit: usize) -> (Vec<Function>, bool) {
        let functions = self.functions.read().await;
        let mut items = functions
            .values()
            .filter(|f| marker.is_none_or(|m| f.name.as_str() > m))
            .take(limit + 1)
            .cloned()
            .collect::<Vec<_>>();
        let more = items.len() > limit;
        items.truncate(limit);
        (items, more)
    }
}

/// The function as `qualifier` names it: `$LATEST`, a version, or an alias. Through an alias,
/// `weighted` picks between its versions by their routing weights (invokes); otherwise the
/// alias's primary version. Takes the function by value: `$LATEST` is returned as it is.
pub fn resolve(function: Function, qualifier: &str, weighted: bool) -> Option<Function> {
    if qualifier.is_empty() || qualifier == "$LATEST" {
        return Some(function);
    }
    if qualifier.bytes().all(|b| b.is_ascii_digit()) {
        return function.at_version(qualifier.parse().ok()?);
    }
    let alias = function.aliases.get(qualifier)?;
    let mut chosen = &alias.function_version;
    if weighted {
        let mut roll = random_unit();
        for (version, weight) in &alias.additional_weights {
            if roll < *weight {
                chosen = version;
                break;
            }
            roll -= weight;
        }
    }
    let chosen = chosen.clone();
    resolve(function, &chosen, false)
}

/// A uniform number in [0, 1).
fn random_unit() -> f64 {
    (uuid::Uuid::new_v4().as_u128() >> 75) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    #[test]
    fn random_units_stay_in_range() {
        for _ in 0..1000 {
            let r = super::random_unit();
            assert!((0.0..1.0).contains(&r), "{r}");
        }
    }
}
