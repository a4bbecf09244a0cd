//! Server-side apply and `metadata.managedFields` tracking, after
//! `sigs.k8s.io/structured-merge-diff` (`merge/update.go`, `fieldpath`) and
//! `k8s.io/apimachinery/pkg/util/managedfields/internal` (field manager
//! chain: strip-meta, managed-fields updater, skip-non-applied,
//! last-applied manager/updater, conflict errors).
//!
//! Field sets hold *members*: leaf fields (scalars, atomic lists, atomic
//! objects, empty objects, explicit nulls), associative list items (`k:`)
//! and set items (`v:`). Objects themselves are never members (the real
//! server marks some newly added maps with `"."` on Update; the sandbox
//! does not, having no Go types to tell maps from structs).

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde_json::{Map, Value, json};

use super::patch::{SsaListType, list_schema};

const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// `metadata` fields never tracked (`stripMetaManager`, plus the deletion fields).
const STRIPPED_METADATA: [&str; 11] = [
    "name",
    "namespace",
    "creationTimestamp",
    "selfLink",
    "uid",
    "clusterName",
    "generation",
    "managedFields",
    "resourceVersion",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
];

// ---------------------------------------------------------------------------
// Path elements and field sets
// ---------------------------------------------------------------------------

/// One step of a field path (`fieldpath.PathElement`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathElement {
    /// `f:<name>`: a field of an object.
    Field(String),
    /// `k:{...}`: an associative list item, by its key fields (sorted by name).
    Key(Vec<(String, Value)>),
    /// `v:<json>`: an item of a set.
    Value(Value),
    /// `i:<n>`: an item of an atomic list (not produced by the sandbox).
    Index(usize),
}

impl PathElement {
    fn rank(&self) -> u8 {
        match self {
            PathElement::Field(_) => 0,
            PathElement::Key(_) => 1,
            PathElement::Value(_) => 2,
            PathElement::Index(_) => 3,
        }
    }

    /// The fieldsV1 key (`f:name`, `k:{"name":"web"}`, `v:"x"`, `i:0`).
    pub fn serialize(&self) -> String {
        match self {
            PathElement::Field(n) => format!("f:{n}"),
            PathElement::Key(fields) => {
                let m: Map<String, Value> = fields.iter().cloned().collect();
                format!("k:{}", go_json(&Value::Object(m)))
            }
            PathElement::Value(v) => format!("v:{}", go_json(v)),
            PathElement::Index(i) => format!("i:{i}"),
        }
    }

    /// `DeserializePathElement`; `Ok(None)` for an unknown type (ignored).
    pub fn parse(s: &str) -> Result<Option<PathElement>, String> {
        let b = s.as_bytes();
        if b.len() < 2 {
            return Err("key must be 2 characters long:".into());
        }
        if b[1] != b':' {
            return Err(format!("missing colon: {s}"));
        }
        let rest = &s[2..];
        let json = |r: &str| serde_json::from_str::<Value>(r).map_err(|e| e.to_string());
        Ok(Some(match b[0] {
            b'f' => PathElement::Field(rest.to_string()),
            b'v' => PathElement::Value(json(rest)?),
            b'k' => match json(rest)? {
                Value::Object(m) => {
                    let mut fields: Vec<(String, Value)> = m.into_iter().collect();
                    fields.sort_by(|a, b| a.0.cmp(&b.0));
                    PathElement::Key(fields)
                }
                _ => return Err(format!("key is not an object: {s}")),
            },
            b'i' => PathElement::Index(rest.parse().map_err(|e| format!("{e}"))?),
            _ => return Ok(None),
        }))
    }
}

impl Ord for PathElement {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (PathElement::Field(a), PathElement::Field(b)) => a.cmp(b),
            (PathElement::Key(a), PathElement::Key(b)) => {
                for ((an, av), (bn, bv)) in a.iter().zip(b) {
                    let c = an.cmp(bn).then_with(|| value_cmp(av, bv));
                    if c != Ordering::Equal {
                        return c;
                    }
                }
                a.len().cmp(&b.len())
            }
            (PathElement::Value(a), PathElement::Value(b)) => value_cmp(a, b),
            (PathElement::Index(a), PathElement::Index(b)) => a.cmp(b),
            _ => self.rank().cmp(&other.rank()),
        }
    }
}

impl PartialOrd for PathElement {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// `PathElement.String()`: `.spec`, `[name="web"]`, `[="x"]`, `[0]`.
impl fmt::Display for PathElement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PathElement::Field(n) => write!(f, ".{n}"),
            PathElement::Key(fields) => {
                let parts: Vec<String> = fields
                    .iter()
                    .map(|(k, v)| format!("{k}={}", value_to_string(v)))
                    .collect();
                write!(f, "[{}]", parts.join(","))
            }
            PathElement::Value(v) => write!(f, "[={}]", value_to_string(v)),
            PathElement::Index(i) => write!(f, "[{i}]"),
        }
    }
}

/// `Path.String()`: `.spec.template.spec.containers[name="web"].image`.
pub fn path_to_string(path: &[PathElement]) -> String {
    path.iter().map(ToString::to_string).collect()
}

/// `value.ToString`: strings quoted, others as JSON.
fn value_to_string(v: &Value) -> String {
    match v {
        Value::String(_) => v.to_string(),
        Value::Array(a) => format!(
            "[{}]",
            a.iter().map(value_to_string).collect::<Vec<_>>().join(",")
        ),
        Value::Object(m) => m
            .iter()
            .map(|(k, v)| format!("{k}={}", value_to_string(v)))
            .collect(),
        _ => v.to_string(),
    }
}

/// A total order on JSON values consistent with `==` (numbers < strings <
/// bools < lists < maps < null, as `value.Compare`).
fn value_cmp(a: &Value, b: &Value) -> Ordering {
    if a == b {
        return Ordering::Equal;
    }
    let rank = |v: &Value| match v {
        Value::Number(_) => 0,
        Value::String(_) => 1,
        Value::Bool(_) => 2,
        Value::Array(_) => 3,
        Value::Object(_) => 4,
        Value::Null => 5,
    };
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            let (fx, fy) = (x.as_f64().unwrap_or(0.0), y.as_f64().unwrap_or(0.0));
            fx.partial_cmp(&fy)
                .unwrap_or(Ordering::Equal)
                .then_with(|| x.to_string().cmp(&y.to_string()))
        }
        (Value::String(x), Value::String(y)) => x.cmp(y),
        (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
        (Value::Array(x), Value::Array(y)) => {
            for (p, q) in x.iter().zip(y) {
                let c = value_cmp(p, q);
                if c != Ordering::Equal {
                    return c;
                }
            }
            x.len().cmp(&y.len())
        }
        (Value::Object(x), Value::Object(y)) => {
            for ((xk, xv), (yk, yv)) in x.iter().zip(y) {
                let c = xk.cmp(yk).then_with(|| value_cmp(xv, yv));
                if c != Ordering::Equal {
                    return c;
                }
            }
            x.len().cmp(&y.len())
        }
        _ => rank(a).cmp(&rank(b)),
    }
}

/// Go `encoding/json` output: compact, map keys sorted, `<`, `>`, `&`,
/// U+2028 and U+2029 escaped.
fn go_json(v: &Value) -> String {
    serde_json::to_string(v)
        .unwrap_or_default()
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
        .replace('\u{2028}', "\\u2028")
        .replace('\u{2029}', "\\u2029")
}

/// A set of field paths (`fieldpath.Set`): members at this level, and
/// child sets. Child sets are never empty.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldSet {
    members: BTreeSet<PathElement>,
    children: BTreeMap<PathElement, FieldSet>,
}

impl FieldSet {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn is_empty(&self) -> bool {
        self.members.is_empty() && self.children.values().all(FieldSet::is_empty)
    }

    pub fn insert(&mut self, path: &[PathElement]) {
        match path {
            [] => {}
            [pe] => {
                self.members.insert(pe.clone());
            }
            [pe, rest @ ..] => self.children.entry(pe.clone()).or_default().insert(rest),
        }
    }

    pub fn has(&self, path: &[PathElement]) -> bool {
        match path {
            [] => false,
            [pe] => self.members.contains(pe),
            [pe, rest @ ..] => self.children.get(pe).is_some_and(|c| c.has(rest)),
        }
    }

    pub fn union(&self, other: &FieldSet) -> FieldSet {
        let mut out = self.clone();
        out.members.extend(other.members.iter().cloned());
        for (pe, c) in &other.children {
            let merged = match out.children.get(pe) {
                Some(mine) => mine.union(c),
                None => c.clone(),
            };
            out.children.insert(pe.clone(), merged);
        }
        out
    }

    pub fn difference(&self, other: &FieldSet) -> FieldSet {
        let mut out = FieldSet::new();
        out.members = self.members.difference(&other.members).cloned().collect();
        for (pe, c) in &self.children {
            let d = match other.children.get(pe) {
                Some(o) => c.difference(o),
                None => c.clone(),
            };
            if !d.is_empty() {
                out.children.insert(pe.clone(), d);
            }
        }
        out
    }

    pub fn intersection(&self, other: &FieldSet) -> FieldSet {
        let mut out = FieldSet::new();
        out.members = self.members.intersection(&other.members).cloned().collect();
        for (pe, c) in &self.children {
            if let Some(o) = other.children.get(pe) {
                let i = c.intersection(o);
                if !i.is_empty() {
                    out.children.insert(pe.clone(), i);
                }
            }
        }
        out
    }

    /// All member paths, in `Set.Iterate` order (members of a level before
    /// its children, each sorted).
    pub fn paths(&self) -> Vec<Vec<PathElement>> {
        let mut out = Vec::new();
        self.iterate(&mut Vec::new(), &mut out);
        out
    }

    fn iterate(&self, prefix: &mut Vec<PathElement>, out: &mut Vec<Vec<PathElement>>) {
        for m in &self.members {
            prefix.push(m.clone());
            out.push(prefix.clone());
            prefix.pop();
        }
        for (pe, c) in &self.children {
            prefix.push(pe.clone());
            c.iterate(prefix, out);
            prefix.pop();
        }
    }

    /// The `fieldsV1` encoding (`{"f:spec":{"f:replicas":{}}}`, `"."` marks a
    /// path that is a member and has children).
    pub fn to_fields_v1(&self) -> Value {
        Value::Object(self.emit())
    }

    fn emit(&self) -> Map<String, Value> {
        let mut m = Map::new();
        for pe in &self.members {
            if !self.children.contains_key(pe) {
                m.insert(pe.serialize(), json!({}));
            }
        }
        for (pe, c) in &self.children {
            let mut inner = c.emit();
            if self.members.contains(pe) {
                inner.insert(".".into(), json!({}));
            }
            m.insert(pe.serialize(), Value::Object(inner));
        }
        m
    }

    /// Decode `fieldsV1` (`readIterV1`); unknown path element types are ignored.
    pub fn from_fields_v1(v: &Value) -> Result<FieldSet, String> {
        Ok(read_fields_v1(v)?.0.unwrap_or_default())
    }
}

/// Returns (children, is_member) for one fieldsV1 node.
fn read_fields_v1(v: &Value) -> Result<(Option<FieldSet>, bool), String> {
    let Value::Object(m) = v else {
        return Err(format!("fieldsV1 node is not an object: {v}"));
    };
    let mut is_member = false;
    let mut children: Option<FieldSet> = None;
    for (key, val) in m {
        if key == "." {
            is_member = true;
            continue;
        }
        let Some(pe) = PathElement::parse(key)? else {
            continue;
        };
        let (grandchildren, child_is_member) = read_fields_v1(val)?;
        if child_is_member {
            children
                .get_or_insert_with(FieldSet::new)
                .members
                .insert(pe.clone());
        }
        if let Some(gc) = grandchildren.filter(|g| !g.is_empty()) {
            children
                .get_or_insert_with(FieldSet::new)
                .children
                .insert(pe, gc);
        }
    }
    if children.is_none() {
        is_member = true;
    }
    Ok((children, is_member))
}

// ---------------------------------------------------------------------------
// Field extraction from objects
// ---------------------------------------------------------------------------

/// Objects the real schemas mark `x-kubernetes-map-type: atomic`
/// (LabelSelector, Service selector, nodeSelector, RoleRef, key selectors).
fn is_atomic_object(names: &[String]) -> bool {
    let Some(last) = names.last() else {
        return false;
    };
    matches!(
        last.as_str(),
        "roleRef"
            | "selector"
            | "secretKeyRef"
            | "configMapKeyRef"
            | "fieldRef"
            | "resourceFieldRef"
    ) || last.ends_with("Selector")
}

fn is_stripped(names: &[String], key: &str) -> bool {
    match names {
        [] => key == "apiVersion" || key == "kind",
        [m] if m == "metadata" => STRIPPED_METADATA.contains(&key),
        _ => false,
    }
}

fn item_key(item: &Value, keys: &[(&str, Option<&str>)]) -> Option<Vec<(String, Value)>> {
    let obj = item.as_object()?;
    let mut fields = Vec::with_capacity(keys.len());
    for &(k, default) in keys {
        let v = match obj.get(k) {
            Some(v) if !v.is_null() => v.clone(),
            _ => Value::String(default?.to_string()),
        };
        fields.push((k.to_string(), v));
    }
    fields.sort_by(|a, b| a.0.cmp(&b.0));
    Some(fields)
}

/// Path elements of the items of the list at `names`, or `None` when the
/// list is atomic (by schema, or because an item lacks its key or repeats one).
fn item_path_elements(kind: &str, names: &[String], items: &[Value]) -> Option<Vec<PathElement>> {
    let mut pes = Vec::with_capacity(items.len());
    match list_schema(kind, names).ssa {
        SsaListType::Atomic => return None,
        SsaListType::Map(keys) => {
            for item in items {
                let pe = PathElement::Key(item_key(item, keys)?);
                if pes.contains(&pe) {
                    return None;
                }
                pes.push(pe);
            }
        }
        SsaListType::Set => {
            for item in items {
                if item.is_object() || item.is_array() {
                    return None;
                }
                let pe = PathElement::Value(item.clone());
                if pes.contains(&pe) {
                    return None;
                }
                pes.push(pe);
            }
        }
    }
    Some(pes)
}

#[derive(Clone, Copy)]
enum Member<'a> {
    Leaf(&'a Value),
    Item,
}

type Members<'a> = BTreeMap<Vec<PathElement>, Member<'a>>;

fn collect_members<'a>(obj: &'a Value, kind: &str) -> Members<'a> {
    let mut out = BTreeMap::new();
    walk(obj, kind, &mut Vec::new(), &mut Vec::new(), &mut out);
    out.remove(&vec![PathElement::Field("metadata".into())]);
    out
}

fn walk<'a>(
    v: &'a Value,
    kind: &str,
    names: &mut Vec<String>,
    prefix: &mut Vec<PathElement>,
    out: &mut Members<'a>,
) {
    match v {
        Value::Object(m) => {
            if !prefix.is_empty() && (m.is_empty() || is_atomic_object(names)) {
                out.insert(prefix.clone(), Member::Leaf(v));
                return;
            }
            walk_fields(m, kind, names, prefix, out);
        }
        Value::Array(items) => {
            if prefix.is_empty() {
                return;
            }
            let Some(pes) = item_path_elements(kind, names, items) else {
                out.insert(prefix.clone(), Member::Leaf(v));
                return;
            };
            for (pe, item) in pes.into_iter().zip(items) {
                prefix.push(pe);
                out.insert(prefix.clone(), Member::Item);
                if let Value::Object(m) = item {
                    walk_fields(m, kind, names, prefix, out);
                }
                prefix.pop();
            }
        }
        _ => {
            if !prefix.is_empty() {
                out.insert(prefix.clone(), Member::Leaf(v));
            }
        }
    }
}

fn walk_fields<'a>(
    m: &'a Map<String, Value>,
    kind: &str,
    names: &mut Vec<String>,
    prefix: &mut Vec<PathElement>,
    out: &mut Members<'a>,
) {
    for (k, cv) in m {
        if is_stripped(names, k) {
            continue;
        }
        names.push(k.clone());
        prefix.push(PathElement::Field(k.clone()));
        if cv.is_null() {
            out.insert(prefix.clone(), Member::Leaf(cv));
        } else {
            walk(cv, kind, names, prefix, out);
        }
        prefix.pop();
        names.pop();
    }
}

fn kind_of(v: &Value) -> &str {
    v.get("kind").and_then(Value::as_str).unwrap_or("")
}

/// The fields an object sets (`ToFieldSet` followed by the strip-meta
/// filter): what an applier of this object owns.
pub fn fieldset_from_object(obj: &Value) -> FieldSet {
    fieldset_of(obj, kind_of(obj))
}

fn fieldset_of(obj: &Value, kind: &str) -> FieldSet {
    let mut set = FieldSet::new();
    for p in collect_members(obj, kind).keys() {
        set.insert(p);
    }
    set
}

struct Comparison {
    added: FieldSet,
    modified: FieldSet,
    removed: FieldSet,
}

/// `TypedValue.Compare` over members.
fn compare(old: &Value, new: &Value, kind: &str) -> Comparison {
    let a = collect_members(old, kind);
    let b = collect_members(new, kind);
    let mut c = Comparison {
        added: FieldSet::new(),
        modified: FieldSet::new(),
        removed: FieldSet::new(),
    };
    for (p, m) in &b {
        match a.get(p) {
            None => c.added.insert(p),
            Some(Member::Leaf(x)) => {
                if let Member::Leaf(y) = m
                    && x != y
                {
                    c.modified.insert(p);
                }
            }
            Some(Member::Item) => {}
        }
    }
    for p in a.keys() {
        if !b.contains_key(p) {
            c.removed.insert(p);
        }
    }
    c
}

// ---------------------------------------------------------------------------
// managedFields entries
// ---------------------------------------------------------------------------

/// One `metadata.managedFields` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManagedEntry {
    pub manager: String,
    /// `Apply` or `Update`.
    pub operation: String,
    pub api_version: String,
    /// RFC 3339; absent when an apply took fields without changing the object.
    pub time: Option<String>,
    pub subresource: String,
    pub fields: FieldSet,
}

impl ManagedEntry {
    /// `BuildManagerIdentifier`: appliers are one manager whatever their
    /// apiVersion; updaters are one per apiVersion.
    fn is(&self, manager: &str, operation: &str, api_version: &str) -> bool {
        self.manager == manager
            && self.operation == operation
            && self.subresource.is_empty()
            && (operation == "Apply" || self.api_version == api_version)
    }

    fn same_identity(&self, other: &ManagedEntry) -> bool {
        self.manager == other.manager
            && self.operation == other.operation
            && self.subresource == other.subresource
            && (self.operation == "Apply" || self.api_version == other.api_version)
    }

    /// The identifier JSON the real field manager keys its map by (and
    /// sorts conflict messages by).
    pub fn identifier(&self) -> String {
        let q = |s: &str| go_json(&Value::String(s.to_string()));
        let mut parts = Vec::new();
        if !self.manager.is_empty() {
            parts.push(format!("\"manager\":{}", q(&self.manager)));
        }
        parts.push(format!("\"operation\":{}", q(&self.operation)));
        if self.operation != "Apply" && !self.api_version.is_empty() {
            parts.push(format!("\"apiVersion\":{}", q(&self.api_version)));
        }
        if !self.subresource.is_empty() {
            parts.push(format!("\"subresource\":{}", q(&self.subresource)));
        }
        format!("{{{}}}", parts.join(","))
    }

    /// `printManager`: `"kubectl"`, `"kubectl-edit" using apps/v1`.
    pub fn describe(&self) -> String {
        let mut s = Value::String(self.manager.clone()).to_string();
        if !self.subresource.is_empty() {
            s = format!(
                "{s} with subresource {}",
                Value::String(self.subresource.clone())
            );
        }
        if self.operation == "Update" {
            s = format!("{s} using {}", self.api_version);
        }
        s
    }

    pub fn to_json(&self) -> Value {
        let mut m = Map::new();
        if !self.manager.is_empty() {
            m.insert("manager".into(), json!(self.manager));
        }
        m.insert("operation".into(), json!(self.operation));
        m.insert("apiVersion".into(), json!(self.api_version));
        if let Some(t) = &self.time {
            m.insert("time".into(), json!(t));
        }
        m.insert("fieldsType".into(), json!("FieldsV1"));
        m.insert("fieldsV1".into(), self.fields.to_fields_v1());
        if !self.subresource.is_empty() {
            m.insert("subresource".into(), json!(self.subresource));
        }
        Value::Object(m)
    }
}

/// Decode `metadata.managedFields` (`DecodeManagedFields`, same validation texts).
pub fn decode_managed_fields(v: &Value) -> Result<Vec<ManagedEntry>, String> {
    let items = match v {
        Value::Null => return Ok(Vec::new()),
        Value::Array(a) => a,
        _ => return Err("managedFields is not a list".into()),
    };
    let mut out: Vec<ManagedEntry> = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let s = |k: &str| {
            item.get(k)
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string()
        };
        let operation = s("operation");
        if operation != "Apply" && operation != "Update" {
            return Err("operation must be `Apply` or `Update`".into());
        }
        let api_version = s("apiVersion");
        if api_version.is_empty() {
            return Err("apiVersion must not be empty".into());
        }
        match s("fieldsType").as_str() {
            "FieldsV1" => {}
            "" => return Err(format!("missing fieldsType in managed fields entry {i}")),
            other => {
                return Err(format!(
                    "invalid fieldsType {} in managed fields entry {i}",
                    Value::String(other.into())
                ));
            }
        }
        let fields = match item.get("fieldsV1") {
            None | Some(Value::Null) => FieldSet::new(),
            Some(f) => FieldSet::from_fields_v1(f)
                .map_err(|e| format!("error decoding versioned set: error decoding set: {e}"))?,
        };
        let entry = ManagedEntry {
            manager: s("manager"),
            operation,
            api_version,
            time: item.get("time").and_then(Value::as_str).map(str::to_string),
            subresource: s("subresource"),
            fields,
        };
        match out.iter_mut().find(|e| e.same_identity(&entry)) {
            Some(e) => *e = entry,
            None => out.push(entry),
        }
    }
    Ok(out)
}

/// Encode entries, sorted as the real server sorts them (operation, time,
/// manager, apiVersion, subresource). Empty entries are dropped.
pub fn encode_managed_fields(entries: &[ManagedEntry]) -> Value {
    let mut sorted: Vec<&ManagedEntry> = entries.iter().filter(|e| !e.fields.is_empty()).collect();
    sorted.sort_by(|p, q| {
        p.operation
            .cmp(&q.operation)
            .then_with(|| p.time.cmp(&q.time))
            .then_with(|| p.manager.cmp(&q.manager))
            .then_with(|| p.api_version.cmp(&q.api_version))
            .then_with(|| p.subresource.cmp(&q.subresource))
    });
    Value::Array(sorted.into_iter().map(ManagedEntry::to_json).collect())
}

fn remove_managed_fields(v: &mut Value) {
    if let Some(m) = v.get_mut("metadata").and_then(Value::as_object_mut) {
        m.remove("managedFields");
    }
}

fn set_managed_fields(v: &mut Value, entries: &[ManagedEntry]) {
    if entries.iter().all(|e| e.fields.is_empty()) {
        remove_managed_fields(v);
        return;
    }
    let Some(obj) = v.as_object_mut() else {
        return;
    };
    let meta = obj
        .entry("metadata")
        .or_insert_with(|| Value::Object(Map::new()));
    if let Some(meta) = meta.as_object_mut() {
        meta.insert("managedFields".into(), encode_managed_fields(entries));
    }
}

// ---------------------------------------------------------------------------
// Apply
// ---------------------------------------------------------------------------

/// A server-side apply conflict; answer 409 with [`ApplyConflict::to_status`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApplyConflict {
    /// e.g. `Apply failed with 1 conflict: conflict with "kubectl-client-side-apply" using apps/v1: .spec.replicas`
    pub message: String,
    /// (message, field) pairs for Status details.causes, e.g.
    /// (`conflict with "kubectl" using apps/v1`, `.spec.replicas`).
    pub causes: Vec<(String, String)>,
}

impl ApplyConflict {
    /// The Status body (`errors.NewApplyConflict`): 409, reason Conflict,
    /// causes of reason `FieldManagerConflict`, no name/kind details.
    pub fn to_status(&self) -> Value {
        let causes: Vec<Value> = self
            .causes
            .iter()
            .map(|(m, f)| json!({"reason": "FieldManagerConflict", "message": m, "field": f}))
            .collect();
        json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": "Conflict",
            "details": {"causes": causes},
            "code": 409
        })
    }
}

impl fmt::Display for ApplyConflict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ApplyConflict {}

struct Conflict {
    identifier: String,
    describe: String,
    path: Vec<PathElement>,
}

/// `NewConflictError` / `getConflictMessage`.
fn build_conflict(mut conflicts: Vec<Conflict>) -> ApplyConflict {
    conflicts.sort_by(|a, b| a.identifier.cmp(&b.identifier));
    let causes = conflicts
        .iter()
        .map(|c| {
            (
                format!("conflict with {}", c.describe),
                path_to_string(&c.path),
            )
        })
        .collect();
    let message = if conflicts.len() == 1 {
        let c = &conflicts[0];
        format!(
            "Apply failed with 1 conflict: conflict with {}: {}",
            c.describe,
            path_to_string(&c.path)
        )
    } else {
        let mut lines = Vec::new();
        let mut current: Option<&str> = None;
        for c in &conflicts {
            if current != Some(c.identifier.as_str()) {
                current = Some(c.identifier.as_str());
                lines.push(format!("conflicts with {}:", c.describe));
            }
            lines.push(format!("- {}", path_to_string(&c.path)));
        }
        format!(
            "Apply failed with {} conflicts: {}",
            conflicts.len(),
            lines.join("\n")
        )
    };
    ApplyConflict { message, causes }
}

/// The checks the real server makes on an apply body before merging
/// (`versionCheckManager`, `structuredMergeManager.Apply`); `Err` is the
/// BadRequest (400) message.
pub fn validate_apply_config(config: &Value, api_version: &str, kind: &str) -> Result<(), String> {
    let av = config
        .get("apiVersion")
        .and_then(Value::as_str)
        .unwrap_or("");
    let k = config.get("kind").and_then(Value::as_str).unwrap_or("");
    if av != api_version || k != kind {
        let (group, version) = av.split_once('/').unwrap_or(("", av));
        return Err(format!("invalid object type: {group}/{version}, Kind={k}"));
    }
    if config
        .pointer("/metadata/managedFields")
        .is_some_and(Value::is_array)
    {
        return Err("metadata.managedFields must be nil".into());
    }
    Ok(())
}

/// Server-side apply of `config` (the full object the client sent;
/// apiVersion/kind/metadata.name present) by `manager` onto `live`
/// (`None` = create). Returns the new object with `metadata.managedFields`
/// updated. Re-applying identical config returns an object equal to `live`.
pub fn apply(
    live: Option<&Value>,
    config: &Value,
    manager: &str,
    force: bool,
    now: &str,
) -> Result<Value, ApplyConflict> {
    let mut result = match apply_inner(live, config, manager, force, now) {
        Ok(v) => v,
        Err(conflicts) => {
            // lastAppliedManager: `kubectl apply --server-side` may take over
            // fields from client-side apply whose live value still matches the
            // last-applied annotation.
            if manager != "kubectl" {
                return Err(build_conflict(conflicts));
            }
            let Some(allowed) = allowed_conflicts_from_last_applied(live) else {
                return Err(build_conflict(conflicts));
            };
            let remaining: Vec<Conflict> = conflicts
                .into_iter()
                .filter(|c| !allowed.has(&c.path))
                .collect();
            if !remaining.is_empty() {
                return Err(build_conflict(remaining));
            }
            apply_inner(live, config, manager, true, now).map_err(build_conflict)?
        }
    };
    if manager == "kubectl" {
        update_last_applied(&mut result, config);
    }
    Ok(result)
}

fn apply_inner(
    live: Option<&Value>,
    config: &Value,
    manager: &str,
    force: bool,
    now: &str,
) -> Result<Value, Vec<Conflict>> {
    let kind = config
        .get("kind")
        .and_then(Value::as_str)
        .or_else(|| live.map(kind_of))
        .unwrap_or("")
        .to_string();
    let api_version = config
        .get("apiVersion")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let live_obj = live.cloned().unwrap_or_else(|| Value::Object(Map::new()));
    let original = live_obj
        .pointer("/metadata/managedFields")
        .map(decode_managed_fields)
        .and_then(Result::ok)
        .unwrap_or_default();
    let mut live_body = live_obj.clone();
    remove_managed_fields(&mut live_body);
    let mut config_body = config.clone();
    remove_managed_fields(&mut config_body);

    let mut merged = live_body.clone();
    ssa_merge(&mut merged, &config_body, &kind, &mut Vec::new());
    let config_set = fieldset_of(&config_body, &kind);

    let mut entries = original.clone();
    let me = match entries.iter().position(|e| e.is(manager, "Apply", "")) {
        Some(i) => i,
        None => {
            entries.push(ManagedEntry {
                manager: manager.to_string(),
                operation: "Apply".into(),
                api_version: api_version.clone(),
                time: None,
                subresource: String::new(),
                fields: FieldSet::new(),
            });
            entries.len() - 1
        }
    };
    let last_set = std::mem::replace(&mut entries[me].fields, config_set);
    entries[me].api_version = api_version;

    // prune: fields this applier set last time, no longer applies, and no
    // applier (this one included) owns now.
    if !last_set.is_empty() {
        let owned = entries
            .iter()
            .filter(|e| e.operation == "Apply")
            .fold(FieldSet::new(), |acc, e| acc.union(&e.fields));
        for p in last_set.difference(&owned).paths() {
            remove_path(&mut merged, &p, &kind, &mut Vec::new());
        }
    }

    // update: other managers lose the fields this apply changes (conflicts
    // unless forced) and the fields it removed.
    let cmp = compare(&live_body, &merged, &kind);
    let changed = cmp.added.union(&cmp.modified);
    let mut conflicts = Vec::new();
    for (i, e) in entries.iter().enumerate() {
        if i == me {
            continue;
        }
        for path in e.fields.intersection(&changed).paths() {
            conflicts.push(Conflict {
                identifier: e.identifier(),
                describe: e.describe(),
                path,
            });
        }
    }
    if !force && !conflicts.is_empty() {
        return Err(conflicts);
    }
    for (i, e) in entries.iter_mut().enumerate() {
        if i != me {
            e.fields = e.fields.difference(&changed).difference(&cmp.removed);
        }
    }
    let object_changed = merged != live_body;
    if object_changed {
        entries[me].time = Some(now.to_string());
    }
    entries.retain(|e| !e.fields.is_empty());
    if !object_changed && entries == original {
        return Ok(live_obj);
    }
    set_managed_fields(&mut merged, &entries);
    Ok(merged)
}

fn strip_nulls(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k.clone(), strip_nulls(v)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(strip_nulls).collect()),
        other => other.clone(),
    }
}

/// `TypedValue.Merge`: config over live; objects merge per field,
/// associative lists and sets per item, everything else is replaced.
fn ssa_merge(live: &mut Value, config: &Value, kind: &str, names: &mut Vec<String>) {
    if let (Value::Object(lm), Value::Object(cm)) = (&mut *live, config)
        && !is_atomic_object(names)
    {
        for (k, cv) in cm {
            if cv.is_null() {
                lm.remove(k);
                continue;
            }
            names.push(k.clone());
            match lm.get_mut(k) {
                Some(lv) => ssa_merge(lv, cv, kind, names),
                None => {
                    lm.insert(k.clone(), strip_nulls(cv));
                }
            }
            names.pop();
        }
        return;
    }
    if let (Value::Array(la), Value::Array(ca)) = (&mut *live, config)
        && let Some(lp) = item_path_elements(kind, names, la)
        && let Some(cp) = item_path_elements(kind, names, ca)
    {
        let merged = merge_list_items(std::mem::take(la), &lp, ca, &cp, kind, names);
        *la = merged;
        return;
    }
    *live = strip_nulls(config);
}

/// Merge associative list items: config items in config order, live-only
/// items kept in place relative to the live items around them.
fn merge_list_items(
    live: Vec<Value>,
    lp: &[PathElement],
    config: &[Value],
    cp: &[PathElement],
    kind: &str,
    names: &mut Vec<String>,
) -> Vec<Value> {
    let mut slots: Vec<Option<Value>> = live.into_iter().map(Some).collect();
    let mut emitted = vec![false; cp.len()];
    let mut out = Vec::with_capacity(slots.len().max(cp.len()));
    let (mut li, mut ri) = (0, 0);
    loop {
        if li < lp.len() {
            match cp.iter().position(|c| c == &lp[li]) {
                None => {
                    out.extend(slots[li].take());
                    li += 1;
                    continue;
                }
                Some(ci) if emitted[ci] => {
                    li += 1;
                    continue;
                }
                Some(_) => {}
            }
        }
        if ri < cp.len() {
            let item = match lp.iter().position(|l| l == &cp[ri]) {
                Some(i) => {
                    let mut v = slots[i].take().unwrap_or(Value::Null);
                    ssa_merge(&mut v, &config[ri], kind, names);
                    v
                }
                None => strip_nulls(&config[ri]),
            };
            out.push(item);
            emitted[ri] = true;
            ri += 1;
            continue;
        }
        if li < lp.len() {
            li += 1;
            continue;
        }
        break;
    }
    out
}

fn is_empty_container(v: &Value) -> bool {
    match v {
        Value::Object(m) => m.is_empty(),
        Value::Array(a) => a.is_empty(),
        _ => false,
    }
}

fn find_item(items: &[Value], pe: &PathElement, kind: &str, names: &[String]) -> Option<usize> {
    match pe {
        PathElement::Index(i) => (*i < items.len()).then_some(*i),
        PathElement::Value(v) => items.iter().position(|x| x == v),
        PathElement::Key(fields) => {
            let SsaListType::Map(keys) = list_schema(kind, names).ssa else {
                return None;
            };
            items
                .iter()
                .position(|it| item_key(it, keys).as_ref() == Some(fields))
        }
        PathElement::Field(_) => None,
    }
}

/// Remove the member at `path`; objects and lists emptied by the removal
/// go too (the typed round trip of the real server omits them).
fn remove_path(v: &mut Value, path: &[PathElement], kind: &str, names: &mut Vec<String>) -> bool {
    let Some((first, rest)) = path.split_first() else {
        return false;
    };
    match (v, first) {
        (Value::Object(m), PathElement::Field(k)) => {
            if rest.is_empty() {
                return m.remove(k).is_some();
            }
            let Some(child) = m.get_mut(k) else {
                return false;
            };
            names.push(k.clone());
            let removed = remove_path(child, rest, kind, names);
            names.pop();
            let emptied = is_empty_container(child);
            if removed && emptied {
                m.remove(k);
            }
            removed
        }
        (Value::Array(items), pe) => {
            let Some(i) = find_item(items, pe, kind, names) else {
                return false;
            };
            if rest.is_empty() {
                items.remove(i);
                return true;
            }
            remove_path(&mut items[i], rest, kind, names)
        }
        _ => false,
    }
}

/// `allowedConflictsFromLastApplied`: fields of the client-side
/// last-applied configuration whose live value still matches it.
fn allowed_conflicts_from_last_applied(live: Option<&Value>) -> Option<FieldSet> {
    let live = live?;
    let annotations = live.pointer("/metadata/annotations")?.as_object()?;
    let text = annotations.get(LAST_APPLIED)?.as_str()?;
    if text.is_empty() {
        return None;
    }
    let last_applied: Value = serde_json::from_str(text).ok()?;
    if !last_applied.is_object() {
        return None;
    }
    let kind = kind_of(live);
    let mut live_body = live.clone();
    remove_managed_fields(&mut live_body);
    let la_set = fieldset_of(&last_applied, kind);
    let cmp = compare(&live_body, &last_applied, kind);
    Some(la_set.difference(&cmp.added.union(&cmp.modified)))
}

/// `lastAppliedUpdater`: `kubectl apply --server-side` keeps an existing
/// last-applied annotation in step with what it applied.
fn update_last_applied(result: &mut Value, config: &Value) {
    let has = result
        .pointer("/metadata/annotations")
        .and_then(|a| a.get(LAST_APPLIED))
        .and_then(Value::as_str)
        .is_some_and(|s| !s.is_empty());
    if !has {
        return;
    }
    let mut applied = config.clone();
    if let Some(a) = applied
        .pointer_mut("/metadata/annotations")
        .and_then(Value::as_object_mut)
    {
        a.remove(LAST_APPLIED);
    }
    let text = format!("{}\n", go_json(&applied));
    if let Some(a) = result
        .pointer_mut("/metadata/annotations")
        .and_then(Value::as_object_mut)
    {
        a.insert(LAST_APPLIED.into(), Value::String(text));
    }
}

// ---------------------------------------------------------------------------
// Update tracking
// ---------------------------------------------------------------------------

/// After a non-apply write (create, PUT, merge/json/strategic patch) by
/// `manager`, record an `Update` entry (keyed by manager and `api_version`)
/// for the fields that changed between `old` and `new` (all fields on
/// create, `old == None`), taking them away from every other entry, as the
/// real field manager does. managedFields sent in `new` are honoured when
/// non-empty (else `old`'s are used); `[]` or `[{}]` resets them. An update
/// of an existing object (one with a uid) that has no managedFields is not
/// tracked. When nothing changed, managedFields are left exactly as they were.
pub fn track_update(
    old: Option<&Value>,
    new: &mut Value,
    manager: &str,
    api_version: &str,
    now: &str,
) {
    let kind = new
        .get("kind")
        .and_then(Value::as_str)
        .or_else(|| old.map(kind_of))
        .unwrap_or("")
        .to_string();
    let new_mf = new.pointer("/metadata/managedFields").cloned();
    let old_mf = old
        .and_then(|o| o.pointer("/metadata/managedFields"))
        .cloned();
    let reset = match &new_mf {
        Some(Value::Array(a)) => a.is_empty() || (a.len() == 1 && a[0] == json!({})),
        _ => false,
    };
    let (entries, source) = if reset {
        (Vec::new(), None)
    } else {
        match new_mf.as_ref().map(decode_managed_fields) {
            Some(Ok(e)) if !e.is_empty() => (e, new_mf.clone()),
            _ => (
                old_mf
                    .as_ref()
                    .map(decode_managed_fields)
                    .and_then(Result::ok)
                    .unwrap_or_default(),
                old_mf.clone(),
            ),
        }
    };
    remove_managed_fields(new);

    // skipNonApplied: an existing object nobody tracks stays untracked.
    let old_has_uid = old
        .and_then(|o| o.pointer("/metadata/uid"))
        .and_then(Value::as_str)
        .is_some_and(|u| !u.is_empty());
    if entries.is_empty() && old_has_uid {
        return;
    }

    let mut old_body = old.cloned().unwrap_or_else(|| Value::Object(Map::new()));
    remove_managed_fields(&mut old_body);
    let cmp = compare(&old_body, new, &kind);
    let changed = cmp.added.union(&cmp.modified);

    let original = entries.clone();
    let mut entries = entries;
    for e in entries.iter_mut() {
        e.fields = e.fields.difference(&changed).difference(&cmp.removed);
    }
    entries.retain(|e| !e.fields.is_empty());
    let own = changed.difference(&cmp.removed);
    if !own.is_empty() {
        match entries
            .iter_mut()
            .find(|e| e.is(manager, "Update", api_version))
        {
            Some(e) => {
                e.fields = own.union(&e.fields);
                e.time = Some(now.to_string());
            }
            None => entries.push(ManagedEntry {
                manager: manager.to_string(),
                operation: "Update".into(),
                api_version: api_version.to_string(),
                time: Some(now.to_string()),
                subresource: String::new(),
                fields: own,
            }),
        }
    }
    if entries == original {
        if let Some(src) = source
            && let Some(meta) = new.get_mut("metadata").and_then(Value::as_object_mut)
        {
            meta.insert("managedFields".into(), src);
        }
        return;
    }
    set_managed_fields(new, &entries);
}

#[cfg(test)]
mod tests {
    use super::*;

    const T1: &str = "2024-05-01T10:00:00Z";
    const T2: &str = "2024-05-01T11:00:00Z";
    const T3: &str = "2024-05-01T12:00:00Z";

    fn config(replicas: i64, labels: Value) -> Value {
        json!({
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "ci", "labels": labels},
            "spec": {
                "replicas": replicas,
                "selector": {"matchLabels": {"app": "web"}},
                "template": {
                    "metadata": {"labels": {"app": "web"}},
                    "spec": {"containers": [
                        {"name": "web", "image": "nginx:1.25", "ports": [{"containerPort": 80}]}
                    ]}
                }
            }
        })
    }

    fn entries(obj: &Value) -> Vec<ManagedEntry> {
        decode_managed_fields(
            obj.pointer("/metadata/managedFields")
                .unwrap_or(&Value::Null),
        )
        .unwrap()
    }

    fn entry<'a>(es: &'a [ManagedEntry], manager: &str) -> &'a ManagedEntry {
        es.iter().find(|e| e.manager == manager).unwrap()
    }

    fn p(s: &[&str]) -> Vec<PathElement> {
        s.iter()
            .map(|f| PathElement::Field(f.to_string()))
            .collect()
    }

    /// Stand-in for the storage layer: give a created object a uid.
    fn stored(mut v: Value) -> Value {
        v["metadata"]["uid"] = json!("0b7f6f4e-1");
        v
    }

    #[test]
    fn create_sets_one_apply_entry() {
        let obj = apply(
            None,
            &config(3, json!({"app": "web"})),
            "kubectl",
            false,
            T1,
        )
        .unwrap();
        let mf = obj["metadata"]["managedFields"].as_array().unwrap();
        assert_eq!(mf.len(), 1);
        let e = &mf[0];
        assert_eq!(e["manager"], "kubectl");
        assert_eq!(e["operation"], "Apply");
        assert_eq!(e["apiVersion"], "apps/v1");
        assert_eq!(e["time"], T1);
        assert_eq!(e["fieldsType"], "FieldsV1");
        assert_eq!(
            e["fieldsV1"],
            json!({
                "f:metadata": {"f:labels": {"f:app": {}}},
                "f:spec": {
                    "f:replicas": {},
                    "f:selector": {},
                    "f:template": {
                        "f:metadata": {"f:labels": {"f:app": {}}},
                        "f:spec": {"f:containers": {"k:{\"name\":\"web\"}": {
                            ".": {},
                            "f:image": {},
                            "f:name": {},
                            "f:ports": {"k:{\"containerPort\":80,\"protocol\":\"TCP\"}": {
                                ".": {},
                                "f:containerPort": {}
                            }}
                        }}}
                    }
                }
            })
        );
        assert_eq!(obj["spec"]["replicas"], 3);
        assert_eq!(obj["metadata"]["name"], "web");
    }

    #[test]
    fn reapply_identical_is_unchanged() {
        let c = config(3, json!({"app": "web", "tier": "front"}));
        let obj = stored(apply(None, &c, "kubectl", false, T1).unwrap());
        let again = apply(Some(&obj), &c, "kubectl", false, T2).unwrap();
        assert_eq!(again, obj);
    }

    #[test]
    fn reapply_without_a_label_deletes_it() {
        let obj = stored(
            apply(
                None,
                &config(3, json!({"app": "web", "tier": "front"})),
                "kubectl",
                false,
                T1,
            )
            .unwrap(),
        );
        let out = apply(
            Some(&obj),
            &config(3, json!({"app": "web"})),
            "kubectl",
            false,
            T2,
        )
        .unwrap();
        assert_eq!(out["metadata"]["labels"], json!({"app": "web"}));
        let es = entries(&out);
        assert_eq!(es.len(), 1);
        assert_eq!(es[0].time.as_deref(), Some(T2));
        assert!(!es[0].fields.has(&p(&["metadata", "labels", "tier"])));

        // dropping all labels removes the emptied map
        let c = config(3, json!({}));
        let mut c2 = c.clone();
        c2["metadata"].as_object_mut().unwrap().remove("labels");
        let out = apply(Some(&out), &c2, "kubectl", false, T3).unwrap();
        assert!(out["metadata"].get("labels").is_none(), "{out}");
    }

    #[test]
    fn removed_list_items_are_pruned() {
        let mut c = config(1, json!({}));
        c["spec"]["template"]["spec"]["containers"]
            .as_array_mut()
            .unwrap()
            .push(json!({"name": "sidecar", "image": "envoy"}));
        let obj = stored(apply(None, &c, "kubectl", false, T1).unwrap());
        assert_eq!(
            obj["spec"]["template"]["spec"]["containers"]
                .as_array()
                .unwrap()
                .len(),
            2
        );
        let out = apply(Some(&obj), &config(1, json!({})), "kubectl", false, T2).unwrap();
        let containers = out["spec"]["template"]["spec"]["containers"]
            .as_array()
            .unwrap();
        assert_eq!(containers.len(), 1);
        assert_eq!(containers[0]["name"], "web");
    }

    #[test]
    fn second_manager_conflicts_then_shares_then_forces() {
        let obj = stored(
            apply(
                None,
                &config(3, json!({"app": "web"})),
                "kubectl",
                false,
                T1,
            )
            .unwrap(),
        );
        let other = json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "ci"},
            "spec": {"replicas": 5}
        });
        let err = apply(Some(&obj), &other, "hpa-tool", false, T2).unwrap_err();
        assert_eq!(
            err.message,
            "Apply failed with 1 conflict: conflict with \"kubectl\": .spec.replicas"
        );
        assert_eq!(
            err.causes,
            vec![(
                "conflict with \"kubectl\"".to_string(),
                ".spec.replicas".to_string()
            )]
        );
        let status = err.to_status();
        assert_eq!(status["code"], 409);
        assert_eq!(status["reason"], "Conflict");
        assert_eq!(
            status["details"]["causes"][0]["reason"],
            "FieldManagerConflict"
        );
        assert_eq!(status["details"]["causes"][0]["field"], ".spec.replicas");

        // same value: shared ownership, object unchanged
        let mut same = other.clone();
        same["spec"]["replicas"] = json!(3);
        let shared = apply(Some(&obj), &same, "hpa-tool", false, T2).unwrap();
        let es = entries(&shared);
        assert!(entry(&es, "kubectl").fields.has(&p(&["spec", "replicas"])));
        assert!(entry(&es, "hpa-tool").fields.has(&p(&["spec", "replicas"])));
        assert_eq!(
            entry(&es, "hpa-tool").time,
            None,
            "object unchanged: no time"
        );
        assert_eq!(entry(&es, "kubectl").time.as_deref(), Some(T1));
        let mut a = shared.clone();
        let mut b = obj.clone();
        remove_managed_fields(&mut a);
        remove_managed_fields(&mut b);
        assert_eq!(a, b);

        // force takes ownership
        let forced = apply(Some(&obj), &other, "hpa-tool", true, T3).unwrap();
        assert_eq!(forced["spec"]["replicas"], 5);
        let es = entries(&forced);
        assert!(!entry(&es, "kubectl").fields.has(&p(&["spec", "replicas"])));
        assert!(
            entry(&es, "kubectl")
                .fields
                .has(&p(&["metadata", "labels", "app"]))
        );
        assert!(entry(&es, "hpa-tool").fields.has(&p(&["spec", "replicas"])));
        assert_eq!(entry(&es, "hpa-tool").time.as_deref(), Some(T3));

        // kubectl re-applying its config now conflicts with hpa-tool
        let err = apply(
            Some(&forced),
            &config(3, json!({"app": "web"})),
            "kubectl",
            false,
            T3,
        )
        .unwrap_err();
        assert_eq!(
            err.message,
            "Apply failed with 1 conflict: conflict with \"hpa-tool\": .spec.replicas"
        );
    }

    #[test]
    fn update_takes_fields_and_later_apply_conflicts() {
        let obj = stored(
            apply(
                None,
                &config(3, json!({"app": "web"})),
                "kubectl",
                false,
                T1,
            )
            .unwrap(),
        );
        let mut put = obj.clone();
        put["spec"]["replicas"] = json!(7);
        track_update(Some(&obj), &mut put, "kubectl-edit", "apps/v1", T2);
        let es = entries(&put);
        assert_eq!(es.len(), 2);
        let edit = entry(&es, "kubectl-edit");
        assert_eq!(edit.operation, "Update");
        assert_eq!(edit.time.as_deref(), Some(T2));
        assert_eq!(edit.fields.paths(), vec![p(&["spec", "replicas"])]);
        assert!(!entry(&es, "kubectl").fields.has(&p(&["spec", "replicas"])));
        // Apply entries sort before Update entries
        assert_eq!(put["metadata"]["managedFields"][0]["operation"], "Apply");

        let err = apply(
            Some(&put),
            &config(3, json!({"app": "web"})),
            "kubectl",
            false,
            T3,
        )
        .unwrap_err();
        assert_eq!(
            err.message,
            "Apply failed with 1 conflict: conflict with \"kubectl-edit\" using apps/v1: .spec.replicas"
        );
        assert_eq!(
            err.causes[0].0,
            "conflict with \"kubectl-edit\" using apps/v1"
        );
        // the same value as live does not conflict
        apply(
            Some(&put),
            &config(7, json!({"app": "web"})),
            "kubectl",
            false,
            T3,
        )
        .unwrap();
    }

    #[test]
    fn several_conflicts_message() {
        let obj = stored(
            apply(
                None,
                &config(3, json!({"app": "web"})),
                "kubectl",
                false,
                T1,
            )
            .unwrap(),
        );
        let mut put = obj.clone();
        put["metadata"]["labels"]["team"] = json!("a");
        track_update(Some(&obj), &mut put, "kubectl-label", "apps/v1", T2);
        let mut c = config(4, json!({"app": "api", "team": "b"}));
        c["spec"]["template"]["spec"]["containers"][0]["image"] = json!("nginx:1.27");
        let err = apply(Some(&put), &c, "ci-bot", false, T3).unwrap_err();
        assert_eq!(
            err.message,
            "Apply failed with 4 conflicts: conflicts with \"kubectl\":\n\
             - .metadata.labels.app\n\
             - .spec.replicas\n\
             - .spec.template.spec.containers[name=\"web\"].image\n\
             conflicts with \"kubectl-label\" using apps/v1:\n\
             - .metadata.labels.team"
        );
        assert_eq!(err.causes.len(), 4);
        assert_eq!(
            err.causes[2],
            (
                "conflict with \"kubectl\"".to_string(),
                ".spec.template.spec.containers[name=\"web\"].image".to_string()
            )
        );
    }

    #[test]
    fn track_update_on_create_and_noop() {
        let mut created = config(2, json!({"app": "web"}));
        track_update(None, &mut created, "kubectl-create", "apps/v1", T1);
        let es = entries(&created);
        assert_eq!(es.len(), 1);
        assert_eq!(es[0].manager, "kubectl-create");
        assert_eq!(es[0].operation, "Update");
        assert!(es[0].fields.has(&p(&["spec", "replicas"])));
        assert!(!es[0].fields.has(&p(&["metadata", "name"])));
        assert!(!es[0].fields.has(&p(&["kind"])));
        let created = stored(created);

        // a PUT that changes nothing leaves managedFields byte-for-byte alone
        let mut same = created.clone();
        same["metadata"]["resourceVersion"] = json!("42");
        track_update(Some(&created), &mut same, "kubectl-edit", "apps/v1", T2);
        assert_eq!(
            same["metadata"]["managedFields"],
            created["metadata"]["managedFields"]
        );

        // a PUT without managedFields keeps the stored ones (decodeLiveOrNew)
        let mut put = created.clone();
        put["metadata"]
            .as_object_mut()
            .unwrap()
            .remove("managedFields");
        put["metadata"]["labels"]["tier"] = json!("x");
        track_update(Some(&created), &mut put, "kubectl-edit", "apps/v1", T2);
        let es = entries(&put);
        assert_eq!(es.len(), 2);
        assert_eq!(
            entry(&es, "kubectl-edit").fields.paths(),
            vec![p(&["metadata", "labels", "tier"])]
        );

        // removing a field drops it from every manager
        let mut put2 = put.clone();
        put2["spec"].as_object_mut().unwrap().remove("replicas");
        track_update(Some(&put), &mut put2, "kubectl-edit", "apps/v1", T3);
        let es = entries(&put2);
        assert!(
            !entry(&es, "kubectl-create")
                .fields
                .has(&p(&["spec", "replicas"]))
        );
        assert_eq!(entry(&es, "kubectl-edit").time.as_deref(), Some(T2));
    }

    #[test]
    fn untracked_objects_stay_untracked_and_reset_clears() {
        let old = json!({"apiVersion": "v1", "kind": "ConfigMap",
                         "metadata": {"name": "c", "uid": "u1"}, "data": {"a": "1"}});
        let mut new = old.clone();
        new["data"]["a"] = json!("2");
        track_update(Some(&old), &mut new, "kubectl-edit", "v1", T1);
        assert!(new["metadata"].get("managedFields").is_none());

        let mut tracked = old.clone();
        track_update(None, &mut tracked, "kubectl-create", "v1", T1);
        assert!(tracked["metadata"]["managedFields"].is_array());
        let mut reset = tracked.clone();
        reset["metadata"]["managedFields"] = json!([{}]);
        reset["data"]["a"] = json!("3");
        track_update(Some(&tracked), &mut reset, "kubectl-edit", "v1", T2);
        assert!(reset["metadata"].get("managedFields").is_none());
    }

    #[test]
    fn client_side_apply_upgrade_to_server_side() {
        let mut live = config(3, json!({"app": "web"}));
        let la = go_json(&live);
        live["metadata"]["annotations"] = json!({ LAST_APPLIED: la });
        track_update(None, &mut live, "kubectl-client-side-apply", "apps/v1", T1);
        let live = stored(live);
        // another manager still conflicts
        let err = apply(
            Some(&live),
            &config(5, json!({"app": "web"})),
            "other",
            false,
            T2,
        )
        .unwrap_err();
        assert_eq!(
            err.message,
            "Apply failed with 1 conflict: conflict with \"kubectl-client-side-apply\" using apps/v1: .spec.replicas"
        );
        // kubectl may take over fields still equal to last-applied
        let out = apply(
            Some(&live),
            &config(5, json!({"app": "web"})),
            "kubectl",
            false,
            T2,
        )
        .unwrap();
        assert_eq!(out["spec"]["replicas"], 5);
        let la: Value = serde_json::from_str(
            out["metadata"]["annotations"][LAST_APPLIED]
                .as_str()
                .unwrap(),
        )
        .unwrap();
        assert_eq!(la["spec"]["replicas"], 5);
        let es = entries(&out);
        assert!(entry(&es, "kubectl").fields.has(&p(&["spec", "replicas"])));
        assert!(
            !entry(&es, "kubectl-client-side-apply")
                .fields
                .has(&p(&["spec", "replicas"]))
        );
    }

    #[test]
    fn fields_v1_round_trip_and_paths() {
        let v = json!({
            "f:metadata": {"f:finalizers": {".": {}, "v:\"a<b\"": {}}, "f:labels": {"f:app": {}}},
            "f:spec": {"f:ports": {"k:{\"port\":80,\"protocol\":\"TCP\"}": {".": {}, "f:port": {}}}},
            "x:unknown": {}
        });
        let set = FieldSet::from_fields_v1(&v).unwrap();
        let mut want = v.clone();
        want.as_object_mut().unwrap().remove("x:unknown");
        // Go escapes '<' in JSON; "." stays where a member also has children
        want["f:metadata"]["f:finalizers"] = json!({".": {}, "v:\"a\\u003cb\"": {}});
        assert_eq!(set.to_fields_v1(), want);
        assert_eq!(FieldSet::from_fields_v1(&set.to_fields_v1()).unwrap(), set);
        let strs: Vec<String> = set.paths().iter().map(|p| path_to_string(p)).collect();
        assert_eq!(
            strs,
            [
                ".metadata.finalizers",
                ".metadata.finalizers[=\"a<b\"]",
                ".metadata.labels.app",
                ".spec.ports[port=80,protocol=\"TCP\"]",
                ".spec.ports[port=80,protocol=\"TCP\"].port"
            ]
        );
        // finalizers are a set in the extracted field set
        let obj = json!({"kind": "ConfigMap", "metadata": {"finalizers": ["x"]}});
        assert_eq!(
            fieldset_from_object(&obj).to_fields_v1(),
            json!({"f:metadata": {"f:finalizers": {"v:\"x\"": {}}}})
        );
        assert!(PathElement::parse("z:1").unwrap().is_none());
        assert_eq!(PathElement::parse("zz").unwrap_err(), "missing colon: zz");
        assert!(PathElement::parse("f").is_err());
    }

    #[test]
    fn validate_apply_body() {
        let c = config(1, json!({}));
        validate_apply_config(&c, "apps/v1", "Deployment").unwrap();
        assert_eq!(
            validate_apply_config(&c, "v1", "Deployment").unwrap_err(),
            "invalid object type: apps/v1, Kind=Deployment"
        );
        let mut m = c.clone();
        m["metadata"]["managedFields"] = json!([]);
        assert_eq!(
            validate_apply_config(&m, "apps/v1", "Deployment").unwrap_err(),
            "metadata.managedFields must be nil"
        );
    }

    #[test]
    fn rbac_objects_are_leaves() {
        let rb = json!({
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
            "metadata": {"name": "ci", "namespace": "ci"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "deployer"},
            "subjects": [{"kind": "ServiceAccount", "name": "ci", "namespace": "ci"}]
        });
        let out = apply(None, &rb, "kubectl", false, T1).unwrap();
        assert_eq!(
            out["metadata"]["managedFields"][0]["fieldsV1"],
            json!({"f:roleRef": {}, "f:subjects": {}})
        );
    }
}
