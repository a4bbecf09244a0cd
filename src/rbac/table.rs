//! Tab-aligned text tables.
//!
//! [`tabwrite`] re-implements Go's `text/tabwriter` for space padding (the
//! column-block algorithm of `(*Writer).format`): a cell is text ended by a
//! tab; a column is as wide as its widest cell in a run of consecutive lines
//! that have that cell, plus `padding`, and at least `minwidth`; the last cell
//! of a line is not padded.
//!
//! [`render_can_i_list`] prints a rule set the way `kubectl auth can-i --list`
//! does (`printStatus` in `staging/src/k8s.io/kubectl/pkg/cmd/auth/cani.go`):
//! every rule broken down, compacted with kubectl's `CompactRules`, stably
//! sorted by the rules' generated `String()`, printed through kubectl's
//! tabwriter (`printers.GetNewTabWriter`: minwidth 6, tabwidth 4, padding 3,
//! pad char ' ').

use crate::rbac::compact::kubectl_compact;
use crate::rbac::covers::breakdown;
use crate::rbac::gofmt::{go_list, policy_rule_string};
use crate::rbac::rule::{Rule, group_resource};
use k8s_openapi::api::authorization::v1::SubjectRulesReviewStatus;

/// kubectl's tabwriter minimum cell width.
pub const KUBECTL_MIN_WIDTH: usize = 6;
/// kubectl's tabwriter padding.
pub const KUBECTL_PADDING: usize = 3;

fn width(cell: &str) -> usize {
    cell.chars().count()
}

fn write_lines(lines: &[Vec<&str>], widths: &[usize], from: usize, to: usize, out: &mut String) {
    for line in &lines[from..to] {
        for (j, cell) in line.iter().enumerate() {
            out.push_str(cell);
            if let Some(&w) = widths.get(j) {
                out.extend(std::iter::repeat_n(' ', w.saturating_sub(width(cell))));
            }
        }
        out.push('\n');
    }
}

struct Layout {
    min_width: usize,
    padding: usize,
}

impl Layout {
    fn format(
        &self,
        lines: &[Vec<&str>],
        widths: &mut Vec<usize>,
        mut line0: usize,
        line1: usize,
        out: &mut String,
    ) {
        let column = widths.len();
        let mut this = line0;
        while this < line1 {
            if column + 1 >= lines[this].len() {
                this += 1;
                continue;
            }
            write_lines(lines, widths, line0, this, out);
            line0 = this;
            let mut w = self.min_width;
            while this < line1 && column + 1 < lines[this].len() {
                w = w.max(width(lines[this][column]) + self.padding);
                this += 1;
            }
            widths.push(w);
            self.format(lines, widths, line0, this, out);
            widths.pop();
            line0 = this;
        }
        write_lines(lines, widths, line0, line1, out);
    }
}

/// Aligns tab-separated `text` like Go's `tabwriter` with pad char `' '`.
/// Every line of the output ends with `\n`.
pub fn tabwrite(text: &str, min_width: usize, padding: usize) -> String {
    let body = text.strip_suffix('\n').unwrap_or(text);
    if body.is_empty() && text.is_empty() {
        return String::new();
    }
    let lines: Vec<Vec<&str>> = body.split('\n').map(|l| l.split('\t').collect()).collect();
    let mut out = String::with_capacity(text.len() * 2);
    Layout { min_width, padding }.format(&lines, &mut Vec::new(), 0, lines.len(), &mut out);
    out
}

/// The rows of `kubectl auth can-i --list` for these rules, in kubectl's
/// order: (Resources, Non-Resource URLs, Resource Names, Verbs).
pub fn can_i_rows(rules: &[Rule]) -> Vec<[String; 4]> {
    let broken: Vec<Rule> = rules.iter().flat_map(breakdown).collect();
    let mut compacted: Vec<(String, Rule)> = kubectl_compact(&broken)
        .into_iter()
        .map(|r| (policy_rule_string(&r), r))
        .collect();
    compacted.sort_by(|a, b| a.0.cmp(&b.0)); // stable, like sort.Stable
    compacted
        .into_iter()
        .map(|(_, r)| {
            let resource = match (r.resources.first(), r.api_groups.first()) {
                (Some(res), group) => group_resource(group.map_or("", String::as_str), res),
                (None, _) => String::new(),
            };
            [
                resource,
                go_list(&r.non_resource_urls),
                go_list(&r.resource_names),
                go_list(&r.verbs),
            ]
        })
        .collect()
}

/// The text `kubectl auth can-i --list` prints for these rules (pass the
/// rules of a SelfSubjectRulesReview, e.g. from `rules_from_review`).
pub fn render_can_i_list(rules: &[Rule], no_headers: bool) -> String {
    let mut text = String::new();
    if !no_headers {
        text.push_str("Resources\tNon-Resource URLs\tResource Names\tVerbs\n");
    }
    for row in can_i_rows(rules) {
        text.push_str(&row.join("\t"));
        text.push('\n');
    }
    tabwrite(&text, KUBECTL_MIN_WIDTH, KUBECTL_PADDING)
}

/// The warning kubectl prints before the table of an incomplete review
/// (`the list may be incomplete: <evaluationError>`), if any.
pub fn incomplete_warning(status: &SubjectRulesReviewStatus) -> Option<String> {
    status.incomplete.then(|| {
        format!(
            "the list may be incomplete: {}",
            status.evaluation_error.as_deref().unwrap_or("")
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tabwrite_basic_columns() {
        let out = tabwrite("a\tbb\tc\nccc\td\te\n", 0, 2);
        assert_eq!(out, "a    bb  c\nccc  d   e\n");
    }

    #[test]
    fn tabwrite_min_width_and_last_cell_unpadded() {
        let out = tabwrite("a\tb\n", 6, 3);
        assert_eq!(out, "a     b\n");
        let out = tabwrite("x\n", 6, 3);
        assert_eq!(out, "x\n");
    }

    #[test]
    fn tabwrite_counts_characters_not_bytes() {
        let out = tabwrite("åå\tx\nb\ty\n", 0, 1);
        assert_eq!(out, "åå x\nb  y\n");
    }

    #[test]
    fn tabwrite_column_blocks_restart_on_shorter_lines() {
        // the middle line has no cell in column 0, so the blocks above and
        // below it are aligned independently, as in Go
        let out = tabwrite("aaaaaa\tb\nno tabs here\nc\td\n", 0, 1);
        assert_eq!(out, "aaaaaa b\nno tabs here\nc d\n");
    }

    #[test]
    fn tabwrite_ragged_rows() {
        let out = tabwrite("a\tb\tc\nlong\tx\n", 0, 1);
        assert_eq!(out, "a    b c\nlong x\n");
    }

    #[test]
    fn tabwrite_empty() {
        assert_eq!(tabwrite("", 6, 3), "");
        assert_eq!(tabwrite("\n", 6, 3), "\n");
    }

    fn review_of_a_fresh_service_account() -> Vec<Rule> {
        vec![
            Rule::resource(
                &["apps"],
                &["deployments"],
                &[
                    "get", "list", "watch", "create", "update", "patch", "delete",
                ],
            ),
            Rule::resource(&[""], &["services", "configmaps"], &["get", "list"]),
            Rule::resource(
                &["authorization.k8s.io"],
                &["selfsubjectaccessreviews", "selfsubjectrulesreviews"],
                &["create"],
            ),
            Rule::resource(
                &["authentication.k8s.io"],
                &["selfsubjectreviews"],
                &["create"],
            ),
            Rule::non_resource(&["/api", "/api/*", "/version"], &["get"]),
            Rule::non_resource(&["/healthz"], &["get"]),
        ]
    }

    #[test]
    fn can_i_rows_sort_like_kubectl() {
        let rows = can_i_rows(&review_of_a_fresh_service_account());
        let first_cols: Vec<&str> = rows.iter().map(|r| r[0].as_str()).collect();
        // sorted by "&PolicyRule{Verbs:[...],APIGroups:[...],...": verbs first, so
        // [create] < [get list watch ...] < [get list] < [get] (' ' sorts before ']'),
        // and URL rows ("APIGroups:[]") lead their verb group
        assert_eq!(
            first_cols,
            [
                "selfsubjectreviews.authentication.k8s.io",
                "selfsubjectaccessreviews.authorization.k8s.io",
                "selfsubjectrulesreviews.authorization.k8s.io",
                "deployments.apps",
                "configmaps",
                "services",
                "",
                "",
                "",
                "",
            ]
        );
        assert_eq!(rows[6][1], "[/api/*]");
        assert_eq!(rows[7][1], "[/api]");
        assert_eq!(rows[3][3], "[get list watch create update patch delete]");
        assert_eq!(rows[4][3], "[get list]");
    }

    #[test]
    fn render_matches_kubectl_layout() {
        let out = render_can_i_list(&review_of_a_fresh_service_account(), false);
        let rows = [
            ["Resources", "Non-Resource URLs", "Resource Names", "Verbs"],
            [
                "selfsubjectreviews.authentication.k8s.io",
                "[]",
                "[]",
                "[create]",
            ],
            [
                "selfsubjectaccessreviews.authorization.k8s.io",
                "[]",
                "[]",
                "[create]",
            ],
            [
                "selfsubjectrulesreviews.authorization.k8s.io",
                "[]",
                "[]",
                "[create]",
            ],
            [
                "deployments.apps",
                "[]",
                "[]",
                "[get list watch create update patch delete]",
            ],
            ["configmaps", "[]", "[]", "[get list]"],
            ["services", "[]", "[]", "[get list]"],
            ["", "[/api/*]", "[]", "[get]"],
            ["", "[/api]", "[]", "[get]"],
            ["", "[/healthz]", "[]", "[get]"],
            ["", "[/version]", "[]", "[get]"],
        ];
        // widest cell + 3: 45 + 3, 17 + 3, 14 + 3
        let expected: String = rows
            .iter()
            .map(|r| format!("{:<48}{:<20}{:<17}{}\n", r[0], r[1], r[2], r[3]))
            .collect();
        assert_eq!(out, expected);
        assert!(out.starts_with("Resources                                       Non-Resource URLs   Resource Names   Verbs\n"));
        let no_headers = render_can_i_list(&review_of_a_fresh_service_account(), true);
        assert_eq!(no_headers.lines().count(), 10);
        assert!(no_headers.starts_with("selfsubjectreviews"));
    }

    #[test]
    fn render_names_subresources_and_wildcards() {
        let rules = vec![
            Rule::resource(&[""], &["configmaps"], &["get", "update"]).with_names(["app-config"]),
            Rule::resource(&["apps"], &["deployments/scale"], &["update"]),
            Rule::resource(&["*"], &["*"], &["*"]),
        ];
        let rows = can_i_rows(&rules);
        assert_eq!(
            rows[0],
            ["*.*".to_string(), "[]".into(), "[]".into(), "[*]".into()]
        );
        assert_eq!(
            rows[1],
            [
                "configmaps".to_string(),
                "[]".into(),
                "[app-config]".into(),
                "[get update]".into()
            ]
        );
        assert_eq!(
            rows[2],
            [
                "deployments.apps/scale".to_string(),
                "[]".into(),
                "[]".into(),
                "[update]".into()
            ]
        );
    }

    #[test]
    fn duplicate_grants_show_duplicate_verbs_like_kubectl() {
        let rules = vec![
            Rule::resource(&[""], &["pods"], &["get", "list"]),
            Rule::resource(&[""], &["pods"], &["get"]),
        ];
        assert_eq!(can_i_rows(&rules)[0][3], "[get list get]");
    }

    #[test]
    fn empty_rule_set_prints_only_the_header() {
        assert_eq!(
            render_can_i_list(&[], false),
            "Resources   Non-Resource URLs   Resource Names   Verbs\n"
        );
        assert_eq!(render_can_i_list(&[], true), "");
    }

    #[test]
    fn incomplete_warning_text() {
        let mut status = SubjectRulesReviewStatus::default();
        assert_eq!(incomplete_warning(&status), None);
        status.incomplete = true;
        status.evaluation_error = Some("webhook authorizer does not support rules".into());
        assert_eq!(
            incomplete_warning(&status).unwrap(),
            "the list may be incomplete: webhook authorizer does not support rules"
        );
    }
}
