//! What the cluster serves: aggregated discovery first (`GET /api` and `GET /apis`, two
//! requests), legacy discovery only when the server answers those with the plain documents.
//!
//! kube 5's `Discovery::run_aggregated()` cannot tell a server without aggregated discovery
//! from an empty one (it parses the legacy `APIGroupList` as an `APIGroupDiscoveryList` with no
//! items), and its `ApiResource`/`ApiCapabilities` drop short names and singular names, which
//! kubectl-style name resolution needs. So the two requests are sent with kube's aggregated
//! Accept header, the reply's `kind` decides the parser (as client-go decides by Content-Type),
//! and a legacy reply to `/apis` is reused rather than fetched again.

use std::collections::HashMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{APIGroupList, APIResourceList, APIVersions};
use kube::core::discovery::v2::{ACCEPT_AGGREGATED_DISCOVERY_V2, APIGroupDiscoveryList};
use serde_json::Value;

use super::Cluster;
use crate::error::{Error, Result};
pub use crate::rbac::kinds::ServedKind;

/// How the cluster was discovered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DiscoveryMode {
    /// apidiscovery.k8s.io/v2: two requests.
    Aggregated,
    /// One request per group version (servers before Kubernetes 1.26/1.30).
    Legacy,
}

/// Everything discovery found, core group first, then the groups in the server's order.
#[derive(Clone, Debug)]
pub struct Discovered {
    pub kinds: Vec<ServedKind>,
    pub mode: DiscoveryMode,
}

/// Collects kinds, keeping the first (preferred) version of each group/resource.
#[derive(Default)]
struct Collector {
    kinds: Vec<ServedKind>,
    seen: HashMap<(String, String), usize>,
}

impl Collector {
    fn push(&mut self, kind: ServedKind) {
        let key = (kind.group.clone(), kind.resource.clone());
        if self.seen.contains_key(&key) {
            return;
        }
        self.seen.insert(key, self.kinds.len());
        self.kinds.push(kind);
    }

    fn add_subresource(
        &mut self,
        group: &str,
        resource: &str,
        version: &str,
        sub: &str,
        verbs: Vec<String>,
    ) {
        if let Some(&i) = self.seen.get(&(group.to_string(), resource.to_string()))
            && self.kinds[i].version == version
            && !self.kinds[i].subresources.iter().any(|s| s == sub)
        {
            self.kinds[i].subresources.push(sub.to_string());
            self.kinds[i]
                .subresource_verbs
                .insert(sub.to_string(), verbs);
        }
    }

    fn aggregated(&mut self, list: APIGroupDiscoveryList) {
        for group in list.items {
            let group_name = group
                .metadata
                .as_ref()
                .and_then(|m| m.name.clone())
                .unwrap_or_default();
            for version in group.versions {
                let Some(v) = version.version.filter(|v| !v.is_empty()) else {
                    continue;
                };
                for r in version.resources {
                    let Some(resource) = r.resource.filter(|r| !r.is_empty()) else {
                        continue;
                    };
                    let kind = r
                        .response_kind
                        .as_ref()
                        .and_then(|k| k.kind.clone())
                        .unwrap_or_default();
                    let singular = r
                        .singular_resource
                        .filter(|s| !s.is_empty())
                        .unwrap_or_else(|| kind.to_lowercase());
                    let subresources: Vec<(String, Vec<String>)> = r
                        .subresources
                        .into_iter()
                        .filter_map(|s| s.subresource.map(|name| (name, s.verbs)))
                        .collect();
                    self.push(ServedKind {
                        group: group_name.clone(),
                        version: v.clone(),
                        resource,
                        singular,
                        kind,
                        namespaced: r.scope.as_deref() == Some("Namespaced"),
                        verbs: r.verbs,
                        short_names: r.short_names,
                        categories: r.categories,
                        subresources: subresources.iter().map(|(n, _)| n.clone()).collect(),
                        subresource_verbs: subresources.into_iter().collect(),
                    });
                }
            }
        }
    }

    fn legacy(&mut self, group: &str, version: &str, list: APIResourceList) {
        let (subs, mains): (Vec<_>, Vec<_>) = list
            .resources
            .into_iter()
            .partition(|r| r.name.contains('/'));
        for r in mains {
            let singular = if r.singular_name.is_empty() {
                r.kind.to_lowercase()
            } else {
                r.singular_name
            };
            self.push(ServedKind {
                group: group.to_string(),
                version: version.to_string(),
                resource: r.name,
                singular,
                kind: r.kind,
                namespaced: r.namespaced,
                verbs: r.verbs,
                short_names: r.short_names.unwrap_or_default(),
                categories: r.categories.unwrap_or_default(),
                subresources: Vec::new(),
                subresource_verbs: Default::default(),
            });
        }
        for r in subs {
            if let Some((parent, sub)) = r.name.split_once('/') {
                self.add_subresource(group, parent, version, sub, r.verbs);
            }
        }
    }
}

/// A discovery document as served: the `kind` decides how to read it.
enum Document {
    Aggregated(APIGroupDiscoveryList),
    Groups(APIGroupList),
    CoreVersions(APIVersions),
}

fn parse_document(path: &str, value: Value) -> Result<Document> {
    let kind = value
        .get("kind")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let bad = |e: serde_json::Error| Error::BadResponse {
        context: format!("discovering what the cluster serves (GET {path})"),
        message: format!("the {kind} document cannot be read: {e}"),
    };
    match kind.as_str() {
        "APIGroupDiscoveryList" => serde_json::from_value(value)
            .map(Document::Aggregated)
            .map_err(bad),
        "APIGroupList" => serde_json::from_value(value)
            .map(Document::Groups)
            .map_err(bad),
        "APIVersions" => serde_json::from_value(value)
            .map(Document::CoreVersions)
            .map_err(bad),
        other => Err(Error::BadResponse {
            context: format!("discovering what the cluster serves (GET {path})"),
            message: format!(
                "expected a discovery document, got kind {other:?}: is this a Kubernetes API server?"
            ),
        }),
    }
}

impl Cluster {
    async fn discovery_document(&self, path: &'static str) -> Result<Document> {
        let req = http::Request::get(path)
            .header(http::header::ACCEPT, ACCEPT_AGGREGATED_DISCOVERY_V2)
            .body(Vec::new())
            .expect("a static request is valid");
        let value: Value = self.client.request(req).await.map_err(|e| {
            self.err(e, || {
                format!("discovering what the cluster serves (GET {path})")
            })
        })?;
        parse_document(path, value)
    }

    /// Discovers every served kind: 2 requests on a server with aggregated discovery
    /// (Kubernetes 1.30+), else 2 + one per group version.
    pub async fn discover(&self) -> Result<Discovered> {
        let (core, groups) = tokio::join!(
            self.discovery_document("/api"),
            self.discovery_document("/apis")
        );
        let (core, groups) = (core?, groups?);
        let mut collector = Collector::default();
        let mut mode = DiscoveryMode::Aggregated;

        // (group, version) pairs still to fetch the legacy way, in priority order.
        let mut pending: Vec<(String, String)> = Vec::new();
        match core {
            Document::Aggregated(list) => collector.aggregated(list),
            Document::CoreVersions(v) => {
                mode = DiscoveryMode::Legacy;
                pending.extend(v.versions.into_iter().map(|v| (String::new(), v)));
            }
            Document::Groups(_) => {
                return Err(Error::BadResponse {
                    context: "discovering what the cluster serves (GET /api)".into(),
                    message: "/api answered with an APIGroupList".into(),
                });
            }
        }
        match groups {
            Document::Aggregated(list) => collector.aggregated(list),
            Document::Groups(list) => {
                mode = DiscoveryMode::Legacy;
                for g in list.groups {
                    let mut versions: Vec<String> = Vec::new();
                    if let Some(p) = &g.preferred_version {
                        versions.push(p.version.clone());
                    }
                    for v in &g.versions {
                        if !versions.contains(&v.version) {
                            versions.push(v.version.clone());
                        }
                    }
                    pending.extend(versions.into_iter().map(|v| (g.name.clone(), v)));
                }
            }
            Document::CoreVersions(_) => {
                return Err(Error::BadResponse {
                    context: "discovering what the cluster serves (GET /apis)".into(),
                    message: "/apis answered with APIVersions".into(),
                });
            }
        }

        if !pending.is_empty() {
            // Fetch the group versions concurrently, then merge in priority order.
            let mut tasks = tokio::task::JoinSet::new();
            for (i, (group, version)) in pending.iter().cloned().enumerate() {
                let client = self.client.clone();
                tasks.spawn(async move {
                    let result = if group.is_empty() {
                        client.list_core_api_resources(&version).await
                    } else {
                        client
                            .list_api_group_resources(&format!("{group}/{version}"))
                            .await
                    };
                    (i, result)
                });
            }
            let mut lists: Vec<Option<APIResourceList>> = vec![None; pending.len()];
            while let Some(joined) = tasks.join_next().await {
                let (i, result) = joined.map_err(|e| Error::Internal {
                    context: "discovering what the cluster serves".into(),
                    message: format!("a discovery task failed: {e}"),
                })?;
                let (group, version) = &pending[i];
                match result {
                    Ok(list) => lists[i] = Some(list),
                    // A group version that vanished meanwhile (or an unavailable aggregated
                    // API, 503) is left out, as kubectl does with a warning.
                    Err(kube::Error::Api(s)) if s.code == 404 || s.code == 503 => {}
                    Err(e) => {
                        return Err(self.err(e, || {
                            let gv = if group.is_empty() {
                                format!("/api/{version}")
                            } else {
                                format!("/apis/{group}/{version}")
                            };
                            format!("discovering what the cluster serves (GET {gv})")
                        }));
                    }
                }
            }
            // Core first, as kubectl orders it.
            let mut order: Vec<usize> = (0..pending.len()).collect();
            order.sort_by_key(|&i| !pending[i].0.is_empty());
            for i in order {
                if let Some(list) = lists[i].take() {
                    let (group, version) = &pending[i];
                    collector.legacy(group, version, list);
                }
            }
        }
        let mut kinds = collector.kinds;
        // Core first whatever the answer order was; otherwise the server's priority order.
        kinds.sort_by_key(|k| !k.group.is_empty());
        Ok(Discovered { kinds, mode })
    }
}
