//! `argocd install --apply` and `--dry-run`: the transformed objects sent to the namespace.
//!
//! First, before any write, the pre-check: every object's kind must be served (and
//! namespaced), the caller must be allowed to apply each kind (get, create, patch), and every
//! Role of the manifest must grant only what the caller holds in the namespace (the API
//! server's escalation check, from a SelfSubjectRulesReview and [`rbac::covers`]). What is
//! missing is named, with who can help. Then one server-side apply per object (field manager
//! `kubectl-cicd`), in the manifest's order, Roles before RoleBindings, so that a user
//! without the `bind` verb can bind what they just created. Re-running changes nothing that
//! is already as wanted. A failure part-way says what exists ([`Progress`]), and running the
//! same command again finishes the job. Afterwards the audit's pull-controller check runs on
//! the namespace.

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::api::rbac::v1::PolicyRule;
use serde_json::Value;

use super::objects::{self, describe};
use crate::cluster::dynamic::{Applied, ObjectKind};
use crate::cluster::{Caller, Cluster, ServedKind};
use crate::error::{Error, Result};
use crate::progress::Progress;
use crate::rbac::{self, Request, Rule};
use crate::target::Target;
use crate::ui::Ui;

/// The lock a run takes (a Lease `kubectl-cicd.argocd-install` in the namespace), so that two
/// installs into one namespace do not interleave.
pub const LOCK_NAME: &str = "argocd-install";

/// A connection to the namespace, and what the caller may do there.
pub struct Session<'t> {
    target: &'t Target,
    cluster: Cluster,
    namespace: String,
    me: Caller,
    held: Vec<Rule>,
    served: Vec<ServedKind>,
}

impl<'t> Session<'t> {
    /// Connects; asks who the caller is, what they may do in `namespace`, and what the cluster
    /// serves (four requests).
    pub async fn open(
        target: &'t Target,
        namespace: &str,
        progress: &mut Progress,
    ) -> Result<Session<'t>> {
        let cluster = target.connect()?;
        let me = cluster.whoami().await?;
        progress.connected();
        let review = cluster.rules_review(namespace).await?;
        if review.incomplete {
            target.ui.warn(format!(
                "the API server's list of what you may do in namespace {namespace} may be incomplete ({}): \
                 the pre-check may name permissions you have, and the server decides",
                review
                    .evaluation_error
                    .as_deref()
                    .unwrap_or("it says so")
            ));
        }
        let held = crate::issue::verify::held_rules(&review);
        let served = cluster.discover().await?.kinds;
        Ok(Session {
            target,
            cluster,
            namespace: namespace.to_string(),
            me,
            held,
            served,
        })
    }

    fn ui(&self) -> &Ui {
        &self.target.ui
    }

    /// Whether Role `name` exists in the namespace (a Role you may not read counts as absent).
    pub async fn role_exists(&self, name: &str) -> Result<bool> {
        Ok(self
            .cluster
            .role_exists(&self.namespace, name)
            .await?
            .unwrap_or(false))
    }

    /// Pre-check, then apply (or dry-run) every object, then the pull-controller check.
    pub async fn install(
        &self,
        objects: &[Value],
        dry_run: bool,
        yes: bool,
        progress: &mut Progress,
    ) -> Result<()> {
        let ns = self.namespace.clone();
        let kinds = self.kinds(objects)?;
        self.precheck(objects)?;
        self.ui().ok(format!(
            "Pre-check passed: you may apply all {} objects in namespace {ns}, and every Role grants only what you hold",
            objects.len()
        ));
        if !self
            .served
            .iter()
            .any(|k| k.group == "argoproj.io" && k.resource == "applications")
        {
            self.ui().warn(
                "the cluster does not serve Argo CD's Applications (no argoproj.io CRDs): Argo CD starts, \
                 but cannot work until your cluster administrator installs its CRDs",
            );
        }
        if !dry_run
            && self.ui().interactive()
            && !yes
            && !self.ui().confirm(
                &format!("Apply {} objects to namespace {ns}?", objects.len()),
                true,
            )?
        {
            return Err(Error::Cancelled);
        }
        let lock = if dry_run {
            None
        } else {
            crate::run_lock::take(self.ui(), &self.cluster, &ns, LOCK_NAME, &self.me.username)
                .await?
        };
        progress.hold_lock(&self.cluster, &lock);
        let result = self
            .apply_all(objects, &kinds, dry_run, &lock, progress)
            .await;
        crate::run_lock::give_back(self.ui(), &self.cluster, lock).await;
        progress.lock_released();
        result?;
        if !dry_run {
            self.pull_controller_check(objects).await;
            self.next_steps();
        }
        Ok(())
    }

    /// The served kind of every object; refuses kinds the cluster does not serve or serves
    /// cluster-wide.
    fn kinds(&self, objects: &[Value]) -> Result<Vec<ObjectKind>> {
        let mut out = Vec::with_capacity(objects.len());
        let mut problems = BTreeSet::new();
        for o in objects {
            let api_version = o["apiVersion"].as_str().unwrap_or_default();
            let found = self
                .served
                .iter()
                .find(|k| k.group == objects::group(o) && k.kind == objects::kind(o));
            match found {
                Some(k) if k.namespaced => out.push(ObjectKind::new(k, api_version)),
                Some(_) => {
                    problems.insert(format!(
                        "{} ({api_version}) is cluster-scoped on this cluster, so a namespace install cannot hold it",
                        objects::kind(o)
                    ));
                }
                None => {
                    problems.insert(format!(
                        "the API server does not serve {} ({api_version})",
                        objects::kind(o)
                    ));
                }
            }
        }
        if problems.is_empty() {
            return Ok(out);
        }
        Err(Error::Usage(format!(
            "the manifest does not fit this cluster, so nothing was applied:\n  {}",
            problems.into_iter().collect::<Vec<_>>().join("\n  ")
        )))
    }

    fn served_of<'k>(&'k self, o: &Value) -> Option<&'k ServedKind> {
        self.served
            .iter()
            .find(|k| k.group == objects::group(o) && k.kind == objects::kind(o))
    }

    /// Refuses, before any write, what the API server would refuse.
    fn precheck(&self, objects: &[Value]) -> Result<()> {
        let ns = &self.namespace;
        let mut lacking: BTreeMap<String, Vec<&str>> = BTreeMap::new();
        for o in objects {
            let Some(k) = self.served_of(o) else { continue };
            for verb in ["get", "create", "patch"] {
                if !rbac::rules_allow(&self.held, &Request::new(verb, &k.group, &k.resource)) {
                    let entry = lacking.entry(k.group_resource()).or_default();
                    if !entry.contains(&verb) {
                        entry.push(verb);
                    }
                }
            }
        }
        let mut escalations = Vec::new();
        for role in objects.iter().filter(|o| objects::kind(o) == "Role") {
            let rules: Vec<PolicyRule> =
                serde_json::from_value(role["rules"].clone()).unwrap_or_default();
            let rules: Vec<Rule> = rules.iter().map(Rule::from).collect();
            if let Some(refusal) = crate::role_choice::escalation_problem(
                objects::name(role),
                &rules,
                &self.me.username,
                &self.me.groups,
                &self.held,
            ) {
                escalations.push(refusal);
            }
        }
        if lacking.is_empty() && escalations.is_empty() {
            return Ok(());
        }
        let mut text =
            format!("You may not install this manifest in namespace {ns}, so nothing was applied.");
        if !lacking.is_empty() {
            text.push_str(
                "\n\nObjects you may not apply (server-side apply needs get, create and patch):",
            );
            for (resource, verbs) in &lacking {
                text.push_str(&format!("\n  {}: {resource}", verbs.join(", ")));
            }
        }
        if !escalations.is_empty() {
            text.push_str(
                "\n\nRoles granting permissions you do not hold yourself, which the API server refuses to create \
                 (the escalation check):",
            );
            for e in &escalations {
                text.push_str(&format!("\n  {}", e.replace('\n', "\n    ")));
            }
        }
        let argo_missing = escalations.iter().any(|e| e.contains("argoproj.io"));
        text.push_str(&format!(
            "\n\nWho can help: your cluster administrator, or anyone who holds all of this in namespace {ns}, \
             can grant it to you (or run this install). A namespace admin (the admin ClusterRole) holds all of it{} \
             See docs/argocd.md, \"Before you start\".",
            if argo_missing {
                " except Argo CD's own kinds (argoproj.io), which the administrator adds when installing the CRDs."
            } else {
                "."
            }
        ));
        Err(Error::Escalation(text))
    }

    async fn apply_all(
        &self,
        objects: &[Value],
        kinds: &[ObjectKind],
        dry_run: bool,
        lock: &Option<crate::cluster::IdentityLock>,
        progress: &mut Progress,
    ) -> Result<()> {
        let ns = &self.namespace;
        let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
        // Roles this run creates: in a dry run they are not stored, so the server cannot check
        // a RoleBinding to one of them for a user without the bind verb.
        let mut new_roles = BTreeSet::new();
        for (o, kind) in objects.iter().zip(kinds) {
            crate::run_lock::check_held(lock)?;
            let what = describe(o);
            let name = objects::name(o);
            let before = self.cluster.object_metadata(kind, ns, name).await?;
            if before.is_some() {
                progress.existed(what.clone());
            } else if objects::kind(o) == "Role" {
                new_roles.insert(name.to_string());
            }
            if dry_run {
                let binds_new_role = objects::kind(o) == "RoleBinding"
                    && o["roleRef"]["kind"] == "Role"
                    && o["roleRef"]["name"]
                        .as_str()
                        .is_some_and(|r| new_roles.contains(r));
                if binds_new_role {
                    self.ui().say(format!(
                        "  {what}: not sent (its Role does not exist yet, so the server cannot check it in a dry run; the pre-check did)"
                    ));
                    *counts.entry("checked by the pre-check only").or_default() += 1;
                    continue;
                }
                self.cluster
                    .apply_object(kind, o, before.as_ref(), true)
                    .await?;
                let said = if before.is_some() {
                    "accepted (it exists)"
                } else {
                    "accepted (it would be created)"
                };
                self.ui().say(format!("  {what}: {said}"));
                *counts.entry(said).or_default() += 1;
                continue;
            }
            progress.attempt(what.clone());
            let applied = self
                .cluster
                .apply_object(kind, o, before.as_ref(), false)
                .await?;
            progress.exists(what.clone());
            if applied != Applied::Unchanged {
                self.ui().ok(format!("{what} {}", applied.as_str()));
            }
            *counts.entry(applied.as_str()).or_default() += 1;
        }
        let summary = counts
            .iter()
            .map(|(k, n)| format!("{n} {k}"))
            .collect::<Vec<_>>()
            .join(", ");
        if dry_run {
            self.ui().ok(format!(
                "Server-side dry run of {} objects in namespace {ns}: {summary}. Nothing was changed.",
                objects.len()
            ));
        } else {
            self.ui().ok(format!(
                "Applied {} objects to namespace {ns} (server-side apply, field manager kubectl-cicd): {summary}",
                objects.len()
            ));
        }
        Ok(())
    }

    /// The audit's pull-controller check on the namespace, said; a failure to run it only
    /// warns (the install is done).
    async fn pull_controller_check(&self, objects: &[Value]) {
        let ns = &self.namespace;
        let accounts: BTreeSet<&str> = objects
            .iter()
            .filter(|o| objects::kind(o) == "ServiceAccount")
            .map(objects::name)
            .collect();
        match crate::audit::pull_controller_check(&self.cluster, ns).await {
            Err(e) => self.ui().warn(format!(
                "could not run the audit's pull-controller check: {e}"
            )),
            Ok(check) => {
                let ours: Vec<_> = check
                    .findings
                    .iter()
                    .filter(|f| accounts.contains(f.subject.name.as_str()))
                    .collect();
                for f in &ours {
                    self.ui().warn(format!(
                        "pull-controller-cluster-wide ({}): {} {}",
                        format!("{:?}", f.severity).to_lowercase(),
                        f.evidence,
                        f.remediation
                    ));
                }
                if !ours.is_empty() {
                    return;
                }
                if check.gaps.is_empty() {
                    self.ui().ok(
                        "Audit (pull-controller-cluster-wide): no ServiceAccount of this install holds cluster-wide rights",
                    );
                } else {
                    self.ui().ok(format!(
                        "Audit (pull-controller-cluster-wide): no ServiceAccount of this install holds cluster-wide rights \
                         in what you may read; not read: {}. An administrator sees it all: kubectl cicd audit -n {ns}",
                        check.gaps.join("; ")
                    ));
                }
            }
        }
    }

    fn next_steps(&self) {
        let ns = &self.namespace;
        self.ui().say(format!(
            "\nNext: let Argo CD deploy into a namespace of yours (a Role and RoleBinding there for its application controller):\n  \
             kubectl cicd argocd grant -n {ns} --to NAMESPACE --preset web-app\n\
             and register that namespace with Argo CD's in-cluster cluster Secret (docs/argocd.md)."
        ));
    }
}
