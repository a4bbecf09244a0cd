//! The server-side `Table` form (meta.k8s.io/v1) that `kubectl get` asks for, and
//! the `PartialObjectMetadata` form that metadata-only clients ask for.

use serde_json::{Value, json};

use crate::registry::ResourceType;
use crate::util::{human_age, now, parse_rfc3339};

struct Column {
    name: &'static str,
    format: &'static str,
    description: &'static str,
    cell: fn(&Value) -> Value,
}

fn name_cell(o: &Value) -> Value {
    o["metadata"]["name"].clone()
}

fn age_cell(o: &Value) -> Value {
    let created = o["metadata"]["creationTimestamp"]
        .as_str()
        .and_then(parse_rfc3339);
    match created {
        Some(t) => json!(human_age(now().as_second() - t.as_second())),
        None => json!("<unknown>"),
    }
}

fn created_at_cell(o: &Value) -> Value {
    o["metadata"]["creationTimestamp"].clone()
}

fn columns(t: &ResourceType) -> Vec<Column> {
    let name = Column {
        name: "Name",
        format: "name",
        description: "Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names",
        cell: name_cell,
    };
    let age = Column {
        name: "Age",
        format: "",
        description: "CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.",
        cell: age_cell,
    };
    let extra: Vec<Column> = match (t.group.as_str(), t.resource.as_str()) {
        ("", "namespaces") => vec![Column {
            name: "Status",
            format: "",
            description: "The status of the namespace",
            cell: |o| o["status"]["phase"].clone(),
        }],
        ("", "secrets") => vec![
            Column {
                name: "Type",
                format: "",
                description: "The type of the secret",
                cell: |o| o["type"].clone(),
            },
            Column {
                name: "Data",
                format: "",
                description: "The number of entries in the secret",
                cell: |o| json!(o["data"].as_object().map_or(0, |m| m.len())),
            },
        ],
        ("", "configmaps") => vec![Column {
            name: "Data",
            format: "",
            description: "Data contains the configuration data. Each key must consist of alphanumeric characters, '-', '_' or '.'. Values with non-UTF-8 byte sequences must use the BinaryData field. The keys stored in Data must not overlap with the keys in the BinaryData field, this is enforced during validation process.",
            cell: |o| {
                let count = |f: &str| o[f].as_object().map_or(0, |m| m.len());
                json!(count("data") + count("binaryData"))
            },
        }],
        ("", "serviceaccounts") => vec![Column {
            name: "Secrets",
            format: "",
            description: "The number of secrets in the service account",
            cell: |o| json!(o["secrets"].as_array().map_or(0, |a| a.len())),
        }],
        ("apps", "deployments") => vec![
            Column {
                name: "Ready",
                format: "",
                description: "Number of the pod with ready state",
                cell: |o| {
                    let want = o["spec"]["replicas"].as_i64().unwrap_or(1);
                    let ready = o["status"]["readyReplicas"].as_i64().unwrap_or(0);
                    json!(format!("{ready}/{want}"))
                },
            },
            Column {
                name: "Up-to-date",
                format: "",
                description: "Total number of non-terminated pods targeted by this deployment that have the desired template spec.",
                cell: |o| json!(o["status"]["updatedReplicas"].as_i64().unwrap_or(0)),
            },
            Column {
                name: "Available",
                format: "",
                description: "Total number of available pods (ready for at least minReadySeconds) targeted by this deployment.",
                cell: |o| json!(o["status"]["availableReplicas"].as_i64().unwrap_or(0)),
            },
        ],
        ("rbac.authorization.k8s.io", "roles" | "clusterroles") => {
            return vec![
                name,
                Column {
                    name: "Created At",
                    format: "date",
                    description: "CreationTimestamp is a timestamp representing the server time when this object was created.",
                    cell: created_at_cell,
                },
            ];
        }
        ("rbac.authorization.k8s.io", "rolebindings" | "clusterrolebindings") => vec![Column {
            name: "Role",
            format: "",
            description: "RoleRef is the reference to the role the binding points to.",
            cell: |o| {
                json!(format!(
                    "{}/{}",
                    o["roleRef"]["kind"].as_str().unwrap_or(""),
                    o["roleRef"]["name"].as_str().unwrap_or("")
                ))
            },
        }],
        _ => Vec::new(),
    };
    let mut out = vec![name];
    out.extend(extra);
    out.push(age);
    out
}

pub fn partial_metadata(o: &Value) -> Value {
    json!({"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": o["metadata"]})
}

/// A Table of `objects` with the type's columns; rows carry the object's metadata.
pub fn table(t: &ResourceType, objects: &[&Value], resource_version: u64) -> Value {
    let cols = columns(t);
    let defs: Vec<Value> = cols
        .iter()
        .map(|c| json!({"name": c.name, "type": "string", "format": c.format, "description": c.description, "priority": 0}))
        .collect();
    let rows: Vec<Value> = objects
        .iter()
        .map(|o| {
            let cells: Vec<Value> = cols.iter().map(|c| (c.cell)(o)).collect();
            json!({"cells": cells, "object": partial_metadata(o)})
        })
        .collect();
    json!({
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": {"resourceVersion": resource_version.to_string()},
        "columnDefinitions": defs,
        "rows": rows,
    })
}

pub fn partial_metadata_list(objects: &[&Value], resource_version: u64) -> Value {
    json!({
        "kind": "PartialObjectMetadataList",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": {"resourceVersion": resource_version.to_string()},
        "items": objects.iter().map(|o| partial_metadata(o)).collect::<Vec<_>>(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::Registry;

    #[test]
    fn secret_tables_count_data_and_never_carry_it() {
        let r = Registry::standard();
        let t = r.find("", "v1", "secrets").unwrap();
        let s = json!({"metadata": {"name": "s", "creationTimestamp": crate::util::now_rfc3339()}, "type": "Opaque", "data": {"a": "eA==", "b": "eQ=="}});
        let table = table(t, &[&s], 7);
        let cells = table["rows"][0]["cells"].as_array().unwrap();
        assert_eq!(cells[..3], [json!("s"), json!("Opaque"), json!(2)]);
        assert!(cells[3].as_str().unwrap().ends_with('s'));
        assert!(!table.to_string().contains("eA=="));
        assert_eq!(table["metadata"]["resourceVersion"], "7");
    }
}
