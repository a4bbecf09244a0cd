//! `kubectl cicd audit` beyond one live cluster: RBAC in files (`-f`, with file and line in
//! every output, and `--with-cluster`), against a baseline report (`--baseline`), and across
//! the contexts of a kubeconfig (`--contexts`, `--all-contexts`).

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::audit::{assert_valid_sarif, sarif_validator};
use crate::common::{Env, Run};
use cicd_sandbox::seed::parse_documents;
use serde_json::{Value, json};

fn twins_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/audit/twins.yaml")
}

fn json_of(run: &Run) -> Value {
    serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {run:?}"))
}

/// `kubectl-cicd ARGS` with no cluster at all (no kubeconfig anywhere), `stdin` piped in.
fn offline(env: &Env, args: &[&str], stdin: Option<&str>) -> Run {
    let mut child = Command::new(env!("CARGO_BIN_EXE_kubectl-cicd"))
        .args(args)
        .current_dir(env.path(""))
        .env("KUBECONFIG", env.path("no-such-kubeconfig"))
        .env("HOME", env.path(""))
        .env("NO_COLOR", "1")
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("kubectl-cicd runs");
    if let Some(text) = stdin {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(text.as_bytes())
            .unwrap();
    }
    env.finish(child.wait_with_output().expect("kubectl-cicd finishes"))
}

type Key = (String, String, String, Option<String>, String);

/// (rule, severity, subject kind, namespace, name) of the findings about the twins fixture.
fn twin_findings(report: &Value) -> BTreeSet<Key> {
    report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| {
            let name = f["subject"]["name"].as_str().unwrap_or_default();
            let ns = f["subject"]["namespace"].as_str().unwrap_or_default();
            ns == "audit-twins"
                || name.starts_with("pos-")
                || name.starts_with("neg-")
                || ns.starts_with("pos-")
                || ns.starts_with("neg-")
        })
        .map(|f| {
            let s = |v: &Value| v.as_str().unwrap_or_default().to_string();
            (
                s(&f["rule"]),
                s(&f["severity"]),
                s(&f["subject"]["kind"]),
                f["subject"]["namespace"].as_str().map(str::to_string),
                s(&f["subject"]["name"]),
            )
        })
        .collect()
}

on_both_servers! {
/// The twins fixture audited live, from the file, and from the file together with the live
/// cluster: the same findings (rules, severities, subjects). From the file alone, the one
/// binding to a Role nobody has (the missing-role twin) cannot be judged without the cluster:
/// it is a stated gap instead of a finding.
fn the_same_objects_from_files_and_live_give_the_same_findings(env) {
    env.seed(parse_documents(&std::fs::read_to_string(twins_path()).unwrap()).unwrap());
    env.wait_for_settled_namespaces();
    let twins = twins_path().display().to_string();
    let live = env.plugin_as("admin", &["audit", "-A", "-o", "json", "--fail-on", "none"]);
    assert!(live.ok(), "{live:?}");
    let live = json_of(&live);

    let files = offline(&env, &["audit", "-f", &twins, "-o", "json", "--fail-on", "none"], None);
    assert_eq!(files.code, Some(3), "a gap, not accepted: {files:?}");
    let files = json_of(&files);
    let only_live: Vec<Key> = twin_findings(&live)
        .difference(&twin_findings(&files))
        .cloned()
        .collect();
    assert_eq!(
        only_live,
        [(
            "missing-role".to_string(),
            "medium".to_string(),
            "RoleBinding".to_string(),
            Some("audit-twins".to_string()),
            "pos-missing-role".to_string()
        )],
    );
    assert!(twin_findings(&files).is_subset(&twin_findings(&live)));
    let gaps = files["gaps"].as_array().unwrap();
    assert_eq!(gaps.len(), 1, "{gaps:?}");
    assert!(
        gaps[0].as_str().unwrap().starts_with(
            "Role audit-twins/audit-twins-no-such-role: not in the files (bound by RoleBinding audit-twins/pos-missing-role)"
        ),
        "{gaps:?}"
    );
    // Every finding points at the line of its object in the file.
    let text = std::fs::read_to_string(twins_path()).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    for f in files["findings"].as_array().unwrap() {
        let at = &f["location"];
        assert_eq!(at["file"], twins.as_str(), "{f:#}");
        let line = at["line"].as_u64().unwrap() as usize;
        assert!(line >= 1 && line <= lines.len(), "{f:#}");
        let doc_start = lines[line - 1];
        assert!(
            doc_start.starts_with("apiVersion:") || doc_start.starts_with("kind:"),
            "line {line} of the fixture starts a document: {doc_start:?} ({f:#})"
        );
    }

    let with_cluster = env.plugin_as(
        "admin",
        &["audit", "-A", "-f", &twins, "--with-cluster", "-o", "json", "--fail-on", "none"],
    );
    assert!(with_cluster.ok(), "{with_cluster:?}");
    let with_cluster = json_of(&with_cluster);
    assert_eq!(twin_findings(&with_cluster), twin_findings(&live));
    assert!(
        with_cluster["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["subject"]["namespace"] == "audit-twins")
            .all(|f| f["location"]["file"] == twins.as_str()),
        "the files' objects keep their locations"
    );
}
}

/// `helm template` output, as helm 3 writes it: a `---` and a `# Source:` comment before each
/// rendered template.
const HELM_RENDERED: &str = "---
# Source: deployer/templates/serviceaccount.yaml
apiVersion: v1
kind: ServiceAccount
metadata:
  name: release-deployer
  labels:
    helm.sh/chart: deployer-0.1.0
---
# Source: deployer/templates/role.yaml
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: release-deployer
rules:
  - apiGroups: [apps]
    resources: [deployments]
    verbs: [get, list, create, update, patch]
---
# Source: deployer/templates/clusterrolebinding.yaml
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: release-deployer
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: release-deployer-all
subjects:
  - kind: ServiceAccount
    name: release-deployer
    namespace: shop
---
# Source: deployer/templates/clusterrole.yaml
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: release-deployer-all
rules:
  - apiGroups: ['']
    resources: [secrets]
    verbs: [get, list]
";

#[test]
fn a_rendered_chart_with_a_cluster_role_binding_fails_with_file_and_line_in_sarif() {
    let env = crate::common::env();
    let chart = env.path("rendered.yaml");
    std::fs::write(&chart, HELM_RENDERED).unwrap();
    let run = offline(&env, &["audit", "-f", "rendered.yaml", "-o", "sarif"], None);
    assert_eq!(run.code, Some(1), "high findings fail the gate: {run:?}");
    let log = json_of(&run);
    assert_valid_sarif(&sarif_validator(), &log);
    let results = log["runs"][0]["results"].as_array().unwrap();
    let binding = results
        .iter()
        .find(|r| r["ruleId"] == "cluster-wide-binding")
        .unwrap_or_else(|| panic!("cluster-wide-binding: {log:#}"));
    let at = &binding["locations"][0]["physicalLocation"];
    assert_eq!(at["artifactLocation"]["uri"], "rendered.yaml");
    // The ClusterRoleBinding's document starts after its `# Source:` comment.
    let line = at["region"]["startLine"].as_u64().unwrap() as usize;
    assert_eq!(
        HELM_RENDERED.lines().nth(line - 1),
        Some("apiVersion: rbac.authorization.k8s.io/v1")
    );
    assert_eq!(
        HELM_RENDERED.lines().nth(line),
        Some("kind: ClusterRoleBinding")
    );
    let secrets = results
        .iter()
        .find(|r| r["ruleId"] == "secrets-read")
        .unwrap_or_else(|| panic!("secrets-read: {log:#}"));
    assert_eq!(
        secrets["locations"][0]["physicalLocation"]["region"]["startLine"], line,
        "the finding points at the binding that grants it"
    );
}

#[test]
fn kustomize_output_on_stdin_and_a_folder_of_manifests_are_audited() {
    let env = crate::common::env();
    let base = env.path("kustomize");
    std::fs::create_dir_all(&base).unwrap();
    std::fs::write(
        base.join("kustomization.yaml"),
        "namespace: shop\nresources: [rbac.yaml]\n",
    )
    .unwrap();
    std::fs::write(
        base.join("rbac.yaml"),
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {name: pods-exec}\nrules:\n- {apiGroups: [''], resources: [pods/exec], verbs: [create]}\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: ci}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: pods-exec}\nsubjects: [{kind: ServiceAccount, name: ci}]\n",
    )
    .unwrap();
    let built = env.kubectl(
        &env.kubeconfig("admin"),
        &["kustomize", &base.display().to_string()],
        None,
    );
    assert!(built.ok(), "kubectl kustomize: {built:?}");
    let run = offline(
        &env,
        &["audit", "-f", "-", "-o", "json", "--fail-on", "none"],
        Some(&built.stdout),
    );
    assert!(run.ok(), "{run:?}");
    let report = json_of(&run);
    let exec: Vec<&Value> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "pod-exec")
        .collect();
    assert_eq!(exec.len(), 1, "{report:#}");
    assert_eq!(
        exec[0]["subject"]["namespace"], "shop",
        "kustomize set the namespace"
    );
    assert_eq!(exec[0]["location"]["file"], "-");

    // The folder itself: every .yaml under it (kustomization.yaml holds no object kind the
    // audit reads), the same finding, now at rbac.yaml's binding.
    let run = offline(
        &env,
        &[
            "audit",
            "-f",
            "kustomize",
            "-n",
            "default",
            "-o",
            "json",
            "--fail-on",
            "none",
        ],
        None,
    );
    assert!(run.ok(), "{run:?}");
    let report = json_of(&run);
    let exec = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "pod-exec")
        .unwrap_or_else(|| panic!("{report:#}"));
    assert_eq!(exec["location"]["file"], "kustomize/rbac.yaml");
    assert_eq!(exec["location"]["line"], 7);
}

#[test]
fn a_file_of_five_thousand_documents_is_read_whole() {
    let env = crate::common::env();
    let mut text = String::new();
    for i in 0..5_000 {
        text.push_str(&format!(
            "---\napiVersion: v1\nkind: ServiceAccount\nmetadata: {{name: sa-{i}, namespace: bulk}}\n"
        ));
    }
    let last_line = text.lines().count() + 2;
    text.push_str("---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {name: last}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: everything}\nsubjects: [{kind: ServiceAccount, name: sa-4999, namespace: bulk}]\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: everything}\nrules: [{apiGroups: ['*'], resources: ['*'], verbs: ['*']}]\n");
    std::fs::write(env.path("bulk.yaml"), &text).unwrap();
    let run = offline(
        &env,
        &[
            "audit",
            "-f",
            "bulk.yaml",
            "-o",
            "json",
            "--fail-on",
            "none",
        ],
        None,
    );
    assert!(run.ok(), "{run:?}");
    assert!(
        run.stderr.contains("Read 5002 objects from 1 file"),
        "{run:?}"
    );
    let report = json_of(&run);
    let admin = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "cluster-admin-binding")
        .unwrap_or_else(|| panic!("{report:#}"));
    assert_eq!(admin["subject"]["name"], "sa-4999");
    assert_eq!(admin["location"]["line"], last_line);
    // 4,999 ServiceAccounts without any binding.
    let unused = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "unused-identity")
        .count();
    assert_eq!(unused, 4_999);
}

#[test]
fn files_that_cannot_be_audited_are_usage_errors_that_name_them() {
    let env = crate::common::env();
    std::fs::write(env.path("broken.yaml"), "kind: Role\nmetadata: {name: r\n").unwrap();
    std::fs::write(env.path("list.yaml"), "---\n- a\n- b\n").unwrap();
    std::fs::create_dir_all(env.path("empty")).unwrap();
    std::fs::write(env.path("base.json"), "{\"kind\": \"Status\"}").unwrap();
    let cases: &[(&[&str], &str)] = &[
        (
            &["-f", "nothing-here.yaml"],
            "cannot read nothing-here.yaml: no such file or folder",
        ),
        (&["-f", "broken.yaml"], "broken.yaml:1: not valid YAML"),
        (
            &["-f", "list.yaml"],
            "list.yaml:2: a document is not a Kubernetes object",
        ),
        (
            &["-f", "empty"],
            "folder empty holds no .yaml, .yml or .json file",
        ),
        (
            &["-f", "-", "-f", "-"],
            "-f - (stdin) can be given only once",
        ),
        (
            &["-f", "list.yaml", "--baseline", "base.json"],
            "--baseline base.json: apiVersion is null",
        ),
        (&["--with-cluster"], "--filename <PATH>"),
    ];
    for (args, says) in cases {
        let run = offline(&env, &[&["audit"], *args].concat(), Some(""));
        assert_eq!(run.code, Some(2), "{args:?}: {run:?}");
        assert!(run.stdout.is_empty(), "{args:?}: {run:?}");
        assert!(run.stderr.contains(says), "{args:?}: {run:?}");
    }
}

on_both_servers! {
/// A baseline taken before a change that adds one risky binding: exactly one new finding, and
/// `--fail-on high` fails; without the change the same gate passes.
fn only_findings_new_since_the_baseline_fail_the_gate(env) {
    let ns = env.ns().to_string();
    env.seed(parse_documents(&format!(
        "apiVersion: v1\nkind: ServiceAccount\nmetadata: {{name: deployer, namespace: {ns}}}\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {{name: wide, namespace: {ns}}}\nrules: [{{apiGroups: ['*'], resources: ['*'], verbs: ['*']}}]\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {{name: old-wide, namespace: {ns}}}\nroleRef: {{apiGroup: rbac.authorization.k8s.io, kind: Role, name: wide}}\nsubjects: [{{kind: ServiceAccount, name: deployer, namespace: {ns}}}]\n"
    )).unwrap());
    let before = env.plugin_as("admin", &["audit", "-n", &ns, "-o", "json"]);
    assert_eq!(before.code, Some(1), "the existing wide binding fails without a baseline: {before:?}");
    std::fs::write(env.path("baseline.json"), &before.stdout).unwrap();
    let baseline = env.path("baseline.json").display().to_string();

    let same = env.plugin_as("admin", &["audit", "-n", &ns, "--baseline", &baseline, "--fail-on", "high", "-o", "json"]);
    assert_eq!(same.code, Some(0), "nothing new: {same:?}");
    let report = json_of(&same);
    assert_eq!(report["baseline"]["new"], 0);
    assert!(report["findings"].as_array().unwrap().iter().all(|f| f["baselineState"] == "unchanged"));

    env.seed(parse_documents(&format!(
        "apiVersion: v1\nkind: ServiceAccount\nmetadata: {{name: newcomer, namespace: {ns}}}\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {{name: new-secrets, namespace: {ns}}}\nroleRef: {{apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: admin}}\nsubjects: [{{kind: ServiceAccount, name: newcomer, namespace: {ns}}}]\n"
    )).unwrap());
    let after = env.plugin_as("admin", &["audit", "-n", &ns, "--baseline", &baseline, "--fail-on", "high", "-o", "json"]);
    assert_eq!(after.code, Some(1), "{after:?}");
    let report = json_of(&after);
    let new: Vec<&Value> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["baselineState"] == "new" && f["severity"] != "info" && f["severity"] != "low")
        .collect();
    assert!(!new.is_empty(), "{report:#}");
    assert!(new.iter().all(|f| f["subject"]["name"] == "newcomer"), "only the new binding's: {new:#?}");
    assert_eq!(report["baseline"]["fixed"], json!([]));

    // SARIF marks them, and the table puts them first.
    let sarif = env.plugin_as("admin", &["audit", "-n", &ns, "--baseline", &baseline, "-o", "sarif", "--fail-on", "none"]);
    let log = json_of(&sarif);
    assert_valid_sarif(&sarif_validator(), &log);
    let states: BTreeSet<&str> = log["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["baselineState"].as_str().unwrap())
        .collect();
    assert_eq!(states, BTreeSet::from(["new", "unchanged"]));
    let table = env.plugin_as("admin", &["audit", "-n", &ns, "--baseline", &baseline, "--fail-on", "none"]);
    let new_at = table.stdout.find("New since the baseline").expect(&table.stdout);
    let newcomer = table.stdout.find("newcomer").expect(&table.stdout);
    let unchanged = table.stdout.find("Unchanged since the baseline").expect(&table.stdout);
    assert!(new_at < newcomer && newcomer < unchanged, "{}", table.stdout);
}
}

/// A kubeconfig of three contexts: `admin` and `alice` on the test server, `down` on a port
/// nothing listens on.
fn fleet_kubeconfig(env: &Env) -> PathBuf {
    let doc = |user: &str| -> Value {
        parse_documents(&env.kubeconfig_text(user, env.ns()))
            .unwrap()
            .remove(0)
    };
    let (mut admin, alice) = (doc("admin"), doc("alice"));
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let mut down = alice.clone();
    down["clusters"][0]["name"] = json!("down");
    down["clusters"][0]["cluster"]["server"] = json!(format!("https://127.0.0.1:{port}"));
    down["contexts"][0]["name"] = json!("down");
    down["contexts"][0]["context"]["cluster"] = json!("down");
    admin["contexts"][0]["name"] = json!("admin");
    let mut alice = alice;
    alice["contexts"][0]["name"] = json!("alice");
    for (from, into) in [
        ("clusters", &down),
        ("users", &alice),
        ("contexts", &alice),
        ("contexts", &down),
    ] {
        let items = into[from].as_array().unwrap().clone();
        admin[from].as_array_mut().unwrap().extend(items);
    }
    let path = env.path("fleet.kubeconfig");
    std::fs::write(&path, serde_json::to_string(&admin).unwrap()).unwrap();
    path
}

on_both_servers! {
/// Three contexts, one unreachable: the two others are reported (every finding with its
/// context), the third is a stated gap, and the exit code says so.
fn a_fleet_with_an_unreachable_cluster_reports_the_others_and_exits_4(env) {
    let kubeconfig = fleet_kubeconfig(&env);
    let run = env.plugin(&kubeconfig, &["audit", "--all-contexts", "-o", "json", "--fail-on", "none"]);
    assert_eq!(run.code, Some(4), "{run:?}");
    let report = json_of(&run);
    assert_eq!(report["kind"], "FleetAuditReport");
    let contexts: Vec<&str> = report["clusters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["context"].as_str().unwrap())
        .collect();
    assert_eq!(contexts, ["admin", "alice"]);
    assert_eq!(report["notAudited"][0]["context"], "down");
    assert!(
        report["notAudited"][0]["reason"].as_str().unwrap().contains("cannot reach the API server"),
        "{report:#}"
    );
    assert_eq!(report["summary"]["audited"], 2);
    for cluster in report["clusters"].as_array().unwrap() {
        for f in cluster["findings"].as_array().unwrap() {
            assert_eq!(f["context"], cluster["context"], "{f:#}");
            assert_eq!(f["cluster"], env.cluster_name(), "{f:#}");
        }
    }
    assert!(run.stderr.contains("NOT ALL CLUSTERS (exit 4)"), "{run:?}");

    // --allow-gaps accepts the missing cluster; --contexts picks some.
    let run = env.plugin(&kubeconfig, &["audit", "--contexts", "alice,down", "--allow-gaps", "--fail-on", "none"]);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert!(run.stdout.contains("=== context alice"), "{run:?}");
    assert!(run.stdout.contains("down") && run.stdout.contains("NOT AUDITED"), "{run:?}");
    assert!(!run.stdout.contains("=== context admin"), "{run:?}");
    let sarif = env.plugin(&kubeconfig, &["audit", "--all-contexts", "-o", "sarif", "--fail-on", "none"]);
    let log = json_of(&sarif);
    assert_valid_sarif(&sarif_validator(), &log);
    let notes = log["runs"][0]["invocations"][0]["toolExecutionNotifications"].as_array().unwrap();
    assert!(notes.iter().any(|n| n["level"] == "error" && n["message"]["text"].as_str().unwrap().starts_with("context down: not audited")));
    let run = env.plugin(&kubeconfig, &["audit", "--contexts", "nope"]);
    assert_eq!(run.code, Some(2), "{run:?}");
    assert!(run.stderr.contains("the kubeconfig has no context \"nope\" (it has: admin, alice, down)"), "{run:?}");
}
}
