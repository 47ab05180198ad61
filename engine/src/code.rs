//! Deployment packages: zips checked before anything is written where it could do harm, then kept
//! content-addressed under the data dir (`code/<sha256>.zip` and its extracted `code/<sha256>/`).

use std::collections::HashSet;
use std::io::{Cursor, Read};
use std::path::{Component, Path, PathBuf};

use base64::Engine as _;
use sha2::{Digest, Sha256};

use crate::error::{LambdaError, Result};

/// Zipped upload limit (50 MB) and unzipped limit (250 MB), as Lambda's.
pub const MAX_ZIPPED: usize = 52_428_800;
pub const MAX_UNZIPPED: u64 = 262_144_000;
/// Entries in one package: far above any real package (a large `node_modules` has ~20,000), low
/// enough that a zip of empty entries cannot make the engine create millions of files.
pub const MAX_ENTRIES: usize = 100_000;

/// A stored package.
#[derive(Clone, Debug)]
pub struct StoredCode {
    /// base64 of the SHA-256 of the zip, as Lambda's `CodeSha256`.
    pub sha256: String,
    /// hex of the same digest: the store's key.
    pub key: String,
    pub size: u64,
}

/// Where packages live.
#[derive(Clone, Debug)]
pub struct CodeStore {
    root: PathBuf,
}

fn invalid_zip(detail: impl std::fmt::Display) -> LambdaError {
    LambdaError::invalid(format!(
        "Could not unzip uploaded file. Please check your file, then try to upload again. ({detail})"
    ))
}

impl CodeStore {
    pub fn new(root: PathBuf) -> Self {
        Self { root }
    }

    /// The extracted package: the function's task root.
    pub fn task_root(&self, key: &str) -> PathBuf {
        self.root.join(key)
    }

    /// Validates and stores a zip. Blocking: call it from `spawn_blocking`.
    pub fn put(&self, zip: &[u8]) -> Result<StoredCode> {
        if zip.len() > MAX_ZIPPED {
            return Err(LambdaError::new(
                crate::error::ErrorType::RequestTooLarge,
                format!(
                    "Request must be smaller than {MAX_ZIPPED} bytes for the CreateFunction operation"
                ),
            ));
        }
        let digest = Sha256::digest(zip);
        let key: String = digest.iter().map(|b| format!("{b:02x}")).collect();
        let stored = StoredCode {
            sha256: base64::engine::general_purpose::STANDARD.encode(digest),
            key: key.clone(),
            size: zip.len() as u64,
        };
        let entries = check(zip)?;
        let target = self.root.join(&key);
        if target.is_dir() {
            return Ok(stored);
        }
        std::fs::create_dir_all(&self.root).map_err(LambdaError::service)?;
        let staging = self.root.join(format!(".staging-{}", uuid::Uuid::new_v4()));
        // The same code may be stored by several requests at once (a class deploying the lab's
        // code): each writes its own staging copies and renames them into place; a rename that
        // finds the code already there lost a race to identical content, which is success.
        let staged_zip = self.root.join(format!(".staging-{}.zip", uuid::Uuid::new_v4()));
        let result = extract(zip, &entries, &staging)
            .and_then(|()| std::fs::write(&staged_zip, zip).map_err(LambdaError::service))
            .and_then(|()| {
                std::fs::rename(&staged_zip, self.root.join(format!("{key}.zip")))
                    .map_err(LambdaError::service)
            })
            .and_then(|()| match std::fs::rename(&staging, &target) {
                Err(_) if target.is_dir() => Ok(()),
                other => other.map_err(LambdaError::service),
            });
        let _ = std::fs::remove_dir_all(&staging);
        let _ = std::fs::remove_file(&staged_zip);
        result.map(|()| stored)
    }
}

/// One entry to extract, already proven safe.
struct Entry {
    index: usize,
    path: PathBuf,
    kind: EntryKind,
    mode: Option<u32>,
}

enum EntryKind {
    Dir,
    File,
    Symlink(PathBuf),
}

/// Reads the whole central directory and refuses the package before anything is written: paths
/// outside the tree, paths through a symlink of the package, symlinks that leave the tree (also by
/// way of another symlink), too many entries, and more than 250 MB unzipped.
fn check(zip: &[u8]) -> Result<Vec<Entry>> {
    let mut archive = zip::ZipArchive::new(Cursor::new(zip)).map_err(invalid_zip)?;
    if archive.len() > MAX_ENTRIES {
        return Err(invalid_zip(format!("more than {MAX_ENTRIES} entries")));
    }
    let mut declared = 0u64;
    let mut entries = Vec::with_capacity(archive.len());
    for index in 0..archive.len() {
        let mut file = archive.by_index(index).map_err(invalid_zip)?;
        let name = file.name().to_owned();
        let path = file
            .enclosed_name()
            .filter(|p| !p.as_os_str().is_empty())
            .ok_or_else(|| invalid_zip(format!("entry {name:?} points outside the package")))?;
        declared = declared.saturating_add(file.size());
        if declared > MAX_UNZIPPED {
            return Err(LambdaError::invalid(format!(
                "Unzipped size must be smaller than {MAX_UNZIPPED} bytes"
            )));
        }
        let kind = if file.is_dir() {
            EntryKind::Dir
        } else if file.is_symlink() {
            let mut target = String::new();
            file.read_to_string(&mut target).map_err(invalid_zip)?;
            EntryKind::Symlink(PathBuf::from(target))
        } else {
            EntryKind::File
        };
        entries.push(Entry { index, path, kind, mode: file.unix_mode() });
    }
    // Every symlink is known before any path is judged: an entry listed before the link that
    // it would pass through is as dangerous as one listed after it.
    let links: HashSet<&Path> = entries
        .iter()
        .filter(|e| matches!(e.kind, EntryKind::Symlink(_)))
        .map(|e| e.path.as_path())
        .collect();
    for entry in &entries {
        if entry.path.ancestors().skip(1).any(|dir| links.contains(dir)) {
            return Err(invalid_zip(format!(
                "entry {:?} is inside a symlink of the package",
                entry.path
            )));
        }
        if let EntryKind::Symlink(target) = &entry.kind
            && !stays_inside(&entry.path, target, &links)
        {
            return Err(invalid_zip(format!(
                "symlink {:?} points outside the package",
                entry.path
            )));
        }
    }
    Ok(entries)
}

/// Whether a symlink at `link` pointing at `target` resolves inside the package root, walking the
/// target from the link's directory without passing through another of the package's symlinks
/// (`links`): the lexical walk would not know where that one leads.
fn stays_inside(link: &Path, target: &Path, links: &HashSet<&Path>) -> bool {
    let mut at: PathBuf = link.parent().map(Path::to_path_buf).unwrap_or_default();
    let mut components = target.components().peekable();
    while let Some(component) = components.next() {
        match component {
            Component::Normal(name) => at.push(name),
            Component::ParentDir => {
                if !at.pop() {
                    return false;
                }
            }
            Component::CurDir => {}
            Component::RootDir | Component::Prefix(_) => return false,
        }
        // The last component may itself be a link: that one is checked on its own.
        if components.peek().is_some() && links.contains(at.as_path()) {
            return false;
        }
    }
    true
}

/// Writes the checked entries under `into`: directories and files first, each file created new
/// and never through a link, then the symlinks, so no write can follow a link of the package.
fn extract(zip: &[u8], entries: &[Entry], into: &Path) -> Result<()> {
    use std::os::unix::fs::OpenOptionsExt as _;
    let mut archive = zip::ZipArchive::new(Cursor::new(zip)).map_err(invalid_zip)?;
    std::fs::create_dir_all(into).map_err(LambdaError::service)?;
    // Declared sizes were checked; actual bytes are counted too, since a zip can lie about them.
    let mut budget = MAX_UNZIPPED;
    let (links, others): (Vec<&Entry>, Vec<&Entry>) =
        entries.iter().partition(|e| matches!(e.kind, EntryKind::Symlink(_)));
    for entry in others.into_iter().chain(links) {
        let path = into.join(&entry.path);
        match &entry.kind {
            EntryKind::Dir => std::fs::create_dir_all(&path).map_err(LambdaError::service)?,
            EntryKind::Symlink(target) => {
                create_parent(&path)?;
                std::os::unix::fs::symlink(target, &path)
                    .map_err(|e| invalid_zip(format!("entry {:?}: {e}", entry.path)))?;
            }
            EntryKind::File => {
                create_parent(&path)?;
                let file = archive.by_index(entry.index).map_err(invalid_zip)?;
                let executable = entry.mode.is_some_and(|m| m & 0o111 != 0);
                let mut out = std::fs::OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .custom_flags(nix::libc::O_NOFOLLOW)
                    .mode(if executable { 0o755 } else { 0o644 })
                    .open(&path)
                    .map_err(|e| invalid_zip(format!("entry {:?}: {e}", entry.path)))?;
                let written =
                    std::io::copy(&mut file.take(budget + 1), &mut out).map_err(invalid_zip)?;
                if written > budget {
                    return Err(LambdaError::invalid(format!(
                        "Unzipped size must be smaller than {MAX_UNZIPPED} bytes"
                    )));
                }
                budget -= written;
                // Exactly this mode, whatever the engine's umask: functions read it as another user.
                use std::os::unix::fs::PermissionsExt as _;
                out.set_permissions(std::fs::Permissions::from_mode(if executable {
                    0o755
                } else {
                    0o644
                }))
                .map_err(LambdaError::service)?;
            }
        }
    }
    Ok(())
}

fn create_parent(path: &Path) -> Result<()> {
    match path.parent() {
        Some(parent) => std::fs::create_dir_all(parent).map_err(LambdaError::service),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write as _;

    use zip::write::SimpleFileOptions;

    use super::*;

    fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
        for (name, body) in entries {
            writer.start_file(*name, SimpleFileOptions::default()).expect("start");
            writer.write_all(body).expect("write");
        }
        writer.finish().expect("finish").into_inner()
    }

    fn store() -> (CodeStore, PathBuf) {
        let root = std::env::temp_dir().join(format!("engine-code-{}", uuid::Uuid::new_v4()));
        (CodeStore::new(root.clone()), root)
    }

    #[test]
    fn stores_content_addressed_with_lambdas_sha() {
        let (store, root) = store();
        let zip = zip_of(&[("lambda_function.py", b"def lambda_handler(e, c):\n    return 1\n")]);
        let stored = store.put(&zip).expect("stored");
        assert_eq!(stored.sha256.len(), 44);
        assert!(store.task_root(&stored.key).join("lambda_function.py").is_file());
        assert_eq!(store.put(&zip).expect("again").key, stored.key, "same bytes, same key");
        std::fs::remove_dir_all(root).expect("cleanup");
    }

    #[test]
    fn refuses_escaping_paths_before_writing() {
        let (store, root) = store();
        for name in ["../evil.py", "/etc/evil", "a/../../evil"] {
            let zip = zip_of(&[("ok.py", b"x"), (name, b"x")]);
            let error = store.put(&zip).expect_err(name);
            assert_eq!(error.kind, crate::error::ErrorType::InvalidParameterValue);
        }
        assert!(!root.exists(), "nothing was written");
    }

    #[test]
    fn refuses_symlinks_out_of_the_tree_and_garbage() {
        let (store, root) = store();
        let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
        writer
            .add_symlink("link", "../../etc/passwd", SimpleFileOptions::default())
            .expect("symlink");
        let zip = writer.finish().expect("finish").into_inner();
        assert!(store.put(&zip).is_err());
        assert!(store.put(b"not a zip").is_err());
        assert!(!root.exists());
        let none = HashSet::new();
        assert!(stays_inside(Path::new("a/link"), Path::new("../b"), &none));
        assert!(!stays_inside(Path::new("link"), Path::new("../b"), &none));
    }

    fn symlink_zip(entries: &[(&str, Option<&str>)]) -> Vec<u8> {
        let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
        writer.start_file("lambda_function.py", SimpleFileOptions::default()).expect("start");
        writer.write_all(b"def lambda_handler(e, c):\n    return 1\n").expect("write");
        for (name, link) in entries {
            match link {
                Some(target) => {
                    writer.add_symlink(*name, *target, SimpleFileOptions::default()).expect("link")
                }
                None => {
                    writer.start_file(*name, SimpleFileOptions::default()).expect("start");
                    writer.write_all(b"pwned\n").expect("write");
                }
            }
        }
        writer.finish().expect("finish").into_inner()
    }

    /// The review's C1: a chain of links, each lexically inside, that together reach `/tmp`.
    #[test]
    fn refuses_a_symlink_chain_out_of_the_tree_and_writes_nothing_outside() {
        let (store, root) = store();
        let marker = format!("lambdaport-zipslip-{}", uuid::Uuid::new_v4().simple());
        let deep: Vec<String> = (0..40).map(|i| format!("d{i}")).collect();
        let deep = deep.join("/");
        let up = vec![".."; 40].join("/");
        let esc = format!("{}/tmp", vec![".."; 41].join("/"));
        let (link_up, link_esc) = (format!("{deep}/up"), format!("{deep}/up/esc"));
        let file = format!("{deep}/up/esc/{marker}");
        let zip = symlink_zip(&[
            (link_up.as_str(), Some(up.as_str())),
            (link_esc.as_str(), Some(esc.as_str())),
            (file.as_str(), None),
        ]);
        let error = store.put(&zip).expect_err("the chain is refused");
        assert_eq!(error.kind, crate::error::ErrorType::InvalidParameterValue);
        assert!(!Path::new("/tmp").join(&marker).exists(), "nothing written through the links");
        assert!(!root.exists(), "nothing was written at all");
    }

    #[test]
    fn refuses_a_file_through_a_direct_link_listed_before_or_after_it() {
        let (store, root) = store();
        let marker = format!("lambdaport-zipslip-{}", uuid::Uuid::new_v4().simple());
        let file = format!("out/{marker}");
        for zip in [
            symlink_zip(&[("out", Some("/tmp")), (file.as_str(), None)]),
            symlink_zip(&[(file.as_str(), None), ("out", Some("/tmp"))]),
            // A link inside the tree is still no way through for a later entry.
            symlink_zip(&[("lib", Some("vendor")), ("lib/x.py", None)]),
            // A target that goes through another link: lexically inside, really its parent.
            symlink_zip(&[("a/b/l", Some("../..")), ("x", Some("a/b/l/../../.."))]),
        ] {
            assert!(store.put(&zip).is_err());
        }
        assert!(!Path::new("/tmp").join(&marker).exists());
        assert!(!root.exists());
        // Links that stay inside, including a link to a link, are kept as links.
        let zip =
            symlink_zip(&[("vendor/x.py", None), ("lib", Some("vendor")), ("cur", Some("lib"))]);
        let stored = store.put(&zip).expect("inner links are fine");
        let task = store.task_root(&stored.key);
        assert_eq!(std::fs::read_to_string(task.join("cur/x.py")).expect("read"), "pwned\n");
        std::fs::remove_dir_all(root).expect("cleanup");
    }

    #[test]
    fn refuses_bombs() {
        let (store, root) = store();
        let zeros = vec![0u8; 1024 * 1024];
        let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let options = SimpleFileOptions::default().large_file(true);
        writer.start_file("bomb", options).expect("start");
        for _ in 0..251 {
            writer.write_all(&zeros).expect("write");
        }
        let zip = writer.finish().expect("finish").into_inner();
        assert!(zip.len() < 2 * 1024 * 1024, "compresses well: {}", zip.len());
        let error = store.put(&zip).expect_err("bomb");
        assert!(error.message.contains("Unzipped size"), "{}", error.message);
        assert!(!root.exists());
    }
}
