//! The krew release, judged by the real krew: `krew` and `validate-krew-manifest` of
//! `sigs.k8s.io/krew` v0.4.3, built from Go modules (the module in `tests/krew`) and cached
//! under `target/cicd-krew/<key>/` by a SHA-256 of its go.mod, go.sum and build flags.
//!
//! `krew_release_archive_validates_installs_runs_and_uninstalls` builds the release archive of
//! this machine with `krew/build-release.sh` (the fat-LTO release build, once per run), then:
//! `validate-krew-manifest` accepts the rendered manifest and, downloading the archive from a
//! server on 127.0.0.1, installs it; a copy with a wrong sha256 is refused, by
//! `validate-krew-manifest` and by `kubectl krew install --archive` (krew's structural
//! validation only checks that a sha256 is 64 hex digits; the comparison with the archive is
//! done by krew's installer); `kubectl krew install --manifest --archive` installs into a
//! fresh KREW_ROOT; with only its bin folder added to PATH, `kubectl cicd --help`,
//! `kubectl cicd version` and `kubectl plugin list` work; krew links no completion hook, and
//! the hook set up as the README says makes kubectl complete `kubectl cicd`; `kubectl krew
//! uninstall cicd` leaves only krew's own empty folders (and the hook, which is the user's).
//!
//! `krew_validate_krew_manifest_accepts_the_committed_manifest` runs krew's structural
//! validation on `plugin-manifest/cicd.yaml` (its sha256 values are placeholders, so nothing
//! is installed).
//!
//! Both need Go 1.26 or newer (with the Go module proxy) and kubectl; without them they fail
//! and say so. CICD_SKIP_REAL=1 skips them (as it skips the other tests that build from Go
//! modules), and so does CICD_SKIP_KUBECTL=1. Only loopback traffic: krew downloads the
//! archive from this test's own server.

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// The krew release the tools are built from; `tests/krew/go.mod` must require it.
const KREW_VERSION: &str = "v0.4.3";
/// The two packages built, and the names they are kept under (krew runs as a kubectl plugin).
const KREW_PACKAGES: [(&str, &str); 2] = [
    ("sigs.k8s.io/krew/cmd/krew", "kubectl-krew"),
    (
        "sigs.k8s.io/krew/cmd/validate-krew-manifest",
        "validate-krew-manifest",
    ),
];
/// Stripped and path-free. No version stamp: unstamped, krew counts as a development build
/// and never asks GitHub for a newer release (its upgrade check), so it stays offline.
const KREW_GO_BUILD_FLAGS: [&str; 2] = ["-trimpath", "-ldflags=-s -w"];

fn krew_repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn krew_tag() -> String {
    format!("v{}", env!("CARGO_PKG_VERSION"))
}

/// Whether the krew tests run: not with CICD_SKIP_REAL=1 (nothing is built from Go modules)
/// nor with CICD_SKIP_KUBECTL=1 (krew runs under kubectl).
fn krew_wanted() -> bool {
    for var in ["CICD_SKIP_REAL", "CICD_SKIP_KUBECTL"] {
        if std::env::var(var).is_ok_and(|v| v == "1") {
            eprintln!("{var}=1: skipping a test with the real krew");
            return false;
        }
    }
    true
}

fn krew_sha256_hex(data: &[u8]) -> String {
    ring::digest::digest(&ring::digest::SHA256, data)
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// `target/` of this build (the parent of CARGO_TARGET_TMPDIR, `target/tmp`).
fn krew_target_dir() -> PathBuf {
    let tmp = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    tmp.parent().map(Path::to_path_buf).unwrap_or(tmp)
}

/// The first directory of PATH holding `name`.
fn krew_find_on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).find(|dir| dir.join(name).is_file())
}

fn krew_output_text(out: &Output) -> String {
    format!(
        "{}\n--- stdout\n{}\n--- stderr\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// The built krew binaries: `kubectl-krew` and `validate-krew-manifest` in one folder.
struct KrewTools {
    dir: PathBuf,
}

impl KrewTools {
    fn validate_krew_manifest(&self) -> PathBuf {
        self.dir.join("validate-krew-manifest")
    }
}

/// The cache key: SHA-256 over the build flags, the packages, go.mod and go.sum.
fn krew_tools_key(module: &Path) -> Result<String, String> {
    let mut input = Vec::new();
    for flag in KREW_GO_BUILD_FLAGS {
        input.extend_from_slice(flag.as_bytes());
        input.push(0);
    }
    for (package, name) in KREW_PACKAGES {
        input.extend_from_slice(format!("{package}={name}").as_bytes());
        input.push(0);
    }
    for file in ["go.mod", "go.sum"] {
        let bytes = std::fs::read(module.join(file))
            .map_err(|e| format!("cannot read tests/krew/{file}: {e}"))?;
        input.extend_from_slice(file.as_bytes());
        input.extend_from_slice(&(bytes.len() as u64).to_le_bytes());
        input.extend_from_slice(&bytes);
    }
    Ok(krew_sha256_hex(&input))
}

/// Builds the krew binaries into `target/cicd-krew/<key>/`, or finds them there.
fn krew_build_tools() -> Result<KrewTools, String> {
    let module = krew_repo().join("tests/krew");
    let go_mod = std::fs::read_to_string(module.join("go.mod"))
        .map_err(|e| format!("cannot read tests/krew/go.mod: {e}"))?;
    if !go_mod.lines().any(|l| {
        l.split_whitespace()
            .take(2)
            .eq(["sigs.k8s.io/krew", KREW_VERSION])
    }) {
        return Err(format!(
            "tests/krew/go.mod does not require sigs.k8s.io/krew {KREW_VERSION}"
        ));
    }
    let key = krew_tools_key(&module)?;
    let cache = krew_target_dir().join("cicd-krew");
    let dir = cache.join(&key[..16]);
    if KREW_PACKAGES
        .iter()
        .all(|(_, name)| dir.join(name).is_file())
    {
        eprintln!("krew {KREW_VERSION}: found in {}", dir.display());
        return Ok(KrewTools { dir });
    }
    let go = krew_find_on_path("go").map(|d| d.join("go")).ok_or_else(|| {
        format!(
            "the krew tests build krew {KREW_VERSION} from Go modules, but `go` is not on PATH: \
             install Go 1.26 or newer (with access to the Go module proxy), or set \
             CICD_SKIP_REAL=1 to skip them"
        )
    })?;
    // Built into a folder of its own, then renamed into place, so a build that is interrupted
    // or runs at the same time as another never leaves half-written binaries in the cache.
    let partial = cache.join(format!("{}.partial-{}", &key[..16], std::process::id()));
    let _ = std::fs::remove_dir_all(&partial);
    std::fs::create_dir_all(&partial)
        .map_err(|e| format!("cannot create {}: {e}", partial.display()))?;
    eprintln!(
        "krew {KREW_VERSION}: building krew and validate-krew-manifest from Go modules into {}",
        dir.display()
    );
    let started = Instant::now();
    let out = Command::new(go)
        .arg("build")
        .args(KREW_GO_BUILD_FLAGS)
        .arg("-o")
        .arg(format!("{}/", partial.display()))
        .args(KREW_PACKAGES.iter().map(|(package, _)| package))
        .current_dir(&module)
        .env("GOWORK", "off")
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run go build: {e}"))?;
    if !out.status.success() {
        let _ = std::fs::remove_dir_all(&partial);
        return Err(format!(
            "go build of krew {KREW_VERSION} failed: {}",
            krew_output_text(&out)
        ));
    }
    for (package, name) in KREW_PACKAGES {
        let built = partial.join(package.rsplit('/').next().unwrap());
        std::fs::rename(&built, partial.join(name))
            .map_err(|e| format!("go build made no {}: {e}", built.display()))?;
    }
    if let Err(e) = std::fs::rename(&partial, &dir) {
        let _ = std::fs::remove_dir_all(&partial);
        if !KREW_PACKAGES
            .iter()
            .all(|(_, name)| dir.join(name).is_file())
        {
            return Err(format!(
                "cannot move the krew build to {}: {e}",
                dir.display()
            ));
        }
    }
    eprintln!(
        "krew {KREW_VERSION}: built in {:.0} s",
        started.elapsed().as_secs_f64()
    );
    Ok(KrewTools { dir })
}

/// The krew binaries of this test binary, built on first use.
fn krew_tools() -> &'static KrewTools {
    static TOOLS: OnceLock<Result<KrewTools, String>> = OnceLock::new();
    match TOOLS.get_or_init(krew_build_tools) {
        Ok(tools) => tools,
        Err(e) => panic!("{e}"),
    }
}

/// The folder of the `kubectl` that PATH finds.
fn krew_kubectl_dir() -> PathBuf {
    krew_find_on_path("kubectl").expect(
        "kubectl is not on PATH: the krew tests run krew as a kubectl plugin (set \
         CICD_SKIP_KUBECTL=1 to skip them)",
    )
}

/// A PATH of the given folders, then kubectl's, then the system's (sh, dirname, chmod).
fn krew_path(first: &[&Path]) -> std::ffi::OsString {
    let mut dirs: Vec<PathBuf> = first.iter().map(|d| d.to_path_buf()).collect();
    dirs.push(krew_kubectl_dir());
    for system in ["/usr/bin", "/bin"] {
        if !dirs.iter().any(|d| d == Path::new(system)) {
            dirs.push(PathBuf::from(system));
        }
    }
    std::env::join_paths(dirs).expect("PATH joins")
}

/// A command with nothing of the test's environment but what is set here: PATH, an empty HOME,
/// no kubeconfig, and KREW_ROOT when given.
fn krew_command(
    program: impl AsRef<std::ffi::OsStr>,
    path: &std::ffi::OsStr,
    home: &Path,
    krew_root: Option<&Path>,
) -> Command {
    let mut command = Command::new(program);
    command
        .env_clear()
        .env("PATH", path)
        .env("HOME", home)
        .env("NO_COLOR", "1")
        .env("KREW_NO_UPGRADE_CHECK", "1")
        .stdin(Stdio::null());
    if let Some(tmp) = std::env::var_os("TMPDIR") {
        command.env("TMPDIR", tmp);
    }
    if let Some(root) = krew_root {
        command.env("KREW_ROOT", root);
    }
    command
}

fn krew_run(mut command: Command, what: &str) -> Output {
    command
        .output()
        .unwrap_or_else(|e| panic!("{what}: cannot run: {e}"))
}

fn krew_run_ok(command: Command, what: &str) -> Output {
    let out = krew_run(command, what);
    assert!(
        out.status.success(),
        "{what} failed: {}",
        krew_output_text(&out)
    );
    out
}

/// Every path under `root` (relative, sorted), folders marked with a trailing `/`; `skip` is
/// left out with everything under it.
fn krew_tree(root: &Path, skip: Option<&Path>) -> Vec<String> {
    fn walk(root: &Path, dir: &Path, skip: Option<&Path>, out: &mut Vec<String>) {
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
            .map(|e| e.unwrap().path())
            .collect();
        entries.sort();
        for path in entries {
            if Some(path.as_path()) == skip {
                continue;
            }
            let relative = path.strip_prefix(root).unwrap().display().to_string();
            let meta = std::fs::symlink_metadata(&path).unwrap();
            if meta.is_dir() {
                out.push(format!("{relative}/"));
                walk(root, &path, skip, out);
            } else if meta.file_type().is_symlink() {
                let target = std::fs::read_link(&path).unwrap();
                out.push(format!("{relative} -> {}", target.display()));
            } else {
                out.push(relative);
            }
        }
    }
    let mut out = Vec::new();
    walk(root, root, skip, &mut out);
    out
}

/// An HTTP server on 127.0.0.1 that serves the plain files of one folder (GET only) for krew
/// to download, one connection at a time, until it is dropped. It records the paths asked for.
struct KrewFileServer {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    requests: Arc<Mutex<Vec<String>>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl KrewFileServer {
    fn start(dir: &Path) -> KrewFileServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        let addr = listener.local_addr().unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let dir = dir.to_path_buf();
        let thread = {
            let (stop, requests) = (stop.clone(), requests.clone());
            std::thread::spawn(move || {
                for stream in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    if let Ok(stream) = stream {
                        let _ = Self::serve(stream, &dir, &requests);
                    }
                }
            })
        };
        KrewFileServer {
            addr,
            stop,
            requests,
            thread: Some(thread),
        }
    }

    fn url(&self, name: &str) -> String {
        format!("http://{}/{name}", self.addr)
    }

    fn requests(&self) -> Vec<String> {
        self.requests.lock().unwrap().clone()
    }

    fn serve(
        mut stream: TcpStream,
        dir: &Path,
        requests: &Mutex<Vec<String>>,
    ) -> std::io::Result<()> {
        stream.set_read_timeout(Some(Duration::from_secs(10)))?;
        stream.set_write_timeout(Some(Duration::from_secs(30)))?;
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") && head.len() < 16 * 1024 {
            if stream.read(&mut byte)? == 0 {
                return Ok(());
            }
            head.push(byte[0]);
        }
        let head = String::from_utf8_lossy(&head);
        let mut words = head.lines().next().unwrap_or("").split_whitespace();
        let (method, target) = (words.next().unwrap_or(""), words.next().unwrap_or(""));
        requests.lock().unwrap().push(format!("{method} {target}"));
        let name = target.strip_prefix('/').unwrap_or("");
        let file = dir.join(name);
        let plain = !name.is_empty() && !name.contains(['/', '\\']) && name != "..";
        match (method, plain && file.is_file()) {
            ("GET", true) => {
                let body = std::fs::read(&file)?;
                write!(
                    stream,
                    "HTTP/1.1 200 OK\r\nContent-Type: application/gzip\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                )?;
                stream.write_all(&body)?;
            }
            _ => stream.write_all(
                b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            )?,
        }
        stream.flush()
    }
}

impl Drop for KrewFileServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wakes the accept loop so it sees the flag.
        let _ = TcpStream::connect(self.addr);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// One line of the manifest replaced: the `sha256:` value.
fn krew_with_sha256(manifest: &str, sha256: &str) -> String {
    let mut replaced = 0;
    let text: Vec<String> = manifest
        .lines()
        .map(|line| {
            let trimmed = line.trim_start();
            if trimmed.starts_with("sha256:") {
                replaced += 1;
                let indent = &line[..line.len() - trimmed.len()];
                format!("{indent}sha256: \"{sha256}\"")
            } else {
                line.to_string()
            }
        })
        .collect();
    assert_eq!(replaced, 1, "the rendered manifest has one sha256 line");
    text.join("\n") + "\n"
}

/// `kubectl __complete WORDS`: the values offered and the directive line (`:4` and so on).
fn krew_kubectl_complete(
    path: &std::ffi::OsStr,
    home: &Path,
    words: &[&str],
) -> (Vec<String>, String) {
    let mut command = krew_command("kubectl", path, home, None);
    command.arg("__complete").args(words);
    let out = krew_run_ok(command, &format!("kubectl __complete {words:?}"));
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let mut values: Vec<String> = stdout
        .lines()
        .map(|l| l.split('\t').next().unwrap().to_string())
        .collect();
    let directive = values.pop().unwrap_or_default();
    (values, directive)
}

const KREW_SUBCOMMANDS: [&str; 8] = [
    "init",
    "audit",
    "list",
    "rotate",
    "delete",
    "tighten",
    "completion",
    "version",
];

#[test]
fn krew_validate_krew_manifest_accepts_the_committed_manifest() {
    if !krew_wanted() {
        return;
    }
    let tools = krew_tools();
    let home = tempfile::tempdir().unwrap();
    let path = krew_path(&[&tools.dir]);
    // The placeholder sha256 values cannot be installed, so structure only: apiVersion, kind,
    // name, version, descriptions, uri, sha256 pattern, bin, files, selectors, every selector
    // matching a platform krew knows and no two platforms overlapping.
    let mut command = krew_command(tools.validate_krew_manifest(), &path, home.path(), None);
    command
        .arg("-manifest")
        .arg(krew_repo().join("plugin-manifest/cicd.yaml"))
        .arg("-skip-install");
    let out = krew_run_ok(command, "validate-krew-manifest plugin-manifest/cicd.yaml");
    let log = String::from_utf8_lossy(&out.stderr);
    for step in [
        "structural validation OK",
        "all spec.platform[] items are used",
        "no overlapping spec.platform[].selector",
    ] {
        assert!(
            log.contains(step),
            "validate-krew-manifest did not say {step:?}:\n{log}"
        );
    }
}

#[cfg(unix)]
#[test]
fn krew_release_archive_validates_installs_runs_and_uninstalls() {
    use std::os::unix::fs::PermissionsExt;

    if !krew_wanted() {
        return;
    }
    let started = Instant::now();
    let tools = krew_tools();
    let (os, arch) = match (std::env::consts::OS, std::env::consts::ARCH) {
        ("linux", "x86_64") => ("linux", "amd64"),
        ("linux", "aarch64") => ("linux", "arm64"),
        ("macos", "x86_64") => ("darwin", "amd64"),
        ("macos", "aarch64") => ("darwin", "arm64"),
        (os, arch) => panic!("no krew platform of this project for {os}/{arch}"),
    };
    let work = tempfile::tempdir().unwrap();
    let home = work.path().join("home");
    std::fs::create_dir(&home).unwrap();
    let kubectl_krew_path = krew_path(&[&tools.dir]);

    // 1. The release archive, as a release makes it: krew/build-release.sh (the release build
    //    of Cargo.toml's profile), with the uri of a server on 127.0.0.1 serving --out.
    let dist = work.path().join("dist");
    std::fs::create_dir(&dist).unwrap();
    let archive_name = format!("kubectl-cicd-{}-{os}-{arch}.tar.gz", krew_tag());
    let server = KrewFileServer::start(&dist);
    let release_started = Instant::now();
    let out = Command::new(krew_repo().join("krew/build-release.sh"))
        .arg("--out")
        .arg(&dist)
        .arg("--uri")
        .arg(server.url(&archive_name))
        .stdin(Stdio::null())
        .output()
        .expect("krew/build-release.sh runs");
    assert!(
        out.status.success(),
        "krew/build-release.sh failed: {}",
        krew_output_text(&out)
    );
    eprintln!(
        "release archive built in {:.0} s",
        release_started.elapsed().as_secs_f64()
    );
    let archive = dist.join(&archive_name);
    let manifest_path = dist.join("cicd.yaml");
    let manifest = std::fs::read_to_string(&manifest_path).expect("build-release wrote cicd.yaml");

    // Exactly the binary and LICENSE at the archive's root; the manifest names this platform
    // and the archive's own sha256, and so does the .sha256 file beside it.
    let mut listing = Command::new("tar");
    listing.arg("-tzf").arg(&archive);
    let listing = krew_run_ok(listing, "tar -tzf");
    let entries: BTreeSet<String> = String::from_utf8_lossy(&listing.stdout)
        .lines()
        .map(str::to_string)
        .collect();
    assert_eq!(
        entries,
        BTreeSet::from(["kubectl-cicd".to_string(), "LICENSE".to_string()]),
        "the archive's entries"
    );
    let sha256 = krew_sha256_hex(&std::fs::read(&archive).unwrap());
    assert!(
        manifest.contains(&format!("sha256: \"{sha256}\"")),
        "the manifest does not carry the archive's sha256 {sha256}:\n{manifest}"
    );
    assert!(
        manifest.contains(&format!("uri: {}", server.url(&archive_name))),
        "{manifest}"
    );
    assert!(manifest.contains(&format!("os: {os}")) && manifest.contains(&format!("arch: {arch}")));
    assert_eq!(
        std::fs::read_to_string(dist.join(format!("{archive_name}.sha256"))).unwrap(),
        format!("{sha256}  {archive_name}\n")
    );
    // Without --uri the manifest points at the archive as a file:// URL (for --archive use).
    let unpacked = work.path().join("unpacked");
    std::fs::create_dir(&unpacked).unwrap();
    let mut untar = Command::new("tar");
    untar.arg("-xzf").arg(&archive).arg("-C").arg(&unpacked);
    krew_run_ok(untar, "tar -xzf");
    let dist_file = work.path().join("dist-file-uri");
    let out = Command::new(krew_repo().join("krew/build-release.sh"))
        .arg("--binary")
        .arg(unpacked.join("kubectl-cicd"))
        .arg("--out")
        .arg(&dist_file)
        .stdin(Stdio::null())
        .output()
        .expect("krew/build-release.sh runs");
    assert!(
        out.status.success(),
        "krew/build-release.sh --binary: {}",
        krew_output_text(&out)
    );
    let file_manifest = std::fs::read_to_string(dist_file.join("cicd.yaml")).unwrap();
    assert!(
        file_manifest.contains(&format!(
            "uri: file://{}",
            dist_file.join(&archive_name).display()
        )),
        "{file_manifest}"
    );

    // 2. validate-krew-manifest: structure, then `kubectl krew install --manifest` for each
    //    platform into a KREW_ROOT of its own, downloading the uri (here: the local server),
    //    checking the sha256 and that a LICENSE was installed.
    let mut command = krew_command(
        tools.validate_krew_manifest(),
        &kubectl_krew_path,
        &home,
        None,
    );
    command.arg("-manifest").arg(&manifest_path);
    let out = krew_run_ok(command, "validate-krew-manifest dist/cicd.yaml");
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(
        log.contains("structural validation OK")
            && log.contains("all 1 spec.platforms installed fine"),
        "validate-krew-manifest:\n{log}"
    );
    let asked = format!("GET /{archive_name}");
    assert!(
        server.requests().contains(&asked),
        "validate-krew-manifest did not download the archive: {:?}",
        server.requests()
    );

    // 3. A wrong sha256 (the LICENSE's): structurally fine, so only the install finds it, and
    //    both validate-krew-manifest and `kubectl krew install --archive` refuse it.
    let wrong = krew_sha256_hex(&std::fs::read(krew_repo().join("LICENSE")).unwrap());
    assert_ne!(wrong, sha256);
    let wrong_dir = work.path().join("wrong-sha256");
    std::fs::create_dir(&wrong_dir).unwrap();
    // validate-krew-manifest takes the plugin's name from the file's.
    let wrong_manifest = wrong_dir.join("cicd.yaml");
    std::fs::write(&wrong_manifest, krew_with_sha256(&manifest, &wrong)).unwrap();
    let mut command = krew_command(
        tools.validate_krew_manifest(),
        &kubectl_krew_path,
        &home,
        None,
    );
    command
        .arg("-manifest")
        .arg(&wrong_manifest)
        .arg("-skip-install");
    krew_run_ok(
        command,
        "validate-krew-manifest -skip-install, wrong sha256",
    );
    let mut command = krew_command(
        tools.validate_krew_manifest(),
        &kubectl_krew_path,
        &home,
        None,
    );
    command.arg("-manifest").arg(&wrong_manifest);
    let out = krew_run(command, "validate-krew-manifest, wrong sha256");
    let refusal = format!("checksum does not match, want: {wrong}, got {sha256}");
    assert!(
        !out.status.success() && String::from_utf8_lossy(&out.stderr).contains(&refusal),
        "validate-krew-manifest accepted a wrong sha256: {}",
        krew_output_text(&out)
    );

    let wrong_root = work.path().join("krew-wrong-sha256");
    let path = krew_path(&[&wrong_root.join("bin"), &tools.dir]);
    let mut command = krew_command("kubectl", &path, &home, Some(&wrong_root));
    command
        .args(["krew", "install"])
        .arg(format!("--manifest={}", wrong_manifest.display()))
        .arg(format!("--archive={}", archive.display()));
    let out = krew_run(command, "kubectl krew install, wrong sha256");
    assert!(
        !out.status.success() && String::from_utf8_lossy(&out.stderr).contains(&refusal),
        "kubectl krew install accepted a wrong sha256: {}",
        krew_output_text(&out)
    );
    assert_eq!(
        krew_tree(&wrong_root, None),
        ["bin/", "index/", "receipts/", "store/"],
        "a refused install leaves only krew's empty folders"
    );

    // 4. `kubectl krew install --manifest --archive` into a fresh KREW_ROOT, with its bin
    //    folder on PATH as krew's setup asks. uninstall and list need a plugin index: an empty
    //    local one stands for the krew-index clone that `kubectl krew update` would make.
    let root = work.path().join("krew");
    let bin = root.join("bin");
    let index = root.join("index/default");
    std::fs::create_dir_all(&index).unwrap();
    let mut git = Command::new("git");
    git.args(["init", "-q"]).arg(&index).stdin(Stdio::null());
    krew_run_ok(git, "git init (the local plugin index)");
    let krew_path_with_bin = krew_path(&[&bin, &tools.dir]);
    let kubectl_krew = |args: &[&str]| {
        let mut command = krew_command("kubectl", &krew_path_with_bin, &home, Some(&root));
        command.arg("krew").args(args);
        command
    };
    let out = krew_run_ok(
        kubectl_krew(&[
            "install",
            &format!("--manifest={}", manifest_path.display()),
            &format!("--archive={}", archive.display()),
        ]),
        "kubectl krew install --manifest --archive",
    );
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("Installed plugin: cicd"), "{said}");
    assert!(
        !said.contains("you need to add"),
        "krew asked for its bin folder on PATH although it is there:\n{said}"
    );
    let store = format!("store/cicd/{}", krew_tag());
    let installed = krew_tree(&root, Some(&index));
    assert_eq!(
        installed,
        [
            "bin/".to_string(),
            format!(
                "bin/kubectl-cicd -> {}",
                root.join(&store).join("kubectl-cicd").display()
            ),
            "index/".to_string(),
            "receipts/".to_string(),
            "receipts/cicd.yaml".to_string(),
            "store/".to_string(),
            "store/cicd/".to_string(),
            format!("{store}/"),
            format!("{store}/LICENSE"),
            format!("{store}/kubectl-cicd"),
        ],
        "what krew installed (no completion hook: krew links the manifest's one `bin` only)"
    );
    assert_eq!(
        std::fs::read(root.join(&store).join("LICENSE")).unwrap(),
        std::fs::read(krew_repo().join("LICENSE")).unwrap()
    );
    // Installed from a manifest, not from an index: krew lists it as "detached/cicd".
    let listed = krew_run_ok(kubectl_krew(&["list"]), "kubectl krew list");
    assert!(
        String::from_utf8_lossy(&listed.stdout)
            .lines()
            .any(|l| l.trim() == "detached/cicd"),
        "kubectl krew list: {}",
        krew_output_text(&listed)
    );

    // 5. With only krew's bin folder added to PATH, kubectl runs the plugin and lists it.
    let user_path = krew_path(&[&bin]);
    let kubectl = |args: &[&str]| {
        let mut command = krew_command("kubectl", &user_path, &home, None);
        command.args(args);
        command
    };
    let help = krew_run_ok(kubectl(&["cicd", "--help"]), "kubectl cicd --help");
    let help = String::from_utf8_lossy(&help.stdout);
    assert!(
        help.contains("Usage: kubectl cicd [OPTIONS] <COMMAND>"),
        "{help}"
    );
    for sub in KREW_SUBCOMMANDS {
        assert!(
            help.lines().any(|l| l.starts_with(&format!("  {sub} "))),
            "kubectl cicd --help does not list {sub}:\n{help}"
        );
    }
    let version_line = format!("kubectl cicd {}\n", env!("CARGO_PKG_VERSION"));
    for args in [["cicd", "version"], ["cicd", "--version"]] {
        let out = krew_run_ok(kubectl(&args), &format!("kubectl {args:?}"));
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            version_line,
            "kubectl {args:?}"
        );
    }
    let out = krew_run_ok(kubectl(&["plugin", "list"]), "kubectl plugin list");
    let plugins = String::from_utf8_lossy(&out.stdout);
    assert!(
        plugins
            .lines()
            .any(|l| l.trim() == bin.join("kubectl-cicd").display().to_string()),
        "kubectl plugin list does not list krew's kubectl-cicd:\n{plugins}"
    );
    let warnings = String::from_utf8_lossy(&out.stderr);
    assert!(
        !warnings.contains("warning"),
        "kubectl plugin list warned:\n{warnings}"
    );

    // 6. Completion: kubectl offers the plugin's name, but without a kubectl_complete-cicd
    //    hook on PATH (krew does not install one) nothing of the plugin's own words.
    let (values, _) = krew_kubectl_complete(&user_path, &home, &["ci"]);
    assert!(values.iter().any(|v| v == "cicd"), "{values:?}");
    let (values, _) = krew_kubectl_complete(&user_path, &home, &["cicd", ""]);
    assert!(
        !values.iter().any(|v| v == "audit"),
        "completion without a hook offered {values:?}"
    );
    // The hook as README.md sets it up: next to kubectl-cicd, in krew's bin folder.
    let mut setup = krew_command("sh", &user_path, &home, None);
    setup.arg("-c").arg(
        "dir=$(dirname \"$(command -v kubectl-cicd)\")\n\
         kubectl cicd completion kubectl-plugin > \"$dir/kubectl_complete-cicd\" && \
         chmod +x \"$dir/kubectl_complete-cicd\"",
    );
    krew_run_ok(setup, "the completion hook set-up of README.md");
    let hook = bin.join("kubectl_complete-cicd");
    assert!(
        std::fs::metadata(&hook).unwrap().permissions().mode() & 0o111 != 0,
        "the hook is executable"
    );
    let (values, directive) = krew_kubectl_complete(&user_path, &home, &["cicd", ""]);
    for sub in KREW_SUBCOMMANDS {
        assert!(values.iter().any(|v| v == sub), "{sub} in {values:?}");
    }
    assert_eq!(directive, ":4", "no file names where a command is expected");
    let (values, _) = krew_kubectl_complete(&user_path, &home, &["cicd", "audit", "-o", ""]);
    assert_eq!(values, ["table", "json", "sarif", "markdown"]);

    // 7. `kubectl krew uninstall cicd` removes the link, the store and the receipt. Left: krew's
    //    own empty folders (and the local index), and the hook, which krew never knew about
    //    (README.md says to remove it too).
    let out = krew_run_ok(
        kubectl_krew(&["uninstall", "cicd"]),
        "kubectl krew uninstall cicd",
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("Uninstalled plugin: cicd"));
    let left = krew_tree(&root, Some(&index.join(".git")));
    eprintln!("left in KREW_ROOT after kubectl krew uninstall cicd: {left:?}");
    assert_eq!(
        left,
        [
            "bin/",
            "bin/kubectl_complete-cicd",
            "index/",
            "index/default/",
            "receipts/",
            "store/",
        ]
    );
    std::fs::remove_file(&hook).unwrap();
    assert_eq!(
        krew_tree(&root, Some(&index.join(".git"))),
        ["bin/", "index/", "index/default/", "receipts/", "store/"]
    );
    let out = krew_run(kubectl(&["cicd", "--help"]), "kubectl cicd after uninstall");
    assert!(
        !out.status.success(),
        "kubectl still runs cicd after uninstall"
    );

    drop(server);
    eprintln!(
        "krew release test done in {:.0} s",
        started.elapsed().as_secs_f64()
    );
}
