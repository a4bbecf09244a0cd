//! Reading, applying and deleting the namespaced objects `init` manages. Writes are
//! server-side apply with field manager `kubectl-cicd` and `force` (one request each; applying
//! the same content again changes nothing on the server).

use std::fmt::Debug;

use k8s_openapi::NamespaceResourceScope;
use k8s_openapi::api::core::v1::{Secret, ServiceAccount};
use k8s_openapi::api::rbac::v1::{Role, RoleBinding};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::Resource;
use kube::api::{Api, DeleteParams, Patch, PatchParams};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::errors::is_not_found;
use super::{Cluster, FIELD_MANAGER};
use crate::error::{Error, Result};

/// What [`Cluster::replace_role_binding_if_role_ref_changed`] did.
#[derive(Clone, Debug)]
pub struct AppliedRoleBinding {
    /// The binding as stored.
    pub binding: RoleBinding,
    /// The old binding pointed at another role and was deleted and created again.
    pub replaced: bool,
}

fn describe<K: Resource<DynamicType = ()>>(ns: &str, name: &str) -> String {
    format!("{} {ns}/{name}", K::kind(&()))
}

impl Cluster {
    async fn get_opt<K>(&self, ns: &str, name: &str) -> Result<Option<K>>
    where
        K: Resource<Scope = NamespaceResourceScope, DynamicType = ()>
            + Clone
            + DeserializeOwned
            + Debug,
    {
        let api: Api<K> = Api::namespaced(self.client.clone(), ns);
        match api.get(name).await {
            Ok(obj) => Ok(Some(obj)),
            Err(e) if is_not_found(&e) => Ok(None),
            Err(e) => Err(self.err(e, || format!("reading {}", describe::<K>(ns, name)))),
        }
    }

    pub async fn get_service_account(
        &self,
        ns: &str,
        name: &str,
    ) -> Result<Option<ServiceAccount>> {
        self.get_opt(ns, name).await
    }

    pub async fn get_role(&self, ns: &str, name: &str) -> Result<Option<Role>> {
        self.get_opt(ns, name).await
    }

    pub async fn get_role_binding(&self, ns: &str, name: &str) -> Result<Option<RoleBinding>> {
        self.get_opt(ns, name).await
    }

    /// A Secret's metadata only (`PartialObjectMetadata`): the server sends no data.
    pub async fn get_secret_metadata(&self, ns: &str, name: &str) -> Result<Option<ObjectMeta>> {
        let api: Api<Secret> = Api::namespaced(self.client.clone(), ns);
        match api.get_metadata(name).await {
            Ok(obj) => Ok(Some(obj.metadata)),
            Err(e) if is_not_found(&e) => Ok(None),
            Err(e) => Err(self.err(e, || {
                format!("reading {} (metadata only)", describe::<Secret>(ns, name))
            })),
        }
    }

    /// Reads a Secret, data included (only to take a token out of it): never Debug-print the
    /// result.
    pub(super) async fn get_secret(&self, ns: &str, name: &str) -> Result<Option<Secret>> {
        self.get_opt(ns, name).await
    }

    /// Server-side apply (field manager `kubectl-cicd`, force): creates or updates, returns the
    /// stored object. One PATCH request.
    pub async fn apply<K>(&self, obj: &K) -> Result<K>
    where
        K: Resource<Scope = NamespaceResourceScope, DynamicType = ()>
            + Clone
            + Serialize
            + DeserializeOwned
            + Debug,
    {
        let meta = obj.meta();
        let (Some(ns), Some(name)) = (meta.namespace.as_deref(), meta.name.as_deref()) else {
            return Err(Error::Usage(format!(
                "a {} to apply needs metadata.name and metadata.namespace (this is a bug in kubectl-cicd)",
                K::kind(&())
            )));
        };
        let api: Api<K> = Api::namespaced(self.client.clone(), ns);
        let params = PatchParams::apply(FIELD_MANAGER).force();
        api.patch(name, &params, &Patch::Apply(obj))
            .await
            .map_err(|e| self.err(e, || format!("applying {}", describe::<K>(ns, name))))
    }

    /// Applies a RoleBinding; when the stored one refers to another role (roleRef is
    /// immutable, the server answers 422 "cannot change roleRef"), deletes it and applies
    /// again. One request when nothing changed roleRef, three when it did.
    pub async fn replace_role_binding_if_role_ref_changed(
        &self,
        desired: &RoleBinding,
    ) -> Result<AppliedRoleBinding> {
        let ns = desired.metadata.namespace.clone().unwrap_or_default();
        let name = desired.metadata.name.clone().unwrap_or_default();
        let api: Api<RoleBinding> = Api::namespaced(self.client.clone(), &ns);
        let params = PatchParams::apply(FIELD_MANAGER).force();
        match api.patch(&name, &params, &Patch::Apply(desired)).await {
            Ok(binding) => {
                return Ok(AppliedRoleBinding {
                    binding,
                    replaced: false,
                });
            }
            Err(kube::Error::Api(s)) if s.code == 422 && role_ref_rejected(&s) => {}
            Err(e) => {
                return Err(self.err(e, || {
                    format!("applying {}", describe::<RoleBinding>(&ns, &name))
                }));
            }
        }
        self.delete_role_binding(&ns, &name).await?;
        let binding = self.apply(desired).await?;
        Ok(AppliedRoleBinding {
            binding,
            replaced: true,
        })
    }

    async fn delete_opt<K>(&self, ns: &str, name: &str) -> Result<bool>
    where
        K: Resource<Scope = NamespaceResourceScope, DynamicType = ()>
            + Clone
            + DeserializeOwned
            + Debug,
    {
        let api: Api<K> = Api::namespaced(self.client.clone(), ns);
        match api.delete(name, &DeleteParams::default()).await {
            Ok(_) => Ok(true),
            Err(e) if is_not_found(&e) => Ok(false),
            Err(e) => Err(self.err(e, || format!("deleting {}", describe::<K>(ns, name)))),
        }
    }

    pub async fn delete_role_binding(&self, ns: &str, name: &str) -> Result<bool> {
        self.delete_opt::<RoleBinding>(ns, name).await
    }

    pub async fn delete_secret(&self, ns: &str, name: &str) -> Result<bool> {
        self.delete_opt::<Secret>(ns, name).await
    }
}

fn role_ref_rejected(s: &kube::core::Status) -> bool {
    s.message.contains("cannot change roleRef")
        || s.details
            .as_ref()
            .is_some_and(|d| d.causes.iter().any(|c| c.field.starts_with("roleRef")))
}
