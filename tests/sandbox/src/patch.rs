//! Patch engines of the sandbox API server: JSON merge patch (RFC 7386),
//! JSON patch (RFC 6902, with the behaviour and error texts of
//! `gopkg.in/evanphx/json-patch.v4`, which the real apiserver uses) and
//! strategic merge patch (after `k8s.io/apimachinery/pkg/util/strategicpatch`,
//! server side: `StrategicMergeMapPatch` with `MergeParallelList` and
//! `IgnoreUnmatchedNulls`).
//!
//! Built-in types are known to the real server through Go struct tags
//! (`patchStrategy`, `patchMergeKey`, `listType`, `listMapKey`). The sandbox
//! stores plain JSON, so [`list_schema`] carries a small table of the list
//! fields that matter (containers by name, env by name, ...); every other
//! list is replaced by a strategic merge patch and atomic for server-side
//! apply.

use std::fmt;

use serde_json::{Map, Value};

// ---------------------------------------------------------------------------
// List schema shared by strategic merge patch and server-side apply
// ---------------------------------------------------------------------------

/// How a strategic merge patch treats a list (`patchStrategy`/`patchMergeKey`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmpListStrategy {
    /// No patch strategy: the patch list replaces the live list.
    Replace,
    /// `patchStrategy:"merge"` with `patchMergeKey`: lists of objects merged by that key.
    MergeByKey(&'static str),
    /// `patchStrategy:"merge"` on a list of scalars (metadata.finalizers): union.
    MergePrimitives,
}

/// How server-side apply treats a list (`x-kubernetes-list-type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SsaListType {
    /// The whole list is one leaf.
    Atomic,
    /// Associative list; key fields with the default used when an item omits one
    /// (`protocol` defaults to `TCP` for ports).
    Map(&'static [(&'static str, Option<&'static str>)]),
    /// List of unique scalars (`v:` path elements).
    Set,
}

/// Both views of one list field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListSchema {
    pub smp: SmpListStrategy,
    pub ssa: SsaListType,
}

const CONTAINER_LISTS: [&str; 3] = ["containers", "initContainers", "ephemeralContainers"];
const KEY_NAME: &[(&str, Option<&str>)] = &[("name", None)];
const KEY_IP: &[(&str, Option<&str>)] = &[("ip", None)];
const KEY_TYPE: &[(&str, Option<&str>)] = &[("type", None)];
const KEY_UID: &[(&str, Option<&str>)] = &[("uid", None)];
const KEY_MOUNT_PATH: &[(&str, Option<&str>)] = &[("mountPath", None)];
const KEY_DEVICE_PATH: &[(&str, Option<&str>)] = &[("devicePath", None)];
const KEY_CONTAINER_PORT: &[(&str, Option<&str>)] =
    &[("containerPort", None), ("protocol", Some("TCP"))];
const KEY_SERVICE_PORT: &[(&str, Option<&str>)] = &[("port", None), ("protocol", Some("TCP"))];
const KEY_TOPOLOGY: &[(&str, Option<&str>)] = &[("topologyKey", None), ("whenUnsatisfiable", None)];

/// The schema of the list at `names` (the field names from the object root,
/// list items not counted: `["spec","template","spec","containers","env"]`)
/// in an object of `kind`. Unknown lists are `Replace`/`Atomic`.
pub fn list_schema(kind: &str, names: &[String]) -> ListSchema {
    use SmpListStrategy::{MergeByKey, MergePrimitives, Replace};
    use SsaListType::{Atomic, Map as SsaMap, Set};
    let field = names.last().map(String::as_str).unwrap_or("");
    let parent = if names.len() >= 2 {
        names[names.len() - 2].as_str()
    } else {
        ""
    };
    let in_container = CONTAINER_LISTS.contains(&parent);
    let by = |key: &'static str, keys| ListSchema {
        smp: MergeByKey(key),
        ssa: SsaMap(keys),
    };
    match field {
        "containers" | "initContainers" | "ephemeralContainers" if parent == "spec" => {
            by("name", KEY_NAME)
        }
        "env" if in_container => by("name", KEY_NAME),
        "ports" if in_container => by("containerPort", KEY_CONTAINER_PORT),
        "ports" if kind == "Service" && names.len() == 2 && parent == "spec" => {
            by("port", KEY_SERVICE_PORT)
        }
        "volumeMounts" if in_container => by("mountPath", KEY_MOUNT_PATH),
        "volumeDevices" if in_container => by("devicePath", KEY_DEVICE_PATH),
        "volumes" | "imagePullSecrets" | "schedulingGates" | "resourceClaims"
            if parent == "spec" =>
        {
            by("name", KEY_NAME)
        }
        "hostAliases" if parent == "spec" => by("ip", KEY_IP),
        "topologySpreadConstraints" if parent == "spec" => ListSchema {
            smp: MergeByKey("topologyKey"),
            ssa: SsaMap(KEY_TOPOLOGY),
        },
        "conditions" if parent == "status" => by("type", KEY_TYPE),
        "addresses" if parent == "status" && kind == "Node" => by("type", KEY_TYPE),
        "podIPs" | "hostIPs" if parent == "status" => by("ip", KEY_IP),
        "ownerReferences" if parent == "metadata" => by("uid", KEY_UID),
        "finalizers" if parent == "metadata" => ListSchema {
            smp: MergePrimitives,
            ssa: Set,
        },
        "secrets" if kind == "ServiceAccount" && names.len() == 1 => by("name", KEY_NAME),
        _ => ListSchema {
            smp: Replace,
            ssa: Atomic,
        },
    }
}

// ---------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------

/// A patch failure with the Status the real apiserver answers for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatchError {
    /// HTTP code: 400 (BadRequest), 422 (Invalid) or 500.
    pub code: u16,
    /// Status `reason`: `BadRequest`, `Invalid`, or empty (omit it) for 500.
    pub reason: &'static str,
    /// Status `message` as the real server sends it.
    pub message: String,
    /// The underlying library error text (for JSON patch apply errors the
    /// real server hides it behind a generic message).
    pub detail: String,
}

impl PatchError {
    fn bad_request(detail: impl Into<String>) -> Self {
        let detail = detail.into();
        PatchError {
            code: 400,
            reason: "BadRequest",
            message: detail.clone(),
            detail,
        }
    }

    /// `errors.NewGenericServerResponse(422, ...)`: the server message is dropped.
    fn invalid_generic(detail: impl Into<String>) -> Self {
        PatchError {
            code: 422,
            reason: "Invalid",
            message: "the server rejected our request due to an error in our request".into(),
            detail: detail.into(),
        }
    }

    /// A plain Go error reaching the handler: 500, reason empty (`StatusReasonUnknown`).
    fn internal(detail: impl Into<String>) -> Self {
        let detail = detail.into();
        PatchError {
            code: 500,
            reason: "",
            message: detail.clone(),
            detail,
        }
    }
}

impl fmt::Display for PatchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.detail)
    }
}

impl std::error::Error for PatchError {}

/// The word Go's `encoding/json` uses for a JSON value in `cannot unmarshal X into ...`.
fn json_type_word(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Go `fmt` `%v` of a decoded JSON value (`map[a:1 b:[x y]]`), used in error texts.
pub(crate) fn go_fmt(v: &Value) -> String {
    match v {
        Value::Null => "<nil>".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.clone(),
        Value::Array(a) => format!("[{}]", a.iter().map(go_fmt).collect::<Vec<_>>().join(" ")),
        Value::Object(m) => format!(
            "map[{}]",
            m.iter()
                .map(|(k, v)| format!("{k}:{}", go_fmt(v)))
                .collect::<Vec<_>>()
                .join(" ")
        ),
    }
}

/// `reflect.TypeOf(x)` printed with `%s` for a decoded JSON value.
fn go_type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "%!s(<nil>)",
        Value::Bool(_) => "bool",
        Value::Number(n) if n.is_f64() => "float64",
        Value::Number(_) => "int64",
        Value::String(_) => "string",
        Value::Array(_) => "[]interface {}",
        Value::Object(_) => "map[string]interface {}",
    }
}

/// Go `strconv.Quote`-like quoting (JSON string syntax is close enough).
fn go_quote(s: &str) -> String {
    Value::String(s.to_string()).to_string()
}

// ---------------------------------------------------------------------------
// JSON merge patch (RFC 7386)
// ---------------------------------------------------------------------------

/// RFC 7386 JSON merge patch (application/merge-patch+json).
pub fn merge_patch(target: &mut Value, patch: &Value) {
    let Value::Object(pm) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    if let Value::Object(tm) = target {
        for (k, v) in pm {
            if v.is_null() {
                tm.remove(k);
            } else {
                merge_patch(tm.entry(k.clone()).or_insert(Value::Null), v);
            }
        }
    }
}

/// [`merge_patch`] with the checks of the apiserver's patch handler
/// (`fieldValidation=Strict`, as kubectl sends): the patch must be a JSON
/// object (`null` is `Invalid JSON Patch`), otherwise 400.
pub fn merge_patch_checked(target: &mut Value, patch: &Value) -> Result<(), PatchError> {
    match patch {
        Value::Object(_) => {
            merge_patch(target, patch);
            Ok(())
        }
        Value::Null => Err(PatchError::bad_request("Invalid JSON Patch")),
        other => Err(PatchError::bad_request(format!(
            "error decoding patch: json: cannot unmarshal {} into Go value of type map[string]interface {{}}",
            json_type_word(other)
        ))),
    }
}

// ---------------------------------------------------------------------------
// JSON patch (RFC 6902), evanphx/json-patch v4 semantics
// ---------------------------------------------------------------------------

/// RFC 6902 JSON patch (application/json-patch+json): add, remove, replace,
/// move, copy, test. `Err` carries the json-patch library's text (see
/// [`json_patch_checked`] for the Status the server answers with).
/// On error `target` is left unchanged.
pub fn json_patch(target: &mut Value, patch: &Value) -> Result<(), String> {
    json_patch_checked(target, patch).map_err(|e| e.detail)
}

/// [`json_patch`] with the apiserver's error mapping: a patch that does not
/// decode (not an array of operations; `op`/`path`/`from` not strings) is
/// 400 `error decoding patch: ...`; an operation that fails is 422 Invalid
/// with the generic message `the server rejected our request due to an
/// error in our request` (the library text is in `detail` only).
pub fn json_patch_checked(target: &mut Value, patch: &Value) -> Result<(), PatchError> {
    let ops: &[Value] = match patch {
        Value::Null => &[],
        Value::Array(a) => a,
        other => {
            return Err(PatchError::bad_request(format!(
                "error decoding patch: json: cannot unmarshal {} into Go value of type []handlers.jsonPatchOp",
                json_type_word(other)
            )));
        }
    };
    for op in ops {
        match op {
            Value::Null => {}
            Value::Object(m) => {
                for field in ["op", "path", "from"] {
                    if let Some(v) = m.get(field).filter(|v| !v.is_string() && !v.is_null()) {
                        return Err(PatchError::bad_request(format!(
                            "error decoding patch: json: cannot unmarshal {} into Go struct field jsonPatchOp.{field} of type string",
                            json_type_word(v)
                        )));
                    }
                }
            }
            other => {
                return Err(PatchError::bad_request(format!(
                    "error decoding patch: json: cannot unmarshal {} into Go value of type handlers.jsonPatchOp",
                    json_type_word(other)
                )));
            }
        }
    }
    let mut doc = target.clone();
    for op in ops {
        jp_apply_op(&mut doc, op).map_err(PatchError::invalid_generic)?;
    }
    *target = doc;
    Ok(())
}

enum JpField {
    Missing,
    Str(String),
    Bad(&'static str),
}

fn jp_field(op: &Map<String, Value>, name: &str) -> JpField {
    match op.get(name) {
        None | Some(Value::Null) => JpField::Missing,
        Some(Value::String(s)) => JpField::Str(s.clone()),
        Some(other) => JpField::Bad(json_type_word(other)),
    }
}

/// `errors.Wrapf(err, "<what>")` where err is the `op.Path()`/`op.From()` error.
fn jp_decode_err(what: &str, f: JpField, missing: &str) -> Result<String, String> {
    match f {
        JpField::Str(s) => Ok(s),
        JpField::Missing => Err(format!("{what}: {missing}: missing value")),
        JpField::Bad(w) => Err(format!(
            "{what}: json: cannot unmarshal {w} into Go value of type string"
        )),
    }
}

fn decode_patch_key(k: &str) -> String {
    // strings.NewReplacer("~1", "/", "~0", "~"): one left-to-right pass.
    let mut out = String::with_capacity(k.len());
    let mut rest = k;
    while let Some(i) = rest.find('~') {
        out.push_str(&rest[..i]);
        let after = &rest[i..];
        if let Some(r) = after.strip_prefix("~1") {
            out.push('/');
            rest = r;
        } else if let Some(r) = after.strip_prefix("~0") {
            out.push('~');
            rest = r;
        } else {
            out.push('~');
            rest = &after[1..];
        }
    }
    out.push_str(rest);
    out
}

fn jp_atoi(key: &str) -> Result<i64, String> {
    use std::num::IntErrorKind;
    key.parse::<i64>().map_err(|e| match e.kind() {
        IntErrorKind::PosOverflow | IntErrorKind::NegOverflow => {
            format!(
                "strconv.Atoi: parsing {}: value out of range",
                go_quote(key)
            )
        }
        _ => format!("strconv.Atoi: parsing {}: invalid syntax", go_quote(key)),
    })
}

fn jp_invalid_index(idx: i64) -> String {
    format!("Unable to access invalid index: {idx}: invalid index referenced")
}

/// Index of an existing array element (`partialArray.get` rules).
fn jp_array_index(len: usize, key: &str) -> Result<usize, String> {
    let idx = jp_atoi(key)?;
    let len = len as i64;
    let mut i = idx;
    if i < 0 {
        if i < -len {
            return Err(jp_invalid_index(idx));
        }
        i += len;
    }
    if i >= len {
        return Err(jp_invalid_index(idx));
    }
    Ok(i as usize)
}

/// `findObject`: the container holding the last path token, and that token.
fn jp_find<'a>(doc: &'a mut Value, path: &str) -> Option<(&'a mut Value, String)> {
    let split: Vec<&str> = path.split('/').collect();
    if split.len() < 2 {
        return None;
    }
    let mut cur = doc;
    for part in &split[1..split.len() - 1] {
        let key = decode_patch_key(part);
        let next = match cur {
            Value::Object(m) => m.get_mut(&key)?,
            Value::Array(a) => {
                let i = jp_array_index(a.len(), &key).ok()?;
                &mut a[i]
            }
            _ => return None,
        };
        if !next.is_object() && !next.is_array() {
            return None;
        }
        cur = next;
    }
    Some((cur, decode_patch_key(split[split.len() - 1])))
}

/// `container.get`: Ok(None) is a JSON null (a nil node in Go).
fn jp_get<'a>(c: &'a Value, key: &str) -> Result<Option<&'a Value>, String> {
    match c {
        Value::Object(m) => match m.get(key) {
            None => Err(format!(
                "unable to get nonexistent key: {key}: missing value"
            )),
            Some(Value::Null) => Ok(None),
            Some(v) => Ok(Some(v)),
        },
        Value::Array(a) => {
            let i = jp_array_index(a.len(), key)?;
            Ok(Some(&a[i]).filter(|v| !v.is_null()))
        }
        _ => Err("invalid state detected".into()),
    }
}

fn jp_add(c: &mut Value, key: &str, val: Value) -> Result<(), String> {
    match c {
        Value::Object(m) => {
            m.insert(key.to_string(), val);
            Ok(())
        }
        Value::Array(a) => {
            if key == "-" {
                a.push(val);
                return Ok(());
            }
            let idx = jp_atoi(key)
                .map_err(|e| format!("value was not a proper array index: '{key}': {e}"))?;
            let size = a.len() as i64 + 1;
            let mut i = idx;
            if i >= size {
                return Err(jp_invalid_index(idx));
            }
            if i < 0 {
                if i < -size {
                    return Err(jp_invalid_index(idx));
                }
                i += size;
            }
            a.insert(i as usize, val);
            Ok(())
        }
        _ => Err("invalid state detected".into()),
    }
}

fn jp_set(c: &mut Value, key: &str, val: Value) -> Result<(), String> {
    match c {
        Value::Object(m) => {
            m.insert(key.to_string(), val);
            Ok(())
        }
        Value::Array(a) => {
            let i = jp_array_index(a.len(), key)?;
            a[i] = val;
            Ok(())
        }
        _ => Err("invalid state detected".into()),
    }
}

fn jp_remove(c: &mut Value, key: &str) -> Result<Value, String> {
    match c {
        Value::Object(m) => m
            .remove(key)
            .ok_or_else(|| format!("unable to remove nonexistent key: {key}: missing value")),
        Value::Array(a) => {
            let i = jp_array_index(a.len(), key)?;
            Ok(a.remove(i))
        }
        _ => Err("invalid state detected".into()),
    }
}

/// lazyNode.equal: objects compare the keys of the document side only.
fn jp_equal(doc: &Value, val: &Value) -> bool {
    match (doc, val) {
        (Value::Object(d), Value::Object(v)) => d.iter().all(|(k, dv)| match v.get(k) {
            None => false,
            Some(vv) if dv.is_null() && vv.is_null() => true,
            Some(vv) => !dv.is_null() && !vv.is_null() && jp_equal(dv, vv),
        }),
        (Value::Object(_), _) => false,
        (Value::Array(d), Value::Array(v)) => {
            d.len() == v.len() && d.iter().zip(v).all(|(a, b)| jp_equal(a, b))
        }
        (Value::Array(_), _) => false,
        // Scalars: the compacted JSON texts are compared.
        (d, v) => serde_json::to_string(d).ok() == serde_json::to_string(v).ok(),
    }
}

fn jp_apply_op(doc: &mut Value, op: &Value) -> Result<(), String> {
    let Value::Object(op) = op else {
        return Err("Unexpected kind: unknown".into());
    };
    let kind = match op.get("op") {
        Some(Value::String(s)) => s.as_str(),
        _ => "unknown",
    };
    // op.value(): absent or null both give a JSON null to add/replace.
    let value = op.get("value").cloned().unwrap_or(Value::Null);
    match kind {
        "add" => {
            let JpField::Str(path) = jp_field(op, "path") else {
                return Err("add operation failed to decode path: missing value".into());
            };
            let Some((con, key)) = jp_find(doc, &path) else {
                return Err(format!(
                    "add operation does not apply: doc is missing path: \"{path}\": missing value"
                ));
            };
            jp_add(con, &key, value).map_err(|e| format!("error in add for path: '{path}': {e}"))
        }
        "remove" => {
            let JpField::Str(path) = jp_field(op, "path") else {
                return Err("remove operation failed to decode path: missing value".into());
            };
            let Some((con, key)) = jp_find(doc, &path) else {
                return Err(format!(
                    "remove operation does not apply: doc is missing path: \"{path}\": missing value"
                ));
            };
            jp_remove(con, &key)
                .map(|_| ())
                .map_err(|e| format!("error in remove for path: '{path}': {e}"))
        }
        "replace" => {
            let path = jp_decode_err(
                "replace operation failed to decode path",
                jp_field(op, "path"),
                "operation missing path field",
            )?;
            if path.is_empty() {
                // The library silently ignores a scalar replacement of the root.
                if value.is_object() || value.is_array() {
                    *doc = value;
                }
                return Ok(());
            }
            let Some((con, key)) = jp_find(doc, &path) else {
                return Err(format!(
                    "replace operation does not apply: doc is missing path: {path}: missing value"
                ));
            };
            if jp_get(con, &key).is_err() {
                return Err(format!(
                    "replace operation does not apply: doc is missing key: {path}: missing value"
                ));
            }
            jp_set(con, &key, value).map_err(|e| format!("error in remove for path: '{path}': {e}"))
        }
        "move" => {
            let from = jp_decode_err(
                "move operation failed to decode from",
                jp_field(op, "from"),
                "operation, missing from field",
            )?;
            let Some((con, key)) = jp_find(doc, &from) else {
                return Err(format!(
                    "move operation does not apply: doc is missing from path: {from}: missing value"
                ));
            };
            jp_get(con, &key).map_err(|e| format!("error in move for path: '{key}': {e}"))?;
            let val = jp_remove(con, &key)
                .map_err(|e| format!("error in move for path: '{key}': {e}"))?;
            let path = jp_decode_err(
                "move operation failed to decode path",
                jp_field(op, "path"),
                "operation missing path field",
            )?;
            let Some((con, key)) = jp_find(doc, &path) else {
                return Err(format!(
                    "move operation does not apply: doc is missing destination path: {path}: missing value"
                ));
            };
            jp_add(con, &key, val).map_err(|e| format!("error in move for path: '{path}': {e}"))
        }
        "copy" => {
            let from = jp_decode_err(
                "copy operation failed to decode from",
                jp_field(op, "from"),
                "operation, missing from field",
            )?;
            let Some((con, key)) = jp_find(doc, &from) else {
                return Err(format!(
                    "copy operation does not apply: doc is missing from path: {from}: missing value"
                ));
            };
            let val = jp_get(con, &key)
                .map_err(|e| format!("error in copy for from: '{from}': {e}"))?
                .cloned()
                .unwrap_or(Value::Null);
            let JpField::Str(path) = jp_field(op, "path") else {
                return Err("copy operation failed to decode path: missing value".into());
            };
            let Some((con, key)) = jp_find(doc, &path) else {
                return Err(format!(
                    "copy operation does not apply: doc is missing destination path: {path}: missing value"
                ));
            };
            jp_add(con, &key, val).map_err(|e| format!("error while adding value during copy: {e}"))
        }
        "test" => {
            let path = jp_decode_err(
                "test operation failed to decode path",
                jp_field(op, "path"),
                "operation missing path field",
            )?;
            let failed = || format!("testing value {path} failed: test failed");
            let want = op.get("value");
            if path.is_empty() {
                return match want {
                    Some(w) if jp_equal(doc, w) => Ok(()),
                    _ => Err(failed()),
                };
            }
            let Some((con, key)) = jp_find(doc, &path) else {
                return Err(format!(
                    "test operation does not apply: is missing path: {path}: missing value"
                ));
            };
            let got = match jp_get(con, &key) {
                Ok(v) => v,
                Err(e) if e.ends_with(": missing value") => None,
                Err(e) => return Err(format!("error in test for path: '{path}': {e}")),
            };
            match (got, want) {
                (None, Some(Value::Null)) => Ok(()),
                (Some(g), Some(w)) if !w.is_null() && jp_equal(g, w) => Ok(()),
                _ => Err(failed()),
            }
        }
        other => Err(format!("Unexpected kind: {other}")),
    }
}

// ---------------------------------------------------------------------------
// Strategic merge patch
// ---------------------------------------------------------------------------

const DIRECTIVE: &str = "$patch";
const RETAIN_KEYS: &str = "$retainKeys";
const DELETE_FROM_PRIMITIVE_LIST: &str = "$deleteFromPrimitiveList";
const SET_ELEMENT_ORDER: &str = "$setElementOrder";

const ERR_PRIMITIVE_LIST: &str = "invalid patch format of primitive list";
const ERR_RETAIN_KEYS: &str = "invalid patch format of retainKeys";
const ERR_SET_ELEMENT_ORDER: &str = "invalid patch format of setElementOrder list";

/// Strategic merge patch (application/strategic-merge-patch+json) as the
/// apiserver applies it to built-in types: maps merge recursively, `null`
/// deletes, lists with a known merge key (see [`list_schema`]) merge by
/// that key, `metadata.finalizers` merges as a set, every other list is
/// replaced. Directives: `$patch: replace|delete` (maps and list items;
/// `$patch: merge` is rejected as by the real server), `$retainKeys`,
/// `$deleteFromPrimitiveList/<field>`, `$setElementOrder/<field>` (honoured,
/// with the real ordering rules). On error `target` is left unchanged.
pub fn strategic_merge_patch(target: &mut Value, patch: &Value) -> Result<(), String> {
    strategic_merge_patch_checked(target, patch).map_err(|e| e.detail)
}

/// [`strategic_merge_patch`] with the apiserver's error mapping
/// (`interpretStrategicMergePatchError`): malformed directives are 400,
/// lists of lists 422 (generic message), anything else 500.
pub fn strategic_merge_patch_checked(target: &mut Value, patch: &Value) -> Result<(), PatchError> {
    let pm = match patch {
        Value::Null => return Ok(()),
        Value::Object(m) => m.clone(),
        other => {
            return Err(PatchError::bad_request(format!(
                "json: cannot unmarshal {} into Go value of type map[string]interface {{}}",
                json_type_word(other)
            )));
        }
    };
    let kind = target
        .get("kind")
        .or_else(|| patch.get("kind"))
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let original = target.as_object().cloned().unwrap_or_default();
    let merged = smp_merge_map(original, pm, &kind, &mut Vec::new())?;
    *target = Value::Object(merged.unwrap_or_default());
    Ok(())
}

type SmpResult<T> = Result<T, PatchError>;

fn err_no_merge_key(m: &Value, key: &str) -> PatchError {
    PatchError::internal(format!(
        "map: {} does not contain declared merge key: {key}",
        go_fmt(m)
    ))
}

fn err_bad_arg_type(expected: &str, actual: &Value) -> PatchError {
    PatchError::internal(format!(
        "expected a {expected}, but received a {}",
        go_type_name(actual)
    ))
}

/// `extractKey`: `"$setElementOrder/containers"` -> `"containers"`.
fn extract_key(s: &str, prefix: &str) -> Option<String> {
    let (head, rest) = s.split_once('/')?;
    (head == prefix).then(|| rest.to_string())
}

/// `mergeMap`. `None` means the map carried `$patch: delete`.
fn smp_merge_map(
    mut original: Map<String, Value>,
    mut patch: Map<String, Value>,
    kind: &str,
    names: &mut Vec<String>,
) -> SmpResult<Option<Map<String, Value>>> {
    if let Some(directive) = patch.get(DIRECTIVE) {
        return match directive.as_str() {
            Some("replace") => {
                patch.remove(DIRECTIVE);
                smp_merge_map(Map::new(), patch, kind, names)
            }
            Some("delete") => Ok(None),
            _ => Err(PatchError::internal(format!(
                "unknown patch type: {} in map: {}",
                go_fmt(directive),
                go_fmt(&Value::Object(patch.clone()))
            ))),
        };
    }

    // $retainKeys
    if let Some(retain) = patch.remove(RETAIN_KEYS) {
        let Value::Array(list) = retain else {
            return Err(PatchError::bad_request(ERR_RETAIN_KEYS));
        };
        let listed = |k: &str| list.iter().any(|v| v.as_str() == Some(k));
        for (k, v) in &patch {
            if v.is_null()
                || k.starts_with(DELETE_FROM_PRIMITIVE_LIST)
                || k.starts_with(SET_ELEMENT_ORDER)
            {
                continue;
            }
            if !listed(k) {
                return Err(PatchError::bad_request(ERR_RETAIN_KEYS));
            }
        }
        original.retain(|k, _| listed(k));
    }

    // $setElementOrder/<field> together with the field's patch list
    let order_keys: Vec<String> = patch
        .keys()
        .filter(|k| k.starts_with(SET_ELEMENT_ORDER))
        .cloned()
        .collect();
    for key in order_keys {
        let order_value = patch.remove(&key).unwrap_or(Value::Null);
        let Value::Array(order) = order_value else {
            return Err(err_bad_arg_type("[]interface {}", &order_value));
        };
        let field = extract_key(&key, SET_ELEMENT_ORDER)
            .ok_or_else(|| PatchError::bad_request(ERR_SET_ELEMENT_ORDER))?;
        let original_list = match original.get(&field) {
            None => None,
            Some(Value::Array(a)) => Some(a.clone()),
            Some(other) => return Err(err_bad_arg_type("[]interface {}", other)),
        };
        let patch_list = match patch.get(&field) {
            None => None,
            Some(Value::Array(a)) => Some(a.clone()),
            Some(_) => return Err(PatchError::bad_request(ERR_SET_ELEMENT_ORDER)),
        };
        names.push(field.clone());
        let schema = list_schema(kind, names);
        let merge_key = match schema.smp {
            SmpListStrategy::MergeByKey(k) => Some(k),
            _ => None,
        };
        let result = (|| -> SmpResult<Option<Vec<Value>>> {
            validate_patch_with_set_order_list(
                patch_list.as_deref().unwrap_or(&[]),
                &order,
                merge_key,
            )?;
            let merged = match (&original_list, &patch_list) {
                (Some(o), None) => o.clone(),
                (None, Some(p)) => {
                    merge_slice_handler(Vec::new(), p.clone(), schema, false, kind, names)?
                }
                (Some(o), Some(p)) => {
                    merge_slice_handler(o.clone(), p.clone(), schema, false, kind, names)?
                }
                (None, None) => return Ok(None),
            };
            let server_order = original_list.clone().unwrap_or_default();
            if merged.is_empty() && server_order.is_empty() {
                return Ok(Some(merged));
            }
            let (patch_items, server_only) = partition_by_presence(merged, &order, merge_key)?;
            Ok(Some(normalize_element_order(
                patch_items,
                server_only,
                &order,
                &server_order,
                merge_key,
            )?))
        })();
        names.pop();
        if let Some(list) = result? {
            original.insert(field.clone(), Value::Array(list));
        }
        patch.remove(&field);
    }

    // The remaining keys.
    for (k, patch_value) in patch {
        let (k, is_delete_list) = if k.starts_with(DELETE_FROM_PRIMITIVE_LIST) {
            let key = extract_key(&k, DELETE_FROM_PRIMITIVE_LIST)
                .ok_or_else(|| PatchError::bad_request(ERR_PRIMITIVE_LIST))?;
            (key, true)
        } else {
            (k, false)
        };
        if patch_value.is_null() {
            original.remove(&k);
            continue;
        }
        names.push(k.clone());
        let result = smp_merge_value(
            original.remove(&k),
            patch_value,
            is_delete_list,
            kind,
            names,
        );
        names.pop();
        if let Some(v) = result? {
            original.insert(k, v);
        }
    }
    Ok(Some(original))
}

/// Merge one field's patch value into its original value (None = absent).
/// `Ok(None)` removes the field.
fn smp_merge_value(
    original: Option<Value>,
    patch: Value,
    is_delete_list: bool,
    kind: &str,
    names: &mut Vec<String>,
) -> SmpResult<Option<Value>> {
    match (original, patch) {
        // Deleting from a list that is not there: nothing to do.
        (None, _) if is_delete_list => Ok(None),
        (None, p) => smp_clean(p, kind, names),
        (Some(Value::Object(o)), Value::Object(p)) => {
            Ok(smp_merge_map(o, p, kind, names)?.map(Value::Object))
        }
        (Some(Value::Array(o)), Value::Array(p)) => {
            let schema = list_schema(kind, names);
            Ok(Some(Value::Array(merge_slice_handler(
                o,
                p,
                schema,
                is_delete_list,
                kind,
                names,
            )?)))
        }
        (Some(o), _) if is_delete_list => Ok(Some(o)),
        (Some(_), p) => smp_clean(p, kind, names),
    }
}

/// A value new to the object: directives are processed against nothing and
/// nulls dropped (the real server stores it raw, then the typed round trip
/// drops them).
fn smp_clean(v: Value, kind: &str, names: &mut Vec<String>) -> SmpResult<Option<Value>> {
    match v {
        Value::Object(m) => Ok(smp_merge_map(Map::new(), m, kind, names)?.map(Value::Object)),
        Value::Array(items) => {
            let schema = list_schema(kind, names);
            Ok(Some(Value::Array(merge_slice_handler(
                Vec::new(),
                items,
                schema,
                false,
                kind,
                names,
            )?)))
        }
        other => Ok(Some(other)),
    }
}

fn clean_items(items: Vec<Value>, kind: &str, names: &mut Vec<String>) -> SmpResult<Vec<Value>> {
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        match item {
            Value::Object(m) => {
                if let Some(m) = smp_merge_map(Map::new(), m, kind, names)? {
                    out.push(Value::Object(m));
                }
            }
            other => out.push(other),
        }
    }
    Ok(out)
}

/// `mergeSliceHandler`.
fn merge_slice_handler(
    original: Vec<Value>,
    patch: Vec<Value>,
    schema: ListSchema,
    is_delete_list: bool,
    kind: &str,
    names: &mut Vec<String>,
) -> SmpResult<Vec<Value>> {
    if is_delete_list {
        return Ok(original
            .into_iter()
            .filter(|v| !patch.contains(v))
            .collect());
    }
    match schema.smp {
        SmpListStrategy::Replace => clean_items(patch, kind, names),
        SmpListStrategy::MergeByKey(k) => merge_slice(original, patch, Some(k), kind, names),
        SmpListStrategy::MergePrimitives => merge_slice(original, patch, None, kind, names),
    }
}

/// `sliceElementType`: all items must share one type, and not be lists.
/// `Some(true)` when the items are maps, `None` when there are no items.
fn slice_element_type(lists: &[&[Value]]) -> SmpResult<Option<bool>> {
    let mut prev: Option<&'static str> = None;
    for list in lists {
        for v in *list {
            if v.is_array() {
                return Err(PatchError::invalid_generic(
                    "lists of lists are not supported",
                ));
            }
            let t = go_type_name(v);
            match prev {
                None => prev = Some(t),
                Some(p) if p != t => {
                    let all =
                        Value::Array(lists.iter().map(|l| Value::Array(l.to_vec())).collect());
                    return Err(PatchError::internal(format!(
                        "list element types are not identical: {}",
                        go_fmt(&all)
                    )));
                }
                Some(_) => {}
            }
        }
    }
    Ok(prev.map(|t| t == "map[string]interface {}"))
}

/// `mergeSlice`.
fn merge_slice(
    original: Vec<Value>,
    patch: Vec<Value>,
    merge_key: Option<&'static str>,
    kind: &str,
    names: &mut Vec<String>,
) -> SmpResult<Vec<Value>> {
    if original.is_empty() && patch.is_empty() {
        return Ok(original);
    }
    let elem = slice_element_type(&[&original, &patch])?;
    let (server_order, patch_order, merged) = if elem != Some(true) {
        let mut merged: Vec<Value> = Vec::new();
        for v in original.iter().chain(patch.iter()) {
            if !merged.contains(v) {
                merged.push(v.clone());
            }
        }
        (original, patch, merged)
    } else {
        let Some(key) = merge_key else {
            return Err(PatchError::internal(
                "cannot merge lists without merge key for type struct",
            ));
        };
        let (original, patch) =
            merge_slice_with_special_elements(original, patch, key, kind, names)?;
        let merged =
            merge_slice_without_special_elements(original.clone(), &patch, key, kind, names)?;
        (original, patch, merged)
    };
    let (patch_items, server_only) = partition_by_presence(merged, &patch_order, merge_key)?;
    normalize_element_order(
        patch_items,
        server_only,
        &patch_order,
        &server_order,
        merge_key,
    )
}

/// `mergeSliceWithSpecialElements`: apply `$patch: delete|replace` items.
fn merge_slice_with_special_elements(
    mut original: Vec<Value>,
    patch: Vec<Value>,
    key: &str,
    kind: &str,
    names: &mut Vec<String>,
) -> SmpResult<(Vec<Value>, Vec<Value>)> {
    let mut plain = Vec::new();
    let mut replace = false;
    for v in patch {
        let Some(directive) = v.get(DIRECTIVE) else {
            plain.push(v);
            continue;
        };
        match directive.as_str() {
            Some("delete") => {
                let Some(kv) = v.get(key) else {
                    return Err(err_no_merge_key(&v, key));
                };
                original.retain(|o| o.get(key) != Some(kv));
            }
            Some("replace") => replace = true,
            Some("merge") => {
                return Err(PatchError::internal(
                    "merging lists cannot yet be specified in the patch",
                ));
            }
            _ => {
                return Err(PatchError::internal(format!(
                    "unknown patch type: {} in map: {}",
                    go_fmt(directive),
                    go_fmt(&v)
                )));
            }
        }
    }
    if replace {
        return Ok((clean_items(plain, kind, names)?, Vec::new()));
    }
    Ok((original, plain))
}

/// `mergeSliceWithoutSpecialElements`: merge items by key, append new ones.
fn merge_slice_without_special_elements(
    mut original: Vec<Value>,
    patch: &[Value],
    key: &str,
    kind: &str,
    names: &mut Vec<String>,
) -> SmpResult<Vec<Value>> {
    for v in patch {
        let Some(kv) = v.get(key) else {
            return Err(err_no_merge_key(v, key));
        };
        let pm = v.as_object().cloned().unwrap_or_default();
        match original.iter().position(|o| o.get(key) == Some(kv)) {
            Some(i) => {
                let om = original[i].as_object().cloned().unwrap_or_default();
                original[i] =
                    Value::Object(smp_merge_map(om, pm, kind, names)?.unwrap_or_default());
            }
            None => {
                if let Some(m) = smp_merge_map(Map::new(), pm, kind, names)? {
                    original.push(Value::Object(m));
                }
            }
        }
    }
    Ok(original)
}

/// The merge key value of a list item, or the item itself for scalars.
fn order_value<'a>(v: &'a Value, merge_key: Option<&str>) -> Option<&'a Value> {
    match merge_key {
        Some(k) => v.get(k),
        None => Some(v),
    }
}

fn index_in(list: &[Value], v: &Value, merge_key: Option<&str>) -> Option<usize> {
    let want = order_value(v, merge_key);
    list.iter().position(|x| order_value(x, merge_key) == want)
}

/// `partitionMapsByPresentInList` / `partitionPrimitivesByPresentInList`.
fn partition_by_presence(
    items: Vec<Value>,
    by: &[Value],
    merge_key: Option<&str>,
) -> SmpResult<(Vec<Value>, Vec<Value>)> {
    let mut present = Vec::new();
    let mut absent = Vec::new();
    for v in items {
        if let Some(k) = merge_key
            && v.is_object()
            && v.get(k).is_none()
        {
            return Err(err_no_merge_key(&v, k));
        }
        if index_in(by, &v, merge_key).is_some() {
            present.push(v);
        } else {
            absent.push(v);
        }
    }
    Ok((present, absent))
}

/// `validatePatchWithSetOrderList`.
fn validate_patch_with_set_order_list(
    patch_list: &[Value],
    order: &[Value],
    merge_key: Option<&str>,
) -> SmpResult<()> {
    if order.is_empty() || patch_list.is_empty() {
        return Ok(());
    }
    let mut non_delete = Vec::new();
    for v in patch_list {
        if merge_key.is_some() {
            if !v.is_object() {
                return Err(err_bad_arg_type("map[string]interface {}", v));
            }
            if v.get(DIRECTIVE).and_then(Value::as_str) == Some("delete") {
                continue;
            }
        }
        non_delete.push(v);
    }
    let (mut pi, mut si) = (0, 0);
    while pi < non_delete.len() && si < order.len() {
        let item = non_delete[pi];
        if item.get(DIRECTIVE).is_some() {
            pi += 1;
            continue;
        }
        let equal = match merge_key {
            None => item == &order[si],
            Some(k) => {
                if !order[si].is_object() {
                    return Err(err_bad_arg_type("map[string]interface {}", &order[si]));
                }
                let l = item.get(k).ok_or_else(|| err_no_merge_key(item, k))?;
                let r = order[si]
                    .get(k)
                    .ok_or_else(|| err_no_merge_key(&order[si], k))?;
                l == r
            }
        };
        if equal {
            pi += 1;
        }
        si += 1;
    }
    if pi < non_delete.len() && si >= order.len() {
        return Err(PatchError::internal(format!(
            "The order in patch list:\n{}\n doesn't match {SET_ELEMENT_ORDER} list:\n{}\n",
            go_fmt(&Value::Array(patch_list.to_vec())),
            go_fmt(&Value::Array(order.to_vec()))
        )));
    }
    Ok(())
}

/// `normalizeSliceOrder`: stable sort by position in `order`.
fn normalize_slice_order(
    mut items: Vec<Value>,
    order: &[Value],
    merge_key: Option<&str>,
) -> SmpResult<Vec<Value>> {
    if let Some(k) = merge_key {
        for v in items.iter().chain(order.iter()) {
            if !v.is_object() {
                return Err(err_bad_arg_type("map[string]interface {}", v));
            }
            if v.get(k).is_none() {
                return Err(err_no_merge_key(v, k));
            }
        }
    }
    items.sort_by_key(|v| index_in(order, v, merge_key).unwrap_or(usize::MAX));
    Ok(items)
}

/// `normalizeElementOrder` + `mergeSortedSlice`: patch items in patch order,
/// server-only items in server order, interleaved by server order.
fn normalize_element_order(
    patch_items: Vec<Value>,
    server_only: Vec<Value>,
    patch_order: &[Value],
    server_order: &[Value],
    merge_key: Option<&str>,
) -> SmpResult<Vec<Value>> {
    let right = normalize_slice_order(patch_items, patch_order, merge_key)?;
    let left = normalize_slice_order(server_only, server_order, merge_key)?;
    let mut out = Vec::with_capacity(left.len() + right.len());
    let mut left = left.into_iter().peekable();
    let mut right = right.into_iter().peekable();
    loop {
        let take_left = match (left.peek(), right.peek()) {
            (None, None) => break,
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (Some(l), Some(r)) => matches!(
                (index_in(server_order, l, merge_key), index_in(server_order, r, merge_key)),
                (Some(li), Some(ri)) if li < ri
            ),
        };
        let next = if take_left { left.next() } else { right.next() };
        out.extend(next);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn mp(target: Value, patch: Value) -> Value {
        let mut t = target;
        merge_patch(&mut t, &patch);
        t
    }

    #[test]
    fn merge_patch_rfc7386_appendix_a() {
        let cases = [
            (json!({"a":"b"}), json!({"a":"c"}), json!({"a":"c"})),
            (json!({"a":"b"}), json!({"b":"c"}), json!({"a":"b","b":"c"})),
            (json!({"a":"b"}), json!({"a":null}), json!({})),
            (
                json!({"a":"b","b":"c"}),
                json!({"a":null}),
                json!({"b":"c"}),
            ),
            (json!({"a":["b"]}), json!({"a":"c"}), json!({"a":"c"})),
            (json!({"a":"c"}), json!({"a":["b"]}), json!({"a":["b"]})),
            (
                json!({"a":{"b":"c"}}),
                json!({"a":{"b":"d","c":null}}),
                json!({"a":{"b":"d"}}),
            ),
            (json!({"a":[{"b":"c"}]}), json!({"a":[1]}), json!({"a":[1]})),
            (json!(["a", "b"]), json!(["c", "d"]), json!(["c", "d"])),
            (json!({"a":"b"}), json!(["c"]), json!(["c"])),
            (json!({"a":"foo"}), json!(null), json!(null)),
            (json!({"a":"foo"}), json!("bar"), json!("bar")),
            (json!({"e":null}), json!({"a":1}), json!({"e":null,"a":1})),
            (json!([1, 2]), json!({"a":"b","c":null}), json!({"a":"b"})),
            (
                json!({}),
                json!({"a":{"bb":{"ccc":null}}}),
                json!({"a":{"bb":{}}}),
            ),
        ];
        for (target, patch, want) in cases {
            assert_eq!(
                mp(target.clone(), patch.clone()),
                want,
                "{target} + {patch}"
            );
        }
    }

    #[test]
    fn merge_patch_checked_rejects_non_objects() {
        let mut t = json!({"a": 1});
        let e = merge_patch_checked(&mut t, &json!(null)).unwrap_err();
        assert_eq!((e.code, e.message.as_str()), (400, "Invalid JSON Patch"));
        let e = merge_patch_checked(&mut t, &json!([1])).unwrap_err();
        assert_eq!(
            e.message,
            "error decoding patch: json: cannot unmarshal array into Go value of type map[string]interface {}"
        );
        merge_patch_checked(&mut t, &json!({"b": 2})).unwrap();
        assert_eq!(t, json!({"a": 1, "b": 2}));
    }

    fn jp(target: Value, patch: Value) -> Result<Value, String> {
        let mut t = target;
        json_patch(&mut t, &patch).map(|()| t)
    }

    #[test]
    fn json_patch_operations() {
        let doc = json!({"metadata": {"labels": {"a": "1"}}, "spec": {"list": [1, 2, 3]}});
        let out = jp(
            doc,
            json!([
                {"op": "add", "path": "/metadata/labels/b", "value": "2"},
                {"op": "add", "path": "/spec/list/1", "value": 9},
                {"op": "add", "path": "/spec/list/-", "value": 4},
                {"op": "remove", "path": "/spec/list/0"},
                {"op": "replace", "path": "/metadata/labels/a", "value": "x"},
                {"op": "copy", "from": "/metadata/labels/a", "path": "/metadata/labels/c"},
                {"op": "move", "from": "/metadata/labels/b", "path": "/spec/b"},
                {"op": "test", "path": "/spec/list", "value": [9, 2, 3, 4]},
                {"op": "add", "path": "/metadata/annotations", "value": {"a~/b": "v"}},
                {"op": "test", "path": "/metadata/annotations/a~0~1b", "value": "v"}
            ]),
        )
        .unwrap();
        assert_eq!(
            out,
            json!({
                "metadata": {"labels": {"a": "x", "c": "x"}, "annotations": {"a~/b": "v"}},
                "spec": {"list": [9, 2, 3, 4], "b": "2"}
            })
        );
        // Negative indices are accepted (SupportNegativeIndices).
        assert_eq!(
            jp(
                json!({"l": [1, 2, 3]}),
                json!([{"op": "remove", "path": "/l/-1"}])
            )
            .unwrap(),
            json!({"l": [1, 2]})
        );
    }

    #[test]
    fn json_patch_errors_have_library_texts() {
        let doc = json!({"metadata": {"name": "x"}, "spec": {"replicas": 1, "list": [1]}});
        let cases = [
            (
                json!([{"op": "test", "path": "/spec/replicas", "value": 2}]),
                "testing value /spec/replicas failed: test failed",
            ),
            (
                json!([{"op": "remove", "path": "/metadata/labels"}]),
                "error in remove for path: '/metadata/labels': unable to remove nonexistent key: labels: missing value",
            ),
            (
                json!([{"op": "replace", "path": "/spec/foo", "value": 1}]),
                "replace operation does not apply: doc is missing key: /spec/foo: missing value",
            ),
            (
                json!([{"op": "add", "path": "/status/x", "value": 1}]),
                "add operation does not apply: doc is missing path: \"/status/x\": missing value",
            ),
            (
                json!([{"op": "add", "path": "/spec/list/5", "value": 1}]),
                "error in add for path: '/spec/list/5': Unable to access invalid index: 5: invalid index referenced",
            ),
            (
                json!([{"op": "add", "path": "/spec/list/x", "value": 1}]),
                "error in add for path: '/spec/list/x': value was not a proper array index: 'x': strconv.Atoi: parsing \"x\": invalid syntax",
            ),
            (
                json!([{"op": "move", "from": "/spec/nope", "path": "/spec/x"}]),
                "error in move for path: 'nope': unable to get nonexistent key: nope: missing value",
            ),
            (
                json!([{"op": "copy", "from": "/nope/a", "path": "/spec/x"}]),
                "copy operation does not apply: doc is missing from path: /nope/a: missing value",
            ),
            (
                json!([{"op": "frobnicate", "path": "/a"}]),
                "Unexpected kind: frobnicate",
            ),
            (
                json!([{"op": "replace", "value": 1}]),
                "replace operation failed to decode path: operation missing path field: missing value",
            ),
        ];
        for (patch, want) in cases {
            let mut t = doc.clone();
            let err = json_patch_checked(&mut t, &patch).unwrap_err();
            assert_eq!(err.detail, want, "{patch}");
            assert_eq!((err.code, err.reason), (422, "Invalid"));
            assert_eq!(
                err.message,
                "the server rejected our request due to an error in our request"
            );
            assert_eq!(t, doc, "target untouched on error");
        }
        // A failing test after a successful op leaves the target unchanged.
        let mut t = doc.clone();
        let e = json_patch(
            &mut t,
            &json!([
                {"op": "replace", "path": "/spec/replicas", "value": 5},
                {"op": "test", "path": "/metadata/name", "value": "y"}
            ]),
        )
        .unwrap_err();
        assert_eq!(e, "testing value /metadata/name failed: test failed");
        assert_eq!(t, doc);
        // test of an absent key against null passes.
        jp(
            doc.clone(),
            json!([{"op": "test", "path": "/spec/none", "value": null}]),
        )
        .unwrap();
    }

    #[test]
    fn json_patch_decode_errors_are_bad_requests() {
        let mut t = json!({});
        let e = json_patch_checked(&mut t, &json!({"op": "add"})).unwrap_err();
        assert_eq!(e.code, 400);
        assert_eq!(
            e.message,
            "error decoding patch: json: cannot unmarshal object into Go value of type []handlers.jsonPatchOp"
        );
        let e = json_patch_checked(&mut t, &json!([{"op": "add", "path": 5}])).unwrap_err();
        assert_eq!(
            e.message,
            "error decoding patch: json: cannot unmarshal number into Go struct field jsonPatchOp.path of type string"
        );
    }

    fn deployment() -> Value {
        json!({
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {
                "name": "web",
                "labels": {"app": "web", "tier": "front"},
                "finalizers": ["a", "b"]
            },
            "spec": {
                "replicas": 2,
                "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1}},
                "template": {"spec": {
                    "containers": [
                        {"name": "web", "image": "nginx:1.25",
                         "env": [{"name": "A", "value": "1"}],
                         "ports": [{"containerPort": 80}]},
                        {"name": "sidecar", "image": "envoy:1"}
                    ],
                    "tolerations": [{"key": "a", "operator": "Exists"}]
                }}
            }
        })
    }

    fn smp(target: Value, patch: Value) -> Result<Value, String> {
        let mut t = target;
        strategic_merge_patch(&mut t, &patch).map(|()| t)
    }

    #[test]
    fn smp_merges_containers_by_name() {
        let out = smp(
            deployment(),
            json!({
                "metadata": {"labels": {"tier": null}},
                "spec": {"template": {"spec": {
                    "$setElementOrder/containers": [{"name": "web"}, {"name": "sidecar"}],
                    "containers": [{
                        "name": "sidecar",
                        "image": "envoy:2",
                        "env": [{"name": "B", "value": "2"}]
                    }]
                }}}
            }),
        )
        .unwrap();
        let containers = &out["spec"]["template"]["spec"]["containers"];
        assert_eq!(containers[0]["name"], "web");
        assert_eq!(containers[0]["image"], "nginx:1.25");
        assert_eq!(containers[1]["image"], "envoy:2");
        assert_eq!(containers[1]["env"], json!([{"name": "B", "value": "2"}]));
        assert_eq!(out["metadata"]["labels"], json!({"app": "web"}));
        assert!(!out.to_string().contains('$'), "directives stripped: {out}");

        // add an env var to the first container: merged by name into its env list
        let out = smp(
            deployment(),
            json!({"spec": {"template": {"spec": {"containers": [
                {"name": "web", "env": [{"name": "C", "value": "3"}]}
            ]}}}}),
        )
        .unwrap();
        let env = &out["spec"]["template"]["spec"]["containers"][0]["env"];
        let names: Vec<&str> = env
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["name"].as_str().unwrap())
            .collect();
        assert_eq!(names.len(), 2);
        assert!(names.contains(&"A") && names.contains(&"C"));
    }

    #[test]
    fn smp_directives() {
        // $patch: delete of a list item by merge key
        let out = smp(
            deployment(),
            json!({"spec": {"template": {"spec": {"containers": [
                {"name": "sidecar", "$patch": "delete"}
            ]}}}}),
        )
        .unwrap();
        let containers = out["spec"]["template"]["spec"]["containers"]
            .as_array()
            .unwrap();
        assert_eq!(containers.len(), 1);
        assert_eq!(containers[0]["name"], "web");

        // $patch: replace on a map
        let out = smp(
            deployment(),
            json!({"metadata": {"labels": {"$patch": "replace", "only": "this"}}}),
        )
        .unwrap();
        assert_eq!(out["metadata"]["labels"], json!({"only": "this"}));

        // $patch: replace as a list element replaces the list
        let out = smp(
            deployment(),
            json!({"spec": {"template": {"spec": {"containers": [
                {"$patch": "replace"}, {"name": "solo", "image": "busybox"}
            ]}}}}),
        )
        .unwrap();
        assert_eq!(
            out["spec"]["template"]["spec"]["containers"],
            json!([{"name": "solo", "image": "busybox"}])
        );

        // $patch: delete on a map removes it
        let out = smp(
            deployment(),
            json!({"metadata": {"labels": {"$patch": "delete"}}}),
        )
        .unwrap();
        assert!(out["metadata"].get("labels").is_none());

        // $retainKeys clears the keys not listed
        let out = smp(
            deployment(),
            json!({"spec": {"strategy": {"$retainKeys": ["type"], "type": "Recreate"}}}),
        )
        .unwrap();
        assert_eq!(out["spec"]["strategy"], json!({"type": "Recreate"}));
        let err = smp(
            deployment(),
            json!({"spec": {"strategy": {"$retainKeys": ["type"], "rollingUpdate": {}}}}),
        )
        .unwrap_err();
        assert_eq!(err, "invalid patch format of retainKeys");

        // finalizers: primitive merge list, $deleteFromPrimitiveList
        let out = smp(
            deployment(),
            json!({"metadata": {"finalizers": ["c"], "$deleteFromPrimitiveList/finalizers": ["a"]}}),
        )
        .unwrap();
        assert_eq!(out["metadata"]["finalizers"], json!(["c", "b"]));

        // $patch: merge is rejected like the real server does (500)
        let mut t = deployment();
        let e = strategic_merge_patch_checked(&mut t, &json!({"spec": {"$patch": "merge"}}))
            .unwrap_err();
        assert_eq!(e.code, 500);
        assert!(
            e.message
                .starts_with("unknown patch type: merge in map: map[$patch:merge]")
        );
        assert_eq!(t, deployment());

        // missing merge key
        let e = smp(
            deployment(),
            json!({"spec": {"template": {"spec": {"containers": [{"image": "x"}]}}}}),
        )
        .unwrap_err();
        assert_eq!(
            e,
            "map: map[image:x] does not contain declared merge key: name"
        );
    }

    #[test]
    fn smp_lists_without_merge_key_are_replaced() {
        let out = smp(
            deployment(),
            json!({"spec": {"template": {"spec": {"tolerations": [{"key": "b", "operator": "Exists"}]}}}}),
        )
        .unwrap();
        assert_eq!(
            out["spec"]["template"]["spec"]["tolerations"],
            json!([{"key": "b", "operator": "Exists"}])
        );
        let role = json!({"kind": "Role", "rules": [{"verbs": ["get"]}]});
        let out = smp(role, json!({"rules": [{"verbs": ["list"]}]})).unwrap();
        assert_eq!(out["rules"], json!([{"verbs": ["list"]}]));
    }

    #[test]
    fn smp_element_order() {
        let base = json!({"kind": "Pod", "spec": {"containers": [
            {"name": "a"}, {"name": "b"}, {"name": "c"}
        ]}});
        // new item without $setElementOrder: patch items before server-only ones
        let out = smp(
            base.clone(),
            json!({"spec": {"containers": [{"name": "d"}]}}),
        )
        .unwrap();
        let order: Vec<&str> = out["spec"]["containers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap())
            .collect();
        assert_eq!(order, ["d", "a", "b", "c"]);
        // with $setElementOrder the requested order wins
        let out = smp(
            base,
            json!({"spec": {
                "$setElementOrder/containers": [{"name": "c"}, {"name": "a"}, {"name": "d"}, {"name": "b"}],
                "containers": [{"name": "d", "image": "x"}]
            }}),
        )
        .unwrap();
        let order: Vec<&str> = out["spec"]["containers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap())
            .collect();
        assert_eq!(order, ["c", "a", "d", "b"]);
    }

    #[test]
    fn smp_service_ports_merge_by_port() {
        let svc = json!({"kind": "Service", "spec": {"ports": [
            {"port": 80, "targetPort": 8080}, {"port": 443, "targetPort": 8443}
        ]}});
        let out = smp(
            svc,
            json!({"spec": {"ports": [{"port": 80, "targetPort": 9090}]}}),
        )
        .unwrap();
        let ports = out["spec"]["ports"].as_array().unwrap();
        assert_eq!(ports.len(), 2);
        assert!(ports.contains(&json!({"port": 80, "targetPort": 9090})));
    }

    #[test]
    fn list_schema_table() {
        let n = |p: &[&str]| p.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            list_schema(
                "Deployment",
                &n(&["spec", "template", "spec", "containers"])
            )
            .smp,
            SmpListStrategy::MergeByKey("name")
        );
        assert_eq!(
            list_schema("Pod", &n(&["spec", "containers", "ports"])).smp,
            SmpListStrategy::MergeByKey("containerPort")
        );
        assert_eq!(
            list_schema("Pod", &n(&["spec", "tolerations"])).ssa,
            SsaListType::Atomic
        );
        assert_eq!(
            list_schema("RoleBinding", &n(&["subjects"])).smp,
            SmpListStrategy::Replace
        );
        assert_eq!(
            list_schema("ServiceAccount", &n(&["imagePullSecrets"])).smp,
            SmpListStrategy::Replace
        );
        assert_eq!(
            list_schema("Pod", &n(&["metadata", "finalizers"])).ssa,
            SsaListType::Set
        );
    }
}
