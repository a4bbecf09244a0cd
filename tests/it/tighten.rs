//! `kubectl cicd tighten` end to end, on the sandbox and on the real control plane: an identity
//! made with the web-app preset runs what a pipeline runs (kubectl apply of a Deployment and a
//! Service, kubectl rollout status where the server serves watch, kubectl get), and tighten
//! reads the server's own audit log (the real kube-apiserver's `--audit-log-path` file; the
//! sandbox's request log written as audit events). The real server decides what the result
//! allows: the pipeline's steps pass again, and `kubectl auth can-i` says no to what went.
//! `audit --audit-log` points at the same gap before and sees none after. Then the bad input:
//! each case a clear message, a non-zero exit, and nothing changed.

use std::path::{Path, PathBuf};

use crate::common::{Env, Run, Server, kubectl_wanted};
use kubectl_cicd::rbac::{self, Request, Rule};
use serde_json::{Value, json};

const SUBJECT_NAME: &str = "ci-cd";

fn subject(env: &Env) -> String {
    format!("system:serviceaccount:{}:{SUBJECT_NAME}", env.ns())
}

fn init_web_app(env: &Env) {
    let run = env.plugin_as("alice", &["init", "--preset", "web-app", "--yes"]);
    assert!(run.ok(), "{run:?}");
}

fn ci_kubeconfig(env: &Env) -> PathBuf {
    env.path("kubeconfig_ci_cd.yaml")
}

fn manifests(image: &str) -> String {
    format!(
        "apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 0
  selector:
    matchLabels: {{app: web}}
  template:
    metadata:
      labels: {{app: web}}
    spec:
      containers:
      - name: web
        image: registry.example/web:{image}
---
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector: {{app: web}}
  ports:
  - port: 80
"
    )
}

#[track_caller]
fn ok(run: Run, what: &str) -> Run {
    assert!(run.ok(), "{what}: {run:?}");
    run
}

/// What the pipeline does on each run, as the identity: apply, wait for the rollout (where
/// the server serves watch), get both objects.
fn pipeline(env: &Env, image: &str) {
    let ci = ci_kubeconfig(env);
    ok(
        env.kubectl(&ci, &["apply", "-f", "-"], Some(&manifests(image))),
        "kubectl apply",
    );
    if let Server::Real(cluster) = &env.server {
        // The real control plane runs no deployment controller: play it, a moment after
        // rollout status has started watching, so that it sees the rollout end through its
        // watch as it does on a cluster.
        let (cluster, ns) = (*cluster, env.ns().to_string());
        let controller = std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_millis(1500));
            observe_rollout(cluster, &ns, "web");
        });
        ok(
            env.kubectl(
                &ci,
                &["rollout", "status", "deployment/web", "--timeout=60s"],
                None,
            ),
            "kubectl rollout status",
        );
        controller.join().expect("the status is written");
    }
    ok(
        env.kubectl(&ci, &["get", "deployment", "web"], None),
        "kubectl get deployment",
    );
    ok(
        env.kubectl(&ci, &["get", "service", "web"], None),
        "kubectl get service",
    );
}

/// What the deployment controller writes once a rollout of zero replicas is done.
fn observe_rollout(cluster: &'static cicd_cluster::Cluster, ns: &str, name: &str) {
    let path = format!("/apis/apps/v1/namespaces/{ns}/deployments/{name}");
    let generation =
        cluster.get_json(&path).expect("the deployment exists")["metadata"]["generation"].clone();
    let body = json!({"status": {"observedGeneration": generation, "replicas": 0}}).to_string();
    cluster
        .block_on(async {
            let req = http::Request::patch(format!("{path}/status"))
                .header("Content-Type", "application/merge-patch+json")
                .body(body.into_bytes())
                .unwrap();
            cluster.admin_client().request_text(req).await
        })
        .expect("the deployment's status is patched");
}

/// The identity's completed requests in its namespace, from an audit log file, as the
/// authorizer saw them (a create carries no name).
fn logged_requests(log: &Path, subject: &str, ns: &str) -> Vec<(Request, bool)> {
    let text = std::fs::read_to_string(log).expect("the audit log");
    let mut out = Vec::new();
    for line in text.lines() {
        let Ok(e) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        if e["user"]["username"] != subject || e["stage"] != "ResponseComplete" {
            continue;
        }
        let o = &e["objectRef"];
        if o["namespace"] != ns {
            continue;
        }
        let s = |v: &Value| v.as_str().unwrap_or_default().to_string();
        let mut req = Request::new(&s(&e["verb"]), &s(&o["apiGroup"]), &s(&o["resource"]));
        if !s(&o["subresource"]).is_empty() {
            req = req.with_subresource(&s(&o["subresource"]));
        }
        let allowed = e["annotations"]["authorization.k8s.io/decision"] != "forbid";
        out.push((req, allowed));
    }
    out.sort();
    out.dedup();
    out
}

fn role(env: &Env) -> Value {
    env.object("rbac.authorization.k8s.io", "roles", env.ns(), SUBJECT_NAME)
        .expect("the Role")
}

fn rules_of(role: &Value) -> Vec<Rule> {
    serde_json::from_value(role["rules"].clone()).expect("rules")
}

/// `kubectl auth can-i VERB RESOURCE` as the identity.
fn can_i(env: &Env, verb: &str, resource: &str) -> bool {
    let run = env.kubectl(
        &ci_kubeconfig(env),
        &["auth", "can-i", verb, resource],
        None,
    );
    match run.stdout.trim() {
        "yes" => true,
        "no" => false,
        _ => panic!("kubectl auth can-i {verb} {resource}: {run:?}"),
    }
}

/// audit's `unused-permission` finding about the identity, given the audit log `log`.
fn unused_permission(env: &Env, log: &str) -> Option<Value> {
    let run = env.plugin_as(
        "alice",
        &[
            "audit",
            "-o",
            "json",
            "--fail-on",
            "none",
            "--allow-gaps",
            "--audit-log",
            log,
        ],
    );
    assert!(run.ok(), "{run:?}");
    let report: Value = serde_json::from_str(&run.stdout).expect("JSON");
    report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .find(|f| {
            f["rule"] == "unused-permission"
                && f["subject"]["kind"] == "ServiceAccount"
                && f["subject"]["name"] == SUBJECT_NAME
        })
        .cloned()
}

on_both_servers! {
fn tighten_shrinks_a_web_app_role_to_what_its_pipeline_did_and_the_pipeline_still_passes(env) {
    if !kubectl_wanted() {
        return;
    }
    init_web_app(&env);
    assert!(can_i(&env, "create", "ingresses.networking.k8s.io"), "web-app grants ingresses");
    // Two runs, as a pipeline runs again and again: the first creates, the second updates.
    pipeline(&env, "v1");
    pipeline(&env, "v2");
    let log = env.audit_log_file();
    let log_arg = log.to_str().unwrap();
    let logged = logged_requests(&log, &subject(&env), env.ns());
    let used: Vec<Request> = logged
        .iter()
        .filter(|(_, allowed)| *allowed)
        .map(|(r, _)| r.clone())
        .collect();
    assert!(used.contains(&Request::new("patch", "apps", "deployments")), "{used:?}");
    if env.is_real() {
        assert!(used.contains(&Request::new("watch", "apps", "deployments")), "{used:?}");
    }

    // audit, given the same log, points at what tighten would take away.
    let unused = unused_permission(&env, log_arg);
    let evidence = unused.as_ref().expect("unused-permission before tighten")["evidence"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(evidence.contains("ingresses.networking.k8s.io (get list watch create update patch delete)"), "{evidence}");
    assert!(!evidence.contains("deployments.apps (get"), "{evidence}");

    // The proposal, as YAML, changes nothing.
    env.clear_request_log();
    let dry = ok(
        env.plugin_as("alice", &["tighten", SUBJECT_NAME, "--audit-log", log_arg, "--dry-run"]),
        "tighten --dry-run",
    );
    // What the user reads (--nocapture shows it).
    eprintln!("{}", dry.stderr);
    assert!(env.changed_objects().is_empty(), "{:?}", env.changed_objects());
    assert!(dry.stderr.contains("Taken away (never used in the logs)"), "{dry:?}");
    assert!(dry.stderr.contains("ingresses.networking.k8s.io: get list watch create update patch delete"), "{dry:?}");
    assert!(dry.stderr.contains("  configmaps: get list watch create update patch delete"), "{dry:?}");
    assert!(dry.stderr.contains("  services: list watch update patch delete"), "{dry:?}");
    assert!(
        dry.stderr.lines().any(|l| l.starts_with("  - ") && l.contains("configmaps")),
        "the diff shows configmaps going: {dry:?}"
    );
    assert!(dry.stderr.contains("warning: the logs span only"), "a short log is said to be short: {dry:?}");
    // kubectl looks up its namespace, which the identity may not: listed as denied, and not
    // called a need.
    for (req, allowed) in &logged {
        if !allowed {
            assert_eq!(req, &Request::new("get", "", "namespaces"), "{logged:?}");
            let line = dry
                .stderr
                .lines()
                .find(|l| l.starts_with(&format!("  get namespaces in {}:", env.ns())))
                .unwrap_or_else(|| panic!("the denied request is listed: {dry:?}"));
            assert!(line.contains("kubectl looks up the namespace"), "{line}");
        }
    }
    let proposed: Value = serde_saphyr::from_str(&dry.stdout).expect("the Role as YAML");
    assert_eq!(proposed["kind"], "Role");
    let rules = rules_of(&proposed);

    // It allows every request of the identity in the log ...
    for req in &used {
        assert!(rbac::rules_allow(&rules, req), "{req} is not allowed by {rules:?}");
    }
    // ... and nothing else: each verb on each resource it grants was used.
    for rule in &rules {
        assert!(!rule.has_wildcard() && rule.resource_names.is_empty(), "{rule:?}");
        for broken in rbac::breakdown(rule) {
            let req = Request::parse(&broken.verbs[0], &broken.api_groups[0], &broken.resources[0]);
            assert!(used.contains(&req), "{req} granted but never used");
        }
    }
    for (group, resource) in [
        ("", "configmaps"),
        ("autoscaling", "horizontalpodautoscalers"),
        ("networking.k8s.io", "ingresses"),
    ] {
        assert!(
            !rbac::matching::rules_allow_ignoring_name(&rules, &Request::new("get", group, resource)),
            "{resource} was never used: {rules:?}"
        );
    }

    // Applied: the escalation pre-check, the lock, server-side apply, the provenance, and the
    // check with the pipeline's own token (kubeconfig_ci_cd.yaml is in the working folder).
    let applied = ok(
        env.plugin_as("alice", &["tighten", SUBJECT_NAME, "--audit-log", log_arg, "--apply", "--yes"]),
        "tighten --apply",
    );
    eprintln!("{}", applied.stderr);
    assert!(
        applied.stderr.contains("Verified with the identity's token: it holds the tightened Role and none of what was taken away"),
        "{applied:?}"
    );
    let stored = role(&env);
    let stored_rules = rules_of(&stored);
    assert_eq!(rbac::compact(&stored_rules), rbac::compact(&rules), "what was proposed is what is stored");
    let annotations = &stored["metadata"]["annotations"];
    assert_eq!(annotations["kubectl-cicd.io/tightened-by"], "alice");
    assert!(annotations["kubectl-cicd.io/tightened-at"].as_str().is_some_and(|t| t.ends_with('Z')));
    let from: Value = serde_json::from_str(annotations["kubectl-cicd.io/tightened-from"].as_str().unwrap()).unwrap();
    assert_eq!(from["logs"], json!([log.file_name().unwrap().to_str().unwrap()]));
    assert!(from["allowed"].as_u64().unwrap() >= used.len() as u64, "{from}");
    assert_eq!(annotations["kubectl-cicd.io/created-by"], "alice", "the provenance is kept");
    let intended: Vec<Rule> = serde_json::from_str(annotations["kubectl-cicd.io/intended-rules"].as_str().unwrap()).unwrap();
    assert_eq!(intended, rules, "the intent is the tightened Role: audit sees no drift");
    let lease = env.object("coordination.k8s.io", "leases", env.ns(), &format!("kubectl-cicd.{SUBJECT_NAME}"));
    assert!(lease.is_none(), "the lock is given back");

    // The real server decides: the same steps pass, what went is refused.
    pipeline(&env, "v3");
    assert!(!can_i(&env, "create", "ingresses.networking.k8s.io"));
    assert!(!can_i(&env, "get", "configmaps"));
    assert!(!can_i(&env, "delete", "deployments.apps"));
    assert!(can_i(&env, "patch", "deployments.apps"));

    assert!(unused_permission(&env, log_arg).is_none(), "nothing unused after tighten");

    // A second look finds nothing more to take away.
    let again = ok(
        env.plugin_as("alice", &["tighten", SUBJECT_NAME, "--audit-log", log_arg]),
        "tighten again",
    );
    assert!(again.stderr.contains("nothing to take away"), "{again:?}");
}
}

on_both_servers! {
fn tighten_refuses_a_role_its_caller_could_not_grant_and_changes_nothing(env) {
    if !kubectl_wanted() {
        return;
    }
    init_web_app(&env);
    env.seed(vec![json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "app", "namespace": env.ns()},
    })]);
    // The pipeline reads a ConfigMap; bob may grant deployments and services only.
    let mark = env.audit_log_mark();
    ok(
        env.kubectl(&ci_kubeconfig(&env), &["get", "configmap", "app"], None),
        "kubectl get configmap",
    );
    let log = env.audit_log_since(mark, "pipeline.log");

    env.clear_request_log();
    let run = env.plugin_as(
        "bob",
        &["tighten", SUBJECT_NAME, "--audit-log", log.to_str().unwrap(), "--apply", "--yes"],
    );
    assert_eq!(run.code, Some(1), "{run:?}");
    assert!(
        run.stderr.contains("is attempting to grant RBAC permissions not currently held:\n{APIGroups:[\"\"], Resources:[\"configmaps\"], Verbs:[\"get\"]}"),
        "{run:?}"
    );
    assert!(run.stderr.contains("Nothing was changed"), "{run:?}");
    assert!(env.changed_objects().is_empty(), "{:?}", env.changed_objects());
    let lease = env.object("coordination.k8s.io", "leases", env.ns(), &format!("kubectl-cicd.{SUBJECT_NAME}"));
    assert!(lease.is_none(), "refused before the lock is taken");
}
}

/// One bad input: what is run, the exit code, what the message says.
struct Case {
    name: &'static str,
    args: Vec<String>,
    code: i32,
    says: &'static [&'static str],
}

on_both_servers! {
fn bad_input_gets_a_clear_message_a_non_zero_exit_and_changes_nothing(env) {
    if !kubectl_wanted() {
        return;
    }
    // Someone else's requests, before the identity exists.
    ok(env.plugin_as("alice", &["list"]), "list");
    let before = env.audit_log_since(0, "before.log");
    let not_events = env.path("kubeconfig-not-a-log.yaml");
    std::fs::copy(env.kubeconfig("alice"), &not_events).unwrap();
    init_web_app(&env);
    // Only what the identity may not do: secrets and pods are not in web-app.
    let mark = env.audit_log_mark();
    let ci = ci_kubeconfig(&env);
    for resource in ["secrets", "pods"] {
        let run = env.kubectl(&ci, &["get", resource], None);
        assert!(!run.ok() && run.stderr.contains("forbidden"), "{run:?}");
    }
    let denied = env.audit_log_since(mark, "denied.log");
    let whole = env.audit_log_file();

    let arg = |p: &Path| p.to_str().unwrap().to_string();
    let cases = [
        Case {
            name: "a file that is not audit events",
            args: vec!["tighten".into(), SUBJECT_NAME.into(), "--audit-log".into(), arg(&not_events), "--apply".into(), "--yes".into()],
            code: 2,
            says: &["kubeconfig-not-a-log.yaml is not an audit log", "Kubernetes audit event"],
        },
        Case {
            name: "an identity that is not there",
            args: vec!["tighten".into(), "nobody".into(), "--audit-log".into(), arg(&whole), "--apply".into(), "--yes".into()],
            code: 1,
            says: &["no identity nobody in namespace", "kubectl cicd list"],
        },
        Case {
            name: "a log with no event of the identity",
            args: vec!["tighten".into(), SUBJECT_NAME.into(), "--audit-log".into(), arg(&before), "--apply".into(), "--yes".into()],
            code: 2,
            says: &["hold no request of system:serviceaccount:", "Nothing was changed"],
        },
        Case {
            name: "a log whose events are all denied",
            args: vec!["tighten".into(), SUBJECT_NAME.into(), "--audit-log".into(), arg(&denied), "--apply".into(), "--yes".into()],
            code: 2,
            says: &["was denied (403)", "list secrets in", "list pods in", "Nothing was changed"],
        },
        Case {
            name: "a log file that is not there",
            args: vec!["tighten".into(), SUBJECT_NAME.into(), "--audit-log".into(), arg(&env.path("missing.log")), "--apply".into()],
            code: 2,
            says: &["cannot read audit log", "missing.log"],
        },
        Case {
            name: "stdin twice",
            args: vec!["tighten".into(), SUBJECT_NAME.into(), "--audit-log".into(), "-".into(), "--audit-log".into(), "-".into()],
            code: 2,
            says: &["more than once"],
        },
    ];
    let role_before = role(&env);
    for case in &cases {
        env.clear_request_log();
        let args: Vec<&str> = case.args.iter().map(String::as_str).collect();
        let run = env.plugin_as("alice", &args);
        eprintln!("{}: exit {:?}\n  {}", case.name, run.code, run.stderr.trim().replace('\n', "\n  "));
        assert_eq!(run.code, Some(case.code), "{}: {run:?}", case.name);
        for text in case.says {
            assert!(run.stderr.contains(text), "{}: {text:?} not said: {run:?}", case.name);
        }
        assert!(!run.stderr.contains("panicked"), "{}: {run:?}", case.name);
        assert!(run.stdout.is_empty(), "{}: {run:?}", case.name);
        assert!(env.changed_objects().is_empty(), "{}: {:?}", case.name, env.changed_objects());
    }
    assert_eq!(rules_of(&role(&env)), rules_of(&role_before), "the Role is as it was");
}
}
