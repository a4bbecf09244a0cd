//! `cargo bench --bench audit`: `kubectl cicd audit -A` on a large synthetic cluster, next to
//! the raw fetch kubectl does of the same objects, and the scaling of the pure analysis
//! (issue 4).
//!
//! A benchmark, not a test: it prints numbers and whether the targets are met, and fails only
//! when something does not work at all. It is not part of `cargo test` (run as a test, without
//! cargo bench's `--bench` argument, it returns at once).
//!
//! The synthetic cluster (200 namespaces, 5,000 ServiceAccounts, 5,000 Roles, 10,000
//! RoleBindings, 500 ClusterRoles, 1,000 ClusterRoleBindings, 5,000 token Secrets) is
//! generated deterministically ([`generate`]) and seeded into an in-process sandbox as the
//! administrator (`Sandbox::seed`, timed). Then, in one run:
//!
//! * (a) `kubectl-cicd audit -A -o json` as the sandbox's admin, median of several runs;
//! * (b) `kubectl get serviceaccounts,roles,rolebindings -A -o json` plus
//!   `kubectl get clusterroles,clusterrolebindings -o json` on the same sandbox, the sum of
//!   both, median of several runs. Both commands share one `--cache-dir`, filled by an untimed
//!   warm-up run, so no timed run pays for discovery (the request log confirms it: the table
//!   shows the discovery requests of a timed run, 0). The audit does no discovery at all;
//! * (c) the ratio (a)/(b); target at most 0.5;
//! * where the audit's time goes, in this process with the same code: reading the cluster
//!   (requests, decoding and the snapshot built as each object arrives), the analysis,
//!   rendering JSON; and how
//!   long the sandbox takes to answer its largest lists (raw GETs, nothing decoded);
//! * (d) `snapshot::from_objects` + `analyze` on the objects of the 1x cluster and of a 2x one
//!   (400 namespaces and twice of everything), in this process with the sandbox stopped,
//!   median of several alternating runs; target: 2x at most 2.3 times 1x.
//!
//! * (e) `audit --sa`'s access matrix (`matrix::access_matrix`) of one ServiceAccount whose
//!   Role has 5,000 and 10,000 rules, each naming its own resource, in this process; target:
//!   2x the rules at most 2.3 times the time (it was quadratic: 91 s at 10,000 rules).
//!
//! Runs of (a) and (b) alternate, so that drift in the machine's load hits both alike.
//!
//! Profile: `cargo bench` builds with the `bench` profile, which inherits the `release`
//! profile unchanged (opt-level "z" but 3 for the YAML and JSON readers, fat LTO, one codegen
//! unit): the plugin binary of (a) and the analysis of (d) are built as shipped. A faster bench profile (thin LTO, more codegen
//! units, opt-level 3) would halve the two-minute build but measure another program, so there
//! is none.
//!
//! Environment: `AUDIT_BENCH_REPS` (default 5) runs of each timed command (the analysis runs
//! twice as often, plus one); `AUDIT_BENCH_BIN=PATH` times another plugin binary (e.g.
//! `target/release/kubectl-cicd` from `cargo build --release`); `AUDIT_BENCH_REPORT=FILE`
//! keeps the audit's JSON report; `AUDIT_BENCH_ONLY=analysis` runs (d) alone (for profiling);
//! `AUDIT_BENCH_DUMP=FILE` only writes the synthetic cluster to FILE as a JSON `List`.
//! Without `kubectl` on `PATH`, (b) and (c) are skipped.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use cicd_sandbox::{Config, Sandbox};
use kubectl_cicd::audit::model::{Report, Scope};
use kubectl_cicd::audit::{analyze, gather, output, snapshot};
use kubectl_cicd::cluster::Cluster;
use serde_json::{Value, json};

const RBAC: &str = "rbac.authorization.k8s.io/v1";
/// Objects per namespace, and cluster-wide, at scale 1.
const NAMESPACES: usize = 200;
const SAS_PER_NS: usize = 25; // `default` (made by the sandbox) and 24 more
const ROLES_PER_NS: usize = 25;
const ROLE_BINDINGS_PER_NS: usize = 50;
const TOKENS_PER_NS: usize = 25;
const CLUSTER_ROLES: usize = 500;
const CLUSTER_ROLE_BINDINGS: usize = 1_000;

const TARGET_RATIO: f64 = 0.5;
const TARGET_SCALING: f64 = 2.3;

// ---------------------------------------------------------------------------------------
// The synthetic cluster

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

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// True with probability `1/n`.
    fn one_in(&mut self, n: usize) -> bool {
        self.below(n) == 0
    }

    fn pick<'a, T>(&mut self, list: &'a [T]) -> &'a T {
        &list[self.below(list.len())]
    }
}

/// The 24 ServiceAccounts of each namespace besides `default`.
const SA_NAMES: [&str; 24] = [
    "deployer",
    "ci-cd",
    "gitlab-runner",
    "github-actions",
    "helm-robot",
    "backup",
    "monitoring",
    "logging",
    "api",
    "web",
    "worker",
    "scheduler",
    "cache",
    "db-migrator",
    "batch",
    "reporter",
    "sync",
    "notifier",
    "ingest",
    "exporter",
    "auth",
    "billing",
    "search",
    "frontend",
];

fn rule(groups: &[&str], resources: &[&str], verbs: &[&str]) -> Value {
    json!({"apiGroups": groups, "resources": resources, "verbs": verbs})
}

const RW: &[&str] = &[
    "get", "list", "watch", "create", "update", "patch", "delete",
];
const RO: &[&str] = &["get", "list", "watch"];

/// Ordinary rules a namespace's Roles are made of.
fn ordinary_rules() -> Vec<Value> {
    vec![
        rule(&["apps"], &["deployments"], RW),
        rule(
            &["apps"],
            &["deployments", "replicasets", "statefulsets"],
            RO,
        ),
        rule(&[""], &["configmaps"], RO),
        rule(&[""], &["configmaps"], RW),
        rule(
            &[""],
            &["services"],
            &["get", "list", "create", "update", "patch"],
        ),
        rule(&[""], &["pods"], RO),
        rule(&[""], &["pods/log"], &["get"]),
        rule(&["batch"], &["jobs"], &["get", "list", "create", "delete"]),
        rule(&["batch"], &["cronjobs"], RO),
        rule(
            &["networking.k8s.io"],
            &["ingresses"],
            &["get", "list", "update"],
        ),
        rule(&[""], &["events"], RO),
        rule(
            &[""],
            &["persistentvolumeclaims"],
            &["get", "list", "create"],
        ),
        rule(&["autoscaling"], &["horizontalpodautoscalers"], RW),
        rule(
            &["monitoring.coreos.com"],
            &["servicemonitors", "prometheusrules"],
            RW,
        ),
        json!({"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "update"],
               "resourceNames": ["app-config"]}),
    ]
}

/// Rules the analysis has to flag, rarely mixed into Roles.
fn risky_rules() -> Vec<Value> {
    vec![
        rule(&[""], &["secrets"], &["get", "list"]),
        rule(&[""], &["secrets"], RW),
        rule(&[""], &["pods/exec", "pods/attach"], &["create", "get"]),
        rule(&[""], &["serviceaccounts/token"], &["create"]),
        rule(
            &["rbac.authorization.k8s.io"],
            &["roles", "rolebindings"],
            RW,
        ),
        rule(
            &["rbac.authorization.k8s.io"],
            &["roles"],
            &["escalate", "bind"],
        ),
        rule(&[""], &["pods"], &["create"]),
        rule(&["*"], &["*"], &["*"]),
        rule(&["apps"], &["*"], &["get", "list"]),
        rule(&[""], &["serviceaccounts"], &["impersonate"]),
    ]
}

/// Rules of the cluster-wide roles: reading and writing CRD kinds, and a few risky ones.
fn cluster_rules(rng: &mut Rng, k: usize) -> Vec<Value> {
    let group = format!("example{}.io", k % 50);
    let kinds = ["widgets", "gadgets", "sprockets", "gizmos"];
    let mut rules = vec![rule(&[group.as_str()], &[*rng.pick(&kinds)], RO)];
    if rng.one_in(2) {
        rules.push(rule(&[group.as_str()], &[*rng.pick(&kinds)], RW));
    }
    if rng.one_in(3) {
        rules.push(rule(&[""], &["namespaces", "nodes"], RO));
    }
    if k % 50 == 7 {
        let risky = [
            rule(&[""], &["secrets"], RO),
            rule(&[""], &["nodes/proxy"], &["get", "create"]),
            rule(
                &["admissionregistration.k8s.io"],
                &[
                    "validatingwebhookconfigurations",
                    "mutatingwebhookconfigurations",
                ],
                RW,
            ),
            rule(
                &["certificates.k8s.io"],
                &["certificatesigningrequests/approval"],
                &["update"],
            ),
            rule(&["certificates.k8s.io"], &["signers"], &["approve"]),
            rule(&[""], &["users", "groups"], &["impersonate"]),
            rule(
                &["rbac.authorization.k8s.io"],
                &["clusterroles"],
                &["escalate", "bind"],
            ),
            rule(&["*"], &["*"], &["*"]),
        ];
        rules.push(risky[(k / 50) % risky.len()].clone());
    }
    rules
}

/// The objects to create in a sandbox, in an order it accepts (namespaces first), for a
/// cluster `scale` times the size of issue 4's. The `default` ServiceAccount of each namespace
/// is made by the sandbox, not listed here.
///
/// Per namespace: 24 ServiceAccounts (one labelled as made by kubectl-cicd, some mapped to a
/// cloud identity), a Role of 1 to 4 ordinary rules for each of them (one in 30 with a risky
/// rule: Secrets, exec, tokens, RBAC writes, escalate/bind, a wildcard) and one for the team's
/// people, each bound by a RoleBinding; 25 more RoleBindings to ClusterRoles (CRD roles, view,
/// sometimes edit or admin) for the namespace's robots, its `default` account, a person,
/// another namespace's robot, now and then `system:serviceaccounts:<ns>` or a missing role;
/// 25 token Secrets, a third of them with a recent `kubernetes.io/legacy-token-last-used`
/// label, a tenth used long ago and invalidated. Cluster-wide: ClusterRoles for CRD kinds (one
/// in 25 aggregated into view, one in 50 with a risky rule: Secrets, nodes/proxy, webhooks,
/// CSR approval, impersonation, escalate/bind, everything), and ClusterRoleBindings of them
/// to teams' groups and monitoring robots, plus cluster-admin for a few robots and an Argo CD
/// controller, and three bindings to `system:serviceaccounts` / `system:authenticated`.
fn generate(scale: usize) -> Vec<Value> {
    let mut rng = Rng(0x00C1_CD00_0000_0000 ^ scale as u64);
    let namespaces = NAMESPACES * scale;
    let ns_name = |i: usize| format!("app-{i:03}");
    let ordinary = ordinary_rules();
    let risky = risky_rules();
    let mut out = Vec::new();
    for i in 0..namespaces {
        out.push(
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns_name(i),
            "labels": {"team": format!("team-{}", i % 40)}}}),
        );
    }
    // ClusterRoles: CRD readers and writers; some aggregate into view, as CRDs' roles do.
    let cluster_role = |k: usize| format!("crd-{k:03}-access");
    for k in 0..CLUSTER_ROLES * scale {
        let mut meta = json!({"name": cluster_role(k)});
        if k % 25 == 3 {
            meta["labels"] = json!({"rbac.authorization.k8s.io/aggregate-to-view": "true"});
        }
        out.push(
            json!({"apiVersion": RBAC, "kind": "ClusterRole", "metadata": meta,
            "rules": cluster_rules(&mut rng, k)}),
        );
    }
    let mut roles = Vec::new();
    let mut bindings = Vec::new();
    let mut tokens = Vec::new();
    for i in 0..namespaces {
        let ns = ns_name(i);
        let sa_names: Vec<String> = SA_NAMES
            .iter()
            .map(|n| match (*n, i % 50) {
                ("sync", 7) => "argocd-application-controller".to_string(),
                (n, _) => n.to_string(),
            })
            .collect();
        for (j, sa) in sa_names.iter().enumerate() {
            let mut meta = json!({"name": sa, "namespace": ns,
                "labels": {"app.kubernetes.io/name": sa}});
            if j == 1 {
                meta["labels"]["app.kubernetes.io/managed-by"] = json!("kubectl-cicd");
            }
            if j == 6 && i % 10 == 0 {
                meta["annotations"] = json!({"eks.amazonaws.com/role-arn": format!("arn:aws:iam::123456789012:role/{ns}-monitoring")});
            }
            out.push(json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": meta}));
        }
        // Roles: one per ServiceAccount, plus one for the team's people.
        for j in 0..ROLES_PER_NS {
            let name = match sa_names.get(j) {
                Some(sa) => format!("{sa}-role"),
                None => "team-readers".to_string(),
            };
            let mut rules: Vec<Value> = (0..1 + rng.below(4))
                .map(|_| rng.pick(&ordinary).clone())
                .collect();
            if rng.one_in(30) {
                rules.push(rng.pick(&risky).clone());
            }
            rules.dedup();
            roles.push(json!({"apiVersion": RBAC, "kind": "Role",
                "metadata": {"name": name, "namespace": ns}, "rules": rules}));
            // Its binding: the ServiceAccount (the last Role: the team's group).
            let subjects = match sa_names.get(j) {
                Some(sa) => json!([{"kind": "ServiceAccount", "name": sa, "namespace": ns}]),
                None => json!([{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group",
                    "name": format!("team-{}-devs", i % 40)}]),
            };
            bindings.push(json!({"apiVersion": RBAC, "kind": "RoleBinding",
                "metadata": {"name": name, "namespace": ns},
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": name},
                "subjects": subjects}));
        }
        // RoleBindings to ClusterRoles: view/edit for people and robots, CRD access,
        // now and then another namespace's robot, a broad group, or a missing role.
        for j in ROLES_PER_NS..ROLE_BINDINGS_PER_NS {
            let name = format!("extra-{j:02}");
            let role_ref = match rng.below(40) {
                0..=3 => "view".to_string(),
                4 => "edit".to_string(),
                5 if rng.one_in(5) => "admin".to_string(),
                _ => cluster_role(rng.below(CLUSTER_ROLES * scale)),
            };
            let role_ref = if rng.one_in(200) {
                "deleted-role".to_string()
            } else {
                role_ref
            };
            let subject = match rng.below(20) {
                0 => json!({"apiGroup": "rbac.authorization.k8s.io", "kind": "User",
                    "name": format!("dev-{}@example.org", rng.below(400))}),
                1 => json!({"kind": "ServiceAccount", "name": rng.pick(&SA_NAMES),
                    "namespace": ns_name(rng.below(namespaces))}),
                2 if rng.one_in(10) => json!({"apiGroup": "rbac.authorization.k8s.io",
                    "kind": "Group", "name": format!("system:serviceaccounts:{ns}")}),
                3 => json!({"kind": "ServiceAccount", "name": "default", "namespace": ns}),
                _ => {
                    json!({"kind": "ServiceAccount", "name": rng.pick(&sa_names), "namespace": ns})
                }
            };
            bindings.push(json!({"apiVersion": RBAC, "kind": "RoleBinding",
                "metadata": {"name": name, "namespace": ns},
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role_ref},
                "subjects": [subject]}));
        }
        // Token Secrets: one per ServiceAccount, and a second for the deployer. Some were
        // used recently, some long ago, a few were invalidated.
        for j in 0..TOKENS_PER_NS {
            let sa = &sa_names[j % sa_names.len()];
            let name = if j < sa_names.len() {
                format!("{sa}-token")
            } else {
                format!("{sa}-token-2")
            };
            let mut labels = serde_json::Map::new();
            match rng.below(10) {
                0..=2 => {
                    labels.insert(
                        "kubernetes.io/legacy-token-last-used".into(),
                        json!(format!(
                            "2026-{:02}-{:02}",
                            1 + rng.below(12),
                            1 + rng.below(28)
                        )),
                    );
                }
                3 => {
                    labels.insert(
                        "kubernetes.io/legacy-token-last-used".into(),
                        json!(format!("2024-{:02}-15", 1 + rng.below(12))),
                    );
                    labels.insert(
                        "kubernetes.io/legacy-token-invalid-since".into(),
                        json!("2025-06-01"),
                    );
                }
                _ => {}
            }
            tokens.push(json!({"apiVersion": "v1", "kind": "Secret",
                "type": "kubernetes.io/service-account-token",
                "metadata": {"name": name, "namespace": ns, "labels": labels,
                    "annotations": {"kubernetes.io/service-account.name": sa}}}));
        }
    }
    // ClusterRoleBindings: teams' groups and robots to CRD roles and view; a few risky.
    // Bindings to the cluster-wide broad groups are a fixed handful, as in real clusters: a
    // cluster twice the size does not bind `system:serviceaccounts` twice as often (each
    // such grant reaches every ServiceAccount, so doubling them would quadruple the grants).
    let broad = [
        ("view", "system:serviceaccounts"),
        ("crd-001-access", "system:serviceaccounts"),
        ("crd-002-access", "system:authenticated"),
    ];
    for k in 0..CLUSTER_ROLE_BINDINGS * scale {
        let ns = ns_name(rng.below(namespaces));
        let (role_ref, subject) = match k % 100 {
            _ if k < broad.len() => (
                broad[k].0.to_string(),
                json!({"apiGroup": "rbac.authorization.k8s.io", "kind": "Group",
                    "name": broad[k].1}),
            ),
            13 => (
                "cluster-admin".to_string(),
                json!({"kind": "ServiceAccount", "name": "deployer", "namespace": ns}),
            ),
            57 => (
                "cluster-admin".to_string(),
                json!({"kind": "ServiceAccount", "name": "argocd-application-controller",
                    "namespace": ns_name(7)}),
            ),
            _ if k % 2 == 0 => (
                cluster_role(rng.below(CLUSTER_ROLES * scale)),
                json!({"apiGroup": "rbac.authorization.k8s.io", "kind": "Group",
                    "name": format!("team-{}-devs", rng.below(40))}),
            ),
            _ => (
                if rng.one_in(4) {
                    "view".to_string()
                } else {
                    cluster_role(rng.below(CLUSTER_ROLES * scale))
                },
                json!({"kind": "ServiceAccount", "name": *rng.pick(&["monitoring", "logging", "exporter", "backup"]),
                    "namespace": ns}),
            ),
        };
        out.push(json!({"apiVersion": RBAC, "kind": "ClusterRoleBinding",
            "metadata": {"name": format!("crb-{k:04}")},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role_ref},
            "subjects": [subject]}));
    }
    out.extend(roles);
    out.extend(bindings);
    out.extend(tokens);
    out
}

/// Objects per kind.
fn census(objects: &[Value]) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for o in objects {
        *counts
            .entry(o["kind"].as_str().unwrap_or("?").to_string())
            .or_default() += 1;
    }
    counts
}

/// The generated objects as a list of them reads back: with the `default` ServiceAccounts,
/// the bootstrap roles and bindings every cluster has, the aggregated ClusterRoles filled
/// in, and the identity the server stamps (uid, creationTimestamp). For the in-process
/// analysis runs.
fn as_listed(objects: &[Value], taken_at: &str) -> Vec<Value> {
    let mut out: Vec<Value> = Vec::with_capacity(objects.len() * 11 / 10);
    let mut cluster_roles: Vec<Value> = cicd_sandbox::bootstrap::default_cluster_roles();
    let mut others: Vec<Value> = cicd_sandbox::bootstrap::default_cluster_role_bindings();
    for o in objects {
        match o["kind"].as_str() {
            Some("ClusterRole") => cluster_roles.push(o.clone()),
            Some("Namespace") => {
                others.push(json!({"apiVersion": "v1", "kind": "ServiceAccount",
                    "metadata": {"name": "default", "namespace": o["metadata"]["name"]}}));
            }
            _ => others.push(o.clone()),
        }
    }
    cicd_sandbox::rbac::aggregate_cluster_roles(&mut cluster_roles);
    for (n, mut o) in cluster_roles.into_iter().chain(others).enumerate() {
        if let Some(meta) = o["metadata"].as_object_mut() {
            meta.insert(
                "uid".into(),
                json!(format!("00000000-0000-4000-8000-{n:012}")),
            );
            meta.insert("creationTimestamp".into(), json!(taken_at));
        }
        out.push(o);
    }
    out
}

// ---------------------------------------------------------------------------------------
// Timing helpers

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    let n = samples.len();
    if n == 0 {
        return Duration::ZERO;
    }
    if n % 2 == 1 {
        samples[n / 2]
    } else {
        (samples[n / 2 - 1] + samples[n / 2]) / 2
    }
}

fn secs(d: Duration) -> String {
    format!("{:.3} s", d.as_secs_f64())
}

fn spread(samples: &[Duration]) -> String {
    let min = samples.iter().min().copied().unwrap_or_default();
    let max = samples.iter().max().copied().unwrap_or_default();
    format!("{:.3}-{:.3}", min.as_secs_f64(), max.as_secs_f64())
}

struct Ran {
    took: Duration,
    stdout: Vec<u8>,
    stderr: String,
    code: Option<i32>,
}

fn run(mut cmd: Command) -> Ran {
    cmd.stdin(Stdio::null());
    let started = Instant::now();
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    Ran {
        took: started.elapsed(),
        stdout: out.stdout,
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        code: out.status.code(),
    }
}

/// The plugin binary: the one `cargo bench` built with the bench profile (which inherits
/// the release profile unchanged), or `AUDIT_BENCH_BIN`, e.g. `target/release/kubectl-cicd`.
fn plugin_binary() -> PathBuf {
    std::env::var_os("AUDIT_BENCH_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_kubectl-cicd")))
}

fn kubectl_on_path() -> bool {
    Command::new("kubectl")
        .args(["version", "--client"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

// ---------------------------------------------------------------------------------------

struct Bench {
    sandbox: Sandbox,
    dir: tempfile::TempDir,
    kubeconfig: PathBuf,
}

impl Bench {
    fn audit_cmd(&self) -> Command {
        let mut cmd = Command::new(plugin_binary());
        cmd.args(["audit", "-A", "-o", "json"])
            .env("KUBECONFIG", &self.kubeconfig)
            .env("HOME", self.dir.path())
            .env("NO_COLOR", "1");
        cmd
    }

    fn kubectl_cmd(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new("kubectl");
        cmd.arg("--kubeconfig")
            .arg(&self.kubeconfig)
            .arg("--cache-dir")
            .arg(self.dir.path().join("kube-cache"))
            .args(args)
            .env("HOME", self.dir.path())
            .env_remove("KUBECONFIG");
        cmd
    }

    /// Requests the sandbox logged since `from`: (count, discovery requests among them).
    fn requests_since(&self, from: usize) -> (usize, usize) {
        let log = self.sandbox.request_log();
        let new = &log[from.min(log.len())..];
        let discovery = new.iter().filter(|e| is_discovery(&e.path)).count();
        (new.len(), discovery)
    }

    fn log_len(&self) -> usize {
        self.sandbox.request_log().len()
    }
}

/// `/api`, `/api/v1`, `/apis`, `/apis/<group>[/<version>]`, `/openapi/...`, `/version`.
fn is_discovery(path: &str) -> bool {
    let path = path.split('?').next().unwrap_or("");
    let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
    match parts.as_slice() {
        ["api"] | ["api", _] | ["apis"] | ["apis", _] | ["apis", _, _] => true,
        [first, ..] => *first == "openapi" || *first == "version",
        [] => false,
    }
}

fn kubectl_commands() -> [Vec<&'static str>; 2] {
    [
        vec![
            "get",
            "serviceaccounts,roles,rolebindings",
            "-A",
            "-o",
            "json",
        ],
        vec!["get", "clusterroles,clusterrolebindings", "-o", "json"],
    ]
}

/// `Read N objects in M requests (X s)` from the audit's stderr.
fn gather_seconds(stderr: &str) -> Option<f64> {
    let line = stderr
        .lines()
        .find(|l| l.contains("Read ") && l.contains(" requests ("))?;
    let inner = line.rsplit_once('(')?.1;
    inner.split_whitespace().next()?.parse().ok()
}

fn main() {
    let reps: usize = std::env::var("AUDIT_BENCH_REPS")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|&n| n > 0)
        .unwrap_or(5);
    // `cargo bench` passes `--bench`. Built as a test (`cargo test --all-targets`), the
    // binary runs without it: it then does nothing, so the minutes it takes stay out of
    // test runs.
    if !std::env::args().any(|a| a == "--bench") {
        println!("the audit benchmark runs under `cargo bench --bench audit` only");
        return;
    }
    if let Some(path) = std::env::var_os("AUDIT_BENCH_DUMP") {
        // The synthetic cluster as a JSON List, for `cicd-sandbox serve --seed` and comparing
        // a change's `audit -A -o json` with the one before it.
        let list = json!({"apiVersion": "v1", "kind": "List", "items": generate(1)});
        std::fs::write(
            &path,
            serde_json::to_string(&list).expect("objects serialize"),
        )
        .expect("the dump is written");
        return;
    }
    if std::env::var("AUDIT_BENCH_ONLY").is_ok_and(|v| v == "sources") {
        print_sources_and_fleet(reps);
        return;
    }
    if std::env::var("AUDIT_BENCH_ONLY").is_ok_and(|v| v == "matrix") {
        print_matrix_scaling(reps);
        return;
    }
    if std::env::var("AUDIT_BENCH_ONLY").is_ok_and(|v| v == "analysis") {
        // For profiling the analysis alone (`perf record`): (d) only.
        let taken_at = "2026-11-27T12:00:00Z";
        let one = as_listed(&generate(1), taken_at);
        let two = as_listed(&generate(2), taken_at);
        let [(t1, n1), (t2, n2)] = analysis_times([&one, &two], taken_at, 2 * reps + 1);
        println!("analysis 1x: {} ({n1} findings)", secs(t1));
        println!("analysis 2x: {} ({n2} findings)", secs(t2));
        println!("scaling: {:.3}x", t2.as_secs_f64() / t1.as_secs_f64());
        return;
    }
    println!("kubectl cicd audit benchmark (issue 4); {reps} timed repetitions of each command");
    if cfg!(debug_assertions) {
        println!(
            "NOTE: built without optimisation: numbers are not representative (use `cargo bench --bench audit`)"
        );
    }

    // The synthetic cluster.
    let started = Instant::now();
    let objects = generate(1);
    let counts = census(&objects);
    println!(
        "generated {} objects in {:.2} s: {}",
        objects.len(),
        started.elapsed().as_secs_f64(),
        counts
            .iter()
            .map(|(k, n)| format!("{n} {k}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let expect = |kind: &str, n: usize| {
        let have = counts.get(kind).copied().unwrap_or(0);
        assert_eq!(have, n, "{kind}: generated {have}, want {n}");
    };
    expect("Namespace", NAMESPACES);
    expect("ServiceAccount", NAMESPACES * (SAS_PER_NS - 1));
    expect("Role", NAMESPACES * ROLES_PER_NS);
    expect("RoleBinding", NAMESPACES * ROLE_BINDINGS_PER_NS);
    expect("ClusterRole", CLUSTER_ROLES);
    expect("ClusterRoleBinding", CLUSTER_ROLE_BINDINGS);
    expect("Secret", NAMESPACES * TOKENS_PER_NS);

    // The sandbox, seeded.
    let sandbox = Sandbox::start(Config {
        token_controller_delay: Duration::ZERO,
        ..Config::default()
    })
    .expect("sandbox starts");
    let started = Instant::now();
    sandbox
        .seed(objects.clone())
        .expect("the synthetic cluster seeds");
    let seeding = started.elapsed();
    // The token controller fills the 5,000 token Secrets; wait for it, so that it does not
    // run during the timed commands.
    let started = Instant::now();
    loop {
        let secrets = sandbox.objects("", "secrets");
        let pending = secrets
            .iter()
            .filter(|s| {
                s["type"] == "kubernetes.io/service-account-token" && s["data"]["token"].is_null()
            })
            .count();
        if pending == 0 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(300),
            "{pending} token Secrets still unfilled after 5 minutes"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let token_fill = started.elapsed();
    println!(
        "seeded the sandbox in {} ({:.0} objects/s); token controller filled the token Secrets {} later",
        secs(seeding),
        objects.len() as f64 / seeding.as_secs_f64(),
        secs(token_fill)
    );
    let sa_total = sandbox.objects("", "serviceaccounts").len();
    let rb_total = sandbox
        .objects("rbac.authorization.k8s.io", "rolebindings")
        .len();
    println!(
        "the sandbox now holds {sa_total} ServiceAccounts and {rb_total} RoleBindings (defaults included)"
    );

    let dir = tempfile::tempdir().expect("temp dir");
    let paths = sandbox.write_kubeconfigs(dir.path()).expect("kubeconfigs");
    let kubeconfig = paths
        .into_iter()
        .find(|p| p.ends_with("admin.kubeconfig"))
        .expect("admin kubeconfig");
    let bench = Bench {
        sandbox,
        dir,
        kubeconfig,
    };
    let kubectl = kubectl_on_path();
    println!(
        "(a) {} audit -A -o json  (KUBECONFIG: the admin user, system:masters)",
        plugin_binary().display()
    );
    if kubectl {
        for args in kubectl_commands() {
            println!(
                "(b) kubectl --kubeconfig <admin> --cache-dir <shared> {}",
                args.join(" ")
            );
        }
    } else {
        println!("kubectl is not on PATH: (b) and (c) are skipped");
    }

    // Warm-up, untimed: fills kubectl's discovery cache, builds the sandbox's caches, and
    // checks that every command works and sees the whole cluster.
    let warm = run(bench.audit_cmd());
    assert!(
        matches!(warm.code, Some(0 | 1)),
        "audit failed: {:?}\n{}",
        warm.code,
        warm.stderr
    );
    if let Some(path) = std::env::var_os("AUDIT_BENCH_REPORT") {
        std::fs::write(&path, &warm.stdout).expect("AUDIT_BENCH_REPORT is writable");
    }
    let report: Value = serde_json::from_slice(&warm.stdout).expect("audit -o json prints JSON");
    let findings = report["findings"].as_array().map_or(0, Vec::len);
    println!(
        "audit warm-up: {} findings ({}), {}",
        findings,
        report["summary"]["bySeverity"],
        warm.stderr
            .lines()
            .find(|l| l.contains("Read "))
            .unwrap_or("")
            .trim()
    );
    assert!(
        findings > 1_000,
        "the synthetic cluster should give the analysis work"
    );
    if kubectl {
        for args in kubectl_commands() {
            let ran = run(bench.kubectl_cmd(&args));
            assert_eq!(ran.code, Some(0), "kubectl {args:?} failed: {}", ran.stderr);
            let list: Value = serde_json::from_slice(&ran.stdout).expect("kubectl prints JSON");
            println!(
                "kubectl warm-up: {} -> {} items, {} bytes",
                args[1],
                list["items"].as_array().map_or(0, Vec::len),
                ran.stdout.len()
            );
        }
    }
    println!("audit report: {} bytes of JSON", warm.stdout.len());

    // (a) and (b), interleaved so that drift in the machine's load hits both alike.
    let mut audit_times = Vec::new();
    let mut gather_times = Vec::new();
    let mut kubectl_times = Vec::new();
    let mut audit_requests = (0, 0);
    let mut kubectl_requests = (0, 0);
    for _ in 0..reps {
        let from = bench.log_len();
        let ran = run(bench.audit_cmd());
        assert!(
            matches!(ran.code, Some(0 | 1)),
            "audit failed: {}",
            ran.stderr
        );
        audit_times.push(ran.took);
        if let Some(s) = gather_seconds(&ran.stderr) {
            gather_times.push(Duration::from_secs_f64(s));
        }
        audit_requests = bench.requests_since(from);
        if kubectl {
            let from = bench.log_len();
            let mut total = Duration::ZERO;
            for args in kubectl_commands() {
                let ran = run(bench.kubectl_cmd(&args));
                assert_eq!(ran.code, Some(0), "kubectl {args:?} failed: {}", ran.stderr);
                total += ran.took;
            }
            kubectl_times.push(total);
            kubectl_requests = bench.requests_since(from);
        }
    }

    // Where the audit's time goes, in-process (same code as the binary, same profile), and
    // how long the sandbox takes to answer the largest lists.
    let phases = phases(&bench, reps);
    let read_path = read_path(&bench, reps);

    // (d) The analysis alone, 1x and 2x, with the sandbox stopped (its token controller
    // wakes up every 50 ms) and nothing else running.
    drop(bench);
    let taken_at = "2026-11-27T12:00:00Z";
    let one = as_listed(&objects, taken_at);
    let two = as_listed(&generate(2), taken_at);
    let [(one_time, one_findings), (two_time, two_findings)] =
        analysis_times([&one, &two], taken_at, 2 * reps + 1);

    // The table.
    let audit = median(audit_times.clone());
    let row = |label: String, value: String, range: String| {
        println!("{label:<62} {value:>10}  {range:>13}");
    };
    let thousands = |n: usize| {
        let digits = n.to_string();
        let mut out = String::new();
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                out.push(',');
            }
            out.push(c);
        }
        out
    };
    println!();
    row("measurement".into(), "median".into(), "range (s)".into());
    println!("{}", "-".repeat(88));
    row(
        format!(
            "sandbox seeding ({} objects, Sandbox::seed)",
            thousands(objects.len())
        ),
        secs(seeding),
        String::new(),
    );
    row(
        format!(
            "(a) kubectl-cicd audit -A -o json ({} requests)",
            audit_requests.0
        ),
        secs(audit),
        spread(&audit_times),
    );
    if !gather_times.is_empty() {
        row(
            "    reading the cluster (as the audit reports it)".into(),
            secs(median(gather_times.clone())),
            spread(&gather_times),
        );
    }
    for (name, d) in &phases {
        row(format!("    in-process: {name}"), secs(*d), String::new());
    }
    for (name, d, bytes) in &read_path {
        row(
            format!("    sandbox answers {name} ({:.1} MB)", *bytes as f64 / 1e6),
            secs(*d),
            String::new(),
        );
    }
    let mut ratio_met = None;
    if kubectl {
        let raw = median(kubectl_times.clone());
        row(
            format!(
                "(b) both kubectl get commands ({} requests, {} discovery)",
                kubectl_requests.0, kubectl_requests.1
            ),
            secs(raw),
            spread(&kubectl_times),
        );
        let ratio = audit.as_secs_f64() / raw.as_secs_f64();
        ratio_met = Some(ratio <= TARGET_RATIO);
        row(
            format!("(c) ratio (a) / (b), target <= {TARGET_RATIO:.2}"),
            format!("{ratio:.3}x"),
            String::new(),
        );
    }
    row(
        format!(
            "(d) analysis 1x ({} objects, {} findings)",
            thousands(one.len()),
            thousands(one_findings)
        ),
        secs(one_time),
        String::new(),
    );
    row(
        format!(
            "    analysis 2x ({} objects, {} findings)",
            thousands(two.len()),
            thousands(two_findings)
        ),
        secs(two_time),
        String::new(),
    );
    let scaling = two_time.as_secs_f64() / one_time.as_secs_f64();
    row(
        format!("    ratio 2x / 1x, target <= {TARGET_SCALING:.2}"),
        format!("{scaling:.3}x"),
        String::new(),
    );
    println!("{}", "-".repeat(88));
    let verdict = |met: bool| if met { "MET" } else { "MISSED" };
    match ratio_met {
        Some(met) => println!(
            "target: audit at most {TARGET_RATIO}x kubectl's raw fetch: {}",
            verdict(met)
        ),
        None => println!(
            "target: audit at most {TARGET_RATIO}x kubectl's raw fetch: not measured (no kubectl)"
        ),
    }
    println!(
        "target: analysis near-linear (2x the data, at most {TARGET_SCALING}x the time): {}",
        verdict(scaling <= TARGET_SCALING)
    );
    print_matrix_scaling(reps);
    print_sources_and_fleet(reps);
    both_servers(&objects, reps, kubectl);
}

/// `cmd` run by `/usr/bin/time -f FORMAT -o REPORT`, with the same environment.
fn under_time(cmd: &Command, format: &str, report: &Path) -> Command {
    let mut timed = Command::new("/usr/bin/time");
    timed
        .arg("-f")
        .arg(format)
        .arg("-o")
        .arg(report)
        .arg(cmd.get_program())
        .args(cmd.get_args());
    for (k, v) in cmd.get_envs() {
        match v {
            Some(v) => timed.env(k, v),
            None => timed.env_remove(k),
        };
    }
    timed
}

/// Peak resident memory of a finished command, by `/usr/bin/time -f %M` (KB); `None` when that
/// tool is not installed.
fn peak_memory(cmd: Command) -> Option<(u64, Ran)> {
    if !Path::new("/usr/bin/time").exists() {
        return None;
    }
    let report = tempfile::NamedTempFile::new().ok()?;
    let ran = run(under_time(&cmd, "%M", report.path()));
    let kb = std::fs::read_to_string(report.path())
        .ok()?
        .lines()
        .last()?
        .trim()
        .parse()
        .ok()?;
    Some((kb, ran))
}

/// CPU seconds (user + system) this process has used so far, from `/proc/self/stat` (Linux;
/// `None` elsewhere): the sandboxes serve from this process, so its CPU during a command is
/// what the servers spent answering it.
fn own_cpu() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name, which is in parentheses and may hold spaces.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split(' ').collect();
    // utime and stime (fields 14 and 15 of the line) in clock ticks, 100 a second on Linux.
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(ticks as f64 / 100.0)
}

/// A finished command with the CPU it used (user + system, by `/usr/bin/time`) and what this
/// process (its servers) used meanwhile.
struct Measured {
    ran: Ran,
    cpu: Option<f64>,
    servers: Option<f64>,
}

fn run_measured(cmd: Command) -> Measured {
    let before = own_cpu();
    let report = tempfile::NamedTempFile::new().expect("temp file");
    let cpu_of = |ran: Ran| {
        let cpu = std::fs::read_to_string(report.path()).ok().and_then(|t| {
            let last = t.lines().last()?.to_string();
            let mut parts = last.split_whitespace().map(|p| p.parse::<f64>().ok());
            Some(parts.next()?? + parts.next()??)
        });
        (ran, cpu)
    };
    let (ran, cpu) = if Path::new("/usr/bin/time").exists() {
        cpu_of(run(under_time(&cmd, "%U %S", report.path())))
    } else {
        (run(cmd), None)
    };
    let servers = before.zip(own_cpu()).map(|(b, a)| a - b);
    Measured { ran, cpu, servers }
}

fn median_f(mut v: Vec<f64>) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    let n = v.len();
    Some(if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    })
}

/// `cpu 1.234 s` of the medians of the samples that have one.
fn cpu_text(label: &str, samples: &[Option<f64>]) -> String {
    median_f(samples.iter().flatten().copied().collect())
        .map_or(String::new(), |c| format!("; {label} {c:.3} s"))
}

/// A sandbox seeded with the 1x synthetic cluster, its token Secrets filled, and a kubeconfig
/// whose context, cluster and user are called `name`.
fn seeded_sandbox(objects: &[Value], dir: &Path, name: &str) -> (Sandbox, Value) {
    let sandbox = Sandbox::start(Config {
        token_controller_delay: Duration::ZERO,
        ..Config::default()
    })
    .expect("sandbox starts");
    sandbox
        .seed(objects.to_vec())
        .expect("the synthetic cluster seeds");
    let deadline = Instant::now() + Duration::from_secs(120);
    while sandbox
        .objects("", "secrets")
        .iter()
        .any(|s| s["type"] == "kubernetes.io/service-account-token" && s["data"]["token"].is_null())
    {
        assert!(Instant::now() < deadline, "token Secrets are filled");
        std::thread::sleep(Duration::from_millis(200));
    }
    let mut config = cicd_sandbox::seed::parse_documents(&sandbox.kubeconfig("admin", "default"))
        .expect("kubeconfig parses")
        .remove(0);
    config["clusters"][0]["name"] = json!(name);
    config["users"][0]["name"] = json!(name);
    config["contexts"][0]["name"] = json!(name);
    config["contexts"][0]["context"]["cluster"] = json!(name);
    config["contexts"][0]["context"]["user"] = json!(name);
    config["current-context"] = json!(name);
    std::fs::write(
        dir.join(format!("{name}.kubeconfig")),
        serde_json::to_string(&config).unwrap(),
    )
    .unwrap();
    (sandbox, config)
}

/// (f) `audit -f` of the synthetic cluster as one multi-document YAML file: time and peak
/// memory; (g) the live `audit -A -o json` of it: peak memory; (h) `audit --all-contexts` over
/// two such clusters and one unreachable context, next to each cluster's own audit, median of
/// alternating runs: target at most 1.5 times the slowest single audit. Each command's CPU
/// (user + system) is shown too, and the sandboxes' CPU (this process's) while it ran: on a
/// machine with few cores, two audits and two servers at once share them.
fn print_sources_and_fleet(reps: usize) {
    println!("\n(f)-(h) audit from files, its memory, and a fleet of three contexts");
    let objects = generate(1);
    let dir = tempfile::tempdir().expect("temp dir");
    let yaml: String = objects
        .iter()
        .map(|o| format!("---\n{}", serde_saphyr::to_string(o).expect("YAML")))
        .collect();
    let file = dir.path().join("synthetic.yaml");
    std::fs::write(&file, &yaml).expect("written");
    let plugin = |args: &[&str], kubeconfig: &Path| {
        let mut cmd = Command::new(plugin_binary());
        cmd.args(args)
            .env("KUBECONFIG", kubeconfig)
            .env("HOME", dir.path())
            .env("NO_COLOR", "1");
        cmd
    };
    let none = dir.path().join("none.kubeconfig");
    let file_arg = file.display().to_string();
    let from_file = [
        "audit",
        "-f",
        file_arg.as_str(),
        "-o",
        "json",
        "--fail-on",
        "none",
        "--allow-gaps",
    ];
    let (mut file_times, mut file_cpu) = (Vec::new(), Vec::new());
    for _ in 0..reps {
        let m = run_measured(plugin(&from_file, &none));
        assert_eq!(m.ran.code, Some(0), "audit -f: {}", m.ran.stderr);
        file_times.push(m.ran.took);
        file_cpu.push(m.cpu);
    }
    let file_memory = peak_memory(plugin(&from_file, &none)).map(|(kb, _)| kb);
    let mb = |kb: Option<u64>| {
        kb.map_or("not measured (no /usr/bin/time)".to_string(), |kb| {
            format!("{:.1} MB", kb as f64 / 1024.0)
        })
    };
    println!(
        "(f) audit -f of {} objects in one {:.1} MB YAML file: {} (range {}){}; peak memory {}; target under 0.5 s: {}",
        objects.len(),
        yaml.len() as f64 / 1e6,
        secs(median(file_times.clone())),
        spread(&file_times),
        cpu_text("CPU", &file_cpu),
        mb(file_memory),
        if median(file_times) < Duration::from_millis(500) {
            "MET"
        } else {
            "MISSED"
        }
    );

    let (one, config_one) = seeded_sandbox(&objects, dir.path(), "one");
    let (_two, config_two) = seeded_sandbox(&objects, dir.path(), "two");
    let live = ["audit", "-A", "-o", "json", "--fail-on", "none"];
    let kube_one = dir.path().join("one.kubeconfig");
    let live_memory = peak_memory(plugin(&live, &kube_one)).map(|(kb, ran)| {
        assert_eq!(ran.code, Some(0), "live audit: {}", ran.stderr);
        kb
    });
    println!(
        "(g) audit -A -o json of the live {}-object cluster: peak memory {}; target under 100 MB: {}",
        objects.len(),
        mb(live_memory),
        match live_memory {
            Some(kb) if kb < 100 * 1024 => "MET",
            Some(_) => "MISSED",
            None => "not measured",
        }
    );
    let _keep = one;

    // The fleet's kubeconfig: both clusters and a context whose server nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut fleet = config_one.clone();
    let mut down = config_two.clone();
    for (key, name) in [
        ("clusters", "down"),
        ("users", "down"),
        ("contexts", "down"),
    ] {
        down[key][0]["name"] = json!(name);
    }
    down["contexts"][0]["context"] = json!({"cluster": "down", "user": "down"});
    down["clusters"][0]["cluster"]["server"] = json!(format!("https://127.0.0.1:{port}"));
    for key in ["clusters", "users", "contexts"] {
        for extra in [&config_two, &down] {
            let items = extra[key].as_array().unwrap().clone();
            fleet[key].as_array_mut().unwrap().extend(items);
        }
    }
    let kube_fleet = dir.path().join("fleet.kubeconfig");
    std::fs::write(&kube_fleet, serde_json::to_string(&fleet).unwrap()).unwrap();
    let single = |context: &str| {
        let mut cmd = plugin(
            &[
                "audit",
                "-A",
                "-o",
                "json",
                "--fail-on",
                "none",
                "--context",
                context,
            ],
            &kube_fleet,
        );
        cmd.env("KUBECONFIG", &kube_fleet);
        cmd
    };
    let all = [
        "audit",
        "--all-contexts",
        "-A",
        "-o",
        "json",
        "--fail-on",
        "none",
    ];
    // Each run: wall time, the command's CPU, and the servers' CPU (this process) meanwhile.
    #[derive(Default)]
    struct Runs {
        took: Vec<Duration>,
        cpu: Vec<Option<f64>>,
        servers: Vec<Option<f64>>,
    }
    impl Runs {
        fn push(&mut self, m: Measured) -> Ran {
            self.took.push(m.ran.took);
            self.cpu.push(m.cpu);
            self.servers.push(m.servers);
            m.ran
        }
        fn text(&self) -> String {
            format!(
                "{} (range {}){}{}",
                secs(median(self.took.clone())),
                spread(&self.took),
                cpu_text("CPU", &self.cpu),
                cpu_text("servers' CPU", &self.servers)
            )
        }
    }
    let (mut one_t, mut two_t, mut fleet_t, mut down_t) = (
        Runs::default(),
        Runs::default(),
        Runs::default(),
        Runs::default(),
    );
    for _ in 0..reps {
        let ran = one_t.push(run_measured(single("one")));
        assert_eq!(ran.code, Some(0), "{}", ran.stderr);
        let ran = two_t.push(run_measured(single("two")));
        assert_eq!(ran.code, Some(0), "{}", ran.stderr);
        let ran = fleet_t.push(run_measured(plugin(&all, &kube_fleet)));
        assert_eq!(
            ran.code,
            Some(4),
            "the fleet names the unreachable cluster: {}",
            ran.stderr
        );
        // Not part of the comparison: how long the unreachable context takes to give up.
        let ran = down_t.push(run_measured(single("down")));
        assert_eq!(ran.code, Some(2), "{}", ran.stderr);
    }
    let (one_m, two_m, fleet_m) = (
        median(one_t.took.clone()),
        median(two_t.took.clone()),
        median(fleet_t.took.clone()),
    );
    let slowest = one_m.max(two_m);
    let ratio = fleet_m.as_secs_f64() / slowest.as_secs_f64();
    println!("(h) audit -A of context one: {}", one_t.text());
    println!("    audit -A of context two: {}", two_t.text());
    println!(
        "    audit -A of context down (unreachable, fails): {}",
        down_t.text()
    );
    println!(
        "    audit --all-contexts -A (one, two, and down: unreachable): {}, {ratio:.2}x the slowest single; target at most 1.5x: {}",
        fleet_t.text(),
        if ratio <= 1.5 { "MET" } else { "MISSED" }
    );
}

/// (e): the `--sa` matrix at 5,000 and 10,000 rules, and whether it scales near-linearly.
fn print_matrix_scaling(reps: usize) {
    let [(t1, rows1), (t2, rows2)] = [5_000, 10_000].map(|n| matrix_time(n, 2 * reps + 1));
    println!("--sa matrix, 5,000 rules: {} ({rows1} rows)", secs(t1));
    println!("--sa matrix, 10,000 rules: {} ({rows2} rows)", secs(t2));
    let scaling = t2.as_secs_f64() / t1.as_secs_f64();
    println!(
        "target: --sa matrix near-linear (2x the rules, at most {TARGET_SCALING}x the time): {} ({scaling:.3}x)",
        if scaling <= TARGET_SCALING {
            "MET"
        } else {
            "MISSED"
        }
    );
}

/// The access matrix of ServiceAccount `team-a/big`, bound to a Role of `rules` rules (one
/// resource each): median of `reps` runs, and the number of rows.
fn matrix_time(rules: usize, reps: usize) -> (Duration, usize) {
    let role_rules: Vec<Value> = (0..rules)
        .map(|i| rule(&["example.com"], &[&format!("kind{i}")], &["get", "list"]))
        .collect();
    let objects = vec![
        json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "big", "namespace": "team-a"}}),
        json!({"apiVersion": RBAC, "kind": "Role", "metadata": {"name": "big", "namespace": "team-a"}, "rules": role_rules}),
        json!({"apiVersion": RBAC, "kind": "RoleBinding", "metadata": {"name": "big", "namespace": "team-a"},
               "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "big"},
               "subjects": [{"kind": "ServiceAccount", "name": "big", "namespace": "team-a"}]}),
    ];
    let snap = snapshot::from_objects(&objects, "2026-11-27T12:00:00Z");
    let mut times = Vec::new();
    let mut rows = 0;
    for _ in 0..reps {
        let started = Instant::now();
        let m = kubectl_cicd::audit::matrix::access_matrix(&snap, "team-a", "big");
        times.push(started.elapsed());
        rows = m.rows.len();
        std::hint::black_box(m);
    }
    (median(times), rows)
}

/// The audit's steps in this process, median of `reps` runs each: reading the cluster
/// (requests and decoding), building the snapshot, the analysis, rendering JSON.
fn phases(bench: &Bench, reps: usize) -> Vec<(&'static str, Duration)> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let mut gather_t = Vec::new();
    let mut analyze_t = Vec::new();
    let mut render_t = Vec::new();
    for _ in 0..reps {
        let started = Instant::now();
        let gathered = rt.block_on(async {
            let kubeconfig =
                kube::config::Kubeconfig::read_from(&bench.kubeconfig).expect("kubeconfig");
            let config = kube::Config::from_custom_kubeconfig(kubeconfig, &Default::default())
                .await
                .expect("kube config");
            let cluster = Cluster::connect(config).expect("client");
            gather::gather(&cluster, kubectl_cicd::cluster::Namespaces::All)
                .await
                .expect("gather")
        });
        gather_t.push(started.elapsed());
        let taken_at = "2026-11-27T12:00:00Z";
        let snap = gathered.snapshot;
        let scope = Scope {
            namespaces: Vec::new(),
            all_namespaces: true,
            service_account: None,
        };
        let started = Instant::now();
        let findings = analyze::analyze(&snap, &scope, &analyze::Options::default());
        let summary = analyze::summarize(&findings);
        analyze_t.push(started.elapsed());
        let report = Report {
            scope,
            generated_at: taken_at.into(),
            generated_by: "admin".into(),
            cluster: "sandbox".into(),
            findings,
            gaps: Vec::new(),
            summary,
            ..Report::default()
        };
        let started = Instant::now();
        let text = output::json::render(
            &report,
            &output::Context {
                server: bench.sandbox.url(),
                context: "admin@sandbox",
                fail_on: None,
                requests: gathered.requests,
                matrix: None,
                allow_gaps: false,
            },
        );
        render_t.push(started.elapsed());
        std::hint::black_box(text);
    }
    vec![
        ("gather (requests, decoding, snapshot)", median(gather_t)),
        ("analyze + summarize", median(analyze_t)),
        ("render JSON", median(render_t)),
    ]
}

/// The sandbox's read path under load: raw GETs of the largest lists in the forms clients
/// ask for (kubectl -o json: plain JSON; kubectl's tables: Table; the audit: metadata-only),
/// timed to the last byte received, without decoding. Median of `reps`; with the size.
fn read_path(bench: &Bench, reps: usize) -> Vec<(&'static str, Duration, usize)> {
    const TABLE: &str = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json";
    const METADATA: &str =
        "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json";
    let cases: [(&str, &str, &str); 4] = [
        (
            "10k RoleBindings as JSON",
            "/apis/rbac.authorization.k8s.io/v1/rolebindings",
            "application/json",
        ),
        (
            "10k RoleBindings as a Table",
            "/apis/rbac.authorization.k8s.io/v1/rolebindings",
            TABLE,
        ),
        (
            "5k token Secrets metadata-only",
            "/api/v1/secrets?fieldSelector=type%3Dkubernetes.io%2Fservice-account-token",
            METADATA,
        ),
        (
            "5k ServiceAccounts metadata-only",
            "/api/v1/serviceaccounts",
            METADATA,
        ),
    ];
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    rt.block_on(async {
        let kubeconfig =
            kube::config::Kubeconfig::read_from(&bench.kubeconfig).expect("kubeconfig");
        let config = kube::Config::from_custom_kubeconfig(kubeconfig, &Default::default())
            .await
            .expect("kube config");
        let client = kube::Client::try_from(config).expect("client");
        let mut out = Vec::new();
        for (name, path, accept) in cases {
            let mut times = Vec::new();
            let mut bytes = 0;
            for _ in 0..reps {
                let request = http::Request::get(path)
                    .header(http::header::ACCEPT, accept)
                    .body(Vec::new())
                    .expect("request");
                let started = Instant::now();
                let text = client.request_text(request).await.expect("list answered");
                times.push(started.elapsed());
                bytes = text.len();
            }
            out.push((name, median(times), bytes));
        }
        out
    })
}

/// Median times of `from_objects` + `analyze` over each object set, and the number of
/// findings. The sets take turns run by run, so that drift in the machine's load hits them
/// alike; one untimed run of each first.
fn analysis_times(sets: [&[Value]; 2], taken_at: &str, reps: usize) -> [(Duration, usize); 2] {
    let scope = Scope {
        namespaces: Vec::new(),
        all_namespaces: true,
        service_account: None,
    };
    let mut times = [Vec::new(), Vec::new()];
    let mut findings = [0, 0];
    for round in 0..=reps {
        for (i, objects) in sets.iter().enumerate() {
            let started = Instant::now();
            let snap = snapshot::from_objects(objects, taken_at);
            let result = analyze::analyze(&snap, &scope, &analyze::Options::default());
            let took = started.elapsed();
            if round > 0 {
                times[i].push(took);
            }
            findings[i] = result.len();
            std::hint::black_box((snap, result));
        }
    }
    let [one, two] = times;
    [(median(one), findings[0]), (median(two), findings[1])]
}

// ---------------------------------------------------------------------------------------
// End to end on both servers: the sandbox and the real control plane (kube-apiserver 1.37
// from tests/cluster), each holding the 1x and then the 2x synthetic cluster, created through
// the API on the real one.

enum Server {
    Sandbox(Sandbox),
    Real(Box<cicd_cluster::Cluster>),
}

impl Server {
    /// Requests the administrator's clients sent so far (the launcher's own are not logged).
    fn requests(&self) -> usize {
        match self {
            Server::Sandbox(s) => s.request_log().len(),
            Server::Real(c) => c
                .audit_events()
                .iter()
                .filter(|e| e.user == "admin")
                .count(),
        }
    }

    fn write_kubeconfigs(&self, dir: &std::path::Path) -> Vec<PathBuf> {
        match self {
            Server::Sandbox(s) => s.write_kubeconfigs(dir),
            Server::Real(c) => c.write_kubeconfigs(dir),
        }
        .expect("kubeconfigs")
    }

    /// Token Secrets the token controller has not filled yet.
    fn unfilled_tokens(&self) -> usize {
        let secrets = match self {
            Server::Sandbox(s) => s.objects("", "secrets"),
            Server::Real(c) => c
                .get_json(
                    "/api/v1/secrets?fieldSelector=type%3Dkubernetes.io%2Fservice-account-token",
                )
                .and_then(|l| l["items"].as_array().cloned())
                .unwrap_or_default(),
        };
        secrets
            .iter()
            .filter(|s| {
                s["type"] == "kubernetes.io/service-account-token" && s["data"]["token"].is_null()
            })
            .count()
    }
}

struct EndToEnd {
    seeding: Duration,
    objects: usize,
    audit: Vec<Duration>,
    audit_requests: usize,
    kubectl: Vec<Duration>,
    kubectl_requests: usize,
}

/// Starts a server, fills it with `objects` (timed), waits for its token controller, then times
/// `audit -A -o json` and kubectl's raw fetch, alternating, `reps` times each.
fn end_to_end(real: bool, objects: Vec<Value>, reps: usize, kubectl: bool) -> EndToEnd {
    let count = objects.len();
    let started;
    let server = if real {
        let cluster = cicd_cluster::Cluster::start(cicd_cluster::Options {
            audit_metadata_only: true,
            ..cicd_cluster::Options::default()
        })
        .expect("the real control plane starts");
        started = Instant::now();
        cluster
            .create_many(objects)
            .expect("the synthetic cluster is created through the API");
        Server::Real(Box::new(cluster))
    } else {
        let sandbox = Sandbox::start(Config {
            token_controller_delay: Duration::ZERO,
            ..Config::default()
        })
        .expect("sandbox starts");
        started = Instant::now();
        sandbox.seed(objects).expect("the synthetic cluster seeds");
        Server::Sandbox(sandbox)
    };
    let seeding = started.elapsed();
    let waiting = Instant::now();
    while server.unfilled_tokens() > 0 {
        assert!(
            waiting.elapsed() < Duration::from_secs(600),
            "token Secrets still unfilled after 10 minutes"
        );
        std::thread::sleep(Duration::from_millis(500));
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let kubeconfig = server
        .write_kubeconfigs(dir.path())
        .into_iter()
        .find(|p| p.ends_with("admin.kubeconfig"))
        .expect("admin kubeconfig");
    let bench = |program: PathBuf, args: &[&str]| {
        let mut cmd = Command::new(program);
        cmd.args(args)
            .env("KUBECONFIG", &kubeconfig)
            .env("HOME", dir.path())
            .env("NO_COLOR", "1");
        cmd
    };
    let audit_cmd = || bench(plugin_binary(), &["audit", "-A", "-o", "json"]);
    let kubectl_cmd = |args: &[&str]| {
        let cache = dir.path().join("kube-cache");
        let mut all = vec!["--cache-dir", cache.to_str().unwrap()];
        all.extend_from_slice(args);
        bench(PathBuf::from("kubectl"), &all)
    };
    // Warm-up, untimed (kubectl's discovery cache, the servers' caches).
    let warm = run(audit_cmd());
    assert!(
        matches!(warm.code, Some(0 | 1)),
        "audit failed: {}",
        warm.stderr
    );
    if kubectl {
        for args in kubectl_commands() {
            let ran = run(kubectl_cmd(&args));
            assert_eq!(ran.code, Some(0), "kubectl {args:?} failed: {}", ran.stderr);
        }
    }
    let mut result = EndToEnd {
        seeding,
        objects: count,
        audit: Vec::new(),
        audit_requests: 0,
        kubectl: Vec::new(),
        kubectl_requests: 0,
    };
    for _ in 0..reps {
        let from = server.requests();
        let ran = run(audit_cmd());
        assert!(
            matches!(ran.code, Some(0 | 1)),
            "audit failed: {}",
            ran.stderr
        );
        result.audit.push(ran.took);
        result.audit_requests = server.requests() - from;
        if kubectl {
            let from = server.requests();
            let mut total = Duration::ZERO;
            for args in kubectl_commands() {
                let ran = run(kubectl_cmd(&args));
                assert_eq!(ran.code, Some(0), "kubectl {args:?} failed: {}", ran.stderr);
                total += ran.took;
            }
            result.kubectl.push(total);
            result.kubectl_requests = server.requests() - from;
        }
    }
    result
}

/// The end-to-end table: sandbox and real control plane, 1x and 2x, side by side.
fn both_servers(one: &[Value], reps: usize, kubectl: bool) {
    if std::env::var("CICD_SKIP_REAL").is_ok_and(|v| v == "1") {
        println!(
            "CICD_SKIP_REAL=1: the end-to-end comparison with the real control plane is skipped"
        );
        return;
    }
    println!();
    println!("end to end on both servers (this takes several minutes: the real control plane");
    println!("gets its objects through the API, 16 requests at a time)");
    let two = generate(2);
    let columns = [
        ("sandbox 1x", false, one.to_vec()),
        ("sandbox 2x", false, two.clone()),
        ("real 1x", true, one.to_vec()),
        ("real 2x", true, two),
    ];
    let mut results = Vec::new();
    for (name, real, objects) in columns {
        let r = end_to_end(real, objects, reps, kubectl);
        println!(
            "  {name}: {} objects in {} ({:.0}/s), audit median {}",
            r.objects,
            secs(r.seeding),
            r.objects as f64 / r.seeding.as_secs_f64(),
            secs(median(r.audit.clone()))
        );
        results.push((name, r));
    }
    let cell = |f: &dyn Fn(&EndToEnd) -> String| -> String {
        results
            .iter()
            .map(|(_, r)| format!("{:>14}", f(r)))
            .collect::<String>()
    };
    println!();
    println!(
        "{:<40}{}",
        "end to end (median of runs)",
        results
            .iter()
            .map(|(n, _)| format!("{n:>14}"))
            .collect::<String>()
    );
    println!("{}", "-".repeat(96));
    println!(
        "{:<40}{}",
        "objects created",
        cell(&|r| r.objects.to_string())
    );
    println!("{:<40}{}", "creating them", cell(&|r| secs(r.seeding)));
    println!(
        "{:<40}{}",
        "(a) audit -A -o json",
        cell(&|r| secs(median(r.audit.clone())))
    );
    println!(
        "{:<40}{}",
        "    its requests",
        cell(&|r| r.audit_requests.to_string())
    );
    if kubectl {
        println!(
            "{:<40}{}",
            "(b) kubectl raw fetch (both commands)",
            cell(&|r| secs(median(r.kubectl.clone())))
        );
        println!(
            "{:<40}{}",
            "    its requests",
            cell(&|r| r.kubectl_requests.to_string())
        );
        println!(
            "{:<40}{}",
            format!("(c) ratio (a)/(b), target <= {TARGET_RATIO}"),
            cell(&|r| format!(
                "{:.3}x",
                median(r.audit.clone()).as_secs_f64() / median(r.kubectl.clone()).as_secs_f64()
            ))
        );
    }
    println!("{}", "-".repeat(96));
    let audit_of = |i: usize| median(results[i].1.audit.clone()).as_secs_f64();
    println!(
        "audit 2x / 1x end to end: sandbox {:.3}x, real control plane {:.3}x (target <= {TARGET_SCALING})",
        audit_of(1) / audit_of(0),
        audit_of(3) / audit_of(2)
    );
}
