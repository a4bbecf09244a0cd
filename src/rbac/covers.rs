//! The server's privilege-escalation check, so the plugin can predict the
//! "attempting to grant RBAC permissions not currently held" error before it
//! writes a Role or RoleBinding.
//!
//! * [`breakdown`] / [`uncovered`]: `BreakdownRule` and `Covers` from
//!   `staging/src/k8s.io/component-helpers/auth/rbac/validation/policy_comparator.go`.
//!   Coverage is *not* request matching: a literal `*` in a requested rule is
//!   covered only by `*`, and an owner rule with `resourceNames` never covers a
//!   requested rule without names.
//! * [`covers`]: the uncovered tuples compacted with the server's
//!   `CompactRules` (`pkg/registry/rbac/validation/policy_compact.go`), then
//!   deduplicated and sorted by their `CompactString`, which is how
//!   `ConfirmNoEscalation` (`pkg/registry/rbac/validation/rule.go`) lists them.
//! * [`not_held_message`], [`forbidden_message`]: the error text.

use crate::rbac::compact::server_compact;
use crate::rbac::gofmt::{compact_string, go_quote, go_quote_list};
use crate::rbac::rule::{Rule, WILDCARD};

/// `BreakdownRule`: one rule per (group, resource, verb[, name]) and per
/// (URL, verb), in the server's loop order (groups, then resources, then verbs,
/// then names; URLs after).
pub fn breakdown(rule: &Rule) -> Vec<Rule> {
    let mut out = Vec::new();
    for group in &rule.api_groups {
        for resource in &rule.resources {
            for verb in &rule.verbs {
                let base = Rule::new([verb.as_str()])
                    .with_groups([group.as_str()])
                    .with_resources([resource.as_str()]);
                if rule.resource_names.is_empty() {
                    out.push(base);
                } else {
                    for name in &rule.resource_names {
                        out.push(base.clone().with_names([name.as_str()]));
                    }
                }
            }
        }
    }
    for url in &rule.non_resource_urls {
        for verb in &rule.verbs {
            out.push(Rule::new([verb.as_str()]).with_urls([url.as_str()]));
        }
    }
    out
}

fn has(set: &[String], item: &str) -> bool {
    set.iter().any(|s| s == item)
}

fn has_all(set: &[String], items: &[String]) -> bool {
    items.iter().all(|i| has(set, i))
}

/// `resourceCoversAll`.
fn resource_covers_all(owner: &[String], wanted: &[String]) -> bool {
    if has(owner, WILDCARD) || has_all(owner, wanted) {
        return true;
    }
    wanted.iter().all(|path| {
        if has(owner, path) {
            return true;
        }
        match path.split_once('/') {
            Some((_, sub)) => has(owner, &format!("*/{sub}")),
            None => false,
        }
    })
}

/// `nonResourceURLCovers`.
fn url_covers(owner: &str, wanted: &str) -> bool {
    owner == wanted || (owner.ends_with('*') && wanted.starts_with(owner.trim_end_matches('*')))
}

/// `nonResourceURLsCoversAll`.
fn urls_cover_all(owner: &[String], wanted: &[String]) -> bool {
    wanted
        .iter()
        .all(|w| owner.iter().any(|o| url_covers(o, w)))
}

/// `ruleCovers`: does `owner` cover `sub` (a rule from [`breakdown`])?
pub fn rule_covers(owner: &Rule, sub: &Rule) -> bool {
    let verbs = has(&owner.verbs, WILDCARD) || has_all(&owner.verbs, &sub.verbs);
    let groups = has(&owner.api_groups, WILDCARD) || has_all(&owner.api_groups, &sub.api_groups);
    let resources = resource_covers_all(&owner.resources, &sub.resources);
    let urls = urls_cover_all(&owner.non_resource_urls, &sub.non_resource_urls);
    let names = if sub.resource_names.is_empty() {
        owner.resource_names.is_empty()
    } else {
        owner.resource_names.is_empty() || has_all(&owner.resource_names, &sub.resource_names)
    };
    verbs && groups && resources && names && urls
}

/// True when some owner rule covers the broken-down rule `sub`.
pub fn any_covers(owner: &[Rule], sub: &Rule) -> bool {
    owner.iter().any(|o| rule_covers(o, sub))
}

/// `Covers` without the compaction: every broken-down requested tuple that no
/// owner rule covers, in the server's order (duplicates kept).
pub fn uncovered(owner: &[Rule], requested: &[Rule]) -> Vec<Rule> {
    requested
        .iter()
        .flat_map(breakdown)
        .filter(|sub| !any_covers(owner, sub))
        .collect()
}

/// Whether `owner` may grant `requested` without the `escalate` / `bind`
/// verbs. On failure: the missing rules exactly as the server's escalation
/// error lists them (one per line of the message, sorted, deduplicated).
pub fn covers(owner: &[Rule], requested: &[Rule]) -> Result<(), Vec<Rule>> {
    let missing = uncovered(owner, requested);
    if missing.is_empty() {
        return Ok(());
    }
    let mut compacted: Vec<(String, Rule)> = server_compact(&missing)
        .into_iter()
        .map(|r| (compact_string(&r), r))
        .collect();
    compacted.sort_by(|a, b| a.0.cmp(&b.0));
    compacted.dedup_by(|a, b| a.0 == b.0);
    Err(compacted.into_iter().map(|(_, r)| r).collect())
}

/// The escalation error's text (`ConfirmNoEscalation`):
/// `user "alice" (groups=["devs" "system:authenticated"]) is attempting to grant RBAC permissions not currently held:`
/// followed by one `CompactString` per line. Pass the rules [`covers`] returned.
pub fn not_held_message(user: &str, groups: &[String], missing: &[Rule]) -> String {
    let lines: Vec<String> = missing.iter().map(compact_string).collect();
    format!(
        "user {} (groups={}) is attempting to grant RBAC permissions not currently held:\n{}",
        go_quote(user),
        go_quote_list(groups),
        lines.join("\n")
    )
}

/// The Forbidden status message (`errors.NewForbidden`):
/// `roles.rbac.authorization.k8s.io "ci-cd" is forbidden: <cause>`.
/// `group_resource` is e.g. `roles.rbac.authorization.k8s.io`; an empty name
/// gives `<resource> is forbidden: <cause>`.
pub fn forbidden_message(group_resource: &str, name: &str, cause: &str) -> String {
    match (group_resource.is_empty(), name.is_empty()) {
        (true, _) => format!("forbidden: {cause}"),
        (false, true) => format!("{group_resource} is forbidden: {cause}"),
        (false, false) => format!("{group_resource} {} is forbidden: {cause}", go_quote(name)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn breakdown_orders_like_the_server() {
        let r = Rule::resource(&["", "apps"], &["a", "b"], &["get", "list"]);
        let got: Vec<String> = breakdown(&r).iter().map(compact_string).collect();
        assert_eq!(
            got,
            [
                r#"{APIGroups:[""], Resources:["a"], Verbs:["get"]}"#,
                r#"{APIGroups:[""], Resources:["a"], Verbs:["list"]}"#,
                r#"{APIGroups:[""], Resources:["b"], Verbs:["get"]}"#,
                r#"{APIGroups:[""], Resources:["b"], Verbs:["list"]}"#,
                r#"{APIGroups:["apps"], Resources:["a"], Verbs:["get"]}"#,
                r#"{APIGroups:["apps"], Resources:["a"], Verbs:["list"]}"#,
                r#"{APIGroups:["apps"], Resources:["b"], Verbs:["get"]}"#,
                r#"{APIGroups:["apps"], Resources:["b"], Verbs:["list"]}"#,
            ]
        );
    }

    #[test]
    fn breakdown_names_and_urls() {
        let r = Rule::resource(&[""], &["cm"], &["get"])
            .with_names(["x", "y"])
            .with_urls(["/a"]);
        let got = breakdown(&r);
        assert_eq!(
            got,
            vec![
                Rule::resource(&[""], &["cm"], &["get"]).with_names(["x"]),
                Rule::resource(&[""], &["cm"], &["get"]).with_names(["y"]),
                Rule::non_resource(&["/a"], &["get"]),
            ]
        );
        assert!(breakdown(&Rule::resource(&[], &["x"], &["get"])).is_empty());
        assert!(breakdown(&Rule::resource(&[""], &["x"], &[])).is_empty());
    }

    #[test]
    fn covers_exact_and_superset() {
        let owner = vec![Rule::resource(
            &["apps"],
            &["deployments", "replicasets"],
            &["get", "list", "create"],
        )];
        assert_eq!(
            covers(
                &owner,
                &[Rule::resource(&["apps"], &["deployments"], &["get"])]
            ),
            Ok(())
        );
        assert_eq!(covers(&owner, &owner), Ok(()));
        assert_eq!(covers(&owner, &[]), Ok(()));
    }

    #[test]
    fn covers_reports_missing_compacted_and_sorted() {
        let owner = vec![Rule::resource(
            &["apps"],
            &["deployments"],
            &["get", "list"],
        )];
        let requested = vec![
            Rule::resource(&["apps"], &["deployments"], &["create", "delete", "get"]),
            Rule::resource(&[""], &["secrets"], &["get"]),
        ];
        let missing = covers(&owner, &requested).unwrap_err();
        let lines: Vec<String> = missing.iter().map(compact_string).collect();
        assert_eq!(
            lines,
            [
                r#"{APIGroups:[""], Resources:["secrets"], Verbs:["get"]}"#,
                r#"{APIGroups:["apps"], Resources:["deployments"], Verbs:["create" "delete"]}"#,
            ]
        );
    }

    #[test]
    fn compacted_verbs_keep_the_requested_order() {
        // the server appends verbs in breakdown order: no sorting
        let missing = covers(
            &[],
            &[Rule::resource(
                &[""],
                &["pods"],
                &["watch", "get", "create"],
            )],
        )
        .unwrap_err();
        assert_eq!(
            missing,
            vec![Rule::resource(
                &[""],
                &["pods"],
                &["watch", "get", "create"]
            )]
        );
    }

    #[test]
    fn duplicated_requests_show_duplicated_verbs() {
        // two requested rules both asking for get pods: CompactRules appends twice
        let r = Rule::resource(&[""], &["pods"], &["get"]);
        let missing = covers(&[], &[r.clone(), r]).unwrap_err();
        assert_eq!(
            compact_string(&missing[0]),
            r#"{APIGroups:[""], Resources:["pods"], Verbs:["get" "get"]}"#
        );
    }

    #[test]
    fn named_missing_rules_stay_separate() {
        let requested =
            vec![Rule::resource(&[""], &["configmaps"], &["get", "update"]).with_names(["a", "b"])];
        let missing = covers(&[], &requested).unwrap_err();
        let lines: Vec<String> = missing.iter().map(compact_string).collect();
        assert_eq!(
            lines,
            [
                r#"{APIGroups:[""], Resources:["configmaps"], ResourceNames:["a"], Verbs:["get"]}"#,
                r#"{APIGroups:[""], Resources:["configmaps"], ResourceNames:["a"], Verbs:["update"]}"#,
                r#"{APIGroups:[""], Resources:["configmaps"], ResourceNames:["b"], Verbs:["get"]}"#,
                r#"{APIGroups:[""], Resources:["configmaps"], ResourceNames:["b"], Verbs:["update"]}"#,
            ]
        );
    }

    #[test]
    fn identical_named_lines_are_deduplicated() {
        let r = Rule::resource(&[""], &["configmaps"], &["get"]).with_names(["a"]);
        let missing = covers(&[], &[r.clone(), r]).unwrap_err();
        assert_eq!(missing.len(), 1);
    }

    #[test]
    fn wildcards_in_the_owner_cover_everything_of_their_field() {
        let owner = vec![Rule::resource(&["*"], &["*"], &["*"])];
        let requested = vec![
            Rule::resource(&["apps"], &["deployments/scale"], &["update"]),
            Rule::resource(&["*"], &["*"], &["*"]),
            Rule::resource(&[""], &["secrets"], &["get"]).with_names(["x"]),
        ];
        assert_eq!(covers(&owner, &requested), Ok(()));
    }

    #[test]
    fn literal_wildcard_requested_needs_a_wildcard_owner() {
        let owner = vec![Rule::resource(
            &["apps"],
            &["deployments"],
            &[
                "get",
                "list",
                "watch",
                "create",
                "update",
                "patch",
                "delete",
                "deletecollection",
            ],
        )];
        let missing = covers(
            &owner,
            &[Rule::resource(&["apps"], &["deployments"], &["*"])],
        )
        .unwrap_err();
        assert_eq!(
            missing,
            vec![Rule::resource(&["apps"], &["deployments"], &["*"])]
        );
        assert!(
            covers(
                &owner,
                &[Rule::resource(&["*"], &["deployments"], &["get"])]
            )
            .is_err()
        );
        assert!(covers(&owner, &[Rule::resource(&["apps"], &["*"], &["get"])]).is_err());
    }

    #[test]
    fn star_slash_sub_owner_covers_concrete_subresources() {
        let owner = vec![Rule::resource(&["apps"], &["*/scale"], &["update"])];
        assert_eq!(
            covers(
                &owner,
                &[Rule::resource(
                    &["apps"],
                    &["deployments/scale"],
                    &["update"]
                )]
            ),
            Ok(())
        );
        assert_eq!(
            covers(
                &owner,
                &[Rule::resource(&["apps"], &["*/scale"], &["update"])]
            ),
            Ok(())
        );
        assert!(
            covers(
                &owner,
                &[Rule::resource(&["apps"], &["deployments"], &["update"])]
            )
            .is_err()
        );
        assert!(
            covers(
                &owner,
                &[Rule::resource(
                    &["apps"],
                    &["deployments/status"],
                    &["update"]
                )]
            )
            .is_err()
        );
    }

    #[test]
    fn plain_owner_resource_does_not_cover_subresource() {
        let owner = vec![Rule::resource(&[""], &["pods"], &["create"])];
        assert!(
            covers(
                &owner,
                &[Rule::resource(&[""], &["pods/exec"], &["create"])]
            )
            .is_err()
        );
    }

    #[test]
    fn resource_names_coverage() {
        let named_owner =
            vec![Rule::resource(&[""], &["secrets"], &["get"]).with_names(["a", "b"])];
        // owner with names does not cover a request without names
        assert!(
            covers(
                &named_owner,
                &[Rule::resource(&[""], &["secrets"], &["get"])]
            )
            .is_err()
        );
        // covers a subset of its names
        assert_eq!(
            covers(
                &named_owner,
                &[Rule::resource(&[""], &["secrets"], &["get"]).with_names(["a"])]
            ),
            Ok(())
        );
        assert!(
            covers(
                &named_owner,
                &[Rule::resource(&[""], &["secrets"], &["get"]).with_names(["c"])]
            )
            .is_err()
        );
        // an owner without names covers any named request
        let any = vec![Rule::resource(&[""], &["secrets"], &["get"])];
        assert_eq!(
            covers(
                &any,
                &[Rule::resource(&[""], &["secrets"], &["get"]).with_names(["z"])]
            ),
            Ok(())
        );
    }

    #[test]
    fn non_resource_coverage() {
        let owner = vec![Rule::non_resource(&["/api/*", "/healthz"], &["get"])];
        assert_eq!(
            covers(
                &owner,
                &[Rule::non_resource(&["/api/v1", "/healthz"], &["get"])]
            ),
            Ok(())
        );
        assert_eq!(
            covers(&owner, &[Rule::non_resource(&["/api/*"], &["get"])]),
            Ok(())
        );
        assert!(covers(&owner, &[Rule::non_resource(&["/api"], &["get"])]).is_err());
        assert!(covers(&owner, &[Rule::non_resource(&["/healthz"], &["post"])]).is_err());
        assert!(covers(&owner, &[Rule::non_resource(&["*"], &["get"])]).is_err());
        let all = vec![Rule::non_resource(&["*"], &["*"])];
        assert_eq!(
            covers(&all, &[Rule::non_resource(&["*"], &["get"])]),
            Ok(())
        );
        // a resource owner never covers URLs, and vice versa
        let res_owner = vec![Rule::resource(&["*"], &["*"], &["*"])];
        assert!(covers(&res_owner, &[Rule::non_resource(&["/healthz"], &["get"])]).is_err());
        assert!(covers(&all, &[Rule::resource(&[""], &["pods"], &["get"])]).is_err());
    }

    #[test]
    fn non_resource_missing_lines() {
        let missing = covers(&[], &[Rule::non_resource(&["/b", "/a"], &["get"])]).unwrap_err();
        let lines: Vec<String> = missing.iter().map(compact_string).collect();
        assert_eq!(
            lines,
            [
                r#"{NonResourceURLs:["/a"], Verbs:["get"]}"#,
                r#"{NonResourceURLs:["/b"], Verbs:["get"]}"#
            ]
        );
    }

    #[test]
    fn server_quirk_named_owner_never_covers_its_urls() {
        // ruleCovers demands an owner without resourceNames for a sub-rule without
        // names, and URL sub-rules never carry names: so a rule that lists names
        // next to URLs does not cover itself. Kept, since the server does the same.
        let r = Rule::non_resource(&["/metrics"], &["get"]).with_names(["a"]);
        assert!(covers(std::slice::from_ref(&r), std::slice::from_ref(&r)).is_err());
        let split = Rule::non_resource(&["/metrics"], &["get"]);
        assert_eq!(covers(&[split], &[r]), Ok(()));
    }

    #[test]
    fn union_of_owner_rules_covers_piecewise() {
        let owner = vec![
            Rule::resource(&["apps"], &["deployments"], &["get"]),
            Rule::resource(&["apps"], &["deployments"], &["list"]),
        ];
        assert_eq!(
            covers(
                &owner,
                &[Rule::resource(
                    &["apps"],
                    &["deployments"],
                    &["get", "list"]
                )]
            ),
            Ok(())
        );
    }

    #[test]
    fn uncovered_keeps_every_tuple() {
        let got = uncovered(&[], &[Rule::resource(&[""], &["pods"], &["get", "get"])]);
        assert_eq!(got.len(), 2);
    }

    #[test]
    fn message_matches_the_spec_example() {
        let missing = covers(&[], &[Rule::resource(&[""], &["secrets"], &["get"])]).unwrap_err();
        let cause = not_held_message("alice", &s(&["devs", "system:authenticated"]), &missing);
        let msg = forbidden_message("roles.rbac.authorization.k8s.io", "ci-cd", &cause);
        assert_eq!(
            msg,
            "roles.rbac.authorization.k8s.io \"ci-cd\" is forbidden: user \"alice\" (groups=[\"devs\" \"system:authenticated\"]) is attempting to grant RBAC permissions not currently held:\n{APIGroups:[\"\"], Resources:[\"secrets\"], Verbs:[\"get\"]}"
        );
    }

    #[test]
    fn message_with_no_groups_and_several_lines() {
        let missing = covers(
            &[],
            &[
                Rule::resource(&["apps"], &["deployments"], &["create", "delete"]),
                Rule::resource(&[""], &["pods"], &["get"]),
            ],
        )
        .unwrap_err();
        let cause = not_held_message("system:serviceaccount:ci:deployer", &[], &missing);
        assert_eq!(
            cause,
            "user \"system:serviceaccount:ci:deployer\" (groups=[]) is attempting to grant RBAC permissions not currently held:\n{APIGroups:[\"\"], Resources:[\"pods\"], Verbs:[\"get\"]}\n{APIGroups:[\"apps\"], Resources:[\"deployments\"], Verbs:[\"create\" \"delete\"]}"
        );
    }

    #[test]
    fn forbidden_message_variants() {
        assert_eq!(
            forbidden_message("rolebindings.rbac.authorization.k8s.io", "", "x"),
            "rolebindings.rbac.authorization.k8s.io is forbidden: x"
        );
        assert_eq!(forbidden_message("", "n", "x"), "forbidden: x");
    }
}
