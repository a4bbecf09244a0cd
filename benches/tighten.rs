//! `cargo bench --bench tighten`: how fast `kubectl cicd tighten` reads an audit log, and how
//! much memory it needs, on generated logs of a busy cluster.
//!
//! A benchmark, not a test: it prints numbers and whether the targets are met, and fails only
//! when something does not work at all. Run as a test (without cargo bench's `--bench`
//! argument) it returns at once.
//!
//! The logs are generated deterministically into a temporary folder, which is deleted at the
//! end: audit.k8s.io/v1 Events, one a line, as kube-apiserver writes them, of a cluster's
//! controllers, nodes, ServiceAccounts and people over 14 days, about one line in a hundred
//! the CI identity's (`system:serviceaccount:shop:ci-cd`), one in twenty logged with a
//! request body (`RequestResponse` level). Then, each in a fresh child process (this program
//! again, so that its peak memory is its own), the same reading `tighten` does (the audit log
//! reader and the identity's usage, then the proposal):
//!
//! * (a) the 1 GB log, plain: throughput in MB/s of log text, median of `TIGHTEN_BENCH_REPS`
//!   runs (default 3); target at least 200 MB/s;
//! * (b) the same log gzip-compressed (flate2, level 6): MB/s of log text and of the file;
//! * (c) the worst case, a 256 MB log of nothing but the identity's requests (every line
//!   parsed);
//! * (d) peak memory (VmHWM of the child) reading the 256 MB and the 1 GB log; target: the
//!   larger log needs at most 10% more.
//!
//! The files are read from the page cache (just written): this measures the reader, not the
//! disk. `TIGHTEN_BENCH_GB` sets the size of the large log (default 1).
//!
//! Profile: `cargo bench` builds with the `bench` profile, which inherits `release` (opt-level
//! "z", fat LTO, one codegen unit): the reader is measured as it ships.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use kubectl_cicd::auditlog::role;
use kubectl_cicd::auditlog::{self, Source, Usage};
use kubectl_cicd::rbac::{READ_WRITE_VERBS, Rule};

const TARGET_PLAIN_MBPS: f64 = 200.0;
const TARGET_MEMORY_GROWTH: f64 = 1.10;
const NAMESPACE: &str = "shop";
const IDENTITY: &str = "ci-cd";
const MB: f64 = 1e6;

/// splitmix64: deterministic, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[(self.next() % items.len() as u64) as usize]
    }
}

/// `2026-01-05T10:00:00.123456Z` for `micros` after the log's start.
fn time(start: i64, micros: u64) -> String {
    let t = jiff::Timestamp::from_second(start + (micros / 1_000_000) as i64).unwrap();
    format!(
        "{}.{:06}Z",
        t.strftime("%Y-%m-%dT%H:%M:%S"),
        micros % 1_000_000
    )
}

struct Kind {
    group: &'static str,
    version: &'static str,
    resource: &'static str,
}

const KINDS: &[Kind] = &[
    Kind {
        group: "",
        version: "v1",
        resource: "pods",
    },
    Kind {
        group: "",
        version: "v1",
        resource: "configmaps",
    },
    Kind {
        group: "",
        version: "v1",
        resource: "services",
    },
    Kind {
        group: "apps",
        version: "v1",
        resource: "deployments",
    },
    Kind {
        group: "apps",
        version: "v1",
        resource: "replicasets",
    },
    Kind {
        group: "coordination.k8s.io",
        version: "v1",
        resource: "leases",
    },
    Kind {
        group: "",
        version: "v1",
        resource: "events",
    },
];

/// One event line (with its line break).
#[allow(clippy::too_many_arguments)]
fn event(
    rng: &mut Rng,
    user: &str,
    groups: &str,
    verb: &str,
    kind: &Kind,
    namespace: &str,
    name: &str,
    code: u16,
    when: &str,
    body: bool,
) -> String {
    let prefix = if kind.group.is_empty() {
        format!("/api/{}", kind.version)
    } else {
        format!("/apis/{}/{}", kind.group, kind.version)
    };
    let collection = matches!(verb, "list" | "watch" | "create");
    let uri = if collection {
        format!(
            "{prefix}/namespaces/{namespace}/{}?limit=500",
            kind.resource
        )
    } else {
        format!("{prefix}/namespaces/{namespace}/{}/{name}", kind.resource)
    };
    let level = if body { "RequestResponse" } else { "Metadata" };
    let decision = if code == 403 { "forbid" } else { "allow" };
    let mut line = format!(
        r#"{{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"{level}","auditID":"{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}","stage":"ResponseComplete","requestURI":"{uri}","verb":"{verb}","user":{{"username":"{user}","uid":"{:016x}","groups":[{groups}]}},"sourceIPs":["10.0.{}.{}"],"userAgent":"kubectl/v1.33.0 (linux/amd64) kubernetes/abcdef0","objectRef":{{"resource":"{}","namespace":"{namespace}","name":"{name}","apiGroup":"{}","apiVersion":"{}"}},"responseStatus":{{"metadata":{{}},"code":{code}}}"#,
        rng.next() as u32,
        rng.next() as u16,
        rng.next() % 4096,
        rng.next() % 4096,
        rng.next() & 0xffff_ffff_ffff,
        rng.next(),
        rng.next() % 256,
        rng.next() % 256,
        kind.resource,
        kind.group,
        kind.version,
    );
    if body {
        // A ConfigMap-sized body, as a RequestResponse rule logs it.
        let data: String = (0..40)
            .map(|i| format!(r#""key-{i}":"{:032x}{:032x}","#, rng.next(), rng.next()))
            .collect();
        line.push_str(&format!(
            r#","requestObject":{{"kind":"ConfigMap","apiVersion":"v1","metadata":{{"name":"{name}","namespace":"{namespace}"}},"data":{{{}}}}},"responseObject":{{"kind":"ConfigMap","apiVersion":"v1","metadata":{{"name":"{name}","namespace":"{namespace}","uid":"{:032x}","resourceVersion":"{}"}}}}"#,
            data.trim_end_matches(','),
            rng.next(),
            rng.next() % 10_000_000,
        ));
    }
    line.push_str(&format!(
        r#","requestReceivedTimestamp":"{when}","stageTimestamp":"{when}","annotations":{{"authorization.k8s.io/decision":"{decision}","authorization.k8s.io/reason":"RBAC: allowed by ClusterRoleBinding \"system:controller\" of ClusterRole \"system:controller\" to User \"{user}\""}}}}"#
    ));
    line.push('\n');
    line
}

/// Writes a log of about `bytes` bytes; `share` is the CI identity's part of the lines (1 in
/// `share`; 1 makes every line the identity's).
fn generate(path: &Path, bytes: u64, share: u64, seed: u64) {
    let mut rng = Rng(seed);
    let mut out = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(path).unwrap());
    let start = 1_767_225_600; // 2026-01-01T00:00:00Z
    let span_micros: u64 = 14 * 86_400 * 1_000_000;
    let lines = bytes / 1_150;
    let ci = format!("system:serviceaccount:{NAMESPACE}:{IDENTITY}");
    let ci_groups = format!(
        r#""system:serviceaccounts","system:serviceaccounts:{NAMESPACE}","system:authenticated""#
    );
    let nodes: Vec<String> = (0..50)
        .map(|i| format!("system:node:node-{i:02}"))
        .collect();
    let sas: Vec<String> = (0..40)
        .map(|i| format!("system:serviceaccount:team-{}:app-{i}", i % 8))
        .collect();
    let namespaces = [
        "kube-system",
        "monitoring",
        "team-0",
        "team-1",
        "team-2",
        NAMESPACE,
    ];
    let mut written = 0u64;
    let mut n = 0u64;
    while written < bytes {
        let when = time(start, n * span_micros / lines.max(1));
        let line = if rng.next().is_multiple_of(share) {
            let (verb, kind) = match rng.next() % 8 {
                0 => ("create", &KINDS[3]),
                1 | 2 => ("get", &KINDS[3]),
                3 => ("patch", &KINDS[3]),
                4 => ("watch", &KINDS[3]),
                5 => ("get", &KINDS[2]),
                6 => ("get", &KINDS[1]),
                _ => ("list", &KINDS[0]),
            };
            let code = if kind.resource == "pods" { 403 } else { 200 };
            let name = rng.pick(&["web", "api", "worker"]);
            event(
                &mut rng, &ci, &ci_groups, verb, kind, NAMESPACE, name, code, &when, false,
            )
        } else {
            let user = match rng.next() % 4 {
                0 => "system:kube-controller-manager".to_string(),
                1 => nodes[(rng.next() % nodes.len() as u64) as usize].clone(),
                2 => sas[(rng.next() % sas.len() as u64) as usize].clone(),
                _ => {
                    ["alice", "bob", "system:kube-scheduler"][(rng.next() % 3) as usize].to_string()
                }
            };
            let kind = &KINDS[(rng.next() % KINDS.len() as u64) as usize];
            let verb = rng.pick(&["get", "list", "watch", "update", "patch", "create"]);
            let ns = rng.pick(&namespaces);
            let name = format!("obj-{}", rng.next() % 5000);
            let body = rng.next().is_multiple_of(20);
            event(
                &mut rng,
                &user,
                r#""system:authenticated""#,
                verb,
                kind,
                ns,
                &name,
                200,
                &when,
                body,
            )
        };
        out.write_all(line.as_bytes()).unwrap();
        written += line.len() as u64;
        n += 1;
    }
    out.flush().unwrap();
}

fn gzip(from: &Path, to: &Path) {
    let mut input = std::fs::File::open(from).unwrap();
    let output = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(to).unwrap());
    let mut enc = flate2::write::GzEncoder::new(output, flate2::Compression::default());
    std::io::copy(&mut input, &mut enc).unwrap();
    enc.finish().unwrap().flush().unwrap();
}

/// What a child measured.
#[derive(Debug, Clone, Copy)]
struct Measured {
    /// Log text read (after decompression).
    text_bytes: u64,
    file_bytes: u64,
    seconds: f64,
    peak_kib: u64,
    requests: u64,
    rules: usize,
}

impl Measured {
    fn text_mbps(&self) -> f64 {
        self.text_bytes as f64 / MB / self.seconds
    }
    fn file_mbps(&self) -> f64 {
        self.file_bytes as f64 / MB / self.seconds
    }
}

/// The child: read one log as tighten does, print what it measured.
fn child(path: &Path) {
    let started = Instant::now();
    let who = auditlog::service_account_user(NAMESPACE, IDENTITY);
    let mut usage = Usage::default();
    let scan = auditlog::scan(&[Source::File(path.to_path_buf())], &who, &mut |e| {
        if e.user != who {
            return false;
        }
        if e.completed() {
            usage.add(e);
        }
        true
    })
    .expect("the generated log is read");
    let current = vec![
        Rule::resource(&[""], &["configmaps", "services"], READ_WRITE_VERBS),
        Rule::resource(&["apps"], &["deployments"], READ_WRITE_VERBS),
    ];
    let proposal = role::propose(&current, NAMESPACE, &usage, false).expect("a proposal is built");
    let seconds = started.elapsed().as_secs_f64();
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let peak_kib = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0);
    println!(
        "{} {} {seconds} {peak_kib} {} {}",
        scan.bytes(),
        std::fs::metadata(path).map(|m| m.len()).unwrap_or(0),
        usage.requests,
        proposal.rules.len()
    );
}

fn measure(path: &Path) -> Measured {
    let out = Command::new(std::env::current_exe().unwrap())
        .env("TIGHTEN_BENCH_CHILD", path)
        .output()
        .expect("the child runs");
    assert!(
        out.status.success(),
        "the child failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let f: Vec<&str> = text.split_whitespace().collect();
    Measured {
        text_bytes: f[0].parse().unwrap(),
        file_bytes: f[1].parse().unwrap(),
        seconds: f[2].parse().unwrap(),
        peak_kib: f[3].parse().unwrap(),
        requests: f[4].parse().unwrap(),
        rules: f[5].parse().unwrap(),
    }
}

/// The median run (by time) of `reps`.
fn median(path: &Path, reps: usize) -> Measured {
    let mut runs: Vec<Measured> = (0..reps).map(|_| measure(path)).collect();
    runs.sort_by(|a, b| a.seconds.total_cmp(&b.seconds));
    runs[runs.len() / 2]
}

fn main() {
    if let Some(path) = std::env::var_os("TIGHTEN_BENCH_CHILD") {
        child(&PathBuf::from(path));
        return;
    }
    // `cargo bench` passes `--bench`; built as a test, the binary does nothing.
    if !std::env::args().any(|a| a == "--bench") {
        println!("the tighten benchmark runs under `cargo bench --bench tighten` only");
        return;
    }
    let reps: usize = std::env::var("TIGHTEN_BENCH_REPS")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|&n| n > 0)
        .unwrap_or(3);
    let gb: f64 = std::env::var("TIGHTEN_BENCH_GB")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|&g: &f64| g > 0.0)
        .unwrap_or(1.0);
    let large = (gb * 1e9) as u64;
    let small = large / 4;
    let dir = tempfile::tempdir().expect("a temporary folder");
    let (big, little, worst, zipped) = (
        dir.path().join("audit.log"),
        dir.path().join("audit-small.log"),
        dir.path().join("audit-ci-only.log"),
        dir.path().join("audit.log.gz"),
    );
    let t = Instant::now();
    generate(&big, large, 100, 1);
    generate(&little, small, 100, 2);
    generate(&worst, small, 1, 3);
    println!("generated the logs in {:.1} s", t.elapsed().as_secs_f64());
    let t = Instant::now();
    gzip(&big, &zipped);
    println!(
        "gzip-compressed the large log in {:.1} s ({:.0} MB)",
        t.elapsed().as_secs_f64(),
        std::fs::metadata(&zipped).unwrap().len() as f64 / MB
    );

    let plain = median(&big, reps);
    let gz = median(&zipped, reps);
    let all_ours = median(&worst, reps);
    let small_run = median(&little, reps);
    assert_eq!(plain.text_bytes, gz.text_bytes, "gzip reads the same text");
    assert!(plain.requests > 0 && plain.rules > 0, "{plain:?}");
    assert_eq!(plain.requests, gz.requests);

    println!();
    println!(
        "| log | text | file | time | text MB/s | file MB/s | identity's requests | peak memory |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    for (what, m) in [
        ("(a) busy cluster, plain", plain),
        ("(b) busy cluster, gzip", gz),
        ("(c) only the identity, plain", all_ours),
        ("(d) busy cluster, plain, 1/4 size", small_run),
    ] {
        println!(
            "| {what} | {:.0} MB | {:.0} MB | {:.2} s | {:.0} | {:.0} | {} | {:.1} MiB |",
            m.text_bytes as f64 / MB,
            m.file_bytes as f64 / MB,
            m.seconds,
            m.text_mbps(),
            m.file_mbps(),
            m.requests,
            m.peak_kib as f64 / 1024.0
        );
    }
    println!();
    let growth = plain.peak_kib as f64 / small_run.peak_kib.max(1) as f64;
    println!(
        "(a) plain: {:.0} MB/s (target at least {TARGET_PLAIN_MBPS:.0}): {}",
        plain.text_mbps(),
        if plain.text_mbps() >= TARGET_PLAIN_MBPS {
            "met"
        } else {
            "NOT met"
        }
    );
    println!(
        "(d) peak memory {:.1} MiB at {:.0} MB and {:.1} MiB at {:.0} MB: x{growth:.2} for x4 the log (target at most x{TARGET_MEMORY_GROWTH:.2}): {}",
        small_run.peak_kib as f64 / 1024.0,
        small_run.text_bytes as f64 / MB,
        plain.peak_kib as f64 / 1024.0,
        plain.text_bytes as f64 / MB,
        if growth <= TARGET_MEMORY_GROWTH {
            "met"
        } else {
            "NOT met"
        }
    );
    drop(dir);
}
