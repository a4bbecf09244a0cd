//! Objects applied as the administrator: the defaults every test server has (namespaces
//! team-a and demo, the team-a grants, four CRDs) and whatever a caller seeds.
//!
//! CRDs go first and are waited for until established, then Namespaces, then the rest, several
//! requests at once.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use kube::api::{Api, DynamicObject, Patch, PatchParams, PostParams};
use kube::core::{ApiResource, GroupVersionKind};
use kube::discovery::Scope;
use serde_json::{Value, json};

const CRDS: &str = include_str!("../crds.yaml");
const FIELD_MANAGER: &str = "cicd-cluster-seed";
const IN_FLIGHT: usize = 16;

#[derive(Clone, Copy, PartialEq)]
pub enum Mode {
    /// Server-side apply with force: creates or updates.
    Apply,
    /// POST: only new objects.
    Create,
}

pub fn defaults() -> Vec<Value> {
    let mut objects: Vec<Value> =
        cicd_sandbox::seed::parse_documents(CRDS).expect("crds.yaml parses");
    for ns in ["team-a", "demo"] {
        objects.push(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}));
    }
    objects.extend(cicd_sandbox::seed::team_a_rbac());
    objects
}

pub async fn apply_all(
    client: &kube::Client,
    objects: Vec<Value>,
    mode: Mode,
) -> Result<(), String> {
    let (crds, rest): (Vec<Value>, Vec<Value>) = objects
        .into_iter()
        .partition(|o| o["kind"] == "CustomResourceDefinition");
    let (namespaces, rest): (Vec<Value>, Vec<Value>) =
        rest.into_iter().partition(|o| o["kind"] == "Namespace");
    let names: Vec<String> = crds
        .iter()
        .filter_map(|c| c["metadata"]["name"].as_str().map(String::from))
        .collect();
    let mut resolver = Resolver::default();
    apply_batch(client, &mut resolver, crds, mode).await?;
    for name in &names {
        wait_established(client, name).await?;
    }
    apply_batch(client, &mut resolver, namespaces, mode).await?;
    apply_batch(client, &mut resolver, rest, mode).await
}

/// apiVersion and kind to the served resource, asked once per kind.
#[derive(Default)]
struct Resolver {
    known: HashMap<(String, String), (ApiResource, bool)>,
}

impl Resolver {
    async fn resolve(
        &mut self,
        client: &kube::Client,
        obj: &Value,
    ) -> Result<(ApiResource, bool), String> {
        let api_version = obj["apiVersion"].as_str().unwrap_or_default().to_string();
        let kind = obj["kind"].as_str().unwrap_or_default().to_string();
        let key = (api_version.clone(), kind.clone());
        if let Some(found) = self.known.get(&key) {
            return Ok(found.clone());
        }
        let (group, version) = api_version.rsplit_once('/').unwrap_or(("", &api_version));
        let gvk = GroupVersionKind::gvk(group, version, &kind);
        let (resource, caps) = kube::discovery::pinned_kind(client, &gvk)
            .await
            .map_err(|e| format!("the server does not serve {kind} in {api_version}: {e}"))?;
        let found = (resource, caps.scope == Scope::Namespaced);
        self.known.insert(key, found.clone());
        Ok(found)
    }
}

async fn apply_batch(
    client: &kube::Client,
    resolver: &mut Resolver,
    objects: Vec<Value>,
    mode: Mode,
) -> Result<(), String> {
    let permits = Arc::new(tokio::sync::Semaphore::new(IN_FLIGHT));
    let mut tasks = tokio::task::JoinSet::new();
    for obj in objects {
        let (resource, namespaced) = resolver.resolve(client, &obj).await?;
        let client = client.clone();
        let permit = permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|e| e.to_string())?;
        tasks.spawn(async move {
            let _permit = permit;
            apply_one(client, resource, namespaced, obj, mode).await
        });
        // Collect finished ones as we go, so an early error stops the batch.
        while let Some(done) = tasks.try_join_next() {
            done.map_err(|e| e.to_string())??;
        }
    }
    while let Some(done) = tasks.join_next().await {
        done.map_err(|e| e.to_string())??;
    }
    Ok(())
}

async fn apply_one(
    client: kube::Client,
    resource: ApiResource,
    namespaced: bool,
    obj: Value,
    mode: Mode,
) -> Result<(), String> {
    let name = obj["metadata"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let kind = resource.kind.clone();
    let api: Api<DynamicObject> = if namespaced {
        let ns = obj["metadata"]["namespace"].as_str().unwrap_or("default");
        Api::namespaced_with(client, ns, &resource)
    } else {
        Api::all_with(client, &resource)
    };
    let result = match mode {
        Mode::Apply => {
            api.patch(
                &name,
                &PatchParams::apply(FIELD_MANAGER).force(),
                &Patch::Apply(&obj),
            )
            .await
        }
        Mode::Create => {
            let object: DynamicObject = serde_json::from_value(obj).map_err(|e| e.to_string())?;
            api.create(&PostParams::default(), &object).await
        }
    };
    result
        .map(|_| ())
        .map_err(|e| format!("{kind} {name}: {e}"))
}

async fn wait_established(client: &kube::Client, name: &str) -> Result<(), String> {
    use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
    let api: Api<CustomResourceDefinition> = Api::all(client.clone());
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let established = api.get(name).await.ok().is_some_and(|crd| {
            crd.status
                .and_then(|s| s.conditions)
                .unwrap_or_default()
                .iter()
                .any(|c| c.type_ == "Established" && c.status == "True")
        });
        if established {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(format!("CRD {name} was not established within 60 s"));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
