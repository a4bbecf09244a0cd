//! Just enough OpenAPI v3 for kubectl: the `/openapi/v3` index and one small document per
//! group version whose PATCH operations declare `fieldValidation`. kubectl then leaves
//! validation to the server (`fieldValidation=Strict`) instead of downloading full schemas
//! (`cli-runtime/pkg/resource/query_param_verifier_v3.go`).

use serde_json::{Map, Value, json};

use crate::registry::Registry;

fn gv_path(group: &str, version: &str) -> String {
    if group.is_empty() {
        format!("api/{version}")
    } else {
        format!("apis/{group}/{version}")
    }
}

fn group_versions(registry: &Registry) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for t in registry.types() {
        let gv = (t.group.clone(), t.version.clone());
        if !out.contains(&gv) {
            out.push(gv);
        }
    }
    out
}

/// `GET /openapi/v3`.
pub fn index(registry: &Registry, resource_version: u64) -> Value {
    let mut paths = Map::new();
    for (g, v) in group_versions(registry) {
        let p = gv_path(&g, &v);
        paths.insert(
            p.clone(),
            json!({"serverRelativeURL": format!("/openapi/v3/{p}?hash={resource_version:016X}")}),
        );
    }
    json!({"paths": paths})
}

/// `GET /openapi/v3/api/v1`, `GET /openapi/v3/apis/{group}/{version}`.
pub fn group_version(registry: &Registry, rest: &[&str]) -> Option<Value> {
    let (group, version) = match rest {
        ["api", v] => ("", *v),
        ["apis", g, v] => (*g, *v),
        _ => return None,
    };
    if !registry.serves_group_version(group, version) {
        return None;
    }
    let query_params = json!([
        {"name": "dryRun", "in": "query", "schema": {"type": "string"}},
        {"name": "fieldManager", "in": "query", "schema": {"type": "string"}},
        {"name": "fieldValidation", "in": "query", "schema": {"type": "string"}},
        {"name": "force", "in": "query", "schema": {"type": "boolean"}},
    ]);
    let mut paths = Map::new();
    for t in registry
        .types()
        .iter()
        .filter(|t| t.group == group && t.version == version && t.stored)
    {
        let scope = if t.namespaced {
            "/namespaces/{namespace}"
        } else {
            ""
        };
        let path = format!(
            "/{}{scope}/{}/{{name}}",
            gv_path(group, version),
            t.resource
        );
        let gvk = json!({"group": group, "version": version, "kind": t.kind});
        paths.insert(
            path,
            json!({
                "patch": {
                    "operationId": format!("patch{}", t.kind),
                    "x-kubernetes-action": "patch",
                    "x-kubernetes-group-version-kind": gvk,
                    "parameters": query_params,
                    "requestBody": {"content": {
                        "application/apply-patch+yaml": {"schema": {"type": "object"}},
                        "application/json-patch+json": {"schema": {"type": "object"}},
                        "application/merge-patch+json": {"schema": {"type": "object"}},
                    }},
                    "responses": {"200": {"description": "OK"}},
                },
            }),
        );
    }
    Some(json!({
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": "v1.30.0"},
        "paths": paths,
        "components": {"schemas": {}},
    }))
}

/// `GET /openapi/v2`: an empty Swagger 2.0 document (no paths, no definitions). kubectl up to
/// 1.28 fetches it before `apply` and, finding no schema for a kind, computes strategic merge
/// patches from its built-in Go types and leaves validation to the server, as it does for a
/// kind a real server publishes without a schema. Protobuf (gnostic `openapi_v2.Document`) is
/// what client-go asks for; JSON otherwise.
pub fn v2_document(wants_protobuf: bool) -> (Vec<u8>, &'static str) {
    const VERSION: &str = "v1.30.0";
    if !wants_protobuf {
        let doc = json!({"swagger": "2.0", "info": {"title": "Kubernetes", "version": VERSION}, "paths": {}, "definitions": {}});
        return (doc.to_string().into_bytes(), "application/json");
    }
    fn field(number: u8, payload: &[u8], out: &mut Vec<u8>) {
        out.push(number << 3 | 2);
        out.push(u8::try_from(payload.len()).expect("short field"));
        out.extend_from_slice(payload);
    }
    let mut info = Vec::new();
    field(1, b"Kubernetes", &mut info);
    field(2, VERSION.as_bytes(), &mut info);
    let mut doc = Vec::new();
    field(1, b"2.0", &mut doc);
    field(2, &info, &mut doc);
    field(8, b"", &mut doc);
    field(9, b"", &mut doc);
    (
        doc,
        "application/com.github.proto-openapi.spec.v2.v1.0+protobuf",
    )
}
