//! Findings about what a subject's grants allow: the permission rules, `wildcard`,
//! `cluster-admin-binding` and `many-roles` for ServiceAccounts and people, and, for
//! ServiceAccounts, `cluster-wide-binding`, `pull-controller-cluster-wide` and
//! `default-sa-bound`; with the remediation text that names the roles to change.

use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;

use super::draft::{Draft, ObjKey};
use super::probe::{Hit, Profile};
use super::text::{
    actions, binding_labels, dedup, list_names, lower_first, plural, through, through_all,
};
use super::{Ctx, PeoplePolicy, severity};
use crate::audit::model::{Severity, SubjectRef};
use crate::audit::resolve::{Grant, SubjectGrants, subject_label};
use crate::audit::rules::{self, PermissionCheck, RuleInfo};
use crate::rbac::{Request, Rule, compact_string};

/// Which product a ServiceAccount belongs to, if it looks like a pull-style GitOps
/// controller, and why (`name argocd-application-controller`, `label app.kubernetes.io/part-of=flux`).
pub fn pull_controller(
    namespace: &str,
    name: &str,
    labels: Option<&BTreeMap<String, String>>,
) -> Option<(&'static str, String)> {
    const ARGO: &[&str] = &[
        "argocd-application-controller",
        "argocd-server",
        "argocd-applicationset-controller",
    ];
    const FLUX: &[&str] = &[
        "kustomize-controller",
        "helm-controller",
        "source-controller",
        "notification-controller",
    ];
    if ARGO.contains(&name) {
        return Some(("Argo CD", format!("its name {name}")));
    }
    if namespace == "flux-system"
        && (FLUX.contains(&name) || (name.starts_with("image-") && name.ends_with("-controller")))
    {
        return Some(("Flux", format!("its name flux-system/{name}")));
    }
    let part_of = labels.and_then(|l| l.get("app.kubernetes.io/part-of"))?;
    let product = match part_of.as_str() {
        "argocd" | "argo-cd" => "Argo CD",
        "flux" | "flux2" => "Flux",
        _ => return None,
    };
    Some((
        product,
        format!("its label app.kubernetes.io/part-of={part_of}"),
    ))
}

/// The audited subject, as its findings name and rate it.
struct Audited<'s> {
    subject: &'s SubjectRef,
    /// `ServiceAccount team-a/ci`.
    who: String,
    own: Option<ObjKey>,
    person: bool,
    people: PeoplePolicy,
}

impl<'s> Audited<'s> {
    fn new(sg: &'s SubjectGrants<'_>, person: bool, people: PeoplePolicy) -> Self {
        let own = (sg.subject.kind == "ServiceAccount" && sg.exists).then(|| {
            ObjKey::new(
                "ServiceAccount",
                sg.subject.namespace.as_deref(),
                &sg.subject.name,
            )
        });
        Audited {
            subject: &sg.subject,
            who: subject_label(&sg.subject),
            own,
            person,
            people,
        }
    }

    /// A finding of `rule` about this subject at `severity`, as rated for its kind of subject.
    fn draft(&self, rule: &'static RuleInfo, severity: Severity) -> Draft {
        Draft::new(rule, self.subject.clone())
            .own(self.own.clone())
            .severity(severity::for_subject(severity, self.person, self.people))
    }
}

/// A grant whose role exists, with what the role allows.
type Counted<'g, 'a> = (&'g Grant<'a>, Rc<Profile>);

impl<'a> Ctx<'a> {
    /// Permission rules, wildcards, full control, many roles.
    pub(super) fn identity_findings(
        &mut self,
        sg: &SubjectGrants<'a>,
        grants: &[Grant<'a>],
        person: bool,
    ) {
        let audited = Audited::new(sg, person, self.options.people);
        let counted: Vec<Counted<'_, 'a>> = grants
            .iter()
            .filter_map(|g| Some((g, self.profiles.rc(g)?)))
            .collect();
        self.permission_findings(&audited, &counted);
        self.cluster_admin_binding(&audited, &counted);
        self.wildcard(&audited, &counted);
        self.many_roles(&audited, &counted);
    }

    /// One finding per permission check any grant passes; full-control grants are reported
    /// once, by [`Self::cluster_admin_binding`] or [`Self::wildcard`].
    fn permission_findings(&mut self, audited: &Audited<'_>, counted: &[Counted<'_, 'a>]) {
        for (ci, check) in rules::permission_checks().iter().enumerate() {
            let mut parts: Vec<(&Grant<'a>, Vec<&Hit>)> = Vec::new();
            for (g, p) in counted {
                if p.full_control || (check.privileged_namespaces_only && !self.privileged(g)) {
                    continue;
                }
                let hits: Vec<&Hit> = p.hits[ci]
                    .iter()
                    .filter(|h| !h.cluster || g.cluster_binding)
                    .collect();
                if !hits.is_empty() {
                    parts.push((g, hits));
                }
            }
            if parts.is_empty() {
                continue;
            }
            let wide = parts.iter().any(|(g, _)| self.privileged(g));
            let named = parts
                .iter()
                .all(|(_, hits)| hits.iter().all(|h| h.names.is_some()));
            let clauses: Vec<String> = parts
                .iter()
                .map(|(g, hits)| {
                    format!(
                        "{} {} {}",
                        actions(hits),
                        where_text(g, hits, check),
                        through(g)
                    )
                })
                .collect();
            let mut evidence = format!("{} can {}.", audited.who, clauses.join("; "));
            let mut rated = severity::permission(check, wide, named);
            if check.rule == rules::WORKLOAD_CREATE {
                evidence.push_str(&self.pod_identities(&parts));
                let alone = self.no_stronger_pod_identity(audited.subject, &parts);
                if alone {
                    evidence.push_str(
                        " None of the others is bound to a role, so its pods gain no API rights beyond its own; the Secrets remain.",
                    );
                }
                rated = severity::workload_create(rated, alone);
            }
            let grants: Vec<&Grant<'a>> = parts.iter().map(|(g, _)| *g).collect();
            self.push(
                audited
                    .draft(check.rule, rated)
                    .through(&grants)
                    .says(evidence, permission_remediation(check, &parts)),
            );
        }
    }

    /// Full control through a ClusterRoleBinding.
    fn cluster_admin_binding(&mut self, audited: &Audited<'_>, counted: &[Counted<'_, 'a>]) {
        let admin: Vec<&Grant<'a>> = counted
            .iter()
            .filter(|(g, p)| g.cluster_binding && p.full_control)
            .map(|(g, _)| *g)
            .collect();
        if admin.is_empty() {
            return;
        }
        let rule = rules::CLUSTER_ADMIN_BINDING;
        let who = &audited.who;
        self.push(audited.draft(rule, severity::base(rule)).through(&admin).says(
            format!(
                "{who} holds every verb on every resource in every API group, cluster-wide, {}: it administers the whole cluster (Secrets, exec, RBAC, escalate and impersonate included, not listed separately).",
                through_all(&admin)
            ),
            format!(
                "Remove {} and bind a least-privilege Role with a RoleBinding in the namespace {who} works in (`kubectl cicd init` builds one); keep cluster-admin for break-glass humans.",
                binding_labels(&admin)
            ),
        ));
    }

    /// Wildcards, full control through a RoleBinding included (through a ClusterRoleBinding
    /// it is `cluster-admin-binding`).
    fn wildcard(&mut self, audited: &Audited<'_>, counted: &[Counted<'_, 'a>]) {
        let mut parts: Vec<(&Grant<'a>, &[Rule], bool)> = Vec::new();
        for (g, p) in counted {
            if g.cluster_binding && p.full_control {
                continue;
            }
            let rules = if g.cluster_binding {
                &p.wildcard
            } else {
                &p.wildcard_resources
            };
            if !rules.is_empty() {
                parts.push((g, rules, p.full_control));
            }
        }
        if parts.is_empty() {
            return;
        }
        let wide = parts.iter().any(|(g, _, _)| self.privileged(g));
        let clauses: Vec<String> = parts
            .iter()
            .map(|(g, rules, full)| {
                let texts: Vec<String> = rules.iter().map(compact_string).collect();
                let place = match g.namespace() {
                    Some(ns) => format!("in namespace {ns}"),
                    None => "cluster-wide".to_string(),
                };
                let full = if *full {
                    ", i.e. full control of the namespace (Secrets, exec, RBAC, escalate and impersonate included, not listed separately)"
                } else {
                    ""
                };
                format!("{} {place}{full} {}", texts.join(", "), through(g))
            })
            .collect();
        let roles: Vec<String> = parts.iter().map(|(g, _, _)| g.role_label()).collect();
        let grants: Vec<&Grant<'a>> = parts.iter().map(|(g, _, _)| *g).collect();
        let who = &audited.who;
        self.push(
            audited.draft(rules::WILDCARD, severity::wildcard(wide))
                .through(&grants)
                .says(
                    format!("{who} holds wildcard rules: {}.", clauses.join("; ")),
                    format!(
                        "In {}, replace each `*` with the verbs, resources and API groups {who} needs (`kubectl cicd init` builds such a Role from the kinds you tick).",
                        dedup(roles).join(", ")
                    ),
                ),
        );
    }

    /// Many roles: the identity's own bindings (not those of groups it belongs to).
    fn many_roles(&mut self, audited: &Audited<'_>, counted: &[Counted<'_, 'a>]) {
        let own_grants: Vec<&Grant<'a>> = counted
            .iter()
            .map(|(g, _)| *g)
            .filter(|g| g.group.is_none())
            .collect();
        let roles: BTreeSet<String> = own_grants.iter().map(|g| g.role_label()).collect();
        if roles.len() <= self.options.many_roles {
            return;
        }
        let rule = rules::MANY_ROLES;
        let who = &audited.who;
        self.push(
            audited.draft(rule, severity::base(rule))
                .via(own_grants.iter().map(|g| g.via()))
                .says(
                    format!(
                        "{who} is bound to {} (more than {}): {}.",
                        plural(roles.len(), "role"),
                        self.options.many_roles,
                        roles.iter().cloned().collect::<Vec<_>>().join(", ")
                    ),
                    format!(
                        "Consolidate {who}'s rights into one least-privilege Role per namespace and remove the other bindings."
                    ),
                ),
        );
    }

    /// For workload-create: which ServiceAccounts the pods it creates can run as.
    /// Whether the pods `subject` may create could run only as itself or as ServiceAccounts
    /// no binding names (bootstrap bindings and groups aside, which every ServiceAccount
    /// shares): its grants are all in namespaces, and every binding could be read.
    fn no_stronger_pod_identity(
        &self,
        subject: &SubjectRef,
        parts: &[(&Grant<'_>, Vec<&Hit>)],
    ) -> bool {
        if parts.iter().any(|(g, _)| g.cluster_binding) {
            return false;
        }
        let bindings_unread =
            self.snapshot.gaps.iter().any(|gap| {
                gap.starts_with("rolebindings") || gap.starts_with("clusterrolebindings")
            });
        if bindings_unread {
            return false;
        }
        let namespaces: BTreeSet<&str> = parts.iter().filter_map(|(g, _)| g.namespace()).collect();
        namespaces.iter().all(|ns| {
            let own = (subject.kind == "ServiceAccount"
                && subject.namespace.as_deref() == Some(*ns))
            .then_some(subject.name.as_str());
            self.bound_sas
                .get(ns)
                .is_none_or(|bound| bound.iter().all(|name| Some(*name) == own))
        })
    }

    fn pod_identities(&self, parts: &[(&Grant<'_>, Vec<&Hit>)]) -> String {
        if parts.iter().any(|(g, _)| g.cluster_binding) {
            return " Pods it creates can run as any ServiceAccount of any namespace.".into();
        }
        let namespaces: BTreeSet<&str> = parts.iter().filter_map(|(g, _)| g.namespace()).collect();
        let texts: Vec<String> = namespaces
            .iter()
            .map(|ns| {
                let sas = self.sas_by_namespace.get(ns).cloned().unwrap_or_default();
                if sas.is_empty() {
                    format!("namespace {ns}")
                } else {
                    format!("namespace {ns} ({})", list_names(&sas, 8))
                }
            })
            .collect();
        format!(
            " Pods it creates can run as any ServiceAccount of {} and mount any Secret there.",
            texts.join(", ")
        )
    }

    /// cluster-wide-binding, pull-controller-cluster-wide, default-sa-bound.
    pub(super) fn service_account_findings(
        &mut self,
        sg: &SubjectGrants<'a>,
        grants: &[Grant<'a>],
    ) {
        let audited = Audited::new(sg, false, self.options.people);
        let who = &audited.who;
        let ns = sg.subject.namespace.as_deref().unwrap_or("");
        let direct: Vec<&Grant<'a>> = grants.iter().filter(|g| g.group.is_none()).collect();
        let wide: Vec<&Grant<'a>> = direct
            .iter()
            .copied()
            .filter(|g| g.cluster_binding && g.role.is_some())
            .collect();
        let labels = self
            .sa_meta
            .get(&(ns, sg.subject.name.as_str()))
            .map(|m| &m.labels);
        let controller = pull_controller(ns, &sg.subject.name, labels);
        if let Some((product, why)) = &controller
            && !wide.is_empty()
        {
            let rule = rules::PULL_CONTROLLER_CLUSTER_WIDE;
            self.push(audited.draft(rule, severity::base(rule)).through(&wide).says(
                format!(
                    "{who} belongs to {product} ({why}) and holds cluster-wide rights {}: whatever its sources describe is applied with them, in every namespace.",
                    through_all(&wide)
                ),
                format!(
                    "Run {product} namespace-scoped ({}) and replace {} with RoleBindings in the namespaces it deploys to.",
                    if *product == "Flux" {
                        "multi-tenancy lockdown: --default-service-account, tenants' Kustomizations impersonating a namespace ServiceAccount"
                    } else {
                        "the namespace-install manifests, the application controller restricted with application.namespaces / --namespaced"
                    },
                    binding_labels(&wide)
                ),
            ));
        }
        let plain: Vec<&Grant<'a>> = wide
            .iter()
            .copied()
            .filter(|g| !self.full_control(g))
            .collect();
        if controller.is_none() && !plain.is_empty() {
            let rule = rules::CLUSTER_WIDE_BINDING;
            self.push(audited.draft(rule, severity::base(rule)).through(&plain).says(
                format!(
                    "{who} is bound cluster-wide {}: its rights apply in every namespace, present and future.",
                    through_all(&plain)
                ),
                format!(
                    "Replace {} with RoleBindings (to the same ClusterRole if needed) in the namespaces {who} deploys to.",
                    binding_labels(&plain)
                ),
            ));
        }
        if sg.subject.name == "default" {
            let bound: Vec<&Grant<'a>> = direct
                .iter()
                .copied()
                .filter(|g| g.role.is_some())
                .collect();
            if !bound.is_empty() {
                let rule = rules::DEFAULT_SA_BOUND;
                self.push(audited.draft(rule, severity::base(rule)).through(&bound).says(
                    format!(
                        "{who} holds grants {}: every pod of namespace {ns} that names no ServiceAccount gets them.",
                        through_all(&bound)
                    ),
                    format!(
                        "Bind the role to a dedicated ServiceAccount (`kubectl cicd init` creates one) and remove {}.",
                        binding_labels(&bound)
                    ),
                ));
            }
        }
    }
}

/// Where a permission applies: `in namespace team-a`, `cluster-wide`, `in every namespace`.
fn where_text(g: &Grant<'_>, hits: &[&Hit], check: &PermissionCheck) -> String {
    match g.namespace() {
        Some(ns) => format!("in namespace {ns}"),
        None if check.privileged_namespaces_only => {
            "in kube-system (and every other namespace)".into()
        }
        None if hits.iter().all(|h| h.cluster) => "cluster-wide".into(),
        None => "in every namespace".into(),
    }
}

/// How to fix a permission finding, naming the roles to change; Secrets rights get Helm's
/// side of the story, since a Helm pipeline cannot do without them.
fn permission_remediation(check: &PermissionCheck, parts: &[(&Grant<'_>, Vec<&Hit>)]) -> String {
    let roles = dedup(parts.iter().map(|(g, _)| g.role_label()).collect()).join(", ");
    let wide = parts.iter().any(|(g, _)| g.cluster_binding);
    let wide_note = if wide && check.raise_when_wide {
        " Never grant it through a ClusterRoleBinding: that reaches every namespace."
    } else {
        ""
    };
    // A role that writes Secrets and workloads, as Helm's does.
    let helm_like = matches!(check.rule, rules::SECRETS_READ | rules::TOKEN_CREATE)
        && parts.iter().any(|(g, _)| {
            let rules = g.rules();
            crate::rbac::rules_allow(rules, &Request::new("create", "", "secrets"))
                && (crate::rbac::rules_allow(rules, &Request::new("create", "apps", "deployments"))
                    || crate::rbac::rules_allow(rules, &Request::new("create", "", "pods")))
        });
    match check.rule {
        rules::SECRETS_READ if helm_like => format!(
            "{roles} writes Secrets and workloads, as a Helm pipeline's Role does (the Welkin user demo's ci-cd Role is one). Helm 3 stores each release's state in Secrets of the release namespace (sh.helm.release.v1.<release>.v<revision>), so a Helm pipeline needs get, list, create, update and delete on secrets. Either accept that trade-off knowingly (init's `helm` preset grants exactly that) and record it with the annotations kubectl-cicd.io/ignore: secrets-read and kubectl-cicd.io/ignore-reason on the RoleBinding, or deploy from a dedicated namespace that holds no other Secrets; if the pipeline does not run Helm, remove secrets from {roles}.{wide_note}"
        ),
        rules::SECRETS_READ => format!(
            "Remove get, list and watch on secrets from {roles}. If the pipeline runs Helm 3, it needs them (Helm stores release state in Secrets of the release namespace): accept that with init's `helm` preset and a kubectl-cicd.io/ignore annotation with a reason, or deploy from a dedicated namespace that holds no other Secrets.{wide_note}"
        ),
        rules::TOKEN_CREATE if helm_like => format!(
            "{} Helm 3 creates and updates its release Secrets, so a Helm pipeline needs create on secrets: record the trade-off with a kubectl-cicd.io/ignore annotation and reason, or deploy from a dedicated namespace whose other ServiceAccounts hold nothing worth stealing.{wide_note}",
            check.rule.fix
        ),
        _ => format!("In {roles}: {}{wide_note}", lower_first(check.rule.fix)),
    }
}
