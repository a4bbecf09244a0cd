//! The least Role the audit log shows an identity needs: from what its current Role grants and
//! what the log shows it was allowed to do, the least rules that still allow every one of those
//! requests ([`rbac::least_role`]), and what that takes away. Pure: no I/O. `tighten` proposes
//! it; `audit --audit-log` reports what it would take away (`unused-permission`).
//!
//! A request counts for the Role when it was in the Role's namespace and the current Role
//! allows it; others were allowed by some other grant (another binding, a ClusterRole) and are
//! listed, not granted. So the proposal never grants what the Role does not grant now, which
//! [`propose`] checks with the core's `covers` before it returns, with every kept request.

use std::collections::BTreeMap;

use super::{Action, Seen, Usage};
use crate::rbac::{self, Request, Rule};

/// Why an allowed action is not part of the proposal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Elsewhere {
    /// In another namespace: a Role grants only in its own.
    OtherNamespace,
    /// Cluster-scoped: a Role cannot grant it.
    ClusterWide,
    /// In the Role's namespace, but the Role does not allow it (for these objects): another
    /// grant did.
    OtherGrant,
}

impl std::fmt::Display for Elsewhere {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Elsewhere::OtherNamespace => "another namespace: a Role grants only in its own",
            Elsewhere::ClusterWide => "cluster-scoped: a Role cannot grant it",
            Elsewhere::OtherGrant => "not through this Role: another binding allowed it",
        })
    }
}

/// The proposal.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Proposal {
    /// The proposed Role's rules, compacted; no wildcard.
    pub rules: Vec<Rule>,
    /// The requests the current Role allowed (named with `--names`, or where the Role names
    /// objects itself): what the proposal keeps.
    pub kept: Vec<Request>,
    /// Allowed actions that are not this Role's to grant.
    pub elsewhere: Vec<(Action, Elsewhere)>,
    /// What the current Role grants and the proposal does not: broken down to one verb on one
    /// resource each (and one name, where it names objects).
    pub taken_away: Vec<Rule>,
    /// Logged requests holding a `*` (never granted).
    pub skipped: Vec<Request>,
    /// Actions whose names were too many to keep (`--names`): granted for every object.
    pub many_names: Vec<Action>,
}

impl Proposal {
    /// True when the proposal takes nothing away.
    pub fn unchanged(&self) -> bool {
        self.taken_away.is_empty()
    }
}

/// Builds the proposal for the Role in `namespace` granting `current`, from `usage`; with
/// `names`, limited to the objects the requests named. `Err` only when a check of the result
/// fails, which is a bug of kubectl-cicd, never of the input.
pub fn propose(
    current: &[Rule],
    namespace: &str,
    usage: &Usage,
    names: bool,
) -> Result<Proposal, String> {
    let mut kept: Vec<Request> = Vec::new();
    let mut elsewhere = Vec::new();
    let mut many_names = Vec::new();
    for (action, seen) in &usage.allowed {
        let Some(req) = for_a_role(action) else {
            continue;
        };
        if action.namespace.is_empty() {
            elsewhere.push((action.clone(), Elsewhere::ClusterWide));
            continue;
        }
        if action.namespace != namespace {
            elsewhere.push((action.clone(), Elsewhere::OtherNamespace));
            continue;
        }
        let through_role = for_action(current, &req, seen, names, &mut many_names, action);
        match through_role {
            Some((requests, complete)) => {
                if !complete {
                    elsewhere.push((action.clone(), Elsewhere::OtherGrant));
                }
                kept.extend(requests);
            }
            None => elsewhere.push((action.clone(), Elsewhere::OtherGrant)),
        }
    }
    kept.sort();
    kept.dedup();
    let built = rbac::least_role(&kept);
    let taken_away = rbac::uncovered(&built.rules, current);
    let proposal = Proposal {
        rules: built.rules,
        kept,
        elsewhere,
        taken_away,
        skipped: built.skipped,
        many_names,
    };
    check(current, &proposal)?;
    Ok(proposal)
}

/// The request of an allowed action that a Role could be needed for: not discovery and the
/// like (`/api`, `/version`), nor the self-reviews every identity may make (`kubectl auth
/// can-i`, and init's own check of a new token).
pub fn for_a_role(action: &Action) -> Option<Request> {
    let req = action.request()?;
    (!rbac::rules_allow(&rbac::verify::baseline_rules(), &req)).then_some(req)
}

/// The requests of one action the current Role allowed, and whether that was all of them
/// (`false`: some were allowed by another grant). `None` when the Role allowed none.
fn for_action(
    current: &[Rule],
    req: &Request,
    seen: &Seen,
    names: bool,
    many_names: &mut Vec<Action>,
    action: &Action,
) -> Option<(Vec<Request>, bool)> {
    // The Role grants every object of the kind: names only when asked for and all known.
    if rbac::rules_allow(current, req) {
        if names && !seen.nameless && !seen.many_names {
            let named = seen.names.iter().map(|n| req.clone().with_name(n));
            return Some((named.collect(), true));
        }
        if names && seen.many_names && !seen.nameless {
            many_names.push(action.clone());
        }
        return Some((vec![req.clone()], true));
    }
    // The Role grants only named objects: keep those of them the requests used. When there
    // were too many names to keep, keep every name the Role grants for this action.
    let mut allowed: Vec<Request> = seen
        .names
        .iter()
        .map(|n| req.clone().with_name(n))
        .filter(|r| rbac::rules_allow(current, r))
        .collect();
    if seen.many_names {
        allowed.extend(
            current
                .iter()
                .filter(|r| r.allows_ignoring_name(req))
                .flat_map(|r| r.resource_names.iter())
                .map(|n| req.clone().with_name(n)),
        );
    }
    if allowed.is_empty() {
        return None;
    }
    let complete = !seen.nameless && !seen.many_names && allowed.len() == seen.names.len();
    Some((allowed, complete))
}

/// The promises of the module docs, checked on the result.
fn check(current: &[Rule], p: &Proposal) -> Result<(), String> {
    if let Some(r) = p.rules.iter().find(|r| r.has_wildcard()) {
        return Err(format!("the proposed rule {r} holds a wildcard"));
    }
    if let Err(wider) = rbac::covers(current, &p.rules) {
        let wider: Vec<String> = wider.iter().map(Rule::to_string).collect();
        return Err(format!(
            "the proposed Role would grant what the current one does not: {}",
            wider.join(", ")
        ));
    }
    let asked: Vec<Rule> = p.kept.iter().map(rbac::request_rule).collect();
    if let Err(missing) = rbac::covers(&p.rules, &asked) {
        let missing: Vec<String> = missing.iter().map(Rule::to_string).collect();
        return Err(format!(
            "the proposed Role would not allow logged requests: {}",
            missing.join(", ")
        ));
    }
    if let Some(r) = p.kept.iter().find(|r| !rbac::rules_allow(&p.rules, r)) {
        return Err(format!(
            "the proposed Role would not allow the logged request {r}"
        ));
    }
    Ok(())
}

/// `taken_away` grouped for people: `(target, verbs)`, e.g.
/// `("ingresses.networking.k8s.io", ["create", "delete", ...])`; a named target reads
/// `configmaps "app"`.
pub fn taken_away_by_target(taken: &[Rule]) -> Vec<(String, Vec<String>)> {
    let mut by: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for r in taken {
        for group in &r.api_groups {
            for resource in &r.resources {
                let mut target = rbac::rule::group_resource(group, resource);
                if !r.resource_names.is_empty() {
                    let quoted: Vec<String> =
                        r.resource_names.iter().map(|n| format!("{n:?}")).collect();
                    target = format!("{target} {}", quoted.join(" "));
                }
                by.entry(target)
                    .or_default()
                    .extend(r.verbs.iter().cloned());
            }
        }
        for url in &r.non_resource_urls {
            by.entry(url.clone())
                .or_default()
                .extend(r.verbs.iter().cloned());
        }
    }
    by.into_iter()
        .map(|(t, mut verbs)| {
            verbs.sort_by_key(|v| verb_order(v));
            verbs.dedup();
            (t, verbs)
        })
        .collect()
}

/// kubectl's order of the standard verbs, then the rest alphabetically.
pub fn verb_order(verb: &str) -> (usize, String) {
    let i = rbac::STANDARD_VERBS
        .iter()
        .position(|v| *v == verb)
        .unwrap_or(rbac::STANDARD_VERBS.len());
    (i, verb.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auditlog::{Decision, Event};
    use crate::rbac::READ_WRITE_VERBS;

    fn web_app() -> Vec<Rule> {
        vec![
            Rule::resource(&[""], &["configmaps", "services"], READ_WRITE_VERBS),
            Rule::resource(&["apps"], &["deployments"], READ_WRITE_VERBS),
            Rule::resource(
                &["autoscaling"],
                &["horizontalpodautoscalers"],
                READ_WRITE_VERBS,
            ),
            Rule::resource(&["networking.k8s.io"], &["ingresses"], READ_WRITE_VERBS),
        ]
    }

    fn event(ns: &str, verb: &str, group: &str, resource: &str, name: &str) -> Event {
        Event {
            user: "system:serviceaccount:shop:ci-cd".into(),
            stage: "ResponseComplete".into(),
            verb: verb.into(),
            group: group.into(),
            resource: resource.into(),
            subresource: String::new(),
            namespace: ns.into(),
            name: name.into(),
            path: String::new(),
            code: 200,
            decision: Decision::Allowed,
            time: Some(1),
        }
    }

    fn pipeline() -> Usage {
        let mut u = Usage::default();
        for (verb, group, resource, name) in [
            ("get", "apps", "deployments", "web"),
            ("create", "apps", "deployments", "web"),
            ("patch", "apps", "deployments", "web"),
            ("list", "apps", "deployments", "web"),
            ("watch", "apps", "deployments", "web"),
            ("get", "", "services", "web"),
            ("create", "", "services", "web"),
        ] {
            u.add(&event("shop", verb, group, resource, name));
        }
        u
    }

    fn allows(rules: &[Rule], verb: &str, group: &str, resource: &str) -> bool {
        rbac::rules_allow(rules, &Request::new(verb, group, resource))
    }

    #[test]
    fn a_web_app_pipeline_keeps_deployments_and_services_and_loses_the_rest() {
        let p = propose(&web_app(), "shop", &pipeline(), false).unwrap();
        for (verb, group, resource) in [
            ("get", "apps", "deployments"),
            ("create", "apps", "deployments"),
            ("patch", "apps", "deployments"),
            ("watch", "apps", "deployments"),
            ("get", "", "services"),
            ("create", "", "services"),
        ] {
            assert!(allows(&p.rules, verb, group, resource), "{verb} {resource}");
        }
        for (verb, group, resource) in [
            ("delete", "apps", "deployments"),
            ("update", "apps", "deployments"),
            ("patch", "", "services"),
            ("get", "", "configmaps"),
            ("create", "networking.k8s.io", "ingresses"),
            ("get", "autoscaling", "horizontalpodautoscalers"),
        ] {
            assert!(
                !allows(&p.rules, verb, group, resource),
                "{verb} {resource}"
            );
        }
        let away = taken_away_by_target(&p.taken_away);
        let targets: Vec<&str> = away.iter().map(|(t, _)| t.as_str()).collect();
        assert_eq!(
            targets,
            [
                "configmaps",
                "deployments.apps",
                "horizontalpodautoscalers.autoscaling",
                "ingresses.networking.k8s.io",
                "services"
            ]
        );
        let deployments = &away[1].1;
        assert_eq!(deployments, &["update", "delete"]);
        assert_eq!(away[3].1, READ_WRITE_VERBS);
        assert!(p.elsewhere.is_empty() && p.skipped.is_empty());
        assert!(!p.unchanged());
    }

    #[test]
    fn names_narrow_to_the_objects_used_when_asked() {
        let p = propose(&web_app(), "shop", &pipeline(), true).unwrap();
        let get_web = Request::new("get", "apps", "deployments").with_name("web");
        assert!(rbac::rules_allow(&p.rules, &get_web));
        assert!(!rbac::rules_allow(
            &p.rules,
            &Request::new("get", "apps", "deployments").with_name("other")
        ));
        // A create is authorized without a name: it keeps every name.
        assert!(allows(&p.rules, "create", "apps", "deployments"));
    }

    #[test]
    fn the_proposal_never_grants_what_the_role_does_not() {
        let current = vec![
            Rule::resource(&["apps"], &["deployments"], &["get", "list"]),
            Rule::resource(&[""], &["configmaps"], &["get"]).with_names(["app"]),
        ];
        let mut u = pipeline();
        u.add(&event("shop", "get", "", "configmaps", "app"));
        u.add(&event("shop", "get", "", "configmaps", "other"));
        u.add(&event("other-ns", "get", "apps", "deployments", "web"));
        u.add(&event("", "list", "", "namespaces", ""));
        let p = propose(&current, "shop", &u, false).unwrap();
        assert_eq!(rbac::covers(&current, &p.rules), Ok(()));
        assert!(allows(&p.rules, "list", "apps", "deployments"));
        assert!(!allows(&p.rules, "create", "apps", "deployments"));
        let cm = Request::new("get", "", "configmaps");
        assert!(rbac::rules_allow(&p.rules, &cm.clone().with_name("app")));
        assert!(!rbac::rules_allow(&p.rules, &cm.with_name("other")));
        let why: Vec<(String, Elsewhere)> = p
            .elsewhere
            .iter()
            .map(|(a, w)| (a.to_string(), *w))
            .collect();
        assert!(why.contains(&(
            "create deployments.apps in shop".into(),
            Elsewhere::OtherGrant
        )));
        assert!(why.contains(&("get configmaps in shop".into(), Elsewhere::OtherGrant)));
        assert!(why.contains(&(
            "get deployments.apps in other-ns".into(),
            Elsewhere::OtherNamespace
        )));
        assert!(why.contains(&(
            "list namespaces (cluster-wide)".into(),
            Elsewhere::ClusterWide
        )));
    }

    #[test]
    fn a_role_that_grants_only_what_was_used_is_unchanged() {
        let first = propose(&web_app(), "shop", &pipeline(), false).unwrap();
        let again = propose(&first.rules, "shop", &pipeline(), false).unwrap();
        assert!(again.unchanged(), "{:?}", again.taken_away);
        assert_eq!(again.rules, first.rules);
    }

    #[test]
    fn wildcard_roles_are_tightened_to_concrete_rules() {
        let current = vec![Rule::resource(&["*"], &["*"], &["*"])];
        let p = propose(&current, "shop", &pipeline(), false).unwrap();
        assert!(p.rules.iter().all(|r| !r.has_wildcard()));
        let away = taken_away_by_target(&p.taken_away);
        assert_eq!(away, vec![("*.*".to_string(), vec!["*".to_string()])]);
    }
}
