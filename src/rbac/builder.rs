//! The least-privilege Role builder: chosen kinds + verbs in, Role rules out.
//!
//! * only verbs the kind serves (its discovery verbs) are granted; the rest are
//!   reported in [`BuiltRole::dropped`];
//! * no wildcard ever reaches a rule (`*` verbs, groups or resources are dropped);
//! * cluster-scoped kinds are dropped (a Role cannot grant them);
//! * rules are grouped by API group (core first, then alphabetical); kinds of a
//!   group that get the same verbs share one rule; verbs and resources are
//!   sorted, so the same choice always gives the same Role.

use crate::rbac::kinds::ServedKind;
use crate::rbac::rule::{Rule, group_resource};
use crate::rbac::{READ_ONLY_VERBS, READ_WRITE_VERBS};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// One chosen kind and the verbs wanted on it (`None`: [`default_verbs`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Selection {
    /// The kind, as discovery reports it.
    pub kind: ServedKind,
    /// Wanted verbs; `None` picks the defaults for the kind.
    pub verbs: Option<Vec<String>>,
}

impl Selection {
    /// The kind with its default verbs.
    pub fn new(kind: ServedKind) -> Self {
        Selection { kind, verbs: None }
    }

    /// The kind with explicit verbs.
    pub fn with_verbs(kind: ServedKind, verbs: &[&str]) -> Self {
        Selection {
            kind,
            verbs: Some(verbs.iter().map(|v| v.to_string()).collect()),
        }
    }

    /// The verbs this selection asks for.
    pub fn wanted_verbs(&self) -> Vec<String> {
        self.verbs
            .clone()
            .unwrap_or_else(|| default_verbs(&self.kind))
    }
}

/// `get list watch create update patch delete`, or `get list watch` for a
/// kind that serves no write verb; a subresource's own ([`ServedKind::subresource_default_verbs`]).
pub fn default_verbs(kind: &ServedKind) -> Vec<String> {
    if kind.is_subresource() {
        // `scale`: get update patch; `status`: get; any other: get.
        let verbs = kind.subresource_default_verbs().unwrap_or(&["get"]);
        return verbs.iter().map(|v| v.to_string()).collect();
    }
    let verbs = if kind.is_read_only() {
        READ_ONLY_VERBS
    } else {
        READ_WRITE_VERBS
    };
    verbs.iter().map(|v| v.to_string()).collect()
}

/// What "read-only" grants on `kind`: `get list watch`, or `get` on a subresource (which
/// serves no list or watch).
pub fn read_only_verbs(kind: &ServedKind) -> &'static [&'static str] {
    if kind.is_subresource() {
        &["get"]
    } else {
        READ_ONLY_VERBS
    }
}

/// Why verbs were not granted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum DropReason {
    /// Discovery does not list the verb for the kind.
    NotServed,
    /// A wildcard was asked for; the builder never grants one.
    Wildcard,
    /// The kind is cluster-scoped.
    ClusterScoped,
}

impl std::fmt::Display for DropReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            DropReason::NotServed => "not served for this resource",
            DropReason::Wildcard => "wildcards are never granted",
            DropReason::ClusterScoped => "cluster-scoped: a Role cannot grant it",
        })
    }
}

/// Verbs asked for on one kind and not granted.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Dropped {
    /// API group.
    pub group: String,
    /// Resource.
    pub resource: String,
    /// The verbs not granted, sorted.
    pub verbs: Vec<String>,
    /// Why.
    pub reason: DropReason,
}

impl std::fmt::Display for Dropped {
    /// `watch on pods/log: not served for this resource`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} on {}: {}",
            self.verbs.join(" "),
            group_resource(&self.group, &self.resource),
            self.reason
        )
    }
}

/// The builder's result.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BuiltRole {
    /// The Role's rules.
    pub rules: Vec<Rule>,
    /// What was asked for and not granted.
    pub dropped: Vec<Dropped>,
}

fn has_star(s: &str) -> bool {
    s.contains('*')
}

/// Builds a Role's rules from chosen kinds (see the module docs).
pub fn build_role(selections: &[Selection]) -> BuiltRole {
    // (group, resource) -> granted verbs
    let mut granted: BTreeMap<(String, String), BTreeSet<String>> = BTreeMap::new();
    // (group, resource, reason) -> dropped verbs
    let mut dropped: BTreeMap<(String, String, DropReason), BTreeSet<String>> = BTreeMap::new();
    let mut drop = |kind: &ServedKind, verb: &str, reason: DropReason| {
        dropped
            .entry((kind.group.clone(), kind.resource.clone(), reason))
            .or_default()
            .insert(verb.to_string());
    };
    for sel in selections {
        let kind = &sel.kind;
        let kind_reason = if has_star(&kind.group) || has_star(&kind.resource) {
            Some(DropReason::Wildcard)
        } else if !kind.namespaced {
            Some(DropReason::ClusterScoped)
        } else {
            None
        };
        for verb in sel.wanted_verbs() {
            let reason = kind_reason.or(if has_star(&verb) {
                Some(DropReason::Wildcard)
            } else if !kind.serves(&verb) {
                Some(DropReason::NotServed)
            } else {
                None
            });
            match reason {
                Some(r) => drop(kind, &verb, r),
                None => {
                    granted
                        .entry((kind.group.clone(), kind.resource.clone()))
                        .or_default()
                        .insert(verb);
                }
            }
        }
    }

    // group -> verb set -> resources
    let mut by_group: BTreeMap<String, BTreeMap<Vec<String>, Vec<String>>> = BTreeMap::new();
    for ((group, resource), verbs) in granted {
        by_group
            .entry(group)
            .or_default()
            .entry(verbs.into_iter().collect())
            .or_default()
            .push(resource);
    }
    let mut rules = Vec::new();
    for (group, sets) in by_group {
        let mut group_rules: Vec<Rule> = sets
            .into_iter()
            .map(|(verbs, resources)| Rule {
                verbs,
                api_groups: vec![group.clone()],
                resources,
                ..Rule::default()
            })
            .collect();
        group_rules.sort_by(|a, b| a.resources.cmp(&b.resources));
        rules.extend(group_rules);
    }
    BuiltRole {
        rules,
        dropped: dropped
            .into_iter()
            .map(|((group, resource, reason), verbs)| Dropped {
                group,
                resource,
                verbs: verbs.into_iter().collect(),
                reason,
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rbac::STANDARD_VERBS;
    use crate::rbac::matching::{Request, rules_allow};

    fn deploy() -> ServedKind {
        ServedKind::new(
            "apps",
            "v1",
            "deployments",
            "Deployment",
            true,
            STANDARD_VERBS,
        )
    }
    fn services() -> ServedKind {
        ServedKind::new(
            "",
            "v1",
            "services",
            "Service",
            true,
            &[
                "create", "delete", "get", "list", "patch", "update", "watch",
            ],
        )
    }
    fn configmaps() -> ServedKind {
        ServedKind::new("", "v1", "configmaps", "ConfigMap", true, STANDARD_VERBS)
    }
    fn pod_metrics() -> ServedKind {
        ServedKind::new(
            "metrics.k8s.io",
            "v1beta1",
            "pods",
            "PodMetrics",
            true,
            &["get", "list"],
        )
    }

    fn v(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn default_verbs_for_read_write_and_read_only_kinds() {
        assert_eq!(default_verbs(&deploy()), READ_WRITE_VERBS);
        assert_eq!(default_verbs(&pod_metrics()), READ_ONLY_VERBS);
        assert_eq!(Selection::new(deploy()).wanted_verbs(), READ_WRITE_VERBS);
        assert_eq!(
            Selection::with_verbs(deploy(), &["get"]).wanted_verbs(),
            ["get"]
        );
    }

    #[test]
    fn groups_by_api_group_core_first_and_sorted() {
        let built = build_role(&[
            Selection::new(deploy()),
            Selection::new(services()),
            Selection::new(configmaps()),
        ]);
        let sorted_rw = v(&[
            "create", "delete", "get", "list", "patch", "update", "watch",
        ]);
        assert_eq!(
            built.rules,
            vec![
                Rule {
                    verbs: sorted_rw.clone(),
                    api_groups: v(&[""]),
                    resources: v(&["configmaps", "services"]),
                    ..Rule::default()
                },
                Rule {
                    verbs: sorted_rw,
                    api_groups: v(&["apps"]),
                    resources: v(&["deployments"]),
                    ..Rule::default()
                },
            ]
        );
        assert!(built.dropped.is_empty());
    }

    #[test]
    fn deterministic_whatever_the_order() {
        let a = build_role(&[
            Selection::new(deploy()),
            Selection::new(services()),
            Selection::new(configmaps()),
        ]);
        let b = build_role(&[
            Selection::new(configmaps()),
            Selection::new(deploy()),
            Selection::new(services()),
        ]);
        assert_eq!(a, b);
    }

    #[test]
    fn different_verb_sets_in_one_group_give_separate_rules() {
        let built = build_role(&[
            Selection::with_verbs(configmaps(), &["get"]),
            Selection::new(services()),
        ]);
        assert_eq!(built.rules.len(), 2);
        assert_eq!(built.rules[0].resources, ["configmaps"]);
        assert_eq!(built.rules[0].verbs, ["get"]);
        assert_eq!(built.rules[1].resources, ["services"]);
    }

    #[test]
    fn unserved_verbs_are_dropped_and_reported() {
        let built = build_role(&[Selection::with_verbs(
            pod_metrics(),
            &["get", "list", "watch", "delete"],
        )]);
        assert_eq!(
            built.rules,
            vec![Rule::resource(
                &["metrics.k8s.io"],
                &["pods"],
                &["get", "list"]
            )]
        );
        assert_eq!(
            built.dropped,
            vec![Dropped {
                group: "metrics.k8s.io".into(),
                resource: "pods".into(),
                verbs: v(&["delete", "watch"]),
                reason: DropReason::NotServed
            }]
        );
        assert_eq!(
            built.dropped[0].to_string(),
            "delete watch on pods.metrics.k8s.io: not served for this resource"
        );
    }

    #[test]
    fn deletecollection_only_where_served() {
        let built = build_role(&[Selection::with_verbs(
            services(),
            &["deletecollection", "get"],
        )]);
        assert_eq!(
            built.rules,
            vec![Rule::resource(&[""], &["services"], &["get"])]
        );
        assert_eq!(built.dropped[0].verbs, ["deletecollection"]);
    }

    #[test]
    fn wildcards_never_granted() {
        let built = build_role(&[
            Selection::with_verbs(deploy(), &["*", "get"]),
            Selection::new(ServedKind::new("*", "v1", "*", "Any", true, &["*", "get"])),
            Selection::new(ServedKind::new(
                "apps",
                "v1",
                "*/scale",
                "Scale",
                true,
                &["get", "update"],
            )),
        ]);
        assert_eq!(
            built.rules,
            vec![Rule::resource(&["apps"], &["deployments"], &["get"])]
        );
        assert!(
            built
                .dropped
                .iter()
                .all(|d| d.reason == DropReason::Wildcard)
        );
        assert_eq!(built.dropped.len(), 3);
        for r in &built.rules {
            assert!(!r.has_wildcard());
        }
    }

    #[test]
    fn cluster_scoped_kinds_are_dropped() {
        let ns = ServedKind::new("", "v1", "namespaces", "Namespace", false, STANDARD_VERBS);
        let built = build_role(&[Selection::with_verbs(ns, &["get"])]);
        assert!(built.rules.is_empty());
        assert_eq!(built.dropped[0].reason, DropReason::ClusterScoped);
        assert_eq!(
            built.dropped[0].to_string(),
            "get on namespaces: cluster-scoped: a Role cannot grant it"
        );
    }

    #[test]
    fn escalation_verbs_are_not_served_so_not_granted() {
        let roles = ServedKind::new(
            "rbac.authorization.k8s.io",
            "v1",
            "roles",
            "Role",
            true,
            STANDARD_VERBS,
        );
        let built = build_role(&[Selection::with_verbs(roles, &["escalate", "bind", "get"])]);
        assert_eq!(built.rules[0].verbs, ["get"]);
        assert_eq!(built.dropped[0].verbs, ["bind", "escalate"]);
    }

    #[test]
    fn same_kind_twice_unions_verbs() {
        let built = build_role(&[
            Selection::with_verbs(deploy(), &["get"]),
            Selection::with_verbs(deploy(), &["list", "get"]),
        ]);
        assert_eq!(
            built.rules,
            vec![Rule::resource(
                &["apps"],
                &["deployments"],
                &["get", "list"]
            )]
        );
    }

    #[test]
    fn subresource_kinds() {
        let log = ServedKind::new("", "v1", "pods/log", "Pod", true, &["get"]);
        let built = build_role(&[Selection::new(log)]);
        assert_eq!(
            built.rules,
            vec![Rule::resource(&[""], &["pods/log"], &["get"])]
        );
        // A subresource serves no list or watch: `get` is asked for, nothing is dropped.
        assert!(built.dropped.is_empty(), "{:?}", built.dropped);
        let scale = ServedKind::new(
            "apps",
            "v1",
            "deployments/scale",
            "Deployment",
            true,
            &["get", "patch", "update"],
        );
        let built = build_role(&[Selection::new(scale.clone())]);
        assert_eq!(
            built.rules,
            vec![Rule::resource(
                &["apps"],
                &["deployments/scale"],
                &["get", "patch", "update"]
            )]
        );
        assert_eq!(read_only_verbs(&scale), ["get"]);
        assert_eq!(read_only_verbs(&deploy()), READ_ONLY_VERBS);
        let log = ServedKind::new("", "v1", "pods/log", "Pod", true, &["get"]);
        let built = build_role(&[Selection::new(log)]);
        assert!(rules_allow(
            &built.rules,
            &Request::parse("get", "", "pods/log").with_name("p")
        ));
    }

    #[test]
    fn empty_inputs() {
        assert_eq!(build_role(&[]), BuiltRole::default());
        let built = build_role(&[Selection::with_verbs(deploy(), &[])]);
        assert!(built.rules.is_empty() && built.dropped.is_empty());
    }

    #[test]
    fn every_granted_verb_is_allowed() {
        let sels = [
            Selection::new(deploy()),
            Selection::new(services()),
            Selection::new(pod_metrics()),
        ];
        let built = build_role(&sels);
        for s in &sels {
            for verb in s.wanted_verbs() {
                let allowed = rules_allow(
                    &built.rules,
                    &Request::new(&verb, &s.kind.group, &s.kind.resource),
                );
                assert_eq!(allowed, s.kind.serves(&verb), "{verb} {}", s.kind.resource);
            }
        }
    }
}
