//! Findings about RBAC objects rather than identities: bindings (`missing-role`,
//! `broad-group-binding`), Roles managed by `kubectl cicd init` (`drift`, and with an audit
//! log `unused-permission`) and namespaces (`many-subjects`).

use std::collections::{BTreeMap, BTreeSet};

use super::draft::{Draft, ObjKey};
use super::probe::role_key;
use super::text::{list_names, plural};
use super::{Ctx, severity};
use crate::audit::model::{BindingData, RoleData, SubjectRef};
use crate::audit::resolve::{self, Grant, SubjectClass, is_broad_group, subject_label};
use crate::audit::rules;
use crate::auditlog::Usage;
use crate::managed::{IDENTITY_LABEL, INTENDED_RULES, MANAGED_BY, MANAGED_BY_LABEL};
use crate::rbac::{Rule, compact_string};

impl<'a> Ctx<'a> {
    /// missing-role, broad-group-binding.
    pub(super) fn binding_findings(&mut self) {
        self.missing_roles();
        self.broad_group_bindings();
    }

    fn missing_roles(&mut self) {
        let resolution = self.resolution;
        for m in &resolution.missing_roles {
            let b = m.binding;
            if resolve::is_builtin_binding(b) || !self.scope.binding_reaches(b, m.cluster_binding) {
                continue;
            }
            let g = Grant {
                binding: b,
                cluster_binding: m.cluster_binding,
                role: None,
                group: None,
                builtin: false,
            };
            let subjects: Vec<String> = b
                .subjects
                .iter()
                .filter_map(|s| resolve::subject_of(&s.kind, &s.name, s.namespace.as_deref()))
                .map(|s| subject_label(&s))
                .collect();
            let role_name = &b.role_ref.name;
            let where_ = match g.namespace() {
                Some(ns) if b.role_ref.kind == "Role" => format!(" in namespace {ns}"),
                _ => String::new(),
            };
            self.push(
                Draft::new(rules::MISSING_ROLE, binding_subject(b, m.cluster_binding))
                    .own(Some(ObjKey::of_binding(b, m.cluster_binding)))
                    .via([g.via()])
                    .says(
                        format!(
                            "{} refers to {}, which does not exist: it grants nothing now, and whoever creates a {} named {role_name}{where_} grants it to {}.",
                            g.binding_label(),
                            g.role_label(),
                            if b.role_ref.kind.is_empty() { "role" } else { b.role_ref.kind.as_str() },
                            if subjects.is_empty() { "nobody yet".to_string() } else { subjects.join(", ") }
                        ),
                        format!(
                            "Delete {} (kubectl delete {} {}{}), or create the {} it was meant to reference.",
                            g.binding_label(),
                            g.binding_kind().to_lowercase(),
                            b.meta.name,
                            g.namespace().map(|n| format!(" -n {n}")).unwrap_or_default(),
                            g.role_label()
                        ),
                    ),
            );
        }
    }

    /// Bindings to a broad group, reported once on the binding.
    fn broad_group_bindings(&mut self) {
        let resolution = self.resolution;
        for g in &resolution.bindings {
            let (b, cluster) = (g.binding, g.cluster_binding);
            if g.builtin {
                continue;
            }
            let groups: Vec<&str> = b
                .subjects
                .iter()
                .filter(|s| s.kind == "Group" && is_broad_group(&s.name))
                .map(|s| s.name.as_str())
                .collect();
            if groups.is_empty() || !self.scope.binding_reaches(b, cluster) {
                continue;
            }
            let ns = if cluster {
                ""
            } else {
                b.meta.namespace.as_deref().unwrap_or("")
            };
            let implied = match g.role {
                Some(role) => self.implied_rules(g, role),
                None => vec![],
            };
            let own_namespace_only = !cluster
                && groups.iter().all(|gname| {
                    gname
                        .strip_prefix(resolve::NAMESPACE_SERVICE_ACCOUNTS_PREFIX)
                        .is_some_and(|n| n == ns)
                });
            let who: Vec<String> = groups.iter().map(|gname| describe_group(gname)).collect();
            self.push(
                Draft::new(rules::BROAD_GROUP_BINDING, binding_subject(b, cluster))
                    .severity(severity::broad_group(own_namespace_only))
                    .own(Some(ObjKey::of_binding(b, cluster)))
                    .through(&[g])
                    .says(
                        format!(
                            "{} grants {}{} to {}{}.{}",
                            g.binding_label(),
                            g.role_label(),
                            if g.role.is_none() { " (missing)" } else { "" },
                            who.join(" and "),
                            if implied.is_empty() {
                                String::new()
                            } else {
                                format!(", which includes {}", implied.join(", "))
                            },
                            match self.scope.service_account {
                                Some(sa) => format!(" It reaches the audited ServiceAccount {sa}."),
                                None => String::new(),
                            }
                        ),
                        format!(
                            "Bind {} to the specific ServiceAccounts, users or groups that need it instead of {}.",
                            g.role_label(),
                            groups.join(", ")
                        ),
                    ),
            );
        }
    }

    /// The rules `g`'s role would fire for an identity holding it: `wildcard` first, then
    /// the permission rules in catalogue order.
    fn implied_rules(&mut self, g: &Grant<'a>, role: &'a RoleData) -> Vec<&'static str> {
        self.profiles.ensure_role(role);
        let Some(p) = self.profiles.of_role(role) else {
            return vec![];
        };
        let mut ids: Vec<&str> = rules::permission_checks()
            .iter()
            .enumerate()
            .filter(|(i, c)| {
                p.hits[*i].iter().any(|h| !h.cluster || g.cluster_binding)
                    && (!c.privileged_namespaces_only || self.privileged(g))
            })
            .map(|(_, c)| c.rule.id)
            .collect();
        if p.full_control || !p.wildcard.is_empty() {
            ids.insert(0, rules::WILDCARD.id);
        }
        ids
    }

    /// drift of Roles (and ClusterRoles) managed by kubectl-cicd.
    pub(super) fn drift_findings(&mut self) {
        let snapshot = self.snapshot;
        let roles = snapshot
            .roles
            .iter()
            .map(|r| (r, false))
            .chain(snapshot.cluster_roles.iter().map(|r| (r, true)));
        for (role, cluster) in roles {
            if role.meta.labels.get(MANAGED_BY_LABEL).map(String::as_str) != Some(MANAGED_BY) {
                continue;
            }
            let in_scope = if self.scope.service_account.is_some() {
                self.bound_roles.contains(&role_key(role))
            } else if cluster {
                self.scope.all || self.bound_roles.contains(&role_key(role))
            } else {
                role.meta
                    .namespace
                    .as_deref()
                    .is_some_and(|n| self.scope.namespace(n))
            };
            if !in_scope {
                continue;
            }
            let key = if cluster {
                ObjKey::new("ClusterRole", None, &role.meta.name)
            } else {
                ObjKey::new("Role", role.meta.namespace.as_deref(), &role.meta.name)
            };
            let label = key.label();
            let Some(evidence) = drift(role, &label) else {
                continue;
            };
            let identity = role
                .meta
                .labels
                .get(IDENTITY_LABEL)
                .cloned()
                .unwrap_or_else(|| role.meta.name.clone());
            let subject = SubjectRef {
                kind: key.kind.to_string(),
                name: role.meta.name.clone(),
                namespace: role.meta.namespace.clone().filter(|_| !cluster),
            };
            let remediation = match grant_command(role, &identity) {
                Some(command) => format!(
                    "Re-run `{command}` with the intended kinds (it restores {label}); if the change is wanted, re-run it with the new kinds so the intent is recorded."
                ),
                None => format!(
                    "Re-run `kubectl cicd init --name {identity}{}` with the intended kinds (it shows the diff and restores {label}); if the change is wanted, re-run it with the new kinds so the intent is recorded.",
                    role.meta
                        .namespace
                        .as_deref()
                        .filter(|_| !cluster)
                        .map(|n| format!(" -n {n}"))
                        .unwrap_or_default()
                ),
            };
            self.push(
                Draft::new(rules::DRIFT, subject)
                    .own(Some(key))
                    .says(evidence, remediation),
            );
        }
    }

    /// unused-permission: what a CI identity's Role (made by kubectl-cicd, named as the
    /// identity) grants that none of the identity's requests in the audit log used, by the
    /// same reckoning `tighten` makes.
    pub(super) fn unused_permission_findings(&mut self) {
        let Some(usage) = &self.options.usage else {
            return;
        };
        let snapshot = self.snapshot;
        let nothing = Usage::default();
        for role in &snapshot.roles {
            let Some(ns) = role.meta.namespace.as_deref() else {
                continue;
            };
            let managed =
                role.meta.labels.get(MANAGED_BY_LABEL).map(String::as_str) == Some(MANAGED_BY);
            let identity = role.meta.labels.get(IDENTITY_LABEL);
            if !managed || identity != Some(&role.meta.name) {
                continue;
            }
            let in_scope = if self.scope.service_account.is_some() {
                self.bound_roles.contains(&role_key(role))
            } else {
                self.scope.namespace(ns)
            };
            if !in_scope {
                continue;
            }
            let name = &role.meta.name;
            let user = crate::auditlog::service_account_user(ns, name);
            let used = usage.by_user.get(&user).unwrap_or(&nothing);
            let Ok(proposal) = crate::auditlog::role::propose(&role.rules, ns, used, false) else {
                continue;
            };
            if proposal.unchanged() {
                continue;
            }
            let unused: Vec<String> =
                crate::auditlog::role::taken_away_by_target(&proposal.taken_away)
                    .into_iter()
                    .map(|(target, verbs)| format!("{target} ({})", verbs.join(" ")))
                    .collect();
            let span = match (usage.first, usage.last) {
                (Some(a), Some(b)) => format!(
                    " from {} to {}",
                    crate::auditlog::time::format(a),
                    crate::auditlog::time::format(b)
                ),
                _ => String::new(),
            };
            let requests = if used.requests == 0 {
                "no request of the identity".to_string()
            } else {
                format!("{} requests of the identity", used.requests)
            };
            let key = ObjKey::new("Role", Some(ns), name);
            let subject = SubjectRef {
                kind: "ServiceAccount".into(),
                name: name.clone(),
                namespace: Some(ns.to_string()),
            };
            self.push(Draft::new(rules::UNUSED_PERMISSION, subject).own(Some(key.clone())).says(
                format!(
                    "{} grants what the audit log ({}{span}, {requests}) shows no use of: {}.",
                    key.label(),
                    usage.logs.join(", "),
                    unused.join(", ")
                ),
                format!(
                    "Review, then shrink the Role to what was used: kubectl cicd tighten {name} -n {ns} --audit-log {} (add --apply to apply it).",
                    usage
                        .logs
                        .iter()
                        .map(|l| crate::text::shell_quote(l))
                        .collect::<Vec<_>>()
                        .join(" --audit-log ")
                ),
            ));
        }
    }

    /// many-subjects.
    pub(super) fn namespace_findings(&mut self) {
        if self.scope.service_account.is_some() {
            return;
        }
        let mut per_ns: BTreeMap<&str, BTreeSet<SubjectRef>> = BTreeMap::new();
        for b in &self.snapshot.role_bindings {
            let Some(ns) = b.meta.namespace.as_deref() else {
                continue;
            };
            if resolve::is_builtin_binding(b) || !self.scope.namespace(ns) {
                continue;
            }
            let set = per_ns.entry(ns).or_default();
            for s in &b.subjects {
                if let Some(subject) = resolve::subject_of(&s.kind, &s.name, s.namespace.as_deref())
                    && resolve::classify(&subject) != SubjectClass::System
                {
                    set.insert(subject);
                }
            }
        }
        for (ns, subjects) in per_ns {
            if subjects.len() <= self.options.many_subjects {
                continue;
            }
            let names: Vec<String> = subjects.iter().map(subject_label).collect();
            let names: Vec<&str> = names.iter().map(String::as_str).collect();
            let namespace = SubjectRef {
                kind: "Namespace".into(),
                name: ns.to_string(),
                namespace: None,
            };
            self.push(Draft::new(rules::MANY_SUBJECTS, namespace).says(
                format!(
                    "RoleBindings of namespace {ns} bind {} (more than {}): {}.",
                    plural(subjects.len(), "subject"),
                    self.options.many_subjects,
                    list_names(&names, 12)
                ),
                format!(
                    "Review the RoleBindings of {ns} (kubectl get rolebindings -n {ns} -o wide) and remove those nobody needs."
                ),
            ));
        }
    }
}

/// How a managed role differs from the rules `init` recorded on it, if it does.
fn drift(role: &RoleData, label: &str) -> Option<String> {
    let Some(text) = role.meta.annotations.get(INTENDED_RULES) else {
        return Some(format!(
            "{label} is labelled {MANAGED_BY_LABEL}: {MANAGED_BY} but carries no {INTENDED_RULES} annotation: its intent is unknown."
        ));
    };
    let intended = match serde_json::from_str::<Vec<Rule>>(text) {
        Ok(intended) => intended,
        Err(e) => {
            return Some(format!(
                "{label}'s {INTENDED_RULES} annotation is not a list of rules ({e}): its intent is unknown."
            ));
        }
    };
    let added = crate::rbac::covers(&intended, &role.rules).err();
    let removed = crate::rbac::covers(&role.rules, &intended).err();
    if added.is_none() && removed.is_none() {
        return None;
    }
    let show = |rules: &[Rule]| {
        rules
            .iter()
            .map(compact_string)
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut parts = Vec::new();
    if let Some(a) = added {
        parts.push(format!("holds {} that init did not grant", show(&a)));
    }
    if let Some(r) = removed {
        parts.push(format!("lacks {} that init granted", show(&r)));
    }
    Some(format!(
        "{label} differs from the rules kubectl cicd init recorded in {INTENDED_RULES}: it {}.",
        parts.join(", and ")
    ))
}

/// A binding as the subject of its own finding.
fn binding_subject(b: &BindingData, cluster: bool) -> SubjectRef {
    SubjectRef {
        kind: if cluster {
            "ClusterRoleBinding"
        } else {
            "RoleBinding"
        }
        .into(),
        name: b.meta.name.clone(),
        namespace: b.meta.namespace.clone().filter(|_| !cluster),
    }
}

/// A broad group and who it stands for.
fn describe_group(name: &str) -> String {
    match name {
        resolve::AUTHENTICATED => {
            "Group system:authenticated (every authenticated user and ServiceAccount)".into()
        }
        resolve::UNAUTHENTICATED => "Group system:unauthenticated (anonymous requests)".into(),
        resolve::ALL_SERVICE_ACCOUNTS => {
            "Group system:serviceaccounts (every ServiceAccount of the cluster)".into()
        }
        other => match other.strip_prefix(resolve::NAMESPACE_SERVICE_ACCOUNTS_PREFIX) {
            Some(ns) => format!("Group {other} (every ServiceAccount of namespace {ns})"),
            None => format!("Group {other}"),
        },
    }
}

/// For a Role of an `argocd grant` grant (it records the ServiceAccounts it is for), the
/// command that makes it again: `kubectl cicd argocd grant -n ARGOCD_NS --to NS --name NAME`.
fn grant_command(role: &RoleData, identity: &str) -> Option<String> {
    let to = role.meta.annotations.get(crate::managed::GRANTED_TO)?;
    let argocd_ns = to.split(',').next()?.split_once('/')?.0.trim();
    let ns = role.meta.namespace.as_deref()?;
    Some(format!(
        "kubectl cicd argocd grant -n {argocd_ns} --to {ns} --name {identity}{}",
        if to.contains("/argocd-server") {
            " --server"
        } else {
            ""
        }
    ))
}
