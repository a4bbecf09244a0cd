//! [`Rule`]: one RBAC policy rule as plain data, plus conversions to and from
//! the k8s-openapi types.
//!
//! Field order and meaning follow `k8s.io/api/rbac/v1` `PolicyRule`. Lists keep
//! the order they were given in: the server's error text and kubectl's tables
//! print them as stored, so nothing here sorts behind the caller's back. Use
//! [`Rule::normalized`] for a canonical (sorted, deduplicated) form.

use k8s_openapi::api::authorization::v1::{NonResourceRule, ResourceRule};
use k8s_openapi::api::rbac::v1::PolicyRule;
use serde::{Deserialize, Serialize};

/// The wildcard that RBAC fields understand (`VerbAll`, `APIGroupAll`,
/// `ResourceAll`, `NonResourceAll` in `k8s.io/api/rbac/v1`).
pub const WILDCARD: &str = "*";

/// One RBAC policy rule (`rbac.authorization.k8s.io/v1` `PolicyRule`).
///
/// Serialises with the Kubernetes field names (`apiGroups`, `nonResourceURLs`, ...).
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Rule {
    /// Verbs, e.g. `get`, `list`; `*` means all.
    #[serde(default)]
    pub verbs: Vec<String>,
    /// API groups; `""` is the core group, `*` means all.
    #[serde(default, rename = "apiGroups", skip_serializing_if = "Vec::is_empty")]
    pub api_groups: Vec<String>,
    /// Resources (plural), `res/sub` for subresources, `*` and `*/sub` wildcards.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resources: Vec<String>,
    /// Optional allow-list of object names; empty means every name.
    #[serde(
        default,
        rename = "resourceNames",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub resource_names: Vec<String>,
    /// Non-resource URL paths (`/healthz`, `/api/*`); only meaningful in ClusterRoles.
    #[serde(
        default,
        rename = "nonResourceURLs",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub non_resource_urls: Vec<String>,
}

fn strings<I, S>(items: I) -> Vec<String>
where
    I: IntoIterator<Item = S>,
    S: Into<String>,
{
    items.into_iter().map(Into::into).collect()
}

fn sorted_dedup(list: &[String]) -> Vec<String> {
    let mut out = list.to_vec();
    out.sort();
    out.dedup();
    out
}

impl Rule {
    /// A rule with these verbs and nothing else (like `rbacv1helpers.NewRule`).
    pub fn new<I, S>(verbs: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Rule {
            verbs: strings(verbs),
            ..Rule::default()
        }
    }

    /// Adds API groups.
    pub fn with_groups<I, S>(mut self, groups: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.api_groups.extend(strings(groups));
        self
    }

    /// Adds resources.
    pub fn with_resources<I, S>(mut self, resources: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.resources.extend(strings(resources));
        self
    }

    /// Adds resource names.
    pub fn with_names<I, S>(mut self, names: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.resource_names.extend(strings(names));
        self
    }

    /// Adds non-resource URLs.
    pub fn with_urls<I, S>(mut self, urls: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.non_resource_urls.extend(strings(urls));
        self
    }

    /// Shorthand for a resource rule: `Rule::resource(&["apps"], &["deployments"], &["get"])`.
    pub fn resource(groups: &[&str], resources: &[&str], verbs: &[&str]) -> Self {
        Rule::new(verbs.iter().copied())
            .with_groups(groups.iter().copied())
            .with_resources(resources.iter().copied())
    }

    /// Shorthand for a non-resource rule.
    pub fn non_resource(urls: &[&str], verbs: &[&str]) -> Self {
        Rule::new(verbs.iter().copied()).with_urls(urls.iter().copied())
    }

    /// Every list sorted and deduplicated. Allows exactly what `self` allows.
    pub fn normalized(&self) -> Rule {
        Rule {
            verbs: sorted_dedup(&self.verbs),
            api_groups: sorted_dedup(&self.api_groups),
            resources: sorted_dedup(&self.resources),
            resource_names: sorted_dedup(&self.resource_names),
            non_resource_urls: sorted_dedup(&self.non_resource_urls),
        }
    }

    /// True when the rule names resources (it may also name URLs: the API accepts both).
    pub fn is_resource_rule(&self) -> bool {
        !self.resources.is_empty()
    }

    /// True when the rule names non-resource URLs.
    pub fn is_non_resource_rule(&self) -> bool {
        !self.non_resource_urls.is_empty()
    }

    /// True when any field holds a wildcard: `*` verbs, groups, resources or URLs,
    /// or a `*/sub` resource.
    pub fn has_wildcard(&self) -> bool {
        self.verbs.iter().any(|v| v == WILDCARD)
            || self.api_groups.iter().any(|g| g == WILDCARD)
            || self
                .resources
                .iter()
                .any(|r| r == WILDCARD || r.starts_with("*/"))
            || self.non_resource_urls.iter().any(|u| u == WILDCARD)
    }

    /// True when the rule can never allow any request (no verbs, or no
    /// group/resource pair and no URL).
    pub fn allows_nothing(&self) -> bool {
        let resource_part = !self.api_groups.is_empty() && !self.resources.is_empty();
        self.verbs.is_empty() || (!resource_part && self.non_resource_urls.is_empty())
    }

    /// The resource-only part of a mixed rule (groups, resources, names, verbs),
    /// or `None` when it names no resources.
    pub fn resource_part(&self) -> Option<Rule> {
        self.is_resource_rule().then(|| Rule {
            verbs: self.verbs.clone(),
            api_groups: self.api_groups.clone(),
            resources: self.resources.clone(),
            resource_names: self.resource_names.clone(),
            non_resource_urls: Vec::new(),
        })
    }

    /// The non-resource part of a mixed rule (URLs and verbs), or `None`.
    pub fn non_resource_part(&self) -> Option<Rule> {
        self.is_non_resource_rule().then(|| Rule {
            verbs: self.verbs.clone(),
            non_resource_urls: self.non_resource_urls.clone(),
            ..Rule::default()
        })
    }
}

impl std::fmt::Display for Rule {
    /// The server's `CompactString` form, e.g.
    /// `{APIGroups:["apps"], Resources:["deployments"], Verbs:["get"]}`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&crate::rbac::gofmt::compact_string(self))
    }
}

/// Formats `group` + `resource` the way kubectl does (`CombineResourceGroup`):
/// `pods`, `deployments.apps`, `deployments.apps/scale`.
pub fn group_resource(group: &str, resource: &str) -> String {
    let (base, sub) = match resource.split_once('/') {
        Some((base, sub)) => (base, Some(sub)),
        None => (resource, None),
    };
    let mut out = base.to_string();
    if !group.is_empty() {
        out.push('.');
        out.push_str(group);
    }
    if let Some(sub) = sub {
        out.push('/');
        out.push_str(sub);
    }
    out
}

fn opt(list: &[String]) -> Option<Vec<String>> {
    (!list.is_empty()).then(|| list.to_vec())
}

impl From<&PolicyRule> for Rule {
    fn from(p: &PolicyRule) -> Self {
        Rule {
            verbs: p.verbs.clone(),
            api_groups: p.api_groups.clone().unwrap_or_default(),
            resources: p.resources.clone().unwrap_or_default(),
            resource_names: p.resource_names.clone().unwrap_or_default(),
            non_resource_urls: p.non_resource_urls.clone().unwrap_or_default(),
        }
    }
}

impl From<PolicyRule> for Rule {
    fn from(p: PolicyRule) -> Self {
        Rule {
            verbs: p.verbs,
            api_groups: p.api_groups.unwrap_or_default(),
            resources: p.resources.unwrap_or_default(),
            resource_names: p.resource_names.unwrap_or_default(),
            non_resource_urls: p.non_resource_urls.unwrap_or_default(),
        }
    }
}

impl From<&Rule> for PolicyRule {
    /// Empty lists become absent fields (the server treats both alike).
    fn from(r: &Rule) -> Self {
        PolicyRule {
            verbs: r.verbs.clone(),
            api_groups: opt(&r.api_groups),
            resources: opt(&r.resources),
            resource_names: opt(&r.resource_names),
            non_resource_urls: opt(&r.non_resource_urls),
        }
    }
}

impl From<Rule> for PolicyRule {
    fn from(r: Rule) -> Self {
        PolicyRule::from(&r)
    }
}

impl From<&ResourceRule> for Rule {
    fn from(r: &ResourceRule) -> Self {
        Rule {
            verbs: r.verbs.clone(),
            api_groups: r.api_groups.clone().unwrap_or_default(),
            resources: r.resources.clone().unwrap_or_default(),
            resource_names: r.resource_names.clone().unwrap_or_default(),
            non_resource_urls: Vec::new(),
        }
    }
}

impl From<&NonResourceRule> for Rule {
    fn from(r: &NonResourceRule) -> Self {
        Rule {
            verbs: r.verbs.clone(),
            non_resource_urls: r.non_resource_urls.clone().unwrap_or_default(),
            ..Rule::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deploy() -> Rule {
        Rule::resource(&["apps"], &["deployments"], &["get", "list"])
    }

    #[test]
    fn builder_helpers_fill_fields_in_order() {
        let r = Rule::new(["get", "list"])
            .with_groups([""])
            .with_resources(["pods", "pods/log"])
            .with_names(["a"])
            .with_urls(["/healthz"]);
        assert_eq!(r.verbs, ["get", "list"]);
        assert_eq!(r.api_groups, [""]);
        assert_eq!(r.resources, ["pods", "pods/log"]);
        assert_eq!(r.resource_names, ["a"]);
        assert_eq!(r.non_resource_urls, ["/healthz"]);
    }

    #[test]
    fn normalized_sorts_and_dedups_every_field() {
        let r = Rule::new(["watch", "get", "get"])
            .with_groups(["b", "a", "b"])
            .with_resources(["z", "y"])
            .with_names(["n2", "n1", "n1"])
            .with_urls(["/b", "/a"]);
        let n = r.normalized();
        assert_eq!(n.verbs, ["get", "watch"]);
        assert_eq!(n.api_groups, ["a", "b"]);
        assert_eq!(n.resources, ["y", "z"]);
        assert_eq!(n.resource_names, ["n1", "n2"]);
        assert_eq!(n.non_resource_urls, ["/a", "/b"]);
        assert_eq!(n.normalized(), n, "idempotent");
    }

    #[test]
    fn ord_and_hash_are_usable_for_sets() {
        use std::collections::{BTreeSet, HashSet};
        let a = deploy();
        let b = Rule::resource(&[""], &["pods"], &["get"]);
        let bt: BTreeSet<Rule> = [a.clone(), b.clone(), a.clone()].into_iter().collect();
        assert_eq!(bt.len(), 2);
        let hs: HashSet<Rule> = [a.clone(), b, a].into_iter().collect();
        assert_eq!(hs.len(), 2);
    }

    #[test]
    fn kind_predicates() {
        let r = deploy();
        assert!(r.is_resource_rule());
        assert!(!r.is_non_resource_rule());
        let n = Rule::non_resource(&["/healthz"], &["get"]);
        assert!(n.is_non_resource_rule());
        assert!(!n.is_resource_rule());
    }

    #[test]
    fn wildcard_detection() {
        assert!(!deploy().has_wildcard());
        assert!(Rule::resource(&["*"], &["pods"], &["get"]).has_wildcard());
        assert!(Rule::resource(&[""], &["*"], &["get"]).has_wildcard());
        assert!(Rule::resource(&[""], &["pods"], &["*"]).has_wildcard());
        assert!(Rule::resource(&["apps"], &["*/scale"], &["get"]).has_wildcard());
        assert!(Rule::non_resource(&["*"], &["get"]).has_wildcard());
        // a trailing-star URL is a prefix, not the catch-all
        assert!(!Rule::non_resource(&["/api/*"], &["get"]).has_wildcard());
    }

    #[test]
    fn allows_nothing_cases() {
        assert!(!deploy().allows_nothing());
        assert!(Rule::resource(&["apps"], &["deployments"], &[]).allows_nothing());
        assert!(Rule::resource(&[], &["deployments"], &["get"]).allows_nothing());
        assert!(Rule::resource(&["apps"], &[], &["get"]).allows_nothing());
        assert!(!Rule::non_resource(&["/x"], &["get"]).allows_nothing());
        assert!(Rule::default().allows_nothing());
    }

    #[test]
    fn parts_of_a_mixed_rule() {
        let mixed = Rule::resource(&[""], &["pods"], &["get"])
            .with_names(["p"])
            .with_urls(["/x"]);
        let rp = mixed.resource_part().unwrap();
        assert_eq!(
            rp,
            Rule::resource(&[""], &["pods"], &["get"]).with_names(["p"])
        );
        let np = mixed.non_resource_part().unwrap();
        assert_eq!(np, Rule::non_resource(&["/x"], &["get"]));
        assert!(deploy().non_resource_part().is_none());
        assert!(
            Rule::non_resource(&["/x"], &["get"])
                .resource_part()
                .is_none()
        );
    }

    #[test]
    fn display_is_compact_string() {
        assert_eq!(
            deploy().to_string(),
            r#"{APIGroups:["apps"], Resources:["deployments"], Verbs:["get" "list"]}"#
        );
    }

    #[test]
    fn group_resource_matches_kubectl() {
        assert_eq!(group_resource("", "pods"), "pods");
        assert_eq!(group_resource("", "pods/exec"), "pods/exec");
        assert_eq!(group_resource("apps", "deployments"), "deployments.apps");
        assert_eq!(
            group_resource("apps", "deployments/scale"),
            "deployments.apps/scale"
        );
        assert_eq!(group_resource("*", "*"), "*.*");
    }

    #[test]
    fn policy_rule_round_trip() {
        let r = Rule::resource(&[""], &["pods"], &["get"]).with_names(["a"]);
        let p = PolicyRule::from(&r);
        assert_eq!(p.api_groups.as_deref(), Some(&[String::new()][..]));
        assert_eq!(p.non_resource_urls, None);
        assert_eq!(p.resource_names.as_deref(), Some(&["a".to_string()][..]));
        assert_eq!(Rule::from(&p), r);
        assert_eq!(Rule::from(p), r);
        let owned: PolicyRule = r.clone().into();
        assert_eq!(Rule::from(owned), r);
    }

    #[test]
    fn from_policy_rule_with_absent_fields() {
        let p = PolicyRule {
            verbs: vec!["get".into()],
            non_resource_urls: Some(vec!["/healthz".into()]),
            ..PolicyRule::default()
        };
        let r = Rule::from(&p);
        assert_eq!(r, Rule::non_resource(&["/healthz"], &["get"]));
    }

    #[test]
    fn from_review_rules() {
        let status = k8s_openapi::api::authorization::v1::SubjectRulesReviewStatus {
            resource_rules: vec![ResourceRule {
                verbs: vec!["create".into()],
                api_groups: Some(vec!["authorization.k8s.io".into()]),
                resources: Some(vec!["selfsubjectrulesreviews".into()]),
                resource_names: None,
            }],
            non_resource_rules: vec![NonResourceRule {
                verbs: vec!["get".into()],
                non_resource_urls: Some(vec!["/api".into()]),
            }],
            incomplete: false,
            evaluation_error: None,
        };
        let rules: Vec<Rule> = status
            .resource_rules
            .iter()
            .map(Rule::from)
            .chain(status.non_resource_rules.iter().map(Rule::from))
            .collect();
        assert_eq!(
            rules,
            vec![
                Rule::resource(
                    &["authorization.k8s.io"],
                    &["selfsubjectrulesreviews"],
                    &["create"]
                ),
                Rule::non_resource(&["/api"], &["get"]),
            ]
        );
    }

    #[test]
    fn serde_uses_kubernetes_field_names() {
        let r = Rule::resource(&[""], &["pods"], &["get"]).with_names(["a"]);
        let json = serde_json::to_value(&r).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"verbs":["get"],"apiGroups":[""],"resources":["pods"],"resourceNames":["a"]})
        );
        let n: Rule =
            serde_json::from_str(r#"{"verbs":["get"],"nonResourceURLs":["/x"]}"#).unwrap();
        assert_eq!(n, Rule::non_resource(&["/x"], &["get"]));
        // the same JSON the k8s-openapi type produces parses into a Rule
        let p = PolicyRule::from(&r);
        let back: Rule = serde_json::from_value(serde_json::to_value(&p).unwrap()).unwrap();
        assert_eq!(back, r);
    }
}
