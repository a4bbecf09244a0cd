//! Resource names as people type them, resolved against discovery as kubectl resolves them:
//! `deployments`, `deployment`, `Deployment`, `deploy`, `deployments.apps`,
//! `deployments.v1.apps`, `prometheusrules.monitoring.coreos.com`.
//!
//! Matching is case-insensitive. A bare name is tried as a plural, then as a singular or kind,
//! then as a short name; the first of those that matches anything decides. A name served by
//! several groups resolves to the core group if one of them is core (as kubectl's priority
//! does: `events`), and is otherwise ambiguous: the caller must qualify it.

use std::fmt;

use super::kinds::ServedKind;

/// Why a name did not resolve to exactly one kind.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KindLookupError {
    Empty,
    /// Nothing by that name; `suggestions` are close names (qualified).
    Unknown {
        name: String,
        suggestions: Vec<String>,
    },
    /// Several groups serve it; `candidates` are the qualified names to choose from.
    Ambiguous {
        name: String,
        candidates: Vec<String>,
    },
    /// The name resolves, but to a cluster-scoped kind a Role cannot grant.
    ClusterScoped {
        name: String,
        qualified: String,
        kind: String,
    },
    /// `resource.version.group` with a version the group does not serve it in.
    VersionNotServed {
        name: String,
        qualified: String,
        version: String,
    },
    /// `kind/sub` where the kind does not serve that subresource.
    SubresourceNotServed {
        name: String,
        qualified: String,
        served: Vec<String>,
    },
    /// `kind/sub` for a served subresource a Role made by kubectl-cicd does not grant.
    SubresourceNotGranted {
        name: String,
        qualified: String,
    },
}

impl fmt::Display for KindLookupError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KindLookupError::Empty => f.write_str(
                "an empty resource name was given: name a resource such as deployments.apps",
            ),
            KindLookupError::Unknown { name, suggestions } => {
                write!(f, "the server doesn't have a resource type \"{name}\"")?;
                match suggestions.as_slice() {
                    [] => f.write_str(
                        ": run `kubectl api-resources --namespaced=true` to see what it serves",
                    ),
                    [one] => write!(f, ": did you mean {one}?"),
                    many => write!(f, ": did you mean one of {}?", many.join(", ")),
                }
            }
            KindLookupError::Ambiguous { name, candidates } => write!(
                f,
                "\"{name}\" is ambiguous: it is served as {}. Give the one you mean with its group, e.g. {}",
                candidates.join(", "),
                candidates
                    .first()
                    .map(String::as_str)
                    .unwrap_or("resource.group")
            ),
            KindLookupError::ClusterScoped {
                name,
                qualified,
                kind,
            } => write!(
                f,
                "\"{name}\" is {qualified} ({kind}), which is cluster-scoped: a Role grants access only inside its namespace, \
                 so it cannot include it. Leave it out (cluster-wide access for a pipeline needs a ClusterRole, which kubectl-cicd does not create)"
            ),
            KindLookupError::VersionNotServed {
                name,
                qualified,
                version,
            } => write!(
                f,
                "\"{name}\": the server serves {qualified} in version {version}, not in the one given. \
                 RBAC rules do not name versions: write {qualified}"
            ),
            KindLookupError::SubresourceNotServed {
                name,
                qualified,
                served,
            } => {
                write!(f, "the server doesn't serve \"{name}\": {qualified} has ")?;
                let grantable: Vec<String> = served
                    .iter()
                    .filter(|s| grantable_subresource(s))
                    .map(|s| format!("{qualified}/{s}"))
                    .collect();
                match grantable.as_slice() {
                    [] => f.write_str("no subresource kubectl-cicd grants (scale, status)"),
                    some => write!(f, "{}", some.join(", ")),
                }
            }
            KindLookupError::SubresourceNotGranted { name, qualified } => write!(
                f,
                "\"{name}\" is {qualified}, a subresource kubectl-cicd does not grant: it grants \
                 only the scale subresource (kubectl scale) and status, read-only"
            ),
        }
    }
}

fn grantable_subresource(sub: &str) -> bool {
    super::kinds::GRANTABLE_SUBRESOURCES
        .iter()
        .any(|(name, _)| *name == sub)
}

/// Resolves a name to a namespaced kind a Role can grant, or, written `kind/sub`
/// (`deployments.apps/scale`, `deploy/scale`), to one of its subresources kubectl-cicd grants
/// ([`super::kinds::GRANTABLE_SUBRESOURCES`]).
pub fn resolve_grantable_kind(
    name: &str,
    kinds: &[ServedKind],
) -> Result<ServedKind, KindLookupError> {
    let given = name.trim();
    let Some((base, sub)) = given.split_once('/') else {
        return resolve_kind(given, kinds).cloned();
    };
    let parent = resolve_kind(base, kinds)?;
    let sub = sub.trim().to_lowercase();
    let qualified = format!("{}/{sub}", parent.group_resource());
    match parent.subresource(&sub) {
        None => Err(KindLookupError::SubresourceNotServed {
            name: given.to_string(),
            qualified: parent.group_resource(),
            served: parent.subresources.clone(),
        }),
        Some(_) if !grantable_subresource(&sub) => Err(KindLookupError::SubresourceNotGranted {
            name: given.to_string(),
            qualified,
        }),
        Some(entry) => Ok(entry),
    }
}

impl std::error::Error for KindLookupError {}

/// Resolves a name to a namespaced kind a Role can grant.
pub fn resolve_kind<'a>(
    name: &str,
    kinds: &'a [ServedKind],
) -> Result<&'a ServedKind, KindLookupError> {
    let found = lookup_kind(name, kinds)?;
    if !found.namespaced {
        return Err(KindLookupError::ClusterScoped {
            name: name.trim().to_string(),
            qualified: found.group_resource(),
            kind: found.kind.clone(),
        });
    }
    Ok(found)
}

/// Resolves a name to any served kind, cluster-scoped ones included.
pub fn lookup_kind<'a>(
    name: &str,
    kinds: &'a [ServedKind],
) -> Result<&'a ServedKind, KindLookupError> {
    let given = name.trim();
    if given.is_empty() {
        return Err(KindLookupError::Empty);
    }
    let lower = given.to_lowercase();

    if let Some((res, rest)) = lower.split_once('.') {
        let mut wrong_version: Option<&ServedKind> = None;
        // `resource.version.group` first, as kubectl's ParseResourceArg does.
        if let Some((version, group)) = rest.split_once('.') {
            let in_group = tiered(res, kinds.iter().filter(|k| k.group == group));
            if !in_group.is_empty() {
                let exact: Vec<&ServedKind> = in_group
                    .iter()
                    .copied()
                    .filter(|k| k.version == version)
                    .collect();
                if !exact.is_empty() {
                    return pick(given, exact);
                }
                wrong_version = in_group.first().copied();
            }
        }
        // Then `resource.group`.
        let in_group = tiered(res, kinds.iter().filter(|k| k.group == rest));
        if !in_group.is_empty() {
            return pick(given, in_group);
        }
        if let Some(k) = wrong_version {
            return Err(KindLookupError::VersionNotServed {
                name: given.to_string(),
                qualified: k.group_resource(),
                version: k.version.clone(),
            });
        }
        return Err(KindLookupError::Unknown {
            name: given.to_string(),
            suggestions: suggest(&lower, kinds),
        });
    }

    let matches = tiered(&lower, kinds.iter());
    if matches.is_empty() {
        return Err(KindLookupError::Unknown {
            name: given.to_string(),
            suggestions: suggest(&lower, kinds),
        });
    }
    pick(given, matches)
}

/// The kinds `name` (lower-case) matches, from the first tier that matches any: plural, then
/// singular or kind, then short name.
fn tiered<'a>(
    name: &str,
    kinds: impl Iterator<Item = &'a ServedKind> + Clone,
) -> Vec<&'a ServedKind> {
    let tiers: [&dyn Fn(&ServedKind) -> bool; 3] = [
        &|k| k.resource == name,
        &|k| k.singular == name || k.kind.to_lowercase() == name,
        &|k| k.short_names.iter().any(|s| s.to_lowercase() == name),
    ];
    for tier in tiers {
        let found: Vec<&ServedKind> = kinds.clone().filter(|k| tier(k)).collect();
        if !found.is_empty() {
            return found;
        }
    }
    Vec::new()
}

fn pick<'a>(
    given: &str,
    mut found: Vec<&'a ServedKind>,
) -> Result<&'a ServedKind, KindLookupError> {
    // One entry per group/resource (discovery already keeps one version of each).
    found.dedup_by(|a, b| a.group == b.group && a.resource == b.resource);
    if found.len() == 1 {
        return Ok(found[0]);
    }
    let core: Vec<&&ServedKind> = found.iter().filter(|k| k.group.is_empty()).collect();
    if core.len() == 1 {
        return Ok(core[0]);
    }
    Err(KindLookupError::Ambiguous {
        name: given.to_string(),
        candidates: found.iter().map(|k| k.group_resource()).collect(),
    })
}

/// Close names, as qualified names, best first (at most three).
fn suggest(lower: &str, kinds: &[ServedKind]) -> Vec<String> {
    let (name_part, group_part) = match lower.split_once('.') {
        Some((n, g)) => (n, Some(g)),
        None => (lower, None),
    };
    let limit = if name_part.chars().count() >= 5 { 2 } else { 1 };
    let mut scored: Vec<(usize, String)> = Vec::new();
    for k in kinds {
        let mut names: Vec<&str> = vec![&k.resource, &k.singular];
        names.extend(k.short_names.iter().map(String::as_str));
        let mut best = names
            .iter()
            .map(|n| levenshtein(name_part, n))
            .min()
            .unwrap_or(usize::MAX);
        if name_part.len() >= 4 && k.resource.starts_with(name_part) {
            best = best.min(limit);
        }
        if let Some(g) = group_part {
            // A typo in the group counts too.
            best = best.saturating_add(levenshtein(g, &k.group));
        }
        if best <= limit {
            scored.push((best, k.group_resource()));
        }
    }
    scored.sort();
    let mut out: Vec<String> = Vec::new();
    for (_, q) in scored {
        if !out.contains(&q) {
            out.push(q);
        }
        if out.len() == 3 {
            break;
        }
    }
    out
}

fn levenshtein(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.iter().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deployments() -> ServedKind {
        let mut d = ServedKind::new(
            "apps",
            "v1",
            "deployments",
            "Deployment",
            true,
            crate::rbac::STANDARD_VERBS,
        );
        d.short_names = vec!["deploy".into()];
        for (sub, verbs) in [
            ("scale", vec!["get", "patch", "update"]),
            ("status", vec!["get", "patch", "update"]),
            ("exec", vec!["create"]),
        ] {
            d.subresources.push(sub.into());
            d.subresource_verbs
                .insert(sub.into(), verbs.into_iter().map(String::from).collect());
        }
        d
    }

    #[test]
    fn subresources_resolve_as_kubectl_create_role_names_them() {
        let kinds = vec![deployments()];
        for name in [
            "deployments.apps/scale",
            "deploy/scale",
            " Deployment/Scale ",
        ] {
            let k = resolve_grantable_kind(name, &kinds).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(k.resource, "deployments/scale", "{name}");
            assert_eq!(k.group_resource(), "deployments.apps/scale");
            assert_eq!(k.verbs, ["get", "patch", "update"]);
        }
        let status = resolve_grantable_kind("deployments.apps/status", &kinds).unwrap();
        assert_eq!(crate::rbac::builder::default_verbs(&status), ["get"]);
        let scale = resolve_grantable_kind("deployments.apps/scale", &kinds).unwrap();
        assert_eq!(
            crate::rbac::builder::default_verbs(&scale),
            ["get", "update", "patch"]
        );
        let e = resolve_grantable_kind("deployments.apps/rollback", &kinds).unwrap_err();
        assert_eq!(
            e.to_string(),
            "the server doesn't serve \"deployments.apps/rollback\": deployments.apps has deployments.apps/scale, deployments.apps/status"
        );
        let e = resolve_grantable_kind("deployments.apps/exec", &kinds).unwrap_err();
        assert!(e.to_string().contains("does not grant"), "{e}");
        assert_eq!(
            resolve_grantable_kind("deployments", &kinds)
                .unwrap()
                .resource,
            "deployments"
        );
    }

    #[test]
    fn edit_distance() {
        assert_eq!(levenshtein("deploymnets", "deployments"), 2);
        assert_eq!(levenshtein("", "abc"), 3);
        assert_eq!(levenshtein("secret", "secrets"), 1);
    }
}
