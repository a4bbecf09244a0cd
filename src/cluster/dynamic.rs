//! Namespaced objects of any kind, as JSON: what `argocd install` applies (ServiceAccounts,
//! Roles, ConfigMaps, Deployments, NetworkPolicies, ...). Server-side apply with field
//! manager `kubectl-cicd` and `force`, as a real write or as a server-side dry run
//! (`dryRun=All`: the server runs admission, RBAC and validation and stores nothing), and
//! metadata-only reads (a Secret's data is never asked for).

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::{Api, DynamicObject, Patch, PatchParams};
use kube::core::ApiResource;
use serde_json::Value;

use super::errors::is_not_found;
use super::{Cluster, FIELD_MANAGER};
use crate::error::{Error, Result};
use crate::rbac::ServedKind;

/// Where objects of one kind live on the API server: a served kind at the object's version.
#[derive(Debug, Clone)]
pub struct ObjectKind {
    resource: ApiResource,
}

impl ObjectKind {
    /// The kind `served` (from discovery) at `api_version` (the object's own).
    pub fn new(served: &ServedKind, api_version: &str) -> ObjectKind {
        let version = api_version
            .rsplit_once('/')
            .map(|(_, v)| v)
            .unwrap_or(api_version);
        ObjectKind {
            resource: ApiResource {
                group: served.group.clone(),
                version: version.to_string(),
                api_version: api_version.to_string(),
                kind: served.kind.clone(),
                plural: served.resource.clone(),
            },
        }
    }

    fn api(&self, cluster: &Cluster, ns: &str) -> Api<DynamicObject> {
        Api::namespaced_with(cluster.client.clone(), ns, &self.resource)
    }
}

/// What an apply did, as kubectl says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    Created,
    Configured,
    Unchanged,
    /// A RoleBinding whose roleRef changed: deleted and created again (roleRef is immutable).
    Replaced,
}

impl Applied {
    pub fn as_str(self) -> &'static str {
        match self {
            Applied::Created => "created",
            Applied::Configured => "configured",
            Applied::Unchanged => "unchanged",
            Applied::Replaced => "replaced (its roleRef changed)",
        }
    }
}

impl Cluster {
    /// The metadata of object `ns/name` of `kind`, `None` when there is none (one GET of a
    /// `PartialObjectMetadata`).
    pub async fn object_metadata(
        &self,
        kind: &ObjectKind,
        ns: &str,
        name: &str,
    ) -> Result<Option<ObjectMeta>> {
        match kind.api(self, ns).get_metadata_opt(name).await {
            Ok(found) => Ok(found.map(|o| o.metadata)),
            Err(e) => Err(self.err(e, || format!("reading {} {ns}/{name}", kind.resource.kind))),
        }
    }

    /// Server-side applies `object` (it names its namespace), or with `dry_run` sends the
    /// same request as a server-side dry run. `before` is the stored object's metadata (from
    /// [`Cluster::object_metadata`]), to tell created, configured and unchanged apart.
    pub async fn apply_object(
        &self,
        kind: &ObjectKind,
        object: &Value,
        before: Option<&ObjectMeta>,
        dry_run: bool,
    ) -> Result<Applied> {
        let (Some(ns), Some(name)) = (
            object["metadata"]["namespace"].as_str(),
            object["metadata"]["name"].as_str(),
        ) else {
            return Err(Error::Internal {
                context: "applying an object".into(),
                message: "it has no metadata.name or metadata.namespace".into(),
            });
        };
        let what = || {
            format!(
                "{} {} {ns}/{name}",
                if dry_run {
                    "server-side dry run of applying"
                } else {
                    "applying"
                },
                kind.resource.kind
            )
        };
        let api = kind.api(self, ns);
        let mut params = PatchParams::apply(FIELD_MANAGER).force();
        params.dry_run = dry_run;
        let stored = match api.patch(name, &params, &Patch::Apply(object)).await {
            Ok(stored) => stored,
            Err(kube::Error::Api(s))
                if s.code == 422
                    && kind.resource.kind == "RoleBinding"
                    && s.message.contains("cannot change roleRef") =>
            {
                if dry_run {
                    return Ok(Applied::Replaced);
                }
                self.delete_role_binding(ns, name).await?;
                api.patch(name, &params, &Patch::Apply(object))
                    .await
                    .map_err(|e| self.err(e, what))?;
                return Ok(Applied::Replaced);
            }
            Err(e) => return Err(self.err(e, what)),
        };
        Ok(match before {
            None => Applied::Created,
            Some(b) if b.resource_version == stored.metadata.resource_version => Applied::Unchanged,
            Some(_) => Applied::Configured,
        })
    }

    /// Whether Role `ns/name` exists (`None` when the caller may not read Roles there).
    pub async fn role_exists(&self, ns: &str, name: &str) -> Result<Option<bool>> {
        let api: Api<k8s_openapi::api::rbac::v1::Role> = Api::namespaced(self.client.clone(), ns);
        match api.get_metadata(name).await {
            Ok(_) => Ok(Some(true)),
            Err(e) if is_not_found(&e) => Ok(Some(false)),
            Err(kube::Error::Api(s)) if s.code == 403 => Ok(None),
            Err(e) => Err(self.err(e, || format!("reading Role {ns}/{name}"))),
        }
    }
}
