//! Protobuf request bodies (`application/vnd.kubernetes.protobuf`), decoded into the JSON the
//! rest of the sandbox handles, so one code path serves both encodings.
//!
//! The envelope is the magic `k8s\0` and a `runtime.Unknown` whose `raw` is the object
//! (apimachinery `runtime/serializer/protobuf/protobuf.go`). The objects' wire layout comes from
//! `protobuf_schema.txt`, generated from the Kubernetes 1.37 sources by `proto/gen_schema.py`:
//! field numbers and types from `generated.proto`, JSON names, `omitempty` and pointer fields
//! from `types.go`. The generated Go marshallers always write non-pointer fields, zero or not,
//! so zero `omitempty` scalars are dropped here, as the real server's JSON encoding drops them.

use std::collections::HashMap;
use std::sync::OnceLock;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::{Map, Value, json};

pub const MEDIA_TYPE: &str = "application/vnd.kubernetes.protobuf";
const MAGIC: &[u8] = b"k8s\0";
const META: &str = "k8s.io.apimachinery.pkg.apis.meta.v1";

/// Why a protobuf body could not be read.
#[derive(Debug, PartialEq)]
pub enum DecodeError {
    /// The bytes are not a Kubernetes protobuf message (400 in the real server).
    Malformed(String),
    /// The envelope names a kind whose bytes do not decode.
    BadObject {
        version: String,
        kind: String,
        why: String,
    },
    /// The kind has no protobuf form here: custom resources, or a kind outside the schema (415).
    NoProtobufForm,
}

#[derive(Debug)]
struct Message {
    slice: bool,
    fields: HashMap<u32, Field>,
}

#[derive(Debug)]
struct Field {
    json: String,
    label: Label,
    ty: String,
    omitempty: bool,
    pointer: bool,
}

#[derive(Debug, PartialEq)]
enum Label {
    Optional,
    Repeated,
    Map,
}

fn schema() -> &'static HashMap<String, Message> {
    static SCHEMA: OnceLock<HashMap<String, Message>> = OnceLock::new();
    SCHEMA.get_or_init(|| parse_schema(include_str!("protobuf_schema.txt")))
}

fn parse_schema(text: &str) -> HashMap<String, Message> {
    let mut out = HashMap::new();
    let mut current: Option<(String, Message)> = None;
    for line in text.lines() {
        let parts: Vec<&str> = line.split(' ').collect();
        match parts.as_slice() {
            ["M", name, shape] => {
                if let Some((n, m)) = current.take() {
                    out.insert(n, m);
                }
                current = Some((
                    name.to_string(),
                    Message {
                        slice: *shape == "slice",
                        fields: HashMap::new(),
                    },
                ));
            }
            ["F", number, json, label, ty, flags] => {
                let (Some((_, m)), Ok(number)) = (current.as_mut(), number.parse()) else {
                    continue;
                };
                let label = match *label {
                    "repeated" => Label::Repeated,
                    "map" => Label::Map,
                    _ => Label::Optional,
                };
                m.fields.insert(
                    number,
                    Field {
                        json: json.to_string(),
                        label,
                        ty: ty.to_string(),
                        omitempty: flags.contains('o'),
                        pointer: flags.contains('p'),
                    },
                );
            }
            _ => {}
        }
    }
    if let Some((n, m)) = current {
        out.insert(n, m);
    }
    out
}

/// The protobuf message of a kind, from its apiVersion.
fn message_name(api_version: &str, kind: &str) -> Option<String> {
    if kind == "DeleteOptions" {
        return Some(format!("{META}.DeleteOptions"));
    }
    let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
    let package = match group {
        "" => "k8s.io.api.core",
        "apps" => "k8s.io.api.apps",
        "rbac.authorization.k8s.io" => "k8s.io.api.rbac",
        "authentication.k8s.io" => "k8s.io.api.authentication",
        "authorization.k8s.io" => "k8s.io.api.authorization",
        "batch" => "k8s.io.api.batch",
        "networking.k8s.io" => "k8s.io.api.networking",
        "policy" => "k8s.io.api.policy",
        "autoscaling" => "k8s.io.api.autoscaling",
        "admissionregistration.k8s.io" => "k8s.io.api.admissionregistration",
        "certificates.k8s.io" => "k8s.io.api.certificates",
        "meta.k8s.io" => return Some(format!("{META}.{kind}")),
        _ => return None,
    };
    let name = format!("{package}.{version}.{kind}");
    schema().contains_key(&name).then_some(name)
}

/// Decodes an enveloped body into the object's JSON, `apiVersion` and `kind` included.
pub fn decode(body: &[u8]) -> Result<Value, DecodeError> {
    let Some(unknown) = body.strip_prefix(MAGIC) else {
        return Err(DecodeError::Malformed(
            "provided data does not appear to be a protobuf message, expected prefix [107 56 115 0]"
                .into(),
        ));
    };
    // TypeMeta is inlined into the envelope's JSON form; `raw` is its "-" field.
    let envelope = decode_message("k8s.io.apimachinery.pkg.runtime.Unknown", unknown)?;
    let api_version = envelope["apiVersion"].as_str().unwrap_or("");
    let kind = envelope["kind"].as_str().unwrap_or("");
    let raw = match envelope["-"].as_str() {
        Some(b64) => B64
            .decode(b64)
            .map_err(|e| DecodeError::Malformed(e.to_string()))?,
        None => Vec::new(),
    };
    let name = message_name(api_version, kind).ok_or(DecodeError::NoProtobufForm)?;
    let mut obj = decode_message(&name, &raw).map_err(|e| match e {
        DecodeError::Malformed(why) => DecodeError::BadObject {
            version: api_version.rsplit('/').next().unwrap_or("").to_string(),
            kind: kind.to_string(),
            why,
        },
        other => other,
    })?;
    if let Value::Object(map) = &mut obj {
        map.insert("apiVersion".into(), json!(api_version));
        map.insert("kind".into(), json!(kind));
    }
    Ok(obj)
}

struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn done(&self) -> bool {
        self.pos >= self.buf.len()
    }

    fn varint(&mut self) -> Result<u64, DecodeError> {
        let mut out = 0u64;
        for shift in (0..64).step_by(7) {
            let b = *self.buf.get(self.pos).ok_or_else(truncated)?;
            self.pos += 1;
            out |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(out);
            }
        }
        Err(DecodeError::Malformed("proto: integer overflow".into()))
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        let end = self.pos.checked_add(n).ok_or_else(truncated)?;
        let s = self.buf.get(self.pos..end).ok_or_else(truncated)?;
        self.pos = end;
        Ok(s)
    }

    fn bytes(&mut self) -> Result<&'a [u8], DecodeError> {
        let n = usize::try_from(self.varint()?).map_err(|_| truncated())?;
        self.take(n)
    }

    fn skip(&mut self, wire: u64) -> Result<(), DecodeError> {
        match wire {
            0 => self.varint().map(drop),
            1 => self.take(8).map(drop),
            2 => self.bytes().map(drop),
            5 => self.take(4).map(drop),
            other => Err(DecodeError::Malformed(format!(
                "proto: illegal wireType {other}"
            ))),
        }
    }
}

fn truncated() -> DecodeError {
    DecodeError::Malformed("unexpected EOF".into())
}

fn decode_message(name: &str, buf: &[u8]) -> Result<Value, DecodeError> {
    if let Some(v) = special(name, buf)? {
        return Ok(v);
    }
    let message = schema().get(name).ok_or(DecodeError::NoProtobufForm)?;
    let mut out = Map::new();
    let mut r = Reader { buf, pos: 0 };
    while !r.done() {
        let tag = r.varint()?;
        let (number, wire) = ((tag >> 3) as u32, tag & 7);
        // Fields this version does not know are skipped, as the generated unmarshallers do.
        let Some(field) = message.fields.get(&number) else {
            r.skip(wire)?;
            continue;
        };
        match field.label {
            Label::Map => {
                let entry = r.bytes()?;
                let (k, v) = map_entry(field, entry)?;
                let slot = out.entry(field.json.clone()).or_insert_with(|| json!({}));
                slot[k] = v;
            }
            Label::Repeated => {
                let slot = out.entry(field.json.clone()).or_insert_with(|| json!([]));
                let items = slot.as_array_mut().expect("array");
                if wire == 2 && is_numeric(&field.ty) {
                    let packed = r.bytes()?;
                    let mut p = Reader {
                        buf: packed,
                        pos: 0,
                    };
                    while !p.done() {
                        items.push(scalar(&field.ty, 0, &mut p)?);
                    }
                } else {
                    items.push(value(&field.ty, wire, &mut r)?);
                }
            }
            Label::Optional => {
                let v = value(&field.ty, wire, &mut r)?;
                out.insert(field.json.clone(), v);
            }
        }
    }
    if message.slice {
        return Ok(out.remove("items").unwrap_or_else(|| json!([])));
    }
    for field in message.fields.values() {
        let drop_zero = field.omitempty && !field.pointer && field.label == Label::Optional;
        if drop_zero && out.get(&field.json).is_some_and(is_zero_scalar) {
            out.remove(&field.json);
        }
    }
    // Go's `json:",inline"` fields: the nested struct's fields sit in the parent.
    if let Some(Value::Object(inline)) = out.remove(".") {
        for (k, v) in inline {
            out.entry(k).or_insert(v);
        }
    }
    Ok(Value::Object(out))
}

fn is_zero_scalar(v: &Value) -> bool {
    match v {
        Value::String(s) => s.is_empty(),
        Value::Number(n) => n.as_f64() == Some(0.0),
        Value::Bool(b) => !b,
        _ => false,
    }
}

fn is_numeric(ty: &str) -> bool {
    matches!(
        ty,
        "int32" | "int64" | "uint32" | "uint64" | "bool" | "double" | "float"
    )
}

fn value(ty: &str, wire: u64, r: &mut Reader) -> Result<Value, DecodeError> {
    if is_numeric(ty) || ty == "string" || ty == "bytes" {
        return scalar(ty, wire, r);
    }
    let inner = r.bytes()?;
    decode_message(ty, inner)
}

fn scalar(ty: &str, wire: u64, r: &mut Reader) -> Result<Value, DecodeError> {
    Ok(match ty {
        "string" => {
            let b = r.bytes()?;
            let s = std::str::from_utf8(b)
                .map_err(|_| DecodeError::Malformed("proto: invalid UTF-8 string".into()))?;
            json!(s)
        }
        "bytes" => json!(B64.encode(r.bytes()?)),
        "bool" => json!(r.varint()? != 0),
        "int32" => json!(r.varint()? as i32),
        "int64" => json!(r.varint()? as i64),
        "uint32" | "uint64" => json!(r.varint()?),
        "double" if wire == 1 => {
            let b: [u8; 8] = r.take(8)?.try_into().expect("8 bytes");
            json!(f64::from_le_bytes(b))
        }
        "float" if wire == 5 => {
            let b: [u8; 4] = r.take(4)?.try_into().expect("4 bytes");
            json!(f32::from_le_bytes(b))
        }
        other => {
            return Err(DecodeError::Malformed(format!(
                "proto: wrong wireType {wire} for field of type {other}"
            )));
        }
    })
}

fn map_entry(field: &Field, entry: &[u8]) -> Result<(String, Value), DecodeError> {
    let mut r = Reader { buf: entry, pos: 0 };
    let (mut key, mut val) = (String::new(), None);
    while !r.done() {
        let tag = r.varint()?;
        match (tag >> 3, tag & 7) {
            (1, _) => {
                key = scalar("string", 2, &mut r)?
                    .as_str()
                    .unwrap_or("")
                    .to_string()
            }
            (2, wire) => val = Some(value(&field.ty, wire, &mut r)?),
            (_, wire) => r.skip(wire)?,
        }
    }
    let val = match val {
        Some(v) => v,
        None if field.ty == "string" => json!(""),
        None if field.ty == "bytes" => json!(""),
        None => decode_message(&field.ty, &[])?,
    };
    Ok((key, val))
}

/// Types whose JSON form is not their wire form: times, durations, int-or-string,
/// quantities and embedded raw JSON.
fn special(name: &str, buf: &[u8]) -> Result<Option<Value>, DecodeError> {
    let ints = |buf: &[u8]| -> Result<HashMap<u64, Value>, DecodeError> {
        let mut r = Reader { buf, pos: 0 };
        let mut out = HashMap::new();
        while !r.done() {
            let tag = r.varint()?;
            let v = match tag & 7 {
                0 => json!(r.varint()? as i64),
                2 => Value::String(String::from_utf8_lossy(r.bytes()?).into_owned()),
                wire => {
                    r.skip(wire)?;
                    continue;
                }
            };
            out.insert(tag >> 3, v);
        }
        Ok(out)
    };
    let int = |m: &HashMap<u64, Value>, k| m.get(&k).and_then(Value::as_i64).unwrap_or(0);
    let text =
        |m: &HashMap<u64, Value>, k| m.get(&k).and_then(Value::as_str).unwrap_or("").to_string();
    let time = |micro: bool| -> Result<Value, DecodeError> {
        let m = ints(buf)?;
        let (secs, nanos) = (int(&m, 1), int(&m, 2));
        if secs == 0 && nanos == 0 {
            return Ok(Value::Null);
        }
        let ts = jiff::Timestamp::new(secs, if micro { nanos as i32 } else { 0 })
            .map_err(|e| DecodeError::Malformed(e.to_string()))?;
        let format = if micro {
            "%Y-%m-%dT%H:%M:%S%.6fZ"
        } else {
            "%Y-%m-%dT%H:%M:%SZ"
        };
        Ok(json!(ts.strftime(format).to_string()))
    };
    let raw_json = || -> Result<Value, DecodeError> {
        let m = ints(buf)?;
        let raw = text(&m, 1);
        if raw.is_empty() {
            return Ok(Value::Null);
        }
        serde_json::from_str(&raw).map_err(|e| DecodeError::Malformed(e.to_string()))
    };
    let v = match name.rsplit_once('.').map(|(_, n)| n).unwrap_or(name) {
        _ if !name.starts_with("k8s.io.apimachinery.") => return Ok(None),
        "Time" => time(false)?,
        "MicroTime" => time(true)?,
        "Duration" => json!(go_duration(int(&ints(buf)?, 1))),
        "IntOrString" => {
            let m = ints(buf)?;
            if int(&m, 1) == 1 {
                json!(text(&m, 3))
            } else {
                json!(int(&m, 2))
            }
        }
        "Quantity" => json!(text(&ints(buf)?, 1)),
        "RawExtension" | "FieldsV1" => raw_json()?,
        _ => return Ok(None),
    };
    Ok(Some(v))
}

/// Go's `time.Duration.String()` for the whole seconds clients send.
fn go_duration(nanos: i64) -> String {
    if nanos == 0 {
        return "0s".into();
    }
    let secs = nanos / 1_000_000_000;
    let (h, m, s) = (secs / 3600, (secs % 3600) / 60, secs % 60);
    match (h, m) {
        (0, 0) => format!("{s}s"),
        (0, _) => format!("{m}m{s}s"),
        _ => format!("{h}h{m}m{s}s"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn varint(mut v: u64, out: &mut Vec<u8>) {
        loop {
            let b = (v & 0x7f) as u8;
            v >>= 7;
            if v == 0 {
                out.push(b);
                return;
            }
            out.push(b | 0x80);
        }
    }

    fn field(number: u64, payload: &[u8], out: &mut Vec<u8>) {
        varint(number << 3 | 2, out);
        varint(payload.len() as u64, out);
        out.extend_from_slice(payload);
    }

    fn envelope(api_version: &str, kind: &str, raw: &[u8]) -> Vec<u8> {
        let mut type_meta = Vec::new();
        field(1, api_version.as_bytes(), &mut type_meta);
        field(2, kind.as_bytes(), &mut type_meta);
        let mut unknown = Vec::new();
        field(1, &type_meta, &mut unknown);
        field(2, raw, &mut unknown);
        field(3, b"", &mut unknown);
        field(4, b"", &mut unknown);
        let mut out = MAGIC.to_vec();
        out.extend(unknown);
        out
    }

    #[test]
    fn a_config_map_decodes_to_its_json() {
        let mut label = Vec::new();
        field(1, b"app", &mut label);
        field(2, b"web", &mut label);
        let mut meta = Vec::new();
        field(1, b"settings", &mut meta);
        field(2, b"", &mut meta);
        varint(7 << 3, &mut meta);
        varint(0, &mut meta);
        field(8, b"", &mut meta);
        field(11, &label, &mut meta);
        let mut data = Vec::new();
        field(1, b"k", &mut data);
        field(2, b"v", &mut data);
        let mut cm = Vec::new();
        field(1, &meta, &mut cm);
        field(2, &data, &mut cm);
        let obj = decode(&envelope("v1", "ConfigMap", &cm)).unwrap();
        assert_eq!(
            obj,
            json!({"apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": "settings", "creationTimestamp": null, "labels": {"app": "web"}},
                "data": {"k": "v"}})
        );
    }

    #[test]
    fn slices_int_or_strings_and_bad_input() {
        let mut extra = Vec::new();
        field(1, b"a", &mut extra);
        field(1, b"b", &mut extra);
        let mut entry = Vec::new();
        field(1, b"scopes", &mut entry);
        field(2, &extra, &mut entry);
        let mut user = Vec::new();
        field(1, b"alice", &mut user);
        field(4, &entry, &mut user);
        let v = decode_message("k8s.io.api.authentication.v1.UserInfo", &user).unwrap();
        assert_eq!(
            v,
            json!({"username": "alice", "extra": {"scopes": ["a", "b"]}})
        );

        let mut port = Vec::new();
        varint(1 << 3, &mut port);
        varint(1, &mut port);
        field(3, b"http", &mut port);
        let v = decode_message("k8s.io.apimachinery.pkg.util.intstr.IntOrString", &port);
        assert_eq!(v.unwrap(), json!("http"));

        assert!(matches!(decode(b"{}"), Err(DecodeError::Malformed(_))));
        assert_eq!(
            decode(&envelope("example.com/v1", "Widget", b"")),
            Err(DecodeError::NoProtobufForm)
        );
        let cut = envelope("v1", "ConfigMap", &[0x0a, 0x05, b'a']);
        assert_eq!(
            decode(&cut),
            Err(DecodeError::BadObject {
                version: "v1".into(),
                kind: "ConfigMap".into(),
                why: "unexpected EOF".into()
            })
        );
    }
}
