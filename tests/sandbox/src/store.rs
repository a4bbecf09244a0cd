//! Generic in-memory object storage: every registered type, keyed by namespace and name,
//! with uid, resourceVersion and creationTimestamp kept the way the real server keeps them.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::util::{now_rfc3339, random_uid};

/// `(group, resource)`: storage does not care about versions.
pub type TypeKey = (String, String);

#[derive(Default)]
pub struct Store {
    objects: BTreeMap<TypeKey, BTreeMap<(String, String), Value>>,
    resource_version: u64,
    /// The resourceVersion of the last change to each type, so that caches derived from
    /// some types (the RBAC snapshot) survive writes of others (token Secrets).
    type_versions: std::collections::HashMap<TypeKey, u64>,
    /// Exact creation instants by uid: creationTimestamp has whole seconds only.
    created: std::collections::HashMap<String, std::time::Instant>,
}

pub fn type_key(group: &str, resource: &str) -> TypeKey {
    (group.to_string(), resource.to_string())
}

impl Store {
    pub fn resource_version(&self) -> u64 {
        self.resource_version
    }

    /// The resourceVersion of the last create, replace or remove of an object of this type
    /// (0: never changed). Equal values mean the type's objects are unchanged.
    pub fn type_version(&self, key: &TypeKey) -> u64 {
        self.type_versions.get(key).copied().unwrap_or(0)
    }

    fn touch(&mut self, key: &TypeKey) {
        match self.type_versions.get_mut(key) {
            Some(v) => *v = self.resource_version,
            None => {
                self.type_versions
                    .insert(key.clone(), self.resource_version);
            }
        }
    }

    pub fn get(&self, key: &TypeKey, namespace: &str, name: &str) -> Option<&Value> {
        self.objects
            .get(key)?
            .get(&(namespace.to_string(), name.to_string()))
    }

    /// Objects of a type, in one namespace (`Some`) or all (`None`), sorted by namespace then name.
    pub fn list(&self, key: &TypeKey, namespace: Option<&str>) -> Vec<&Value> {
        match self.objects.get(key) {
            None => Vec::new(),
            Some(m) => m
                .iter()
                .filter(|((ns, _), _)| namespace.is_none_or(|want| want == ns))
                .map(|(_, v)| v)
                .collect(),
        }
    }

    pub fn list_cloned(&self, group: &str, resource: &str) -> Vec<Value> {
        self.list(&type_key(group, resource), None)
            .into_iter()
            .cloned()
            .collect()
    }

    fn next_rv(&mut self) -> String {
        self.resource_version += 1;
        self.resource_version.to_string()
    }

    /// Stores a new object, stamping uid, resourceVersion and creationTimestamp.
    /// The caller has checked that the name is free.
    pub fn insert_new(
        &mut self,
        key: &TypeKey,
        namespace: &str,
        name: &str,
        mut obj: Value,
    ) -> Value {
        let rv = self.next_rv();
        self.touch(key);
        let uid = random_uid();
        self.created.insert(uid.clone(), std::time::Instant::now());
        let meta = meta_mut(&mut obj);
        meta.insert("uid".into(), json!(uid));
        meta.insert("resourceVersion".into(), json!(rv));
        meta.insert("creationTimestamp".into(), json!(now_rfc3339()));
        if namespace.is_empty() {
            meta.remove("namespace");
        } else {
            meta.insert("namespace".into(), json!(namespace));
        }
        meta.insert("name".into(), json!(name));
        self.objects
            .entry(key.clone())
            .or_default()
            .insert((namespace.to_string(), name.to_string()), obj.clone());
        obj
    }

    /// Replaces a stored object with a new revision (new resourceVersion; identity kept).
    pub fn replace(&mut self, key: &TypeKey, namespace: &str, name: &str, mut obj: Value) -> Value {
        let rv = self.next_rv();
        self.touch(key);
        meta_mut(&mut obj).insert("resourceVersion".into(), json!(rv));
        self.objects
            .entry(key.clone())
            .or_default()
            .insert((namespace.to_string(), name.to_string()), obj.clone());
        obj
    }

    /// When the object with this uid was created, to the instant.
    pub fn created_at(&self, uid: &str) -> Option<std::time::Instant> {
        self.created.get(uid).copied()
    }

    pub fn remove(&mut self, key: &TypeKey, namespace: &str, name: &str) -> Option<Value> {
        let removed = self
            .objects
            .get_mut(key)?
            .remove(&(namespace.to_string(), name.to_string()));
        if removed.is_some() {
            self.next_rv();
            self.touch(key);
        }
        removed
    }

    /// Removes every namespaced object of a namespace (namespace deletion).
    pub fn remove_namespace_contents(&mut self, namespace: &str) {
        self.next_rv();
        let mut touched = Vec::new();
        for (key, objects) in self.objects.iter_mut() {
            let before = objects.len();
            objects.retain(|(ns, _), _| ns != namespace);
            if objects.len() != before {
                touched.push(key.clone());
            }
        }
        for key in &touched {
            self.touch(key);
        }
    }
}

/// `metadata` as a mutable map, created when missing.
pub fn meta_mut(obj: &mut Value) -> &mut serde_json::Map<String, Value> {
    if !obj.is_object() {
        *obj = json!({});
    }
    let map = obj.as_object_mut().expect("object");
    let meta = map.entry("metadata").or_insert_with(|| json!({}));
    if !meta.is_object() {
        *meta = json!({});
    }
    meta.as_object_mut().expect("metadata object")
}

pub fn meta_str<'a>(obj: &'a Value, field: &str) -> &'a str {
    obj["metadata"][field].as_str().unwrap_or("")
}

/// A parsed `labelSelector` (apimachinery `labels/selector.go` syntax).
#[derive(Clone, Debug, PartialEq)]
pub struct LabelSelector(Vec<Requirement>);

#[derive(Clone, Debug, PartialEq)]
enum Requirement {
    Equals(String, String),
    NotEquals(String, String),
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
    Exists(String),
    DoesNotExist(String),
}

impl LabelSelector {
    pub fn parse(s: &str) -> Result<Self, String> {
        let mut reqs = Vec::new();
        for part in split_top_level(s) {
            let part = part.trim();
            if part.is_empty() {
                continue;
            }
            reqs.push(parse_requirement(part)?);
        }
        Ok(LabelSelector(reqs))
    }

    pub fn matches(&self, labels: &Value) -> bool {
        let get = |k: &str| labels.get(k).and_then(Value::as_str);
        self.0.iter().all(|r| match r {
            Requirement::Equals(k, v) => get(k) == Some(v.as_str()),
            Requirement::NotEquals(k, v) => get(k) != Some(v.as_str()),
            Requirement::In(k, vs) => get(k).is_some_and(|x| vs.iter().any(|v| v == x)),
            Requirement::NotIn(k, vs) => get(k).is_none_or(|x| vs.iter().all(|v| v != x)),
            Requirement::Exists(k) => get(k).is_some(),
            Requirement::DoesNotExist(k) => get(k).is_none(),
        })
    }
}

/// Splits on commas that are not inside `( )`.
fn split_top_level(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut depth, mut start) = (0i32, 0usize);
    for (i, c) in s.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                out.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&s[start..]);
    out
}

fn parse_requirement(part: &str) -> Result<Requirement, String> {
    if let Some(key) = part.strip_prefix('!') {
        return Ok(Requirement::DoesNotExist(key.trim().to_string()));
    }
    for (op, is_in) in [(" notin ", false), (" in ", true)] {
        if let Some(idx) = part.find(op) {
            let key = part[..idx].trim().to_string();
            let rest = part[idx + op.len()..].trim();
            let inner = rest
                .strip_prefix('(')
                .and_then(|r| r.strip_suffix(')'))
                .ok_or_else(|| {
                    format!("unable to parse requirement: found '{rest}', expected: '('")
                })?;
            let values = inner.split(',').map(|v| v.trim().to_string()).collect();
            return Ok(if is_in {
                Requirement::In(key, values)
            } else {
                Requirement::NotIn(key, values)
            });
        }
    }
    // An operator with no key before it: the first token the Go lexer meets is the operator.
    let keyed = |k: &str, op: &str| {
        if k.trim().is_empty() {
            Err(format!(
                "found '{op}', expected: !, identifier, or 'end of string'"
            ))
        } else {
            Ok(k.trim().to_string())
        }
    };
    if let Some((k, v)) = part.split_once("!=") {
        return Ok(Requirement::NotEquals(keyed(k, "!=")?, v.trim().into()));
    }
    if let Some((k, v)) = part.split_once("==") {
        return Ok(Requirement::Equals(keyed(k, "==")?, v.trim().into()));
    }
    if let Some((k, v)) = part.split_once('=') {
        return Ok(Requirement::Equals(keyed(k, "=")?, v.trim().into()));
    }
    Ok(Requirement::Exists(part.trim().to_string()))
}

/// A parsed `fieldSelector`: `metadata.name`, `metadata.namespace`, and for Secrets `type`.
#[derive(Clone, Debug, PartialEq)]
pub struct FieldSelector(Vec<(String, bool, String)>);

impl FieldSelector {
    /// `supported` lists the extra fields the type allows beyond metadata.name/namespace.
    pub fn parse(s: &str, supported: &[&str]) -> Result<Self, String> {
        let mut out = Vec::new();
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (field, equal, value) = if let Some((f, v)) = part.split_once("!=") {
                (f, false, v)
            } else if let Some((f, v)) = part.split_once("==") {
                (f, true, v)
            } else if let Some((f, v)) = part.split_once('=') {
                (f, true, v)
            } else {
                return Err(format!(
                    "invalid selector: '{s}'; can't understand '{part}'"
                ));
            };
            let field = field.trim();
            if field != "metadata.name"
                && field != "metadata.namespace"
                && !supported.contains(&field)
            {
                return Err(format!("field label not supported: {field}"));
            }
            out.push((field.to_string(), equal, value.trim().to_string()));
        }
        Ok(FieldSelector(out))
    }

    pub fn matches(&self, obj: &Value) -> bool {
        self.0.iter().all(|(field, equal, value)| {
            let actual = match field.as_str() {
                "metadata.name" => meta_str(obj, "name"),
                "metadata.namespace" => meta_str(obj, "namespace"),
                other => obj
                    .pointer(&format!("/{}", other.replace('.', "/")))
                    .and_then(Value::as_str)
                    .unwrap_or(""),
            };
            (actual == value) == *equal
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_selectors_follow_kubectl_syntax() {
        let labels = json!({"app": "web", "tier": "front"});
        let t = |s: &str| LabelSelector::parse(s).unwrap().matches(&labels);
        assert!(t("app=web"));
        assert!(t("app==web,tier"));
        assert!(!t("app!=web"));
        assert!(t("tier in (front, back)"));
        assert!(!t("tier notin (front)"));
        assert!(t("!missing"));
        assert!(!t("missing"));
        assert!(t(""));
    }

    #[test]
    fn field_selectors_know_name_and_secret_type() {
        let secret = json!({"metadata": {"name": "t", "namespace": "a"}, "type": "kubernetes.io/service-account-token"});
        let fs = FieldSelector::parse(
            "type=kubernetes.io/service-account-token,metadata.name=t",
            &["type"],
        )
        .unwrap();
        assert!(fs.matches(&secret));
        assert!(
            !FieldSelector::parse("metadata.name!=t", &[])
                .unwrap()
                .matches(&secret)
        );
        assert_eq!(
            FieldSelector::parse("spec.x=1", &[]).unwrap_err(),
            "field label not supported: spec.x"
        );
    }

    #[test]
    fn insert_stamps_identity_and_replace_bumps_version() {
        let mut s = Store::default();
        let key = type_key("", "configmaps");
        let created = s.insert_new(
            &key,
            "a",
            "c",
            json!({"kind": "ConfigMap", "metadata": {"name": "c"}}),
        );
        assert_eq!(meta_str(&created, "namespace"), "a");
        assert_eq!(meta_str(&created, "resourceVersion"), "1");
        assert_eq!(meta_str(&created, "uid").len(), 36);
        let updated = s.replace(&key, "a", "c", created.clone());
        assert_eq!(meta_str(&updated, "resourceVersion"), "2");
        assert_eq!(meta_str(&updated, "uid"), meta_str(&created, "uid"));
        assert_eq!(s.list(&key, Some("a")).len(), 1);
        assert!(s.list(&key, Some("b")).is_empty());
        assert!(s.remove(&key, "a", "c").is_some());
        assert!(s.get(&key, "a", "c").is_none());
    }

    #[test]
    fn type_versions_follow_the_writes_of_each_type() {
        let mut s = Store::default();
        let cm = type_key("", "configmaps");
        let roles = type_key("rbac.authorization.k8s.io", "roles");
        assert_eq!(s.type_version(&roles), 0);
        s.insert_new(&roles, "a", "r", json!({"metadata": {}}));
        let after_role = s.type_version(&roles);
        assert_eq!(after_role, s.resource_version());
        s.insert_new(&cm, "a", "c", json!({"metadata": {}}));
        s.replace(&cm, "a", "c", json!({"metadata": {}}));
        assert!(s.remove(&cm, "a", "missing").is_none());
        assert_eq!(s.type_version(&roles), after_role, "other types' writes");
        assert_eq!(s.type_version(&cm), s.resource_version());
        s.insert_new(&roles, "b", "r", json!({"metadata": {}}));
        let before = s.type_version(&cm);
        s.remove_namespace_contents("b");
        assert_eq!(s.type_version(&roles), s.resource_version());
        assert_eq!(s.type_version(&cm), before, "nothing of the type was in b");
    }
}
