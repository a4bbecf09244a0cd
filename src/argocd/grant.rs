//! `kubectl cicd argocd grant`: least-privilege deploy rights for a namespace-scoped Argo CD.
//!
//! In each namespace Argo CD deploys to, a Role holding only the chosen kinds (presets, kinds
//! and verbs as `init` takes them, the same wizard on a terminal, the same Role builder without
//! wildcards and the same gate on risky permissions, all in [`crate::role_choice`]) and a
//! RoleBinding to Argo CD's application controller (and, with `--server`, its API server)
//! ServiceAccounts in Argo CD's namespace (`-n`). Both objects carry kubectl-cicd's labels
//! under the identity `--name` and record the ServiceAccounts in `kubectl-cicd.io/granted-to`,
//! so `list`, `audit` and `delete` know them. Before any write, every namespace is checked:
//! the caller must hold what the Role grants there (the escalation check) and may write
//! Roles and RoleBindings.

use k8s_openapi::api::rbac::v1::{PolicyRule, Role, RoleBinding, RoleRef, Subject};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use crate::cli::{ArgocdGrantFlags, GlobalFlags};
use crate::cluster::dynamic::ObjectKind;
use crate::cluster::{Caller, Cluster, ServedKind};
use crate::error::{Error, Result};
use crate::managed::{self, CREATED_AT, CREATED_BY, GRANTED_TO, INTENDED_RULES, Provenance};
use crate::names::{validate_name, validate_namespace};
use crate::progress::Progress;
use crate::rbac::{self, BuiltRole, RBAC_GROUP, Request, Rule, Selection};
use crate::role_choice;
use crate::target::Target;
use crate::ui::{Prompts, Ui};

/// Argo CD's application controller: what deploys.
pub const CONTROLLER: &str = "argocd-application-controller";
/// Argo CD's API server: what the UI's live view, logs and deletes go through.
pub const SERVER: &str = "argocd-server";

pub async fn run(global: &GlobalFlags, flags: &ArgocdGrantFlags) -> Result<()> {
    let mut progress = Progress::default();
    let result = crate::interrupt::stoppable(run_with(global, flags, &mut progress)).await;
    progress.finish(result, Prompts::unless(flags.yes)).await
}

/// What is granted where.
struct Plan {
    /// Argo CD's namespace.
    argocd_namespace: String,
    targets: Vec<String>,
    name: String,
    role: BuiltRole,
    /// `namespace/name` of each ServiceAccount bound.
    accounts: Vec<(String, String)>,
}

impl Plan {
    fn granted_to(&self) -> String {
        self.accounts
            .iter()
            .map(|(ns, n)| format!("{ns}/{n}"))
            .collect::<Vec<_>>()
            .join(",")
    }

    fn objects(&self, namespace: &str, provenance: &Provenance) -> (Role, RoleBinding) {
        let intended = serde_json::to_string(&self.role.rules).expect("rules serialize");
        let granted = (GRANTED_TO, self.granted_to());
        let meta = |extra: &[(&str, String)]| -> ObjectMeta {
            managed::metadata(namespace, &self.name, &self.name, provenance, extra)
        };
        let role = Role {
            metadata: meta(&[(INTENDED_RULES, intended), granted.clone()]),
            rules: Some(
                self.role
                    .rules
                    .iter()
                    .cloned()
                    .map(PolicyRule::from)
                    .collect(),
            ),
        };
        let binding = RoleBinding {
            metadata: meta(&[granted]),
            role_ref: RoleRef {
                api_group: RBAC_GROUP.into(),
                kind: "Role".into(),
                name: self.name.clone(),
            },
            subjects: Some(
                self.accounts
                    .iter()
                    .map(|(ns, n)| Subject {
                        kind: "ServiceAccount".into(),
                        name: n.clone(),
                        namespace: Some(ns.clone()),
                        api_group: None,
                    })
                    .collect(),
            ),
        };
        (role, binding)
    }
}

async fn run_with(
    global: &GlobalFlags,
    flags: &ArgocdGrantFlags,
    progress: &mut Progress,
) -> Result<()> {
    for ns in &flags.to {
        validate_namespace(ns)?;
    }
    let target = Target::resolve(global, false, Ui::detect(Prompts::unless(flags.yes)))?;
    let ui = &target.ui;
    let argocd_namespace = target.namespace().to_string();
    let name = flags
        .name
        .clone()
        .unwrap_or_else(|| format!("argocd-{argocd_namespace}"));
    validate_name(&name).map_err(|_| {
        Error::Usage(format!(
            "the default name argocd-{argocd_namespace} is too long for a label value: pass --name"
        ))
    })?;

    let cluster = target.connect()?;
    let me = cluster.whoami().await?;
    progress.connected();
    let served = cluster.discover().await?.kinds;
    let mut targets = targets(ui, flags)?;
    let mut seen = std::collections::BTreeSet::new();
    targets.retain(|t| seen.insert(t.clone()));
    let first_held = held(&cluster, &targets[0]).await?;

    let (selections, allow_risky) = if ui.interactive() {
        let picked =
            role_choice::wizard::ask_kinds(ui, &flags.role, &served, &first_held, "Argo CD")?;
        for s in &picked.skipped {
            ui.warn(format!(
                "not granted: {} ({})",
                rbac::rule::group_resource(&s.want.group, &s.want.resource),
                s.reason
            ));
        }
        (picked.selections, picked.allow_risky)
    } else {
        let (selections, skipped) = role_choice::kinds_from_flags(&flags.role, &served)?;
        for s in &skipped {
            ui.warn(format!(
                "not granted: {} ({})",
                rbac::rule::group_resource(&s.want.group, &s.want.resource),
                s.reason
            ));
        }
        if selections.is_empty() {
            return Err(Error::MissingAnswer {
                what: "which kinds Argo CD may change".into(),
                flag: "--preset web-app|helm|welkin-demo or --kinds LIST".into(),
            });
        }
        (selections, flags.role.allow_risky)
    };
    let server = if ui.interactive() {
        ui.confirm(
            "Bind argocd-server too (the UI's live view, logs and deletes need it)?",
            flags.server,
        )?
    } else {
        flags.server
    };
    let (role, _risks) = role_choice::build_gated_role(&selections, allow_risky)?;
    for d in &role.dropped {
        ui.warn(format!("not granted: {d}"));
    }
    let mut accounts = vec![(argocd_namespace.clone(), CONTROLLER.to_string())];
    if server {
        accounts.push((argocd_namespace.clone(), SERVER.to_string()));
    }
    let plan = Plan {
        argocd_namespace,
        targets,
        name,
        role,
        accounts,
    };
    check_accounts(ui, &cluster, &plan).await;
    precheck(&cluster, &plan, &me).await?;
    preview(ui, &plan, &selections);
    if !flags.dry_run && ui.interactive() && !ui.confirm("Create these grants?", true)? {
        return Err(Error::Cancelled);
    }

    let writer = Writer {
        ui,
        cluster: &cluster,
        plan: &plan,
        me: &me,
        dry_run: flags.dry_run,
        kinds: RbacKinds::find(&served)?,
    };
    let mut done: Vec<String> = Vec::new();
    for ns in &plan.targets {
        *progress = Progress::new(ns);
        progress.connected();
        if !done.is_empty() {
            progress.note(format!("The grants in {} are done.", done.join(", ")));
        }
        writer.grant_in(ns, progress).await?;
        done.push(ns.clone());
    }
    if flags.dry_run {
        ui.say("Dry run: the server accepted the objects above; nothing was changed.");
    } else {
        next_steps(ui, &plan);
    }
    Ok(())
}

/// `--to`, or asked for on a terminal.
fn targets(ui: &Ui, flags: &ArgocdGrantFlags) -> Result<Vec<String>> {
    if !flags.to.is_empty() {
        return Ok(flags.to.clone());
    }
    if !ui.interactive() {
        return Err(Error::MissingAnswer {
            what: "the namespaces Argo CD may deploy into".into(),
            flag: "--to NAMESPACE[,NAMESPACE...]".into(),
        });
    }
    let text = ui.input(
        "Namespaces Argo CD may deploy into (comma-separated)",
        "",
        |s: &String| {
            let names: Vec<&str> = s
                .split(',')
                .map(str::trim)
                .filter(|n| !n.is_empty())
                .collect();
            if names.is_empty() {
                return Err("name at least one namespace".into());
            }
            names
                .iter()
                .try_for_each(|n| validate_namespace(n).map_err(|e| e.to_string()))
        },
    )?;
    Ok(text
        .split(',')
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(str::to_string)
        .collect())
}

async fn held(cluster: &Cluster, namespace: &str) -> Result<Vec<Rule>> {
    let review = cluster.rules_review(namespace).await?;
    Ok(crate::issue::verify::held_rules(&review))
}

/// Warns when a ServiceAccount the grant is for is not there (yet): Argo CD is not installed
/// in that namespace, or under other names.
async fn check_accounts(ui: &Ui, cluster: &Cluster, plan: &Plan) {
    for (ns, name) in &plan.accounts {
        if let Ok(None) = cluster.get_service_account(ns, name).await {
            ui.warn(format!(
                "there is no ServiceAccount {ns}/{name}: is Argo CD installed in namespace {ns} \
                 (kubectl cicd argocd install -n {ns})? The grant works once it is"
            ));
        }
    }
}

/// Refuses, before any write, what the API server would refuse in any of the namespaces.
async fn precheck(cluster: &Cluster, plan: &Plan, me: &Caller) -> Result<()> {
    let mut problems = Vec::new();
    for ns in &plan.targets {
        let held = held(cluster, ns).await?;
        let mut lines = Vec::new();
        if let Some(refusal) = role_choice::escalation_problem(
            &plan.name,
            &plan.role.rules,
            &me.username,
            &me.groups,
            &held,
        ) {
            lines.push(format!(
                "The Role would grant permissions you do not hold there yourself, so the API server would refuse it:\n  {}",
                refusal.replace('\n', "\n  ")
            ));
        }
        let lacking: Vec<String> = ["roles", "rolebindings"]
            .iter()
            .flat_map(|resource| {
                ["get", "create", "patch"]
                    .iter()
                    .map(move |verb| Request::new(verb, RBAC_GROUP, resource))
            })
            .filter(|req| !rbac::rules_allow(&held, req))
            .map(|req| format!("  {req}"))
            .collect();
        if !lacking.is_empty() {
            lines.push(format!(
                "You may not write the Role and RoleBinding there; missing:\n{}",
                lacking.join("\n")
            ));
        }
        if !lines.is_empty() {
            problems.push(format!("In namespace {ns}:\n{}", lines.join("\n")));
        }
    }
    if problems.is_empty() {
        return Ok(());
    }
    Err(Error::Escalation(format!(
        "{}\n\nNothing was created. Leave out what you do not hold, or ask an admin of those namespaces \
         (or your cluster administrator) to grant it to you, or to run this grant.",
        problems.join("\n\n")
    )))
}

fn preview(ui: &Ui, plan: &Plan, selections: &[Selection]) {
    ui.heading(format!(
        "Grant {} in {} to {}",
        plan.name,
        plan.targets.join(", "),
        plan.accounts
            .iter()
            .map(|(ns, n)| format!("ServiceAccount {ns}/{n}"))
            .collect::<Vec<_>>()
            .join(" and ")
    ));
    for s in selections {
        ui.say(format!(
            "  {}: {}",
            s.kind.group_resource(),
            s.wanted_verbs().join(", ")
        ));
    }
}

/// Where Roles and RoleBindings are served (for the dry run's requests).
struct RbacKinds {
    role: ObjectKind,
    binding: ObjectKind,
}

impl RbacKinds {
    fn find(served: &[ServedKind]) -> Result<RbacKinds> {
        let kind = |resource: &str| {
            served
                .iter()
                .find(|k| k.group == RBAC_GROUP && k.resource == resource)
                .map(|k| ObjectKind::new(k, &format!("{RBAC_GROUP}/v1")))
                .ok_or_else(|| {
                    Error::Usage(format!(
                        "the API server does not serve {resource}.{RBAC_GROUP}: RBAC is off on this cluster"
                    ))
                })
        };
        Ok(RbacKinds {
            role: kind("roles")?,
            binding: kind("rolebindings")?,
        })
    }
}

/// What writes the grant, namespace by namespace.
struct Writer<'a> {
    ui: &'a Ui,
    cluster: &'a Cluster,
    plan: &'a Plan,
    me: &'a Caller,
    dry_run: bool,
    kinds: RbacKinds,
}

impl Writer<'_> {
    /// The grant in one namespace: lock, read what is there (refusing what is not ours),
    /// apply the Role, then the RoleBinding.
    async fn grant_in(&self, ns: &str, progress: &mut Progress) -> Result<()> {
        let lock = if self.dry_run {
            None
        } else {
            crate::run_lock::take(
                self.ui,
                self.cluster,
                ns,
                &self.plan.name,
                &self.me.username,
            )
            .await?
        };
        progress.hold_lock(self.cluster, &lock);
        let result = self.apply_grant(ns, progress).await;
        crate::run_lock::give_back(self.ui, self.cluster, lock).await;
        progress.lock_released();
        result
    }

    async fn apply_grant(&self, ns: &str, progress: &mut Progress) -> Result<()> {
        let (ui, cluster, plan, me, kinds) =
            (self.ui, self.cluster, self.plan, self.me, &self.kinds);
        let dry_run = self.dry_run;
        let name = plan.name.as_str();
        let old_role = cluster.get_role(ns, name).await?;
        let old_binding = cluster.get_role_binding(ns, name).await?;
        for (kind, meta) in [
            ("Role", old_role.as_ref().map(|o| &o.metadata)),
            ("RoleBinding", old_binding.as_ref().map(|o| &o.metadata)),
        ] {
            let Some(meta) = meta else { continue };
            if !managed::is_ours(meta, Some(name)) {
                return Err(Error::Identity(format!(
                    "{kind} {ns}/{name} exists and was not made by kubectl-cicd (no labels {}={} and {}={name}), \
                     so nothing was changed there: choose another name with --name",
                    managed::MANAGED_BY_LABEL,
                    managed::MANAGED_BY,
                    managed::IDENTITY_LABEL
                )));
            }
            if managed::granted_to(meta).is_none() {
                return Err(Error::Identity(format!(
                    "{kind} {ns}/{name} belongs to the CI/CD identity {name} that kubectl cicd init made, not to a grant, \
                     so nothing was changed there: choose another name with --name"
                )));
            }
            progress.existed(format!("{kind} {name}"));
        }
        let provenance = old_role
            .as_ref()
            .and_then(|r| {
                let a = r.metadata.annotations.as_ref()?;
                Some(Provenance {
                    created_by: a.get(CREATED_BY)?.clone(),
                    created_at: a.get(CREATED_AT)?.clone(),
                })
            })
            .unwrap_or_else(|| Provenance {
                created_by: me.username.clone(),
                created_at: crate::timestamp::now(),
            });
        let (role, binding) = plan.objects(ns, &provenance);

        if dry_run {
            let role_json = serde_json::to_value(&role).expect("a Role serializes");
            cluster
                .apply_object(
                    &kinds.role,
                    &role_json,
                    old_role.as_ref().map(|r| &r.metadata),
                    true,
                )
                .await?;
            let binding_said = if old_role.is_some() {
                let binding_json =
                    serde_json::to_value(&binding).expect("a RoleBinding serializes");
                cluster
                    .apply_object(
                        &kinds.binding,
                        &binding_json,
                        old_binding.as_ref().map(|b| &b.metadata),
                        true,
                    )
                    .await?;
                "accepted"
            } else {
                "not sent (its Role does not exist yet, so the server cannot check it in a dry run; the pre-check did)"
            };
            ui.ok(format!(
                "Namespace {ns}: Role {name} accepted, RoleBinding {name} {binding_said} (server-side dry run)"
            ));
            crate::ui::print_data(&format!(
                "---\n{}---\n{}",
                crate::argocd::manifest::to_yaml(&role_json),
                crate::argocd::manifest::to_yaml(
                    &serde_json::to_value(&binding).expect("a RoleBinding serializes")
                )
            ));
            return Ok(());
        }

        progress.attempt(format!("Role {name}"));
        let stored_role = cluster.apply(&role).await?;
        progress.exists(format!("Role {name}"));
        progress.attempt(format!("RoleBinding {name}"));
        let stored_binding = cluster
            .replace_role_binding_if_role_ref_changed(&binding)
            .await?;
        progress.exists(format!("RoleBinding {name}"));
        let how = |before: Option<&ObjectMeta>, after: &ObjectMeta| match before {
            None => "created",
            Some(b) if b.resource_version == after.resource_version => "unchanged",
            Some(_) => "configured",
        };
        ui.ok(format!(
            "Namespace {ns}: Role {name} {}, RoleBinding {name} {}",
            how(
                old_role.as_ref().map(|r| &r.metadata),
                &stored_role.metadata
            ),
            if stored_binding.replaced {
                "replaced (its roleRef changed)"
            } else {
                how(
                    old_binding.as_ref().map(|b| &b.metadata),
                    &stored_binding.binding.metadata,
                )
            }
        ));
        Ok(())
    }
}

fn next_steps(ui: &Ui, plan: &Plan) {
    let ns = &plan.argocd_namespace;
    ui.say(format!(
        "\nArgo CD may now deploy these kinds into {}. Tell it which namespaces it may use on this cluster: \
         a cluster Secret in namespace {ns} (no credentials: the application controller uses its own ServiceAccount):\n\n\
         kubectl apply -n {ns} -f - <<'EOF'\n\
         apiVersion: v1\n\
         kind: Secret\n\
         metadata:\n  name: in-cluster\n  labels:\n    argocd.argoproj.io/secret-type: cluster\n\
         stringData:\n  name: in-cluster\n  server: https://kubernetes.default.svc\n  namespaces: {}   # every namespace it deploys to\n\
         EOF\n\n\
         kubectl cicd list -n NAMESPACE shows the grant, kubectl cicd delete {} -n NAMESPACE removes it. See docs/argocd.md.",
        plan.targets.join(", "),
        plan.targets.join(","),
        plan.name
    ));
}
