//! Lists in pages, as the real server pages them (apiserver `storage/continue.go`,
//! `storage/interfaces.go` ValidateListOptions, `storage/etcd3/store.go` GetList): `limit`
//! items in key order, an opaque `continue` token naming the list's resourceVersion and the
//! key to resume after, and `remainingItemCount` when no selector filters the list.
//!
//! A token keeps its list consistent: the first page of a paged list keeps a copy of the
//! type's objects at that resourceVersion, which later pages read when the type has changed
//! since. Only the last [`KEPT_SNAPSHOTS`] copies are kept; a token whose copy is gone and
//! whose type changed is answered as an etcd compaction is: 410 Expired, with a token that
//! continues at the latest state.

use std::collections::VecDeque;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::registry::ResourceType;
use crate::state::State;
use crate::status::ApiError;
use crate::store::{FieldSelector, LabelSelector, TypeKey, meta_str, type_key};

/// How many list copies paged lists keep for their continue tokens.
pub const KEPT_SNAPSHOTS: usize = 16;

const TOKEN_VERSION: &str = "meta.k8s.io/v1";

const INCONSISTENT_CONTINUE: &str = "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.";

/// A type's objects as they were at a resourceVersion.
struct Snapshot {
    key: TypeKey,
    rv: u64,
    objects: Vec<Value>,
}

#[derive(Default)]
pub struct Snapshots(VecDeque<Snapshot>);

/// What a list request asks for.
pub struct ListRequest<'a> {
    /// `None`: across namespaces (or a cluster-scoped type).
    pub namespace: Option<&'a str>,
    pub label_selector: Option<&'a str>,
    pub field_selector: Option<&'a str>,
    pub limit: Option<&'a str>,
    pub continue_token: Option<&'a str>,
    pub resource_version: Option<&'a str>,
}

/// A list's `metadata`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ListMeta {
    pub resource_version: u64,
    pub continue_token: Option<String>,
    pub remaining_item_count: Option<i64>,
}

impl ListMeta {
    pub fn at(resource_version: u64) -> Self {
        ListMeta {
            resource_version,
            ..Default::default()
        }
    }

    pub fn to_json(&self) -> Value {
        let mut m = json!({"resourceVersion": self.resource_version.to_string()});
        if let Some(c) = &self.continue_token {
            m["continue"] = json!(c);
        }
        if let Some(n) = self.remaining_item_count {
            m["remainingItemCount"] = json!(n);
        }
        m
    }
}

#[derive(Serialize, Deserialize)]
struct Token {
    v: String,
    rv: i64,
    start: String,
}

fn encode(start: &str, rv: i64) -> String {
    let token = Token {
        v: TOKEN_VERSION.into(),
        rv,
        start: start.into(),
    };
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(&token).expect("token serializes"))
}

/// `(start key, resourceVersion)`; errors in the words of `storage.DecodeContinue`.
fn decode(token: &str) -> Result<(String, i64), String> {
    const INVALID: &str = "continue key is not valid";
    let bytes = URL_SAFE_NO_PAD
        .decode(token.trim_end_matches('='))
        .map_err(|e| match e {
            base64::DecodeError::InvalidByte(at, _)
            | base64::DecodeError::InvalidLastSymbol(at, _) => {
                format!("{INVALID}: illegal base64 data at input byte {at}")
            }
            _ => format!(
                "{INVALID}: illegal base64 data at input byte {}",
                token.len()
            ),
        })?;
    let t: Token = serde_json::from_slice(&bytes).map_err(|e| format!("{INVALID}: {e}"))?;
    if t.v != TOKEN_VERSION {
        return Err(format!(
            "{INVALID}: server does not recognize this encoded version {}",
            t.v
        ));
    }
    if t.rv == 0 {
        return Err(format!(
            "{INVALID}: incorrect encoded start resourceVersion (version meta.k8s.io/v1)"
        ));
    }
    if t.start.is_empty() {
        return Err(format!(
            "{INVALID}: encoded start key empty (version meta.k8s.io/v1)"
        ));
    }
    let key = t.start.strip_prefix('/').unwrap_or(&t.start);
    let unclean = key.is_empty()
        || key.ends_with('/')
        || key
            .split('/')
            .any(|p| p.is_empty() || p == "." || p == "..");
    if unclean {
        return Err(format!("{INVALID}: {}", t.start));
    }
    Ok((key.to_string(), t.rv))
}

/// An object's storage key below the list's prefix: `ns/name` across namespaces, else `name`.
fn relative_key(obj: &Value, across_namespaces: bool) -> String {
    let name = meta_str(obj, "name");
    let ns = meta_str(obj, "namespace");
    if across_namespaces && !ns.is_empty() {
        format!("{ns}/{name}")
    } else {
        name.to_string()
    }
}

enum Source {
    Current,
    Snapshot(usize),
}

/// One page of a list (all of it without `limit`), with its metadata.
pub fn list<'s>(
    st: &'s mut State,
    t: &ResourceType,
    req: &ListRequest,
) -> Result<(Vec<&'s Value>, ListMeta), ApiError> {
    let labels =
        LabelSelector::parse(req.label_selector.unwrap_or("")).map_err(ApiError::bad_request)?;
    let extra_fields: &[&str] = if t.group.is_empty() && t.resource == "secrets" {
        &["type"]
    } else {
        &[]
    };
    let fields = FieldSelector::parse(req.field_selector.unwrap_or(""), extra_fields)
        .map_err(ApiError::bad_request)?;
    let limit = req
        .limit
        .and_then(|l| l.parse::<i64>().ok())
        .filter(|l| *l > 0);
    let key = type_key(&t.group, &t.resource);
    let current_rv = st.store.resource_version();

    let (start, rv, source) = match req.continue_token.filter(|c| !c.is_empty()) {
        None => (None, current_rv, Source::Current),
        Some(token) => {
            if req
                .resource_version
                .is_some_and(|v| !v.is_empty() && v != "0")
            {
                return Err(ApiError::bad_request(
                    "specifying resource version is not allowed when using continue",
                ));
            }
            let (start, token_rv) = decode(token)
                .map_err(|e| ApiError::bad_request(format!("invalid continue token: {e}")))?;
            let snapshot = st
                .list_snapshots
                .0
                .iter()
                .position(|s| s.key == key && i64::try_from(s.rv) == Ok(token_rv));
            match (token_rv, snapshot) {
                (rv, _) if rv < 0 => (Some(start), current_rv, Source::Current),
                (rv, _) if st.store.type_version(&key) <= rv as u64 => {
                    (Some(start), rv as u64, Source::Current)
                }
                (rv, Some(i)) => (Some(start), rv as u64, Source::Snapshot(i)),
                (_, None) => {
                    let mut e = ApiError::new(410, "Expired", INCONSISTENT_CONTINUE, None);
                    e.body["metadata"] = json!({"continue": encode(&start, -1)});
                    return Err(e);
                }
            }
        }
    };
    let across = req.namespace.is_none() && t.namespaced;

    // Positions of the page's items among `objects`, chosen on a short borrow so that the
    // snapshot below can be stored before the items are handed out.
    let page = |objects: &[&Value]| {
        let mut keyed: Vec<(String, usize)> = objects
            .iter()
            .enumerate()
            .filter(|(_, o)| {
                req.namespace
                    .is_none_or(|ns| meta_str(o, "namespace") == ns)
            })
            .map(|(i, o)| (relative_key(o, across), i))
            .filter(|(k, _)| start.as_ref().is_none_or(|s| k.as_str() >= s.as_str()))
            .collect();
        keyed.sort();
        let in_range = keyed.len() as i64;
        let mut chosen = Vec::new();
        let mut last = String::new();
        let mut rest = keyed.into_iter();
        for (k, i) in rest.by_ref() {
            let o = objects[i];
            if labels.matches(&o["metadata"]["labels"]) && fields.matches(o) {
                chosen.push(i);
                last = k;
                if limit.is_some_and(|l| chosen.len() as i64 >= l) {
                    break;
                }
            }
        }
        let has_more = limit.is_some() && rest.next().is_some();
        (chosen, last, in_range, has_more)
    };
    let objects_of = |st: &'s State, source: &Source| -> Vec<&'s Value> {
        match source {
            Source::Current => st.store.list(&key, None),
            Source::Snapshot(i) => st.list_snapshots.0[*i].objects.iter().collect(),
        }
    };
    let (chosen, last, in_range, has_more) = {
        let objects = match &source {
            Source::Current => st.store.list(&key, None),
            Source::Snapshot(i) => st.list_snapshots.0[*i].objects.iter().collect(),
        };
        page(&objects)
    };
    let mut meta = ListMeta::at(rv);
    if has_more {
        meta.continue_token = Some(encode(&format!("{last}\u{0}"), rv as i64));
        let filtered = !req.label_selector.unwrap_or("").is_empty()
            || !req.field_selector.unwrap_or("").is_empty();
        if !filtered {
            meta.remaining_item_count = Some(in_range - limit.unwrap_or(0));
        }
    }
    let first_page = req.continue_token.is_none_or(str::is_empty);
    if has_more && first_page && matches!(source, Source::Current) {
        let kept = st
            .list_snapshots
            .0
            .iter()
            .any(|s| s.key == key && s.rv == rv);
        if !kept {
            let objects: Vec<Value> = st.store.list(&key, None).into_iter().cloned().collect();
            let snaps = &mut st.list_snapshots.0;
            if snaps.len() >= KEPT_SNAPSHOTS {
                snaps.pop_front();
            }
            snaps.push_back(Snapshot {
                key: key.clone(),
                rv,
                objects,
            });
        }
    }
    let st: &'s State = st;
    let objects = objects_of(st, &source);
    Ok((chosen.into_iter().map(|i| objects[i]).collect(), meta))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_bad_ones_say_why() {
        let t = encode("web\u{0}", 42);
        assert_eq!(decode(&t), Ok(("web\u{0}".to_string(), 42)));
        assert_eq!(
            decode("!!!"),
            Err("continue key is not valid: illegal base64 data at input byte 0".to_string())
        );
        let zero = URL_SAFE_NO_PAD.encode(br#"{"v":"meta.k8s.io/v1","rv":0,"start":"a"}"#);
        assert_eq!(
            decode(&zero).unwrap_err(),
            "continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)"
        );
        let other = URL_SAFE_NO_PAD.encode(br#"{"v":"v9","rv":3,"start":"a"}"#);
        assert_eq!(
            decode(&other).unwrap_err(),
            "continue key is not valid: server does not recognize this encoded version v9"
        );
        let escape = URL_SAFE_NO_PAD.encode(br#"{"v":"meta.k8s.io/v1","rv":3,"start":"../x"}"#);
        assert_eq!(
            decode(&escape).unwrap_err(),
            "continue key is not valid: ../x"
        );
    }
}
