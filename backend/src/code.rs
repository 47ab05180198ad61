//! A function's code: read its deployment package (GetFunction's `Code.Location`), show the
//! handler's file for inline editing, and save an edited file or an uploaded zip through
//! UpdateFunctionCode. Every save is audited with the code's SHA-256 before and after.

use std::io::{Cursor, Read as _, Write as _};

use aws_sdk_lambda::primitives::Blob;
use sqlx::PgPool;

use crate::audit::{self, Actor};
use crate::catalog::Detail;
use crate::connections::Connection;
use crate::error::{Error, Result};

/// Lambda's limit for a zip uploaded directly (not through S3).
pub const MAX_ZIP_BYTES: usize = 50 * 1024 * 1024;
/// The largest file the inline editor opens or saves.
pub const MAX_INLINE_BYTES: usize = 512 * 1024;

/// What the Code tab shows.
#[derive(Clone, Debug)]
pub struct Code {
    /// Every file in the package, by path.
    pub files: Vec<String>,
    /// The package's size in bytes and its SHA-256 (base64), as Lambda reports them.
    pub size: i64,
    pub sha256: String,
    /// The handler's file and its text, when it can be edited inline.
    pub inline: Option<(String, String)>,
    /// Why it cannot, when it cannot.
    pub reason: Option<String>,
}

/// The file a handler setting points at, as candidate paths in the package: `pkg.mod.handler`
/// on Python is `pkg/mod.py`; `index.handler` on Node.js is `index.mjs`, `.js` or `.cjs`; a custom
/// runtime starts `bootstrap`.
pub fn handler_files(runtime: &str, handler: &str) -> Vec<String> {
    let module = handler.rsplit_once('.').map_or(handler, |(module, _)| module);
    if runtime.starts_with("python") {
        vec![format!("{}.py", module.replace('.', "/"))]
    } else if runtime.starts_with("nodejs") {
        ["mjs", "js", "cjs"].iter().map(|ext| format!("{module}.{ext}")).collect()
    } else {
        vec!["bootstrap".to_owned()]
    }
}

/// A function's deployment package as downloaded.
struct Package {
    bytes: Vec<u8>,
    size: i64,
    sha256: String,
    /// The function's `RevisionId` when it was read: a code update made from this package is
    /// refused if the function changed since.
    revision_id: Option<String>,
}

/// Downloads the current package: GetFunction, then its `Code.Location`.
async fn package(
    lambda: &aws_sdk_lambda::Client,
    connection: &Connection,
    detail: &Detail,
) -> Result<Package> {
    let function = lambda.get_function().function_name(&detail.arn).send().await.map_err(|e| {
        crate::cloud::error(format_args!("{} did not give the code", connection.name), &e)
    })?;
    let config = function.configuration();
    let size = config.map_or(0, |c| c.code_size());
    let sha256 = config.and_then(|c| c.code_sha256()).unwrap_or_default().to_owned();
    let revision_id = config.and_then(|c| c.revision_id()).map(str::to_owned);
    let location = function.code().and_then(|c| c.location()).ok_or_else(|| {
        Error::Conflict(format!("{} gave no download location for the code", connection.name))
    })?;
    let unreachable = |e: &dyn std::fmt::Display| {
        Error::Conflict(format!(
            "the code's download location could not be read ({e}); upload a zip to replace the code"
        ))
    };
    let response = http_client()
        .get(location)
        .send()
        .await
        .and_then(reqwest::Response::error_for_status)
        .map_err(|e| unreachable(&e))?;
    let bytes = response.bytes().await.map_err(|e| unreachable(&e))?;
    Ok(Package { bytes: bytes.to_vec(), size, sha256, revision_id })
}

fn http_client() -> reqwest::Client {
    static CLIENT: std::sync::LazyLock<reqwest::Client> = std::sync::LazyLock::new(|| {
        reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(60))
            .build()
            .unwrap_or_default()
    });
    CLIENT.clone()
}

fn open_zip(bytes: &[u8]) -> Result<zip::ZipArchive<Cursor<&[u8]>>> {
    zip::ZipArchive::new(Cursor::new(bytes))
        .map_err(|e| Error::invalid("code", format!("not a zip file ({e})")))
}

/// The package's files, and the handler's file as text when it is small UTF-8.
pub async fn read(connection: &Connection, detail: &Detail) -> Result<Code> {
    let lambda = connection.lambda(&detail.entry.region).await;
    let Package { bytes, size, sha256, .. } = package(&lambda, connection, detail).await?;
    let mut archive = open_zip(&bytes)?;
    let files: Vec<String> = archive.file_names().map(str::to_owned).collect();
    let runtime = detail.entry.runtime.as_deref().unwrap_or_default();
    let handler = detail.handler.as_deref().unwrap_or_default();
    let candidates = handler_files(runtime, handler);
    let Some(path) = candidates.iter().find(|c| files.contains(c)).cloned() else {
        let reason = format!(
            "the handler {handler} points at {} and the package has no such file",
            candidates.join(" or ")
        );
        return Ok(Code { files, size, sha256, inline: None, reason: Some(reason) });
    };
    let mut file = archive.by_name(&path).map_err(|e| Error::Internal(e.into()))?;
    if usize::try_from(file.size()).unwrap_or(usize::MAX) > MAX_INLINE_BYTES {
        let reason = format!("{path} is larger than 512 KB: upload a zip to change it");
        return Ok(Code { files, size, sha256, inline: None, reason: Some(reason) });
    }
    let mut text = String::new();
    if file.read_to_string(&mut text).is_err() {
        let reason = format!("{path} is not UTF-8 text: upload a zip to change it");
        return Ok(Code { files, size, sha256, inline: None, reason: Some(reason) });
    }
    Ok(Code { files, size, sha256, inline: Some((path, text)), reason: None })
}

/// Saves an edited file: the current package with that one file replaced (every other file kept,
/// with its permissions), through UpdateFunctionCode. `opened` is the code's SHA-256 when the
/// editor opened it: if the code has changed in the cloud since, the save is refused rather than
/// overwriting that change with an edit of the older file.
pub async fn save_file(
    pool: &PgPool,
    actor: &Actor,
    connection: &Connection,
    detail: &Detail,
    edit: &FileEdit<'_>,
) -> Result<String> {
    let FileEdit { path, text, opened } = *edit;
    if text.len() > MAX_INLINE_BYTES {
        return Err(Error::invalid("source", "the file is larger than 512 KB: upload a zip"));
    }
    let lambda = connection.lambda(&detail.entry.region).await;
    let Package { bytes, sha256: before, revision_id, .. } =
        package(&lambda, connection, detail).await?;
    if opened.is_some_and(|opened| opened != before) {
        return Err(changed_since(detail));
    }
    let mut archive = open_zip(&bytes)?;
    if archive.index_for_name(path).is_none() {
        return Err(Error::invalid("source", format!("the package has no file {path}; reload")));
    }
    let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let zipped = |e: zip::result::ZipError| Error::Internal(e.into());
    for index in 0..archive.len() {
        let file = archive.by_index_raw(index).map_err(zipped)?;
        if file.name() == path {
            let mut options = zip::write::SimpleFileOptions::default()
                .compression_method(zip::CompressionMethod::Deflated);
            if let Some(mode) = file.unix_mode() {
                options = options.unix_permissions(mode);
            }
            drop(file);
            writer.start_file(path, options).map_err(zipped)?;
            writer.write_all(text.as_bytes()).map_err(|e| Error::Internal(e.into()))?;
        } else {
            writer.raw_copy_file(file).map_err(zipped)?;
        }
    }
    let zip = writer.finish().map_err(zipped)?.into_inner();
    let what = serde_json::json!({ "file": path });
    let change = Change { before: Some(before), revision_id, what };
    update(pool, actor, &lambda, connection, detail, zip, change).await
}

/// One file of the package, edited.
#[derive(Clone, Copy, Debug)]
pub struct FileEdit<'a> {
    pub path: &'a str,
    pub text: &'a str,
    /// The code's SHA-256 when the editor opened the file; `None` saves over whatever the cloud has.
    pub opened: Option<&'a str>,
}

fn changed_since(detail: &Detail) -> Error {
    Error::Conflict(format!(
        "the code of {} was changed in the cloud since you opened this page: copy your edit, \
         reload to see the new code, and make the edit again",
        detail.entry.name
    ))
}

/// An uploaded package, as the cloud took it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Uploaded {
    /// The new code's SHA-256.
    pub sha256: String,
    /// What will fail when the function is called, if the package lacks the handler's file or
    /// function ([`package_warning`]).
    pub warning: Option<String>,
}

/// Replaces the code with an uploaded zip, through UpdateFunctionCode. The cloud takes any zip,
/// so the package is also checked against the handler setting and a mismatch is warned about.
pub async fn upload(
    pool: &PgPool,
    actor: &Actor,
    connection: &Connection,
    detail: &Detail,
    zip: Vec<u8>,
) -> Result<Uploaded> {
    if zip.len() > MAX_ZIP_BYTES {
        return Err(Error::invalid("code", "the zip is larger than 50 MB, Lambda's limit"));
    }
    let files = open_zip(&zip)?.len();
    if files == 0 {
        return Err(Error::invalid("code", "the zip is empty"));
    }
    let detail_json = serde_json::json!({ "upload_bytes": zip.len(), "files": files });
    let lambda = connection.lambda(&detail.entry.region).await;
    let config = lambda.get_function_configuration().function_name(&detail.arn).send().await.ok();
    let before = config.as_ref().and_then(|c| c.code_sha256().map(str::to_owned));
    let revision_id = config.as_ref().and_then(|c| c.revision_id().map(str::to_owned));
    // The handler as the cloud has it now (the catalog's copy may be a sync old).
    let runtime = config
        .as_ref()
        .and_then(|c| c.runtime().map(|r| r.as_str().to_owned()))
        .or_else(|| detail.entry.runtime.clone())
        .unwrap_or_default();
    let handler = config
        .as_ref()
        .and_then(|c| c.handler().map(str::to_owned))
        .or_else(|| detail.handler.clone())
        .unwrap_or_default();
    let warning = package_warning(&zip, &runtime, &handler);
    let change = Change { before, revision_id, what: detail_json };
    let sha256 = update(pool, actor, &lambda, connection, detail, zip, change).await?;
    Ok(Uploaded { sha256, warning })
}

/// Whether a package has what its handler setting names: the file (`lambda_function.py` for
/// `lambda_function.lambda_handler` on Python) and, in it, the function. `None` when it does, or
/// when it cannot be told (a custom runtime's `bootstrap` is only looked for; a file that is not
/// UTF-8 is not read); otherwise what will fail and how to fix it.
pub fn package_warning(zip: &[u8], runtime: &str, handler: &str) -> Option<String> {
    if handler.is_empty() {
        return None;
    }
    let mut archive = open_zip(zip).ok()?;
    let candidates = handler_files(runtime, handler);
    let Some(path) = candidates.iter().find(|c| archive.index_for_name(c).is_some()) else {
        return Some(format!(
            "the package has no {}, the file the handler {handler} points at: calls will fail \
             (Runtime.ImportModuleError) until the zip has it at its top level, or the handler \
             names a file it has",
            candidates.join(" or ")
        ));
    };
    let function = handler.rsplit_once('.').map(|(_, f)| f)?;
    if runtime.starts_with("provided") {
        return None;
    }
    let mut text = String::new();
    let mut file = archive.by_name(path).ok()?;
    if file.size() > MAX_INLINE_BYTES as u64 || file.read_to_string(&mut text).is_err() {
        return None;
    }
    let defines = if runtime.starts_with("python") {
        [format!("def {function}("), format!("{function} =")]
            .iter()
            .any(|p| text.contains(p.as_str()))
    } else {
        [
            format!("function {function}("),
            format!("function {function} ("),
            format!("{function} ="),
            format!("{function}:"),
            format!("exports.{function}"),
            format!("{{ {function} }}"),
            format!("{{ {function},"),
            format!(", {function} }}"),
        ]
        .iter()
        .any(|p| text.contains(p.as_str()))
    };
    (!defines).then(|| {
        format!(
            "{path} does not define {function}, the function the handler {handler} names: calls \
             will fail (Runtime.HandlerNotFound) until it does, or the handler names one it has"
        )
    })
}

/// What a code update replaces, for its audit event.
struct Change {
    /// The SHA-256 of the code before, when known.
    before: Option<String>,
    /// The `RevisionId` the change was made from: the cloud refuses it if the function changed.
    revision_id: Option<String>,
    what: serde_json::Value,
}

/// UpdateFunctionCode, and its audit event (with the SHA-256 before and after). Returns the new
/// SHA-256.
async fn update(
    pool: &PgPool,
    actor: &Actor,
    lambda: &aws_sdk_lambda::Client,
    connection: &Connection,
    detail: &Detail,
    zip: Vec<u8>,
    change: Change,
) -> Result<String> {
    let updated = lambda
        .update_function_code()
        .function_name(&detail.arn)
        .zip_file(Blob::new(zip))
        .set_revision_id(change.revision_id.clone())
        .send()
        .await
        .map_err(|error| match crate::cloud::CloudFailure::of(&error) {
            _ if error.as_service_error().is_some_and(|e| e.is_precondition_failed_exception()) => {
                changed_since(detail)
            }
            crate::cloud::CloudFailure::Refused => {
                let message = crate::cloud::message(&error);
                Error::invalid("code", format!("{} refused the code: {message}", connection.name))
            }
            _ => crate::cloud::error(
                format_args!("{} did not take the code", connection.name),
                &error,
            ),
        })?;
    let after = updated.code_sha256().unwrap_or_default().to_owned();
    let mut tx = pool.begin().await?;
    audit::record(
        &mut tx,
        actor,
        "function.update_code",
        &format!("function:{}", detail.entry.name),
        serde_json::json!({ "before": { "sha256": change.before }, "after": { "sha256": after }, "change": change.what }),
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}

#[cfg(test)]
mod tests {
    use super::{handler_files, package_warning};

    #[test]
    fn packages_are_checked_against_the_handler() {
        let zip = |files: &[(&str, &str)]| {
            let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
            for (name, text) in files {
                writer.start_file(*name, zip::write::SimpleFileOptions::default()).expect("file");
                std::io::Write::write_all(&mut writer, text.as_bytes()).expect("write");
            }
            writer.finish().expect("zip").into_inner()
        };
        let python = "python3.12";
        let handler = "lambda_function.lambda_handler";
        let good =
            zip(&[("lambda_function.py", "def lambda_handler(event, context):\n    return 1\n")]);
        assert_eq!(package_warning(&good, python, handler), None);
        let elsewhere = zip(&[("src/lambda_function.py", "def lambda_handler(e, c): pass")]);
        let warning = package_warning(&elsewhere, python, handler).expect("no file");
        assert!(warning.contains("no lambda_function.py"), "{warning}");
        let renamed = zip(&[("lambda_function.py", "def handler(event, context):\n    pass\n")]);
        let warning = package_warning(&renamed, python, handler).expect("no function");
        assert!(warning.contains("does not define lambda_handler"), "{warning}");
        let node = zip(&[("index.mjs", "export const handler = async (event) => 1;\n")]);
        assert_eq!(package_warning(&node, "nodejs22.x", "index.handler"), None);
        let warning = package_warning(&node, "nodejs22.x", "app.handler").expect("no app.*");
        assert!(warning.contains("app.mjs or app.js or app.cjs"), "{warning}");
        assert_eq!(package_warning(&zip(&[("bootstrap", "")]), "provided.al2023", "x.y"), None);
    }

    #[test]
    fn handlers_point_at_files() {
        assert_eq!(
            handler_files("python3.12", "lambda_function.lambda_handler"),
            ["lambda_function.py"]
        );
        assert_eq!(handler_files("python3.13", "pkg.app.main"), ["pkg/app.py"]);
        assert_eq!(
            handler_files("nodejs22.x", "index.handler"),
            ["index.mjs", "index.js", "index.cjs"]
        );
        assert_eq!(handler_files("provided.al2023", "whatever"), ["bootstrap"]);
    }
}
