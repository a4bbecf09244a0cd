//! Whether a caller may write a Role, decided before anything is sent: the API server's
//! escalation check ([`covers`] of the caller's rules over the Role's) and the permissions the
//! write itself needs, each problem worded as the server would word its refusal.

use crate::rbac::covers::{covers, forbidden_message, not_held_message};
use crate::rbac::matching::{Request, rules_allow};
use crate::rbac::rule::Rule;

/// Who writes, what they hold in the namespace (a SelfSubjectRulesReview) and what the write
/// needs besides the Role's own rules.
#[derive(Debug, Clone, Copy)]
pub struct Writer<'a> {
    pub user: &'a str,
    pub groups: &'a [String],
    pub held: &'a [Rule],
    /// The requests the write is made of (server-side apply: `get`, `create`, `patch`, ...).
    pub needs: &'a [Request],
}

/// Every reason the API server would refuse `writer` writing Role `role` with `rules` in
/// `namespace`, one paragraph each; empty when it would not. `what` says what the needed
/// requests do, e.g. "create the objects init needs".
pub fn grant_problems(
    writer: &Writer<'_>,
    role: &str,
    rules: &[Rule],
    namespace: &str,
    what: &str,
) -> Vec<String> {
    let mut problems = Vec::new();
    if let Err(missing) = covers(writer.held, rules) {
        let server_words = not_held_message(writer.user, writer.groups, &missing);
        problems.push(format!(
            "The Role would grant permissions you do not hold yourself, so the API server would refuse it:\n{}",
            forbidden_message("roles.rbac.authorization.k8s.io", role, &server_words)
        ));
    }
    let lacking: Vec<String> = writer
        .needs
        .iter()
        .filter(|req| !rules_allow(writer.held, req))
        .map(|req| format!("  {req}"))
        .collect();
    if !lacking.is_empty() {
        problems.push(format!(
            "You may not {what} in namespace {namespace}; missing:\n{}",
            lacking.join("\n")
        ));
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_writer_who_holds_everything_has_no_problem() {
        let held = vec![Rule::resource(&["*"], &["*"], &["*"])];
        let needs = [Request::new("patch", "rbac.authorization.k8s.io", "roles")];
        let w = Writer {
            user: "root",
            groups: &[],
            held: &held,
            needs: &needs,
        };
        let rules = [Rule::resource(&["apps"], &["deployments"], &["get"])];
        assert!(grant_problems(&w, "ci-cd", &rules, "shop", "the change").is_empty());
    }

    #[test]
    fn escalation_and_missing_write_rights_are_both_said() {
        let held = vec![Rule::resource(&["apps"], &["deployments"], &["get"])];
        let needs = [Request::new("patch", "rbac.authorization.k8s.io", "roles")];
        let groups = vec!["devs".to_string()];
        let w = Writer {
            user: "bob",
            groups: &groups,
            held: &held,
            needs: &needs,
        };
        let rules = [Rule::resource(
            &["apps"],
            &["deployments"],
            &["get", "delete"],
        )];
        let problems = grant_problems(
            &w,
            "ci-cd",
            &rules,
            "shop",
            "change the Role as tighten needs",
        );
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(
            problems[0].contains("roles.rbac.authorization.k8s.io \"ci-cd\" is forbidden: user \"bob\" (groups=[\"devs\"]) is attempting to grant RBAC permissions not currently held:\n{APIGroups:[\"apps\"], Resources:[\"deployments\"], Verbs:[\"delete\"]}"),
            "{}",
            problems[0]
        );
        assert!(
            problems[1].contains("You may not change the Role as tighten needs in namespace shop; missing:\n  patch roles.rbac.authorization.k8s.io"),
            "{}",
            problems[1]
        );
    }
}
