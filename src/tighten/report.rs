//! What `tighten` tells the person running it, all on stderr: the evidence and how far it
//! can be trusted, the current and proposed Role as a diff, what would be taken away, the
//! requests that were denied (with a hint when one looks like a real need), and what was
//! allowed by something other than the Role.

use crate::auditlog::time::{format, span_words};
use crate::auditlog::{Action, Seen, Usage};
use crate::rbac::{self, Rule};
use crate::ui::Ui;

use super::evidence::Evidence;
use crate::auditlog::role::{Proposal, taken_away_by_target};

/// Evidence shorter than this gets a warning: a weekly job would not show in it.
pub const SHORT_EVIDENCE_SECS: i64 = 7 * 86_400;
/// At most this many lines of one list are shown; the rest are counted.
const MAX_LINES: usize = 40;

/// Where the evidence comes from, its span, and the warnings about it.
pub fn evidence(ui: &Ui, ev: &Evidence) {
    let scan = &ev.scan;
    for f in &scan.files {
        if f.lines == 0 {
            ui.warn(format!("{} is empty", f.label));
        }
        if f.unreadable > 0 {
            ui.warn(format!(
                "{}: {} lines naming the identity are not audit events (broken or cut-off JSON); they were skipped",
                f.label,
                thousands(f.unreadable)
            ));
        }
        if f.too_long > 0 {
            ui.warn(format!(
                "{}: {} lines longer than {} MiB were skipped",
                f.label,
                thousands(f.too_long),
                crate::auditlog::read::MAX_LINE >> 20
            ));
        }
    }
    let (Some(first), Some(last)) = (scan.first, scan.last) else {
        return;
    };
    ui.heading("Evidence");
    ui.say(format!(
        "  the logs run from {} to {} ({})",
        format(first),
        format(last),
        span_words(last - first)
    ));
    if let (Some(a), Some(b)) = (ev.usage.first, ev.usage.last) {
        ui.say(format!(
            "  the identity's requests from {} to {}: {} allowed, {} denied",
            format(a),
            format(b),
            thousands(ev.usage.allowed_requests()),
            thousands(ev.usage.denied_requests())
        ));
    }
    if last - first < SHORT_EVIDENCE_SECS {
        ui.warn(format!(
            "the logs span only {}: a step that runs less often (a weekly job, a release, a rollback) \
             may need what would be taken away. Collect at least 7 days of logs before --apply",
            span_words(last - first)
        ));
    }
    if reads_missing(&ev.usage) {
        ui.warn(
            "the logs hold the identity's changes but not one read (get, list, watch): an export that leaves \
             reads out (AKS's kube-audit-admin category, an audit policy logging writes only) would have \
             tighten take away reads the pipeline needs. Use logs with every request",
        );
    }
    let gaps = scan.gaps();
    for (hour, hours) in gaps.iter().take(5) {
        ui.warn(format!(
            "the logs have no event at all from {} for {} h: a log file missing? Requests made then are not counted",
            format(hour * 3600),
            hours
        ));
    }
    if gaps.len() > 5 {
        ui.warn(format!("... and {} more gaps", gaps.len() - 5));
    }
    if scan.hours.is_some() && !scan.others {
        ui.dim(
            "  (the logs hold only this identity's events, so gaps in them cannot be told from quiet hours)",
        );
    }
}

/// Writes were allowed and logged, reads never: the logs likely leave reads out.
pub fn reads_missing(usage: &Usage) -> bool {
    let is_read = |verb: &str| matches!(verb, "get" | "list" | "watch");
    let resource = usage.allowed.keys().filter(|a| !a.is_path());
    let (mut reads, mut writes) = (0, 0);
    for a in resource {
        if is_read(&a.verb) {
            reads += 1;
        } else {
            writes += 1;
        }
    }
    writes > 0 && reads == 0
}

/// The current Role's rules and the proposed ones, as a YAML diff.
pub fn diff(ui: &Ui, label: &str, current: &[Rule], proposed: &[Rule]) {
    ui.heading(format!("{label}: rules now (-) and proposed (+)"));
    let text = |rules: &[Rule]| rules_yaml(rules);
    match crate::preview::diff(&text(current), &text(proposed)) {
        Some(d) => {
            for line in d.lines() {
                ui.say(format!("  {line}"));
            }
        }
        None => ui.say("  (the same rules)"),
    }
}

/// `rules:` as in the Role's YAML.
pub fn rules_yaml(rules: &[Rule]) -> String {
    let policy: Vec<k8s_openapi::api::rbac::v1::PolicyRule> =
        rules.iter().map(Into::into).collect();
    crate::preview::yaml(&serde_json::json!({ "rules": policy }))
}

/// What the proposal takes away, one line per resource.
pub fn taken_away(ui: &Ui, p: &Proposal) {
    if p.unchanged() {
        ui.ok("The Role grants only what the identity used: nothing to take away");
        return;
    }
    ui.heading("Taken away (never used in the logs)");
    let lines: Vec<String> = taken_away_by_target(&p.taken_away)
        .into_iter()
        .map(|(target, verbs)| format!("  {target}: {}", verbs.join(" ")))
        .collect();
    say_lines(ui, &lines);
    for action in &p.many_names {
        ui.warn(format!(
            "{action}: more than {} objects named, so the Role keeps it for every object",
            crate::auditlog::usage::MAX_NAMES
        ));
    }
}

/// The denied requests, each with a hint.
pub fn denied(ui: &Ui, usage: &Usage, namespace: &str) {
    if usage.denied.is_empty() {
        return;
    }
    ui.heading(format!(
        "Denied (403): what the identity tried and was not allowed, {} distinct",
        usage.denied.len()
    ));
    let lines: Vec<String> = usage
        .denied
        .iter()
        .map(|(action, seen)| {
            format!(
                "  {action}: {}; {}",
                times(seen),
                denied_hint(action, seen, usage, namespace)
            )
        })
        .collect();
    say_lines(ui, &lines);
}

/// What the identity was allowed that is not this Role's to grant.
pub fn elsewhere(ui: &Ui, p: &Proposal) {
    if p.elsewhere.is_empty() && p.skipped.is_empty() {
        return;
    }
    ui.heading("Allowed, but not through this Role (left as it is)");
    let mut lines: Vec<String> = p
        .elsewhere
        .iter()
        .map(|(action, why)| format!("  {action}: {why}"))
        .collect();
    lines.extend(
        p.skipped
            .iter()
            .map(|r| format!("  {r}: holds a wildcard, never granted")),
    );
    say_lines(ui, &lines);
}

/// Why a denied request was denied and whether it looks like something the pipeline needs.
pub fn denied_hint(action: &Action, seen: &Seen, usage: &Usage, namespace: &str) -> String {
    let Some(req) = action.request() else {
        return "a non-resource URL: only a ClusterRole can grant it".into();
    };
    if action.namespace.is_empty() {
        return "cluster-scoped: a Role cannot grant it (only a ClusterRole and a ClusterRoleBinding can)".into();
    }
    if action.namespace != namespace {
        return format!(
            "in namespace {}: the identity's Role grants only in {namespace}",
            action.namespace
        );
    }
    if action.group.is_empty() && action.resource == "namespaces" && action.verb == "get" {
        // `GET /api/v1/namespaces/NS` counts as being in namespace NS.
        return "kubectl looks up the namespace it works in and carries on when refused: no need shown, \
                unless a step failed"
            .into();
    }
    let mut parts = Vec::new();
    let uses_kind = usage.allowed.keys().any(|a| {
        a.namespace == action.namespace && a.group == action.group && a.resource == action.resource
    });
    if seen.count >= 2 || seen.days() >= 2 || uses_kind {
        let mut why = vec![if seen.count >= 2 {
            format!("tried {} times", seen.count)
        } else {
            "tried".to_string()
        }];
        if seen.days() >= 2 {
            why.push(format!("on {} days", seen.days()));
        }
        if uses_kind {
            why.push("on a kind it uses".into());
        }
        parts.push(format!(
            "looks like a real need ({}): if the pipeline needs it, grant it on purpose; tighten only takes away",
            why.join(", ")
        ));
    } else {
        parts.push("tried once: likely a probe (a tool looking around), no need shown".into());
    }
    let risky: Vec<&'static str> = rbac::risky_findings(&[rbac::request_rule(&req)])
        .into_iter()
        .filter(|r| r.blocks_init())
        .map(|r| r.category.id())
        .collect();
    if !risky.is_empty() {
        parts.push(format!(
            "risky ({}): grant it only after a review (kubectl cicd init --allow-risky)",
            risky.join(", ")
        ));
    }
    parts.join("; ")
}

fn times(seen: &Seen) -> String {
    let n = if seen.count == 1 {
        "once".to_string()
    } else {
        format!("{} times", thousands(seen.count))
    };
    match (seen.first, seen.last) {
        (Some(a), Some(b)) if a == b => format!("{n}, at {}", format(a)),
        (Some(a), Some(b)) => format!("{n}, {} to {}", format(a), format(b)),
        _ => n,
    }
}

fn say_lines(ui: &Ui, lines: &[String]) {
    for line in lines.iter().take(MAX_LINES) {
        ui.say(line);
    }
    if lines.len() > MAX_LINES {
        ui.say(format!("  ... and {} more", lines.len() - MAX_LINES));
    }
}

/// `1,234,567`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `1.2 GB`, `350 MB`, `12 kB`, `512 B` (powers of 1000, as `ls -h --si`).
pub fn bytes_words(n: u64) -> String {
    let f = n as f64;
    match n {
        0..1_000 => format!("{n} B"),
        1_000..1_000_000 => format!("{:.0} kB", f / 1e3),
        1_000_000..1_000_000_000 => format!("{:.0} MB", f / 1e6),
        _ => format!("{:.1} GB", f / 1e9),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auditlog::{Decision, Event};

    fn event(verb: &str, resource: &str, decision: Decision, time: i64) -> Event {
        Event {
            user: "system:serviceaccount:shop:ci-cd".into(),
            stage: "ResponseComplete".into(),
            verb: verb.into(),
            group: String::new(),
            resource: resource.into(),
            subresource: String::new(),
            namespace: "shop".into(),
            name: String::new(),
            path: String::new(),
            code: 403,
            decision,
            time: Some(time),
        }
    }

    fn hint(usage: &Usage, verb: &str, resource: &str) -> String {
        let (action, seen) = usage
            .denied
            .iter()
            .find(|(a, _)| a.verb == verb && a.resource == resource)
            .unwrap();
        denied_hint(action, seen, usage, "shop")
    }

    #[test]
    fn a_denial_looks_like_a_need_when_repeated_or_on_a_kind_in_use() {
        let mut u = Usage::default();
        u.add(&event("get", "pods", Decision::Denied, 10));
        u.add(&event("create", "configmaps", Decision::Denied, 10));
        u.add(&event("create", "configmaps", Decision::Denied, 20));
        u.add(&event("get", "services", Decision::Allowed, 10));
        u.add(&event("patch", "services", Decision::Denied, 10));
        u.add(&event("get", "secrets", Decision::Denied, 10));
        u.add(&event("get", "secrets", Decision::Denied, 10 + 3 * 86_400));
        assert!(hint(&u, "get", "pods").starts_with("tried once: likely a probe"));
        assert!(
            hint(&u, "create", "configmaps").contains("looks like a real need (tried 2 times)")
        );
        assert!(hint(&u, "patch", "services").contains("(tried, on a kind it uses)"));
        let secrets = hint(&u, "get", "secrets");
        assert!(secrets.contains("tried 2 times, on 4 days"), "{secrets}");
        assert!(secrets.contains("risky (secrets)"), "{secrets}");
    }

    #[test]
    fn kubectls_look_up_of_its_namespace_is_no_need() {
        let mut u = Usage::default();
        for _ in 0..3 {
            u.add(&event("get", "namespaces", Decision::Denied, 1));
        }
        assert!(hint(&u, "get", "namespaces").starts_with("kubectl looks up the namespace"));
    }

    #[test]
    fn denials_a_role_cannot_fix_say_so() {
        let mut u = Usage::default();
        let mut ns = event("list", "namespaces", Decision::Denied, 1);
        ns.namespace.clear();
        u.add(&ns);
        let mut other = event("get", "pods", Decision::Denied, 1);
        other.namespace = "prod".into();
        u.add(&other);
        assert!(hint(&u, "list", "namespaces").starts_with("cluster-scoped"));
        assert!(hint(&u, "get", "pods").contains("in namespace prod"));
    }

    #[test]
    fn logs_without_reads_are_told_apart() {
        let mut u = Usage::default();
        u.add(&event("create", "configmaps", Decision::Allowed, 1));
        assert!(reads_missing(&u), "a write and no read");
        u.add(&event("get", "configmaps", Decision::Allowed, 1));
        assert!(!reads_missing(&u));
        assert!(!reads_missing(&Usage::default()));
    }

    #[test]
    fn numbers_read_at_a_glance() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(1234567), "1,234,567");
        assert_eq!(bytes_words(999), "999 B");
        assert_eq!(bytes_words(1_240_000_000), "1.2 GB");
        assert_eq!(bytes_words(350_000_000), "350 MB");
    }

    #[test]
    fn rules_render_as_the_roles_yaml() {
        let y = rules_yaml(&[Rule::resource(&["apps"], &["deployments"], &["get"])]);
        assert_eq!(
            y,
            "rules:\n- apiGroups:\n  - apps\n  resources:\n  - deployments\n  verbs:\n  - get\n"
        );
    }
}
