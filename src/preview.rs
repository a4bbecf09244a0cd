//! How an object is shown before it is written: as JSON or YAML without the fields the server
//! fills in (and never a Secret's data), and a line diff of what would change.

use serde::Serialize;
use serde_json::Value;

/// Server-filled fields that say nothing about intent.
const SERVER_FIELDS: &[&str] = &[
    "uid",
    "resourceVersion",
    "creationTimestamp",
    "managedFields",
    "generation",
    "selfLink",
];

/// An object as JSON without server-filled fields, `status`, or Secret data.
pub fn comparable<T: Serialize>(obj: &T) -> Value {
    let mut v = serde_json::to_value(obj).expect("object serializes");
    if let Some(meta) = v.get_mut("metadata").and_then(Value::as_object_mut) {
        for f in SERVER_FIELDS {
            meta.remove(*f);
        }
        if let Some(annotations) = meta.get_mut("annotations").and_then(Value::as_object_mut) {
            annotations.remove("kubernetes.io/service-account.uid");
            annotations.remove("kubectl.kubernetes.io/last-applied-configuration");
        }
    }
    if let Some(map) = v.as_object_mut() {
        for f in ["status", "data", "stringData"] {
            map.remove(f);
        }
    }
    v
}

/// One YAML document.
pub fn yaml<T: Serialize>(obj: &T) -> String {
    serde_saphyr::to_string(&comparable(obj)).expect("object serializes as YAML")
}

/// A line diff (`-` removed, `+` added, two spaces unchanged); `None` when equal.
pub fn diff(before: &str, after: &str) -> Option<String> {
    if before == after {
        return None;
    }
    let a: Vec<&str> = before.lines().collect();
    let b: Vec<&str> = after.lines().collect();
    // Longest common subsequence table, from the end.
    let mut lcs = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            lcs[i][j] = if a[i] == b[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let (mut i, mut j, mut lines) = (0, 0, Vec::new());
    while i < a.len() || j < b.len() {
        if i < a.len() && j < b.len() && a[i] == b[j] {
            lines.push(format!("  {}", a[i]));
            i += 1;
            j += 1;
        } else if i < a.len() && (j == b.len() || lcs[i + 1][j] >= lcs[i][j + 1]) {
            lines.push(format!("- {}", a[i]));
            i += 1;
        } else {
            lines.push(format!("+ {}", b[j]));
            j += 1;
        }
    }
    Some(with_context(&lines, DIFF_CONTEXT))
}

const DIFF_CONTEXT: usize = 3;

/// Keeps changed lines and `context` unchanged lines around each; `...` marks cuts.
fn with_context(lines: &[String], context: usize) -> String {
    let changed: Vec<usize> = (0..lines.len())
        .filter(|&k| !lines[k].starts_with("  "))
        .collect();
    let near = |k: usize| changed.iter().any(|&c| c.abs_diff(k) <= context);
    let mut out = String::new();
    let mut cut = false;
    for (k, line) in lines.iter().enumerate() {
        if near(k) {
            out.push_str(line);
            out.push('\n');
            cut = false;
        } else if !cut {
            out.push_str("  ...\n");
            cut = true;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diff_marks_changed_lines_and_cuts_far_unchanged_ones() {
        assert_eq!(diff("a\nb\n", "a\nb\n"), None);
        assert_eq!(
            diff("a\nb\nc\n", "a\nx\nc\n").unwrap(),
            "  a\n- b\n+ x\n  c\n"
        );
        let before: String = (0..20).map(|i| format!("{i}\n")).collect();
        let after = before.replace("10\n", "ten\n");
        let d = diff(&before, &after).unwrap();
        assert!(d.starts_with("  ...\n  7\n"), "{d}");
        assert!(d.contains("- 10\n+ ten\n"), "{d}");
        assert!(d.ends_with("  13\n  ...\n"), "{d}");
    }
}
