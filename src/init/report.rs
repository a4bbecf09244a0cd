//! What `init` tells the person running it. All of it goes to stderr.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use crate::cluster::RulesReview;
use crate::kubeconfig::{Credentials, SourceContext};
use crate::rbac::{self, Rule};
use crate::ui::Ui;

use super::objects::{self, Desired, Existing};
use super::plan::{Plan, TokenPlan};

pub fn context(ui: &Ui, s: &SourceContext) {
    ui.heading("Context");
    ui.say(format!("  context    {}", s.context_name));
    ui.say(format!("  cluster    {} ({})", s.cluster_name, s.server));
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

/// The caller's own rules in the namespace, compactly: one line per set of verbs.
pub fn grantable(ui: &Ui, review: &RulesReview) {
    ui.heading(format!(
        "What you may do (and so grant) in namespace {}",
        review.namespace
    ));
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
    let own: Vec<Rule> = super::held_rules(review)
        .into_iter()
        .filter(|r| r.non_resource_urls.is_empty() && !baseline.contains(r))
        .collect();
    if own.is_empty() {
        ui.say("  nothing beyond the self-reviews every user has");
        return;
    }
    for (verbs, resources) in group_by_verbs(&own) {
        ui.say(wrap(&format!("  [{verbs}]"), &resources, 100));
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

/// `head` then `items` comma-separated and wrapped at `width`; continuation lines indented.
fn wrap(head: &str, items: &[String], width: usize) -> String {
    let mut lines = vec![head.trim_end().to_string()];
    for (i, item) in items.iter().enumerate() {
        let piece = if i + 1 < items.len() {
            format!("{item},")
        } else {
            item.clone()
        };
        let last = lines.last_mut().expect("one line at least");
        if last.chars().count() + 1 + piece.len() > width && i > 0 {
            lines.push(format!("      {piece}"));
        } else {
            last.push(' ');
            last.push_str(&piece);
        }
    }
    lines.join("\n")
}

/// The can / cannot summary of the new identity.
pub fn verification(ui: &Ui, subject: &str, v: &rbac::Verification) {
    ui.heading(format!("What {subject} can do"));
    let mut can: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    let mut cannot = Vec::new();
    for row in &v.rows {
        match (row.wanted, row.allowed) {
            (true, true) => can.entry(&row.target).or_default().push(&row.verb),
            (false, false) => cannot.push(row.action()),
            (true, false) => ui.say(format!("  MISSING     {}", row.action())),
            (false, true) => ui.say(format!("  UNEXPECTED  {}", row.action())),
        }
    }
    for (target, verbs) in can {
        ui.say(format!("  can     {target}: {}", verbs.join(" ")));
    }
    if !cannot.is_empty() {
        ui.say(wrap("  cannot ", &cannot, 100));
    }
}

/// The objects about to be applied, or what changes in them on a re-run.
pub fn preview(ui: &Ui, desired: &Desired, existing: &Existing) {
    ui.heading("Objects");
    let pairs: [(String, Option<serde_json::Value>); 3] = [
        (
            objects::yaml(&desired.service_account),
            existing.service_account.as_ref().map(objects::comparable),
        ),
        (
            objects::yaml(&desired.role),
            existing.role.as_ref().map(objects::comparable),
        ),
        (
            objects::yaml(&desired.role_binding),
            existing.role_binding.as_ref().map(objects::comparable),
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
                match objects::diff(&have, &want) {
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

pub fn next_steps(ui: &Ui, plan: &Plan, path: &Path, expires_at: Option<&str>) {
    let file = path.display();
    ui.heading("Next steps");
    ui.ok(format!(
        "Wrote {file} (mode 0600). It holds a token: treat it as a password, never commit it."
    ));
    ui.say(format!(
        "\n  GitHub Actions: store it as a secret (repository or environment):\n\
         \x20     gh secret set KUBECONFIG_FILE < {file}\n\
         \x20   and in the deploy job, before kubectl or helm:\n\
         \x20     echo \"${{{{ secrets.KUBECONFIG_FILE }}}}\" > \"$RUNNER_TEMP/kubeconfig\"\n\
         \x20     export KUBECONFIG=\"$RUNNER_TEMP/kubeconfig\"\n\
         \n  GitLab CI: Settings > CI/CD > Variables > Add variable: type File, key KUBECONFIG,\n\
         \x20   the file's content as value, Protected (only protected branches and tags deploy).\n\
         \x20   kubectl and helm in the job then find it through $KUBECONFIG.\n"
    ));
    match (plan.choices.token, expires_at) {
        (TokenPlan::Request { .. }, Some(when)) => ui.say(format!(
            "  The token expires at {when}: before then, run the same kubectl cicd init with --force for a new one."
        )),
        _ => ui.say(format!(
            "  The token does not expire. Revoke it by deleting Secret {} in namespace {}.",
            plan.token_secret_name(),
            plan.namespace
        )),
    }
    ui.say(format!("  Then delete the local copy: rm {file}"));
}
