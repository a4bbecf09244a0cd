//! Files that hold a token: written atomically with mode 0600, never over a kubeconfig the run
//! reads, and checked up front so a run that would fail at the end fails before it starts.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// Writes `contents` to `path` atomically with mode 0600: a temporary file in the same folder,
/// created 0600 (never readable by others, not even for an instant), written, synced, then
/// renamed over `path` (`force`) or linked to it only if `path` does not exist yet.
pub fn write_private_file(path: &Path, contents: &str, force: bool) -> Result<()> {
    let dir = output_folder(path, force)?;
    let (tmp, mut file) = create_private_beside(path, &dir, "tmp")?;
    let written = file
        .write_all(contents.as_bytes())
        .and_then(|()| file.sync_all());
    drop(file);
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(write_error(path, io_detail(&e, &dir)));
    }

    let placed = if force {
        std::fs::rename(&tmp, path)
    } else {
        // A hard link fails if `path` appeared meanwhile: never clobber without --force.
        match std::fs::hard_link(&tmp, path) {
            Ok(()) => std::fs::remove_file(&tmp).or(Ok(())),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Err(e),
            // File systems without hard links: check, then rename (a tiny race remains).
            Err(_) if path.symlink_metadata().is_ok() => {
                Err(std::io::ErrorKind::AlreadyExists.into())
            }
            Err(_) => std::fs::rename(&tmp, path),
        }
    };
    if let Err(e) = placed {
        let _ = std::fs::remove_file(&tmp);
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            return Err(Error::OutputExists {
                path: path.to_path_buf(),
            });
        }
        return Err(write_error(path, io_detail(&e, &dir)));
    }
    #[cfg(unix)]
    if let Ok(d) = std::fs::File::open(&dir) {
        // Make the rename itself durable.
        let _ = d.sync_all();
    }
    Ok(())
}

/// Checks, before anything else happens, that [`write_private_file`] could write `path`: the
/// folder exists and takes a new file (a probe file is created and removed), `path` is not a
/// folder, and it does not exist unless `force`.
pub fn check_private_file(path: &Path, force: bool) -> Result<()> {
    let dir = output_folder(path, force)?;
    let (probe, file) = create_private_beside(path, &dir, "probe")?;
    let replaceable = replaceable_in(path, &dir, &file);
    drop(file);
    let _ = std::fs::remove_file(&probe);
    replaceable
}

/// In a sticky folder (such as /tmp) only the owner of a file, of the folder, or root may
/// replace it: refuse up front what the final rename would refuse. `probe` is a file this
/// process just created there, so its owner is this process's user.
#[cfg(unix)]
fn replaceable_in(path: &Path, dir: &Path, probe: &std::fs::File) -> Result<()> {
    use std::os::unix::fs::MetadataExt;
    let (Ok(target), Ok(folder), Ok(me)) =
        (path.symlink_metadata(), dir.metadata(), probe.metadata())
    else {
        return Ok(());
    };
    let sticky = folder.mode() & 0o1000 != 0;
    if sticky_forbids(sticky, me.uid(), target.uid(), folder.uid()) {
        return Err(write_error(
            path,
            format!(
                "it belongs to another user, and in the sticky folder {} only its owner may replace it: \
                 choose another --output",
                dir.display()
            ),
        ));
    }
    Ok(())
}

/// The kernel's rule for renaming over a file in a sticky folder, for user `me`.
fn sticky_forbids(sticky: bool, me: u32, file_owner: u32, folder_owner: u32) -> bool {
    sticky && me != 0 && file_owner != me && folder_owner != me
}

#[cfg(not(unix))]
fn replaceable_in(_path: &Path, _dir: &Path, _probe: &std::fs::File) -> Result<()> {
    Ok(())
}

/// Refuses to write the pipeline's kubeconfig over one of the kubeconfig files this run
/// reads: that would replace the user's own credentials with the pipeline's.
pub fn check_not_a_source(path: &Path, sources: &[PathBuf]) -> Result<()> {
    let Ok(target) = std::fs::canonicalize(path) else {
        return Ok(());
    };
    if sources
        .iter()
        .filter_map(|s| std::fs::canonicalize(s).ok())
        .any(|s| s == target)
    {
        return Err(Error::Usage(format!(
            "--output {} is the kubeconfig this command reads your own context from: writing the pipeline's \
             kubeconfig there would replace your credentials. Choose another --output",
            path.display()
        )));
    }
    Ok(())
}

fn write_error(path: &Path, detail: String) -> Error {
    Error::Write {
        path: path.to_path_buf(),
        detail,
    }
}

/// The folder `path` goes into, once it is clear a file may be put there: the folder exists,
/// `path` is not a folder, and it does not exist yet unless `force`.
fn output_folder(path: &Path, force: bool) -> Result<PathBuf> {
    if path.as_os_str() == "-" {
        // kubectl's habit would be stdout; a token is never printed (docs/init.md).
        return Err(Error::Usage(
            "--output - would print the pipeline's token to stdout, and kubectl-cicd never prints a token: \
             give a file name (it is written with mode 0600), then use the file"
                .into(),
        ));
    }
    if path.file_name().is_none() || path.as_os_str().to_string_lossy().ends_with('/') {
        return Err(write_error(
            path,
            "that names a folder, not a file: give a file name with --output, e.g. ci/kubeconfig_ci_cd.yaml"
                .into(),
        ));
    }
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    if !dir.is_dir() {
        return Err(write_error(
            path,
            format!(
                "the folder {} does not exist: create it first or choose another --output",
                dir.display()
            ),
        ));
    }
    if path.is_dir() {
        return Err(write_error(
            path,
            "it is a folder: give a file name with --output".into(),
        ));
    }
    // A device, pipe or socket (/dev/null, /dev/stdout) would be replaced by a regular file
    // holding the token: refused even with --force.
    // A link to one (/dev/stdout) counts as one.
    let special = |m: std::fs::Metadata| !m.file_type().is_file() && !m.file_type().is_symlink();
    if path.symlink_metadata().is_ok_and(special) || path.metadata().is_ok_and(special) {
        return Err(Error::Usage(format!(
            "--output {} is not a regular file (a device, pipe or socket): the kubeconfig is written only to a \
             regular file, even with --force. Choose a file name",
            path.display()
        )));
    }
    if !force && path.symlink_metadata().is_ok() {
        return Err(Error::OutputExists {
            path: path.to_path_buf(),
        });
    }
    Ok(dir)
}

/// A new, empty file next to `path` (`.<name>.<purpose>-<pid>-<unique>`), created with mode
/// 0600 and never over an existing one.
fn create_private_beside(
    path: &Path,
    dir: &Path,
    purpose: &str,
) -> Result<(PathBuf, std::fs::File)> {
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let beside = dir.join(format!(
        ".{name}.{purpose}-{}-{}",
        std::process::id(),
        unique_suffix()
    ));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let file = options
        .open(&beside)
        .map_err(|e| write_error(path, io_detail(&e, dir)))?;
    Ok((beside, file))
}

fn io_detail(e: &std::io::Error, dir: &Path) -> String {
    match e.kind() {
        std::io::ErrorKind::PermissionDenied => format!(
            "permission denied in {}: choose a folder you can write to with --output",
            dir.display()
        ),
        _ => format!("{e}"),
    }
}

fn unique_suffix() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("{nanos:x}{}", COUNTER.fetch_add(1, Ordering::Relaxed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sticky_folders_let_only_owners_and_root_replace_a_file() {
        assert!(
            sticky_forbids(true, 1000, 1001, 0),
            "another user's file in /tmp"
        );
        assert!(!sticky_forbids(true, 1000, 1000, 0), "one's own file");
        assert!(!sticky_forbids(true, 1000, 1001, 1000), "one's own folder");
        assert!(!sticky_forbids(true, 0, 1001, 0), "root");
        assert!(!sticky_forbids(false, 1000, 1001, 0), "not sticky");
    }
}
