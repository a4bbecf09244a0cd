//! `kubectl cicd delete NAME`: removes what `init` made for an identity: its RoleBinding
//! (first, so the identity loses its rights at once), Role, token Secrets and ServiceAccount
//! (last: that revokes every TokenRequest token too); or a grant of `argocd grant`, which is
//! its RoleBinding and Role. Only objects carrying the labels
//! `app.kubernetes.io/managed-by=kubectl-cicd` and `kubectl-cicd.io/identity=NAME` are
//! touched, each deleted with its uid as a precondition, so an object someone recreated
//! meanwhile stays. It shows what will go and asks, unless `--yes`.

use k8s_openapi::api::core::v1::{Secret, ServiceAccount};
use k8s_openapi::api::rbac::v1::{Role, RoleBinding};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use crate::cli::{DeleteFlags, GlobalFlags};
use crate::cluster::Cluster;
use crate::cluster::Namespaces;
use crate::error::{Error, Result};
use crate::managed::{IDENTITY_LABEL, MANAGED_BY, MANAGED_BY_LABEL};
use crate::progress::Progress;
use crate::run_lock;
use crate::target::Target;
use crate::ui::{Prompts, Ui};

/// One object to delete.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Doomed {
    pub kind: Kind,
    pub name: String,
    pub uid: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    RoleBinding,
    Role,
    Secret,
    ServiceAccount,
}

impl Kind {
    fn label(self) -> &'static str {
        match self {
            Kind::RoleBinding => "RoleBinding",
            Kind::Role => "Role",
            Kind::Secret => "Secret",
            Kind::ServiceAccount => "ServiceAccount",
        }
    }
}

impl Doomed {
    fn describe(&self) -> String {
        format!("{} {}", self.kind.label(), self.name)
    }
}

pub async fn run(global: &GlobalFlags, flags: &DeleteFlags) -> Result<()> {
    let mut progress = Progress::default();
    run_with(global, flags, &mut progress)
        .await
        .map_err(|e| progress.explain(e))
}

async fn run_with(
    global: &GlobalFlags,
    flags: &DeleteFlags,
    progress: &mut Progress,
) -> Result<()> {
    let name = flags.name.as_str();
    let ui = Ui::detect(Prompts::unless(flags.yes));
    if !flags.yes && !ui.interactive() {
        return Err(Error::MissingAnswer {
            what: format!("the confirmation to delete identity {name}"),
            flag: "--yes".into(),
        });
    }
    let target = Target::resolve(global, false, ui)?;
    let (ui, source) = (&target.ui, &target.source);
    let ns = target.namespace().to_string();
    *progress = Progress::new(&ns);

    let cluster = target.connect()?;
    // No init or rotate may add a token Secret while the identity is being deleted.
    let me = source
        .user_name
        .clone()
        .unwrap_or_else(|| "unknown user".into());
    let lock = run_lock::take(ui, &cluster, &ns, name, &me).await?;
    progress.connected();
    let result = delete_locked(ui, &cluster, &ns, name, flags, progress).await;
    run_lock::give_back(ui, &cluster, lock).await;
    result
}

/// Everything after the lock is taken: find, show, ask, delete.
async fn delete_locked(
    ui: &Ui,
    cluster: &Cluster,
    ns: &str,
    name: &str,
    flags: &DeleteFlags,
    progress: &mut Progress,
) -> Result<()> {
    let ns = ns.to_string();
    let found = super::find(cluster, Namespaces::One(&ns), Some(name)).await?;
    let doomed = doomed(&found);
    if doomed.is_empty() {
        return Err(Error::Identity(format!(
            "no objects of identity {name} made by kubectl-cicd in namespace {ns} \
             (none labelled {MANAGED_BY_LABEL}={MANAGED_BY},{IDENTITY_LABEL}={name}): nothing to delete. \
             kubectl cicd list -n {ns} shows the identities there"
        )));
    }
    for d in &doomed {
        progress.existed(d.describe());
    }

    ui.heading(format!(
        "Objects of identity {name} in namespace {ns} (labelled {MANAGED_BY_LABEL}={MANAGED_BY})"
    ));
    for d in &doomed {
        let why = match d.kind {
            Kind::Secret => "  (a token: kubeconfigs holding it stop working)",
            Kind::ServiceAccount => "  (every token it was issued stops working)",
            _ => "",
        };
        ui.say(format!("  {}{why}", d.describe()));
    }
    if !flags.yes && !ui.confirm(&format!("Delete these {} objects?", doomed.len()), false)? {
        return Err(Error::Cancelled);
    }

    for d in &doomed {
        progress.attempt(d.describe());
        let uid = d.uid.as_deref();
        let existed = match d.kind {
            Kind::RoleBinding => {
                cluster
                    .delete_exact::<RoleBinding>(&ns, &d.name, uid)
                    .await?
            }
            Kind::Role => cluster.delete_exact::<Role>(&ns, &d.name, uid).await?,
            Kind::Secret => cluster.delete_exact::<Secret>(&ns, &d.name, uid).await?,
            Kind::ServiceAccount => {
                cluster
                    .delete_exact::<ServiceAccount>(&ns, &d.name, uid)
                    .await?
            }
        };
        progress.deleted(d.describe());
        if existed {
            ui.ok(format!("Deleted {}", d.describe()));
        } else {
            ui.ok(format!("{} was already gone", d.describe()));
        }
    }
    let grant = found
        .roles
        .iter()
        .map(|r| &r.metadata)
        .chain(found.role_bindings.iter().map(|b| &b.metadata))
        .find_map(crate::managed::granted_to);
    match grant {
        Some(to) if found.service_accounts.is_empty() => ui.say(format!(
            "The grant {name} is gone from namespace {ns}: {} may no longer change anything there through it.",
            to.join(", ")
        )),
        _ => ui.say(format!(
            "Identity {name} is gone from namespace {ns}. Remove its kubeconfig from your pipeline's secrets too."
        )),
    }
    if doomed
        .iter()
        .any(|d| matches!(d.kind, Kind::Secret | Kind::ServiceAccount))
    {
        ui.dim(format!("({})", super::AUTH_CACHE_NOTE));
    }
    Ok(())
}

/// What to delete, in order: RoleBindings, Roles, token Secrets, ServiceAccounts.
pub fn doomed(found: &super::Found) -> Vec<Doomed> {
    let one = |kind: Kind, meta: &ObjectMeta| Doomed {
        kind,
        name: meta.name.clone().unwrap_or_default(),
        uid: meta.uid.clone(),
    };
    let mut out: Vec<Doomed> = found
        .role_bindings
        .iter()
        .map(|o| one(Kind::RoleBinding, &o.metadata))
        .chain(found.roles.iter().map(|o| one(Kind::Role, &o.metadata)))
        .chain(
            found
                .token_secrets
                .iter()
                .map(|o| one(Kind::Secret, &o.metadata)),
        )
        .chain(
            found
                .service_accounts
                .iter()
                .map(|o| one(Kind::ServiceAccount, &o.metadata)),
        )
        .collect();
    out.sort_by(|a, b| (a.kind, &a.name).cmp(&(b.kind, &b.name)));
    out
}
