//! The default output, for people: gaps first, then findings grouped by identity with a
//! coloured severity, the evidence, the path that grants it, one line of why and one of fix;
//! accepted findings shown as accepted with their reason; the summary and the gate last.

use std::fmt::Write;

use console::Style;

use super::{
    Context, by_subject, gate_text, open_counts, rule_texts, scope_text, severity_name,
    subject_text, via_text,
};
use crate::audit::model::{BaselineState, Finding, Report, Severity};
use crate::text::{one_line, printable};

/// Colours, or none (`NO_COLOR`, not a terminal).
struct Paint {
    color: bool,
}

impl Paint {
    fn style(&self, s: Style) -> Style {
        s.force_styling(self.color)
    }

    fn severity(&self, sev: Severity, text: &str) -> String {
        let s = match sev {
            Severity::Critical => Style::new().red().bold().reverse(),
            Severity::High => Style::new().red().bold(),
            Severity::Medium => Style::new().yellow(),
            Severity::Low => Style::new().cyan(),
            Severity::Info => Style::new().dim(),
        };
        self.style(s).apply_to(text).to_string()
    }

    fn accepted(&self, text: &str) -> String {
        self.style(Style::new().green()).apply_to(text).to_string()
    }

    fn bold(&self, text: &str) -> String {
        self.style(Style::new().bold()).apply_to(text).to_string()
    }

    fn dim(&self, text: &str) -> String {
        self.style(Style::new().dim()).apply_to(text).to_string()
    }

    fn warn(&self, text: &str) -> String {
        self.style(Style::new().yellow().bold())
            .apply_to(text)
            .to_string()
    }
}

const LABEL_WIDTH: usize = 9;
const INDENT: &str = "            ";

/// Renders the table; `color` adds ANSI colours. Text from the cluster is shown with its
/// control characters escaped.
pub fn render(report: &Report, ctx: &Context, color: bool) -> String {
    let report = &super::printable_report(report);
    let server = one_line(ctx.server);
    let p = Paint { color };
    let mut out = String::new();
    let on = if server.is_empty() {
        report.cluster.clone()
    } else {
        format!("{} ({server})", report.cluster)
    };
    let _ = writeln!(
        out,
        "{}",
        p.bold(&format!(
            "RBAC audit of {} on {on} as {}, {}",
            scope_text(&report.scope),
            report.generated_by,
            report.generated_at
        ))
    );
    if !report.scope.all_namespaces && report.scope.service_account.is_none() {
        let _ = writeln!(
            out,
            "{}",
            p.dim("(with the cluster-wide bindings that reach into it; -A for every namespace)")
        );
    }
    if !report.gaps.is_empty() {
        let _ = writeln!(
            out,
            "\n{}",
            p.warn("Not audited: these could not be read, so findings there may be missing")
        );
        for gap in &report.gaps {
            let _ = writeln!(out, "  ! {gap}");
        }
    }

    if let Some(matrix) = ctx.matrix {
        let _ = writeln!(out);
        out.push_str(&printable(&super::matrix::render(matrix)));
    }

    if report.findings.is_empty() {
        let _ = writeln!(out, "\nNo findings.");
    }
    match &report.baseline_file {
        None => findings_block(&mut out, &report.findings, &p),
        Some(file) => {
            // New findings first: they are what the baseline did not accept.
            let (new, unchanged): (Vec<Finding>, Vec<Finding>) = report
                .findings
                .iter()
                .cloned()
                .partition(|f| f.baseline == Some(BaselineState::New));
            let _ = writeln!(
                out,
                "\n{}",
                p.bold(&format!("New since the baseline {file}: {}", new.len()))
            );
            findings_block(&mut out, &new, &p);
            if !unchanged.is_empty() {
                let _ = writeln!(
                    out,
                    "\n{}",
                    p.bold(&format!(
                        "Unchanged since the baseline: {}",
                        unchanged.len()
                    ))
                );
                findings_block(&mut out, &unchanged, &p);
            }
            if !report.fixed.is_empty() {
                let _ = writeln!(
                    out,
                    "\n{}",
                    p.bold(&format!("Fixed since the baseline: {}", report.fixed.len()))
                );
                for f in &report.fixed {
                    let _ = writeln!(
                        out,
                        "  {} {}  {}",
                        p.accepted(&format!("{:<LABEL_WIDTH$}", "FIXED")),
                        f.rule,
                        subject_text(&f.subject)
                    );
                }
            }
        }
    }

    let counts = open_counts(&report.findings)
        .iter()
        .map(|(s, n)| {
            let text = format!("{n} {}", severity_name(*s));
            if *n > 0 { p.severity(*s, &text) } else { text }
        })
        .collect::<Vec<_>>()
        .join(", ");
    let accepted = report
        .findings
        .iter()
        .filter(|f| f.accepted.is_some())
        .count();
    let subjects = by_subject(&report.findings).len();
    let _ = writeln!(
        out,
        "\n{} {counts} open; {accepted} accepted; {subjects} {}.",
        p.bold("Summary:"),
        if subjects == 1 {
            "identity or object"
        } else {
            "identities and objects"
        }
    );
    if !report.gaps.is_empty() {
        let _ = writeln!(
            out,
            "{}",
            p.warn(&format!(
                "Incomplete: {} collection(s) could not be read (see above).",
                report.gaps.len()
            ))
        );
    }
    let _ = writeln!(out, "{}", gate_text(report, ctx.fail_on, ctx.allow_gaps));
    out
}

/// The table for stdout: coloured and wrapped to the terminal's width when stdout is a
/// terminal; unwrapped in a pipe or a file, where a line is one record for grep.
pub fn for_stdout(report: &Report, ctx: &Context) -> String {
    let text = render(report, ctx, crate::ui::stdout_color());
    match crate::ui::stdout_width() {
        Some(width) => fit(&text, width),
        None => text,
    }
}

/// Wraps every line of `text` wider than `width`, each continuation aligned under what the
/// line is about: a finding's text under its `why:` and `fix:` lines, a `why:` or `fix:`
/// under its first word.
pub fn fit(text: &str, width: usize) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 16);
    for line in text.lines() {
        out.push_str(&crate::text::wrap_words(
            line,
            width,
            hanging_indent(line),
            crate::text::LongWord::Keep,
        ));
        out.push('\n');
    }
    out
}

fn hanging_indent(line: &str) -> usize {
    let plain = console::strip_ansi_codes(line);
    let lead = plain.len() - plain.trim_start_matches(' ').len();
    let first = plain[lead..].split(' ').next().unwrap_or("");
    let label = first.len() > 1 && first.chars().all(|c| c.is_ascii_uppercase());
    if lead == 2 && label {
        // "  HIGH      secrets-read  ...": under the finding's why: and fix:.
        INDENT.len()
    } else if lead >= INDENT.len() && first.ends_with(':') {
        lead + first.len() + 1
    } else {
        lead + 2
    }
}

/// Findings grouped by identity, each with its evidence, path, location, why and fix.
fn findings_block(out: &mut String, findings: &[Finding], p: &Paint) {
    for (subject, findings) in by_subject(findings) {
        let _ = writeln!(out, "\n{}", p.bold(&subject_text(subject)));
        for f in findings {
            let (title, why, _fix) = rule_texts(&f.rule);
            let label = match &f.accepted {
                None => p.severity(
                    f.severity,
                    &format!("{:<LABEL_WIDTH$}", severity_name(f.severity).to_uppercase()),
                ),
                Some(_) => p.accepted(&format!("{:<LABEL_WIDTH$}", "ACCEPTED")),
            };
            let rule = match &f.accepted {
                None => f.rule.clone(),
                Some(_) => format!("{} ({})", f.rule, severity_name(f.severity)),
            };
            let headline = if title.is_empty() {
                f.evidence.clone()
            } else {
                format!("{title}: {}", f.evidence)
            };
            let _ = writeln!(out, "  {label} {}  {headline}", p.bold(&rule));
            if let Some(at) = &f.location {
                let _ = writeln!(out, "{INDENT}at {}:{}", at.file, at.line);
            }
            if !f.via.is_empty() {
                let _ = writeln!(out, "{INDENT}{}", p.dim(&format!("via {}", via_text(f))));
            }
            if let Some(a) = &f.accepted {
                let _ = writeln!(
                    out,
                    "{INDENT}{} {} ({})",
                    p.accepted("accepted:"),
                    a.reason,
                    a.source
                );
            }
            if !why.is_empty() {
                let _ = writeln!(out, "{INDENT}why: {why}");
            }
            let _ = writeln!(out, "{INDENT}fix: {}", f.remediation);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{ctx, sample};
    use super::*;

    #[test]
    fn plain_text_has_gaps_first_groups_by_subject_and_ends_with_the_gate() {
        let text = render(&sample(), &ctx(), false);
        assert!(!text.contains('\u{1b}'), "no colour: {text}");
        let gap = text.find("! clusterrolebindings: forbidden").expect(&text);
        let argocd = text
            .find("ServiceAccount argocd/argocd-application-controller")
            .expect(&text);
        let ci = text.find("ServiceAccount team-a/ci").expect(&text);
        assert!(gap < argocd && argocd < ci, "{text}");
        assert!(text.contains("  HIGH      secrets-read  "), "{text}");
        assert!(text.contains("  ACCEPTED  wildcard (high)  "), "{text}");
        assert!(
            text.contains("accepted: Helm needs it | for now (--ignore wildcard:team-a/ci)"),
            "{text}"
        );
        assert!(text.contains("fix: remove secrets-read from ci"), "{text}");
        assert!(
            text.contains("via RoleBinding team-a/ci → Role team-a/ci"),
            "{text}"
        );
        assert!(
            text.contains("Summary: 1 critical, 1 high, 1 medium, 1 low, 0 info open; 1 accepted"),
            "{text}"
        );
        assert!(
            text.trim_end()
                .ends_with("FAIL: 2 open findings at or above high (--fail-on high)"),
            "{text}"
        );
    }

    #[test]
    fn fitted_lines_stay_within_the_width_and_keep_every_word() {
        let text = render(&sample(), &ctx(), false);
        let fitted = fit(&text, 80);
        for line in fitted.lines() {
            let long_word = line.split(' ').any(|w| w.chars().count() > 60);
            assert!(line.chars().count() <= 80 || long_word, "{line}");
        }
        let words = |t: &str| t.split_whitespace().map(str::to_string).collect::<Vec<_>>();
        assert_eq!(words(&fitted), words(&text));
        let lines: Vec<&str> = fitted.lines().collect();
        let why = lines
            .iter()
            .position(|l| l.trim_start().starts_with("why: get, list or watch"))
            .expect(&fitted);
        let under_why = format!("{INDENT}     ");
        assert!(
            lines[why + 1].starts_with(&under_why)
                && !lines[why + 1][under_why.len()..].starts_with(' '),
            "a why: continues under its text: {fitted}"
        );
        let finding = lines
            .iter()
            .position(|l| l.starts_with("  HIGH      secrets-read"))
            .expect(&fitted);
        assert!(
            lines[finding].len() <= 80 && lines[finding + 1].starts_with(INDENT),
            "a finding continues under its why: and fix: {fitted}"
        );
        assert_eq!(fit("short line", 80), "short line\n");
    }

    #[test]
    fn colour_only_when_asked() {
        let text = render(&sample(), &ctx(), true);
        assert!(text.contains('\u{1b}'), "{text}");
    }
}
