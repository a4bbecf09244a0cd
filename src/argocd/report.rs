//! What `argocd install` tells the person running it, on stderr: how many objects were kept
//! and removed, a table of what changed in which object, the cluster-scoped objects left to
//! the administrator (with the command to give them), and the guardrail findings.

use super::guardrails::{self, Finding};
use super::transform::Outcome;
use crate::ui::Ui;

/// The table of changes, as text: `OBJECT  CHANGE`, one change a line, aligned.
pub fn change_table(outcome: &Outcome) -> String {
    let width = outcome
        .changes
        .iter()
        .map(|c| c.object.chars().count())
        .max()
        .unwrap_or(0)
        .max("OBJECT".len());
    let mut out = format!("{:<width$}   CHANGE\n", "OBJECT");
    for c in &outcome.changes {
        out.push_str(&format!(
            "{:<width$}   {}\n",
            crate::text::one_line(&c.object),
            crate::text::one_line(&c.change)
        ));
    }
    out
}

/// The guardrail findings, as text: `SEVERITY  RULE  OBJECT  MESSAGE`, or a line saying that
/// every guardrail passes.
pub fn findings_table(findings: &[Finding]) -> String {
    if findings.is_empty() {
        return format!(
            "every guardrail passes: {}\n",
            guardrails::RULES
                .iter()
                .map(|(id, _)| *id)
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    let w_rule = findings
        .iter()
        .map(|f| f.rule.len())
        .max()
        .unwrap_or(4)
        .max(4);
    let w_obj = findings
        .iter()
        .map(|f| f.object.chars().count())
        .max()
        .unwrap_or(6)
        .max(6);
    let mut out = format!(
        "SEVERITY   {:<w_rule$}   {:<w_obj$}   FINDING\n",
        "RULE", "OBJECT"
    );
    for f in findings {
        out.push_str(&format!(
            "{:<8}   {:<w_rule$}   {:<w_obj$}   {}\n",
            f.severity.label(),
            f.rule,
            crate::text::one_line(&f.object),
            crate::text::one_line(&f.message)
        ));
    }
    out
}

/// The whole report of a transform.
pub fn say(ui: &Ui, source: &str, namespace: &str, outcome: &Outcome, findings: &[Finding]) {
    ui.heading(format!("Argo CD for namespace {namespace}, from {source}"));
    let mut counts = vec![format!(
        "{} namespaced objects kept",
        outcome.input_namespaced - outcome.dropped_bindings
    )];
    if outcome.dropped_bindings > 0 {
        counts.push(format!(
            "{} dangling RoleBinding{} dropped",
            outcome.dropped_bindings,
            if outcome.dropped_bindings == 1 {
                ""
            } else {
                "s"
            }
        ));
    }
    if outcome.added_roles > 0 {
        counts.push(format!("{} Role added", outcome.added_roles));
    }
    counts.push(format!(
        "{} cluster-scoped object{} removed",
        outcome.removed.len(),
        if outcome.removed.len() == 1 { "" } else { "s" }
    ));
    ui.say(format!("  {}", counts.join(", ")));
    ui.heading("What changed");
    for line in change_table(outcome).lines() {
        ui.say(format!("  {line}"));
    }
    let others: Vec<&str> = outcome
        .removed
        .iter()
        .filter(|r| !r.crd)
        .map(|r| r.object.as_str())
        .collect();
    if !outcome.removed.is_empty() {
        ui.heading("Left out: cluster-scoped, for the administrator");
        for r in &outcome.removed {
            ui.say(format!("  {}", r.object));
        }
        if !others.is_empty() {
            ui.say(
                "  A namespace-scoped Argo CD needs none of the ClusterRoles and ClusterRoleBindings: \
                 its application controller deploys into other namespaces through \
                 kubectl cicd argocd grant.",
            );
        }
    }
    ui.heading("Guardrails");
    for line in findings_table(findings).lines() {
        ui.say(format!("  {line}"));
    }
}

/// The CRDs' file and the command the administrator runs.
pub fn crds_note(ui: &Ui, path: &std::path::Path, count: usize) {
    let file = crate::text::shell_quote(&path.to_string_lossy());
    ui.say(format!(
        "\n{count} CustomResourceDefinition{} written to {}. CRDs are cluster-scoped: ask your cluster \
         administrator to install them with\n  kubectl apply --server-side --force-conflicts -f {file}\n\
         (server-side, as Argo CD's own CRDs are too large for a client-side apply's annotation).",
        if count == 1 { "" } else { "s" },
        path.display()
    ));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::argocd::guardrails::Severity;
    use crate::argocd::transform::Change;

    #[test]
    fn tables_align_and_escape_what_came_from_the_manifest() {
        let outcome = Outcome {
            changes: vec![
                Change {
                    object: "Deployment argocd-server".into(),
                    change: "container argocd-server: set requests.cpu 5m".into(),
                },
                Change {
                    object: "Role x\u{1b}[2J".into(),
                    change: "added".into(),
                },
            ],
            ..Outcome::default()
        };
        let text = change_table(&outcome);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "OBJECT                     CHANGE");
        assert!(
            lines[1].starts_with("Deployment argocd-server   container"),
            "{text}"
        );
        assert!(!text.contains('\u{1b}'), "{text}");

        let findings = vec![Finding {
            severity: Severity::Low,
            rule: "replicas",
            object: "StatefulSet argocd-application-controller".into(),
            message: "runs 1 replica (fewer than 2)".into(),
        }];
        let text = findings_table(&findings);
        assert!(
            text.lines()
                .nth(1)
                .unwrap()
                .starts_with("low        replicas   StatefulSet"),
            "{text}"
        );
        assert!(findings_table(&[]).starts_with("every guardrail passes"));
    }
}
