//! The audit's plain data: what was read from the cluster ([`Snapshot`], filled by
//! `gather`), and what the analysis says about it ([`Report`], rendered by `output`).
//! No I/O here; the analysis between the two is pure.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::rbac::Rule;

/// Identity and metadata of any object the audit looked at.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Meta {
    pub name: String,
    /// `None` for cluster-scoped objects.
    pub namespace: Option<String>,
    pub uid: String,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    /// RFC 3339 creation time.
    pub created: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RoleData {
    pub meta: Meta,
    pub rules: Vec<Rule>,
    /// A ClusterRole filled by aggregation (`aggregationRule` set).
    pub aggregated: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RoleRefData {
    /// `Role` or `ClusterRole`.
    pub kind: String,
    pub name: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct SubjectData {
    /// `ServiceAccount`, `User` or `Group`.
    pub kind: String,
    pub name: String,
    /// ServiceAccounts only (defaulted to the binding's namespace for RoleBindings).
    pub namespace: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct BindingData {
    pub meta: Meta,
    pub role_ref: RoleRefData,
    pub subjects: Vec<SubjectData>,
}

/// A `kubernetes.io/service-account-token` Secret, from its metadata only.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct TokenSecretData {
    pub meta: Meta,
    /// The `kubernetes.io/service-account.name` annotation.
    pub service_account: String,
    /// Label `kubernetes.io/legacy-token-last-used` (a date), when the server stamped it.
    pub last_used: Option<String>,
    /// Label `kubernetes.io/legacy-token-invalid-since` (a date).
    pub invalid_since: Option<String>,
}

/// Everything the audit read. Lists the caller could not read are named in `gaps`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Snapshot {
    pub service_accounts: Vec<Meta>,
    pub roles: Vec<RoleData>,
    pub cluster_roles: Vec<RoleData>,
    pub role_bindings: Vec<BindingData>,
    pub cluster_role_bindings: Vec<BindingData>,
    pub token_secrets: Vec<TokenSecretData>,
    /// What could not be read and why, e.g. `clusterrolebindings: forbidden (...)`.
    pub gaps: Vec<String>,
    /// When the snapshot was taken (RFC 3339), for ages.
    pub taken_at: String,
}

/// Severity, most severe first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Critical,
    High,
    Medium,
    Low,
    Info,
}

/// Who a finding is about.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct SubjectRef {
    /// `ServiceAccount`, `User`, `Group`, or the kind of object for object findings (`Role`, `Secret`).
    pub kind: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
}

/// How a subject got a permission: which binding, to which role.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Via {
    /// `RoleBinding team-a/deployer`, `ClusterRoleBinding argocd`.
    pub binding: String,
    /// `Role team-a/deployer`, `ClusterRole cluster-admin`.
    pub role: String,
}

/// A documented exception that accepted a finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Accepted {
    pub reason: String,
    /// `annotation on RoleBinding team-a/x`, or `--ignore secrets-read:team-a/ci`.
    pub source: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// Stable rule id, e.g. `secrets-read`.
    pub rule: String,
    pub severity: Severity,
    pub subject: SubjectRef,
    pub via: Vec<Via>,
    /// What was found, in a sentence.
    pub evidence: String,
    /// What to do about it.
    pub remediation: String,
    /// Set when an exception accepted the finding; accepted findings never gate.
    pub accepted: Option<Accepted>,
    /// `audit -f`: the file and line of the object the finding is about (its binding, role or
    /// ServiceAccount); `None` for objects read from a cluster.
    pub location: Option<SourceLocation>,
    /// `audit --baseline`: whether the accepted report had it; `None` without a baseline.
    /// Unchanged findings never gate.
    pub baseline: Option<BaselineState>,
}

/// Where an object was read from a file: the path as given and the 1-based line it starts on.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct SourceLocation {
    pub file: String,
    pub line: usize,
}

/// A finding against the baseline report (SARIF's `baselineState` values).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum BaselineState {
    /// Not in the baseline: new since it was taken.
    New,
    /// In the baseline too.
    Unchanged,
    /// In the baseline, gone now (fixed); such findings are listed apart, never gated.
    Absent,
}

/// What was audited.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Scope {
    /// The namespaces audited; empty with `all_namespaces`.
    pub namespaces: Vec<String>,
    pub all_namespaces: bool,
    /// `--sa NAME`: only this ServiceAccount.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service_account: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Open (not accepted) findings per severity.
    pub by_severity: BTreeMap<String, usize>,
    pub accepted: usize,
    pub subjects: usize,
}

/// The audit's result.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Report {
    /// `--baseline`: the findings of the baseline that are gone now (each with
    /// [`BaselineState::Absent`]); empty without a baseline.
    pub fixed: Vec<Finding>,
    /// `--baseline FILE`, as given; `None` without one.
    pub baseline_file: Option<String>,
    pub scope: Scope,
    /// RFC 3339.
    pub generated_at: String,
    /// Who ran the audit (SelfSubjectReview user name).
    pub generated_by: String,
    pub cluster: String,
    pub findings: Vec<Finding>,
    pub gaps: Vec<String>,
    pub summary: Summary,
}
