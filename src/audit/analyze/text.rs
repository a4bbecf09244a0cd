//! Text the rules put in evidence and remediation: lists, plurals, and the clauses naming
//! the grants behind a finding.

use super::probe::Hit;
use crate::audit::resolve::Grant;
use crate::rbac::rule::group_resource;

/// `through RoleBinding team-a/ci to Role team-a/ci`.
pub(super) fn through(g: &Grant<'_>) -> String {
    let via = g.via();
    format!("through {} to {}", via.binding, via.role)
}

/// [`through`] for each grant, joined by `; `.
pub(super) fn through_all(grants: &[&Grant<'_>]) -> String {
    grants
        .iter()
        .map(|g| through(g))
        .collect::<Vec<_>>()
        .join("; ")
}

/// The grants' bindings, `RoleBinding team-a/ci, ClusterRoleBinding ci`.
pub(super) fn binding_labels(grants: &[&Grant<'_>]) -> String {
    grants
        .iter()
        .map(|g| g.binding_label())
        .collect::<Vec<_>>()
        .join(", ")
}

/// `1 role`, `3 roles`.
pub(super) fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("{n} {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// The first `max` names, then how many more.
pub(super) fn list_names(names: &[&str], max: usize) -> String {
    if names.len() <= max {
        names.join(", ")
    } else {
        format!("{} and {} more", names[..max].join(", "), names.len() - max)
    }
}

/// `list` without repeats, in first-seen order.
pub(super) fn dedup(list: Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(list.len());
    for s in list {
        if !out.contains(&s) {
            out.push(s);
        }
    }
    out
}

/// `s` with its first letter in lower case (a catalogue sentence continued).
pub(super) fn lower_first(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(first) => first.to_lowercase().chain(c).collect(),
        None => String::new(),
    }
}

/// `get, list, watch secrets and create pods/exec`; names appended when restricted.
pub(super) fn actions(hits: &[&Hit]) -> String {
    struct Target<'h> {
        group: &'h str,
        resource: &'h str,
        verbs: Vec<&'h str>,
        names: Vec<&'h str>,
        unrestricted: bool,
    }
    let mut targets: Vec<Target<'_>> = Vec::new();
    for h in hits {
        let i = match targets
            .iter()
            .position(|t| t.group == h.group && t.resource == h.resource)
        {
            Some(i) => i,
            None => {
                targets.push(Target {
                    group: h.group,
                    resource: h.resource,
                    verbs: Vec::new(),
                    names: Vec::new(),
                    unrestricted: false,
                });
                targets.len() - 1
            }
        };
        let t = &mut targets[i];
        if !t.verbs.contains(&h.verb) {
            t.verbs.push(h.verb);
        }
        match &h.names {
            Some(names) => {
                for n in names {
                    if !t.names.contains(&n.as_str()) {
                        t.names.push(n);
                    }
                }
            }
            None => t.unrestricted = true,
        }
    }
    let mut out = String::new();
    for (i, t) in targets.iter().enumerate() {
        if i > 0 {
            out.push_str(" and ");
        }
        out.push_str(&t.verbs.join(", "));
        out.push(' ');
        out.push_str(&group_resource(t.group, t.resource));
        if !t.unrestricted && !t.names.is_empty() {
            out.push_str(&format!(" (only {})", t.names.join(", ")));
        }
    }
    out
}
