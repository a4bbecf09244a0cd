//! Property tests across modules. Every check walks a whole universe of
//! requests built from the same small alphabets the rules are drawn from, so
//! wildcards, `*/sub`, names and URL prefixes meet each other often.

use crate::rbac::builder::{Selection, build_role};
use crate::rbac::compact::{compact, kubectl_compact, server_compact};
use crate::rbac::covers::covers;
use crate::rbac::kinds::ServedKind;
use crate::rbac::least::{least_role, request_rule};
use crate::rbac::matching::{NonResourceRequest, Request, rules_allow, rules_allow_path};
use crate::rbac::rule::Rule;
use crate::rbac::verify::{review_shape, verify};
use proptest::prelude::*;

const VERBS: &[&str] = &["get", "list", "create", "*"];
const GROUPS: &[&str] = &["", "apps", "*"];
const RESOURCES: &[&str] = &[
    "pods",
    "pods/exec",
    "deployments",
    "deployments/scale",
    "secrets",
    "*",
    "*/scale",
    "*/exec",
];
const NAMES: &[&str] = &["a", "b"];
const URLS: &[&str] = &["/api", "/api/*", "/apis", "/healthz", "*", "/a*", "/ab*"];

fn list(alphabet: &'static [&'static str], max: usize) -> impl Strategy<Value = Vec<String>> {
    prop::collection::vec(
        prop::sample::select(alphabet).prop_map(str::to_string),
        0..=max,
    )
}

fn rule() -> impl Strategy<Value = Rule> {
    (
        list(VERBS, 3),
        list(GROUPS, 2),
        list(RESOURCES, 3),
        list(NAMES, 2),
        list(URLS, 2),
    )
        .prop_map(
            |(verbs, api_groups, resources, resource_names, non_resource_urls)| Rule {
                verbs,
                api_groups,
                resources,
                resource_names,
                non_resource_urls,
            },
        )
}

fn rules() -> impl Strategy<Value = Vec<Rule>> {
    prop::collection::vec(rule(), 0..5)
}

/// Every resource request over the alphabets (and a few values no rule names).
fn resource_requests() -> Vec<Request> {
    let mut out = Vec::new();
    for verb in ["get", "list", "create", "delete", "*", "escalate"] {
        for group in ["", "apps", "*", "x"] {
            for base in ["pods", "deployments", "secrets", "*"] {
                for sub in [None, Some("exec"), Some("scale")] {
                    for name in [None, Some("a"), Some("b"), Some("c")] {
                        let mut r = Request::new(verb, group, base);
                        r.subresource = sub.map(str::to_string);
                        r.name = name.map(str::to_string);
                        out.push(r);
                    }
                }
            }
        }
    }
    out
}

fn path_requests() -> Vec<NonResourceRequest> {
    let mut out = Vec::new();
    for verb in ["get", "list", "create", "*", "post"] {
        for path in [
            "/api", "/api/v1", "/api/", "/apis", "/healthz", "/a", "/abc", "/b", "*", "/",
        ] {
            out.push(NonResourceRequest::new(verb, path));
        }
    }
    out
}

/// A rule set whose rules take subsets of the fields of `a`'s rules.
fn derived(a: &[Rule], seeds: &[u64]) -> Vec<Rule> {
    if a.is_empty() {
        return Vec::new();
    }
    seeds
        .iter()
        .enumerate()
        .map(|(i, seed)| {
            let r = &a[i % a.len()];
            let pick = |field: &[String], shift: u32| -> Vec<String> {
                field
                    .iter()
                    .enumerate()
                    .filter(|(j, _)| (seed >> (shift + *j as u32)) & 1 == 1)
                    .map(|(_, v)| v.clone())
                    .collect()
            };
            Rule {
                verbs: pick(&r.verbs, 0),
                api_groups: pick(&r.api_groups, 8),
                resources: pick(&r.resources, 16),
                resource_names: pick(&r.resource_names, 24),
                non_resource_urls: pick(&r.non_resource_urls, 32),
            }
        })
        .collect()
}

fn assert_covered_implies_allowed(a: &[Rule], b: &[Rule]) -> Result<(), TestCaseError> {
    if covers(a, b).is_ok() {
        for req in resource_requests() {
            if rules_allow(b, &req) {
                prop_assert!(
                    rules_allow(a, &req),
                    "covers({a:?}, {b:?}) but {req} allowed only by b"
                );
            }
        }
        for req in path_requests() {
            if rules_allow_path(b, &req) {
                prop_assert!(
                    rules_allow_path(a, &req),
                    "covers({a:?}, {b:?}) but {req:?} allowed only by b"
                );
            }
        }
    }
    Ok(())
}

fn assert_same_allowance(x: &[Rule], y: &[Rule]) -> Result<(), TestCaseError> {
    for req in resource_requests() {
        prop_assert_eq!(
            rules_allow(x, &req),
            rules_allow(y, &req),
            "{} with {:?} vs {:?}",
            req,
            x,
            y
        );
    }
    for req in path_requests() {
        prop_assert_eq!(
            rules_allow_path(x, &req),
            rules_allow_path(y, &req),
            "{:?} with {:?} vs {:?}",
            req,
            x,
            y
        );
    }
    Ok(())
}

const KIND_GROUPS: &[&str] = &["", "apps", "*", "a*b"];
const KIND_RESOURCES: &[&str] = &["pods", "deployments", "*", "*/scale", "pods/log"];
const KIND_VERBS: &[&str] = &[
    "get", "list", "watch", "create", "delete", "*", "escalate", "bind",
];

fn selection() -> impl Strategy<Value = Selection> {
    (
        prop::sample::select(KIND_GROUPS),
        prop::sample::select(KIND_RESOURCES),
        any::<bool>(),
        list(KIND_VERBS, 5),
        prop::option::of(list(KIND_VERBS, 5)),
    )
        .prop_map(|(group, resource, namespaced, served, wanted)| Selection {
            kind: ServedKind {
                group: group.to_string(),
                version: "v1".to_string(),
                resource: resource.to_string(),
                kind: "Thing".to_string(),
                namespaced,
                verbs: served,
                ..ServedKind::default()
            },
            verbs: wanted,
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Whatever `covers(a, b)` accepts, every request b allows is allowed by a.
    #[test]
    fn covers_is_sound(a in rules(), b in rules()) {
        assert_covered_implies_allowed(&a, &b)?;
    }

    /// Same, with b made of pieces of a, so that covers accepts often.
    #[test]
    fn covers_is_sound_for_sub_rule_sets(a in rules(), seeds in prop::collection::vec(any::<u64>(), 0..5)) {
        let b = derived(&a, &seeds);
        assert_covered_implies_allowed(&a, &b)?;
    }

    /// A rule set in review shape always covers itself (see the server quirk
    /// tested in `covers`: names next to URLs).
    #[test]
    fn covers_is_reflexive(a in rules()) {
        let a = review_shape(&a);
        prop_assert_eq!(covers(&a, &a), Ok(()));
    }

    /// `compact` never changes what a rule set allows.
    #[test]
    fn compact_preserves_allowance(x in rules()) {
        let c = compact(&x);
        assert_same_allowance(&x, &c)?;
    }

    /// The compacted set still covers the original (so it can stand in for it
    /// in an escalation pre-check), and compacting twice changes nothing more.
    #[test]
    fn compact_covers_original_and_settles(x in rules()) {
        let c = compact(&x);
        prop_assert_eq!(covers(&c, &x), Ok(()));
        assert_same_allowance(&c, &compact(&c))?;
        prop_assert!(c.len() <= x.len() * 2);
    }

    /// The server's and kubectl's compactions only merge verbs: same allowance.
    #[test]
    fn go_compactions_preserve_allowance(x in rules()) {
        let broken: Vec<Rule> = x.iter().flat_map(crate::rbac::covers::breakdown).collect();
        assert_same_allowance(&x, &broken)?;
        assert_same_allowance(&broken, &server_compact(&broken))?;
        assert_same_allowance(&broken, &kubectl_compact(&broken))?;
    }

    /// The missing rules covers() reports are exactly what keeps it from passing:
    /// adding them to the owner makes covers() pass.
    #[test]
    fn missing_rules_complete_the_owner(a in rules(), b in rules()) {
        if let Err(missing) = covers(&a, &b) {
            prop_assert!(!missing.is_empty());
            let mut owner = a.clone();
            owner.extend(missing);
            prop_assert_eq!(covers(&owner, &b), Ok(()));
        }
    }

    /// The role builder never grants a wildcard, and grants only served verbs
    /// of namespaced kinds; the result does not depend on the order of choices.
    #[test]
    fn builder_never_grants_wildcards(sels in prop::collection::vec(selection(), 0..6)) {
        let built = build_role(&sels);
        for rule in &built.rules {
            for field in [&rule.verbs, &rule.api_groups, &rule.resources, &rule.resource_names, &rule.non_resource_urls] {
                prop_assert!(field.iter().all(|s| !s.contains('*')), "{:?}", rule);
            }
            prop_assert!(!rule.has_wildcard());
            prop_assert_eq!(rule.api_groups.len(), 1);
            prop_assert!(rule.resource_names.is_empty() && rule.non_resource_urls.is_empty());
            for resource in &rule.resources {
                for verb in &rule.verbs {
                    let served = sels.iter().any(|s| {
                        s.kind.namespaced && s.kind.is(&rule.api_groups[0], resource) && s.kind.serves(verb)
                    });
                    prop_assert!(served, "{} {} granted but not served", verb, resource);
                }
            }
        }
        let mut reversed = sels.clone();
        reversed.reverse();
        prop_assert_eq!(build_role(&reversed), built);
    }

    /// Verifying a rule set against itself always passes.
    #[test]
    fn verify_identity_passes(x in rules()) {
        let v = verify(&x, &x);
        prop_assert!(v.passed(), "{:?}", v);
        prop_assert!(v.extra.is_empty());
    }

    /// The least Role of any set of logged requests allows every one of them (by request
    /// matching and by the server's coverage check), holds no wildcard, and grants no verb on
    /// a resource that no request used; no name the requests did not use either.
    #[test]
    fn least_role_covers_every_request_and_grants_nothing_unused(
        requests in prop::collection::vec(logged_request(), 0..24)
    ) {
        let built = least_role(&requests);
        prop_assert!(built.skipped.is_empty(), "{:?}", built.skipped);
        for req in &requests {
            prop_assert!(rules_allow(&built.rules, req), "{} not allowed by {:?}", req, built.rules);
        }
        let asked: Vec<Rule> = requests.iter().map(request_rule).collect();
        prop_assert_eq!(covers(&built.rules, &asked), Ok(()));
        for rule in &built.rules {
            prop_assert!(!rule.has_wildcard(), "{:?}", rule);
            prop_assert!(rule.non_resource_urls.is_empty(), "{:?}", rule);
        }
        for probe in logged_universe() {
            if rules_allow(&built.rules, &probe) {
                let same_verb_and_resource = |r: &&Request| {
                    r.verb == probe.verb && r.group == probe.group
                        && r.combined_resource() == probe.combined_resource()
                };
                prop_assert!(
                    requests.iter().any(|r| same_verb_and_resource(&r)),
                    "{} allowed, but no request used that verb on that resource", probe
                );
                let named_as_asked = requests
                    .iter()
                    .filter(same_verb_and_resource)
                    .any(|r| r.name.is_none() || r.name == probe.name);
                prop_assert!(named_as_asked, "{} allowed, but no request named that object", probe);
            }
        }
    }

}

const LOG_VERBS: &[&str] = &[
    "get", "list", "watch", "create", "update", "patch", "delete",
];
const LOG_KINDS: &[(&str, &str, Option<&str>)] = &[
    ("", "pods", None),
    ("", "pods", Some("log")),
    ("", "configmaps", None),
    ("apps", "deployments", None),
    ("apps", "deployments", Some("scale")),
    ("networking.k8s.io", "ingresses", None),
];
const LOG_NAMES: &[&str] = &["web", "api"];

/// A concrete request as an audit log records one: a verb, a kind, maybe a name.
fn logged_request() -> impl Strategy<Value = Request> {
    (
        prop::sample::select(LOG_VERBS),
        prop::sample::select(LOG_KINDS),
        prop::option::of(prop::sample::select(LOG_NAMES)),
    )
        .prop_map(|(verb, (group, resource, sub), name)| {
            let mut r = Request::new(verb, group, resource);
            r.subresource = sub.map(str::to_string);
            r.name = name.map(str::to_string);
            r
        })
}

/// Every request over the log alphabets, with names no request uses.
fn logged_universe() -> Vec<Request> {
    let mut out = Vec::new();
    for verb in LOG_VERBS.iter().chain(&["deletecollection", "escalate"]) {
        for (group, resource, sub) in LOG_KINDS.iter().chain(&[("", "secrets", None)]) {
            for name in [None, Some("web"), Some("api"), Some("other")] {
                let mut r = Request::new(verb, group, resource);
                r.subresource = sub.map(str::to_string);
                r.name = name.map(str::to_string);
                out.push(r);
            }
        }
    }
    out
}
