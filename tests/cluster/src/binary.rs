//! The Go control-plane binary: found in the cache when its sources have not changed, built
//! with `go build` otherwise.
//!
//! The cache key is a SHA-256 of go.mod, go.sum and the Go sources, so a changed source or a
//! new module version builds a new binary, and a clean clone on a machine that built it before
//! reuses it. Go's own module and build caches (GOMODCACHE, GOCACHE) live outside the checkout
//! and make a rebuild after a small change take a minute rather than the cold build's many.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The Go module: `tests/cluster` in the repository.
pub fn module_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Where built binaries are kept: `$CICD_CLUSTER_CACHE`, else `target/cicd-cluster` of the
/// workspace (or of `$CARGO_TARGET_DIR`).
pub fn cache_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("CICD_CLUSTER_CACHE") {
        return PathBuf::from(dir);
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_target(&module_dir()));
    target.join("cicd-cluster")
}

fn workspace_target(module: &Path) -> PathBuf {
    let workspace = module.join("../..");
    workspace.canonicalize().unwrap_or(workspace).join("target")
}

/// The path of the binary for the current sources, building it first when it is missing.
pub fn ensure_built() -> Result<PathBuf, String> {
    // Threads of one process build one at a time (the partial file below is named by process):
    // the tests of one test binary start control planes in parallel.
    static BUILDING: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _one_build = BUILDING
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let module = module_dir();
    let ldflags = ldflags(&kubernetes_version(&module)?);
    let key = source_key(&module, &ldflags)?;
    let dir = cache_dir().join(&key[..16]);
    let binary = dir.join("cicd-control-plane");
    if binary.is_file() {
        return Ok(binary);
    }
    std::fs::create_dir_all(&dir)
        .map_err(|e| format!("cannot create the build cache {}: {e}", dir.display()))?;
    let go = which_go()?;
    // Built under a name of its own, then renamed, so that a second test binary building at the
    // same time, or a build that is interrupted, never leaves a half-written binary in place.
    let partial = dir.join(format!("cicd-control-plane.partial-{}", std::process::id()));
    eprintln!(
        "cicd-cluster: building the control plane (kube-apiserver, kube-controller-manager, etcd) \
         from Go modules into {}; the first build takes several minutes",
        dir.display()
    );
    let started = std::time::Instant::now();
    let status = Command::new(go)
        .args(["build", "-trimpath"])
        .arg(format!("-ldflags={ldflags}"))
        .arg("-o")
        .arg(&partial)
        .arg("./cmd/cicd-control-plane")
        .current_dir(&module)
        .status()
        .map_err(|e| format!("cannot run go build: {e}"))?;
    if !status.success() {
        let _ = std::fs::remove_file(&partial);
        return Err(format!(
            "go build of the control plane failed ({status}); see the output above"
        ));
    }
    std::fs::rename(&partial, &binary).map_err(|e| {
        format!(
            "cannot move the built binary into {}: {e}",
            binary.display()
        )
    })?;
    eprintln!(
        "cicd-cluster: built in {:.0} s",
        started.elapsed().as_secs_f64()
    );
    Ok(binary)
}

fn which_go() -> Result<PathBuf, String> {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join("go"))
            .find(|p| p.is_file())
    });
    found.ok_or_else(|| {
        "the real control plane is built from Go modules, but `go` is not on PATH: install Go \
         1.26 or newer (with access to the Go module proxy), or set CICD_SKIP_REAL=1 to skip \
         the tests that need the real control plane"
            .to_string()
    })
}

/// The `k8s.io/kubernetes` version go.mod requires (`v1.37.2`).
fn kubernetes_version(module: &Path) -> Result<String, String> {
    let go_mod = std::fs::read_to_string(module.join("go.mod"))
        .map_err(|e| format!("cannot read go.mod: {e}"))?;
    go_mod
        .lines()
        .find_map(|l| l.trim().strip_prefix("k8s.io/kubernetes v"))
        .map(|v| format!("v{}", v.split_whitespace().next().unwrap_or(v)))
        .ok_or_else(|| "go.mod does not require k8s.io/kubernetes".to_string())
}

/// Linker flags: stripped, and stamped with the Kubernetes version as upstream's release
/// build does (hack/lib/version.sh). Without the stamp the server reports
/// `v0.0.0-master+$Format:%H$`, which kubectl's version dispatcher cannot parse.
fn ldflags(version: &str) -> String {
    let mut parts = version.trim_start_matches('v').split('.');
    let major = parts.next().unwrap_or_default();
    let minor = parts.next().unwrap_or_default();
    let mut flags = String::from("-s -w");
    for package in [
        "k8s.io/component-base/version",
        "k8s.io/client-go/pkg/version",
    ] {
        for (key, value) in [
            ("gitVersion", version),
            ("gitMajor", major),
            ("gitMinor", minor),
            ("gitTreeState", "clean"),
        ] {
            flags.push_str(&format!(" -X {package}.{key}={value}"));
        }
    }
    flags
}

/// SHA-256 over the linker flags, go.mod, go.sum and every file under cmd/, in a fixed order.
fn source_key(module: &Path, ldflags: &str) -> Result<String, String> {
    let mut files = vec![module.join("go.mod"), module.join("go.sum")];
    collect_files(&module.join("cmd"), &mut files)?;
    files.sort();
    let mut digest = ring::digest::Context::new(&ring::digest::SHA256);
    digest.update(ldflags.as_bytes());
    for file in &files {
        let bytes =
            std::fs::read(file).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
        let relative = file.strip_prefix(module).unwrap_or(file);
        digest.update(relative.to_string_lossy().as_bytes());
        digest.update(&(bytes.len() as u64).to_le_bytes());
        digest.update(&bytes);
    }
    Ok(digest
        .finish()
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}

fn collect_files(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), String> {
    let entries =
        std::fs::read_dir(dir).map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
    for entry in entries {
        let path = entry.map_err(|e| e.to_string())?.path();
        if path.is_dir() {
            collect_files(&path, out)?;
        } else {
            out.push(path);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_version_comes_from_go_mod_and_stamps_both_version_packages() {
        let version = kubernetes_version(&module_dir()).unwrap();
        assert!(version.starts_with("v1."), "{version}");
        let flags = ldflags("v1.37.2");
        for want in [
            "-X k8s.io/component-base/version.gitVersion=v1.37.2",
            "-X k8s.io/client-go/pkg/version.gitVersion=v1.37.2",
            "-X k8s.io/component-base/version.gitMajor=1",
            "-X k8s.io/component-base/version.gitMinor=37",
        ] {
            assert!(flags.contains(want), "{flags}");
        }
    }

    #[test]
    fn the_cache_key_changes_with_the_flags() {
        let module = module_dir();
        assert_ne!(
            source_key(&module, "-s -w").unwrap(),
            source_key(&module, "-s").unwrap()
        );
        assert_eq!(
            source_key(&module, "-s").unwrap(),
            source_key(&module, "-s").unwrap()
        );
    }
}
