//! Which findings are accepted, by an ignore annotation on an object behind them or by an
//! `--ignore` flag, and the `invalid-exception` rule for annotations that cannot accept
//! anything. (The annotations and flags themselves are parsed in [`crate::audit::exceptions`].)

use std::collections::HashMap;

use super::Ctx;
use super::draft::{Draft, ObjKey};
use super::text::dedup;
use crate::audit::exceptions::{
    AnnotationException, IGNORE_ANNOTATION, IGNORE_REASON_ANNOTATION, Ignore, annotation_exception,
};
use crate::audit::model::{Accepted, Meta, Snapshot, SubjectRef};
use crate::audit::rules;

/// Every object of the snapshot that carries an ignore annotation, with what it says.
pub(super) fn annotated<'a>(
    snapshot: &'a Snapshot,
) -> HashMap<ObjKey, (&'a Meta, AnnotationException)> {
    let mut annotated = HashMap::new();
    let mut note = |key: ObjKey, meta: &'a Meta| {
        if meta.annotations.contains_key(IGNORE_ANNOTATION)
            && let Some(e) = annotation_exception(meta)
        {
            annotated.insert(key, (meta, e));
        }
    };
    for m in &snapshot.service_accounts {
        note(
            ObjKey::new("ServiceAccount", m.namespace.as_deref(), &m.name),
            m,
        );
    }
    for r in &snapshot.roles {
        note(
            ObjKey::new("Role", r.meta.namespace.as_deref(), &r.meta.name),
            &r.meta,
        );
    }
    for r in &snapshot.cluster_roles {
        note(ObjKey::new("ClusterRole", None, &r.meta.name), &r.meta);
    }
    for b in &snapshot.role_bindings {
        note(ObjKey::of_binding(b, false), &b.meta);
    }
    for b in &snapshot.cluster_role_bindings {
        note(ObjKey::of_binding(b, true), &b.meta);
    }
    for t in &snapshot.token_secrets {
        note(ObjKey::of_token(t), &t.meta);
    }
    annotated
}

impl<'a> Ctx<'a> {
    /// invalid-exception, on every involved or in-scope object carrying a bad annotation.
    pub(super) fn invalid_exceptions(&mut self) {
        if self.annotated.is_empty() {
            return;
        }
        // In-scope objects besides those findings touched.
        for m in &self.snapshot.service_accounts {
            if let Some(ns) = m.namespace.as_deref()
                && self.scope.service_account(ns, &m.name)
            {
                self.involved
                    .insert(ObjKey::new("ServiceAccount", Some(ns), &m.name));
            }
        }
        for b in &self.snapshot.role_bindings {
            if self.scope.binding_reaches(b, false) {
                self.involved.insert(ObjKey::of_binding(b, false));
            }
        }
        for b in &self.snapshot.cluster_role_bindings {
            if self.scope.binding_reaches(b, true) {
                self.involved.insert(ObjKey::of_binding(b, true));
            }
        }
        if self.scope.service_account.is_none() {
            for r in &self.snapshot.roles {
                if r.meta
                    .namespace
                    .as_deref()
                    .is_some_and(|n| self.scope.namespace(n))
                {
                    self.involved.insert(ObjKey::new(
                        "Role",
                        r.meta.namespace.as_deref(),
                        &r.meta.name,
                    ));
                }
            }
        }
        for t in &self.snapshot.token_secrets {
            if let Some(ns) = t.meta.namespace.as_deref()
                && self.scope.service_account(ns, &t.service_account)
            {
                self.involved.insert(ObjKey::of_token(t));
            }
        }
        let mut drafts = Vec::new();
        for key in &self.involved {
            let Some((meta, exception)) = self.annotated.get(key) else {
                continue;
            };
            let Some(problem) = exception.problem() else {
                continue;
            };
            let label = key.label();
            let listed = meta
                .annotations
                .get(IGNORE_ANNOTATION)
                .cloned()
                .unwrap_or_default();
            let subject = SubjectRef {
                kind: key.kind.to_string(),
                name: key.name.clone(),
                namespace: key.namespace.clone(),
            };
            drafts.push(Draft::new(rules::INVALID_EXCEPTION, subject).says(
                format!("{label} carries {IGNORE_ANNOTATION}: {listed:?} but {problem}."),
                format!(
                    "Add {IGNORE_REASON_ANNOTATION}: \"<why this is accepted>\" to {label} and list only rule ids from docs/audit-rules.md (kubectl annotate {} {}{} {IGNORE_REASON_ANNOTATION}='...'), or remove the annotation.",
                    key.kind.to_lowercase(),
                    key.name,
                    key.namespace.as_deref().map(|n| format!(" -n {n}")).unwrap_or_default(),
                ),
            ));
        }
        // Pushed once the loop over `involved` is done.
        for d in drafts {
            self.push(d);
        }
    }

    /// Accepted when the subject's own object carries an exception for the rule, or every
    /// grant behind the finding does on its binding or role.
    pub(super) fn accepted_by_annotation(&self, d: &Draft) -> Option<Accepted> {
        if d.rule == rules::INVALID_EXCEPTION || self.annotated.is_empty() {
            return None;
        }
        let accepts = |k: &ObjKey| {
            self.annotated
                .get(k)
                .filter(|(_, e)| e.accepts(d.rule.id))
                .map(|(_, e)| (k.label(), e.reason.clone().unwrap_or_default()))
        };
        let found: Vec<(String, String)> = if let Some(hit) = d.own.as_ref().and_then(accepts) {
            vec![hit]
        } else {
            if d.paths.is_empty() {
                return None;
            }
            let mut hits = Vec::new();
            for path in &d.paths {
                hits.push(path.iter().find_map(accepts)?);
            }
            hits
        };
        let sources = dedup(found.iter().map(|(l, _)| l.clone()).collect());
        let reasons = dedup(found.iter().map(|(_, r)| r.clone()).collect());
        Some(Accepted {
            reason: reasons.join("; "),
            source: format!("annotation {IGNORE_ANNOTATION} on {}", sources.join(", ")),
        })
    }

    /// Accepted by an `--ignore` flag naming the rule and, if it names one, the subject or an
    /// object behind the finding.
    pub(super) fn accepted_by_flag(&self, d: &Draft) -> Option<Accepted> {
        if self.options.ignores.is_empty() {
            return None;
        }
        let mut names: Vec<(Option<&str>, &str)> =
            vec![(d.subject.namespace.as_deref(), d.subject.name.as_str())];
        for k in d.own.iter().chain(d.paths.iter().flatten()) {
            names.push((k.namespace.as_deref(), k.name.as_str()));
        }
        self.options
            .ignores
            .iter()
            .find(|i| i.matches(d.rule.id, names.iter().copied()))
            .map(Ignore::accepted)
    }
}
