//! Findings about ServiceAccount objects and their token Secrets, whatever they are granted:
//! `long-lived-token`, `cloud-identity` and `unused-identity` (unbound, or a stale token).

use std::collections::BTreeSet;

use super::draft::{Draft, ObjKey};
use super::text::plural;
use super::{CLOUD_IDENTITY_ANNOTATIONS, Ctx, severity};
use crate::audit::model::{Meta, SubjectRef, TokenSecretData};
use crate::audit::resolve::{self, subject_label};
use crate::audit::rules;
use crate::managed::{IDENTITY_LABEL, MANAGED_BY, MANAGED_BY_LABEL, TOKEN_SECRET};

/// Seconds since the epoch of an RFC 3339 time or a plain date (midnight UTC).
pub(super) fn parse_time(text: &str) -> Option<i64> {
    if let Ok(ts) = text.parse::<jiff::Timestamp>() {
        return Some(ts.as_second());
    }
    let date = text.parse::<jiff::civil::Date>().ok()?;
    Some(
        date.to_zoned(jiff::tz::TimeZone::UTC)
            .ok()?
            .timestamp()
            .as_second(),
    )
}

impl<'a> Ctx<'a> {
    /// unused-identity, cloud-identity, long-lived-token.
    pub(super) fn service_account_objects(&mut self) {
        // Every ServiceAccount in scope: objects, and subjects of bindings (tokens may name
        // accounts that are gone).
        let mut accounts: BTreeSet<(&str, &str)> = BTreeSet::new();
        for m in &self.snapshot.service_accounts {
            if let Some(ns) = m.namespace.as_deref()
                && self.scope.service_account(ns, &m.name)
            {
                accounts.insert((ns, &m.name));
            }
        }
        for t in &self.snapshot.token_secrets {
            if let Some(ns) = t.meta.namespace.as_deref()
                && self.scope.service_account(ns, &t.service_account)
            {
                accounts.insert((ns, &t.service_account));
            }
        }
        for (ns, name) in accounts {
            let subject = resolve::service_account(ns, name);
            let meta = self.sa_meta.get(&(ns, name)).copied();
            let own = meta.map(|_| ObjKey::new("ServiceAccount", Some(ns), name));
            let tokens: Vec<&TokenSecretData> =
                self.tokens.get(&(ns, name)).cloned().unwrap_or_default();
            for t in &tokens {
                self.long_lived_token(&subject, own.clone(), t);
            }
            let Some(meta) = meta else {
                continue;
            };
            self.cloud_identity(&subject, &own, meta);
            if name != "default" {
                self.unused_identity(&subject, &own, &tokens);
            }
        }
    }

    fn cloud_identity(&mut self, subject: &SubjectRef, own: &Option<ObjKey>, meta: &Meta) {
        let cloud: Vec<String> = CLOUD_IDENTITY_ANNOTATIONS
            .iter()
            .filter_map(|k| meta.annotations.get(*k).map(|v| format!("{k}: {v}")))
            .collect();
        if cloud.is_empty() {
            return;
        }
        let who = subject_label(subject);
        let ns = subject.namespace.as_deref().unwrap_or("");
        self.push(
            Draft::new(rules::CLOUD_IDENTITY, subject.clone())
                .own(own.clone())
                .says(
                    format!(
                        "{who} is mapped to a cloud identity ({}): pods running as it, and whoever can create such pods or tokens for it, act in the cloud account with that role.",
                        cloud.join(", ")
                    ),
                    format!(
                        "Check that the cloud role is least-privilege and that no pipeline able to create workloads or tokens in namespace {ns} should hold it."
                    ),
                ),
        );
    }

    /// A ServiceAccount no binding names and without token Secrets, or its stale tokens.
    fn unused_identity(
        &mut self,
        subject: &SubjectRef,
        own: &Option<ObjKey>,
        tokens: &[&TokenSecretData],
    ) {
        let who = subject_label(subject);
        let ns = subject.namespace.as_deref().unwrap_or("");
        let draft = || Draft::new(rules::UNUSED_IDENTITY, subject.clone()).own(own.clone());
        let named_by_binding = self
            .resolution
            .subject(subject)
            .is_some_and(|sg| sg.direct().next().is_some());
        // Unbound can only be claimed when every binding could be read.
        let bindings_unread = resolve::has_gap(self.snapshot, "rolebindings")
            || resolve::has_gap(self.snapshot, "clusterrolebindings");
        if !named_by_binding && tokens.is_empty() && !bindings_unread {
            self.push(draft().says(
                format!(
                    "{who} is named by no RoleBinding or ClusterRoleBinding and has no token Secret: nothing in RBAC uses it (pods may still run as it; check before deleting)."
                ),
                format!(
                    "Delete {who} if no workload runs as it (kubectl get pods -n {ns} -o jsonpath='{{..serviceAccountName}}')."
                ),
            ));
            return;
        }
        let stale: Vec<(String, &TokenSecretData)> = tokens
            .iter()
            .filter_map(|t| self.stale_token(t).map(|why| (why, *t)))
            .collect();
        if stale.is_empty() {
            return;
        }
        let texts: Vec<String> = stale
            .iter()
            .map(|(why, t)| format!("token Secret {ns}/{} {why}", t.meta.name))
            .collect();
        self.push(
            draft()
                .paths(stale.iter().map(|(_, t)| vec![ObjKey::of_token(t)]).collect())
                .says(
                    format!("{who}'s {}.", texts.join("; ")),
                    format!(
                        "Delete the stale token Secret{} ({}); if a pipeline still uses it, move it to short-lived tokens first (`kubectl cicd rotate`).",
                        if stale.len() == 1 { "" } else { "s" },
                        stale
                            .iter()
                            .map(|(_, t)| format!("kubectl delete secret -n {ns} {}", t.meta.name))
                            .collect::<Vec<_>>()
                            .join("; ")
                    ),
                ),
        );
    }

    fn days_since(&self, text: &str) -> Option<i64> {
        Some((self.now? - parse_time(text)?).div_euclid(86_400))
    }

    /// Whether `t` is the token Secret kubectl-cicd made for its ServiceAccount and records
    /// as the one in use: `kubectl cicd rotate` replaces it, so its age says when it was last
    /// rotated.
    fn rotated_token(&self, t: &TokenSecretData) -> bool {
        let ns = t.meta.namespace.as_deref().unwrap_or("");
        let label = |key: &str| t.meta.labels.get(key).map(String::as_str);
        let ours = label(MANAGED_BY_LABEL) == Some(MANAGED_BY)
            && label(IDENTITY_LABEL) == Some(t.service_account.as_str());
        let recorded = self
            .sa_meta
            .get(&(ns, t.service_account.as_str()))
            .and_then(|sa| sa.annotations.get(TOKEN_SECRET))
            .is_some_and(|name| *name == t.meta.name);
        ours && recorded
    }

    /// Why a token Secret is stale, if it is.
    fn stale_token(&self, t: &TokenSecretData) -> Option<String> {
        if let Some(since) = &t.invalid_since {
            return Some(format!(
                "was invalidated on {since} by the legacy token cleaner (unused); the API server rejects it"
            ));
        }
        let limit = self.options.unused_token_days;
        if let Some(used) = &t.last_used {
            let days = self.days_since(used)?;
            return (days > limit)
                .then(|| format!("was last used on {used}, {days} days ago (more than {limit})"));
        }
        let created = t.meta.created.as_deref()?;
        let days = self.days_since(created)?;
        (days > limit).then(|| {
            format!(
                "has no recorded use (no kubernetes.io/legacy-token-last-used label) and was created {days} days ago (more than {limit})"
            )
        })
    }

    fn long_lived_token(&mut self, subject: &SubjectRef, own: Option<ObjKey>, t: &TokenSecretData) {
        let ns = t.meta.namespace.as_deref().unwrap_or("");
        let who = subject_label(subject);
        let mut facts = Vec::new();
        match t.meta.created.as_deref() {
            Some(c) => match self.days_since(c) {
                Some(d) => facts.push(format!(
                    "created {c} ({})",
                    plural(d.max(0) as usize, "day") + " ago"
                )),
                None => facts.push(format!("created {c}")),
            },
            None => facts.push("creation time unknown".into()),
        }
        match t.last_used.as_deref() {
            Some(u) => match self.days_since(u) {
                Some(d) => facts.push(format!(
                    "last used {u} ({} ago)",
                    plural(d.max(0) as usize, "day")
                )),
                None => facts.push(format!("last used {u}")),
            },
            None => {
                facts.push("no recorded use (no kubernetes.io/legacy-token-last-used label)".into())
            }
        }
        if let Some(since) = &t.invalid_since {
            facts.push(format!(
                "invalid since {since} (kubernetes.io/legacy-token-invalid-since: the API server rejects it)"
            ));
        }
        let limit = self.options.token_rotation_days;
        let age = t.meta.created.as_deref().and_then(|c| self.days_since(c));
        let rotated = self.rotated_token(t) && age.is_some_and(|d| d < limit);
        let fix = if self.rotated_token(t) {
            facts.push(format!(
                "made by kubectl-cicd as the token in use; rotated every {limit} days it is accepted below medium"
            ));
            format!(
                "Rotate it at least every {limit} days: `kubectl cicd rotate {} -n {ns} --force` issues a new token Secret, rewrites the kubeconfig and deletes this one; or move to short-lived tokens with `--token request`.",
                subject.name
            )
        } else {
            format!(
                "Move the pipeline to short-lived tokens (`kubectl cicd init --token request`, or `kubectl create token {} -n {ns} --duration 24h`), rotate with `kubectl cicd rotate`, then `kubectl delete secret -n {ns} {}`.",
                subject.name, t.meta.name
            )
        };
        self.push(
            Draft::new(rules::LONG_LIVED_TOKEN, subject.clone())
                .severity(severity::long_lived_token(rotated))
                .own(own)
                .paths(vec![vec![ObjKey::of_token(t)]])
                .says(
                    format!(
                        "Secret {ns}/{} (type kubernetes.io/service-account-token) holds a non-expiring token for {who}: {}.",
                        t.meta.name,
                        facts.join("; ")
                    ),
                    fix,
                ),
        );
    }
}
