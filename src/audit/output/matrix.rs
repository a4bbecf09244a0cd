//! The `--sa` access matrix as text (rows kinds, columns verbs, a mark where allowed, blank
//! where not) and as JSON.

use crate::audit::matrix::{Access, Matrix, symbol};

fn mark(access: &Access) -> &'static str {
    match access {
        Access::None => "",
        other => symbol(other, true),
    }
}

/// The matrix, the legend, and the grants behind it.
pub fn render(matrix: &Matrix) -> String {
    let mut out = format!(
        "Access matrix of ServiceAccount {}/{} (in namespace {} and cluster-wide){}\n",
        matrix.namespace,
        matrix.service_account,
        matrix.namespace,
        if matrix.exists {
            ""
        } else {
            ": the ServiceAccount does not exist, this is what bindings to that name grant"
        }
    );
    let rows: Vec<_> = matrix.allowed_rows().collect();
    if rows.is_empty() {
        out.push_str("  It may do nothing here.\n");
    } else {
        let mut table: Vec<Vec<String>> = vec![
            std::iter::once("KIND".to_string())
                .chain(matrix.verbs.iter().map(|v| v.to_uppercase()))
                .collect(),
        ];
        for row in rows {
            table.push(
                std::iter::once(row.kind.clone())
                    .chain(row.cells.iter().map(|c| mark(c).to_string()))
                    .collect(),
            );
        }
        let widths: Vec<usize> = (0..table[0].len())
            .map(|i| {
                table
                    .iter()
                    .map(|r| r[i].chars().count())
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        for row in &table {
            let line: Vec<String> = row
                .iter()
                .zip(&widths)
                .map(|(c, w)| format!("{c}{}", " ".repeat(w - c.chars().count())))
                .collect();
            out.push_str("  ");
            out.push_str(line.join("  ").trim_end());
            out.push('\n');
        }
        out.push_str(&format!(
            "  {} in {}   {} in every namespace / cluster-wide   {} only named objects   blank: not allowed\n",
            symbol(&Access::Namespace, true),
            matrix.namespace,
            symbol(&Access::Cluster, true),
            symbol(&Access::Names(Vec::new()), true),
        ));
    }
    let named: Vec<String> = matrix
        .rows
        .iter()
        .flat_map(|row| {
            row.cells
                .iter()
                .zip(&matrix.verbs)
                .filter_map(move |(c, v)| match c {
                    Access::Names(n) => Some(format!("{v} {}: {}", row.kind, n.join(", "))),
                    _ => None,
                })
        })
        .collect();
    if !named.is_empty() {
        out.push_str(&format!("  Named objects only: {}\n", named.join("; ")));
    }
    if !matrix.non_resource.is_empty() {
        out.push_str(&format!(
            "  Non-resource URLs: {}\n",
            matrix.non_resource.join("; ")
        ));
    }
    if matrix.grants.is_empty() {
        out.push_str("  Granted by: nothing\n");
    } else {
        out.push_str("  Granted by:\n");
        for g in &matrix.grants {
            out.push_str(&format!(
                "    {} → {} ({}{}{})\n",
                g.via.binding,
                g.via.role,
                g.scope,
                if g.builtin { ", built-in" } else { "" },
                if g.missing_role {
                    ", role missing: grants nothing"
                } else {
                    ""
                }
            ));
        }
    }
    if !matrix.other_namespaces.is_empty() {
        out.push_str(&format!(
            "  Also holds grants in other namespaces (not shown): {}\n",
            matrix.other_namespaces.join(", ")
        ));
    }
    out
}

/// The matrix in the JSON report (`matrix`, with `--sa` only).
pub fn to_json(matrix: &Matrix) -> serde_json::Value {
    serde_json::to_value(matrix).expect("the matrix serializes")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::matrix::access_matrix;
    use crate::audit::snapshot::from_objects;
    use serde_json::json;

    #[test]
    fn allowed_cells_are_marked_and_the_rest_is_blank() {
        let snapshot = from_objects(
            &[
                json!({"kind": "ServiceAccount", "metadata": {"name": "ci", "namespace": "a"}}),
                json!({"kind": "Role", "metadata": {"name": "ci", "namespace": "a"}, "rules": [
                    {"apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["get", "list"]}
                ]}),
                json!({"kind": "RoleBinding", "metadata": {"name": "ci", "namespace": "a"},
                    "roleRef": {"kind": "Role", "name": "ci"},
                    "subjects": [{"kind": "ServiceAccount", "name": "ci"}]}),
            ],
            "2026-11-27T12:00:00Z",
        );
        let m = access_matrix(&snapshot, "a", "ci");
        let text = render(&m);
        let row = text
            .lines()
            .find(|l| l.trim_start().starts_with("deployments.apps"))
            .unwrap_or_else(|| panic!("{text}"));
        assert_eq!(row.matches('✓').count(), 2, "{text}");
        assert!(!text.contains('✗'), "{text}");
        assert!(text.contains("RoleBinding a/ci"), "{text}");
        assert!(to_json(&m)["serviceAccount"] == "ci");
    }

    #[test]
    fn named_objects_urls_grants_and_other_namespaces_are_spelled_out() {
        let m = access_matrix(&crate::audit::matrix::sample_snapshot(), "a", "ci");
        let text = render(&m);
        let header = text.lines().nth(1).unwrap();
        assert!(
            header.trim_start().starts_with("KIND ") && header.contains("DELETECOLLECTION"),
            "{header}"
        );
        assert!(
            text.contains("Named objects only: get secrets: helm-state"),
            "{text}"
        );
        assert!(text.contains("Non-resource URLs: get /metrics"), "{text}");
        assert!(
            text.contains("RoleBinding a/ci → Role a/ci (namespace a)"),
            "{text}"
        );
        assert!(text.contains("(cluster-wide, built-in)"), "{text}");
        assert!(text.contains("other namespaces (not shown): b"), "{text}");
    }
}
