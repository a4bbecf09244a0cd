//! Tests of the analysis on objects as the sandbox stores them, one file per subject; the
//! helpers that build those objects and run the analysis are here.

mod anchors;
mod anchors_kubiscan;
mod exceptions;
mod identities;
mod objects;
mod presets;
mod scope;
mod severity;
mod tokens;
mod twins;

use super::*;
use crate::audit::exceptions::parse_ignore;
use crate::audit::model::{Severity, SubjectRef};
use crate::audit::resolve::subject_label;
use crate::audit::snapshot::from_objects;
use crate::rbac::Rule;
use crate::rbac::risk::RiskCategory;
use serde_json::{Value, json};

const NOW: &str = "2026-11-27T10:00:00Z";
const RBAC: &str = "rbac.authorization.k8s.io";

/// Objects as the sandbox stores them: its default cluster (bootstrap roles, alice's and
/// bob's grants, namespaces with their `default` ServiceAccounts) plus `extra`, each
/// created through the sandbox's admission (validation, escalation checks).
fn sandbox_objects(extra: &[Value]) -> Vec<Value> {
    use cicd_sandbox::{registry::Registry, seed, state::State};
    let mut st = State::new(Registry::standard(), seed::default_users());
    seed::seed_defaults(&mut st).expect("sandbox defaults");
    for obj in extra {
        seed::create_as_admin(&mut st, obj.clone())
            .unwrap_or_else(|e| panic!("seeding {obj}: {e}"));
    }
    let mut out = Vec::new();
    for (group, resource) in [
        ("", "serviceaccounts"),
        (RBAC, "roles"),
        (RBAC, "clusterroles"),
        (RBAC, "rolebindings"),
        (RBAC, "clusterrolebindings"),
        ("", "secrets"),
    ] {
        out.extend(st.store.list_cloned(group, resource));
    }
    out
}

fn twins() -> Vec<Value> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/audit/twins.yaml"
    );
    let text = std::fs::read_to_string(path).expect("twins fixture");
    cicd_sandbox::seed::parse_documents(&text).expect("twins parse")
}

/// What the twins' identities did, from the fixture audit log (for `unused-permission`).
fn twins_options() -> Options {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/audit/twins-audit.log"
    );
    let sources = [crate::auditlog::Source::File(path.into())];
    Options {
        usage: Some(crate::auditlog::service_accounts(&sources).expect("twins audit log")),
        ..Options::default()
    }
}

fn all() -> Scope {
    Scope {
        all_namespaces: true,
        ..Scope::default()
    }
}

fn in_ns(ns: &str) -> Scope {
    Scope {
        namespaces: vec![ns.into()],
        ..Scope::default()
    }
}

fn only_sa(ns: &str, sa: &str) -> Scope {
    Scope {
        namespaces: vec![ns.into()],
        service_account: Some(sa.into()),
        ..Scope::default()
    }
}

fn run(objects: &[Value], scope: &Scope) -> Vec<Finding> {
    analyze(&from_objects(objects, NOW), scope, &Options::default())
}

fn of<'a>(findings: &'a [Finding], rule: &str, name: &str) -> Vec<&'a Finding> {
    findings
        .iter()
        .filter(|f| f.rule == rule && f.subject.name == name)
        .collect()
}

fn ids_for(findings: &[Finding], name: &str) -> BTreeSet<String> {
    findings
        .iter()
        .filter(|f| f.subject.name == name)
        .map(|f| f.rule.clone())
        .collect()
}

fn sa(ns: &str, name: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": name, "namespace": ns}})
}

fn role(ns: &str, name: &str, rules: &[Rule]) -> Value {
    json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
           "metadata": {"name": name, "namespace": ns}, "rules": rules})
}

fn cluster_role(name: &str, rules: &[Rule]) -> Value {
    json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
           "metadata": {"name": name}, "rules": rules})
}

fn rb(ns: &str, name: &str, kind: &str, role: &str, subjects: Value) -> Value {
    json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
           "metadata": {"name": name, "namespace": ns},
           "roleRef": {"apiGroup": RBAC, "kind": kind, "name": role}, "subjects": subjects})
}

fn crb(name: &str, role: &str, subjects: Value) -> Value {
    json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
           "metadata": {"name": name},
           "roleRef": {"apiGroup": RBAC, "kind": "ClusterRole", "name": role}, "subjects": subjects})
}

fn sa_subject(ns: &str, name: &str) -> Value {
    json!([{"kind": "ServiceAccount", "name": name, "namespace": ns}])
}

/// An identity `x/ci` holding `rules` through a RoleBinding in `x` (or a
/// ClusterRoleBinding), and the rule ids found on it.
fn fired(rules: &[Rule], cluster: bool) -> (BTreeSet<String>, Vec<Finding>) {
    let objects = if cluster {
        vec![
            sa("x", "ci"),
            cluster_role("probe", rules),
            crb("probe", "probe", sa_subject("x", "ci")),
        ]
    } else {
        vec![
            sa("x", "ci"),
            role("x", "probe", rules),
            rb("x", "probe", "Role", "probe", sa_subject("x", "ci")),
        ]
    };
    let findings = run(&objects, &all());
    (ids_for(&findings, "ci"), findings)
}

fn r(groups: &[&str], resources: &[&str], verbs: &[&str]) -> Rule {
    Rule::resource(groups, resources, verbs)
}

/// The labels of the findings' subjects.
fn subjects(findings: &[Finding]) -> BTreeSet<String> {
    findings.iter().map(|f| subject_label(&f.subject)).collect()
}
