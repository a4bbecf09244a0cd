//! Multi-document YAML in and out: a manifest's text parsed into Kubernetes objects (with the
//! parser's resource limits set for manifests of Argo CD's size), and objects written back as
//! a stream `kubectl apply -f -` takes. Pure: no I/O.

use serde_json::Value;

/// The largest manifest read, in bytes. Argo CD's biggest file, v3's `install.yaml` with its
/// CRDs, is about 2 MB; 32 MiB leaves room for anything similar and stops a runaway input.
pub const MAX_MANIFEST_BYTES: usize = 32 * 1024 * 1024;

/// Why a text is not a manifest this command takes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ManifestError {
    /// The YAML parser refused the text.
    #[error("it is not valid YAML: {0}")]
    NotYaml(String),
    /// A document is not a Kubernetes object.
    #[error("document {index} is not a Kubernetes object: {why}")]
    NotAnObject { index: usize, why: String },
    /// Nothing in it.
    #[error("it holds no Kubernetes objects")]
    Empty,
}

/// The parser's limits, set for manifests up to [`MAX_MANIFEST_BYTES`] rather than left at the
/// library's defaults (1,024 documents, 250,000 nodes, 64 levels of nesting), which Argo CD's
/// own files come close to: v3's `install.yaml` has CRD schemas nested more than 30 levels
/// deep and about 100,000 nodes. Anchors and aliases keep their default caps: no Kubernetes
/// manifest needs more, and they are how a small text expands into a huge one.
fn options() -> serde_saphyr::Options {
    serde_saphyr::options! {
        budget: serde_saphyr::budget! {
            max_documents: 20_000,
            max_nodes: 8_000_000,
            max_events: 20_000_000,
            max_depth: 256,
            max_total_scalar_bytes: MAX_MANIFEST_BYTES,
        },
    }
}

/// The objects of a multi-document YAML stream, in order. Empty documents are skipped, and
/// a `kind: List` (as `kubectl get -o yaml` writes) stands for its items.
pub fn parse(text: &str) -> Result<Vec<Value>, ManifestError> {
    if text.len() > MAX_MANIFEST_BYTES {
        return Err(ManifestError::NotYaml(format!(
            "it is larger than {} MiB",
            MAX_MANIFEST_BYTES / 1024 / 1024
        )));
    }
    let docs: Vec<Value> = serde_saphyr::from_multiple_with_options(text, options())
        .map_err(|e| ManifestError::NotYaml(first_lines(&e.to_string())))?;
    let mut objects = Vec::new();
    for (i, doc) in docs.into_iter().enumerate() {
        let index = i + 1;
        if doc.is_null() {
            continue;
        }
        if doc["kind"] == "List" && doc["items"].is_array() {
            for item in doc["items"].as_array().into_iter().flatten() {
                check_object(index, item)?;
                objects.push(item.clone());
            }
            continue;
        }
        check_object(index, &doc)?;
        objects.push(doc);
    }
    if objects.is_empty() {
        return Err(ManifestError::Empty);
    }
    Ok(objects)
}

/// The parser's message, at most a few lines (it may quote a long stretch of the input).
fn first_lines(text: &str) -> String {
    let lines: Vec<&str> = text.lines().take(6).collect();
    lines.join("\n")
}

fn check_object(index: usize, doc: &Value) -> Result<(), ManifestError> {
    let bad = |why: &str| ManifestError::NotAnObject {
        index,
        why: why.to_string(),
    };
    if !doc.is_object() {
        return Err(bad(
            "it is not a mapping with apiVersion, kind and metadata",
        ));
    }
    for field in ["apiVersion", "kind"] {
        match doc.get(field) {
            Some(Value::String(s)) if !s.is_empty() => {}
            _ => return Err(bad(&format!("it has no {field}"))),
        }
    }
    match doc.pointer("/metadata/name") {
        Some(Value::String(s)) if !s.is_empty() => Ok(()),
        _ => Err(bad(&format!(
            "its {} has no metadata.name",
            doc["kind"].as_str().unwrap_or("object")
        ))),
    }
}

/// One object as a YAML document (without the `---` line).
pub fn to_yaml(object: &Value) -> String {
    serde_saphyr::to_string(object).expect("a JSON value serializes as YAML")
}

/// The objects as one multi-document stream, each document opened by `---`.
pub fn to_yaml_stream(objects: &[Value]) -> String {
    objects
        .iter()
        .map(|o| format!("---\n{}", to_yaml(o)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn documents_and_lists_become_objects() {
        let text = "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\n---\n\
                    apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: Secret, metadata: {name: b}}\n";
        let objects = parse(text).unwrap();
        let names: Vec<&str> = objects
            .iter()
            .map(|o| o["metadata"]["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["a", "b"]);
    }

    #[test]
    fn what_is_not_a_manifest_is_said_so() {
        assert!(matches!(parse("a: [b\n"), Err(ManifestError::NotYaml(_))));
        assert_eq!(parse("\n---\n"), Err(ManifestError::Empty));
        let e = parse("just a sentence\n").unwrap_err();
        assert!(e.to_string().contains("document 1"), "{e}");
        let e = parse("apiVersion: v1\nkind: ConfigMap\nmetadata: {}\n").unwrap_err();
        assert!(e.to_string().contains("metadata.name"), "{e}");
        let e = parse("kind: ConfigMap\nmetadata: {name: x}\n").unwrap_err();
        assert!(e.to_string().contains("apiVersion"), "{e}");
    }

    #[test]
    fn output_parses_back_to_the_same_objects() {
        // Strings that look like other YAML types, block text, and numbers must survive.
        let objects = vec![
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"},
                   "data": {"t": "true", "n": "0600", "e": "", "null": "null", "y": "yes",
                            "script": "#!/bin/sh\nset -e\n  indented: x\nlast line\n",
                            "trailing": "ends with spaces  ", "colon": "a: b", "hash": "# c"}}),
            json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"},
                   "spec": {"replicas": 2, "ratio": 0.5, "flag": false, "list": []}}),
        ];
        let text = to_yaml_stream(&objects);
        assert_eq!(text.matches("---\n").count(), 2, "{text}");
        assert_eq!(parse(&text).unwrap(), objects, "{text}");
    }

    #[test]
    fn deep_and_large_manifests_fit_the_limits() {
        // A CRD-like schema nested 80 levels deep, and 3,000 documents.
        let mut schema = json!({"type": "string"});
        for _ in 0..40 {
            schema = json!({"type": "object", "properties": {"x": schema}});
        }
        let crd = json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
                         "metadata": {"name": "deep.example.com"}, "spec": {"schema": schema}});
        let mut objects = vec![crd];
        for i in 0..3000 {
            objects.push(json!({"apiVersion": "v1", "kind": "ConfigMap",
                                "metadata": {"name": format!("c{i}")}, "data": {"k": "v"}}));
        }
        let text = to_yaml_stream(&objects);
        assert_eq!(parse(&text).unwrap().len(), 3001);
    }
}
