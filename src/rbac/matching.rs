//! Request matching: does a rule (or a set of rules) allow a request?
//!
//! Follows `pkg/apis/rbac/v1/evaluation_helpers.go` (`VerbMatches`,
//! `APIGroupMatches`, `ResourceMatches`, `ResourceNameMatches`,
//! `NonResourceURLMatches`) and `RuleAllows` in
//! `plugin/pkg/auth/authorizer/rbac/rbac.go`:
//!
//! * verbs, API groups: the rule lists `*` or the exact value;
//! * resources: `*`, the exact `res` / `res/sub`, or `*/sub` for a subresource
//!   request (plain `deployments` does not match `deployments/scale`);
//! * names: an empty `resourceNames` allows every name; otherwise the request's
//!   name must be listed. `create`, `list`, `watch` and `deletecollection` carry
//!   no name, so a rule with names never allows them;
//! * non-resource URLs: `*`, the exact path, or a trailing-`*` prefix.

use crate::rbac::rule::{Rule, WILDCARD, group_resource};
use serde::{Deserialize, Serialize};

/// A resource request, as the authorizer sees it (namespace left out: rules
/// are always evaluated for one namespace).
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Request {
    /// `get`, `list`, `watch`, `create`, `update`, `patch`, `delete`, `deletecollection`, ...
    pub verb: String,
    /// API group, `""` for the core group.
    pub group: String,
    /// Plural resource, without subresource.
    pub resource: String,
    /// Subresource (`scale`, `exec`, `token`), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subresource: Option<String>,
    /// Object name; `None` for create/list/watch/deletecollection.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

impl Request {
    /// A request without subresource or name.
    pub fn new(verb: &str, group: &str, resource: &str) -> Self {
        Request {
            verb: verb.to_string(),
            group: group.to_string(),
            resource: resource.to_string(),
            subresource: None,
            name: None,
        }
    }

    /// Parses `resource` as `res` or `res/sub` (the form RBAC rules use).
    pub fn parse(verb: &str, group: &str, combined: &str) -> Self {
        match combined.split_once('/') {
            Some((res, sub)) => Request::new(verb, group, res).with_subresource(sub),
            None => Request::new(verb, group, combined),
        }
    }

    /// Sets the subresource.
    pub fn with_subresource(mut self, sub: &str) -> Self {
        self.subresource = Some(sub.to_string());
        self
    }

    /// Sets the object name.
    pub fn with_name(mut self, name: &str) -> Self {
        self.name = Some(name.to_string());
        self
    }

    fn sub(&self) -> &str {
        self.subresource.as_deref().unwrap_or("")
    }

    /// `res` or `res/sub`: the string RBAC rules are matched against.
    pub fn combined_resource(&self) -> String {
        match self.sub() {
            "" => self.resource.clone(),
            sub => format!("{}/{}", self.resource, sub),
        }
    }

    /// kubectl-style target, e.g. `deployments.apps/scale`.
    pub fn target(&self) -> String {
        group_resource(&self.group, &self.combined_resource())
    }
}

impl std::fmt::Display for Request {
    /// `create deployments.apps`, `get secrets "helm-release"`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.verb, self.target())?;
        if let Some(name) = self.name.as_deref().filter(|n| !n.is_empty()) {
            write!(f, " {name:?}")?;
        }
        Ok(())
    }
}

/// A request for a non-resource URL (`/healthz`, `/api/v1`).
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct NonResourceRequest {
    /// Lower-case HTTP method: `get`, `post`, ...
    pub verb: String,
    /// The URL path.
    pub path: String,
}

impl NonResourceRequest {
    /// A non-resource request.
    pub fn new(verb: &str, path: &str) -> Self {
        NonResourceRequest {
            verb: verb.to_string(),
            path: path.to_string(),
        }
    }
}

/// False for the verbs whose requests never carry an object name.
pub fn verb_carries_name(verb: &str) -> bool {
    !matches!(verb, "create" | "list" | "watch" | "deletecollection")
}

/// `VerbMatches`.
pub fn verb_matches(rule: &Rule, verb: &str) -> bool {
    rule.verbs.iter().any(|v| v == WILDCARD || v == verb)
}

/// `APIGroupMatches`.
pub fn api_group_matches(rule: &Rule, group: &str) -> bool {
    rule.api_groups.iter().any(|g| g == WILDCARD || g == group)
}

/// `ResourceMatches`: `combined` is `res` or `res/sub`, `sub` the subresource or `""`.
pub fn resource_matches(rule: &Rule, combined: &str, sub: &str) -> bool {
    rule.resources.iter().any(|r| {
        r == WILDCARD
            || r == combined
            || (!sub.is_empty()
                && r.len() == sub.len() + 2
                && r.starts_with("*/")
                && r.ends_with(sub))
    })
}

/// `ResourceNameMatches`: `""` stands for "no name".
pub fn resource_name_matches(rule: &Rule, name: &str) -> bool {
    rule.resource_names.is_empty() || rule.resource_names.iter().any(|n| n == name)
}

/// `NonResourceURLMatches`.
pub fn non_resource_url_matches(rule: &Rule, path: &str) -> bool {
    rule.non_resource_urls.iter().any(|u| {
        u == WILDCARD
            || u == path
            || (u.ends_with('*') && path.starts_with(u.trim_end_matches('*')))
    })
}

impl Rule {
    /// `RuleAllows` for a resource request.
    pub fn allows(&self, req: &Request) -> bool {
        self.allows_ignoring_name(req)
            && resource_name_matches(self, req.name.as_deref().unwrap_or(""))
    }

    /// Like [`Rule::allows`] but true when the rule allows the request for at
    /// least one object name (a `resourceNames` rule still grants *some* access).
    pub fn allows_ignoring_name(&self, req: &Request) -> bool {
        verb_matches(self, &req.verb)
            && api_group_matches(self, &req.group)
            && resource_matches(self, &req.combined_resource(), req.sub())
    }

    /// `RuleAllows` for a non-resource request.
    pub fn allows_path(&self, req: &NonResourceRequest) -> bool {
        verb_matches(self, &req.verb) && non_resource_url_matches(self, &req.path)
    }
}

/// `RulesAllow`: true when any rule allows the request.
pub fn rules_allow(rules: &[Rule], req: &Request) -> bool {
    rules.iter().any(|r| r.allows(req))
}

/// True when any rule allows the request for at least one name.
pub fn rules_allow_ignoring_name(rules: &[Rule], req: &Request) -> bool {
    rules.iter().any(|r| r.allows_ignoring_name(req))
}

/// `RulesAllow` for a non-resource request.
pub fn rules_allow_path(rules: &[Rule], req: &NonResourceRequest) -> bool {
    rules.iter().any(|r| r.allows_path(req))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(verb: &str, group: &str, res: &str) -> Request {
        Request::parse(verb, group, res)
    }

    #[test]
    fn exact_match() {
        let r = Rule::resource(&["apps"], &["deployments"], &["get", "list"]);
        assert!(r.allows(&req("get", "apps", "deployments")));
        assert!(r.allows(&req("list", "apps", "deployments")));
        assert!(!r.allows(&req("create", "apps", "deployments")));
        assert!(!r.allows(&req("get", "", "deployments")), "group differs");
        assert!(!r.allows(&req("get", "extensions", "deployments")));
        assert!(!r.allows(&req("get", "apps", "replicasets")));
    }

    #[test]
    fn verb_wildcard() {
        let r = Rule::resource(&[""], &["pods"], &["*"]);
        for v in ["get", "create", "escalate", "anything"] {
            assert!(r.allows(&req(v, "", "pods")), "{v}");
        }
    }

    #[test]
    fn group_wildcard() {
        let r = Rule::resource(&["*"], &["pods"], &["get"]);
        assert!(r.allows(&req("get", "", "pods")));
        assert!(r.allows(&req("get", "metrics.k8s.io", "pods")));
        assert!(!r.allows(&req("get", "apps", "deployments")));
    }

    #[test]
    fn core_group_is_the_empty_string() {
        let r = Rule::resource(&[""], &["secrets"], &["get"]);
        assert!(r.allows(&req("get", "", "secrets")));
        assert!(!r.allows(&req("get", "core", "secrets")));
        let none = Rule::resource(&[], &["secrets"], &["get"]);
        assert!(
            !none.allows(&req("get", "", "secrets")),
            "no apiGroups allows nothing"
        );
    }

    #[test]
    fn resource_wildcard_covers_subresources() {
        let r = Rule::resource(&[""], &["*"], &["get"]);
        assert!(r.allows(&req("get", "", "pods")));
        assert!(r.allows(&req("get", "", "pods/log")));
    }

    #[test]
    fn plain_resource_does_not_match_subresource() {
        let r = Rule::resource(&["apps"], &["deployments"], &["get", "update"]);
        assert!(!r.allows(&req("update", "apps", "deployments/scale")));
        let s = Rule::resource(&["apps"], &["deployments/scale"], &["update"]);
        assert!(s.allows(&req("update", "apps", "deployments/scale")));
        assert!(!s.allows(&req("update", "apps", "deployments")));
        assert!(!s.allows(&req("update", "apps", "deployments/status")));
    }

    #[test]
    fn star_slash_sub_matches_any_parent() {
        let r = Rule::resource(&["*"], &["*/scale"], &["update"]);
        assert!(r.allows(&req("update", "apps", "deployments/scale")));
        assert!(r.allows(&req("update", "", "replicationcontrollers/scale")));
        assert!(
            !r.allows(&req("update", "apps", "deployments")),
            "not the parent"
        );
        assert!(!r.allows(&req("update", "apps", "deployments/status")));
        // the length check: "*/ale" must not match subresource "scale"
        let tricky = Rule::resource(&["apps"], &["*/ale"], &["update"]);
        assert!(!tricky.allows(&req("update", "apps", "deployments/scale")));
        // "*/" with an empty subresource never matches
        let empty = Rule::resource(&["apps"], &["*/"], &["update"]);
        assert!(!empty.allows(&req("update", "apps", "deployments")));
    }

    #[test]
    fn subresource_request_built_by_hand() {
        let r = Rule::resource(&[""], &["pods/exec"], &["create"]);
        let q = Request::new("create", "", "pods").with_subresource("exec");
        assert!(r.allows(&q));
        assert_eq!(q.combined_resource(), "pods/exec");
        // an empty subresource behaves as none
        let e = Request::new("create", "", "pods").with_subresource("");
        assert_eq!(e.combined_resource(), "pods");
        assert!(Rule::resource(&[""], &["pods"], &["create"]).allows(&e));
    }

    #[test]
    fn resource_names() {
        let r = Rule::resource(&[""], &["configmaps"], &["get", "update", "list", "create"])
            .with_names(["a", "b"]);
        assert!(r.allows(&req("get", "", "configmaps").with_name("a")));
        assert!(r.allows(&req("update", "", "configmaps").with_name("b")));
        assert!(!r.allows(&req("get", "", "configmaps").with_name("c")));
        // list and create carry no name: never allowed by a named rule
        assert!(!r.allows(&req("list", "", "configmaps")));
        assert!(!r.allows(&req("create", "", "configmaps")));
        // ...but the rule still gives access to some names
        assert!(r.allows_ignoring_name(&req("get", "", "configmaps")));
        // a rule without names allows any name and none
        let any = Rule::resource(&[""], &["configmaps"], &["get", "list"]);
        assert!(any.allows(&req("get", "", "configmaps").with_name("zzz")));
        assert!(any.allows(&req("list", "", "configmaps")));
    }

    #[test]
    fn verb_carries_name_table() {
        for v in ["create", "list", "watch", "deletecollection"] {
            assert!(!verb_carries_name(v), "{v}");
        }
        for v in ["get", "update", "patch", "delete"] {
            assert!(verb_carries_name(v), "{v}");
        }
    }

    #[test]
    fn non_resource_urls() {
        let r = Rule::non_resource(&["/healthz", "/api/*", "/apis"], &["get"]);
        let ok = |p: &str| r.allows_path(&NonResourceRequest::new("get", p));
        assert!(ok("/healthz"));
        assert!(ok("/api/v1"));
        assert!(ok("/api/"));
        assert!(!ok("/api"), "/api/* needs the slash");
        assert!(ok("/apis"));
        assert!(!ok("/apis/apps"));
        assert!(!ok("/healthz/etcd"));
        assert!(!r.allows_path(&NonResourceRequest::new("post", "/healthz")));
        let all = Rule::non_resource(&["*"], &["get"]);
        assert!(all.allows_path(&NonResourceRequest::new("get", "/anything")));
        // trailing-star prefix without slash
        let pre = Rule::non_resource(&["/heal*"], &["get"]);
        assert!(pre.allows_path(&NonResourceRequest::new("get", "/healthz")));
        // several trailing stars are all trimmed (strings.TrimRight)
        let stars = Rule::non_resource(&["/a**"], &["get"]);
        assert!(stars.allows_path(&NonResourceRequest::new("get", "/abc")));
    }

    #[test]
    fn resource_rules_do_not_allow_paths_and_vice_versa() {
        let r = Rule::resource(&["*"], &["*"], &["*"]);
        assert!(!r.allows_path(&NonResourceRequest::new("get", "/healthz")));
        let n = Rule::non_resource(&["*"], &["*"]);
        assert!(!n.allows(&req("get", "", "pods")));
    }

    #[test]
    fn mixed_rule_allows_both_kinds() {
        let m = Rule::resource(&[""], &["pods"], &["get"]).with_urls(["/metrics"]);
        assert!(m.allows(&req("get", "", "pods")));
        assert!(m.allows_path(&NonResourceRequest::new("get", "/metrics")));
    }

    #[test]
    fn rule_sets() {
        let rules = vec![
            Rule::resource(&["apps"], &["deployments"], &["get"]),
            Rule::resource(&[""], &["services"], &["create"]),
            Rule::non_resource(&["/version"], &["get"]),
        ];
        assert!(rules_allow(&rules, &req("get", "apps", "deployments")));
        assert!(rules_allow(&rules, &req("create", "", "services")));
        assert!(!rules_allow(&rules, &req("create", "apps", "deployments")));
        assert!(rules_allow_path(
            &rules,
            &NonResourceRequest::new("get", "/version")
        ));
        assert!(!rules_allow_path(
            &rules,
            &NonResourceRequest::new("get", "/healthz")
        ));
        assert!(!rules_allow(&[], &req("get", "", "pods")));
        let named = vec![Rule::resource(&[""], &["secrets"], &["get"]).with_names(["x"])];
        assert!(!rules_allow(&named, &req("get", "", "secrets")));
        assert!(rules_allow_ignoring_name(
            &named,
            &req("get", "", "secrets")
        ));
    }

    #[test]
    fn display_and_target() {
        assert_eq!(
            req("create", "apps", "deployments").to_string(),
            "create deployments.apps"
        );
        assert_eq!(
            req("create", "", "pods/exec").to_string(),
            "create pods/exec"
        );
        assert_eq!(
            req("update", "apps", "deployments/scale").target(),
            "deployments.apps/scale"
        );
        assert_eq!(
            req("get", "", "secrets").with_name("s1").to_string(),
            "get secrets \"s1\""
        );
    }

    #[test]
    fn parse_splits_once() {
        let q = Request::parse("get", "", "pods/log");
        assert_eq!(q.resource, "pods");
        assert_eq!(q.subresource.as_deref(), Some("log"));
        let p = Request::parse("get", "", "pods");
        assert_eq!(p.subresource, None);
    }
}
