//! Rule-set compaction, three flavours:
//!
//! * [`server_compact`]: the API server's `CompactRules`
//!   (`pkg/registry/rbac/validation/policy_compact.go`): rules with exactly one
//!   group and one resource, no names and no URLs are merged per
//!   (group, resource) by appending their verbs (order kept, duplicates kept).
//!   Used to word the escalation error.
//! * [`kubectl_compact`]: kubectl's variant (`staging/src/k8s.io/kubectl/pkg/util/rbac/rbac.go`),
//!   which also merges rules with a single resource name, keyed by that name.
//!   Used for the `auth can-i --list` table.
//! * [`compact`]: a general, semantics-preserving compaction for showing and
//!   storing rule sets. It never changes which requests the set allows.
//!
//! Go's versions return the merged rules in map order; here they come in
//! first-seen order (callers sort anyway).

use crate::rbac::covers::rule_covers;
use crate::rbac::rule::{Rule, WILDCARD};
use std::collections::BTreeMap;

/// Merge rules that share `key`, appending the verbs of later ones to the
/// first. Rules without a key are kept first, in order; merged rules follow in
/// first-seen order.
fn merge_verbs_by<K: Ord + Clone>(rules: &[Rule], key: impl Fn(&Rule) -> Option<K>) -> Vec<Rule> {
    let mut others = Vec::new();
    let mut order: Vec<K> = Vec::new();
    let mut merged: BTreeMap<K, Rule> = BTreeMap::new();
    for rule in rules {
        match key(rule) {
            Some(k) => match merged.get_mut(&k) {
                Some(existing) => existing.verbs.extend(rule.verbs.iter().cloned()),
                None => {
                    order.push(k.clone());
                    merged.insert(k, rule.clone());
                }
            },
            None => others.push(rule.clone()),
        }
    }
    others.extend(order.into_iter().filter_map(|k| merged.remove(&k)));
    others
}

fn single_group_resource(rule: &Rule) -> Option<(String, String)> {
    (rule.non_resource_urls.is_empty() && rule.api_groups.len() == 1 && rule.resources.len() == 1)
        .then(|| (rule.api_groups[0].clone(), rule.resources[0].clone()))
}

/// The server's `CompactRules`.
pub fn server_compact(rules: &[Rule]) -> Vec<Rule> {
    merge_verbs_by(rules, |r| {
        if r.resource_names.is_empty() {
            single_group_resource(r)
        } else {
            None
        }
    })
}

/// kubectl's `CompactRules` (also merges single-name rules, per name).
pub fn kubectl_compact(rules: &[Rule]) -> Vec<Rule> {
    merge_verbs_by(rules, |r| {
        if r.resource_names.len() > 1 {
            return None;
        }
        single_group_resource(r).map(|(g, res)| (g, res, r.resource_names.first().cloned()))
    })
}

/// Sorted, deduplicated; a list holding `*` becomes just `["*"]` (same meaning).
fn canonical(list: &[String]) -> Vec<String> {
    if list.iter().any(|s| s == WILDCARD) {
        return vec![WILDCARD.to_string()];
    }
    let mut out = list.to_vec();
    out.sort();
    out.dedup();
    out
}

/// Removes entries another entry of the same list already matches
/// (`deployments/scale` next to `*/scale`, `/api/v1` next to `/api/*`).
fn prune(list: Vec<String>, covers: impl Fn(&str, &str) -> bool) -> Vec<String> {
    let mut alive = vec![true; list.len()];
    for i in 0..list.len() {
        if (0..list.len()).any(|j| j != i && alive[j] && covers(&list[j], &list[i])) {
            alive[i] = false;
        }
    }
    list.into_iter()
        .zip(alive)
        .filter_map(|(s, a)| a.then_some(s))
        .collect()
}

fn resource_covers(owner: &str, res: &str) -> bool {
    matches!(res.split_once('/'), Some((_, sub)) if owner.strip_prefix("*/") == Some(sub))
}

fn url_covers(owner: &str, url: &str) -> bool {
    owner.ends_with('*') && url.starts_with(owner.trim_end_matches('*'))
}

fn canonical_rule(mut r: Rule) -> Rule {
    r.verbs = canonical(&r.verbs);
    r.api_groups = canonical(&r.api_groups);
    r.resources = prune(canonical(&r.resources), resource_covers);
    // names: `*` is an ordinary name here, no wildcard
    let mut names = std::mem::take(&mut r.resource_names);
    names.sort();
    names.dedup();
    r.resource_names = names;
    r.non_resource_urls = prune(canonical(&r.non_resource_urls), url_covers);
    r
}

/// One field a merge step unions; the other fields form the key.
#[derive(Clone, Copy)]
enum Field {
    Verbs,
    Groups,
    Resources,
    Names,
    Urls,
}

fn field_mut(r: &mut Rule, f: Field) -> &mut Vec<String> {
    match f {
        Field::Verbs => &mut r.verbs,
        Field::Groups => &mut r.api_groups,
        Field::Resources => &mut r.resources,
        Field::Names => &mut r.resource_names,
        Field::Urls => &mut r.non_resource_urls,
    }
}

/// Union rules that are equal except in `field`. Exact, because a rule allows
/// the cartesian product of its fields; names merge only when both sides list
/// names (an empty list means "every name").
fn merge_on(rules: Vec<Rule>, field: Field) -> Vec<Rule> {
    let mut groups: BTreeMap<Rule, Vec<String>> = BTreeMap::new();
    let mut kept = Vec::new();
    for mut r in rules {
        if matches!(field, Field::Names) && r.resource_names.is_empty() {
            kept.push(r);
            continue;
        }
        let values = std::mem::take(field_mut(&mut r, field));
        groups.entry(r).or_default().extend(values);
    }
    for (mut key, values) in groups {
        *field_mut(&mut key, field) = values;
        kept.push(canonical_rule(key));
    }
    kept
}

/// Drop rules another remaining rule covers (coverage implies allowance).
fn drop_subsumed(rules: Vec<Rule>) -> Vec<Rule> {
    let mut alive = vec![true; rules.len()];
    for i in 0..rules.len() {
        let covered =
            (0..rules.len()).any(|j| j != i && alive[j] && rule_covers(&rules[j], &rules[i]));
        if covered {
            alive[i] = false;
        }
    }
    rules
        .into_iter()
        .zip(alive)
        .filter_map(|(r, a)| a.then_some(r))
        .collect()
}

fn fixpoint(mut rules: Vec<Rule>, fields: &[Field]) -> Vec<Rule> {
    loop {
        let before = rules.len();
        for &f in fields {
            rules = merge_on(rules, f);
        }
        rules = drop_subsumed(rules);
        rules.sort();
        if rules.len() == before {
            return rules;
        }
    }
}

/// Semantics-preserving compaction: splits mixed rules, drops rules that allow
/// nothing or that another rule covers, and merges rules that differ in one
/// field only (verbs, then resources, then groups, then names). The result is
/// sorted: resource rules first, then non-resource rules. It allows exactly
/// the requests the input allows.
pub fn compact(rules: &[Rule]) -> Vec<Rule> {
    let mut resource_rules = Vec::new();
    let mut url_rules = Vec::new();
    for rule in rules {
        if let Some(r) = rule.resource_part().filter(|r| !r.allows_nothing()) {
            resource_rules.push(canonical_rule(r));
        }
        if let Some(u) = rule.non_resource_part().filter(|u| !u.allows_nothing()) {
            url_rules.push(canonical_rule(u));
        }
    }
    let mut out = fixpoint(
        resource_rules,
        &[Field::Verbs, Field::Resources, Field::Groups, Field::Names],
    );
    out.extend(fixpoint(url_rules, &[Field::Verbs, Field::Urls]));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rbac::matching::{NonResourceRequest, Request, rules_allow, rules_allow_path};

    #[test]
    fn server_compact_merges_simple_rules_by_group_resource() {
        let rules = vec![
            Rule::resource(&["apps"], &["deployments"], &["create"]),
            Rule::resource(&[""], &["pods"], &["get"]),
            Rule::resource(&["apps"], &["deployments"], &["delete"]),
        ];
        assert_eq!(
            server_compact(&rules),
            vec![
                Rule::resource(&["apps"], &["deployments"], &["create", "delete"]),
                Rule::resource(&[""], &["pods"], &["get"]),
            ]
        );
    }

    #[test]
    fn server_compact_leaves_complex_rules_alone_and_first() {
        let named = Rule::resource(&[""], &["cm"], &["get"]).with_names(["a"]);
        let url = Rule::non_resource(&["/x"], &["get"]);
        let multi = Rule::resource(&["", "apps"], &["x"], &["get"]);
        let simple = Rule::resource(&[""], &["pods"], &["get"]);
        let out = server_compact(&[
            simple.clone(),
            named.clone(),
            url.clone(),
            multi.clone(),
            named.clone(),
        ]);
        assert_eq!(out, vec![named.clone(), url, multi, named, simple]);
    }

    #[test]
    fn server_compact_keeps_duplicate_verbs() {
        let r = Rule::resource(&[""], &["pods"], &["get"]);
        assert_eq!(
            server_compact(&[r.clone(), r]),
            vec![Rule::resource(&[""], &["pods"], &["get", "get"])]
        );
    }

    #[test]
    fn kubectl_compact_merges_per_single_name() {
        let rules = vec![
            Rule::resource(&[""], &["cm"], &["get"]).with_names(["a"]),
            Rule::resource(&[""], &["cm"], &["update"]).with_names(["a"]),
            Rule::resource(&[""], &["cm"], &["get"]).with_names(["b"]),
            Rule::resource(&[""], &["cm"], &["list"]),
            Rule::resource(&[""], &["cm"], &["get"]).with_names(["a", "b"]),
        ];
        assert_eq!(
            kubectl_compact(&rules),
            vec![
                Rule::resource(&[""], &["cm"], &["get"]).with_names(["a", "b"]),
                Rule::resource(&[""], &["cm"], &["get", "update"]).with_names(["a"]),
                Rule::resource(&[""], &["cm"], &["get"]).with_names(["b"]),
                Rule::resource(&[""], &["cm"], &["list"]),
            ]
        );
    }

    #[test]
    fn compact_merges_verbs_then_resources() {
        let rules = vec![
            Rule::resource(&["apps"], &["deployments"], &["get"]),
            Rule::resource(&["apps"], &["deployments"], &["list"]),
            Rule::resource(&["apps"], &["replicasets"], &["list", "get"]),
        ];
        assert_eq!(
            compact(&rules),
            vec![Rule::resource(
                &["apps"],
                &["deployments", "replicasets"],
                &["get", "list"]
            )]
        );
    }

    #[test]
    fn compact_merges_groups() {
        let rules = vec![
            Rule::resource(&["apps"], &["deployments"], &["get"]),
            Rule::resource(&["extensions"], &["deployments"], &["get"]),
        ];
        assert_eq!(
            compact(&rules),
            vec![Rule::resource(
                &["apps", "extensions"],
                &["deployments"],
                &["get"]
            )]
        );
    }

    #[test]
    fn compact_keeps_different_verb_sets_apart() {
        let rules = vec![
            Rule::resource(&[""], &["configmaps"], &["get", "list"]),
            Rule::resource(&[""], &["secrets"], &["get"]),
        ];
        assert_eq!(compact(&rules).len(), 2);
    }

    #[test]
    fn compact_drops_subsumed_and_empty_rules() {
        let rules = vec![
            Rule::resource(&[""], &["pods"], &["get"]),
            Rule::resource(&["*"], &["*"], &["*"]),
            Rule::resource(&[""], &["pods"], &[]),
            Rule::resource(&[], &["pods"], &["get"]),
            Rule::default(),
        ];
        assert_eq!(
            compact(&rules),
            vec![Rule::resource(&["*"], &["*"], &["*"])]
        );
        assert!(compact(&[]).is_empty());
    }

    #[test]
    fn compact_wildcard_lists_collapse() {
        let rules = vec![Rule::resource(
            &["apps", "*"],
            &["pods", "*"],
            &["get", "*"],
        )];
        assert_eq!(
            compact(&rules),
            vec![Rule::resource(&["*"], &["*"], &["*"])]
        );
    }

    #[test]
    fn compact_names_merge_only_with_names() {
        let rules = vec![
            Rule::resource(&[""], &["cm"], &["get"]).with_names(["a"]),
            Rule::resource(&[""], &["cm"], &["get"]).with_names(["b"]),
        ];
        assert_eq!(
            compact(&rules),
            vec![Rule::resource(&[""], &["cm"], &["get"]).with_names(["a", "b"])]
        );
        // an unnamed rule subsumes named ones instead of merging names
        let mixed = vec![
            Rule::resource(&[""], &["cm"], &["get"]).with_names(["a"]),
            Rule::resource(&[""], &["cm"], &["get"]),
        ];
        assert_eq!(
            compact(&mixed),
            vec![Rule::resource(&[""], &["cm"], &["get"])]
        );
        // a named rule is not merged into an unnamed one with other verbs
        let apart = vec![
            Rule::resource(&[""], &["cm"], &["update"]).with_names(["a"]),
            Rule::resource(&[""], &["cm"], &["get"]),
        ];
        let out = compact(&apart);
        assert_eq!(out.len(), 2);
        let q = Request::new("update", "", "cm").with_name("b");
        assert!(!rules_allow(&out, &q));
    }

    #[test]
    fn compact_splits_mixed_rules() {
        let mixed = Rule::resource(&[""], &["pods"], &["get"]).with_urls(["/metrics"]);
        assert_eq!(
            compact(&[mixed]),
            vec![
                Rule::resource(&[""], &["pods"], &["get"]),
                Rule::non_resource(&["/metrics"], &["get"])
            ]
        );
    }

    #[test]
    fn compact_url_rules() {
        let rules = vec![
            Rule::non_resource(&["/api"], &["get"]),
            Rule::non_resource(&["/apis"], &["get"]),
            Rule::non_resource(&["/api/*"], &["get"]),
            Rule::non_resource(&["/api/v1"], &["get"]),
        ];
        let out = compact(&rules);
        assert_eq!(
            out,
            vec![Rule::non_resource(&["/api", "/api/*", "/apis"], &["get"])]
        );
        for p in ["/api", "/apis", "/api/v1", "/api/x"] {
            assert!(
                rules_allow_path(&out, &NonResourceRequest::new("get", p)),
                "{p}"
            );
        }
    }

    #[test]
    fn compact_is_sorted_and_deterministic() {
        let a = vec![
            Rule::resource(&["apps"], &["deployments"], &["get"]),
            Rule::resource(&[""], &["services"], &["get", "create"]),
        ];
        let mut b = a.clone();
        b.reverse();
        assert_eq!(compact(&a), compact(&b));
        assert_eq!(compact(&a)[0].api_groups, [""]);
    }
}
