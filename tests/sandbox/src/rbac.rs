//! The sandbox's RBAC oracle: authorization, rule resolution, privilege-escalation
//! prevention and self-review answers, written after the Kubernetes sources
//! (kubernetes/kubernetes, paths relative to the repository root):
//!
//! * rule matching: `pkg/apis/rbac/v1/evaluation_helpers.go`,
//!   `plugin/pkg/auth/authorizer/rbac/rbac.go` (`RuleAllows`);
//! * rule resolution and the "allowed by" reasons: `pkg/registry/rbac/validation/rule.go`
//!   (`VisitRulesFor`, `appliesToUser`, `describeSubject`, `ConfirmNoEscalation`);
//! * coverage: `staging/src/k8s.io/component-helpers/auth/rbac/validation/policy_comparator.go`;
//! * compaction: `pkg/registry/rbac/validation/policy_compact.go`, `CompactString` in
//!   `pkg/apis/rbac/v1/evaluation_helpers.go`;
//! * escalation checks: `pkg/registry/rbac/escalation_check.go`,
//!   `pkg/registry/rbac/{role,clusterrole,rolebinding,clusterrolebinding}/policybased/storage.go`;
//! * the Forbidden text: `staging/src/k8s.io/apiserver/pkg/endpoints/handlers/responsewriters/errors.go`
//!   wrapped by `NewForbidden` (`staging/src/k8s.io/apimachinery/pkg/api/errors/errors.go`);
//! * self-subject rules review: `pkg/registry/authorization/selfsubjectrulesreview/rest.go`
//!   over the union rule resolver.
//!
//! Two resolvers with different error wording exist in the real server and both are
//! reproduced: the authorizer (and the rules review) resolves roles through informer
//! listers, whose NotFound errors name the *singular* resource
//! (`role.rbac.authorization.k8s.io "x" not found`), while the escalation checks resolve
//! through the registry, whose errors name the *plural* resource
//! (`roles.rbac.authorization.k8s.io "x" not found`).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value, json};

/// The RBAC API group.
pub const RBAC_GROUP: &str = "rbac.authorization.k8s.io";
/// Members of this group bypass authorization and escalation checks.
pub const SYSTEM_MASTERS: &str = "system:masters";
/// The group every node identity carries (`user.NodesGroup`).
pub const NODES_GROUP: &str = "system:nodes";
const NODE_USER_PREFIX: &str = "system:node:";
const SERVICE_ACCOUNT_PREFIX: &str = "system:serviceaccount:";

fn null_as_empty<'de, D>(d: D) -> Result<Vec<String>, D::Error>
where
    D: Deserializer<'de>,
{
    Ok(Option::<Vec<String>>::deserialize(d)?.unwrap_or_default())
}

/// An `rbac.authorization.k8s.io/v1` PolicyRule.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PolicyRule {
    #[serde(default, deserialize_with = "null_as_empty")]
    pub verbs: Vec<String>,
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "null_as_empty"
    )]
    pub api_groups: Vec<String>,
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "null_as_empty"
    )]
    pub resources: Vec<String>,
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "null_as_empty"
    )]
    pub resource_names: Vec<String>,
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        rename = "nonResourceURLs",
        deserialize_with = "null_as_empty"
    )]
    pub non_resource_urls: Vec<String>,
}

impl PolicyRule {
    /// A resource rule (`rbacv1helpers.NewRule(verbs...).Groups(...).Resources(...)`).
    pub fn resource(verbs: &[&str], api_groups: &[&str], resources: &[&str]) -> Self {
        PolicyRule {
            verbs: strings(verbs),
            api_groups: strings(api_groups),
            resources: strings(resources),
            ..Default::default()
        }
    }

    /// A non-resource rule (`rbacv1helpers.NewRule(verbs...).URLs(...)`).
    pub fn non_resource(verbs: &[&str], urls: &[&str]) -> Self {
        PolicyRule {
            verbs: strings(verbs),
            non_resource_urls: strings(urls),
            ..Default::default()
        }
    }

    /// The same rule restricted to the given resource names.
    pub fn with_names(mut self, names: &[&str]) -> Self {
        self.resource_names = strings(names);
        self
    }
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

/// An authenticated user (`user.Info` without extras).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UserInfo {
    pub name: String,
    pub uid: String,
    pub groups: Vec<String>,
}

impl UserInfo {
    /// A user with the given name and groups (uid left empty).
    pub fn new(name: &str, groups: &[&str]) -> Self {
        UserInfo {
            name: name.to_string(),
            uid: String::new(),
            groups: strings(groups),
        }
    }

    /// The identity a ServiceAccount token authenticates as: `system:serviceaccount:<ns>:<name>`
    /// with groups `system:serviceaccounts`, `system:serviceaccounts:<ns>`, `system:authenticated`.
    pub fn service_account(namespace: &str, name: &str) -> Self {
        UserInfo {
            name: format!("{SERVICE_ACCOUNT_PREFIX}{namespace}:{name}"),
            uid: String::new(),
            groups: vec![
                "system:serviceaccounts".to_string(),
                format!("system:serviceaccounts:{namespace}"),
                "system:authenticated".to_string(),
            ],
        }
    }

    pub fn in_group(&self, group: &str) -> bool {
        self.groups.iter().any(|g| g == group)
    }

    /// A member of `system:masters`: authorization and the escalation checks let it through
    /// without looking at RBAC (the privileged-groups authorizer, and the `IsSuperuser` /
    /// `EscalationAllowed` short cuts of the policybased storages).
    pub fn is_superuser(&self) -> bool {
        self.in_group(SYSTEM_MASTERS)
    }
}

/// The apiserver's authorizer.Attributes for one request.
#[derive(Clone, Debug, Default)]
pub struct Attributes {
    /// get, list, watch, create, update, patch, delete, deletecollection; non-resource: lower-case HTTP method
    pub verb: String,
    pub resource_request: bool,
    /// "" = cluster scope
    pub namespace: String,
    /// "" = core
    pub api_group: String,
    pub api_version: String,
    /// plural, e.g. "pods"
    pub resource: String,
    /// e.g. "exec", "" if none
    pub subresource: String,
    /// "" for create/list/watch
    pub name: String,
    /// request path (used for non-resource requests)
    pub path: String,
}

impl Attributes {
    /// A resource request. `resource` may be given as `res/sub` (split on the first `/`).
    pub fn resource(
        verb: &str,
        namespace: &str,
        api_group: &str,
        resource: &str,
        name: &str,
    ) -> Self {
        let (res, sub) = match resource.split_once('/') {
            Some((r, s)) => (r, s),
            None => (resource, ""),
        };
        Attributes {
            verb: verb.to_string(),
            resource_request: true,
            namespace: namespace.to_string(),
            api_group: api_group.to_string(),
            api_version: String::new(),
            resource: res.to_string(),
            subresource: sub.to_string(),
            name: name.to_string(),
            path: String::new(),
        }
    }

    /// A non-resource request (`verb` is the lower-case HTTP method).
    pub fn non_resource(verb: &str, path: &str) -> Self {
        Attributes {
            verb: verb.to_string(),
            resource_request: false,
            path: path.to_string(),
            ..Default::default()
        }
    }
}

#[derive(Clone, Debug, Default)]
struct Subject {
    kind: String,
    name: String,
    namespace: String,
}

#[derive(Clone, Debug, Default)]
struct RoleRef {
    kind: String,
    name: String,
}

#[derive(Clone, Debug, Default)]
struct Binding {
    name: String,
    namespace: String,
    role_ref: RoleRef,
    subjects: Vec<Subject>,
}

/// Parsed RBAC objects; built from the JSON objects the server stores
/// (rbac.authorization.k8s.io/v1 shapes).
#[derive(Clone, Debug, Default)]
pub struct RbacSnapshot {
    roles: HashMap<(String, String), Vec<PolicyRule>>,
    cluster_roles: HashMap<String, Vec<PolicyRule>>,
    role_bindings: Vec<Binding>,
    cluster_role_bindings: Vec<Binding>,
}

fn str_at<'a>(v: &'a Value, path: &[&str]) -> &'a str {
    let mut cur = v;
    for p in path {
        match cur.get(p) {
            Some(next) => cur = next,
            None => return "",
        }
    }
    cur.as_str().unwrap_or("")
}

/// Parse the `rules` array of a Role or ClusterRole (null or missing = no rules).
pub fn rules_of(obj: &Value) -> Vec<PolicyRule> {
    obj.get("rules")
        .and_then(Value::as_array)
        .map(|rules| {
            rules
                .iter()
                .map(|r| serde_json::from_value(r.clone()).unwrap_or_default())
                .collect()
        })
        .unwrap_or_default()
}

fn parse_binding(obj: &Value) -> Binding {
    let subjects = obj
        .get("subjects")
        .and_then(Value::as_array)
        .map(|subs| {
            subs.iter()
                .map(|s| Subject {
                    kind: str_at(s, &["kind"]).to_string(),
                    name: str_at(s, &["name"]).to_string(),
                    namespace: str_at(s, &["namespace"]).to_string(),
                })
                .collect()
        })
        .unwrap_or_default();
    Binding {
        name: str_at(obj, &["metadata", "name"]).to_string(),
        namespace: str_at(obj, &["metadata", "namespace"]).to_string(),
        role_ref: RoleRef {
            kind: str_at(obj, &["roleRef", "kind"]).to_string(),
            name: str_at(obj, &["roleRef", "name"]).to_string(),
        },
        subjects,
    }
}

/// Which of the real server's two rule resolvers is being imitated (they word
/// NotFound errors differently, see the module documentation).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Resolver {
    /// informer listers: `role.rbac.authorization.k8s.io "x" not found`
    Lister,
    /// registry storage: `roles.rbac.authorization.k8s.io "x" not found`
    Registry,
}

enum RoleRefError {
    NotFound(String),
    Unsupported(String),
}

impl RoleRefError {
    fn message(&self) -> &str {
        match self {
            RoleRefError::NotFound(m) | RoleRefError::Unsupported(m) => m,
        }
    }
}

enum Visit<'a> {
    Rule {
        binding: &'a Binding,
        cluster: bool,
        subject: &'a Subject,
        rule: &'a PolicyRule,
    },
    Error(String),
}

impl RbacSnapshot {
    pub fn from_objects(
        roles: &[Value],
        role_bindings: &[Value],
        cluster_roles: &[Value],
        cluster_role_bindings: &[Value],
    ) -> Self {
        let mut s = RbacSnapshot::default();
        for r in roles {
            let key = (
                str_at(r, &["metadata", "namespace"]).to_string(),
                str_at(r, &["metadata", "name"]).to_string(),
            );
            s.roles.insert(key, rules_of(r));
        }
        for r in cluster_roles {
            s.cluster_roles
                .insert(str_at(r, &["metadata", "name"]).to_string(), rules_of(r));
        }
        s.role_bindings = role_bindings.iter().map(parse_binding).collect();
        s.cluster_role_bindings = cluster_role_bindings.iter().map(parse_binding).collect();
        s
    }

    /// `GetRoleReferenceRules` (rule.go) with the error wording of the chosen resolver.
    fn role_ref_rules(
        &self,
        role_ref: &RoleRef,
        binding_namespace: &str,
        resolver: Resolver,
    ) -> Result<&[PolicyRule], RoleRefError> {
        let not_found = |singular: &str, plural: &str| {
            let res = match resolver {
                Resolver::Lister => singular,
                Resolver::Registry => plural,
            };
            RoleRefError::NotFound(format!(
                "{res}.{RBAC_GROUP} {} not found",
                go_quote(&role_ref.name)
            ))
        };
        match role_ref.kind.as_str() {
            "Role" => self
                .roles
                .get(&(binding_namespace.to_string(), role_ref.name.clone()))
                .map(Vec::as_slice)
                .ok_or_else(|| not_found("role", "roles")),
            "ClusterRole" => self
                .cluster_roles
                .get(&role_ref.name)
                .map(Vec::as_slice)
                .ok_or_else(|| not_found("clusterrole", "clusterroles")),
            other => Err(RoleRefError::Unsupported(format!(
                "unsupported role reference kind: {}",
                go_quote(other)
            ))),
        }
    }

    /// `VisitRulesFor` (rule.go): ClusterRoleBindings first, then the RoleBindings of
    /// `namespace` (when not empty). The visitor returns false to stop.
    fn visit_rules_for<'a>(
        &'a self,
        user: &UserInfo,
        namespace: &str,
        resolver: Resolver,
        visitor: &mut dyn FnMut(Visit<'a>) -> bool,
    ) {
        for b in &self.cluster_role_bindings {
            let Some(subject) = applies_to(user, &b.subjects, "") else {
                continue;
            };
            match self.role_ref_rules(&b.role_ref, "", resolver) {
                Err(e) => {
                    if !visitor(Visit::Error(e.message().to_string())) {
                        return;
                    }
                }
                Ok(rules) => {
                    for rule in rules {
                        let v = Visit::Rule {
                            binding: b,
                            cluster: true,
                            subject,
                            rule,
                        };
                        if !visitor(v) {
                            return;
                        }
                    }
                }
            }
        }
        if namespace.is_empty() {
            return;
        }
        for b in self
            .role_bindings
            .iter()
            .filter(|b| b.namespace == namespace)
        {
            let Some(subject) = applies_to(user, &b.subjects, namespace) else {
                continue;
            };
            match self.role_ref_rules(&b.role_ref, namespace, resolver) {
                Err(e) => {
                    if !visitor(Visit::Error(e.message().to_string())) {
                        return;
                    }
                }
                Ok(rules) => {
                    for rule in rules {
                        let v = Visit::Rule {
                            binding: b,
                            cluster: false,
                            subject,
                            rule,
                        };
                        if !visitor(v) {
                            return;
                        }
                    }
                }
            }
        }
    }

    fn rules_for_with(
        &self,
        user: &UserInfo,
        namespace: &str,
        resolver: Resolver,
    ) -> (Vec<PolicyRule>, Vec<String>) {
        let mut rules = Vec::new();
        let mut errors = Vec::new();
        self.visit_rules_for(user, namespace, resolver, &mut |v| {
            match v {
                Visit::Rule { rule, .. } => rules.push(rule.clone()),
                Visit::Error(e) => errors.push(e),
            }
            true
        });
        (rules, errors)
    }
}

/// `appliesTo` (rule.go): the first subject of the binding that names the user.
fn applies_to<'a>(
    user: &UserInfo,
    subjects: &'a [Subject],
    namespace: &str,
) -> Option<&'a Subject> {
    subjects
        .iter()
        .find(|s| applies_to_user(user, s, namespace))
}

/// `appliesToUser` (rule.go). A ServiceAccount subject without namespace takes the
/// binding's namespace (only possible in RoleBindings: validation requires it in
/// ClusterRoleBindings).
fn applies_to_user(user: &UserInfo, subject: &Subject, namespace: &str) -> bool {
    match subject.kind.as_str() {
        "User" => user.name == subject.name,
        "Group" => user.in_group(&subject.name),
        "ServiceAccount" => {
            let sa_namespace = if subject.namespace.is_empty() {
                namespace
            } else {
                subject.namespace.as_str()
            };
            if sa_namespace.is_empty() {
                return false;
            }
            user.name == format!("{SERVICE_ACCOUNT_PREFIX}{sa_namespace}:{}", subject.name)
        }
        _ => false,
    }
}

/// `describeSubject` (rule.go).
fn describe_subject(s: &Subject, binding_namespace: &str) -> String {
    match s.kind.as_str() {
        "ServiceAccount" => {
            let ns = if s.namespace.is_empty() {
                binding_namespace
            } else {
                s.namespace.as_str()
            };
            format!("{} {}", s.kind, go_quote(&format!("{}/{}", s.name, ns)))
        }
        _ => format!("{} {}", s.kind, go_quote(&s.name)),
    }
}

/// `clusterRoleBindingDescriber` / `roleBindingDescriber` (rule.go).
fn describe_source(b: &Binding, cluster: bool, subject: &Subject) -> String {
    if cluster {
        format!(
            "ClusterRoleBinding {} of {} {} to {}",
            go_quote(&b.name),
            b.role_ref.kind,
            go_quote(&b.role_ref.name),
            describe_subject(subject, "")
        )
    } else {
        format!(
            "RoleBinding {} of {} {} to {}",
            go_quote(&format!("{}/{}", b.name, b.namespace)),
            b.role_ref.kind,
            go_quote(&b.role_ref.name),
            describe_subject(subject, &b.namespace)
        )
    }
}

// ---------------------------------------------------------------------------
// Matching (evaluation_helpers.go, rbac.go RuleAllows)
// ---------------------------------------------------------------------------

fn verb_matches(rule: &PolicyRule, verb: &str) -> bool {
    rule.verbs.iter().any(|v| v == "*" || v == verb)
}

fn api_group_matches(rule: &PolicyRule, group: &str) -> bool {
    rule.api_groups.iter().any(|g| g == "*" || g == group)
}

fn resource_matches(rule: &PolicyRule, combined: &str, subresource: &str) -> bool {
    rule.resources.iter().any(|r| {
        if r == "*" || r == combined {
            return true;
        }
        !subresource.is_empty()
            && r.len() == subresource.len() + 2
            && r.starts_with("*/")
            && r.ends_with(subresource)
    })
}

fn resource_name_matches(rule: &PolicyRule, name: &str) -> bool {
    rule.resource_names.is_empty() || rule.resource_names.iter().any(|n| n == name)
}

fn non_resource_url_matches(rule: &PolicyRule, url: &str) -> bool {
    rule.non_resource_urls.iter().any(|u| {
        u == "*" || u == url || (u.ends_with('*') && url.starts_with(u.trim_end_matches('*')))
    })
}

/// `RuleAllows` (plugin/pkg/auth/authorizer/rbac/rbac.go).
pub fn rule_allows(a: &Attributes, rule: &PolicyRule) -> bool {
    if a.resource_request {
        let combined = if a.subresource.is_empty() {
            a.resource.clone()
        } else {
            format!("{}/{}", a.resource, a.subresource)
        };
        return verb_matches(rule, &a.verb)
            && api_group_matches(rule, &a.api_group)
            && resource_matches(rule, &combined, &a.subresource)
            && resource_name_matches(rule, &a.name);
    }
    verb_matches(rule, &a.verb) && non_resource_url_matches(rule, &a.path)
}

// ---------------------------------------------------------------------------
// Authorization
// ---------------------------------------------------------------------------

/// An authorization decision. `reason` is the union authorizer's reason: for an RBAC
/// allow `RBAC: allowed by RoleBinding "rb/ns" of Role "r" to ServiceAccount "sa/ns"`,
/// for a system:masters allow "" (the privileged-groups authorizer gives none), for a
/// denial "" unless bindings failed to resolve, then `RBAC: <aggregated errors>`
/// (e.g. `RBAC: role.rbac.authorization.k8s.io "gone" not found`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decision {
    pub allowed: bool,
    pub reason: String,
}

/// Union authorizer as kube-apiserver has it: members of group system:masters are
/// always allowed (privileged-groups authorizer), then RBAC. (The Node authorizer,
/// which only speaks for `system:node:*` users in `system:nodes`, is not modelled.)
pub fn authorize(s: &RbacSnapshot, user: &UserInfo, a: &Attributes) -> Decision {
    if user.in_group(SYSTEM_MASTERS) {
        return Decision {
            allowed: true,
            reason: String::new(),
        };
    }
    let mut allowed_by: Option<String> = None;
    let mut errors: Vec<String> = Vec::new();
    s.visit_rules_for(user, &a.namespace, Resolver::Lister, &mut |v| match v {
        Visit::Rule {
            binding,
            cluster,
            subject,
            rule,
        } => {
            if rule_allows(a, rule) {
                allowed_by = Some(describe_source(binding, cluster, subject));
                return false;
            }
            true
        }
        Visit::Error(e) => {
            errors.push(e);
            true
        }
    });
    match allowed_by {
        Some(source) => Decision {
            allowed: true,
            reason: format!("RBAC: allowed by {source}"),
        },
        None => Decision {
            allowed: false,
            reason: if errors.is_empty() {
                String::new()
            } else {
                format!("RBAC: {}", aggregate_errors(&errors))
            },
        },
    }
}

/// The `status` of a SelfSubjectAccessReview (or SubjectAccessReview) reply:
/// `{"allowed":bool,"reason"?:string}` (`denied` and `evaluationError` never arise here:
/// RBAC has no explicit deny and reports resolution errors through the reason).
pub fn subject_access_review_status(s: &RbacSnapshot, user: &UserInfo, a: &Attributes) -> Value {
    let d = authorize(s, user, a);
    let mut m = Map::new();
    m.insert("allowed".into(), Value::Bool(d.allowed));
    if !d.reason.is_empty() {
        m.insert("reason".into(), Value::String(d.reason));
    }
    Value::Object(m)
}

/// The apiserver's `forbiddenMessage` (responsewriters/errors.go), HTML-sanitized as
/// `Forbidden` does, without the wrapping.
fn inner_forbidden_message(user: &UserInfo, a: &Attributes) -> String {
    let msg = if !a.resource_request {
        format!(
            "User {} cannot {} path {}",
            go_quote(&user.name),
            a.verb,
            go_quote(&a.path)
        )
    } else {
        let resource = if a.subresource.is_empty() {
            a.resource.clone()
        } else {
            format!("{}/{}", a.resource, a.subresource)
        };
        if a.namespace.is_empty() {
            format!(
                "User {} cannot {} resource {} in API group {} at the cluster scope",
                go_quote(&user.name),
                a.verb,
                go_quote(&resource),
                go_quote(&a.api_group)
            )
        } else {
            format!(
                "User {} cannot {} resource {} in API group {} in the namespace {}",
                go_quote(&user.name),
                a.verb,
                go_quote(&resource),
                go_quote(&a.api_group),
                go_quote(&a.namespace)
            )
        }
    };
    msg.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// `NewForbidden(GroupResource{group, resource}, name, err).Error()` (apimachinery
/// `pkg/api/errors/errors.go`): `forbidden: <err>` when group and resource are empty,
/// `<resource>[.<group>] is forbidden: <err>` without a name,
/// `<resource>[.<group>] "<name>" is forbidden: <err>` with one.
pub fn new_forbidden_message(group: &str, resource: &str, name: &str, err: &str) -> String {
    if group.is_empty() && resource.is_empty() {
        return format!("forbidden: {err}");
    }
    let gr = if group.is_empty() {
        resource.to_string()
    } else {
        format!("{resource}.{group}")
    };
    if name.is_empty() {
        format!("{gr} is forbidden: {err}")
    } else {
        format!("{gr} {} is forbidden: {err}", go_quote(name))
    }
}

/// The whole Forbidden message the apiserver writes for a denied request whose
/// authorizer gave no reason, e.g.
/// `pods is forbidden: User "system:serviceaccount:ci:deployer" cannot list resource "pods" in API group "" in the namespace "ci"`,
/// `forbidden: User "x" cannot get path "/foo"`.
/// Use [`forbidden_message_with_reason`] with [`Decision::reason`] to match the real
/// server when bindings failed to resolve.
pub fn forbidden_message(user: &UserInfo, a: &Attributes) -> String {
    forbidden_message_with_reason(user, a, "")
}

/// As [`forbidden_message`], with the authorizer's reason appended as `: <reason>` when
/// it is not empty (as `responsewriters.Forbidden` does), e.g.
/// `... in the namespace "ci": RBAC: role.rbac.authorization.k8s.io "gone" not found`.
pub fn forbidden_message_with_reason(user: &UserInfo, a: &Attributes, reason: &str) -> String {
    let msg = inner_forbidden_message(user, a);
    let err = if reason.is_empty() {
        msg
    } else {
        format!("{msg}: {reason}")
    };
    let (group, resource) = if a.resource_request {
        (a.api_group.as_str(), a.resource.as_str())
    } else {
        ("", "")
    };
    new_forbidden_message(group, resource, &a.name, &err)
}

/// Authorize and, when denied, give the full Forbidden message (reason included).
pub fn denial_message(s: &RbacSnapshot, user: &UserInfo, a: &Attributes) -> Option<String> {
    let d = authorize(s, user, a);
    (!d.allowed).then(|| forbidden_message_with_reason(user, a, &d.reason))
}

/// Rules a user holds in a namespace ("" = cluster-wide only): ClusterRoleBindings
/// always, RoleBindings of that namespace; plus resolution errors (binding to a missing
/// role) worded as the authorizer's resolver words them
/// (`role.rbac.authorization.k8s.io "x" not found`,
/// `clusterrole.rbac.authorization.k8s.io "x" not found`).
pub fn rules_for(
    s: &RbacSnapshot,
    user: &UserInfo,
    namespace: &str,
) -> (Vec<PolicyRule>, Vec<String>) {
    s.rules_for_with(user, namespace, Resolver::Lister)
}

/// `utilerrors.NewAggregate(errs).Error()`: one error as is, several de-duplicated,
/// joined with ", " and bracketed (a single distinct message stays unbracketed).
pub fn aggregate_errors(errs: &[String]) -> String {
    match errs {
        [] => String::new(),
        [one] => one.clone(),
        _ => {
            let mut seen: Vec<&str> = Vec::new();
            for e in errs {
                if !seen.contains(&e.as_str()) {
                    seen.push(e);
                }
            }
            if seen.len() == 1 {
                seen[0].to_string()
            } else {
                format!("[{}]", seen.join(", "))
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Coverage (policy_comparator.go) and compaction (policy_compact.go)
// ---------------------------------------------------------------------------

/// `BreakdownRule`: one rule per (group, resource, verb[, name]) and per (url, verb).
pub fn breakdown_rule(rule: &PolicyRule) -> Vec<PolicyRule> {
    let mut out = Vec::new();
    for group in &rule.api_groups {
        for resource in &rule.resources {
            for verb in &rule.verbs {
                if rule.resource_names.is_empty() {
                    out.push(PolicyRule {
                        verbs: vec![verb.clone()],
                        api_groups: vec![group.clone()],
                        resources: vec![resource.clone()],
                        ..Default::default()
                    });
                } else {
                    for name in &rule.resource_names {
                        out.push(PolicyRule {
                            verbs: vec![verb.clone()],
                            api_groups: vec![group.clone()],
                            resources: vec![resource.clone()],
                            resource_names: vec![name.clone()],
                            ..Default::default()
                        });
                    }
                }
            }
        }
    }
    for url in &rule.non_resource_urls {
        for verb in &rule.verbs {
            out.push(PolicyRule {
                verbs: vec![verb.clone()],
                non_resource_urls: vec![url.clone()],
                ..Default::default()
            });
        }
    }
    out
}

fn has(set: &[String], ele: &str) -> bool {
    set.iter().any(|s| s == ele)
}

fn has_all(set: &[String], contains: &[String]) -> bool {
    contains.iter().all(|c| has(set, c))
}

fn resource_covers_all(set: &[String], covers: &[String]) -> bool {
    if has(set, "*") || has_all(set, covers) {
        return true;
    }
    for path in covers {
        if has(set, path) {
            continue;
        }
        let Some((_, sub)) = path.split_once('/') else {
            return false;
        };
        if !has(set, &format!("*/{sub}")) {
            return false;
        }
    }
    true
}

fn non_resource_url_covers(owner: &str, sub: &str) -> bool {
    owner == sub || (owner.ends_with('*') && sub.starts_with(owner.trim_end_matches('*')))
}

fn non_resource_urls_cover_all(set: &[String], covers: &[String]) -> bool {
    covers
        .iter()
        .all(|path| set.iter().any(|owner| non_resource_url_covers(owner, path)))
}

/// `ruleCovers`: whether one owner rule covers a broken-down sub-rule.
fn rule_covers(owner: &PolicyRule, sub: &PolicyRule) -> bool {
    let verbs = has(&owner.verbs, "*") || has_all(&owner.verbs, &sub.verbs);
    let groups = has(&owner.api_groups, "*") || has_all(&owner.api_groups, &sub.api_groups);
    let resources = resource_covers_all(&owner.resources, &sub.resources);
    let urls = non_resource_urls_cover_all(&owner.non_resource_urls, &sub.non_resource_urls);
    let names = if sub.resource_names.is_empty() {
        owner.resource_names.is_empty()
    } else {
        owner.resource_names.is_empty() || has_all(&owner.resource_names, &sub.resource_names)
    };
    verbs && groups && resources && names && urls
}

/// policy_comparator.go `Covers`: (covered, missing rules broken down to single tuples).
pub fn covers(owner: &[PolicyRule], requested: &[PolicyRule]) -> (bool, Vec<PolicyRule>) {
    let uncovered: Vec<PolicyRule> = requested
        .iter()
        .flat_map(breakdown_rule)
        .filter(|sub| !owner.iter().any(|o| rule_covers(o, sub)))
        .collect();
    (uncovered.is_empty(), uncovered)
}

/// policy_compact.go `simpleResource`: group, resource, optional resource name.
type SimpleResource = (String, String, Option<String>);

/// policy_compact.go `CompactRules`: rules with one group, one resource, at most one
/// resource name and nothing else are merged when they differ only by verb. (Go returns
/// the merged rules in map order; here: the other rules first, then the merged ones in
/// order of first appearance. The escalation message sorts them anyway.)
pub fn compact_rules(rules: &[PolicyRule]) -> Vec<PolicyRule> {
    let mut compacted = Vec::new();
    let mut simple: Vec<(SimpleResource, PolicyRule)> = Vec::new();
    for rule in rules {
        let is_simple = rule.resource_names.len() <= 1
            && rule.non_resource_urls.is_empty()
            && rule.api_groups.len() == 1
            && rule.resources.len() == 1;
        if !is_simple {
            compacted.push(rule.clone());
            continue;
        }
        let key = (
            rule.api_groups[0].clone(),
            rule.resources[0].clone(),
            rule.resource_names.first().cloned(),
        );
        match simple.iter_mut().find(|(k, _)| *k == key) {
            Some((_, existing)) => existing.verbs.extend(rule.verbs.iter().cloned()),
            None => simple.push((key, rule.clone())),
        }
    }
    compacted.extend(simple.into_iter().map(|(_, r)| r));
    compacted
}

/// Go `%q` of a string (strconv.Quote).
pub fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{b}' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c if c.is_control() => {
                let n = c as u32;
                if n <= 0xffff {
                    out.push_str(&format!("\\u{n:04x}"));
                } else {
                    out.push_str(&format!("\\U{n:08x}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Go `%q` of a `[]string`: `["a" "b"]`.
pub fn go_quote_list(v: &[String]) -> String {
    let items: Vec<String> = v.iter().map(|s| go_quote(s)).collect();
    format!("[{}]", items.join(" "))
}

/// `{APIGroups:["apps"], Resources:["deployments"], Verbs:["create" "delete"]}`
/// (Go CompactString; empty fields omitted).
pub fn compact_string(rule: &PolicyRule) -> String {
    let mut parts = Vec::new();
    if !rule.api_groups.is_empty() {
        parts.push(format!("APIGroups:{}", go_quote_list(&rule.api_groups)));
    }
    if !rule.resources.is_empty() {
        parts.push(format!("Resources:{}", go_quote_list(&rule.resources)));
    }
    if !rule.non_resource_urls.is_empty() {
        parts.push(format!(
            "NonResourceURLs:{}",
            go_quote_list(&rule.non_resource_urls)
        ));
    }
    if !rule.resource_names.is_empty() {
        parts.push(format!(
            "ResourceNames:{}",
            go_quote_list(&rule.resource_names)
        ));
    }
    if !rule.verbs.is_empty() {
        parts.push(format!("Verbs:{}", go_quote_list(&rule.verbs)));
    }
    format!("{{{}}}", parts.join(", "))
}

// ---------------------------------------------------------------------------
// Escalation prevention
// ---------------------------------------------------------------------------

/// Why a Role/ClusterRole/RoleBinding/ClusterRoleBinding write was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RbacDenial {
    /// 403 Forbidden with this full message (e.g. `roles.rbac.authorization.k8s.io "leak" is forbidden: user "bob" (groups=["devs" "system:authenticated"]) is attempting to grant RBAC permissions not currently held:\n{APIGroups:[""], Resources:["secrets"], Verbs:["get"]}`).
    /// Status details: name = the object's name, group = rbac.authorization.k8s.io,
    /// kind = the object's plural resource.
    Forbidden(String),
    /// The binding's roleRef names a role that does not exist and the user may not
    /// `bind` it: the real server answers 404 NotFound
    /// `<resource>.rbac.authorization.k8s.io "<name>" not found` (resource `roles` or
    /// `clusterroles`; details name = the role's name, group = rbac.authorization.k8s.io,
    /// kind = resource).
    RoleNotFound { resource: String, name: String },
}

impl RbacDenial {
    /// The HTTP status code.
    pub fn code(&self) -> u16 {
        match self {
            RbacDenial::Forbidden(_) => 403,
            RbacDenial::RoleNotFound { .. } => 404,
        }
    }

    /// The Status reason.
    pub fn reason(&self) -> &'static str {
        match self {
            RbacDenial::Forbidden(_) => "Forbidden",
            RbacDenial::RoleNotFound { .. } => "NotFound",
        }
    }

    /// The Status message.
    pub fn message(&self) -> String {
        match self {
            RbacDenial::Forbidden(m) => m.clone(),
            RbacDenial::RoleNotFound { resource, name } => {
                format!("{resource}.{RBAC_GROUP} {} not found", go_quote(name))
            }
        }
    }
}

/// `ConfirmNoEscalation` (rule.go) with the registry resolver; the error text unwrapped.
fn confirm_no_escalation(
    s: &RbacSnapshot,
    user: &UserInfo,
    namespace: &str,
    rules: &[PolicyRule],
) -> Result<(), String> {
    let (owner, errors) = s.rules_for_with(user, namespace, Resolver::Registry);
    let (ok, missing) = covers(&owner, rules);
    if ok {
        return Ok(());
    }
    let descriptions: BTreeSet<String> =
        compact_rules(&missing).iter().map(compact_string).collect();
    let mut msg = format!(
        "user {} (groups={}) is attempting to grant RBAC permissions not currently held:\n{}",
        go_quote(&user.name),
        go_quote_list(&user.groups),
        descriptions.into_iter().collect::<Vec<_>>().join("\n")
    );
    if !errors.is_empty() {
        msg.push_str(&format!(
            "; resolution errors: [{}]",
            aggregate_errors(&errors)
        ));
    }
    Err(msg)
}

/// `fullAuthority` (clusterrole/policybased/storage.go).
fn full_authority() -> Vec<PolicyRule> {
    vec![
        PolicyRule::resource(&["*"], &["*"], &["*"]),
        PolicyRule::non_resource(&["*"], &["*"]),
    ]
}

/// One Role or ClusterRole create/update, for [`check_role_write`].
#[derive(Clone, Debug, Default)]
pub struct RoleWrite<'a> {
    /// "Role" or "ClusterRole"
    pub kind: &'a str,
    /// the object's namespace ("" for a ClusterRole)
    pub namespace: &'a str,
    /// the object's name (named in the Forbidden message)
    pub name: &'a str,
    /// the name in the request URL, which the `escalate` check is authorized against:
    /// "" for a POST (create), the object's name for PUT/PATCH (update, apply)
    pub request_name: &'a str,
    pub rules: &'a [PolicyRule],
    /// ClusterRole only: the new object has an aggregationRule with selectors
    pub aggregation_rule: bool,
    /// ClusterRole update only: the stored object has an aggregationRule with selectors
    pub old_aggregation_rule: bool,
}

/// Escalation prevention for a Role/ClusterRole write in full
/// (role/policybased and clusterrole/policybased storage.go):
/// system:masters allowed; a user holding `escalate` on roles/clusterroles
/// (group rbac.authorization.k8s.io, the request's namespace and name) allowed;
/// otherwise the user's own rules (ClusterRoleBindings, plus RoleBindings of the Role's
/// namespace) must cover every rule, and setting or changing a ClusterRole's
/// aggregationRule needs `*` on everything ("must have cluster-admin privileges to use
/// the aggregationRule"). The real server runs this before validation (create) or
/// after reading the stored object (update); updates that only touch GC fields
/// (finalizers, ownerReferences) are not checked there.
pub fn check_role_write(
    s: &RbacSnapshot,
    user: &UserInfo,
    w: &RoleWrite,
) -> Result<(), RbacDenial> {
    let resource = match w.kind {
        "Role" => "roles",
        "ClusterRole" => "clusterroles",
        _ => return Ok(()),
    };
    if user.in_group(SYSTEM_MASTERS) {
        return Ok(());
    }
    let namespace = if w.kind == "Role" { w.namespace } else { "" };
    let escalate = Attributes {
        verb: "escalate".into(),
        resource_request: true,
        namespace: namespace.into(),
        api_group: RBAC_GROUP.into(),
        api_version: "*".into(),
        resource: resource.into(),
        subresource: String::new(),
        name: w.request_name.into(),
        path: String::new(),
    };
    if authorize(s, user, &escalate).allowed {
        return Ok(());
    }
    confirm_no_escalation(s, user, namespace, w.rules).map_err(|e| {
        RbacDenial::Forbidden(new_forbidden_message(RBAC_GROUP, resource, w.name, &e))
    })?;
    if w.kind == "ClusterRole"
        && (w.aggregation_rule || w.old_aggregation_rule)
        && confirm_no_escalation(s, user, "", &full_authority()).is_err()
    {
        return Err(RbacDenial::Forbidden(new_forbidden_message(
            RBAC_GROUP,
            resource,
            w.name,
            "must have cluster-admin privileges to use the aggregationRule",
        )));
    }
    Ok(())
}

/// Escalation prevention for Role (namespace = object's) / ClusterRole (namespace = "")
/// create or update: system:masters allowed; user holding `escalate` on
/// roles/clusterroles (authorized with the object's namespace and name) allowed;
/// otherwise the user's own rules must cover.
///
/// This authorizes `escalate` against the object's name, which is what the real server
/// does for updates; for a create (POST) it authorizes against the empty request name,
/// so an `escalate` rule restricted by resourceNames does not help there: use
/// [`check_role_write`] with `request_name: ""` to reproduce that, and to check
/// aggregationRule changes.
pub fn check_role_escalation(
    s: &RbacSnapshot,
    user: &UserInfo,
    kind: &str,
    namespace: &str,
    name: &str,
    rules: &[PolicyRule],
) -> Result<(), RbacDenial> {
    check_role_write(
        s,
        user,
        &RoleWrite {
            kind,
            namespace,
            name,
            request_name: name,
            rules,
            ..Default::default()
        },
    )
}

/// RoleBinding / ClusterRoleBinding create or update, per rolebinding/policybased and
/// clusterrolebinding/policybased storage.go: system:masters allowed; a user allowed to
/// `bind` the referenced role (`roles` or `clusterroles` in rbac.authorization.k8s.io,
/// named roleRef.name, in the binding's namespace or cluster-wide for a
/// ClusterRoleBinding) allowed, even when the role does not exist; otherwise the
/// referenced role must exist (else [`RbacDenial::RoleNotFound`]) and the user's own
/// rules (in the binding's namespace) must cover its rules.
///
/// A roleRef kind other than Role/ClusterRole, or a ClusterRoleBinding naming a Role,
/// passes here (the real server answers 500 resp. 400 at this point; the sandbox's
/// validation rejects such objects with 422 instead).
pub fn check_binding_escalation(
    s: &RbacSnapshot,
    user: &UserInfo,
    kind: &str,
    namespace: &str,
    name: &str,
    role_ref_kind: &str,
    role_ref_name: &str,
) -> Result<(), RbacDenial> {
    let resource = match kind {
        "RoleBinding" => "rolebindings",
        "ClusterRoleBinding" => "clusterrolebindings",
        _ => return Ok(()),
    };
    if user.in_group(SYSTEM_MASTERS) {
        return Ok(());
    }
    let binding_namespace = if kind == "RoleBinding" { namespace } else { "" };
    let ref_resource = match role_ref_kind {
        "Role" => Some("roles"),
        "ClusterRole" => Some("clusterroles"),
        _ => None,
    };
    if let Some(ref_resource) = ref_resource {
        let bind = Attributes {
            verb: "bind".into(),
            resource_request: true,
            namespace: binding_namespace.into(),
            api_group: RBAC_GROUP.into(),
            api_version: "*".into(),
            resource: ref_resource.into(),
            subresource: String::new(),
            name: role_ref_name.into(),
            path: String::new(),
        };
        if authorize(s, user, &bind).allowed {
            return Ok(());
        }
    }
    if kind == "ClusterRoleBinding" && role_ref_kind == "Role" {
        return Ok(());
    }
    let role_ref = RoleRef {
        kind: role_ref_kind.to_string(),
        name: role_ref_name.to_string(),
    };
    let rules = match s.role_ref_rules(&role_ref, binding_namespace, Resolver::Registry) {
        Ok(rules) => rules,
        // kube-apiserver 1.37 names the binding's resource, not the role's, in this 404.
        Err(RoleRefError::NotFound(_)) => {
            return Err(RbacDenial::RoleNotFound {
                resource: resource.to_string(),
                name: role_ref_name.to_string(),
            });
        }
        Err(RoleRefError::Unsupported(_)) => return Ok(()),
    };
    confirm_no_escalation(s, user, binding_namespace, rules)
        .map_err(|e| RbacDenial::Forbidden(new_forbidden_message(RBAC_GROUP, resource, name, &e)))
}

// ---------------------------------------------------------------------------
// Self-subject rules review
// ---------------------------------------------------------------------------

/// `NodeIdentity` (nodeidentifier/default.go): `system:node:<name>` in `system:nodes`.
fn is_node_identity(user: &UserInfo) -> bool {
    user.name.starts_with(NODE_USER_PREFIX) && user.in_group(NODES_GROUP)
}

/// The `status` object of a SelfSubjectRulesReview reply for this user and namespace,
/// as the real server fills it over the union rule resolver (modes Node,RBAC):
/// `{"resourceRules":[...],"nonResourceRules":[...],"incomplete":bool,"evaluationError"?:string}`.
/// The two lists and `incomplete` are always present (lists possibly empty); each
/// resource rule has `verbs` plus `apiGroups`, `resources`, `resourceNames` when not
/// empty; each non-resource rule has `verbs` and `nonResourceURLs`. Rules come in
/// resolution order (ClusterRoleBindings, then RoleBindings), one entry per policy rule,
/// not de-duplicated. `evaluationError` carries unresolvable bindings
/// (`role.rbac.authorization.k8s.io "x" not found`; several: `[a, b]`) while the rules
/// found are still listed and `incomplete` stays false; node identities get
/// `incomplete: true` and `node authorizer does not support user rule resolution`.
/// (An empty namespace is refused before this by the real server: 400
/// `no namespace on request`.)
pub fn self_subject_rules_review_status(
    s: &RbacSnapshot,
    user: &UserInfo,
    namespace: &str,
) -> Value {
    let mut errors = Vec::new();
    let mut incomplete = false;
    if is_node_identity(user) {
        incomplete = true;
        errors.push("node authorizer does not support user rule resolution".to_string());
    }
    let (rules, rbac_errors) = s.rules_for_with(user, namespace, Resolver::Lister);
    errors.extend(rbac_errors);
    let mut resource_rules = Vec::new();
    let mut non_resource_rules = Vec::new();
    for r in &rules {
        let verbs = if r.verbs.is_empty() {
            Value::Null
        } else {
            json!(r.verbs)
        };
        if !r.resources.is_empty() {
            let mut m = Map::new();
            m.insert("verbs".into(), verbs.clone());
            if !r.api_groups.is_empty() {
                m.insert("apiGroups".into(), json!(r.api_groups));
            }
            m.insert("resources".into(), json!(r.resources));
            if !r.resource_names.is_empty() {
                m.insert("resourceNames".into(), json!(r.resource_names));
            }
            resource_rules.push(Value::Object(m));
        }
        if !r.non_resource_urls.is_empty() {
            let mut m = Map::new();
            m.insert("verbs".into(), verbs);
            m.insert("nonResourceURLs".into(), json!(r.non_resource_urls));
            non_resource_rules.push(Value::Object(m));
        }
    }
    let mut status = Map::new();
    status.insert("resourceRules".into(), Value::Array(resource_rules));
    status.insert("nonResourceRules".into(), Value::Array(non_resource_rules));
    status.insert("incomplete".into(), Value::Bool(incomplete));
    if !errors.is_empty() {
        status.insert(
            "evaluationError".into(),
            Value::String(aggregate_errors(&errors)),
        );
    }
    Value::Object(status)
}

// ---------------------------------------------------------------------------
// ClusterRole aggregation (pkg/controller/clusterroleaggregation)
// ---------------------------------------------------------------------------

fn labels_of(obj: &Value) -> BTreeMap<String, String> {
    obj.get("metadata")
        .and_then(|m| m.get("labels"))
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_string())))
                .collect()
        })
        .unwrap_or_default()
}

/// Whether a metav1.LabelSelector (JSON) matches the labels (`LabelSelectorAsSelector`:
/// an empty selector matches everything; matchExpressions with In, NotIn, Exists,
/// DoesNotExist).
pub fn label_selector_matches(selector: &Value, labels: &BTreeMap<String, String>) -> bool {
    if let Some(ml) = selector.get("matchLabels").and_then(Value::as_object) {
        for (k, v) in ml {
            if labels.get(k).map(String::as_str) != v.as_str() {
                return false;
            }
        }
    }
    if let Some(exprs) = selector.get("matchExpressions").and_then(Value::as_array) {
        for e in exprs {
            let key = str_at(e, &["key"]);
            let values: Vec<&str> = e
                .get("values")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            let have = labels.get(key).map(String::as_str);
            let ok = match str_at(e, &["operator"]) {
                "In" => have.is_some_and(|h| values.contains(&h)),
                "NotIn" => have.is_none_or(|h| !values.contains(&h)),
                "Exists" => have.is_some(),
                "DoesNotExist" => have.is_none(),
                _ => false,
            };
            if !ok {
                return false;
            }
        }
    }
    true
}

fn has_aggregation_rule(obj: &Value) -> bool {
    obj.get("aggregationRule").is_some_and(|a| !a.is_null())
}

/// Whether a write of ClusterRoles (`touched`: the old and the new versions) can change what
/// [`aggregate_cluster_roles`] computes over `cluster_roles` (the stored ones): only when a
/// touched role has an `aggregationRule`, or carries labels some aggregating role selects.
/// Every other write leaves the aggregation where it was (storage is kept at its fixed
/// point), so the controller need not run: that keeps writing many ClusterRoles linear.
pub fn aggregation_affected(cluster_roles: &[&Value], touched: &[&Value]) -> bool {
    if touched.iter().any(|o| has_aggregation_rule(o)) {
        return true;
    }
    let labels: Vec<BTreeMap<String, String>> = touched.iter().map(|o| labels_of(o)).collect();
    cluster_roles
        .iter()
        .filter(|r| has_aggregation_rule(r))
        .filter_map(|r| r["aggregationRule"]["clusterRoleSelectors"].as_array())
        .flatten()
        .any(|sel| labels.iter().any(|l| label_selector_matches(sel, l)))
}

/// Fill the `rules` of every ClusterRole that has an `aggregationRule` as the
/// clusterrole-aggregation controller leaves them: for each selector in order, the
/// matching ClusterRoles sorted by name (itself excluded), their rules appended unless
/// an equal rule is already there. Repeated until nothing changes (aggregated roles can
/// feed each other: view -> edit -> admin). Returns whether any role changed.
pub fn aggregate_cluster_roles(cluster_roles: &mut [Value]) -> bool {
    let mut changed_any = false;
    for _ in 0..=cluster_roles.len() {
        let mut changed = false;
        for i in 0..cluster_roles.len() {
            let Some(selectors) = cluster_roles[i]
                .get("aggregationRule")
                .filter(|a| !a.is_null())
                .map(|a| {
                    a.get("clusterRoleSelectors")
                        .and_then(Value::as_array)
                        .cloned()
                        .unwrap_or_default()
                })
            else {
                continue;
            };
            let own_name = str_at(&cluster_roles[i], &["metadata", "name"]).to_string();
            let mut new_rules: Vec<PolicyRule> = Vec::new();
            for sel in &selectors {
                let mut matching: Vec<&Value> = cluster_roles
                    .iter()
                    .filter(|r| label_selector_matches(sel, &labels_of(r)))
                    .collect();
                matching.sort_by(|a, b| {
                    str_at(a, &["metadata", "name"]).cmp(str_at(b, &["metadata", "name"]))
                });
                for r in matching {
                    if str_at(r, &["metadata", "name"]) == own_name {
                        continue;
                    }
                    for rule in rules_of(r) {
                        if !new_rules.contains(&rule) {
                            new_rules.push(rule);
                        }
                    }
                }
            }
            if rules_of(&cluster_roles[i]) != new_rules {
                let value = serde_json::to_value(&new_rules).unwrap_or(Value::Null);
                if let Some(obj) = cluster_roles[i].as_object_mut() {
                    obj.insert("rules".into(), value);
                    changed = true;
                }
            }
        }
        if !changed {
            break;
        }
        changed_any = true;
    }
    changed_any
}

#[cfg(test)]
mod tests {
    use super::*;

    fn role(ns: &str, name: &str, rules: &[PolicyRule]) -> Value {
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
               "metadata": {"namespace": ns, "name": name}, "rules": rules})
    }

    fn cluster_role(name: &str, rules: &[PolicyRule]) -> Value {
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
               "metadata": {"name": name}, "rules": rules})
    }

    fn subject(kind: &str, name: &str, ns: Option<&str>) -> Value {
        match (kind, ns) {
            ("ServiceAccount", Some(ns)) => json!({"kind": kind, "name": name, "namespace": ns}),
            ("ServiceAccount", None) => json!({"kind": kind, "name": name}),
            _ => json!({"kind": kind, "name": name, "apiGroup": RBAC_GROUP}),
        }
    }

    fn role_binding(
        ns: &str,
        name: &str,
        ref_kind: &str,
        ref_name: &str,
        subjects: Vec<Value>,
    ) -> Value {
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
               "metadata": {"namespace": ns, "name": name},
               "roleRef": {"apiGroup": RBAC_GROUP, "kind": ref_kind, "name": ref_name},
               "subjects": subjects})
    }

    fn cluster_role_binding(name: &str, ref_name: &str, subjects: Vec<Value>) -> Value {
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
               "metadata": {"name": name},
               "roleRef": {"apiGroup": RBAC_GROUP, "kind": "ClusterRole", "name": ref_name},
               "subjects": subjects})
    }

    fn bob() -> UserInfo {
        UserInfo::new("bob", &["system:authenticated"])
    }

    fn res(verb: &str, ns: &str, group: &str, resource: &str, name: &str) -> Attributes {
        Attributes::resource(verb, ns, group, resource, name)
    }

    fn allows(rule: &PolicyRule, a: &Attributes) -> bool {
        rule_allows(a, rule)
    }

    #[test]
    fn verbs_groups_and_wildcards() {
        let r = PolicyRule::resource(&["get", "list"], &["apps"], &["deployments"]);
        assert!(allows(&r, &res("get", "ns", "apps", "deployments", "web")));
        assert!(!allows(
            &r,
            &res("delete", "ns", "apps", "deployments", "web")
        ));
        assert!(!allows(&r, &res("get", "ns", "", "deployments", "web")));
        let all = PolicyRule::resource(&["*"], &["*"], &["*"]);
        assert!(allows(&all, &res("escalate", "", RBAC_GROUP, "roles", "x")));
        assert!(allows(
            &all,
            &res("create", "ns", "", "serviceaccounts/token", "sa")
        ));
        let core = PolicyRule::resource(&["get"], &[""], &["pods"]);
        assert!(allows(&core, &res("get", "ns", "", "pods", "p")));
        assert!(!allows(&core, &res("get", "ns", "apps", "pods", "p")));
    }

    #[test]
    fn subresources_match_exactly_or_by_star_prefix() {
        let plain = PolicyRule::resource(&["*"], &["apps"], &["deployments"]);
        let scale = res("update", "ns", "apps", "deployments/scale", "web");
        assert!(!allows(&plain, &scale));
        let exact = PolicyRule::resource(&["update"], &["apps"], &["deployments/scale"]);
        assert!(allows(&exact, &scale));
        assert!(!allows(
            &exact,
            &res("update", "ns", "apps", "deployments", "web")
        ));
        let star = PolicyRule::resource(&["update"], &["apps"], &["*/scale"]);
        assert!(allows(&star, &scale));
        assert!(allows(
            &star,
            &res("update", "ns", "apps", "replicasets/scale", "r")
        ));
        assert!(!allows(
            &star,
            &res("update", "ns", "apps", "deployments/status", "web")
        ));
        assert!(!allows(
            &star,
            &res("update", "ns", "apps", "deployments", "web")
        ));
    }

    #[test]
    fn resource_names_never_allow_create_or_list() {
        let named =
            PolicyRule::resource(&["get", "list", "create", "update"], &[""], &["configmaps"])
                .with_names(&["app-config"]);
        assert!(allows(
            &named,
            &res("get", "ns", "", "configmaps", "app-config")
        ));
        assert!(allows(
            &named,
            &res("update", "ns", "", "configmaps", "app-config")
        ));
        assert!(!allows(
            &named,
            &res("get", "ns", "", "configmaps", "other")
        ));
        assert!(!allows(&named, &res("list", "ns", "", "configmaps", "")));
        assert!(!allows(&named, &res("create", "ns", "", "configmaps", "")));
    }

    #[test]
    fn non_resource_urls_exact_star_and_prefix() {
        let r = PolicyRule::non_resource(&["get"], &["/healthz", "/apis/*"]);
        assert!(allows(&r, &Attributes::non_resource("get", "/healthz")));
        assert!(!allows(
            &r,
            &Attributes::non_resource("get", "/healthz/etcd")
        ));
        assert!(allows(
            &r,
            &Attributes::non_resource("get", "/apis/apps/v1")
        ));
        assert!(allows(&r, &Attributes::non_resource("get", "/apis/")));
        assert!(!allows(&r, &Attributes::non_resource("get", "/apis")));
        assert!(!allows(&r, &Attributes::non_resource("post", "/healthz")));
        let all = PolicyRule::non_resource(&["*"], &["*"]);
        assert!(allows(
            &all,
            &Attributes::non_resource("delete", "/anything")
        ));
        // A resource rule never allows a non-resource request and vice versa.
        let pods = PolicyRule::resource(&["*"], &["*"], &["*"]);
        assert!(!allows(&pods, &Attributes::non_resource("get", "/healthz")));
        assert!(!allows(&all, &res("get", "ns", "", "pods", "p")));
    }

    fn team_snapshot() -> RbacSnapshot {
        RbacSnapshot::from_objects(
            &[role(
                "team-a",
                "deployer",
                &[PolicyRule::resource(
                    &["get", "list", "create"],
                    &["apps"],
                    &["deployments"],
                )],
            )],
            &[
                role_binding(
                    "team-a",
                    "deployer-sa",
                    "Role",
                    "deployer",
                    vec![subject("ServiceAccount", "ci", Some("team-a"))],
                ),
                role_binding(
                    "team-a",
                    "viewers",
                    "ClusterRole",
                    "pod-reader",
                    vec![
                        subject("Group", "devs", None),
                        subject("User", "carol", None),
                    ],
                ),
                role_binding(
                    "team-a",
                    "local-sa",
                    "Role",
                    "deployer",
                    vec![subject("ServiceAccount", "builder", None)],
                ),
            ],
            &[
                cluster_role(
                    "pod-reader",
                    &[PolicyRule::resource(&["get", "list"], &[""], &["pods"])],
                ),
                cluster_role(
                    "ns-reader",
                    &[PolicyRule::resource(
                        &["get", "list"],
                        &[""],
                        &["namespaces"],
                    )],
                ),
            ],
            &[cluster_role_binding(
                "ns-readers",
                "ns-reader",
                vec![subject("User", "dave", None)],
            )],
        )
    }

    #[test]
    fn service_account_subjects_and_reasons() {
        let s = team_snapshot();
        let sa = UserInfo::service_account("team-a", "ci");
        let d = authorize(&s, &sa, &res("create", "team-a", "apps", "deployments", ""));
        assert!(d.allowed);
        assert_eq!(
            d.reason,
            r#"RBAC: allowed by RoleBinding "deployer-sa/team-a" of Role "deployer" to ServiceAccount "ci/team-a""#
        );
        assert!(!authorize(&s, &sa, &res("create", "team-b", "apps", "deployments", "")).allowed);
        assert!(
            !authorize(
                &s,
                &sa,
                &res("delete", "team-a", "apps", "deployments", "x")
            )
            .allowed
        );
        // A ServiceAccount subject without namespace means the binding's namespace.
        let builder = UserInfo::service_account("team-a", "builder");
        let d = authorize(
            &s,
            &builder,
            &res("list", "team-a", "apps", "deployments", ""),
        );
        assert_eq!(
            d.reason,
            r#"RBAC: allowed by RoleBinding "local-sa/team-a" of Role "deployer" to ServiceAccount "builder/team-a""#
        );
        let other = UserInfo::service_account("team-b", "builder");
        assert!(
            !authorize(
                &s,
                &other,
                &res("list", "team-a", "apps", "deployments", "")
            )
            .allowed
        );
    }

    #[test]
    fn role_binding_to_cluster_role_is_namespace_scoped() {
        let s = team_snapshot();
        let dev = UserInfo::new("erin", &["devs", "system:authenticated"]);
        let d = authorize(&s, &dev, &res("list", "team-a", "", "pods", ""));
        assert_eq!(
            d.reason,
            r#"RBAC: allowed by RoleBinding "viewers/team-a" of ClusterRole "pod-reader" to Group "devs""#
        );
        assert!(!authorize(&s, &dev, &res("list", "team-b", "", "pods", "")).allowed);
        assert!(!authorize(&s, &dev, &res("list", "", "", "pods", "")).allowed);
        let carol = UserInfo::new("carol", &["system:authenticated"]);
        let d = authorize(&s, &carol, &res("get", "team-a", "", "pods", "p"));
        assert_eq!(
            d.reason,
            r#"RBAC: allowed by RoleBinding "viewers/team-a" of ClusterRole "pod-reader" to User "carol""#
        );
        assert!(!authorize(&s, &bob(), &res("get", "team-a", "", "pods", "p")).allowed);
    }

    #[test]
    fn cluster_role_binding_applies_everywhere() {
        let s = team_snapshot();
        let dave = UserInfo::new("dave", &["system:authenticated"]);
        for ns in ["", "team-a", "kube-system"] {
            let d = authorize(&s, &dave, &res("list", ns, "", "namespaces", ""));
            assert!(d.allowed, "{ns}");
            assert_eq!(
                d.reason,
                r#"RBAC: allowed by ClusterRoleBinding "ns-readers" of ClusterRole "ns-reader" to User "dave""#
            );
        }
    }

    #[test]
    fn system_masters_always_allowed_without_reason() {
        let s = RbacSnapshot::default();
        let admin = UserInfo::new(
            "kubernetes-admin",
            &["system:masters", "system:authenticated"],
        );
        let d = authorize(&s, &admin, &res("delete", "x", "", "secrets", "y"));
        assert_eq!(
            d,
            Decision {
                allowed: true,
                reason: String::new()
            }
        );
        assert!(authorize(&s, &admin, &Attributes::non_resource("get", "/metrics")).allowed);
    }

    #[test]
    fn missing_role_is_a_resolution_error_other_bindings_still_apply() {
        let s = RbacSnapshot::from_objects(
            &[],
            &[
                role_binding(
                    "ci",
                    "broken",
                    "Role",
                    "gone",
                    vec![subject("User", "bob", None)],
                ),
                role_binding(
                    "ci",
                    "works",
                    "ClusterRole",
                    "reader",
                    vec![subject("User", "bob", None)],
                ),
            ],
            &[cluster_role(
                "reader",
                &[PolicyRule::resource(&["get"], &[""], &["pods"])],
            )],
            &[cluster_role_binding(
                "broken-crb",
                "missing-cr",
                vec![subject("User", "bob", None)],
            )],
        );
        let (rules, errs) = rules_for(&s, &bob(), "ci");
        assert_eq!(
            rules,
            vec![PolicyRule::resource(&["get"], &[""], &["pods"])]
        );
        assert_eq!(
            errs,
            vec![
                r#"clusterrole.rbac.authorization.k8s.io "missing-cr" not found"#.to_string(),
                r#"role.rbac.authorization.k8s.io "gone" not found"#.to_string(),
            ]
        );
        let (rules, errs) = rules_for(&s, &bob(), "");
        assert!(rules.is_empty());
        assert_eq!(errs.len(), 1);
        assert!(authorize(&s, &bob(), &res("get", "ci", "", "pods", "p")).allowed);
        let a = res("list", "ci", "", "secrets", "");
        let d = authorize(&s, &bob(), &a);
        assert!(!d.allowed);
        assert_eq!(
            d.reason,
            r#"RBAC: [clusterrole.rbac.authorization.k8s.io "missing-cr" not found, role.rbac.authorization.k8s.io "gone" not found]"#
        );
        assert_eq!(
            forbidden_message_with_reason(&bob(), &a, &d.reason),
            r#"secrets is forbidden: User "bob" cannot list resource "secrets" in API group "" in the namespace "ci": RBAC: [clusterrole.rbac.authorization.k8s.io "missing-cr" not found, role.rbac.authorization.k8s.io "gone" not found]"#
        );
        assert_eq!(
            denial_message(&s, &bob(), &a),
            Some(forbidden_message_with_reason(&bob(), &a, &d.reason))
        );
        // Denied without resolution errors: empty reason.
        let clean = team_snapshot();
        let d = authorize(&clean, &bob(), &a);
        assert_eq!(d.reason, "");
    }

    #[test]
    fn forbidden_messages() {
        let sa = UserInfo::service_account("ci", "deployer");
        assert_eq!(
            forbidden_message(&sa, &res("list", "ci", "", "pods", "")),
            r#"pods is forbidden: User "system:serviceaccount:ci:deployer" cannot list resource "pods" in API group "" in the namespace "ci""#
        );
        assert_eq!(
            forbidden_message(
                &bob(),
                &res("delete", "team-a", "apps", "deployments", "web")
            ),
            r#"deployments.apps "web" is forbidden: User "bob" cannot delete resource "deployments" in API group "apps" in the namespace "team-a""#
        );
        assert_eq!(
            forbidden_message(&bob(), &res("list", "", RBAC_GROUP, "clusterroles", "")),
            r#"clusterroles.rbac.authorization.k8s.io is forbidden: User "bob" cannot list resource "clusterroles" in API group "rbac.authorization.k8s.io" at the cluster scope"#
        );
        assert_eq!(
            forbidden_message(&bob(), &res("get", "", "", "namespaces", "team-a")),
            r#"namespaces "team-a" is forbidden: User "bob" cannot get resource "namespaces" in API group "" at the cluster scope"#
        );
        assert_eq!(
            forbidden_message(
                &bob(),
                &res("create", "ci", "", "serviceaccounts/token", "deployer")
            ),
            r#"serviceaccounts "deployer" is forbidden: User "bob" cannot create resource "serviceaccounts/token" in API group "" in the namespace "ci""#
        );
        assert_eq!(
            forbidden_message(&bob(), &Attributes::non_resource("get", "/foo")),
            r#"forbidden: User "bob" cannot get path "/foo""#
        );
        // forbiddenMessage is HTML-sanitized; the object name is not.
        assert_eq!(
            forbidden_message(
                &UserInfo::new("a<b>&c", &[]),
                &Attributes::non_resource("get", "/x")
            ),
            r#"forbidden: User "a&lt;b&gt;&amp;c" cannot get path "/x""#
        );
        assert_eq!(go_quote("a\"b\\c\nd"), r#""a\"b\\c\nd""#);
    }

    #[test]
    fn covers_breaks_down_and_respects_names_and_stars() {
        let owner = vec![
            PolicyRule::resource(&["get", "list"], &[""], &["pods", "configmaps"]),
            PolicyRule::resource(&["get"], &[""], &["secrets"]).with_names(&["s1"]),
            PolicyRule::resource(&["update"], &["apps"], &["*/scale"]),
            PolicyRule::non_resource(&["get"], &["/healthz", "/apis/*"]),
        ];
        let (ok, missing) = covers(
            &owner,
            &[PolicyRule::resource(
                &["get"],
                &[""],
                &["pods", "configmaps"],
            )],
        );
        assert!(ok && missing.is_empty());
        // owner rule with resourceNames does not cover an unnamed request
        let (ok, missing) = covers(
            &owner,
            &[PolicyRule::resource(&["get"], &[""], &["secrets"])],
        );
        assert!(!ok);
        assert_eq!(
            missing,
            vec![PolicyRule::resource(&["get"], &[""], &["secrets"])]
        );
        let (ok, _) = covers(
            &owner,
            &[PolicyRule::resource(&["get"], &[""], &["secrets"]).with_names(&["s1"])],
        );
        assert!(ok);
        let (ok, missing) = covers(
            &owner,
            &[PolicyRule::resource(&["get"], &[""], &["secrets"]).with_names(&["s1", "s2"])],
        );
        assert!(!ok);
        assert_eq!(
            missing,
            vec![PolicyRule::resource(&["get"], &[""], &["secrets"]).with_names(&["s2"])]
        );
        // a literal * is only covered by *
        let (ok, missing) = covers(&owner, &[PolicyRule::resource(&["*"], &[""], &["pods"])]);
        assert!(!ok);
        assert_eq!(
            missing,
            vec![PolicyRule::resource(&["*"], &[""], &["pods"])]
        );
        assert!(!covers(&owner, &[PolicyRule::resource(&["get"], &["*"], &["pods"])]).0);
        assert!(!covers(&owner, &[PolicyRule::resource(&["get"], &[""], &["*"])]).0);
        let admin = vec![PolicyRule::resource(&["*"], &["*"], &["*"])];
        assert!(covers(&admin, &[PolicyRule::resource(&["*"], &["*"], &["*"])]).0);
        // subresources: */scale covers x/scale and */scale, not x
        assert!(
            covers(
                &owner,
                &[PolicyRule::resource(
                    &["update"],
                    &["apps"],
                    &["deployments/scale"]
                )]
            )
            .0
        );
        assert!(
            covers(
                &owner,
                &[PolicyRule::resource(&["update"], &["apps"], &["*/scale"])]
            )
            .0
        );
        assert!(
            !covers(
                &owner,
                &[PolicyRule::resource(
                    &["update"],
                    &["apps"],
                    &["deployments"]
                )]
            )
            .0
        );
        // non-resource URLs: exact or prefix
        assert!(
            covers(
                &owner,
                &[PolicyRule::non_resource(&["get"], &["/apis/apps"])]
            )
            .0
        );
        assert!(!covers(&owner, &[PolicyRule::non_resource(&["get"], &["/metrics"])]).0);
        assert!(
            !covers(
                &owner,
                &[PolicyRule::non_resource(&["post"], &["/healthz"])]
            )
            .0
        );
    }

    #[test]
    fn compaction_and_compact_string() {
        let missing = vec![
            PolicyRule::resource(&["create"], &["apps"], &["deployments"]),
            PolicyRule::non_resource(&["get"], &["/metrics"]),
            PolicyRule::resource(&["delete"], &["apps"], &["deployments"]),
            PolicyRule::resource(&["get"], &[""], &["secrets"]).with_names(&["a"]),
            PolicyRule::resource(&["list"], &[""], &["secrets"]).with_names(&["a"]),
            PolicyRule::resource(&["get"], &[""], &["secrets"]).with_names(&["b"]),
        ];
        let c = compact_rules(&missing);
        let strings: Vec<String> = c.iter().map(compact_string).collect();
        assert_eq!(
            strings,
            vec![
                r#"{NonResourceURLs:["/metrics"], Verbs:["get"]}"#,
                r#"{APIGroups:["apps"], Resources:["deployments"], Verbs:["create" "delete"]}"#,
                r#"{APIGroups:[""], Resources:["secrets"], ResourceNames:["a"], Verbs:["get" "list"]}"#,
                r#"{APIGroups:[""], Resources:["secrets"], ResourceNames:["b"], Verbs:["get"]}"#,
            ]
        );
        assert_eq!(compact_string(&PolicyRule::default()), "{}");
    }

    #[test]
    fn policy_rule_json_shape() {
        let r = PolicyRule::resource(&["get"], &[""], &["pods"]);
        assert_eq!(
            serde_json::to_value(&r).unwrap(),
            json!({"verbs": ["get"], "apiGroups": [""], "resources": ["pods"]})
        );
        let n: PolicyRule = serde_json::from_value(
            json!({"verbs": ["get"], "nonResourceURLs": ["/x"], "apiGroups": null}),
        )
        .unwrap();
        assert_eq!(n, PolicyRule::non_resource(&["get"], &["/x"]));
        assert_eq!(
            serde_json::to_value(&n).unwrap(),
            json!({"verbs": ["get"], "nonResourceURLs": ["/x"]})
        );
    }

    fn escalation_snapshot() -> RbacSnapshot {
        RbacSnapshot::from_objects(
            &[role(
                "team-a",
                "secret-reader",
                &[PolicyRule::resource(&["get"], &[""], &["secrets"])],
            )],
            &[
                role_binding(
                    "team-a",
                    "bob-roles",
                    "ClusterRole",
                    "role-manager",
                    vec![subject("User", "bob", None)],
                ),
                role_binding(
                    "team-a",
                    "esc",
                    "ClusterRole",
                    "escalator",
                    vec![subject("User", "eve", None)],
                ),
                role_binding(
                    "team-a",
                    "binder",
                    "ClusterRole",
                    "binder",
                    vec![subject("User", "fay", None)],
                ),
            ],
            &[
                cluster_role(
                    "role-manager",
                    &[
                        PolicyRule::resource(
                            &["create", "update", "get"],
                            &[RBAC_GROUP],
                            &["roles", "rolebindings"],
                        ),
                        PolicyRule::resource(&["get", "list"], &[""], &["pods"]),
                    ],
                ),
                cluster_role(
                    "escalator",
                    &[PolicyRule::resource(
                        &["create", "escalate"],
                        &[RBAC_GROUP],
                        &["roles"],
                    )],
                ),
                cluster_role(
                    "binder",
                    &[
                        PolicyRule::resource(&["create"], &[RBAC_GROUP], &["rolebindings"]),
                        PolicyRule::resource(&["bind"], &[RBAC_GROUP], &["clusterroles"])
                            .with_names(&["cluster-admin"]),
                        PolicyRule::resource(&["bind"], &[RBAC_GROUP], &["roles"]),
                    ],
                ),
                cluster_role("cluster-admin", &full_authority()),
            ],
            &[],
        )
    }

    #[test]
    fn role_escalation_message_is_exact() {
        let s = escalation_snapshot();
        let leak = [PolicyRule::resource(&["get"], &[""], &["secrets"])];
        let err = check_role_escalation(&s, &bob(), "Role", "team-a", "leak", &leak).unwrap_err();
        assert_eq!(
            err,
            RbacDenial::Forbidden(
                "roles.rbac.authorization.k8s.io \"leak\" is forbidden: user \"bob\" (groups=[\"system:authenticated\"]) is attempting to grant RBAC permissions not currently held:\n{APIGroups:[\"\"], Resources:[\"secrets\"], Verbs:[\"get\"]}".into()
            )
        );
        assert_eq!(err.code(), 403);
        assert_eq!(err.reason(), "Forbidden");
        let devs_bob = UserInfo::new("bob", &["devs", "system:authenticated"]);
        let err =
            check_role_escalation(&s, &devs_bob, "Role", "team-a", "ci-cd", &leak).unwrap_err();
        assert_eq!(
            err.message(),
            "roles.rbac.authorization.k8s.io \"ci-cd\" is forbidden: user \"bob\" (groups=[\"devs\" \"system:authenticated\"]) is attempting to grant RBAC permissions not currently held:\n{APIGroups:[\"\"], Resources:[\"secrets\"], Verbs:[\"get\"]}"
        );
        // Several missing rules: compacted, sorted, one per line.
        let many = [
            PolicyRule::resource(&["get", "list"], &[""], &["pods", "secrets"]),
            PolicyRule::resource(&["create", "delete"], &["apps"], &["deployments"]),
        ];
        let err = check_role_escalation(&s, &bob(), "Role", "team-a", "many", &many).unwrap_err();
        assert_eq!(
            err.message(),
            "roles.rbac.authorization.k8s.io \"many\" is forbidden: user \"bob\" (groups=[\"system:authenticated\"]) is attempting to grant RBAC permissions not currently held:\n{APIGroups:[\"\"], Resources:[\"secrets\"], Verbs:[\"get\" \"list\"]}\n{APIGroups:[\"apps\"], Resources:[\"deployments\"], Verbs:[\"create\" \"delete\"]}"
        );
        // Held rules are fine; elsewhere bob holds nothing.
        let pods = [PolicyRule::resource(&["get"], &[""], &["pods"])];
        assert!(check_role_escalation(&s, &bob(), "Role", "team-a", "ok", &pods).is_ok());
        assert!(check_role_escalation(&s, &bob(), "Role", "team-b", "ok", &pods).is_err());
        // A ClusterRole is checked against cluster-wide rules only.
        let err = check_role_escalation(&s, &bob(), "ClusterRole", "", "pods", &pods).unwrap_err();
        assert!(err.message().starts_with(
            "clusterroles.rbac.authorization.k8s.io \"pods\" is forbidden: user \"bob\""
        ));
    }

    #[test]
    fn escalate_verb_and_masters_bypass_role_checks() {
        let s = escalation_snapshot();
        let all = full_authority();
        let eve = UserInfo::new("eve", &["system:authenticated"]);
        assert!(check_role_escalation(&s, &eve, "Role", "team-a", "anything", &all).is_ok());
        assert!(check_role_escalation(&s, &eve, "Role", "team-b", "anything", &all).is_err());
        let masters = UserInfo::new("admin", &["system:masters"]);
        assert!(check_role_escalation(&s, &masters, "ClusterRole", "", "x", &all).is_ok());
        // escalate restricted by name: applies to updates, not to creates (empty request name)
        let named = RbacSnapshot::from_objects(
            &[],
            &[role_binding(
                "ns",
                "e",
                "ClusterRole",
                "esc-one",
                vec![subject("User", "bob", None)],
            )],
            &[cluster_role(
                "esc-one",
                &[
                    PolicyRule::resource(&["escalate"], &[RBAC_GROUP], &["roles"])
                        .with_names(&["r1"]),
                ],
            )],
            &[],
        );
        assert!(check_role_escalation(&named, &bob(), "Role", "ns", "r1", &all).is_ok());
        let create = RoleWrite {
            kind: "Role",
            namespace: "ns",
            name: "r1",
            request_name: "",
            rules: &all,
            ..Default::default()
        };
        assert!(check_role_write(&named, &bob(), &create).is_err());
    }

    #[test]
    fn aggregation_rule_needs_full_authority() {
        let s = RbacSnapshot::from_objects(
            &[],
            &[],
            &[cluster_role(
                "pods",
                &[PolicyRule::resource(&["get"], &[""], &["pods"])],
            )],
            &[cluster_role_binding(
                "b",
                "pods",
                vec![subject("User", "bob", None)],
            )],
        );
        let w = RoleWrite {
            kind: "ClusterRole",
            name: "agg",
            request_name: "",
            rules: &[],
            aggregation_rule: true,
            ..Default::default()
        };
        assert_eq!(
            check_role_write(&s, &bob(), &w).unwrap_err().message(),
            r#"clusterroles.rbac.authorization.k8s.io "agg" is forbidden: must have cluster-admin privileges to use the aggregationRule"#
        );
        let w = RoleWrite {
            aggregation_rule: false,
            ..w
        };
        assert!(check_role_write(&s, &bob(), &w).is_ok());
    }

    #[test]
    fn binding_escalation() {
        let s = escalation_snapshot();
        let fay = UserInfo::new("fay", &["system:authenticated"]);
        // bind on the named ClusterRole: allowed although fay holds none of its rules
        assert!(
            check_binding_escalation(
                &s,
                &fay,
                "RoleBinding",
                "team-a",
                "admins",
                "ClusterRole",
                "cluster-admin"
            )
            .is_ok()
        );
        // bind on roles: allowed even when the role does not exist
        assert!(
            check_binding_escalation(&s, &fay, "RoleBinding", "team-a", "x", "Role", "nope")
                .is_ok()
        );
        // bob holds pods get/list in team-a but not cluster-admin
        let err = check_binding_escalation(
            &s,
            &bob(),
            "RoleBinding",
            "team-a",
            "admins",
            "ClusterRole",
            "cluster-admin",
        )
        .unwrap_err();
        assert_eq!(
            err.message(),
            "rolebindings.rbac.authorization.k8s.io \"admins\" is forbidden: user \"bob\" (groups=[\"system:authenticated\"]) is attempting to grant RBAC permissions not currently held:\n{APIGroups:[\"*\"], Resources:[\"*\"], Verbs:[\"*\"]}\n{NonResourceURLs:[\"*\"], Verbs:[\"*\"]}"
        );
        // binding a role whose rules bob holds is fine
        let s2 = RbacSnapshot::from_objects(
            &[role(
                "team-a",
                "pod-get",
                &[PolicyRule::resource(&["get"], &[""], &["pods"])],
            )],
            &[role_binding(
                "team-a",
                "bob-roles",
                "ClusterRole",
                "role-manager",
                vec![subject("User", "bob", None)],
            )],
            &[cluster_role(
                "role-manager",
                &[
                    PolicyRule::resource(&["create"], &[RBAC_GROUP], &["rolebindings"]),
                    PolicyRule::resource(&["get", "list"], &[""], &["pods"]),
                ],
            )],
            &[],
        );
        assert!(
            check_binding_escalation(&s2, &bob(), "RoleBinding", "team-a", "b", "Role", "pod-get")
                .is_ok()
        );
        // missing role -> 404 naming the binding's resource, as 1.37 does
        let err =
            check_binding_escalation(&s, &bob(), "RoleBinding", "team-a", "b", "Role", "gone")
                .unwrap_err();
        assert_eq!(
            err,
            RbacDenial::RoleNotFound {
                resource: "rolebindings".into(),
                name: "gone".into()
            }
        );
        assert_eq!(
            err.message(),
            r#"rolebindings.rbac.authorization.k8s.io "gone" not found"#
        );
        assert_eq!((err.code(), err.reason()), (404, "NotFound"));
        let err = check_binding_escalation(
            &s,
            &bob(),
            "ClusterRoleBinding",
            "",
            "b",
            "ClusterRole",
            "gone",
        )
        .unwrap_err();
        assert_eq!(
            err.message(),
            r#"clusterrolebindings.rbac.authorization.k8s.io "gone" not found"#
        );
        // a ClusterRoleBinding is checked against cluster-wide rules only
        let err = check_binding_escalation(
            &s,
            &bob(),
            "ClusterRoleBinding",
            "",
            "crb",
            "ClusterRole",
            "role-manager",
        )
        .unwrap_err();
        assert!(err.message().starts_with(
            "clusterrolebindings.rbac.authorization.k8s.io \"crb\" is forbidden: user \"bob\""
        ));
        // system:masters may bind anything, even a missing role
        let masters = UserInfo::new("root", &["system:masters"]);
        assert!(
            check_binding_escalation(
                &s,
                &masters,
                "ClusterRoleBinding",
                "",
                "x",
                "ClusterRole",
                "gone"
            )
            .is_ok()
        );
    }

    #[test]
    fn escalation_message_lists_resolution_errors_in_registry_wording() {
        let s = RbacSnapshot::from_objects(
            &[],
            &[role_binding(
                "ns",
                "broken",
                "Role",
                "gone",
                vec![subject("User", "bob", None)],
            )],
            &[],
            &[],
        );
        let err = check_role_escalation(
            &s,
            &bob(),
            "Role",
            "ns",
            "r",
            &[PolicyRule::resource(&["get"], &[""], &["pods"])],
        )
        .unwrap_err();
        assert_eq!(
            err.message(),
            "roles.rbac.authorization.k8s.io \"r\" is forbidden: user \"bob\" (groups=[\"system:authenticated\"]) is attempting to grant RBAC permissions not currently held:\n{APIGroups:[\"\"], Resources:[\"pods\"], Verbs:[\"get\"]}; resolution errors: [roles.rbac.authorization.k8s.io \"gone\" not found]"
        );
    }

    #[test]
    fn self_subject_rules_review() {
        let s = team_snapshot();
        let dev = UserInfo::new("erin", &["devs", "system:authenticated"]);
        let status = self_subject_rules_review_status(&s, &dev, "team-a");
        assert_eq!(
            status,
            json!({
                "resourceRules": [{"verbs": ["get", "list"], "apiGroups": [""], "resources": ["pods"]}],
                "nonResourceRules": [],
                "incomplete": false
            })
        );
        let status = self_subject_rules_review_status(&s, &dev, "team-b");
        assert_eq!(
            status,
            json!({"resourceRules": [], "nonResourceRules": [], "incomplete": false})
        );
        let broken = RbacSnapshot::from_objects(
            &[],
            &[
                role_binding(
                    "ci",
                    "broken",
                    "Role",
                    "gone",
                    vec![subject("User", "bob", None)],
                ),
                role_binding(
                    "ci",
                    "named",
                    "ClusterRole",
                    "cm",
                    vec![subject("User", "bob", None)],
                ),
            ],
            &[
                cluster_role(
                    "cm",
                    &[PolicyRule::resource(&["get"], &[""], &["configmaps"]).with_names(&["a"])],
                ),
                cluster_role(
                    "disc",
                    &[PolicyRule::non_resource(&["get"], &["/api", "/api/*"])],
                ),
            ],
            &[cluster_role_binding(
                "disc",
                "disc",
                vec![subject("Group", "system:authenticated", None)],
            )],
        );
        let status = self_subject_rules_review_status(&broken, &bob(), "ci");
        assert_eq!(
            status,
            json!({
                "resourceRules": [{"verbs": ["get"], "apiGroups": [""], "resources": ["configmaps"], "resourceNames": ["a"]}],
                "nonResourceRules": [{"verbs": ["get"], "nonResourceURLs": ["/api", "/api/*"]}],
                "incomplete": false,
                "evaluationError": "role.rbac.authorization.k8s.io \"gone\" not found"
            })
        );
        let node = UserInfo::new("system:node:n1", &["system:nodes", "system:authenticated"]);
        let status = self_subject_rules_review_status(&broken, &node, "ci");
        assert_eq!(status["incomplete"], json!(true));
        assert_eq!(
            status["evaluationError"],
            json!("node authorizer does not support user rule resolution")
        );
        assert_eq!(status["nonResourceRules"].as_array().unwrap().len(), 1);
    }

    #[test]
    fn subject_access_review_statuses() {
        let s = team_snapshot();
        let dave = UserInfo::new("dave", &[]);
        assert_eq!(
            subject_access_review_status(&s, &dave, &res("get", "", "", "namespaces", "x")),
            json!({"allowed": true, "reason": "RBAC: allowed by ClusterRoleBinding \"ns-readers\" of ClusterRole \"ns-reader\" to User \"dave\""})
        );
        assert_eq!(
            subject_access_review_status(&s, &dave, &res("get", "", "", "nodes", "x")),
            json!({"allowed": false})
        );
    }

    #[test]
    fn aggregation_controller_semantics() {
        let mut roles = vec![
            json!({"metadata": {"name": "top"}, "aggregationRule": {"clusterRoleSelectors": [{"matchLabels": {"agg": "top"}}]}, "rules": null}),
            json!({"metadata": {"name": "mid", "labels": {"agg": "top"}}, "aggregationRule": {"clusterRoleSelectors": [{"matchLabels": {"agg": "mid"}}]}}),
            json!({"metadata": {"name": "b-src", "labels": {"agg": "mid"}}, "rules": [{"verbs": ["get"], "apiGroups": [""], "resources": ["pods"]}]}),
            json!({"metadata": {"name": "a-src", "labels": {"agg": "mid"}}, "rules": [{"verbs": ["list"], "apiGroups": [""], "resources": ["pods"]}, {"verbs": ["get"], "apiGroups": [""], "resources": ["pods"]}]}),
            json!({"metadata": {"name": "x-extra", "labels": {"agg": "top"}}, "rules": [{"verbs": ["get"], "apiGroups": [""], "resources": ["pods"]}, {"verbs": ["create"], "apiGroups": [""], "resources": ["pods"]}]}),
        ];
        assert!(aggregate_cluster_roles(&mut roles));
        let mid = rules_of(&roles[1]);
        assert_eq!(
            mid,
            vec![
                PolicyRule::resource(&["list"], &[""], &["pods"]),
                PolicyRule::resource(&["get"], &[""], &["pods"]),
            ]
        );
        let top = rules_of(&roles[0]);
        assert_eq!(
            top,
            vec![
                PolicyRule::resource(&["list"], &[""], &["pods"]),
                PolicyRule::resource(&["get"], &[""], &["pods"]),
                PolicyRule::resource(&["create"], &[""], &["pods"]),
            ]
        );
        assert!(!aggregate_cluster_roles(&mut roles));
        let mut labels = BTreeMap::new();
        labels.insert("a".to_string(), "1".to_string());
        assert!(label_selector_matches(&json!({}), &labels));
        assert!(label_selector_matches(
            &json!({"matchExpressions": [{"key": "a", "operator": "In", "values": ["1", "2"]}, {"key": "b", "operator": "DoesNotExist"}]}),
            &labels
        ));
        assert!(!label_selector_matches(
            &json!({"matchExpressions": [{"key": "a", "operator": "NotIn", "values": ["1"]}]}),
            &labels
        ));
    }

    #[test]
    fn the_aggregation_controller_runs_only_for_writes_it_can_see() {
        let stored = [
            json!({"metadata": {"name": "top"}, "aggregationRule": {"clusterRoleSelectors": [{"matchLabels": {"agg": "top"}}]}}),
            json!({"metadata": {"name": "plain"}, "rules": []}),
        ];
        let stored: Vec<&Value> = stored.iter().collect();
        let labelled = json!({"metadata": {"name": "x", "labels": {"agg": "top"}}});
        let unlabelled = json!({"metadata": {"name": "x", "labels": {"agg": "other"}}});
        let aggregating = json!({"metadata": {"name": "y"}, "aggregationRule": {}});
        assert!(aggregation_affected(&stored, &[&labelled]));
        assert!(!aggregation_affected(&stored, &[&unlabelled]));
        // A role losing the label (old and new both touched), or gaining an aggregationRule.
        assert!(aggregation_affected(&stored, &[&labelled, &unlabelled]));
        assert!(aggregation_affected(&stored, &[&unlabelled, &aggregating]));
        // An empty selector selects every role.
        let everything = [
            json!({"metadata": {"name": "all"}, "aggregationRule": {"clusterRoleSelectors": [{}]}}),
        ];
        let everything: Vec<&Value> = everything.iter().collect();
        assert!(aggregation_affected(&everything, &[&unlabelled]));
        assert!(!aggregation_affected(&[], &[&unlabelled]));
    }
}
