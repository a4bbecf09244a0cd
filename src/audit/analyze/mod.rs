//! The analysis: a [`Snapshot`] and a [`Scope`] in, [`Finding`]s out. Pure and deterministic.
//!
//! # Who is audited
//! * **ServiceAccounts**, with every grant they hold: direct ones and those through
//!   `system:serviceaccounts`, `system:serviceaccounts:<ns>` and `system:authenticated`.
//! * **People** (users and groups that are not `system:`): audited for the grants that
//!   apply in the scope, and reported at severity `info` by default ([`PeoplePolicy`]): the
//!   audit is about robots, and a namespace's human admins would otherwise drown them.
//!   Pass [`PeoplePolicy::Rate`] to rate them like ServiceAccounts.
//! * **Built-in identities** are not audited: `system:` users and groups other than the
//!   broad groups below (`system:masters`, `system:kube-controller-manager`, `system:nodes`,
//!   ...) are the control plane's own, and the bootstrap policy's bindings
//!   ([`resolve::is_builtin_binding`]: labelled `kubernetes.io/bootstrapping: rbac-defaults`
//!   *and* binding only built-in identities) are expected on every cluster. They still count
//!   for the `--sa` matrix, which shows everything an identity can do.
//! * **Broad groups** (`system:authenticated`, `system:unauthenticated`,
//!   `system:serviceaccounts[:<ns>]`): any other binding to them is reported once, on the
//!   binding (`broad-group-binding`), and its grants count for every ServiceAccount in them.
//!
//! # Scope
//! * namespaces (`scope.namespaces`): ServiceAccounts of those namespaces (all their grants,
//!   wherever they apply); people bound by RoleBindings there (their grants in those
//!   namespaces and cluster-wide); RoleBindings, Roles and token Secrets there; and the
//!   ClusterRoleBindings that reach into them (naming one of their ServiceAccounts, or a
//!   broad group);
//! * `all_namespaces`: every subject and object;
//! * `service_account`: only that identity (in the scope's namespaces, or in any namespace
//!   when none is given), its token Secrets, the bindings naming it (directly or through a
//!   broad group) and the Roles they bind.
//!
//! # Severity
//! A finding starts at its rule's severity ([`rules::catalogue`]); every adjustment is made in
//! one place, the `severity` module beside this file:
//! * one level up when a grant behind it applies in every namespace (a ClusterRoleBinding)
//!   or in a privileged namespace ([`Options::privileged_namespaces`], `kube-system`), for
//!   rules about namespaced resources;
//! * one level down when every grant behind it is limited by `resourceNames`;
//! * `info` for people unless [`PeoplePolicy::Rate`];
//! * `broad-group-binding` one level down for `system:serviceaccounts:<ns>` bound by a
//!   RoleBinding of that same namespace.
//!
//! A grant of every verb on every resource in every group ("full control") is reported once
//! (`cluster-admin-binding` through a ClusterRoleBinding, `wildcard` through a RoleBinding)
//! rather than as every permission rule it implies.
//!
//! # Layout
//! This file runs the rules ([`analyze`]) and turns their drafts into findings. Each rule is
//! a method of the analysis context in `identity_rules` (what a subject's grants allow),
//! `account_rules` (ServiceAccount objects and their token Secrets) or `object_rules`
//! (bindings, managed Roles and their use in the audit log, namespaces), and builds its finding
//! with a `Draft`; `acceptance` applies exceptions and reports invalid ones.

mod acceptance;
mod account_rules;
mod draft;
mod identity_rules;
mod object_rules;
mod probe;
mod scope;
mod severity;
#[cfg(test)]
mod tests;
mod text;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::exceptions::{AnnotationException, Ignore};
use super::model::{Finding, Meta, Scope, Snapshot, Summary, TokenSecretData};
use super::resolve::{self, Grant, SubjectClass};
use super::rules;
use draft::{Draft, ObjKey};
use probe::{Profiles, role_key};
use scope::ScopeFilter;

pub use identity_rules::pull_controller;

/// Default for [`Options::unused_token_days`].
pub const DEFAULT_UNUSED_TOKEN_DAYS: i64 = 90;
/// See [`Options::token_rotation_days`].
pub const DEFAULT_TOKEN_ROTATION_DAYS: i64 = 90;
/// Default for [`Options::many_roles`] (krane's `subjects-with-many-roles` threshold).
pub const DEFAULT_MANY_ROLES: usize = 4;
/// Default for [`Options::many_subjects`] (krane's `namespaces-with-many-subjects`).
pub const DEFAULT_MANY_SUBJECTS: usize = 5;

/// ServiceAccount annotations that map it to a cloud IAM identity.
pub const CLOUD_IDENTITY_ANNOTATIONS: &[&str] = &[
    "eks.amazonaws.com/role-arn",
    "iam.gke.io/gcp-service-account",
    "azure.workload.identity/client-id",
];

/// How people (users and groups that are not `system:` or broad groups) are reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PeoplePolicy {
    /// Not at all.
    Skip,
    /// Reported at severity `info` (never gates).
    #[default]
    Info,
    /// Rated like ServiceAccounts.
    Rate,
}

/// Analysis options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// `--ignore` flags.
    pub ignores: Vec<Ignore>,
    /// A token Secret whose last recorded use (or, without one, its creation) is older than
    /// this many days is stale (`unused-identity`). Default 90.
    pub unused_token_days: i64,
    /// A token Secret kubectl-cicd made and records as in use, younger than this many days,
    /// is `long-lived-token` at low instead of medium: rotation keeps it young. Default 90.
    pub token_rotation_days: i64,
    /// More distinct roles than this on one identity: `many-roles`. Default 4.
    pub many_roles: usize,
    /// More bound subjects than this in one namespace: `many-subjects`. Default 5.
    pub many_subjects: usize,
    /// How people are reported. Default [`PeoplePolicy::Info`].
    pub people: PeoplePolicy,
    /// Namespaces whose grants count as wide as cluster-wide ones. Default `kube-system`.
    pub privileged_namespaces: Vec<String>,
    /// What ServiceAccounts did, from the API server's audit log (`--audit-log`): their
    /// managed Roles' grants that none of it used are `unused-permission`. None: not checked.
    pub usage: Option<crate::auditlog::Usages>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            ignores: Vec::new(),
            unused_token_days: DEFAULT_UNUSED_TOKEN_DAYS,
            token_rotation_days: DEFAULT_TOKEN_ROTATION_DAYS,
            many_roles: DEFAULT_MANY_ROLES,
            many_subjects: DEFAULT_MANY_SUBJECTS,
            people: PeoplePolicy::default(),
            privileged_namespaces: vec!["kube-system".to_string()],
            usage: None,
        }
    }
}

/// Every finding of `snapshot` in `scope`, sorted by severity, subject, rule (then evidence).
pub fn analyze(snapshot: &Snapshot, scope: &Scope, options: &Options) -> Vec<Finding> {
    let resolution = resolve::resolve(snapshot);
    let mut ctx = Ctx::new(snapshot, scope, options, &resolution);
    ctx.run();
    let mut findings = ctx.finish();
    findings.sort_by(|a, b| {
        (a.severity, &a.subject, &a.rule, &a.evidence).cmp(&(
            b.severity,
            &b.subject,
            &b.rule,
            &b.evidence,
        ))
    });
    findings
}

/// Open findings per severity (every severity present, zeros included), accepted findings,
/// and the number of distinct subjects with findings.
pub fn summarize(findings: &[Finding]) -> Summary {
    let mut by_severity: BTreeMap<String, usize> = rules::SEVERITIES
        .iter()
        .map(|(_, name)| (name.to_string(), 0))
        .collect();
    let mut accepted = 0;
    let mut subjects = BTreeSet::new();
    for f in findings {
        subjects.insert(&f.subject);
        if f.accepted.is_some() {
            accepted += 1;
        } else {
            *by_severity
                .entry(rules::severity_name(f.severity).to_string())
                .or_default() += 1;
        }
    }
    Summary {
        by_severity,
        accepted,
        subjects: subjects.len(),
    }
}

/// What the rules share while they run: the snapshot, its indexes, and the drafts so far.
struct Ctx<'a> {
    snapshot: &'a Snapshot,
    options: &'a Options,
    scope: ScopeFilter<'a>,
    resolution: &'a resolve::Resolution<'a>,
    profiles: Profiles<'a>,
    sa_meta: HashMap<(&'a str, &'a str), &'a Meta>,
    sas_by_namespace: HashMap<&'a str, Vec<&'a str>>,
    /// ServiceAccounts, by namespace, that a binding names directly (bootstrap bindings
    /// aside): what pods running as them gain.
    bound_sas: HashMap<&'a str, BTreeSet<&'a str>>,
    tokens: HashMap<(&'a str, &'a str), Vec<&'a TokenSecretData>>,
    /// Objects carrying an ignore annotation.
    annotated: HashMap<ObjKey, (&'a Meta, AnnotationException)>,
    /// Objects involved in the audit, for `invalid-exception`.
    involved: BTreeSet<ObjKey>,
    /// Roles bound to the audited identities (for `--sa` drift).
    bound_roles: BTreeSet<usize>,
    /// When the snapshot was taken, in seconds.
    now: Option<i64>,
    drafts: Vec<Draft>,
}

impl<'a> Ctx<'a> {
    fn new(
        snapshot: &'a Snapshot,
        scope: &'a Scope,
        options: &'a Options,
        resolution: &'a resolve::Resolution<'a>,
    ) -> Self {
        let mut sa_meta = HashMap::new();
        let mut sas_by_namespace: HashMap<&str, Vec<&str>> = HashMap::new();
        for m in &snapshot.service_accounts {
            if let Some(ns) = m.namespace.as_deref() {
                sa_meta.insert((ns, m.name.as_str()), m);
                sas_by_namespace.entry(ns).or_default().push(&m.name);
            }
        }
        for list in sas_by_namespace.values_mut() {
            list.sort_unstable();
        }
        let mut bound_sas: HashMap<&str, BTreeSet<&str>> = HashMap::new();
        for sg in &resolution.subjects {
            let bound = sg.grants.iter().any(|g| g.group.is_none() && !g.builtin);
            if let (true, "ServiceAccount", Some(ns)) = (
                bound,
                sg.subject.kind.as_str(),
                sg.subject.namespace.as_deref(),
            ) {
                bound_sas
                    .entry(ns)
                    .or_default()
                    .insert(sg.subject.name.as_str());
            }
        }
        let mut tokens: HashMap<(&str, &str), Vec<&TokenSecretData>> = HashMap::new();
        for t in &snapshot.token_secrets {
            if let Some(ns) = t.meta.namespace.as_deref() {
                tokens
                    .entry((ns, t.service_account.as_str()))
                    .or_default()
                    .push(t);
            }
        }
        for list in tokens.values_mut() {
            list.sort_by(|a, b| a.meta.name.cmp(&b.meta.name));
        }
        Ctx {
            snapshot,
            options,
            scope: ScopeFilter::new(scope),
            resolution,
            profiles: Profiles::default(),
            sa_meta,
            sas_by_namespace,
            bound_sas,
            tokens,
            annotated: acceptance::annotated(snapshot),
            involved: BTreeSet::new(),
            bound_roles: BTreeSet::new(),
            now: account_rules::parse_time(&snapshot.taken_at),
            drafts: Vec::new(),
        }
    }

    /// True when `g` applies in every namespace or in a privileged one.
    fn privileged(&self, g: &Grant<'_>) -> bool {
        match g.namespace() {
            None => true,
            Some(ns) => self.options.privileged_namespaces.iter().any(|p| p == ns),
        }
    }

    fn full_control(&self, g: &Grant<'_>) -> bool {
        self.profiles.of(g).is_some_and(|p| p.full_control)
    }

    fn push(&mut self, draft: Draft) {
        if self.annotated.is_empty() {
            // Nothing to check for invalid-exception: skip the bookkeeping.
            self.drafts.push(draft);
            return;
        }
        if let Some(o) = &draft.own {
            self.involved.insert(o.clone());
        }
        for p in &draft.paths {
            self.involved.extend(p.iter().cloned());
        }
        self.drafts.push(draft);
    }

    fn run(&mut self) {
        let resolution = self.resolution;
        for sg in &resolution.subjects {
            match sg.class {
                SubjectClass::ServiceAccount => {
                    if !self.scope.subject(&sg.subject) {
                        continue;
                    }
                    let grants: Vec<Grant<'a>> =
                        sg.grants.iter().filter(|g| !g.builtin).copied().collect();
                    self.profiles.ensure(&grants);
                    let track = !self.annotated.is_empty();
                    for g in &grants {
                        if let Some(r) = g.role {
                            self.bound_roles.insert(role_key(r));
                        }
                        if track {
                            self.involved
                                .insert(ObjKey::of_binding(g.binding, g.cluster_binding));
                        }
                    }
                    if track && sg.exists {
                        self.involved.insert(ObjKey::new(
                            "ServiceAccount",
                            sg.subject.namespace.as_deref(),
                            &sg.subject.name,
                        ));
                    }
                    self.identity_findings(sg, &grants, false);
                    self.service_account_findings(sg, &grants);
                }
                SubjectClass::Person => {
                    if self.options.people == PeoplePolicy::Skip
                        || self.scope.service_account.is_some()
                    {
                        continue;
                    }
                    let in_scope = self.scope.all
                        || sg.direct().any(|g| {
                            !g.builtin && g.namespace().is_some_and(|n| self.scope.namespace(n))
                        });
                    if !in_scope {
                        continue;
                    }
                    let grants: Vec<Grant<'a>> = sg
                        .grants
                        .iter()
                        .filter(|g| {
                            !g.builtin
                                && g.group.is_none()
                                && (self.scope.all
                                    || g.namespace().is_none_or(|n| self.scope.namespace(n)))
                        })
                        .copied()
                        .collect();
                    self.profiles.ensure(&grants);
                    self.identity_findings(sg, &grants, true);
                }
                SubjectClass::BroadGroup | SubjectClass::System => {}
            }
        }
        self.service_account_objects();
        self.binding_findings();
        self.drift_findings();
        self.unused_permission_findings();
        self.namespace_findings();
        self.invalid_exceptions();
    }

    /// Applies exceptions and turns drafts into findings.
    fn finish(mut self) -> Vec<Finding> {
        let drafts = std::mem::take(&mut self.drafts);
        let mut out = Vec::with_capacity(drafts.len());
        for d in drafts {
            let accepted = self
                .accepted_by_annotation(&d)
                .or_else(|| self.accepted_by_flag(&d));
            out.push(Finding {
                rule: d.rule.id.to_string(),
                severity: d.severity,
                subject: d.subject,
                via: d.via,
                evidence: d.evidence,
                remediation: d.remediation,
                accepted,
                location: None,
                baseline: None,
            });
        }
        out
    }
}
