//! The least Role that allows a set of concrete requests: one rule per (API group, resource or
//! `resource/subresource`, verb), limited to the requests' object names where every request
//! of that triple named one, then compacted with [`compact`]. Requests are concrete, so no
//! wildcard can come out of it; a request that holds a `*` itself (a log can say anything) is
//! left out and returned in [`LeastRole::skipped`].

use std::collections::{BTreeMap, BTreeSet};

use crate::rbac::compact::compact;
use crate::rbac::matching::Request;
use crate::rbac::rule::Rule;

/// What [`least_role`] built.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LeastRole {
    /// The Role's rules, compacted and sorted.
    pub rules: Vec<Rule>,
    /// Requests that were not granted: a `*` or an empty verb, group part or resource.
    pub skipped: Vec<Request>,
}

/// Whether `req` can be granted by a rule that holds no wildcard.
fn grantable(req: &Request) -> bool {
    let fields = [
        req.verb.as_str(),
        req.group.as_str(),
        req.resource.as_str(),
        req.subresource.as_deref().unwrap_or(""),
    ];
    !req.verb.is_empty()
        && !req.resource.is_empty()
        && fields.iter().all(|f| !f.contains('*') && !f.contains('/'))
}

/// The least rules that allow every request in `requests` (see the module docs). A request
/// with a name asks for that object only; one without asks for every object of its kind, and
/// then the triple gets no `resourceNames`. Callers that want no names pass requests without.
pub fn least_role(requests: &[Request]) -> LeastRole {
    // (group, resource[/sub], verb) -> names, or None for "every name".
    let mut wanted: BTreeMap<(String, String, String), Option<BTreeSet<String>>> = BTreeMap::new();
    let mut skipped = Vec::new();
    for req in requests {
        if !grantable(req) {
            skipped.push(req.clone());
            continue;
        }
        let key = (req.group.clone(), req.combined_resource(), req.verb.clone());
        let name = req.name.as_deref().filter(|n| !n.is_empty());
        match (wanted.get_mut(&key), name) {
            (None, Some(n)) => {
                wanted.insert(key, Some(BTreeSet::from([n.to_string()])));
            }
            (None, None) => {
                wanted.insert(key, None);
            }
            (Some(Some(names)), Some(n)) => {
                names.insert(n.to_string());
            }
            (Some(slot), None) => *slot = None,
            (Some(None), Some(_)) => {}
        }
    }
    let rules: Vec<Rule> = wanted
        .into_iter()
        .map(|((group, resource, verb), names)| {
            Rule::new([verb])
                .with_groups([group])
                .with_resources([resource])
                .with_names(names.into_iter().flatten())
        })
        .collect();
    skipped.sort();
    skipped.dedup();
    LeastRole {
        rules: compact(&rules),
        skipped,
    }
}

/// `req` as a rule of its own (its verb, group, resource and name), for the escalation-style
/// coverage check ([`crate::rbac::covers`]).
pub fn request_rule(req: &Request) -> Rule {
    Rule::new([req.verb.as_str()])
        .with_groups([req.group.as_str()])
        .with_resources([req.combined_resource()])
        .with_names(req.name.iter().filter(|n| !n.is_empty()).cloned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rbac::covers::covers;
    use crate::rbac::matching::rules_allow;

    fn req(verb: &str, group: &str, resource: &str) -> Request {
        Request::parse(verb, group, resource)
    }

    #[test]
    fn a_pipeline_gets_exactly_what_it_used() {
        let used = vec![
            req("get", "apps", "deployments"),
            req("create", "apps", "deployments"),
            req("patch", "apps", "deployments"),
            req("watch", "apps", "deployments"),
            req("get", "", "services"),
            req("create", "", "services"),
            req("update", "apps", "deployments/scale"),
        ];
        let built = least_role(&used);
        assert!(built.skipped.is_empty());
        for r in &used {
            assert!(rules_allow(&built.rules, r), "{r}");
        }
        for not_used in [
            req("delete", "apps", "deployments"),
            req("list", "apps", "deployments"),
            req("patch", "", "services"),
            req("get", "apps", "deployments/scale"),
            req("get", "networking.k8s.io", "ingresses"),
        ] {
            assert!(!rules_allow(&built.rules, &not_used), "{not_used}");
        }
        assert!(built.rules.iter().all(|r| !r.has_wildcard()));
        let asked: Vec<Rule> = used.iter().map(request_rule).collect();
        assert_eq!(covers(&built.rules, &asked), Ok(()));
    }

    #[test]
    fn names_are_kept_only_while_every_request_named_one() {
        let named = vec![
            req("get", "", "configmaps").with_name("app"),
            req("update", "", "configmaps").with_name("app"),
            req("get", "", "configmaps").with_name("feature-flags"),
        ];
        let built = least_role(&named);
        assert!(rules_allow(
            &built.rules,
            &req("get", "", "configmaps").with_name("feature-flags")
        ));
        assert!(!rules_allow(
            &built.rules,
            &req("get", "", "configmaps").with_name("other")
        ));
        assert!(!rules_allow(
            &built.rules,
            &req("update", "", "configmaps").with_name("feature-flags")
        ));

        let mut mixed = named.clone();
        mixed.push(req("get", "", "configmaps"));
        let built = least_role(&mixed);
        assert!(rules_allow(
            &built.rules,
            &req("get", "", "configmaps").with_name("other")
        ));
        assert!(!rules_allow(
            &built.rules,
            &req("update", "", "configmaps").with_name("other")
        ));
    }

    #[test]
    fn wildcards_in_requests_are_never_granted() {
        let built = least_role(&[
            req("*", "apps", "deployments"),
            req("get", "*", "deployments"),
            req("get", "apps", "*"),
            req("get", "", "pods/*"),
            req("", "", "pods"),
            req("get", "", "pods"),
        ]);
        assert_eq!(built.skipped.len(), 5, "{:?}", built.skipped);
        assert_eq!(
            built.rules,
            vec![Rule::resource(&[""], &["pods"], &["get"])]
        );
    }

    #[test]
    fn nothing_in_gives_nothing_out() {
        assert_eq!(least_role(&[]), LeastRole::default());
    }
}
