//! What `init` tells the person running it. All of it goes to stderr.

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

/// The caller's own rules in the namespace, as `kubectl auth can-i --list` shows them.
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
    let resource_rules: Vec<Rule> = super::held_rules(review)
        .into_iter()
        .filter(|r| r.non_resource_urls.is_empty())
        .collect();
    let baseline: Vec<Rule> = rbac::verify::baseline_rules();
    let own: Vec<Rule> = resource_rules
        .into_iter()
        .filter(|r| !baseline.contains(r))
        .collect();
    if own.is_empty() {
        ui.say("  nothing beyond the self-reviews every user has");
    } else {
        for line in rbac::render_can_i_list(&own, false).lines() {
            ui.say(format!("  {line}"));
        }
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
        "\n  GitHub Actions: store it as a repository or environment secret, e.g.\n\
         \x20   gh secret set KUBECONFIG < {file}\n\
         \x20 and in the workflow write it to a file before using kubectl or helm:\n\
         \x20   echo \"$KUBECONFIG_CONTENT\" > \"$RUNNER_TEMP/kubeconfig\"  (with KUBECONFIG_CONTENT: ${{{{ secrets.KUBECONFIG }}}})\n\
         \x20   export KUBECONFIG=\"$RUNNER_TEMP/kubeconfig\"\n\
         \n  GitLab CI: Settings > CI/CD > Variables > Add variable, type File, key KUBECONFIG,\n\
         \x20 the file's content as value, Protected (only protected branches and tags may deploy).\n\
         \x20 Jobs then find the file through $KUBECONFIG.\n"
    ));
    match (plan.choices.token, expires_at) {
        (TokenPlan::Request { .. }, Some(when)) => ui.say(format!(
            "  The token expires at {when}: run kubectl cicd init again with the same answers before then to renew it."
        )),
        _ => ui.say(format!(
            "  The token does not expire. Revoke it by deleting Secret {} in namespace {}.",
            plan.token_secret_name(),
            plan.namespace
        )),
    }
    ui.say(format!("  Then delete the local copy: rm {file}"));
}
