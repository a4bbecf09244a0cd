//! What `init` tells the person running it. All of it goes to stderr.

use std::collections::{BTreeMap, BTreeSet};

use crate::cluster::RulesReview;
use crate::kubeconfig::{Credentials, SourceContext};
use crate::rbac::{self, Rule};
use crate::ui::{Ui, Verbosity, wrap};

use super::objects::{Desired, Existing};

pub fn context(ui: &Ui, s: &SourceContext) {
    ui.heading("Context");
    ui.say(format!("  context    {}", s.context_name));
    ui.say(format!(
        "  cluster    {} ({})",
        s.cluster_name,
        crate::text::redact_userinfo(&s.server)
    ));
    let user = s.user_name.as_deref().unwrap_or("(none)");
    ui.say(format!("  user       {user} ({})", s.credentials));
    ui.say(format!(
        "  namespace  {} ({})",
        s.namespace, s.namespace_origin
    ));
    if matches!(s.credentials, Credentials::Exec { .. }) {
        ui.dim("  (your credentials come from an exec plugin; the pipeline gets its own token instead)");
    }
}

/// The caller's own rules in the namespace: with `-v` one line per set of verbs, else how
/// many kinds that is.
pub fn held_permissions(ui: &Ui, review: &RulesReview) {
    let verbose = ui.verbosity() == Verbosity::Verbose;
    if verbose {
        ui.heading(format!(
            "What you may do (and so grant) in namespace {}",
            review.namespace
        ));
    }
    if review.incomplete {
        ui.warn(format!(
            "the list may be incomplete: {}",
            review
                .evaluation_error
                .as_deref()
                .unwrap_or("the server says so")
        ));
    }
    let baseline = rbac::verify::baseline_rules();
    let own: Vec<Rule> = crate::issue::verify::held_rules(review)
        .into_iter()
        .filter(|r| r.non_resource_urls.is_empty() && !baseline.contains(r))
        .collect();
    if own.is_empty() {
        ui.say(format!(
            "You may do nothing in namespace {} beyond the self-reviews every user has",
            review.namespace
        ));
        return;
    }
    let grouped = group_by_verbs(&own);
    if !verbose {
        let kinds: usize = grouped.iter().map(|(_, resources)| resources.len()).sum();
        ui.ok(format!(
            "You may grant {kinds} kinds and subresources in namespace {} (-v lists them with their verbs)",
            review.namespace
        ));
        return;
    }
    for (verbs, resources) in grouped {
        ui.say(wrap(&format!("  [{verbs}]"), &resources, ui.width()));
    }
}

/// `get list watch` -> resources holding exactly those verbs (named objects marked).
fn group_by_verbs(rules: &[Rule]) -> Vec<(String, Vec<String>)> {
    let mut by_target: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for rule in rules {
        let groups = if rule.api_groups.is_empty() {
            vec![String::new()]
        } else {
            rule.api_groups.clone()
        };
        for group in &groups {
            for resource in &rule.resources {
                let mut target = rbac::rule::group_resource(group, resource);
                if !rule.resource_names.is_empty() {
                    target.push_str(&format!(" {:?}", rule.resource_names));
                }
                by_target
                    .entry(target)
                    .or_default()
                    .extend(rule.verbs.iter().cloned());
            }
        }
    }
    let mut by_verbs: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (target, verbs) in by_target {
        by_verbs
            .entry(verbs.into_iter().collect::<Vec<_>>().join(" "))
            .or_default()
            .push(target);
    }
    let mut out: Vec<(String, Vec<String>)> = by_verbs.into_iter().collect();
    out.sort_by_key(|(verbs, _)| std::cmp::Reverse(verbs.split(' ').count()));
    out
}

/// The objects about to be applied, or what changes in them on a re-run: whole with
/// `whole` (the wizard's preview, `-v`), else a line per object.
pub fn preview(ui: &Ui, desired: &Desired, existing: &Existing, whole: bool) {
    ui.heading("Objects");
    if !whole {
        summary(ui, desired, existing);
        return;
    }
    let pairs: [(String, Option<serde_json::Value>); 3] = [
        (
            crate::preview::yaml(&desired.service_account),
            existing
                .service_account
                .as_ref()
                .map(crate::preview::comparable),
        ),
        (
            crate::preview::yaml(&desired.role),
            existing.role.as_ref().map(crate::preview::comparable),
        ),
        (
            crate::preview::yaml(&desired.role_binding),
            existing
                .role_binding
                .as_ref()
                .map(crate::preview::comparable),
        ),
    ];
    for (want, have) in pairs {
        let title = want
            .lines()
            .find(|l| l.starts_with("kind:"))
            .unwrap_or("kind: ?")
            .trim_start_matches("kind: ")
            .to_string();
        match have {
            None => {
                ui.say(format!("# {title} (new)"));
                ui.dim(want.trim_end());
            }
            Some(have) => {
                let have = serde_saphyr::to_string(&have).unwrap_or_default();
                match crate::preview::diff(&have, &want) {
                    None => ui.say(format!("# {title}: exists, unchanged")),
                    Some(d) => {
                        ui.say(format!("# {title}: exists, changes:"));
                        ui.say(d.trim_end());
                    }
                }
            }
        }
    }
}

/// One line per object, and the Role's rules one line per set of verbs; what changes on a
/// re-run as a diff, which is short.
fn summary(ui: &Ui, desired: &Desired, existing: &Existing) {
    let name = desired.role.metadata.name.as_deref().unwrap_or_default();
    let state = |want: String, have: Option<serde_json::Value>| match have {
        None => ("new".to_string(), None),
        Some(have) => {
            let have = serde_saphyr::to_string(&have).unwrap_or_default();
            match crate::preview::diff(&have, &want) {
                None => ("exists, unchanged".to_string(), None),
                Some(d) => ("exists, changes:".to_string(), Some(d)),
            }
        }
    };
    let (sa, sa_diff) = state(
        crate::preview::yaml(&desired.service_account),
        existing
            .service_account
            .as_ref()
            .map(crate::preview::comparable),
    );
    let (role, role_diff) = state(
        crate::preview::yaml(&desired.role),
        existing.role.as_ref().map(crate::preview::comparable),
    );
    let (binding, binding_diff) = state(
        crate::preview::yaml(&desired.role_binding),
        existing
            .role_binding
            .as_ref()
            .map(crate::preview::comparable),
    );
    let diff = |d: Option<String>| {
        if let Some(d) = d {
            ui.say(d.trim_end());
        }
    };
    ui.say(format!("  ServiceAccount {name} ({sa})"));
    diff(sa_diff);
    ui.say(format!("  Role {name} ({role})"));
    let rules: Vec<Rule> = desired
        .role
        .rules
        .iter()
        .flatten()
        .cloned()
        .map(Rule::from)
        .collect();
    for (verbs, resources) in group_by_verbs(&rules) {
        ui.say(wrap(&format!("      [{verbs}]"), &resources, ui.width()));
    }
    diff(role_diff);
    ui.say(format!(
        "  RoleBinding {name} ({binding}): Role {name} to ServiceAccount {name}"
    ));
    diff(binding_diff);
    ui.dim("  (-v or --dry-run shows the whole objects)");
}
