//! Effective grants per subject: which binding gives whom which role, where.
//!
//! Follows the RBAC authorizer (`plugin/pkg/auth/authorizer/rbac/rbac.go`,
//! `pkg/registry/rbac/validation/rule.go` `VisitRulesFor`):
//! * a ClusterRoleBinding applies its ClusterRole everywhere ([`GrantScope::Cluster`]);
//! * a RoleBinding applies its Role, or the resource rules of its ClusterRole, in its own
//!   namespace only ([`GrantScope::Namespace`]);
//! * ServiceAccount subjects are `system:serviceaccount:<ns>:<name>`, so a `User` subject
//!   spelled that way is the ServiceAccount and is folded into it;
//! * every ServiceAccount is a member of `system:serviceaccounts`,
//!   `system:serviceaccounts:<its namespace>` and `system:authenticated`, every user of
//!   `system:authenticated`: their grants are added to each member, marked with the group;
//! * a binding whose role does not exist grants nothing and is recorded
//!   ([`Resolution::missing_roles`]), unless the snapshot could not read that kind of role
//!   at all (a gap), in which case it is recorded as unknown.
//!
//! Built-in grants (the API server's bootstrap policy, see [`is_builtin_binding`]) are
//! resolved like any other and marked, so the matrix shows them and the analysis can leave
//! them out.

use std::collections::HashMap;

use super::model::{BindingData, RoleData, Snapshot, SubjectRef, Via};
use crate::rbac::Rule;

/// Label the bootstrap policy puts on its roles and bindings.
pub const BOOTSTRAP_LABEL: &str = "kubernetes.io/bootstrapping";
/// Its value.
pub const BOOTSTRAP_VALUE: &str = "rbac-defaults";
/// Every authenticated user and ServiceAccount.
pub const AUTHENTICATED: &str = "system:authenticated";
/// Anonymous requests.
pub const UNAUTHENTICATED: &str = "system:unauthenticated";
/// Every ServiceAccount of the cluster.
pub const ALL_SERVICE_ACCOUNTS: &str = "system:serviceaccounts";
/// `system:serviceaccounts:<namespace>`: every ServiceAccount of a namespace.
pub const NAMESPACE_SERVICE_ACCOUNTS_PREFIX: &str = "system:serviceaccounts:";
/// `system:serviceaccount:<namespace>:<name>`: a ServiceAccount's user name.
pub const SERVICE_ACCOUNT_USER_PREFIX: &str = "system:serviceaccount:";

/// What kind of identity a subject is, for the audit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SubjectClass {
    /// A ServiceAccount: the robots the audit is about.
    ServiceAccount,
    /// `system:authenticated`, `system:unauthenticated`, `system:serviceaccounts`,
    /// `system:serviceaccounts:<ns>`: groups whose grants reach everyone in them.
    BroadGroup,
    /// Other `system:` users and groups: the control plane's own identities
    /// (`system:masters`, `system:kube-controller-manager`, `system:nodes`, ...).
    System,
    /// Any other user or group: people (or robots outside Kubernetes, e.g. OIDC or
    /// certificate users).
    Person,
}

/// True for the groups whose membership is everyone of a kind.
pub fn is_broad_group(name: &str) -> bool {
    matches!(name, AUTHENTICATED | UNAUTHENTICATED | ALL_SERVICE_ACCOUNTS)
        || name.starts_with(NAMESPACE_SERVICE_ACCOUNTS_PREFIX)
}

/// The class of `subject`.
pub fn classify(subject: &SubjectRef) -> SubjectClass {
    match subject.kind.as_str() {
        "ServiceAccount" => SubjectClass::ServiceAccount,
        "Group" if is_broad_group(&subject.name) => SubjectClass::BroadGroup,
        _ if subject.name.starts_with("system:") => SubjectClass::System,
        _ => SubjectClass::Person,
    }
}

/// True when group `group` has the ServiceAccount of namespace `namespace` as a member.
pub fn group_covers_service_account(group: &str, namespace: &str) -> bool {
    group == AUTHENTICATED
        || group == ALL_SERVICE_ACCOUNTS
        || group
            .strip_prefix(NAMESPACE_SERVICE_ACCOUNTS_PREFIX)
            .is_some_and(|ns| ns == namespace)
}

/// A ServiceAccount subject.
pub fn service_account(namespace: &str, name: &str) -> SubjectRef {
    SubjectRef {
        kind: "ServiceAccount".into(),
        name: name.into(),
        namespace: Some(namespace.into()),
    }
}

/// A user or group subject.
pub fn subject_ref(kind: &str, name: &str) -> SubjectRef {
    SubjectRef {
        kind: kind.into(),
        name: name.into(),
        namespace: None,
    }
}

/// The subject of a binding's subject entry, ServiceAccount user names folded into
/// ServiceAccounts; `None` for entries RBAC would never match (a ServiceAccount without
/// namespace, an unknown kind, an empty name).
pub fn subject_of(kind: &str, name: &str, namespace: Option<&str>) -> Option<SubjectRef> {
    if name.is_empty() {
        return None;
    }
    match kind {
        "ServiceAccount" => namespace
            .filter(|ns| !ns.is_empty())
            .map(|ns| service_account(ns, name)),
        "User" => Some(
            match name
                .strip_prefix(SERVICE_ACCOUNT_USER_PREFIX)
                .and_then(|rest| rest.split_once(':'))
            {
                Some((ns, sa)) if !ns.is_empty() && !sa.is_empty() && !sa.contains(':') => {
                    service_account(ns, sa)
                }
                _ => subject_ref("User", name),
            },
        ),
        "Group" => Some(subject_ref("Group", name)),
        _ => None,
    }
}

/// True for a binding of the bootstrap policy: labelled `kubernetes.io/bootstrapping:
/// rbac-defaults` and binding only built-in identities (`system:` users and groups,
/// ServiceAccounts of kube-system). Both conditions, so a label alone cannot hide a grant.
pub fn is_builtin_binding(binding: &BindingData) -> bool {
    binding
        .meta
        .labels
        .get(BOOTSTRAP_LABEL)
        .is_some_and(|v| v == BOOTSTRAP_VALUE)
        && binding.subjects.iter().all(|s| match s.kind.as_str() {
            "ServiceAccount" => s.namespace.as_deref() == Some("kube-system"),
            _ => s.name.starts_with("system:"),
        })
}

/// Where a grant applies.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum GrantScope {
    /// Every namespace and the cluster-scoped resources (a ClusterRoleBinding).
    Cluster,
    /// One namespace (a RoleBinding).
    Namespace(String),
}

/// One binding giving one subject one role.
#[derive(Debug, Clone, Copy)]
pub struct Grant<'a> {
    pub binding: &'a BindingData,
    /// A ClusterRoleBinding.
    pub cluster_binding: bool,
    /// The role; `None` when it does not exist (or could not be read).
    pub role: Option<&'a RoleData>,
    /// The group the subject holds this grant through (`system:serviceaccounts`, ...).
    pub group: Option<&'a str>,
    /// A bootstrap-policy binding ([`is_builtin_binding`]).
    pub builtin: bool,
}

impl<'a> Grant<'a> {
    /// `RoleBinding` or `ClusterRoleBinding`.
    pub fn binding_kind(&self) -> &'static str {
        if self.cluster_binding {
            "ClusterRoleBinding"
        } else {
            "RoleBinding"
        }
    }

    /// Where the grant applies.
    pub fn scope(&self) -> GrantScope {
        match (&self.binding.meta.namespace, self.cluster_binding) {
            (Some(ns), false) => GrantScope::Namespace(ns.clone()),
            _ => GrantScope::Cluster,
        }
    }

    /// The RoleBinding's namespace; `None` for a ClusterRoleBinding.
    pub fn namespace(&self) -> Option<&'a str> {
        if self.cluster_binding {
            None
        } else {
            self.binding.meta.namespace.as_deref()
        }
    }

    /// True when the grant applies to requests in `namespace`.
    pub fn applies_in(&self, namespace: &str) -> bool {
        self.namespace().is_none_or(|ns| ns == namespace)
    }

    /// `RoleBinding team-a/deployer`, `ClusterRoleBinding argocd`.
    pub fn binding_label(&self) -> String {
        object_label(
            self.binding_kind(),
            self.binding
                .meta
                .namespace
                .as_deref()
                .filter(|_| !self.cluster_binding),
            &self.binding.meta.name,
        )
    }

    /// `Role team-a/deployer`, `ClusterRole cluster-admin`.
    pub fn role_label(&self) -> String {
        let kind = self.binding.role_ref.kind.as_str();
        let ns = (kind == "Role")
            .then_some(self.binding.meta.namespace.as_deref())
            .flatten();
        object_label(kind, ns, &self.binding.role_ref.name)
    }

    /// The [`Via`] of this grant; the binding text names the group when the grant comes
    /// through one (`ClusterRoleBinding x (Group system:serviceaccounts)`).
    pub fn via(&self) -> Via {
        let mut binding = self.binding_label();
        if let Some(g) = self.group {
            binding.push_str(&format!(" (Group {g})"));
        }
        Via {
            binding,
            role: self.role_label(),
        }
    }

    /// The rules that take effect: all rules for a ClusterRoleBinding, the resource rules
    /// for a RoleBinding (non-resource URLs are cluster-scoped); none for a missing role.
    pub fn effective_rules(&self) -> Vec<Rule> {
        let Some(role) = self.role else {
            return Vec::new();
        };
        if self.cluster_binding {
            role.rules.clone()
        } else {
            role.rules.iter().filter_map(Rule::resource_part).collect()
        }
    }

    /// The role's rules as stored (empty for a missing role).
    pub fn rules(&self) -> &'a [Rule] {
        self.role.map(|r| r.rules.as_slice()).unwrap_or(&[])
    }
}

/// `Kind ns/name` or `Kind name`.
pub fn object_label(kind: &str, namespace: Option<&str>, name: &str) -> String {
    match namespace {
        Some(ns) => format!("{kind} {ns}/{name}"),
        None => format!("{kind} {name}"),
    }
}

/// `ServiceAccount team-a/ci`, `User alice`.
pub fn subject_label(subject: &SubjectRef) -> String {
    object_label(&subject.kind, subject.namespace.as_deref(), &subject.name)
}

/// A subject and every grant it holds (direct ones first, then through groups).
#[derive(Debug, Clone)]
pub struct SubjectGrants<'a> {
    pub subject: SubjectRef,
    pub class: SubjectClass,
    /// The ServiceAccount object exists in the snapshot (always false for users and groups).
    pub exists: bool,
    pub grants: Vec<Grant<'a>>,
}

impl SubjectGrants<'_> {
    /// Grants naming the subject itself (not through a group).
    pub fn direct(&self) -> impl Iterator<Item = &Grant<'_>> {
        self.grants.iter().filter(|g| g.group.is_none())
    }
}

/// A binding whose role is missing or unreadable.
#[derive(Debug, Clone, Copy)]
pub struct MissingRole<'a> {
    pub binding: &'a BindingData,
    pub cluster_binding: bool,
}

/// Every subject's grants.
#[derive(Debug, Clone, Default)]
pub struct Resolution<'a> {
    /// Sorted by subject: every ServiceAccount object, and every subject some binding names.
    pub subjects: Vec<SubjectGrants<'a>>,
    /// Bindings to roles that do not exist.
    pub missing_roles: Vec<MissingRole<'a>>,
    /// Bindings to roles of a kind the snapshot could not list (see [`Snapshot::gaps`]).
    pub unknown_roles: Vec<MissingRole<'a>>,
    /// Every binding with its role (no group): RoleBindings, then ClusterRoleBindings, in
    /// snapshot order.
    pub bindings: Vec<Grant<'a>>,
}

impl<'a> Resolution<'a> {
    /// The grants of `subject`, if it is known.
    pub fn subject(&self, subject: &SubjectRef) -> Option<&SubjectGrants<'a>> {
        self.subjects
            .binary_search_by(|s| s.subject.cmp(subject))
            .ok()
            .map(|i| &self.subjects[i])
    }
}

/// True when the snapshot says it could not read `resource` (a gap starting `<resource>:`).
pub fn has_gap(snapshot: &Snapshot, resource: &str) -> bool {
    snapshot.gaps.iter().any(|g| {
        g == resource
            || g.strip_prefix(resource)
                .is_some_and(|rest| rest.starts_with(':') || rest.starts_with(' '))
    })
}

/// A subject, borrowed from the snapshot, ordered as [`SubjectRef`] is (kind, name, namespace).
type Key<'a> = (&'a str, &'a str, Option<&'a str>);

/// [`subject_of`] without allocating.
fn key_of<'a>(kind: &'a str, name: &'a str, namespace: Option<&'a str>) -> Option<Key<'a>> {
    if name.is_empty() {
        return None;
    }
    match kind {
        "ServiceAccount" => namespace
            .filter(|ns| !ns.is_empty())
            .map(|ns| ("ServiceAccount", name, Some(ns))),
        "User" => Some(
            match name
                .strip_prefix(SERVICE_ACCOUNT_USER_PREFIX)
                .and_then(|rest| rest.split_once(':'))
            {
                Some((ns, sa)) if !ns.is_empty() && !sa.is_empty() && !sa.contains(':') => {
                    ("ServiceAccount", sa, Some(ns))
                }
                _ => ("User", name, None),
            },
        ),
        "Group" => Some(("Group", name, None)),
        _ => None,
    }
}

/// Resolves every binding of the snapshot.
pub fn resolve(snapshot: &Snapshot) -> Resolution<'_> {
    let roles: HashMap<(&str, &str), &RoleData> = snapshot
        .roles
        .iter()
        .map(|r| {
            (
                (
                    r.meta.namespace.as_deref().unwrap_or(""),
                    r.meta.name.as_str(),
                ),
                r,
            )
        })
        .collect();
    let cluster_roles: HashMap<&str, &RoleData> = snapshot
        .cluster_roles
        .iter()
        .map(|r| (r.meta.name.as_str(), r))
        .collect();
    let roles_unreadable = has_gap(snapshot, "roles");
    let cluster_roles_unreadable = has_gap(snapshot, "clusterroles");

    let mut direct: HashMap<Key<'_>, Vec<Grant<'_>>> = HashMap::new();
    let mut all =
        Vec::with_capacity(snapshot.role_bindings.len() + snapshot.cluster_role_bindings.len());
    let mut missing = Vec::new();
    let mut unknown = Vec::new();
    let bindings = snapshot
        .role_bindings
        .iter()
        .map(|b| (b, false))
        .chain(snapshot.cluster_role_bindings.iter().map(|b| (b, true)));
    for (binding, cluster_binding) in bindings {
        let ns = binding.meta.namespace.as_deref().unwrap_or("");
        let (role, unreadable) = match binding.role_ref.kind.as_str() {
            "ClusterRole" => (
                cluster_roles.get(binding.role_ref.name.as_str()).copied(),
                cluster_roles_unreadable,
            ),
            // A ClusterRoleBinding can only reference a ClusterRole.
            "Role" if !cluster_binding => (
                roles.get(&(ns, binding.role_ref.name.as_str())).copied(),
                roles_unreadable,
            ),
            _ => (None, false),
        };
        if role.is_none() {
            let m = MissingRole {
                binding,
                cluster_binding,
            };
            if unreadable {
                unknown.push(m);
            } else {
                missing.push(m);
            }
        }
        let builtin = is_builtin_binding(binding);
        let grant = Grant {
            binding,
            cluster_binding,
            role,
            group: None,
            builtin,
        };
        all.push(grant);
        let mut seen: Vec<Key<'_>> = Vec::with_capacity(binding.subjects.len());
        for s in &binding.subjects {
            let Some(key) = key_of(&s.kind, &s.name, s.namespace.as_deref()) else {
                continue;
            };
            if seen.contains(&key) {
                continue;
            }
            seen.push(key);
            direct.entry(key).or_default().push(grant);
        }
    }

    // Deterministic whatever order the lists came in: RoleBindings (by namespace, name),
    // then ClusterRoleBindings (by name).
    fn order(cluster: bool, b: &BindingData) -> (bool, Option<&str>, &str) {
        (cluster, b.meta.namespace.as_deref(), b.meta.name.as_str())
    }
    for list in direct.values_mut() {
        list.sort_by(|a, b| {
            order(a.cluster_binding, a.binding).cmp(&order(b.cluster_binding, b.binding))
        });
    }
    let by_binding = |a: &MissingRole<'_>, b: &MissingRole<'_>| {
        order(a.cluster_binding, a.binding).cmp(&order(b.cluster_binding, b.binding))
    };
    missing.sort_by(by_binding);
    unknown.sort_by(by_binding);

    // A group's grants, marked with the group, computed once per group.
    let mut group_cache: HashMap<&str, Vec<Grant<'_>>> = HashMap::new();
    for (key, list) in &direct {
        if key.0 == "Group" && is_broad_group(key.1) {
            group_cache.insert(
                key.1,
                list.iter()
                    .map(|g| Grant {
                        group: Some(key.1),
                        ..*g
                    })
                    .collect(),
            );
        }
    }
    let group = |name: &str| group_cache.get(name).map(Vec::as_slice).unwrap_or(&[]);

    // Every subject: ServiceAccount objects, then whoever a binding names.
    let mut keys: Vec<(Key<'_>, bool)> = snapshot
        .service_accounts
        .iter()
        .filter_map(|m| {
            let ns = m.namespace.as_deref().filter(|ns| !ns.is_empty())?;
            Some((("ServiceAccount", m.name.as_str(), Some(ns)), true))
        })
        .chain(direct.keys().map(|k| (*k, false)))
        .collect();
    // Sort by key, objects first, then keep one entry per key (an object, if any).
    keys.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
    keys.dedup_by(|a, b| a.0 == b.0);

    let mut out = Vec::with_capacity(keys.len());
    let mut sa_group = String::new();
    for (key, exists) in keys {
        let subject = SubjectRef {
            kind: key.0.to_string(),
            name: key.1.to_string(),
            namespace: key.2.map(str::to_string),
        };
        let class = classify(&subject);
        let mut grants = direct.get(&key).cloned().unwrap_or_default();
        match class {
            SubjectClass::ServiceAccount => {
                sa_group.clear();
                sa_group.push_str(NAMESPACE_SERVICE_ACCOUNTS_PREFIX);
                sa_group.push_str(key.2.unwrap_or(""));
                grants.extend_from_slice(group(ALL_SERVICE_ACCOUNTS));
                grants.extend_from_slice(group(&sa_group));
                grants.extend_from_slice(group(AUTHENTICATED));
            }
            SubjectClass::Person if key.0 == "User" => {
                grants.extend_from_slice(group(AUTHENTICATED));
            }
            _ => {}
        }
        out.push(SubjectGrants {
            subject,
            class,
            exists,
            grants,
        });
    }
    Resolution {
        subjects: out,
        missing_roles: missing,
        unknown_roles: unknown,
        bindings: all,
    }
}

/// The rules `grants` give for requests in `namespace` (cluster-wide grants plus the
/// RoleBindings of that namespace), or, with `None`, at the cluster scope only.
pub fn effective_rules(grants: &[Grant<'_>], namespace: Option<&str>) -> Vec<Rule> {
    grants
        .iter()
        .filter(|g| match (g.namespace(), namespace) {
            (None, _) => true,
            (Some(gns), Some(ns)) => gns == ns,
            (Some(_), None) => false,
        })
        .flat_map(Grant::effective_rules)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::snapshot::from_objects;
    use crate::rbac::{Request, rules_allow};
    use serde_json::{Value, json};

    fn sa(ns: &str, name: &str) -> Value {
        json!({"kind": "ServiceAccount", "metadata": {"name": name, "namespace": ns}})
    }

    fn role(ns: &str, name: &str, rules: Value) -> Value {
        json!({"kind": "Role", "metadata": {"name": name, "namespace": ns}, "rules": rules})
    }

    fn cluster_role(name: &str, rules: Value) -> Value {
        json!({"kind": "ClusterRole", "metadata": {"name": name}, "rules": rules})
    }

    fn rb(ns: &str, name: &str, kind: &str, role: &str, subjects: Value) -> Value {
        json!({"kind": "RoleBinding", "metadata": {"name": name, "namespace": ns},
               "roleRef": {"kind": kind, "name": role}, "subjects": subjects})
    }

    fn crb(name: &str, role: &str, subjects: Value) -> Value {
        json!({"kind": "ClusterRoleBinding", "metadata": {"name": name},
               "roleRef": {"kind": "ClusterRole", "name": role}, "subjects": subjects})
    }

    fn objects() -> Vec<Value> {
        vec![
            sa("a", "ci"),
            sa("a", "idle"),
            sa("b", "other"),
            role(
                "a",
                "deploy",
                json!([{"apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["create"]}]),
            ),
            cluster_role(
                "reader",
                json!([{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get"]},
                       {"nonResourceURLs": ["/metrics"], "verbs": ["get"]}]),
            ),
            rb(
                "a",
                "deploy",
                "Role",
                "deploy",
                json!([{"kind": "ServiceAccount", "name": "ci"},
                       {"kind": "ServiceAccount", "name": "ci"}]),
            ),
            rb(
                "b",
                "read-b",
                "ClusterRole",
                "reader",
                json!([{"kind": "User", "name": "system:serviceaccount:a:ci"}]),
            ),
            crb(
                "read-all-sa",
                "reader",
                json!([{"kind": "Group", "name": "system:serviceaccounts:a"}]),
            ),
            rb(
                "a",
                "dangling",
                "Role",
                "gone",
                json!([{"kind": "User", "name": "alice"}]),
            ),
            crb(
                "wrong-kind",
                "reader",
                json!([{"kind": "Martian", "name": "x"},
                       {"kind": "ServiceAccount", "name": "no-namespace"}]),
            ),
        ]
    }

    #[test]
    fn grants_direct_through_user_names_and_groups() {
        let snap = from_objects(&objects(), "2026-11-27T00:00:00Z");
        let res = resolve(&snap);
        let ci = res.subject(&service_account("a", "ci")).unwrap();
        assert_eq!(ci.class, SubjectClass::ServiceAccount);
        assert!(ci.exists);
        let vias: Vec<String> = ci.grants.iter().map(|g| g.via().binding).collect();
        assert_eq!(
            vias,
            [
                "RoleBinding a/deploy",
                "RoleBinding b/read-b",
                "ClusterRoleBinding read-all-sa (Group system:serviceaccounts:a)"
            ],
            "the duplicate subject entry counts once"
        );
        assert_eq!(ci.direct().count(), 2);
        assert_eq!(ci.grants[0].scope(), GrantScope::Namespace("a".into()));
        assert_eq!(ci.grants[0].role_label(), "Role a/deploy");
        assert_eq!(ci.grants[1].role_label(), "ClusterRole reader");
        assert_eq!(ci.grants[2].scope(), GrantScope::Cluster);
        assert!(ci.grants[1].applies_in("b") && !ci.grants[1].applies_in("a"));
        // b/other is not in group system:serviceaccounts:a
        let other = res.subject(&service_account("b", "other")).unwrap();
        assert!(other.grants.is_empty());
        let idle = res.subject(&service_account("a", "idle")).unwrap();
        assert_eq!(idle.grants.len(), 1, "group grant only");
        assert!(
            res.subject(&subject_ref("User", "system:serviceaccount:a:ci"))
                .is_none()
        );
    }

    #[test]
    fn effective_rules_follow_binding_scope() {
        let snap = from_objects(&objects(), "2026-11-27T00:00:00Z");
        let res = resolve(&snap);
        let ci = res.subject(&service_account("a", "ci")).unwrap();
        let in_a = effective_rules(&ci.grants, Some("a"));
        let in_b = effective_rules(&ci.grants, Some("b"));
        let cluster = effective_rules(&ci.grants, None);
        let create_deploy = Request::new("create", "apps", "deployments");
        let get_cm = Request::new("get", "", "configmaps");
        assert!(rules_allow(&in_a, &create_deploy));
        assert!(!rules_allow(&in_b, &create_deploy));
        assert!(rules_allow(&in_b, &get_cm));
        assert!(
            rules_allow(&cluster, &get_cm),
            "through the group's ClusterRoleBinding"
        );
        // the RoleBinding to the ClusterRole drops its non-resource rule
        let rb_rules = ci.grants[1].effective_rules();
        assert_eq!(rb_rules.len(), 1);
        assert!(
            ci.grants[2]
                .effective_rules()
                .iter()
                .any(Rule::is_non_resource_rule)
        );
    }

    #[test]
    fn missing_and_unknown_roles() {
        let snap = from_objects(&objects(), "2026-11-27T00:00:00Z");
        let res = resolve(&snap);
        let missing: Vec<&str> = res
            .missing_roles
            .iter()
            .map(|m| m.binding.meta.name.as_str())
            .collect();
        assert_eq!(missing, ["dangling"]);
        let alice = res.subject(&subject_ref("User", "alice")).unwrap();
        assert_eq!(alice.class, SubjectClass::Person);
        assert!(!alice.exists);
        assert!(alice.grants[0].role.is_none());
        assert!(alice.grants[0].rules().is_empty());

        let mut gappy = snap.clone();
        gappy.gaps.push("roles: forbidden (cannot list)".into());
        gappy.roles.clear();
        let res = resolve(&gappy);
        assert!(res.missing_roles.is_empty());
        let unknown: Vec<&str> = res
            .unknown_roles
            .iter()
            .map(|m| m.binding.meta.name.as_str())
            .collect();
        assert_eq!(
            unknown,
            ["dangling", "deploy"],
            "sorted by namespace and name"
        );
        // a ClusterRoleBinding to a Role is always missing
        let snap = from_objects(
            &[
                json!({"kind": "ClusterRoleBinding", "metadata": {"name": "x"},
                     "roleRef": {"kind": "Role", "name": "deploy"}, "subjects": []}),
            ],
            "",
        );
        assert_eq!(resolve(&snap).missing_roles.len(), 1);
    }

    #[test]
    fn classification() {
        let c = |kind: &str, name: &str| classify(&subject_ref(kind, name));
        assert_eq!(c("Group", "system:authenticated"), SubjectClass::BroadGroup);
        assert_eq!(
            c("Group", "system:unauthenticated"),
            SubjectClass::BroadGroup
        );
        assert_eq!(
            c("Group", "system:serviceaccounts"),
            SubjectClass::BroadGroup
        );
        assert_eq!(
            c("Group", "system:serviceaccounts:a"),
            SubjectClass::BroadGroup
        );
        assert_eq!(c("Group", "system:masters"), SubjectClass::System);
        assert_eq!(c("User", "system:kube-scheduler"), SubjectClass::System);
        assert_eq!(c("User", "system:authenticated"), SubjectClass::System);
        assert_eq!(c("User", "alice"), SubjectClass::Person);
        assert_eq!(c("Group", "devs"), SubjectClass::Person);
        assert_eq!(
            classify(&service_account("a", "b")),
            SubjectClass::ServiceAccount
        );
        assert!(group_covers_service_account(
            "system:serviceaccounts:a",
            "a"
        ));
        assert!(!group_covers_service_account(
            "system:serviceaccounts:a",
            "ab"
        ));
        assert!(group_covers_service_account("system:authenticated", "x"));
        assert!(!group_covers_service_account("system:unauthenticated", "x"));
        assert_eq!(
            subject_of("User", "system:serviceaccount:ns:sa", None),
            Some(service_account("ns", "sa"))
        );
        assert_eq!(
            subject_of("User", "system:serviceaccount:ns", None),
            Some(subject_ref("User", "system:serviceaccount:ns"))
        );
        assert_eq!(subject_of("ServiceAccount", "x", None), None);
        assert_eq!(subject_of("Robot", "x", None), None);
        assert_eq!(subject_of("User", "", None), None);
    }

    #[test]
    fn builtin_bindings_need_label_and_builtin_subjects() {
        let mut b = BindingData::default();
        b.subjects.push(crate::audit::model::SubjectData {
            kind: "Group".into(),
            name: "system:masters".into(),
            namespace: None,
        });
        assert!(!is_builtin_binding(&b), "no label");
        b.meta
            .labels
            .insert(BOOTSTRAP_LABEL.into(), BOOTSTRAP_VALUE.into());
        assert!(is_builtin_binding(&b));
        b.subjects.push(crate::audit::model::SubjectData {
            kind: "ServiceAccount".into(),
            name: "ci".into(),
            namespace: Some("team-a".into()),
        });
        assert!(
            !is_builtin_binding(&b),
            "a label cannot hide a tenant's grant"
        );
    }

    #[test]
    fn gaps_are_matched_by_resource_prefix() {
        let mut s = Snapshot::default();
        s.gaps.push("clusterroles: forbidden".into());
        assert!(has_gap(&s, "clusterroles"));
        assert!(!has_gap(&s, "roles"));
        assert!(!has_gap(&s, "clusterrolebindings"));
    }
}
