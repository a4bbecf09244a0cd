//! Finding objects by label, in one namespace or in all, page by page: what `list`, `rotate`
//! and `delete` use to find the objects `init` made.
//!
//! Secrets are only ever listed through [`Cluster::list_labelled_metadata`], kube's
//! metadata-only list: the server sends names, labels, annotations and timestamps, never `data`.

use std::fmt::Debug;

use k8s_openapi::NamespaceResourceScope;
use kube::Resource;
use kube::api::{Api, DeleteParams, ListParams, Preconditions};
use kube::core::PartialObjectMeta;
use serde::de::DeserializeOwned;

use super::Cluster;
use super::lists::{PAGE_SIZE, all_pages};
use crate::error::Result;

/// Where to list namespaced objects.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Namespaces<'a> {
    One(&'a str),
    All,
}

impl Namespaces<'_> {
    fn api<K>(&self, client: kube::Client) -> Api<K>
    where
        K: Resource<Scope = NamespaceResourceScope, DynamicType = ()>,
    {
        match self {
            Namespaces::One(ns) => Api::namespaced(client, ns),
            Namespaces::All => Api::all(client),
        }
    }

    fn describe(&self) -> String {
        match self {
            Namespaces::One(ns) => format!("in namespace {ns}"),
            Namespaces::All => "in all namespaces".to_string(),
        }
    }
}

fn page(selector: &str, continue_token: Option<String>) -> ListParams {
    let mut lp = ListParams::default().labels(selector).limit(PAGE_SIZE);
    lp.continue_token = continue_token;
    lp
}

impl Cluster {
    /// Every object of kind `K` carrying the labels of `selector` (`a=b,c=d`).
    pub async fn list_labelled<K>(&self, scope: Namespaces<'_>, selector: &str) -> Result<Vec<K>>
    where
        K: Resource<Scope = NamespaceResourceScope, DynamicType = ()>
            + Clone
            + DeserializeOwned
            + Debug,
    {
        let api: Api<K> = scope.api(self.client.clone());
        all_pages(|token| {
            let api = api.clone();
            async move { api.list(&page(selector, token)).await }
        })
        .await
        .map_err(|e| {
            self.err(e, || {
                format!("listing {}s {}", K::kind(&()), scope.describe())
            })
        })
    }

    /// [`Cluster::list_labelled`], metadata only (`PartialObjectMetadataList`): the way Secrets
    /// are listed.
    pub async fn list_labelled_metadata<K>(
        &self,
        scope: Namespaces<'_>,
        selector: &str,
    ) -> Result<Vec<PartialObjectMeta<K>>>
    where
        K: Resource<Scope = NamespaceResourceScope, DynamicType = ()>
            + Clone
            + DeserializeOwned
            + Debug,
    {
        let api: Api<K> = scope.api(self.client.clone());
        all_pages(|token| {
            let api = api.clone();
            async move { api.list_metadata(&page(selector, token)).await }
        })
        .await
        .map_err(|e| {
            self.err(e, || {
                format!(
                    "listing {}s {} (metadata only)",
                    K::kind(&()),
                    scope.describe()
                )
            })
        })
    }

    /// Deletes the object `ns/name` of kind `K`, only if it is still the one with `uid` (a
    /// precondition the server checks: an object recreated meanwhile is left alone). `false`
    /// when it was already gone.
    pub async fn delete_exact<K>(&self, ns: &str, name: &str, uid: Option<&str>) -> Result<bool>
    where
        K: Resource<Scope = NamespaceResourceScope, DynamicType = ()>
            + Clone
            + DeserializeOwned
            + Debug,
    {
        let api: Api<K> = Api::namespaced(self.client.clone(), ns);
        let params = DeleteParams {
            preconditions: uid.map(|uid| Preconditions {
                uid: Some(uid.to_string()),
                resource_version: None,
            }),
            ..DeleteParams::default()
        };
        match api.delete(name, &params).await {
            Ok(_) => Ok(true),
            Err(e) if super::errors::is_not_found(&e) => Ok(false),
            Err(e) => Err(self.err(e, || format!("deleting {} {ns}/{name}", K::kind(&())))),
        }
    }

    /// Whether a namespace exists: `Some(false)` on 404, `None` when the answer does not say
    /// (typically 403: the caller may not read it).
    pub async fn namespace_exists(&self, namespace: &str) -> Option<bool> {
        let api: Api<k8s_openapi::api::core::v1::Namespace> = Api::all(self.client.clone());
        match api.get_metadata(namespace).await {
            Ok(_) => Some(true),
            Err(e) if super::errors::is_not_found(&e) => Some(false),
            Err(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_carry_the_selector_and_kubectls_chunk_size() {
        let lp = page(
            "app.kubernetes.io/managed-by=kubectl-cicd",
            Some("c".into()),
        );
        assert_eq!(
            lp.label_selector.as_deref(),
            Some("app.kubernetes.io/managed-by=kubectl-cicd")
        );
        assert_eq!(lp.limit, Some(PAGE_SIZE));
        assert_eq!(lp.continue_token.as_deref(), Some("c"));
    }
}
