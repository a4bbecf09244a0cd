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
//! A finding starts at its rule's severity ([`rules::catalogue`]), then:
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

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::rc::Rc;

use super::exceptions::{AnnotationException, IGNORE_ANNOTATION, Ignore, annotation_exception};
use super::model::{
    Accepted, BindingData, Finding, Meta, RoleData, Scope, Severity, Snapshot, SubjectRef, Summary,
    TokenSecretData, Via,
};
use super::resolve::{
    self, Grant, SubjectClass, SubjectGrants, group_covers_service_account, is_broad_group,
    object_label, subject_label,
};
use super::rules::{self, PermissionCheck, RuleInfo, lowered, raised};
use crate::rbac::matching::{self, verb_carries_name};
use crate::rbac::rule::{WILDCARD, group_resource};
use crate::rbac::{Request, Rule, compact_string};

/// Default for [`Options::unused_token_days`].
pub const DEFAULT_UNUSED_TOKEN_DAYS: i64 = 90;
/// Default for [`Options::many_roles`] (krane's `subjects-with-many-roles` threshold).
pub const DEFAULT_MANY_ROLES: usize = 4;
/// Default for [`Options::many_subjects`] (krane's `namespaces-with-many-subjects`).
pub const DEFAULT_MANY_SUBJECTS: usize = 5;

/// Label `init` puts on what it manages.
pub const MANAGED_BY_LABEL: &str = crate::managed::MANAGED_BY_LABEL;
/// Its value.
pub const MANAGED_BY: &str = crate::managed::MANAGED_BY;
/// The Role annotation holding the rules `init` granted (a JSON list of rules).
pub const INTENDED_RULES: &str = crate::managed::INTENDED_RULES;
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
    /// More distinct roles than this on one identity: `many-roles`. Default 4.
    pub many_roles: usize,
    /// More bound subjects than this in one namespace: `many-subjects`. Default 5.
    pub many_subjects: usize,
    /// How people are reported. Default [`PeoplePolicy::Info`].
    pub people: PeoplePolicy,
    /// Namespaces whose grants count as wide as cluster-wide ones. Default `kube-system`.
    pub privileged_namespaces: Vec<String>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            ignores: Vec::new(),
            unused_token_days: DEFAULT_UNUSED_TOKEN_DAYS,
            many_roles: DEFAULT_MANY_ROLES,
            many_subjects: DEFAULT_MANY_SUBJECTS,
            people: PeoplePolicy::default(),
            privileged_namespaces: vec!["kube-system".to_string()],
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

/// Which product a ServiceAccount belongs to, if it looks like a pull-style GitOps
/// controller, and why (`name argocd-application-controller`, `label app.kubernetes.io/part-of=flux`).
pub fn pull_controller(
    namespace: &str,
    name: &str,
    labels: Option<&BTreeMap<String, String>>,
) -> Option<(&'static str, String)> {
    const ARGO: &[&str] = &[
        "argocd-application-controller",
        "argocd-server",
        "argocd-applicationset-controller",
    ];
    const FLUX: &[&str] = &[
        "kustomize-controller",
        "helm-controller",
        "source-controller",
        "notification-controller",
    ];
    if ARGO.contains(&name) {
        return Some(("Argo CD", format!("its name {name}")));
    }
    if namespace == "flux-system"
        && (FLUX.contains(&name) || (name.starts_with("image-") && name.ends_with("-controller")))
    {
        return Some(("Flux", format!("its name flux-system/{name}")));
    }
    let part_of = labels.and_then(|l| l.get("app.kubernetes.io/part-of"))?;
    let product = match part_of.as_str() {
        "argocd" | "argo-cd" => "Argo CD",
        "flux" | "flux2" => "Flux",
        _ => return None,
    };
    Some((
        product,
        format!("its label app.kubernetes.io/part-of={part_of}"),
    ))
}

// ---------------------------------------------------------------------------------------
// Internals

/// An object a finding involves (for exceptions and `--ignore` targets).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct ObjKey {
    kind: &'static str,
    namespace: Option<String>,
    name: String,
}

impl ObjKey {
    fn new(kind: &'static str, namespace: Option<&str>, name: &str) -> Self {
        ObjKey {
            kind,
            namespace: namespace.map(str::to_string),
            name: name.to_string(),
        }
    }

    fn of_binding(b: &BindingData, cluster: bool) -> Self {
        if cluster {
            ObjKey::new("ClusterRoleBinding", None, &b.meta.name)
        } else {
            ObjKey::new("RoleBinding", b.meta.namespace.as_deref(), &b.meta.name)
        }
    }

    fn of_role(g: &Grant<'_>) -> Option<Self> {
        let role = g.role?;
        Some(if g.binding.role_ref.kind == "Role" {
            ObjKey::new("Role", role.meta.namespace.as_deref(), &role.meta.name)
        } else {
            ObjKey::new("ClusterRole", None, &role.meta.name)
        })
    }

    fn label(&self) -> String {
        object_label(self.kind, self.namespace.as_deref(), &self.name)
    }
}

/// A finding before exceptions.
struct Draft {
    rule: &'static RuleInfo,
    severity: Severity,
    subject: SubjectRef,
    /// The subject's own object (ServiceAccount, binding, Role), if it has one.
    own: Option<ObjKey>,
    /// The objects behind each grant (binding, role); the finding is accepted by annotations
    /// when every path carries one (or `own` does).
    paths: Vec<Vec<ObjKey>>,
    via: Vec<Via>,
    evidence: String,
    remediation: String,
}

/// One probe a role allows, and for which names (`None`: any).
#[derive(Debug, Clone)]
struct Hit {
    verb: &'static str,
    group: &'static str,
    resource: &'static str,
    cluster: bool,
    names: Option<Vec<String>>,
}

/// What a role's rules allow, computed once per role.
#[derive(Debug, Default)]
struct Profile {
    /// Per permission check (index into [`rules::permission_checks`]).
    hits: Vec<Vec<Hit>>,
    /// A rule with `*` verbs, groups and resources and no names.
    full_control: bool,
    /// Rules with a wildcard anywhere.
    wildcard: Vec<Rule>,
    /// Rules whose resource part has a wildcard (what a RoleBinding makes effective).
    wildcard_resources: Vec<Rule>,
}

/// One probe request of a permission check, built once.
struct ProbeReq {
    check: usize,
    verb: &'static str,
    group: &'static str,
    resource: &'static str,
    cluster: bool,
    /// The subresource, `""` for none.
    sub: &'static str,
}

impl ProbeReq {
    /// `Rule::allows_ignoring_name` without building the combined resource string each time.
    fn allowed_by(&self, rule: &Rule) -> bool {
        matching::verb_matches(rule, self.verb)
            && matching::api_group_matches(rule, self.group)
            && matching::resource_matches(rule, self.resource, self.sub)
    }
}

fn probe_table() -> &'static [ProbeReq] {
    static TABLE: std::sync::OnceLock<Vec<ProbeReq>> = std::sync::OnceLock::new();
    TABLE.get_or_init(|| {
        let mut out = Vec::new();
        for (check, c) in rules::permission_checks().iter().enumerate() {
            for set in c.probes {
                for &resource in set.resources {
                    for &verb in set.verbs {
                        out.push(ProbeReq {
                            check,
                            verb,
                            group: set.group,
                            resource,
                            cluster: set.cluster,
                            sub: resource.split_once('/').map_or("", |(_, sub)| sub),
                        });
                    }
                }
            }
        }
        out
    })
}

/// The probes of each API group, as indices into [`probe_table`] in table order.
fn probes_by_group() -> &'static HashMap<&'static str, Vec<usize>> {
    static INDEX: std::sync::OnceLock<HashMap<&'static str, Vec<usize>>> =
        std::sync::OnceLock::new();
    INDEX.get_or_init(|| {
        let mut index: HashMap<&'static str, Vec<usize>> = HashMap::new();
        for (i, p) in probe_table().iter().enumerate() {
            index.entry(p.group).or_default().push(i);
        }
        index
    })
}

/// The distinct strings a list field of the rules names.
fn named(rules: &[Rule], list: fn(&Rule) -> &Vec<String>) -> Vec<&str> {
    let mut out: Vec<&str> = Vec::new();
    for x in rules.iter().flat_map(list) {
        if !out.contains(&x.as_str()) {
            out.push(x);
        }
    }
    out
}

fn profile(rules: &[Rule]) -> Profile {
    let table = probe_table();
    let mut hits: Vec<Vec<Hit>> = vec![Vec::new(); rules::permission_checks().len()];
    // Only probes of the groups and verbs the rules name at all can be allowed: look those up
    // instead of trying every probe against every rule (roles are many, probes hundreds).
    let groups = named(rules, |r| &r.api_groups);
    let verbs = named(rules, |r| &r.verbs);
    let any_verb = verbs.contains(&WILDCARD);
    let candidates: Vec<usize> = if groups.contains(&WILDCARD) {
        (0..table.len()).collect()
    } else {
        let index = probes_by_group();
        let mut c: Vec<usize> = groups
            .iter()
            .filter_map(|g| index.get(g))
            .flatten()
            .copied()
            .collect();
        // Table order, so that hits come out as before.
        c.sort_unstable();
        c
    };
    for p in candidates.into_iter().map(|i| &table[i]) {
        if !any_verb && !verbs.contains(&p.verb) {
            continue;
        }
        let mut any_name = false;
        let mut names: Vec<String> = Vec::new();
        let mut hit = false;
        for rule in rules.iter().filter(|r| p.allowed_by(r)) {
            if rule.resource_names.is_empty() {
                any_name = true;
                hit = true;
            } else if verb_carries_name(p.verb) {
                hit = true;
                for n in &rule.resource_names {
                    if !names.contains(n) {
                        names.push(n.clone());
                    }
                }
            }
        }
        if hit {
            hits[p.check].push(Hit {
                verb: p.verb,
                group: p.group,
                resource: p.resource,
                cluster: p.cluster,
                names: (!any_name).then_some(names),
            });
        }
    }
    let is_all = |l: &[String]| l.iter().any(|x| x == WILDCARD);
    Profile {
        hits,
        full_control: rules.iter().any(|r| {
            is_all(&r.verbs)
                && is_all(&r.api_groups)
                && is_all(&r.resources)
                && r.resource_names.is_empty()
        }),
        wildcard: rules
            .iter()
            .filter(|r| r.has_wildcard() && !r.allows_nothing())
            .cloned()
            .collect(),
        wildcard_resources: rules
            .iter()
            .filter_map(Rule::resource_part)
            .filter(|r| r.has_wildcard() && !r.allows_nothing())
            .collect(),
    }
}

fn role_key(role: &RoleData) -> usize {
    role as *const RoleData as usize
}

struct ScopeFilter<'a> {
    all: bool,
    namespaces: BTreeSet<&'a str>,
    service_account: Option<&'a str>,
}

impl ScopeFilter<'_> {
    fn namespace(&self, ns: &str) -> bool {
        self.all
            || self.namespaces.contains(ns)
            || (self.service_account.is_some() && self.namespaces.is_empty())
    }

    fn service_account(&self, ns: &str, name: &str) -> bool {
        self.namespace(ns) && self.service_account.is_none_or(|sa| sa == name)
    }

    fn subject(&self, s: &SubjectRef) -> bool {
        match &s.namespace {
            Some(ns) if s.kind == "ServiceAccount" => self.service_account(ns, &s.name),
            _ => false,
        }
    }

    /// True when a binding subject list reaches an identity in scope.
    fn binding_reaches(&self, b: &BindingData, cluster: bool) -> bool {
        if self.all && self.service_account.is_none() {
            return true;
        }
        let ns_ok = !cluster
            && b.meta
                .namespace
                .as_deref()
                .is_some_and(|n| self.namespace(n));
        if self.service_account.is_none() && ns_ok {
            return true;
        }
        b.subjects.iter().any(|s| match s.kind.as_str() {
            "ServiceAccount" => s
                .namespace
                .as_deref()
                .is_some_and(|ns| self.service_account(ns, &s.name)),
            "User" => resolve::subject_of("User", &s.name, None).is_some_and(|r| self.subject(&r)),
            "Group" if is_broad_group(&s.name) => {
                if self.service_account.is_some() {
                    // Reaches the audited ServiceAccount?
                    self.all
                        || self.namespaces.is_empty()
                        || self
                            .namespaces
                            .iter()
                            .any(|ns| group_covers_service_account(&s.name, ns))
                } else {
                    s.name
                        .strip_prefix(resolve::NAMESPACE_SERVICE_ACCOUNTS_PREFIX)
                        .is_none_or(|ns| self.namespace(ns))
                }
            }
            _ => false,
        })
    }
}

struct Ctx<'a> {
    snapshot: &'a Snapshot,
    options: &'a Options,
    scope: ScopeFilter<'a>,
    resolution: &'a resolve::Resolution<'a>,
    /// What each role allows: profiles are shared by roles with identical rules.
    profiles: Vec<Rc<Profile>>,
    profile_by_role: HashMap<usize, usize>,
    profile_by_rules: HashMap<&'a [Rule], usize>,
    sa_meta: HashMap<(&'a str, &'a str), &'a Meta>,
    sas_by_namespace: HashMap<&'a str, Vec<&'a str>>,
    tokens: HashMap<(&'a str, &'a str), Vec<&'a TokenSecretData>>,
    /// Objects carrying an ignore annotation.
    annotated: HashMap<ObjKey, (&'a Meta, AnnotationException)>,
    /// Objects involved in the audit, for `invalid-exception`.
    involved: BTreeSet<ObjKey>,
    /// Roles bound to the audited identities (for `--sa` drift).
    bound_roles: BTreeSet<usize>,
    now: Option<i64>,
    drafts: Vec<Draft>,
}

fn parse_time(text: &str) -> Option<i64> {
    if let Ok(ts) = text.parse::<jiff::Timestamp>() {
        return Some(ts.as_second());
    }
    let date = text.parse::<jiff::civil::Date>().ok()?;
    Some(
        date.to_zoned(jiff::tz::TimeZone::UTC)
            .ok()?
            .timestamp()
            .as_second(),
    )
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("{n} {word}")
    } else {
        format!("{n} {word}s")
    }
}

fn list_names(names: &[&str], max: usize) -> String {
    if names.len() <= max {
        names.join(", ")
    } else {
        format!("{} and {} more", names[..max].join(", "), names.len() - max)
    }
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
        let mut annotated = HashMap::new();
        let mut note = |key: ObjKey, meta: &'a Meta| {
            if meta.annotations.contains_key(IGNORE_ANNOTATION)
                && let Some(e) = annotation_exception(meta)
            {
                annotated.insert(key, (meta, e));
            }
        };
        for m in &snapshot.service_accounts {
            note(
                ObjKey::new("ServiceAccount", m.namespace.as_deref(), &m.name),
                m,
            );
        }
        for r in &snapshot.roles {
            note(
                ObjKey::new("Role", r.meta.namespace.as_deref(), &r.meta.name),
                &r.meta,
            );
        }
        for r in &snapshot.cluster_roles {
            note(ObjKey::new("ClusterRole", None, &r.meta.name), &r.meta);
        }
        for b in &snapshot.role_bindings {
            note(ObjKey::of_binding(b, false), &b.meta);
        }
        for b in &snapshot.cluster_role_bindings {
            note(ObjKey::of_binding(b, true), &b.meta);
        }
        for t in &snapshot.token_secrets {
            note(
                ObjKey::new("Secret", t.meta.namespace.as_deref(), &t.meta.name),
                &t.meta,
            );
        }
        Ctx {
            snapshot,
            options,
            scope: ScopeFilter {
                all: scope.all_namespaces,
                namespaces: scope.namespaces.iter().map(String::as_str).collect(),
                service_account: scope.service_account.as_deref(),
            },
            resolution,
            profiles: Vec::new(),
            profile_by_role: HashMap::new(),
            profile_by_rules: HashMap::new(),
            sa_meta,
            sas_by_namespace,
            tokens,
            annotated,
            involved: BTreeSet::new(),
            bound_roles: BTreeSet::new(),
            now: parse_time(&snapshot.taken_at),
            drafts: Vec::new(),
        }
    }

    fn privileged(&self, g: &Grant<'_>) -> bool {
        match g.namespace() {
            None => true,
            Some(ns) => self.options.privileged_namespaces.iter().any(|p| p == ns),
        }
    }

    fn ensure_profiles(&mut self, grants: &[Grant<'a>]) {
        for g in grants {
            let Some(role) = g.role else {
                continue;
            };
            if self.profile_by_role.contains_key(&role_key(role)) {
                continue;
            }
            let index = match self.profile_by_rules.get(role.rules.as_slice()) {
                Some(&i) => i,
                None => {
                    self.profiles.push(Rc::new(profile(&role.rules)));
                    let i = self.profiles.len() - 1;
                    self.profile_by_rules.insert(role.rules.as_slice(), i);
                    i
                }
            };
            self.profile_by_role.insert(role_key(role), index);
        }
    }

    fn profile_of(&self, g: &Grant<'_>) -> Option<&Profile> {
        g.role
            .and_then(|r| self.profile_by_role.get(&role_key(r)))
            .map(|&i| self.profiles[i].as_ref())
    }

    fn profile_rc(&self, g: &Grant<'_>) -> Option<Rc<Profile>> {
        g.role
            .and_then(|r| self.profile_by_role.get(&role_key(r)))
            .map(|&i| Rc::clone(&self.profiles[i]))
    }

    fn full_control(&self, g: &Grant<'_>) -> bool {
        self.profile_of(g).is_some_and(|p| p.full_control)
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
                    self.ensure_profiles(&grants);
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
                    self.ensure_profiles(&grants);
                    self.identity_findings(sg, &grants, true);
                }
                SubjectClass::BroadGroup | SubjectClass::System => {}
            }
        }
        self.service_account_objects();
        self.binding_findings();
        self.drift_findings();
        self.namespace_findings();
        self.invalid_exceptions();
    }

    fn subject_severity(&self, base: Severity, person: bool) -> Severity {
        if person && self.options.people == PeoplePolicy::Info {
            Severity::Info
        } else {
            base
        }
    }

    fn own_key(subject: &SubjectRef, exists: bool) -> Option<ObjKey> {
        (subject.kind == "ServiceAccount" && exists).then(|| {
            ObjKey::new(
                "ServiceAccount",
                subject.namespace.as_deref(),
                &subject.name,
            )
        })
    }

    fn path_of(g: &Grant<'_>) -> Vec<ObjKey> {
        let mut p = vec![ObjKey::of_binding(g.binding, g.cluster_binding)];
        p.extend(ObjKey::of_role(g));
        p
    }

    fn through(g: &Grant<'_>) -> String {
        let via = g.via();
        format!("through {} to {}", via.binding, via.role)
    }

    /// Permission rules, wildcards, full control, cluster-wide bindings, many roles.
    fn identity_findings(&mut self, sg: &SubjectGrants<'a>, grants: &[Grant<'a>], person: bool) {
        let who = subject_label(&sg.subject);
        let own = Self::own_key(&sg.subject, sg.exists);
        // Grants whose role exists, each with what its role allows.
        let counted: Vec<(&Grant<'a>, Rc<Profile>)> = grants
            .iter()
            .filter_map(|g| Some((g, self.profile_rc(g)?)))
            .collect();

        // Permission checks (full-control grants are reported once, below).
        for (ci, check) in rules::permission_checks().iter().enumerate() {
            let mut parts: Vec<(&Grant<'a>, Vec<&Hit>)> = Vec::new();
            for (g, p) in &counted {
                if p.full_control || (check.privileged_namespaces_only && !self.privileged(g)) {
                    continue;
                }
                let hits: Vec<&Hit> = p.hits[ci]
                    .iter()
                    .filter(|h| !h.cluster || g.cluster_binding)
                    .collect();
                if !hits.is_empty() {
                    parts.push((g, hits));
                }
            }
            if parts.is_empty() {
                continue;
            }
            let rule = rules::rule(check.id).expect("checks are catalogue rules");
            let mut severity = rule.severity;
            if check.raise_when_wide && parts.iter().any(|(g, _)| self.privileged(g)) {
                severity = raised(severity);
            }
            if parts
                .iter()
                .all(|(_, hits)| hits.iter().all(|h| h.names.is_some()))
            {
                severity = lowered(severity);
            }
            let severity = self.subject_severity(severity, person);
            let clauses: Vec<String> = parts
                .iter()
                .map(|(g, hits)| {
                    format!(
                        "{} {} {}",
                        actions(hits),
                        self.where_text(g, hits, check),
                        Self::through(g)
                    )
                })
                .collect();
            let mut evidence = format!("{who} can {}.", clauses.join("; "));
            if check.id == "workload-create" {
                evidence.push_str(&self.pod_identities(&parts));
            }
            let remediation = self.permission_remediation(rule, check, &parts);
            self.push(Draft {
                rule,
                severity,
                subject: sg.subject.clone(),
                own: own.clone(),
                paths: parts.iter().map(|(g, _)| Self::path_of(g)).collect(),
                via: parts.iter().map(|(g, _)| g.via()).collect(),
                evidence,
                remediation,
            });
        }

        // Full control through a ClusterRoleBinding.
        let admin: Vec<&Grant<'a>> = counted
            .iter()
            .filter(|(g, p)| g.cluster_binding && p.full_control)
            .map(|(g, _)| *g)
            .collect();
        if !admin.is_empty() {
            let rule = rules::rule("cluster-admin-binding").expect("rule");
            let clauses: Vec<String> = admin.iter().map(|g| Self::through(g)).collect();
            self.push(Draft {
                rule,
                severity: self.subject_severity(rule.severity, person),
                subject: sg.subject.clone(),
                own: own.clone(),
                paths: admin.iter().map(|g| Self::path_of(g)).collect(),
                via: admin.iter().map(|g| g.via()).collect(),
                evidence: format!(
                    "{who} holds every verb on every resource in every API group, cluster-wide, {}: it administers the whole cluster (Secrets, exec, RBAC, escalate and impersonate included, not listed separately).",
                    clauses.join("; ")
                ),
                remediation: format!(
                    "Remove {} and bind a least-privilege Role with a RoleBinding in the namespace {who} works in (`kubectl cicd init` builds one); keep cluster-admin for break-glass humans.",
                    admin
                        .iter()
                        .map(|g| g.binding_label())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            });
        }

        // Wildcards (full control through a RoleBinding included; through a
        // ClusterRoleBinding it is cluster-admin-binding above).
        let mut parts: Vec<(&Grant<'a>, Vec<Rule>, bool)> = Vec::new();
        for (g, p) in &counted {
            if g.cluster_binding && p.full_control {
                continue;
            }
            let rules = if g.cluster_binding {
                &p.wildcard
            } else {
                &p.wildcard_resources
            };
            if !rules.is_empty() {
                parts.push((g, rules.clone(), p.full_control));
            }
        }
        if !parts.is_empty() {
            let rule = rules::rule("wildcard").expect("rule");
            let mut severity = rule.severity;
            if parts.iter().any(|(g, _, _)| self.privileged(g)) {
                severity = raised(severity);
            }
            let clauses: Vec<String> = parts
                .iter()
                .map(|(g, rules, full)| {
                    let texts: Vec<String> = rules.iter().map(compact_string).collect();
                    let place = match g.namespace() {
                        Some(ns) => format!("in namespace {ns}"),
                        None => "cluster-wide".to_string(),
                    };
                    let full = if *full {
                        ", i.e. full control of the namespace (Secrets, exec, RBAC, escalate and impersonate included, not listed separately)"
                    } else {
                        ""
                    };
                    format!("{} {place}{full} {}", texts.join(", "), Self::through(g))
                })
                .collect();
            let roles: Vec<String> = parts.iter().map(|(g, _, _)| g.role_label()).collect();
            self.push(Draft {
                rule,
                severity: self.subject_severity(severity, person),
                subject: sg.subject.clone(),
                own: own.clone(),
                paths: parts.iter().map(|(g, _, _)| Self::path_of(g)).collect(),
                via: parts.iter().map(|(g, _, _)| g.via()).collect(),
                evidence: format!("{who} holds wildcard rules: {}.", clauses.join("; ")),
                remediation: format!(
                    "In {}, replace each `*` with the verbs, resources and API groups {who} needs (`kubectl cicd init` builds such a Role from the kinds you tick).",
                    dedup(roles).join(", ")
                ),
            });
        }

        // Many roles: the identity's own bindings (not those of groups it belongs to).
        let own_grants: Vec<&Grant<'a>> = counted
            .iter()
            .map(|(g, _)| *g)
            .filter(|g| g.group.is_none())
            .collect();
        let roles: BTreeSet<String> = own_grants.iter().map(|g| g.role_label()).collect();
        if roles.len() > self.options.many_roles {
            let rule = rules::rule("many-roles").expect("rule");
            self.push(Draft {
                rule,
                severity: self.subject_severity(rule.severity, person),
                subject: sg.subject.clone(),
                own: own.clone(),
                paths: vec![],
                via: own_grants.iter().map(|g| g.via()).collect(),
                evidence: format!(
                    "{who} is bound to {} (more than {}): {}.",
                    plural(roles.len(), "role"),
                    self.options.many_roles,
                    roles.iter().cloned().collect::<Vec<_>>().join(", ")
                ),
                remediation: format!(
                    "Consolidate {who}'s rights into one least-privilege Role per namespace and remove the other bindings."
                ),
            });
        }
    }

    /// For workload-create: which ServiceAccounts the pods it creates can run as.
    fn pod_identities(&self, parts: &[(&Grant<'_>, Vec<&Hit>)]) -> String {
        if parts.iter().any(|(g, _)| g.cluster_binding) {
            return " Pods it creates can run as any ServiceAccount of any namespace.".into();
        }
        let namespaces: BTreeSet<&str> = parts.iter().filter_map(|(g, _)| g.namespace()).collect();
        let texts: Vec<String> = namespaces
            .iter()
            .map(|ns| {
                let sas = self.sas_by_namespace.get(ns).cloned().unwrap_or_default();
                if sas.is_empty() {
                    format!("namespace {ns}")
                } else {
                    format!("namespace {ns} ({})", list_names(&sas, 8))
                }
            })
            .collect();
        format!(
            " Pods it creates can run as any ServiceAccount of {} and mount any Secret there.",
            texts.join(", ")
        )
    }

    fn where_text(&self, g: &Grant<'_>, hits: &[&Hit], check: &PermissionCheck) -> String {
        match g.namespace() {
            Some(ns) => format!("in namespace {ns}"),
            None if check.privileged_namespaces_only => {
                "in kube-system (and every other namespace)".into()
            }
            None if hits.iter().all(|h| h.cluster) => "cluster-wide".into(),
            None => "in every namespace".into(),
        }
    }

    fn permission_remediation(
        &self,
        rule: &RuleInfo,
        check: &PermissionCheck,
        parts: &[(&Grant<'_>, Vec<&Hit>)],
    ) -> String {
        let roles = dedup(parts.iter().map(|(g, _)| g.role_label()).collect()).join(", ");
        let wide = parts.iter().any(|(g, _)| g.cluster_binding);
        let wide_note = if wide && check.raise_when_wide {
            " Never grant it through a ClusterRoleBinding: that reaches every namespace."
        } else {
            ""
        };
        // A role that writes Secrets and workloads, as Helm's does.
        let helm_like = matches!(check.id, "secrets-read" | "token-create")
            && parts.iter().any(|(g, _)| {
                let rules = g.rules();
                crate::rbac::rules_allow(rules, &Request::new("create", "", "secrets"))
                    && (crate::rbac::rules_allow(
                        rules,
                        &Request::new("create", "apps", "deployments"),
                    ) || crate::rbac::rules_allow(rules, &Request::new("create", "", "pods")))
            });
        match check.id {
            "secrets-read" if helm_like => format!(
                "{roles} writes Secrets and workloads, as a Helm pipeline's Role does (the Welkin user demo's ci-cd Role is one). Helm 3 stores each release's state in Secrets of the release namespace (sh.helm.release.v1.<release>.v<revision>), so a Helm pipeline needs get, list, create, update and delete on secrets. Either accept that trade-off knowingly (init's `helm` preset grants exactly that) and record it with the annotations kubectl-cicd.io/ignore: secrets-read and kubectl-cicd.io/ignore-reason on the RoleBinding, or deploy from a dedicated namespace that holds no other Secrets; if the pipeline does not run Helm, remove secrets from {roles}.{wide_note}"
            ),
            "secrets-read" => format!(
                "Remove get, list and watch on secrets from {roles}. If the pipeline runs Helm 3, it needs them (Helm stores release state in Secrets of the release namespace): accept that with init's `helm` preset and a kubectl-cicd.io/ignore annotation with a reason, or deploy from a dedicated namespace that holds no other Secrets.{wide_note}"
            ),
            "token-create" if helm_like => format!(
                "{} Helm 3 creates and updates its release Secrets, so a Helm pipeline needs create on secrets: record the trade-off with a kubectl-cicd.io/ignore annotation and reason, or deploy from a dedicated namespace whose other ServiceAccounts hold nothing worth stealing.{wide_note}",
                rule.fix
            ),
            _ => format!("In {roles}: {}{wide_note}", lower_first(rule.fix)),
        }
    }

    /// cluster-wide-binding, pull-controller-cluster-wide, default-sa-bound.
    fn service_account_findings(&mut self, sg: &SubjectGrants<'a>, grants: &[Grant<'a>]) {
        let who = subject_label(&sg.subject);
        let own = Self::own_key(&sg.subject, sg.exists);
        let ns = sg.subject.namespace.as_deref().unwrap_or("");
        let direct: Vec<&Grant<'a>> = grants.iter().filter(|g| g.group.is_none()).collect();
        let wide: Vec<&&Grant<'a>> = direct
            .iter()
            .filter(|g| g.cluster_binding && g.role.is_some())
            .collect();
        let labels = self
            .sa_meta
            .get(&(ns, sg.subject.name.as_str()))
            .map(|m| &m.labels);
        let controller = pull_controller(ns, &sg.subject.name, labels);
        if let (Some((product, why)), false) = (&controller, wide.is_empty()) {
            let rule = rules::rule("pull-controller-cluster-wide").expect("rule");
            let clauses: Vec<String> = wide.iter().map(|g| Self::through(g)).collect();
            self.push(Draft {
                rule,
                severity: rule.severity,
                subject: sg.subject.clone(),
                own: own.clone(),
                paths: wide.iter().map(|g| Self::path_of(g)).collect(),
                via: wide.iter().map(|g| g.via()).collect(),
                evidence: format!(
                    "{who} belongs to {product} ({why}) and holds cluster-wide rights {}: whatever its sources describe is applied with them, in every namespace.",
                    clauses.join("; ")
                ),
                remediation: format!(
                    "Run {product} namespace-scoped ({}) and replace {} with RoleBindings in the namespaces it deploys to.",
                    if *product == "Flux" {
                        "multi-tenancy lockdown: --default-service-account, tenants' Kustomizations impersonating a namespace ServiceAccount"
                    } else {
                        "the namespace-install manifests, the application controller restricted with application.namespaces / --namespaced"
                    },
                    wide.iter()
                        .map(|g| g.binding_label())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            });
        }
        let plain: Vec<&&Grant<'a>> = wide
            .iter()
            .filter(|g| !self.full_control(g))
            .copied()
            .collect();
        if controller.is_none() && !plain.is_empty() {
            let rule = rules::rule("cluster-wide-binding").expect("rule");
            let clauses: Vec<String> = plain.iter().map(|g| Self::through(g)).collect();
            self.push(Draft {
                rule,
                severity: rule.severity,
                subject: sg.subject.clone(),
                own: own.clone(),
                paths: plain.iter().map(|g| Self::path_of(g)).collect(),
                via: plain.iter().map(|g| g.via()).collect(),
                evidence: format!(
                    "{who} is bound cluster-wide {}: its rights apply in every namespace, present and future.",
                    clauses.join("; ")
                ),
                remediation: format!(
                    "Replace {} with RoleBindings (to the same ClusterRole if needed) in the namespaces {who} deploys to.",
                    plain
                        .iter()
                        .map(|g| g.binding_label())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            });
        }
        if sg.subject.name == "default" {
            let bound: Vec<&&Grant<'a>> = direct.iter().filter(|g| g.role.is_some()).collect();
            if !bound.is_empty() {
                let rule = rules::rule("default-sa-bound").expect("rule");
                let clauses: Vec<String> = bound.iter().map(|g| Self::through(g)).collect();
                self.push(Draft {
                    rule,
                    severity: rule.severity,
                    subject: sg.subject.clone(),
                    own: own.clone(),
                    paths: bound.iter().map(|g| Self::path_of(g)).collect(),
                    via: bound.iter().map(|g| g.via()).collect(),
                    evidence: format!(
                        "{who} holds grants {}: every pod of namespace {ns} that names no ServiceAccount gets them.",
                        clauses.join("; ")
                    ),
                    remediation: format!(
                        "Bind the role to a dedicated ServiceAccount (`kubectl cicd init` creates one) and remove {}.",
                        bound
                            .iter()
                            .map(|g| g.binding_label())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                });
            }
        }
    }

    /// unused-identity, cloud-identity, long-lived-token.
    fn service_account_objects(&mut self) {
        let resolution = self.resolution;
        // Every ServiceAccount in scope: objects, and subjects of bindings (tokens may name
        // accounts that are gone).
        let mut accounts: BTreeSet<(&str, &str)> = BTreeSet::new();
        for m in &self.snapshot.service_accounts {
            if let Some(ns) = m.namespace.as_deref()
                && self.scope.service_account(ns, &m.name)
            {
                accounts.insert((ns, &m.name));
            }
        }
        for t in &self.snapshot.token_secrets {
            if let Some(ns) = t.meta.namespace.as_deref()
                && self.scope.service_account(ns, &t.service_account)
            {
                accounts.insert((ns, &t.service_account));
            }
        }
        for (ns, name) in accounts {
            let subject = resolve::service_account(ns, name);
            let who = subject_label(&subject);
            let meta = self.sa_meta.get(&(ns, name)).copied();
            let own = meta.map(|_| ObjKey::new("ServiceAccount", Some(ns), name));
            let tokens: Vec<&TokenSecretData> =
                self.tokens.get(&(ns, name)).cloned().unwrap_or_default();
            for t in &tokens {
                self.long_lived_token(&subject, own.clone(), t);
            }
            let Some(meta) = meta else {
                continue;
            };
            // Cloud identity.
            let cloud: Vec<String> = CLOUD_IDENTITY_ANNOTATIONS
                .iter()
                .filter_map(|k| meta.annotations.get(*k).map(|v| format!("{k}: {v}")))
                .collect();
            if !cloud.is_empty() {
                let rule = rules::rule("cloud-identity").expect("rule");
                self.push(Draft {
                    rule,
                    severity: rule.severity,
                    subject: subject.clone(),
                    own: own.clone(),
                    paths: vec![],
                    via: vec![],
                    evidence: format!(
                        "{who} is mapped to a cloud identity ({}): pods running as it, and whoever can create such pods or tokens for it, act in the cloud account with that role.",
                        cloud.join(", ")
                    ),
                    remediation: format!(
                        "Check that the cloud role is least-privilege and that no pipeline able to create workloads or tokens in namespace {ns} should hold it."
                    ),
                });
            }
            // Unused identity.
            if name == "default" {
                continue;
            }
            let named_by_binding = resolution
                .subject(&subject)
                .is_some_and(|sg| sg.direct().next().is_some());
            // Unbound can only be claimed when every binding could be read.
            let bindings_unread = resolve::has_gap(self.snapshot, "rolebindings")
                || resolve::has_gap(self.snapshot, "clusterrolebindings");
            let rule = rules::rule("unused-identity").expect("rule");
            if !named_by_binding && tokens.is_empty() && !bindings_unread {
                self.push(Draft {
                    rule,
                    severity: rule.severity,
                    subject: subject.clone(),
                    own: own.clone(),
                    paths: vec![],
                    via: vec![],
                    evidence: format!(
                        "{who} is named by no RoleBinding or ClusterRoleBinding and has no token Secret: nothing in RBAC uses it (pods may still run as it; check before deleting)."
                    ),
                    remediation: format!(
                        "Delete {who} if no workload runs as it (kubectl get pods -n {ns} -o jsonpath='{{..serviceAccountName}}')."
                    ),
                });
                continue;
            }
            let stale: Vec<(String, &TokenSecretData)> = tokens
                .iter()
                .filter_map(|t| self.stale_token(t).map(|why| (why, *t)))
                .collect();
            if !stale.is_empty() {
                let paths = stale
                    .iter()
                    .map(|(_, t)| {
                        vec![ObjKey::new(
                            "Secret",
                            t.meta.namespace.as_deref(),
                            &t.meta.name,
                        )]
                    })
                    .collect();
                let texts: Vec<String> = stale
                    .iter()
                    .map(|(why, t)| format!("token Secret {ns}/{} {why}", t.meta.name))
                    .collect();
                self.push(Draft {
                    rule,
                    severity: rule.severity,
                    subject: subject.clone(),
                    own: own.clone(),
                    paths,
                    via: vec![],
                    evidence: format!("{who}'s {}.", texts.join("; ")),
                    remediation: format!(
                        "Delete the stale token Secret{} ({}); if a pipeline still uses it, move it to short-lived tokens first (`kubectl cicd rotate`).",
                        if stale.len() == 1 { "" } else { "s" },
                        stale
                            .iter()
                            .map(|(_, t)| format!("kubectl delete secret -n {ns} {}", t.meta.name))
                            .collect::<Vec<_>>()
                            .join("; ")
                    ),
                });
            }
        }
    }

    fn days_since(&self, text: &str) -> Option<i64> {
        Some((self.now? - parse_time(text)?).div_euclid(86_400))
    }

    fn stale_token(&self, t: &TokenSecretData) -> Option<String> {
        if let Some(since) = &t.invalid_since {
            return Some(format!(
                "was invalidated on {since} by the legacy token cleaner (unused); the API server rejects it"
            ));
        }
        let limit = self.options.unused_token_days;
        if let Some(used) = &t.last_used {
            let days = self.days_since(used)?;
            return (days > limit)
                .then(|| format!("was last used on {used}, {days} days ago (more than {limit})"));
        }
        let created = t.meta.created.as_deref()?;
        let days = self.days_since(created)?;
        (days > limit).then(|| {
            format!(
                "has no recorded use (no kubernetes.io/legacy-token-last-used label) and was created {days} days ago (more than {limit})"
            )
        })
    }

    fn long_lived_token(&mut self, subject: &SubjectRef, own: Option<ObjKey>, t: &TokenSecretData) {
        let rule = rules::rule("long-lived-token").expect("rule");
        let ns = t.meta.namespace.as_deref().unwrap_or("");
        let who = subject_label(subject);
        let mut facts = Vec::new();
        match t.meta.created.as_deref() {
            Some(c) => match self.days_since(c) {
                Some(d) => facts.push(format!(
                    "created {c} ({})",
                    plural(d.max(0) as usize, "day") + " ago"
                )),
                None => facts.push(format!("created {c}")),
            },
            None => facts.push("creation time unknown".into()),
        }
        match t.last_used.as_deref() {
            Some(u) => match self.days_since(u) {
                Some(d) => facts.push(format!(
                    "last used {u} ({} ago)",
                    plural(d.max(0) as usize, "day")
                )),
                None => facts.push(format!("last used {u}")),
            },
            None => {
                facts.push("no recorded use (no kubernetes.io/legacy-token-last-used label)".into())
            }
        }
        if let Some(since) = &t.invalid_since {
            facts.push(format!(
                "invalid since {since} (kubernetes.io/legacy-token-invalid-since: the API server rejects it)"
            ));
        }
        let secret = ObjKey::new("Secret", Some(ns), &t.meta.name);
        self.push(Draft {
            rule,
            severity: rule.severity,
            subject: subject.clone(),
            own,
            paths: vec![vec![secret]],
            via: vec![],
            evidence: format!(
                "Secret {ns}/{} (type kubernetes.io/service-account-token) holds a non-expiring token for {who}: {}.",
                t.meta.name,
                facts.join("; ")
            ),
            remediation: format!(
                "Move the pipeline to short-lived tokens (`kubectl cicd init --token request`, or `kubectl create token {} -n {ns} --duration 24h`), rotate with `kubectl cicd rotate`, then `kubectl delete secret -n {ns} {}`.",
                subject.name, t.meta.name
            ),
        });
    }

    /// missing-role, broad-group-binding.
    fn binding_findings(&mut self) {
        let resolution = self.resolution;
        for m in &resolution.missing_roles {
            let b = m.binding;
            if resolve::is_builtin_binding(b) || !self.scope.binding_reaches(b, m.cluster_binding) {
                continue;
            }
            let key = ObjKey::of_binding(b, m.cluster_binding);
            let g = Grant {
                binding: b,
                cluster_binding: m.cluster_binding,
                role: None,
                group: None,
                builtin: false,
            };
            let subjects: Vec<String> = b
                .subjects
                .iter()
                .filter_map(|s| resolve::subject_of(&s.kind, &s.name, s.namespace.as_deref()))
                .map(|s| subject_label(&s))
                .collect();
            let rule = rules::rule("missing-role").expect("rule");
            let role_name = &b.role_ref.name;
            let where_ = match g.namespace() {
                Some(ns) if b.role_ref.kind == "Role" => format!(" in namespace {ns}"),
                _ => String::new(),
            };
            self.push(Draft {
                rule,
                severity: rule.severity,
                subject: binding_subject(b, m.cluster_binding),
                own: Some(key),
                paths: vec![],
                via: vec![g.via()],
                evidence: format!(
                    "{} refers to {}, which does not exist: it grants nothing now, and whoever creates a {} named {role_name}{where_} grants it to {}.",
                    g.binding_label(),
                    g.role_label(),
                    if b.role_ref.kind.is_empty() { "role" } else { b.role_ref.kind.as_str() },
                    if subjects.is_empty() { "nobody yet".to_string() } else { subjects.join(", ") }
                ),
                remediation: format!(
                    "Delete {} (kubectl delete {} {}{}), or create the {} it was meant to reference.",
                    g.binding_label(),
                    g.binding_kind().to_lowercase(),
                    b.meta.name,
                    g.namespace().map(|n| format!(" -n {n}")).unwrap_or_default(),
                    g.role_label()
                ),
            });
        }

        let all_bindings = self
            .snapshot
            .role_bindings
            .iter()
            .map(|b| (b, false))
            .chain(
                self.snapshot
                    .cluster_role_bindings
                    .iter()
                    .map(|b| (b, true)),
            );
        let mut role_index: HashMap<(&str, &str, &str), &RoleData> = HashMap::new();
        for r in &self.snapshot.roles {
            role_index.insert(
                (
                    "Role",
                    r.meta.namespace.as_deref().unwrap_or(""),
                    &r.meta.name,
                ),
                r,
            );
        }
        for r in &self.snapshot.cluster_roles {
            role_index.insert(("ClusterRole", "", &r.meta.name), r);
        }
        let mut drafts = Vec::new();
        for (b, cluster) in all_bindings {
            if resolve::is_builtin_binding(b) {
                continue;
            }
            let groups: Vec<&str> = b
                .subjects
                .iter()
                .filter(|s| s.kind == "Group" && is_broad_group(&s.name))
                .map(|s| s.name.as_str())
                .collect();
            if groups.is_empty() || !self.scope.binding_reaches(b, cluster) {
                continue;
            }
            let ns = if cluster {
                ""
            } else {
                b.meta.namespace.as_deref().unwrap_or("")
            };
            let role = match b.role_ref.kind.as_str() {
                "ClusterRole" => role_index.get(&("ClusterRole", "", b.role_ref.name.as_str())),
                "Role" if !cluster => role_index.get(&("Role", ns, b.role_ref.name.as_str())),
                _ => None,
            }
            .copied();
            let g = Grant {
                binding: b,
                cluster_binding: cluster,
                role,
                group: None,
                builtin: false,
            };
            let who: Vec<String> = groups.iter().map(|gname| describe_group(gname)).collect();
            let implied: Vec<&str> = match role {
                Some(r) => {
                    let p = profile(&r.rules);
                    let mut ids: Vec<&str> = rules::permission_checks()
                        .iter()
                        .enumerate()
                        .filter(|(i, c)| {
                            p.hits[*i].iter().any(|h| !h.cluster || cluster)
                                && (!c.privileged_namespaces_only || self.privileged(&g))
                        })
                        .map(|(_, c)| c.id)
                        .collect();
                    if p.full_control || !p.wildcard.is_empty() {
                        ids.insert(0, "wildcard");
                    }
                    ids
                }
                None => vec![],
            };
            let rule = rules::rule("broad-group-binding").expect("rule");
            let mut severity = rule.severity;
            let own_namespace_group = !cluster
                && groups.iter().all(|gname| {
                    gname
                        .strip_prefix(resolve::NAMESPACE_SERVICE_ACCOUNTS_PREFIX)
                        .is_some_and(|n| n == ns)
                });
            if own_namespace_group {
                severity = lowered(severity);
            }
            let mut path = vec![ObjKey::of_binding(b, cluster)];
            path.extend(ObjKey::of_role(&g));
            drafts.push(Draft {
                rule,
                severity,
                subject: binding_subject(b, cluster),
                own: Some(ObjKey::of_binding(b, cluster)),
                paths: vec![path],
                via: vec![g.via()],
                evidence: format!(
                    "{} grants {}{} to {}{}.{}",
                    g.binding_label(),
                    g.role_label(),
                    if role.is_none() { " (missing)" } else { "" },
                    who.join(" and "),
                    if implied.is_empty() {
                        String::new()
                    } else {
                        format!(", which includes {}", implied.join(", "))
                    },
                    match self.scope.service_account {
                        Some(sa) => format!(" It reaches the audited ServiceAccount {sa}."),
                        None => String::new(),
                    }
                ),
                remediation: format!(
                    "Bind {} to the specific ServiceAccounts, users or groups that need it instead of {}.",
                    g.role_label(),
                    groups.join(", ")
                ),
            });
        }
        for d in drafts {
            self.push(d);
        }
    }

    /// drift of Roles (and ClusterRoles) managed by kubectl-cicd.
    fn drift_findings(&mut self) {
        let snapshot = self.snapshot;
        let roles = snapshot
            .roles
            .iter()
            .map(|r| (r, false))
            .chain(snapshot.cluster_roles.iter().map(|r| (r, true)));
        for (role, cluster) in roles {
            if role.meta.labels.get(MANAGED_BY_LABEL).map(String::as_str) != Some(MANAGED_BY) {
                continue;
            }
            let in_scope = if self.scope.service_account.is_some() {
                self.bound_roles.contains(&role_key(role))
            } else if cluster {
                self.scope.all || self.bound_roles.contains(&role_key(role))
            } else {
                role.meta
                    .namespace
                    .as_deref()
                    .is_some_and(|n| self.scope.namespace(n))
            };
            if !in_scope {
                continue;
            }
            let key = if cluster {
                ObjKey::new("ClusterRole", None, &role.meta.name)
            } else {
                ObjKey::new("Role", role.meta.namespace.as_deref(), &role.meta.name)
            };
            let label = key.label();
            let problem = match role.meta.annotations.get(INTENDED_RULES) {
                None => Some(format!(
                    "{label} is labelled {MANAGED_BY_LABEL}: {MANAGED_BY} but carries no {INTENDED_RULES} annotation: its intent is unknown."
                )),
                Some(text) => match serde_json::from_str::<Vec<Rule>>(text) {
                    Err(e) => Some(format!(
                        "{label}'s {INTENDED_RULES} annotation is not a list of rules ({e}): its intent is unknown."
                    )),
                    Ok(intended) => {
                        let added = crate::rbac::covers(&intended, &role.rules).err();
                        let removed = crate::rbac::covers(&role.rules, &intended).err();
                        let show = |rules: &[Rule]| {
                            rules
                                .iter()
                                .map(compact_string)
                                .collect::<Vec<_>>()
                                .join(", ")
                        };
                        match (added, removed) {
                            (None, None) => None,
                            (added, removed) => {
                                let mut parts = Vec::new();
                                if let Some(a) = added {
                                    parts.push(format!(
                                        "holds {} that init did not grant",
                                        show(&a)
                                    ));
                                }
                                if let Some(r) = removed {
                                    parts.push(format!("lacks {} that init granted", show(&r)));
                                }
                                Some(format!(
                                    "{label} differs from the rules kubectl cicd init recorded in {INTENDED_RULES}: it {}.",
                                    parts.join(", and ")
                                ))
                            }
                        }
                    }
                },
            };
            let Some(evidence) = problem else {
                continue;
            };
            let identity = role
                .meta
                .labels
                .get(crate::managed::IDENTITY_LABEL)
                .cloned()
                .unwrap_or_else(|| role.meta.name.clone());
            let rule = rules::rule("drift").expect("rule");
            self.push(Draft {
                rule,
                severity: rule.severity,
                subject: SubjectRef {
                    kind: key.kind.to_string(),
                    name: role.meta.name.clone(),
                    namespace: role.meta.namespace.clone().filter(|_| !cluster),
                },
                own: Some(key.clone()),
                paths: vec![],
                via: vec![],
                evidence,
                remediation: format!(
                    "Re-run `kubectl cicd init --name {identity}{}` with the intended kinds (it shows the diff and restores {label}); if the change is wanted, re-run it with the new kinds so the intent is recorded.",
                    role.meta
                        .namespace
                        .as_deref()
                        .filter(|_| !cluster)
                        .map(|n| format!(" -n {n}"))
                        .unwrap_or_default()
                ),
            });
        }
    }

    /// many-subjects.
    fn namespace_findings(&mut self) {
        if self.scope.service_account.is_some() {
            return;
        }
        let mut per_ns: BTreeMap<&str, BTreeSet<SubjectRef>> = BTreeMap::new();
        for b in &self.snapshot.role_bindings {
            let Some(ns) = b.meta.namespace.as_deref() else {
                continue;
            };
            if resolve::is_builtin_binding(b) || !self.scope.namespace(ns) {
                continue;
            }
            let set = per_ns.entry(ns).or_default();
            for s in &b.subjects {
                if let Some(subject) = resolve::subject_of(&s.kind, &s.name, s.namespace.as_deref())
                    && resolve::classify(&subject) != SubjectClass::System
                {
                    set.insert(subject);
                }
            }
        }
        let rule = rules::rule("many-subjects").expect("rule");
        for (ns, subjects) in per_ns {
            if subjects.len() <= self.options.many_subjects {
                continue;
            }
            let names: Vec<String> = subjects.iter().map(subject_label).collect();
            let names: Vec<&str> = names.iter().map(String::as_str).collect();
            self.push(Draft {
                rule,
                severity: rule.severity,
                subject: SubjectRef {
                    kind: "Namespace".into(),
                    name: ns.to_string(),
                    namespace: None,
                },
                own: None,
                paths: vec![],
                via: vec![],
                evidence: format!(
                    "RoleBindings of namespace {ns} bind {} (more than {}): {}.",
                    plural(subjects.len(), "subject"),
                    self.options.many_subjects,
                    list_names(&names, 12)
                ),
                remediation: format!(
                    "Review the RoleBindings of {ns} (kubectl get rolebindings -n {ns} -o wide) and remove those nobody needs."
                ),
            });
        }
    }

    /// invalid-exception, on every involved or in-scope object carrying a bad annotation.
    fn invalid_exceptions(&mut self) {
        if self.annotated.is_empty() {
            return;
        }
        // In-scope objects besides those findings touched.
        for m in &self.snapshot.service_accounts {
            if let Some(ns) = m.namespace.as_deref()
                && self.scope.service_account(ns, &m.name)
            {
                self.involved
                    .insert(ObjKey::new("ServiceAccount", Some(ns), &m.name));
            }
        }
        for b in &self.snapshot.role_bindings {
            if self.scope.binding_reaches(b, false) {
                self.involved.insert(ObjKey::of_binding(b, false));
            }
        }
        for b in &self.snapshot.cluster_role_bindings {
            if self.scope.binding_reaches(b, true) {
                self.involved.insert(ObjKey::of_binding(b, true));
            }
        }
        if self.scope.service_account.is_none() {
            for r in &self.snapshot.roles {
                if r.meta
                    .namespace
                    .as_deref()
                    .is_some_and(|n| self.scope.namespace(n))
                {
                    self.involved.insert(ObjKey::new(
                        "Role",
                        r.meta.namespace.as_deref(),
                        &r.meta.name,
                    ));
                }
            }
        }
        for t in &self.snapshot.token_secrets {
            if let Some(ns) = t.meta.namespace.as_deref()
                && self.scope.service_account(ns, &t.service_account)
            {
                self.involved
                    .insert(ObjKey::new("Secret", Some(ns), &t.meta.name));
            }
        }
        let rule = rules::rule("invalid-exception").expect("rule");
        let mut drafts = Vec::new();
        for key in &self.involved {
            let Some((meta, exception)) = self.annotated.get(key) else {
                continue;
            };
            let Some(problem) = exception.problem() else {
                continue;
            };
            let label = key.label();
            let listed = meta
                .annotations
                .get(IGNORE_ANNOTATION)
                .cloned()
                .unwrap_or_default();
            drafts.push(Draft {
                rule,
                severity: rule.severity,
                subject: SubjectRef {
                    kind: key.kind.to_string(),
                    name: key.name.clone(),
                    namespace: key.namespace.clone(),
                },
                own: None,
                paths: vec![],
                via: vec![],
                evidence: format!(
                    "{label} carries {IGNORE_ANNOTATION}: {listed:?} but {problem}."
                ),
                remediation: format!(
                    "Add {}: \"<why this is accepted>\" to {label} and list only rule ids from docs/audit-rules.md (kubectl annotate {} {}{} {}='...'), or remove the annotation.",
                    super::exceptions::IGNORE_REASON_ANNOTATION,
                    key.kind.to_lowercase(),
                    key.name,
                    key.namespace.as_deref().map(|n| format!(" -n {n}")).unwrap_or_default(),
                    super::exceptions::IGNORE_REASON_ANNOTATION,
                ),
            });
        }
        self.drafts.extend(drafts);
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
            });
        }
        out
    }

    fn accepted_by_annotation(&self, d: &Draft) -> Option<Accepted> {
        if d.rule.id == "invalid-exception" || self.annotated.is_empty() {
            return None;
        }
        let accepts = |k: &ObjKey| {
            self.annotated
                .get(k)
                .filter(|(_, e)| e.accepts(d.rule.id))
                .map(|(_, e)| (k.label(), e.reason.clone().unwrap_or_default()))
        };
        let found: Vec<(String, String)> = if let Some(hit) = d.own.as_ref().and_then(accepts) {
            vec![hit]
        } else {
            if d.paths.is_empty() {
                return None;
            }
            let mut hits = Vec::new();
            for path in &d.paths {
                hits.push(path.iter().find_map(accepts)?);
            }
            hits
        };
        let sources = dedup(found.iter().map(|(l, _)| l.clone()).collect());
        let reasons = dedup(found.iter().map(|(_, r)| r.clone()).collect());
        Some(Accepted {
            reason: reasons.join("; "),
            source: format!("annotation {IGNORE_ANNOTATION} on {}", sources.join(", ")),
        })
    }

    fn accepted_by_flag(&self, d: &Draft) -> Option<Accepted> {
        if self.options.ignores.is_empty() {
            return None;
        }
        let mut names: Vec<(Option<&str>, &str)> =
            vec![(d.subject.namespace.as_deref(), d.subject.name.as_str())];
        for k in d.own.iter().chain(d.paths.iter().flatten()) {
            names.push((k.namespace.as_deref(), k.name.as_str()));
        }
        self.options
            .ignores
            .iter()
            .find(|i| i.matches(d.rule.id, names.iter().copied()))
            .map(Ignore::accepted)
    }
}

fn binding_subject(b: &BindingData, cluster: bool) -> SubjectRef {
    SubjectRef {
        kind: if cluster {
            "ClusterRoleBinding"
        } else {
            "RoleBinding"
        }
        .into(),
        name: b.meta.name.clone(),
        namespace: b.meta.namespace.clone().filter(|_| !cluster),
    }
}

fn describe_group(name: &str) -> String {
    match name {
        resolve::AUTHENTICATED => {
            "Group system:authenticated (every authenticated user and ServiceAccount)".into()
        }
        resolve::UNAUTHENTICATED => "Group system:unauthenticated (anonymous requests)".into(),
        resolve::ALL_SERVICE_ACCOUNTS => {
            "Group system:serviceaccounts (every ServiceAccount of the cluster)".into()
        }
        other => match other.strip_prefix(resolve::NAMESPACE_SERVICE_ACCOUNTS_PREFIX) {
            Some(ns) => format!("Group {other} (every ServiceAccount of namespace {ns})"),
            None => format!("Group {other}"),
        },
    }
}

fn dedup(list: Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(list.len());
    for s in list {
        if !out.contains(&s) {
            out.push(s);
        }
    }
    out
}

fn lower_first(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(first) => first.to_lowercase().chain(c).collect(),
        None => String::new(),
    }
}

/// `get, list, watch secrets and create pods/exec`; names appended when restricted.
fn actions(hits: &[&Hit]) -> String {
    struct Target<'h> {
        group: &'h str,
        resource: &'h str,
        verbs: Vec<&'h str>,
        names: Vec<&'h str>,
        unrestricted: bool,
    }
    let mut targets: Vec<Target<'_>> = Vec::new();
    for h in hits {
        let i = match targets
            .iter()
            .position(|t| t.group == h.group && t.resource == h.resource)
        {
            Some(i) => i,
            None => {
                targets.push(Target {
                    group: h.group,
                    resource: h.resource,
                    verbs: Vec::new(),
                    names: Vec::new(),
                    unrestricted: false,
                });
                targets.len() - 1
            }
        };
        let t = &mut targets[i];
        if !t.verbs.contains(&h.verb) {
            t.verbs.push(h.verb);
        }
        match &h.names {
            Some(names) => {
                for n in names {
                    if !t.names.contains(&n.as_str()) {
                        t.names.push(n);
                    }
                }
            }
            None => t.unrestricted = true,
        }
    }
    let mut out = String::new();
    for (i, t) in targets.iter().enumerate() {
        if i > 0 {
            out.push_str(" and ");
        }
        out.push_str(&t.verbs.join(", "));
        out.push(' ');
        out.push_str(&group_resource(t.group, t.resource));
        if !t.unrestricted && !t.names.is_empty() {
            out.push_str(&format!(" (only {})", t.names.join(", ")));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::exceptions::parse_ignore;
    use crate::audit::snapshot::from_objects;
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

    // ---- the twins fixture ------------------------------------------------------------

    /// Every catalogue rule fires on its positive twin and not on its negative twin, with the
    /// fixture seeded into a sandbox-like cluster (its defaults included).
    #[test]
    fn every_rule_fires_on_its_positive_twin_and_not_on_its_negative() {
        let findings = run(&sandbox_objects(&twins()), &all());
        let on = |f: &Finding, who: &str| {
            f.subject.name == who || f.subject.namespace.as_deref() == Some(who)
        };
        let mut problems = Vec::new();
        for rule in rules::catalogue() {
            let pos = format!("pos-{}", rule.id);
            let neg = format!("neg-{}", rule.id);
            if !findings.iter().any(|f| f.rule == rule.id && on(f, &pos)) {
                problems.push(format!("{} does not fire on {pos}", rule.id));
            }
            for f in findings.iter().filter(|f| f.rule == rule.id && on(f, &neg)) {
                problems.push(format!("{} fires on {neg}: {}", rule.id, f.evidence));
            }
        }
        assert!(problems.is_empty(), "{}", problems.join("\n"));
        // the twins are open findings, the annotated negative exception is accepted
        let accepted: Vec<&Finding> = findings.iter().filter(|f| f.accepted.is_some()).collect();
        assert_eq!(accepted.len(), 1, "{accepted:#?}");
        assert_eq!(accepted[0].subject.name, "neg-invalid-exception");
    }

    #[test]
    fn the_twins_parse_through_from_objects_alone() {
        // Without the sandbox: the fixture's own objects are enough for the rules that do
        // not need the sandbox's built-in roles (all of them: the fixture defines its own).
        let objects: Vec<Value> = twins();
        let snap = from_objects(&objects, NOW);
        assert!(snap.service_accounts.len() > 50);
        assert_eq!(snap.token_secrets.len(), 1);
        let findings = analyze(&snap, &all(), &Options::default());
        for rule in rules::catalogue() {
            let pos = format!("pos-{}", rule.id);
            assert!(
                findings.iter().any(|f| f.rule == rule.id
                    && (f.subject.name == pos || f.subject.namespace.as_deref() == Some(&pos))),
                "{}",
                rule.id
            );
        }
    }

    // ---- the sandbox's default objects ------------------------------------------------

    #[test]
    fn a_default_cluster_is_quiet() {
        let findings = run(&sandbox_objects(&[]), &all());
        for f in &findings {
            assert_eq!(f.severity, Severity::Info, "{f:#?}");
            assert_eq!(f.subject.kind, "User", "only people, at info: {f:#?}");
            assert!(
                ["alice", "bob"].contains(&f.subject.name.as_str()),
                "{f:#?}"
            );
        }
        // alice is admin of team-a (through the aggregated admin ClusterRole)
        let alice = ids_for(&findings, "alice");
        for id in ["secrets-read", "pod-exec", "rbac-write", "workload-create"] {
            assert!(alice.contains(id), "{alice:?}");
        }
        // system:masters, system:authenticated, the default ServiceAccounts: nothing
        assert!(
            !findings
                .iter()
                .any(|f| f.subject.name.starts_with("system:")
                    || f.subject.name == "default"
                    || f.subject.name == "cluster-admin")
        );
        // the same, rated: alice's admin grant is high
        let rated = analyze(
            &from_objects(&sandbox_objects(&[]), NOW),
            &all(),
            &Options {
                people: PeoplePolicy::Rate,
                ..Options::default()
            },
        );
        assert!(of(&rated, "secrets-read", "alice")[0].severity == Severity::High);
        let skipped = analyze(
            &from_objects(&sandbox_objects(&[]), NOW),
            &all(),
            &Options {
                people: PeoplePolicy::Skip,
                ..Options::default()
            },
        );
        assert!(skipped.is_empty(), "{skipped:#?}");
    }

    // ---- init's presets -----------------------------------------------------------------

    /// The objects `kubectl cicd init --preset NAME --yes` creates in team-a (ServiceAccount,
    /// Role with its intended-rules annotation, RoleBinding, token Secret).
    fn init_objects(preset: &str) -> Vec<Value> {
        use crate::init::objects::desired;
        use crate::init::plan::{Choices, Plan, TokenPlan};
        use crate::issue::write::DEFAULT_OUTPUT;
        use crate::managed::{Provenance, TokenRecord};
        use crate::rbac::{ServedKind, presets};
        let preset = presets::by_name(preset).expect("preset");
        let served: Vec<ServedKind> = preset
            .wants
            .iter()
            .map(|w| {
                ServedKind::new(
                    &w.group,
                    "v1",
                    &w.resource,
                    &w.resource,
                    true,
                    crate::rbac::READ_WRITE_VERBS,
                )
            })
            .collect();
        let resolution = preset.resolve(&served);
        let plan = Plan::new(
            "team-a",
            Choices {
                name: "ci-cd".into(),
                selections: resolution.selections,
                skipped: resolution.skipped,
                token: TokenPlan::Secret,
                output: DEFAULT_OUTPUT.into(),
                overwrite: false,
                allow_risky: true,
                server: None,
            },
        )
        .expect("plan");
        let d = desired(
            &plan,
            &Provenance {
                created_by: "alice".into(),
                created_at: NOW.into(),
            },
            &TokenRecord::secret(&plan.fresh_token_secret_name()),
        );
        let mut out = vec![
            serde_json::to_value(&d.service_account).unwrap(),
            serde_json::to_value(&d.role).unwrap(),
            serde_json::to_value(&d.role_binding).unwrap(),
        ];
        out.extend(d.token_secret.map(|s| serde_json::to_value(&s).unwrap()));
        out
    }

    #[test]
    fn a_web_app_identity_has_no_finding_at_high_or_above() {
        let objects = sandbox_objects(&init_objects("web-app"));
        for scope in [only_sa("team-a", "ci-cd"), in_ns("team-a")] {
            let findings = run(&objects, &scope);
            let ci: Vec<&Finding> = findings
                .iter()
                .filter(|f| f.subject.name == "ci-cd")
                .collect();
            for f in &ci {
                assert!(f.severity > Severity::High, "{f:#?}");
            }
            let ids: BTreeSet<&str> = ci.iter().map(|f| f.rule.as_str()).collect();
            assert_eq!(
                ids,
                BTreeSet::from(["workload-create", "network-write", "long-lived-token"]),
                "{ci:#?}"
            );
        }
        // and the whole namespace gates nothing at high: alice and bob are people (info)
        let findings = run(&objects, &in_ns("team-a"));
        assert!(
            findings.iter().all(|f| f.severity > Severity::High),
            "{findings:#?}"
        );
    }

    #[test]
    fn the_welkin_demo_role_is_flagged_secrets_read_at_high_with_the_helm_explanation() {
        let objects = sandbox_objects(&init_objects("welkin-demo"));
        let findings = run(&objects, &only_sa("team-a", "ci-cd"));
        let secrets = of(&findings, "secrets-read", "ci-cd");
        assert_eq!(secrets.len(), 1, "{findings:#?}");
        let f = secrets[0];
        assert_eq!(f.severity, Severity::High);
        assert!(
            f.evidence
                .contains("get, list, watch secrets in namespace team-a"),
            "{}",
            f.evidence
        );
        assert!(
            f.evidence
                .contains("RoleBinding team-a/ci-cd to Role team-a/ci-cd")
        );
        for needle in [
            "Helm 3 stores each release's state in Secrets",
            "Welkin",
            "`helm` preset",
            "dedicated namespace",
        ] {
            assert!(
                f.remediation.contains(needle),
                "{needle}: {}",
                f.remediation
            );
        }
        assert!(
            findings.iter().all(|f| f.severity > Severity::Critical),
            "{findings:#?}"
        );
        assert!(
            of(&findings, "drift", "ci-cd").is_empty(),
            "init's intent matches"
        );
        let tok = of(&findings, "token-create", "ci-cd");
        assert!(tok[0].remediation.contains("Helm"), "{tok:#?}");
    }

    // ---- severity ------------------------------------------------------------------------

    #[test]
    fn severity_is_raised_for_wide_grants_and_lowered_for_named_ones() {
        let secrets = [r(&[""], &["secrets"], &["get"])];
        let sev = |findings: &[Finding], id: &str| of(findings, id, "ci")[0].severity;
        assert_eq!(
            sev(&fired(&secrets, false).1, "secrets-read"),
            Severity::High
        );
        assert_eq!(
            sev(&fired(&secrets, true).1, "secrets-read"),
            Severity::Critical
        );
        let named = [r(&[""], &["secrets"], &["get", "list"]).with_names(["helm-state"])];
        let (ids, findings) = fired(&named, false);
        assert!(ids.contains("secrets-read"));
        let f = of(&findings, "secrets-read", "ci")[0];
        assert_eq!(f.severity, Severity::Medium);
        assert!(
            f.evidence.contains("get secrets (only helm-state)"),
            "{}",
            f.evidence
        );
        assert!(
            !f.evidence.contains("list"),
            "list carries no name: {}",
            f.evidence
        );
        // a privileged namespace counts as wide
        let objects = vec![
            sa("x", "ci"),
            cluster_role("reader", &secrets),
            rb(
                "kube-system",
                "r",
                "ClusterRole",
                "reader",
                sa_subject("x", "ci"),
            ),
        ];
        assert_eq!(
            sev(&run(&objects, &all()), "secrets-read"),
            Severity::Critical
        );
        // rules about cluster-scoped kinds are not raised
        let (_, findings) = fired(&[r(&[""], &["nodes/proxy"], &["get"])], true);
        assert_eq!(sev(&findings, "node-proxy"), Severity::Critical);
        let (_, findings) = fired(&[r(&[""], &["nodes"], &["patch"])], true);
        assert_eq!(sev(&findings, "node-write"), Severity::Medium);
    }

    #[test]
    fn cluster_scoped_kinds_granted_by_a_rolebinding_are_inert() {
        for rules in [
            vec![r(&[""], &["nodes/proxy"], &["get"])],
            vec![r(&[""], &["persistentvolumes"], &["create"])],
            vec![r(
                &["admissionregistration.k8s.io"],
                &["mutatingwebhookconfigurations"],
                &["create"],
            )],
            vec![r(&[RBAC], &["clusterroles"], &["escalate"])],
            vec![r(&[""], &["users"], &["impersonate"])],
        ] {
            let (ids, _) = fired(&rules, false);
            assert!(ids.is_empty(), "{rules:?}: {ids:?}");
            let (ids, _) = fired(&rules, true);
            assert!(!ids.is_empty(), "{rules:?}");
        }
        // but a RoleBinding grants its own namespace object, and `bind` on clusterroles
        let (ids, _) = fired(&[r(&[""], &["namespaces"], &["patch"])], false);
        assert!(ids.contains("namespace-write"));
        let (ids, _) = fired(&[r(&[RBAC], &["clusterroles"], &["bind"])], false);
        assert!(ids.contains("escalate-bind-impersonate"));
        let (ids, _) = fired(&[r(&[""], &["serviceaccounts"], &["impersonate"])], false);
        assert!(ids.contains("escalate-bind-impersonate"));
    }

    #[test]
    fn full_control_is_reported_once() {
        let all_rules = [r(&["*"], &["*"], &["*"])];
        let (ids, findings) = fired(&all_rules, true);
        assert_eq!(
            ids,
            BTreeSet::from(["cluster-admin-binding".to_string()]),
            "{findings:#?}"
        );
        let f = &findings[0];
        assert_eq!(f.severity, Severity::Critical);
        assert_eq!(f.via[0].binding, "ClusterRoleBinding probe");
        assert_eq!(f.via[0].role, "ClusterRole probe");
        let (ids, findings) = fired(&all_rules, false);
        assert_eq!(
            ids,
            BTreeSet::from(["wildcard".to_string()]),
            "{findings:#?}"
        );
        assert!(
            findings[0]
                .evidence
                .contains("full control of the namespace")
        );
        assert_eq!(findings[0].severity, Severity::High);
        // partial wildcards report what they imply
        let (ids, _) = fired(&[r(&[""], &["*"], &["get"])], false);
        assert!(
            ids.contains("wildcard") && ids.contains("secrets-read"),
            "{ids:?}"
        );
        let (ids, _) = fired(&[r(&["apps"], &["deployments"], &["*"])], false);
        assert!(
            ids.contains("wildcard") && ids.contains("workload-create"),
            "{ids:?}"
        );
        // non-resource wildcard: only cluster-wide it means anything
        let (ids, _) = fired(&[Rule::non_resource(&["*"], &["get"])], true);
        assert!(ids.contains("wildcard"), "{ids:?}");
        let (ids, _) = fired(&[Rule::non_resource(&["*"], &["get"])], false);
        assert!(ids.is_empty(), "{ids:?}");
    }

    // ---- exceptions ---------------------------------------------------------------------

    fn secrets_identity(
        sa_annotations: Value,
        rb_annotations: Value,
        second_binding: bool,
    ) -> Vec<Value> {
        let mut account = sa("x", "ci");
        account["metadata"]["annotations"] = sa_annotations;
        let mut binding = rb("x", "read", "Role", "read", sa_subject("x", "ci"));
        binding["metadata"]["annotations"] = rb_annotations;
        let mut out = vec![
            account,
            role("x", "read", &[r(&[""], &["secrets"], &["get"])]),
            binding,
        ];
        if second_binding {
            out.push(cluster_role(
                "read-too",
                &[r(&[""], &["secrets"], &["list"])],
            ));
            out.push(rb(
                "x",
                "read-too",
                "ClusterRole",
                "read-too",
                sa_subject("x", "ci"),
            ));
        }
        out
    }

    #[test]
    fn annotation_exceptions_with_a_reason_accept_without_one_are_reported() {
        let ok = json!({"kubectl-cicd.io/ignore": "secrets-read",
                        "kubectl-cicd.io/ignore-reason": "Helm release state"});
        let bad = json!({"kubectl-cicd.io/ignore": "secrets-read"});
        // on the ServiceAccount
        let findings = run(&secrets_identity(ok.clone(), json!({}), true), &all());
        let f = of(&findings, "secrets-read", "ci")[0];
        let a = f.accepted.as_ref().expect("accepted");
        assert_eq!(a.reason, "Helm release state");
        assert_eq!(
            a.source,
            "annotation kubectl-cicd.io/ignore on ServiceAccount x/ci"
        );
        assert!(of(&findings, "invalid-exception", "ci").is_empty());
        // on the binding: accepted only when every grant behind the finding is covered
        let findings = run(&secrets_identity(json!({}), ok.clone(), false), &all());
        let a = of(&findings, "secrets-read", "ci")[0]
            .accepted
            .clone()
            .expect("accepted");
        assert_eq!(
            a.source,
            "annotation kubectl-cicd.io/ignore on RoleBinding x/read"
        );
        let findings = run(&secrets_identity(json!({}), ok, true), &all());
        assert!(
            of(&findings, "secrets-read", "ci")[0].accepted.is_none(),
            "RoleBinding x/read-too still grants it"
        );
        // without a reason: not applied, and reported
        let findings = run(&secrets_identity(bad, json!({}), false), &all());
        assert!(of(&findings, "secrets-read", "ci")[0].accepted.is_none());
        let invalid = of(&findings, "invalid-exception", "ci");
        assert_eq!(invalid.len(), 1);
        assert_eq!(invalid[0].subject.kind, "ServiceAccount");
        assert!(
            invalid[0]
                .evidence
                .contains("has no kubectl-cicd.io/ignore-reason annotation"),
            "{}",
            invalid[0].evidence
        );
        assert!(
            invalid[0]
                .remediation
                .contains("kubectl annotate serviceaccount ci -n x")
        );
        // unknown ids are reported; the known ones still apply
        let odd = json!({"kubectl-cicd.io/ignore": "secrets-read,secret-read",
                         "kubectl-cicd.io/ignore-reason": "Helm"});
        let findings = run(&secrets_identity(json!({}), odd, false), &all());
        assert!(of(&findings, "secrets-read", "ci")[0].accepted.is_some());
        let invalid = of(&findings, "invalid-exception", "read");
        assert_eq!(invalid[0].subject.kind, "RoleBinding");
        assert!(
            invalid[0]
                .evidence
                .contains("names unknown rule secret-read")
        );
    }

    #[test]
    fn annotation_on_the_role_accepts() {
        let mut objects = secrets_identity(json!({}), json!({}), false);
        objects[1]["metadata"]["annotations"] = json!({"kubectl-cicd.io/ignore": "secrets-read",
            "kubectl-cicd.io/ignore-reason": "reviewed 2026-11"});
        let findings = run(&objects, &all());
        let a = of(&findings, "secrets-read", "ci")[0]
            .accepted
            .clone()
            .unwrap();
        assert_eq!(a.source, "annotation kubectl-cicd.io/ignore on Role x/read");
    }

    #[test]
    fn ignore_flags_with_and_without_target() {
        let objects = {
            let mut o = secrets_identity(json!({}), json!({}), false);
            o.push(sa("x", "other"));
            o.push(rb(
                "x",
                "read-other",
                "Role",
                "read",
                sa_subject("x", "other"),
            ));
            o
        };
        let with = |flags: &[&str]| {
            analyze(
                &from_objects(&objects, NOW),
                &all(),
                &Options {
                    ignores: flags.iter().map(|f| parse_ignore(f).unwrap()).collect(),
                    ..Options::default()
                },
            )
        };
        let findings = with(&["secrets-read"]);
        assert!(of(&findings, "secrets-read", "ci")[0].accepted.is_some());
        assert!(of(&findings, "secrets-read", "other")[0].accepted.is_some());
        let findings = with(&["secrets-read:x/ci"]);
        let a = of(&findings, "secrets-read", "ci")[0]
            .accepted
            .clone()
            .unwrap();
        assert_eq!(a.source, "--ignore secrets-read:x/ci");
        assert!(of(&findings, "secrets-read", "other")[0].accepted.is_none());
        // by an object involved: the Role both share
        let findings = with(&["secrets-read:x/read"]);
        assert!(of(&findings, "secrets-read", "other")[0].accepted.is_some());
        // another rule: nothing
        let findings = with(&["wildcard"]);
        assert!(findings.iter().all(|f| f.accepted.is_none()));
        let summary = summarize(&with(&["secrets-read:x/ci"]));
        assert_eq!(summary.accepted, 1);
    }

    // ---- scope ----------------------------------------------------------------------------

    fn scoped_objects() -> Vec<Value> {
        let secrets = [r(&[""], &["secrets"], &["get"])];
        vec![
            sa("a", "ci"),
            sa("b", "ci"),
            sa("b", "wide"),
            role("a", "read", &secrets),
            role("b", "read", &secrets),
            rb("a", "ci", "Role", "read", sa_subject("a", "ci")),
            rb("b", "ci", "Role", "read", sa_subject("b", "ci")),
            // a's ServiceAccount also reads in b: audited with a
            rb("b", "a-ci", "Role", "read", sa_subject("a", "ci")),
            cluster_role("reader", &[r(&[""], &["configmaps"], &["get"])]),
            crb("b-wide", "reader", sa_subject("b", "wide")),
            rb(
                "a",
                "carol",
                "Role",
                "read",
                json!([{"kind": "User", "name": "carol"}]),
            ),
            rb(
                "b",
                "dave",
                "Role",
                "read",
                json!([{"kind": "User", "name": "dave"}]),
            ),
            rb(
                "a",
                "gone",
                "Role",
                "gone",
                json!([{"kind": "User", "name": "carol"}]),
            ),
            rb(
                "b",
                "gone",
                "Role",
                "gone",
                json!([{"kind": "User", "name": "dave"}]),
            ),
        ]
    }

    fn subjects(findings: &[Finding]) -> BTreeSet<String> {
        findings.iter().map(|f| subject_label(&f.subject)).collect()
    }

    #[test]
    fn namespace_scope() {
        let findings = run(&scoped_objects(), &in_ns("a"));
        assert_eq!(
            subjects(&findings),
            BTreeSet::from([
                "ServiceAccount a/ci".to_string(),
                "User carol".to_string(),
                "RoleBinding a/gone".to_string()
            ]),
            "{findings:#?}"
        );
        let f = of(&findings, "secrets-read", "ci")[0];
        assert!(
            f.evidence
                .contains("in namespace b through RoleBinding b/a-ci"),
            "{}",
            f.evidence
        );
        let findings = run(&scoped_objects(), &in_ns("b"));
        assert_eq!(
            subjects(&findings),
            BTreeSet::from([
                "ServiceAccount b/ci".to_string(),
                "ServiceAccount b/wide".to_string(),
                "User dave".to_string(),
                "RoleBinding b/gone".to_string()
            ]),
            "{findings:#?}"
        );
        assert!(!of(&findings, "cluster-wide-binding", "wide").is_empty());
        // a ClusterRoleBinding reaching into a namespace is audited there
        let findings = run(&scoped_objects(), &all());
        assert_eq!(subjects(&findings).len(), 7);
        assert!(
            run(&scoped_objects(), &Scope::default()).is_empty(),
            "empty scope"
        );
    }

    #[test]
    fn service_account_scope() {
        let findings = run(&scoped_objects(), &only_sa("a", "ci"));
        assert_eq!(
            subjects(&findings),
            BTreeSet::from(["ServiceAccount a/ci".to_string()])
        );
        let findings = run(
            &scoped_objects(),
            &Scope {
                service_account: Some("ci".into()),
                ..Scope::default()
            },
        );
        assert_eq!(
            subjects(&findings),
            BTreeSet::from([
                "ServiceAccount a/ci".to_string(),
                "ServiceAccount b/ci".to_string()
            ]),
            "no namespace given: that name in any namespace"
        );
        // --sa sees a missing-role binding naming it, its token, and a broad-group binding
        let mut objects = scoped_objects();
        objects.push(rb("a", "ci-gone", "Role", "gone", sa_subject("a", "ci")));
        objects.push(rb(
            "a",
            "everyone",
            "Role",
            "read",
            json!([{"kind": "Group", "name": "system:serviceaccounts:a"}]),
        ));
        objects.push(
            json!({"kind": "Secret", "type": "kubernetes.io/service-account-token",
            "metadata": {"name": "ci-token", "namespace": "a",
                         "annotations": {"kubernetes.io/service-account.name": "ci"}}}),
        );
        let findings = run(&objects, &only_sa("a", "ci"));
        let labels = subjects(&findings);
        assert!(labels.contains("RoleBinding a/ci-gone"), "{labels:?}");
        assert!(labels.contains("RoleBinding a/everyone"), "{labels:?}");
        let everyone = of(&findings, "broad-group-binding", "everyone");
        assert!(
            everyone[0]
                .evidence
                .ends_with("It reaches the audited ServiceAccount ci.")
        );
        assert!(!labels.contains("RoleBinding a/gone"), "{labels:?}");
        assert!(!of(&findings, "long-lived-token", "ci").is_empty());
    }

    // ---- individual rules -----------------------------------------------------------------

    #[test]
    fn broad_groups_reach_every_service_account_and_are_reported_on_the_binding() {
        let objects = vec![
            sa("a", "one"),
            sa("b", "two"),
            cluster_role("secrets", &[r(&[""], &["secrets"], &["list"])]),
            crb(
                "everyone",
                "secrets",
                json!([{"kind": "Group", "name": "system:serviceaccounts"}]),
            ),
            rb(
                "a",
                "own",
                "ClusterRole",
                "secrets",
                json!([{"kind": "Group", "name": "system:serviceaccounts:a"}]),
            ),
        ];
        let findings = run(&objects, &all());
        let everyone = of(&findings, "broad-group-binding", "everyone");
        assert_eq!(everyone[0].severity, Severity::High);
        assert_eq!(everyone[0].subject.kind, "ClusterRoleBinding");
        assert!(
            everyone[0]
                .evidence
                .contains("every ServiceAccount of the cluster")
        );
        assert!(
            everyone[0].evidence.contains("which includes secrets-read"),
            "{}",
            everyone[0].evidence
        );
        let own = of(&findings, "broad-group-binding", "own");
        assert_eq!(
            own[0].severity,
            Severity::Medium,
            "its own namespace's ServiceAccounts"
        );
        let two = of(&findings, "secrets-read", "two")[0];
        assert_eq!(
            two.via[0].binding,
            "ClusterRoleBinding everyone (Group system:serviceaccounts)"
        );
        assert_eq!(two.severity, Severity::Critical);
        assert_eq!(of(&findings, "secrets-read", "one")[0].via.len(), 2);
        // group grants are not the account's own bindings
        assert!(of(&findings, "cluster-wide-binding", "two").is_empty());
        assert!(!of(&findings, "unused-identity", "two").is_empty());
    }

    #[test]
    fn unread_bindings_make_no_unused_identity_claim() {
        let objects = [sa("team-a", "deployer")];
        let scope = Scope {
            namespaces: vec!["team-a".into()],
            ..Scope::default()
        };
        let mut snapshot = from_objects(&objects, NOW);
        let findings = analyze(&snapshot, &scope, &Options::default());
        assert!(!of(&findings, "unused-identity", "deployer").is_empty());
        snapshot.gaps.push("clusterrolebindings: forbidden".into());
        let findings = analyze(&snapshot, &scope, &Options::default());
        assert!(
            of(&findings, "unused-identity", "deployer").is_empty(),
            "a ClusterRoleBinding the caller cannot read may name it"
        );
    }

    #[test]
    fn system_identities_and_bootstrap_bindings_are_not_audited() {
        let mut masters = crb(
            "cluster-admin",
            "cluster-admin",
            json!([{"kind": "Group", "name": "system:masters"}]),
        );
        masters["metadata"]["labels"] = json!({"kubernetes.io/bootstrapping": "rbac-defaults"});
        let mut fake = crb("sneaky", "cluster-admin", sa_subject("x", "ci"));
        fake["metadata"]["labels"] = json!({"kubernetes.io/bootstrapping": "rbac-defaults"});
        let objects = vec![
            cluster_role("cluster-admin", &[r(&["*"], &["*"], &["*"])]),
            masters,
            crb(
                "scheduler",
                "cluster-admin",
                json!([{"kind": "User", "name": "system:kube-scheduler"}]),
            ),
            sa("x", "ci"),
            fake,
        ];
        let findings = run(&objects, &all());
        assert_eq!(
            subjects(&findings),
            BTreeSet::from(["ServiceAccount x/ci".to_string()])
        );
        assert!(
            !of(&findings, "cluster-admin-binding", "ci").is_empty(),
            "a label cannot hide it"
        );
    }

    #[test]
    fn pull_controllers_by_name_and_label() {
        assert_eq!(
            pull_controller("argocd", "argocd-application-controller", None)
                .unwrap()
                .0,
            "Argo CD"
        );
        assert_eq!(
            pull_controller("flux-system", "kustomize-controller", None)
                .unwrap()
                .0,
            "Flux"
        );
        assert_eq!(
            pull_controller("flux-system", "image-reflector-controller", None)
                .unwrap()
                .0,
            "Flux"
        );
        assert!(pull_controller("team-a", "kustomize-controller", None).is_none());
        let labels =
            BTreeMap::from([("app.kubernetes.io/part-of".to_string(), "flux".to_string())]);
        assert_eq!(
            pull_controller("gitops", "x", Some(&labels)).unwrap().0,
            "Flux"
        );
        assert!(pull_controller("team-a", "ci", None).is_none());
        let objects = vec![
            sa("argocd", "argocd-application-controller"),
            cluster_role(
                "argocd-application-controller",
                &[r(&["*"], &["*"], &["*"])],
            ),
            crb(
                "argocd-application-controller",
                "argocd-application-controller",
                sa_subject("argocd", "argocd-application-controller"),
            ),
            sa("flux-system", "helm-controller"),
            cluster_role("reader", &[r(&[""], &["configmaps"], &["get"])]),
            crb(
                "flux-reader",
                "reader",
                sa_subject("flux-system", "helm-controller"),
            ),
        ];
        let findings = run(&objects, &all());
        let argo = of(
            &findings,
            "pull-controller-cluster-wide",
            "argocd-application-controller",
        );
        assert!(
            argo[0]
                .evidence
                .contains("belongs to Argo CD (its name argocd-application-controller)")
        );
        assert!(argo[0].remediation.contains("namespace-install"));
        assert!(
            !of(
                &findings,
                "cluster-admin-binding",
                "argocd-application-controller"
            )
            .is_empty()
        );
        let flux = of(&findings, "pull-controller-cluster-wide", "helm-controller");
        assert!(flux[0].remediation.contains("--default-service-account"));
        assert!(
            of(&findings, "cluster-wide-binding", "helm-controller").is_empty(),
            "the specific rule replaces the generic one"
        );
    }

    #[test]
    fn drift_against_the_recorded_intent() {
        let intended = vec![r(&["apps"], &["deployments"], &["get", "create"])];
        let managed = |name: &str, rules: &[Rule], annotation: Option<String>| {
            let mut v = role("x", name, rules);
            v["metadata"]["labels"] = json!({"app.kubernetes.io/managed-by": "kubectl-cicd",
                                             "kubectl-cicd.io/identity": name});
            if let Some(a) = annotation {
                v["metadata"]["annotations"] = json!({"kubectl-cicd.io/intended-rules": a});
            }
            v
        };
        let json_of = |rules: &[Rule]| serde_json::to_string(rules).unwrap();
        let objects = vec![
            // same rules, different order and split: no drift
            managed(
                "same",
                &[
                    r(&["apps"], &["deployments"], &["create"]),
                    r(&["apps"], &["deployments"], &["get"]),
                ],
                Some(json_of(&intended)),
            ),
            managed(
                "changed",
                &[
                    r(&["apps"], &["deployments"], &["get"]),
                    r(&[""], &["secrets"], &["get"]),
                ],
                Some(json_of(&intended)),
            ),
            managed("unknown", &intended, None),
            managed("garbled", &intended, Some("not json".into())),
            // not managed: never drift
            role("x", "hand-made", &intended),
        ];
        let findings = run(&objects, &in_ns("x"));
        let drift: BTreeMap<&str, &Finding> = findings
            .iter()
            .filter(|f| f.rule == "drift")
            .map(|f| (f.subject.name.as_str(), f))
            .collect();
        assert_eq!(
            drift.keys().copied().collect::<Vec<_>>(),
            ["changed", "garbled", "unknown"]
        );
        let changed = drift["changed"];
        assert_eq!(changed.subject.kind, "Role");
        assert!(changed.evidence.contains(r#"holds {APIGroups:[""], Resources:["secrets"], Verbs:["get"]} that init did not grant"#), "{}", changed.evidence);
        assert!(changed.evidence.contains(r#"lacks {APIGroups:["apps"], Resources:["deployments"], Verbs:["create"]} that init granted"#), "{}", changed.evidence);
        assert!(
            changed
                .remediation
                .contains("kubectl cicd init --name changed -n x")
        );
        assert!(
            drift["unknown"]
                .evidence
                .contains("no kubectl-cicd.io/intended-rules annotation")
        );
        assert!(drift["garbled"].evidence.contains("not a list of rules"));
    }

    #[test]
    fn tokens_long_lived_and_stale() {
        let token = |name: &str, created: &str, labels: Value| {
            json!({"kind": "Secret", "type": "kubernetes.io/service-account-token",
                   "metadata": {"name": name, "namespace": "x", "creationTimestamp": created,
                                "labels": labels,
                                "annotations": {"kubernetes.io/service-account.name": "ci"}}})
        };
        let objects = vec![
            sa("x", "ci"),
            token("fresh", "2026-11-01T00:00:00Z", json!({})),
            token("old-unused", "2026-01-01T00:00:00Z", json!({})),
            token(
                "used-long-ago",
                "2025-01-01T00:00:00Z",
                json!({"kubernetes.io/legacy-token-last-used": "2026-03-01"}),
            ),
            token(
                "used-recently",
                "2025-01-01T00:00:00Z",
                json!({"kubernetes.io/legacy-token-last-used": "2026-11-20"}),
            ),
            token(
                "invalidated",
                "2025-01-01T00:00:00Z",
                json!({"kubernetes.io/legacy-token-invalid-since": "2026-10-01"}),
            ),
        ];
        let findings = run(&objects, &all());
        let long = of(&findings, "long-lived-token", "ci");
        assert_eq!(long.len(), 5);
        let fresh = long
            .iter()
            .find(|f| f.evidence.contains("x/fresh"))
            .unwrap();
        assert!(
            fresh
                .evidence
                .contains("created 2026-11-01T00:00:00Z (26 days ago)"),
            "{}",
            fresh.evidence
        );
        assert!(fresh.evidence.contains("no recorded use"));
        let used = long
            .iter()
            .find(|f| f.evidence.contains("x/used-recently"))
            .unwrap();
        assert!(
            used.evidence.contains("last used 2026-11-20 (7 days ago)"),
            "{}",
            used.evidence
        );
        let invalid = long
            .iter()
            .find(|f| f.evidence.contains("x/invalidated"))
            .unwrap();
        assert!(invalid.evidence.contains("invalid since 2026-10-01"));
        assert!(
            fresh
                .remediation
                .contains("kubectl delete secret -n x fresh")
        );
        let unused = of(&findings, "unused-identity", "ci");
        assert_eq!(unused.len(), 1);
        let e = &unused[0].evidence;
        assert!(
            e.contains("old-unused has no recorded use") && e.contains("330 days ago"),
            "{e}"
        );
        assert!(
            e.contains("used-long-ago was last used on 2026-03-01"),
            "{e}"
        );
        assert!(
            e.contains("invalidated was invalidated on 2026-10-01"),
            "{e}"
        );
        assert!(!e.contains("fresh") && !e.contains("used-recently"), "{e}");
        // an exception on the Secret accepts the token finding
        let mut objects = objects;
        objects[1]["metadata"]["annotations"]["kubectl-cicd.io/ignore"] = json!("long-lived-token");
        objects[1]["metadata"]["annotations"]["kubectl-cicd.io/ignore-reason"] =
            json!("legacy runner, rotation planned");
        let findings = run(&objects, &all());
        let accepted: Vec<&Finding> = of(&findings, "long-lived-token", "ci")
            .into_iter()
            .filter(|f| f.accepted.is_some())
            .collect();
        assert_eq!(accepted.len(), 1);
        assert!(accepted[0].evidence.contains("x/fresh"));
        // a custom threshold
        let strict = analyze(
            &from_objects(&objects, NOW),
            &all(),
            &Options {
                unused_token_days: 10,
                ..Options::default()
            },
        );
        assert!(
            of(&strict, "unused-identity", "ci")[0]
                .evidence
                .contains("fresh")
        );
    }

    #[test]
    fn unused_identities_skip_default_and_bound_accounts() {
        let objects = vec![
            sa("x", "default"),
            sa("x", "idle"),
            sa("x", "dangling"),
            rb("x", "dangling", "Role", "gone", sa_subject("x", "dangling")),
        ];
        let findings = run(&objects, &all());
        assert_eq!(
            findings
                .iter()
                .filter(|f| f.rule == "unused-identity")
                .map(|f| f.subject.name.as_str())
                .collect::<Vec<_>>(),
            ["idle"]
        );
        let missing = of(&findings, "missing-role", "dangling");
        assert_eq!(missing[0].subject.kind, "RoleBinding");
        assert!(
            missing[0]
                .evidence
                .contains("refers to Role x/gone, which does not exist")
        );
        assert!(
            missing[0]
                .evidence
                .contains("grants it to ServiceAccount x/dangling")
        );
        assert!(
            missing[0]
                .remediation
                .contains("kubectl delete rolebinding dangling -n x")
        );
        // a role the snapshot could not read is not "missing"
        let mut snap = from_objects(&objects, NOW);
        snap.gaps
            .push("roles: forbidden (alice cannot list roles)".into());
        assert!(
            analyze(&snap, &all(), &Options::default())
                .iter()
                .all(|f| f.rule != "missing-role")
        );
    }

    #[test]
    fn many_roles_and_subjects_thresholds() {
        let mut objects = vec![sa("x", "busy")];
        for i in 0..5 {
            objects.push(role(
                "x",
                &format!("r{i}"),
                &[r(&[""], &["configmaps"], &["get"])],
            ));
            objects.push(rb(
                "x",
                &format!("b{i}"),
                "Role",
                &format!("r{i}"),
                sa_subject("x", "busy"),
            ));
        }
        for i in 0..6 {
            objects.push(rb(
                "y",
                &format!("m{i}"),
                "Role",
                "r",
                sa_subject("y", &format!("s{i}")),
            ));
        }
        let findings = run(&objects, &all());
        let busy = of(&findings, "many-roles", "busy");
        assert_eq!(busy[0].severity, Severity::Info);
        assert!(busy[0].evidence.contains("5 roles (more than 4)"));
        let ns = of(&findings, "many-subjects", "y");
        assert_eq!(ns[0].subject.kind, "Namespace");
        assert!(ns[0].evidence.contains("6 subjects (more than 5)"));
        let relaxed = analyze(
            &from_objects(&objects, NOW),
            &all(),
            &Options {
                many_roles: 5,
                many_subjects: 6,
                ..Options::default()
            },
        );
        assert!(
            relaxed
                .iter()
                .all(|f| f.rule != "many-roles" && f.rule != "many-subjects")
        );
    }

    #[test]
    fn workload_creation_names_the_identities_pods_can_use() {
        let objects = vec![
            sa("x", "ci"),
            sa("x", "powerful"),
            role(
                "x",
                "deploy",
                &[r(&["apps"], &["deployments"], &["create"])],
            ),
            rb("x", "deploy", "Role", "deploy", sa_subject("x", "ci")),
        ];
        let findings = run(&objects, &all());
        let f = of(&findings, "workload-create", "ci")[0];
        assert_eq!(f.severity, Severity::Medium);
        assert!(
            f.evidence
                .contains("create deployments.apps in namespace x"),
            "{}",
            f.evidence
        );
        assert!(
            f.evidence
                .contains("any ServiceAccount of namespace x (ci, powerful)"),
            "{}",
            f.evidence
        );
    }

    #[test]
    fn cloud_identity_and_default_service_account() {
        let mut annotated = sa("x", "app");
        annotated["metadata"]["annotations"] =
            json!({"iam.gke.io/gcp-service-account": "app@p.iam.gserviceaccount.com"});
        let objects = vec![
            annotated,
            sa("x", "default"),
            role("x", "read", &[r(&[""], &["configmaps"], &["get"])]),
            rb(
                "x",
                "default-read",
                "Role",
                "read",
                sa_subject("x", "default"),
            ),
        ];
        let findings = run(&objects, &all());
        let cloud = of(&findings, "cloud-identity", "app");
        assert!(
            cloud[0]
                .evidence
                .contains("iam.gke.io/gcp-service-account: app@p.iam.gserviceaccount.com")
        );
        let default = of(&findings, "default-sa-bound", "default");
        assert!(
            default[0]
                .evidence
                .contains("every pod of namespace x that names no ServiceAccount")
        );
    }

    #[test]
    fn findings_are_sorted_and_summarized() {
        let findings = run(&sandbox_objects(&twins()), &all());
        let keys: Vec<(Severity, &SubjectRef, &str)> = findings
            .iter()
            .map(|f| (f.severity, &f.subject, f.rule.as_str()))
            .collect();
        let mut sorted = keys.clone();
        sorted.sort();
        assert_eq!(keys, sorted);
        for f in &findings {
            assert!(
                !f.evidence.is_empty() && !f.remediation.is_empty(),
                "{f:#?}"
            );
            assert!(
                !f.evidence.contains('\n') && !f.remediation.contains('\n'),
                "{f:#?}"
            );
            assert!(rules::rule(&f.rule).is_some());
        }
        let s = summarize(&findings);
        assert_eq!(s.by_severity.len(), 5);
        let open: usize = s.by_severity.values().sum();
        assert_eq!(open + s.accepted, findings.len());
        assert!(s.by_severity["critical"] > 0 && s.by_severity["info"] > 0);
        let distinct: BTreeSet<&SubjectRef> = findings.iter().map(|f| &f.subject).collect();
        assert_eq!(s.subjects, distinct.len());
        let empty = summarize(&[]);
        assert_eq!(empty.accepted, 0);
        assert_eq!(empty.subjects, 0);
        assert_eq!(empty.by_severity["high"], 0);
        // deterministic
        // deterministic, whatever order the lists come in
        let objects = sandbox_objects(&twins());
        let once = run(&objects, &all());
        let reversed: Vec<Value> = objects.into_iter().rev().collect();
        assert_eq!(once, run(&reversed, &all()));
    }

    /// Every risk category `init` knows is audited too.
    #[test]
    fn every_init_risk_category_is_audited() {
        for &cat in RiskCategory::ALL {
            let rule = match cat.probe() {
                Some(p) => Rule::new([p.verb.as_str()])
                    .with_groups([p.group.as_str()])
                    .with_resources([p.combined_resource()]),
                None => r(&["apps"], &["deployments"], &["*"]),
            };
            let (ids, findings) = fired(std::slice::from_ref(&rule), true);
            assert!(
                findings.iter().any(|f| f.severity < Severity::Info),
                "{cat} ({rule}) is not audited: {ids:?}"
            );
        }
    }

    /// The other tools' rules listed in the catalogue's `covers` fire the rules that claim
    /// them, on roles written the way those tools describe them (cited in docs/audit-rules.md).
    #[test]
    fn anchor_rules_map_onto_ours() {
        const ANY: &[&str] = &["*"];
        let any_verb = |res: &str| r(ANY, &[res], &["*"]);
        let kubi = |res: &str, verbs: &[&str]| r(ANY, &[res], verbs);
        // (anchors, through a ClusterRoleBinding, rules, expected rule ids)
        type Case<'a> = (Vec<&'a str>, bool, Vec<Rule>, Vec<&'a str>);
        let table: Vec<Case> = vec![
            (
                vec!["KubiScan: risky-get-secrets", "krane: risky-get-secrets"],
                false,
                vec![kubi("secrets", &["get"])],
                vec!["secrets-read"],
            ),
            (
                vec![
                    "KubiScan: risky-list-secrets",
                    "krane: risky-list-secrets",
                    "kubescape: C-0015",
                ],
                false,
                vec![kubi("secrets", &["list"])],
                vec!["secrets-read"],
            ),
            (
                vec![
                    "KubiScan: risky-impersonate-groups",
                    "krane: risky-impersonate-privileged-groups",
                ],
                true,
                vec![kubi("groups", &["impersonate"])],
                vec!["escalate-bind-impersonate"],
            ),
            (
                vec![
                    "KubiScan: risky-any-verb",
                    "krane: subjects-with-open-ns-level-access",
                ],
                false,
                vec![r(ANY, ANY, ANY)],
                vec!["wildcard"],
            ),
            (
                vec![
                    "KubiScan: risky-any-verb",
                    "krane: subjects-with-open-cluster-wide-access",
                    "rbac-police: cluster_admin",
                    "kubescape: C-0035",
                    "kubescape: C-0185",
                ],
                true,
                vec![r(ANY, ANY, ANY)],
                vec!["cluster-admin-binding"],
            ),
            (
                vec![
                    "KubiScan: risky-any-verb-secrets",
                    "krane: risky-any-verb-secrets",
                ],
                false,
                vec![any_verb("secrets")],
                vec!["wildcard", "secrets-read"],
            ),
            (
                vec![
                    "KubiScan: risky-any-verb-pods",
                    "krane: risky-any-verb-pods",
                ],
                false,
                vec![any_verb("pods")],
                vec!["wildcard", "workload-create"],
            ),
            (
                vec![
                    "KubiScan: risky-any-verb-deployments",
                    "krane: risky-any-verb-deployments",
                ],
                false,
                vec![any_verb("deployments")],
                vec!["wildcard", "workload-create"],
            ),
            (
                vec![
                    "KubiScan: risky-any-verb-daemonsets",
                    "krane: risky-any-verb-daemonsets",
                ],
                false,
                vec![any_verb("daemonsets")],
                vec!["wildcard", "workload-create"],
            ),
            (
                vec![
                    "KubiScan: risky-any-verb-statefulsets",
                    "krane: risky-any-verb-statefulsets",
                ],
                false,
                vec![any_verb("statefulsets")],
                vec!["wildcard", "workload-create"],
            ),
            (
                vec![
                    "KubiScan: risky-any-verb-replicationcontrollers",
                    "krane: risky-any-verb-replicationcontrollers",
                ],
                false,
                vec![any_verb("replicationcontrollers")],
                vec!["wildcard", "workload-create"],
            ),
            (
                vec![
                    "KubiScan: risky-any-verb-replicasets",
                    "krane: risky-any-verb-replicasets",
                ],
                false,
                vec![any_verb("replicasets")],
                vec!["wildcard", "workload-create"],
            ),
            (
                vec![
                    "KubiScan: risky-any-verb-cronjobs",
                    "krane: risky-any-verb-cronjobs",
                ],
                false,
                vec![any_verb("cronjobs")],
                vec!["wildcard", "workload-create"],
            ),
            (
                vec![
                    "KubiScan: risky-any-verb-jobs",
                    "krane: risky-any-verb-jobs",
                ],
                false,
                vec![any_verb("jobs")],
                vec!["wildcard", "workload-create"],
            ),
            (
                vec![
                    "KubiScan: risky-any-verb-roles",
                    "krane: risky-any-verb-roles",
                ],
                false,
                vec![any_verb("roles")],
                vec!["wildcard", "rbac-write", "escalate-bind-impersonate"],
            ),
            (
                vec![
                    "KubiScan: risky-any-verb-clusterroles",
                    "krane: risky-any-verb-clusterroles",
                ],
                true,
                vec![any_verb("clusterroles")],
                vec!["wildcard", "rbac-write", "escalate-bind-impersonate"],
            ),
            (
                vec![
                    "KubiScan: risky-any-verb-rolebindings",
                    "krane: risky-any-verb-rolebindings",
                ],
                false,
                vec![any_verb("rolebindings")],
                vec!["wildcard", "rbac-write"],
            ),
            (
                vec![
                    "KubiScan: risky-any-verb-clusterrolebindings",
                    "krane: risky-any-verb-clusterrolebindings",
                ],
                true,
                vec![any_verb("clusterrolebindings")],
                vec!["wildcard", "rbac-write"],
            ),
            (
                vec![
                    "KubiScan: risky-any-verb-users",
                    "krane: risky-any-verb-users",
                ],
                true,
                vec![any_verb("users")],
                vec!["wildcard", "escalate-bind-impersonate"],
            ),
            (
                vec![
                    "KubiScan: risky-any-verb-groups",
                    "krane: risky-any-verb-groups",
                ],
                true,
                vec![any_verb("groups")],
                vec!["wildcard", "escalate-bind-impersonate"],
            ),
            (
                vec![
                    "KubiScan: risky-any-resource-delete",
                    "krane: risky-any-resource-delete",
                ],
                false,
                vec![r(ANY, ANY, &["delete"])],
                vec!["wildcard"],
            ),
            (
                vec!["krane: risky-any-resource-deletecollection"],
                false,
                vec![r(ANY, ANY, &["deletecollection"])],
                vec!["wildcard"],
            ),
            (
                vec![
                    "KubiScan: risky-any-resource-create",
                    "krane: risky-any-resource-create",
                ],
                false,
                vec![r(ANY, ANY, &["create"])],
                vec!["wildcard", "workload-create", "token-create", "rbac-write"],
            ),
            (
                vec![
                    "KubiScan: risky-any-resource-list",
                    "krane: risky-any-resource-list",
                ],
                false,
                vec![r(ANY, ANY, &["list"])],
                vec!["wildcard", "secrets-read"],
            ),
            (
                vec![
                    "KubiScan: risky-any-resource-get",
                    "krane: risky-any-resource-get",
                ],
                false,
                vec![r(ANY, ANY, &["get"])],
                vec!["wildcard", "secrets-read", "pod-exec"],
            ),
            (
                vec![
                    "KubiScan: risky-any-resource-impersonate",
                    "krane: risky-any-resource-impersonate",
                ],
                true,
                vec![r(ANY, ANY, &["impersonate"])],
                vec!["wildcard", "escalate-bind-impersonate"],
            ),
            (
                vec![
                    "KubiScan: risky-create-deployments",
                    "krane: risky-create-deployments",
                ],
                false,
                vec![kubi("deployments", &["create"])],
                vec!["workload-create"],
            ),
            (
                vec![
                    "KubiScan: risky-update-deployments",
                    "krane: risky-update-deployments",
                ],
                false,
                vec![kubi("deployments", &["update"])],
                vec!["workload-create"],
            ),
            (
                vec![
                    "KubiScan: risky-create-daemonsets",
                    "krane: risky-create-daemonsets",
                ],
                false,
                vec![kubi("daemonsets", &["create"])],
                vec!["workload-create"],
            ),
            (
                vec![
                    "KubiScan: risky-update-daemonsets",
                    "krane: risky-update-daemonsets",
                ],
                false,
                vec![kubi("daemonsets", &["update"])],
                vec!["workload-create"],
            ),
            (
                vec![
                    "KubiScan: risky-create-statefulsets",
                    "krane: risky-create-statefulsets",
                ],
                false,
                vec![kubi("statefulsets", &["create"])],
                vec!["workload-create"],
            ),
            (
                vec![
                    "KubiScan: risky-update-statefulsets",
                    "krane: risky-update-statefulsets",
                ],
                false,
                vec![kubi("statefulsets", &["update"])],
                vec!["workload-create"],
            ),
            (
                vec![
                    "KubiScan: risky-create-replicationcontrollers",
                    "krane: risky-create-replicationcontrollers",
                ],
                false,
                vec![kubi("replicationcontrollers", &["create"])],
                vec!["workload-create"],
            ),
            (
                vec![
                    "KubiScan: risky-update-replicationcontrollers",
                    "krane: risky-update-replicationcontrollers",
                ],
                false,
                vec![kubi("replicationcontrollers", &["update"])],
                vec!["workload-create"],
            ),
            (
                vec![
                    "KubiScan: risky-create-replicasets",
                    "krane: risky-create-replicasets",
                ],
                false,
                vec![kubi("replicasets", &["create"])],
                vec!["workload-create"],
            ),
            (
                vec![
                    "KubiScan: risky-update-replicasets",
                    "krane: risky-update-replicasets",
                ],
                false,
                vec![kubi("replicasets", &["update"])],
                vec!["workload-create"],
            ),
            (
                vec!["KubiScan: risky-create-jobs", "krane: risky-create-jobs"],
                false,
                vec![kubi("jobs", &["create"])],
                vec!["workload-create"],
            ),
            (
                vec!["KubiScan: risky-update-jobs", "krane: risky-update-jobs"],
                false,
                vec![kubi("jobs", &["update"])],
                vec!["workload-create"],
            ),
            (
                vec![
                    "KubiScan: risky-create-jobs",
                    "krane: risky-create-cronjobs",
                ],
                false,
                vec![kubi("cronjobs", &["create"])],
                vec!["workload-create"],
            ),
            (
                vec![
                    "KubiScan: risky-update-jobs",
                    "krane: risky-update-cronjobs",
                ],
                false,
                vec![kubi("cronjobs", &["update"])],
                vec!["workload-create"],
            ),
            (
                vec![
                    "KubiScan: risky-create-rolebinding-role",
                    "krane: risky-create-rolebinding-role",
                ],
                false,
                vec![
                    r(&[RBAC], &["rolebindings"], &["create"]),
                    r(&[RBAC], &["roles"], &["bind"]).with_names(["*"]),
                ],
                vec!["rbac-write", "escalate-bind-impersonate"],
            ),
            (
                vec![
                    "KubiScan: risky-create-rolebinding-clusterrole",
                    "krane: risky-create-rolebinding-clusterrole",
                ],
                false,
                vec![
                    r(&[RBAC], &["rolebindings"], &["create"]),
                    r(&[RBAC], &["clusterroles"], &["bind"]),
                ],
                vec!["rbac-write", "escalate-bind-impersonate"],
            ),
            (
                vec!["KubiScan: risky-create-clusterrolebinding-clusterrole"],
                true,
                vec![
                    r(&[RBAC], &["clusterrolebindings"], &["create"]),
                    r(&[RBAC], &["clusterroles"], &["bind"]),
                ],
                vec!["rbac-write", "escalate-bind-impersonate"],
            ),
            (
                vec!["krane: risky-create-clusterrolebinding"],
                true,
                vec![r(&[RBAC], &["clusterrolebindings"], &["create"])],
                vec!["rbac-write"],
            ),
            (
                vec![
                    "KubiScan: risky-create-pod",
                    "kubescape: C-0188",
                    "krane: subjects-with-privileged-psp-not-scoped-to-ns",
                ],
                false,
                vec![kubi("pods", &["create"])],
                vec!["workload-create"],
            ),
            (
                vec![
                    "KubiScan: risky-exec-pods",
                    "krane: risky-exec-pods",
                    "rbac-police: pods_exec",
                    "kubescape: C-0002",
                ],
                false,
                vec![kubi("pods/exec", &["create"]), kubi("pods", &["get"])],
                vec!["pod-exec"],
            ),
            (
                vec!["KubiScan: risky-attach-pods", "krane: risky-attach-pods"],
                false,
                vec![kubi("pods/attach", &["create"]), kubi("pods", &["get"])],
                vec!["pod-exec"],
            ),
            (
                vec![
                    "KubiScan: risky-add-rolebinding",
                    "krane: risky-add-rolebinding",
                    "krane: subjects-with-rbac-management",
                ],
                false,
                vec![kubi("rolebindings", &["get", "patch"])],
                vec!["rbac-write"],
            ),
            (
                vec!["rbac-tool: Secret Readers", "kubescape: C-0186"],
                false,
                vec![r(&[""], &["secrets"], &["get"])],
                vec!["secrets-read"],
            ),
            (
                vec!["rbac-tool: Workload Creators & Editors"],
                false,
                vec![r(&["batch"], &["jobs"], &["patch"])],
                vec!["workload-create"],
            ),
            (
                vec![
                    "rbac-tool: Identify Privileges Escalators - via impersonate",
                    "rbac-police: impersonate",
                    "kubescape: C-0065",
                ],
                false,
                vec![r(&[""], &["serviceaccounts"], &["impersonate"])],
                vec!["escalate-bind-impersonate"],
            ),
            (
                vec![
                    "rbac-tool: Identify Privileges Escalators - via bind or escalate",
                    "rbac-police: escalate_roles",
                    "kubescape: C-0191",
                ],
                true,
                vec![r(&[RBAC], &["clusterroles"], &["escalate", "create"])],
                vec!["escalate-bind-impersonate", "rbac-write"],
            ),
            (
                vec![
                    "rbac-tool: Storage & Data - Manipulate Cluster Shared Resources",
                    "kubescape: C-0278",
                ],
                true,
                vec![
                    r(&[""], &["persistentvolumes"], &["create"]),
                    r(&["storage.k8s.io"], &["storageclasses"], &["patch"]),
                ],
                vec!["pv-create"],
            ),
            (
                vec!["rbac-tool: Storage & Data - Manipulate Cluster Shared Resources"],
                false,
                vec![r(&[""], &["persistentvolumeclaims"], &["delete"])],
                vec!["storage-write"],
            ),
            (
                vec![
                    "rbac-tool: Networking - Manipulate Networking and Network Access related resources",
                ],
                false,
                vec![
                    r(&["networking.k8s.io"], &["networkpolicies"], &["delete"]),
                    r(&[""], &["endpoints"], &["update"]),
                ],
                vec!["network-write", "traffic-hijack"],
            ),
            (
                vec!["rbac-tool: Networking - Manipulate Gateway API Resources"],
                false,
                vec![r(
                    &["gateway.networking.k8s.io"],
                    &["httproutes"],
                    &["create"],
                )],
                vec!["network-write"],
            ),
            (
                vec![
                    "rbac-tool: Installing or Modifying Admission Controllers",
                    "rbac-police: control_webhooks",
                    "kubescape: C-0036",
                    "kubescape: C-0039",
                    "kubescape: C-0281",
                ],
                true,
                vec![r(
                    &["admissionregistration.k8s.io"],
                    &[
                        "mutatingwebhookconfigurations",
                        "validatingwebhookconfigurations",
                    ],
                    &["patch"],
                )],
                vec!["webhook-write"],
            ),
            (
                vec!["rbac-tool: Installing or Modifying Cluster Extensions (CRDs)"],
                true,
                vec![r(
                    &["apiextensions.k8s.io"],
                    &["customresourcedefinitions"],
                    &["delete"],
                )],
                vec!["crd-write"],
            ),
            (
                vec!["rbac-tool: Open Policy Agent (OPA) GateKeeper Administration"],
                true,
                vec![r(
                    &["templates.gatekeeper.sh"],
                    &["constrainttemplates"],
                    &["create"],
                )],
                vec!["webhook-write"],
            ),
            (
                vec!["rbac-police: approve_csrs", "kubescape: C-0280"],
                true,
                vec![
                    r(
                        &["certificates.k8s.io"],
                        &["certificatesigningrequests/approval"],
                        &["update"],
                    ),
                    r(&["certificates.k8s.io"], &["signers"], &["approve"]),
                ],
                vec!["csr-approve"],
            ),
            (
                vec![
                    "rbac-police: assign_sa",
                    "rbac-police: modify_pods",
                    "rbac-police: rce_weak_ns",
                ],
                false,
                vec![r(&[""], &["pods"], &["update"])],
                vec!["workload-create"],
            ),
            (
                vec!["rbac-police: bind_roles"],
                true,
                vec![r(&[RBAC], ANY, &["bind"])],
                vec!["escalate-bind-impersonate"],
            ),
            (
                vec!["rbac-police: eks_modify_aws_auth", "kubescape: C-0037"],
                true,
                vec![r(&[""], &["configmaps"], &["patch"])],
                vec!["kube-system-write"],
            ),
            (
                vec!["rbac-police: issue_token_secrets"],
                false,
                vec![r(&[""], &["secrets"], &["create"])],
                vec!["token-create"],
            ),
            (
                vec![
                    "rbac-police: list_secrets",
                    "rbac-police: retrieve_secrets",
                    "rbac-police: retrieve_token_secrets",
                ],
                true,
                vec![r(&[""], &["secrets"], &["list"])],
                vec!["secrets-read"],
            ),
            (
                vec!["rbac-police: modify_node_status", "rbac-police: steal_pods"],
                true,
                vec![
                    r(&[""], &["nodes/status"], &["patch"]),
                    r(&[""], &["pods"], &["delete"]),
                ],
                vec!["node-write"],
            ),
            (
                vec!["rbac-police: modify_pod_status"],
                false,
                vec![r(&[""], &["pods/status"], &["patch"])],
                vec!["traffic-hijack"],
            ),
            (
                vec!["rbac-police: modify_service_status_cve_2020_8554"],
                false,
                vec![r(&[""], &["services/status"], &["update"])],
                vec!["traffic-hijack"],
            ),
            (
                vec!["rbac-police: nodes_proxy", "kubescape: C-0279"],
                true,
                vec![r(&[""], &["nodes/proxy"], &["create"])],
                vec!["node-proxy"],
            ),
            (
                vec!["rbac-police: obtain_token_weak_ns"],
                false,
                vec![
                    r(&[""], &["secrets"], &["get"]),
                    r(&[""], &["serviceaccounts/token"], &["create"]),
                    r(&["apps"], &["deployments"], &["create"]),
                ],
                vec!["secrets-read", "token-create", "workload-create"],
            ),
            (
                vec!["rbac-police: pods_ephemeral_ctrs"],
                false,
                vec![r(&[""], &["pods/ephemeralcontainers"], &["patch"])],
                vec!["pod-exec"],
            ),
            (
                vec!["rbac-police: rce_weak_ns"],
                false,
                vec![r(&[""], &["pods/exec"], &["create"])],
                vec!["pod-exec"],
            ),
            (
                vec!["rbac-police: token_request", "kubescape: C-0282"],
                false,
                vec![r(&[""], &["serviceaccounts/token"], &["create"])],
                vec!["token-create"],
            ),
            (
                vec!["kubescape: C-0063"],
                false,
                vec![r(&[""], &["pods/portforward"], &["create"])],
                vec!["pod-exec"],
            ),
            (
                vec!["kubescape: C-0187"],
                false,
                vec![r(&[""], ANY, &["get"])],
                vec!["wildcard"],
            ),
        ];
        let mut tested: BTreeSet<&str> = BTreeSet::new();
        for (anchors, cluster, rules_, expected) in &table {
            let (ids, findings) = fired(rules_, *cluster);
            for id in expected {
                assert!(
                    ids.contains(*id),
                    "{anchors:?}: {id} missing from {ids:?}\n{findings:#?}"
                );
            }
            for anchor in anchors {
                assert!(
                    expected
                        .iter()
                        .any(|id| rules::rule(id).unwrap().covers.contains(anchor)),
                    "{anchor} is not in the covers of {expected:?}"
                );
                tested.insert(anchor);
            }
        }
        // Every anchor the catalogue claims is tested here or by a metadata test above.
        let metadata_anchors = [
            "krane: subjects-with-non-existing-roles", // unused_identities_skip_default_and_bound_accounts
            "krane: subjects-with-many-roles",         // many_roles_and_subjects_thresholds
            "krane: namespaces-with-many-subjects",    // many_roles_and_subjects_thresholds
            "rbac-police: providerIAM",                // cloud_identity_and_default_service_account
            "kubescape: C-0189",                       // cloud_identity_and_default_service_account
        ];
        for rule in rules::catalogue() {
            for anchor in rule.covers {
                assert!(
                    tested.contains(anchor) || metadata_anchors.contains(anchor),
                    "{anchor} (claimed by {}) has no test",
                    rule.id
                );
            }
        }
    }
}
