//! Kinds the server answers without storing: self-reviews, access reviews, token reviews,
//! and TokenRequest (`serviceaccounts/<name>/token`).

use serde_json::{Value, json};

use crate::auth::{API_AUDIENCE, TokenClaims, service_account_user};
use crate::rbac::{self, Attributes, UserInfo};
use crate::state::{Shared, State};
use crate::status::{ApiError, FieldError, Target};
use crate::store::{meta_str, type_key};
use crate::util::rfc3339;
use crate::validation::SA_TOKEN_TYPE;

fn user_info_json(u: &UserInfo) -> Value {
    let mut v = json!({"username": u.name, "groups": u.groups});
    if !u.uid.is_empty() {
        v["uid"] = json!(u.uid);
    }
    v
}

fn echo_with_status(body: &Value, api_version: &str, kind: &str, status: Value) -> Value {
    let mut out = body.clone();
    if !out.is_object() {
        out = json!({});
    }
    out["apiVersion"] = json!(api_version);
    out["kind"] = json!(kind);
    if out.get("metadata").is_none_or(Value::is_null) {
        out["metadata"] = json!({"creationTimestamp": null});
    }
    out["status"] = status;
    out
}

/// `POST /apis/authentication.k8s.io/v1/selfsubjectreviews`.
pub fn self_subject_review(user: &UserInfo, body: &Value) -> Value {
    echo_with_status(
        body,
        "authentication.k8s.io/v1",
        "SelfSubjectReview",
        json!({"userInfo": user_info_json(user)}),
    )
}

/// `POST /apis/authorization.k8s.io/v1/selfsubjectrulesreviews`.
pub fn self_subject_rules_review(
    st: &mut State,
    user: &UserInfo,
    body: &Value,
) -> Result<Value, ApiError> {
    let namespace = body["spec"]["namespace"].as_str().unwrap_or("");
    if namespace.is_empty() {
        return Err(ApiError::bad_request("no namespace on request"));
    }
    let snapshot = st.rbac();
    let status = rbac::self_subject_rules_review_status(&snapshot, user, namespace);
    Ok(echo_with_status(
        body,
        "authorization.k8s.io/v1",
        "SelfSubjectRulesReview",
        status,
    ))
}

fn attributes_from_spec(spec: &Value) -> Result<Attributes, ApiError> {
    let s = |v: &Value| v.as_str().unwrap_or("").to_string();
    if let Some(r) = spec.get("resourceAttributes").filter(|r| r.is_object()) {
        return Ok(Attributes {
            verb: s(&r["verb"]),
            resource_request: true,
            namespace: s(&r["namespace"]),
            api_group: s(&r["group"]),
            api_version: s(&r["version"]),
            resource: s(&r["resource"]),
            subresource: s(&r["subresource"]),
            name: s(&r["name"]),
            path: String::new(),
        });
    }
    if let Some(n) = spec.get("nonResourceAttributes").filter(|r| r.is_object()) {
        return Ok(Attributes {
            verb: s(&n["verb"]),
            resource_request: false,
            path: s(&n["path"]),
            ..Default::default()
        });
    }
    Err(ApiError::invalid(
        Target {
            group: "authorization.k8s.io",
            kind: "SelfSubjectAccessReview",
            name: "",
        },
        vec![FieldError::required(
            "spec.resourceAttributes",
            "exactly one of nonResourceAttributes or resourceAttributes must be specified",
        )],
    ))
}

fn access_status(st: &mut State, user: &UserInfo, attrs: &Attributes) -> Value {
    let snapshot = st.rbac();
    let decision = rbac::authorize(&snapshot, user, attrs);
    let mut status = json!({"allowed": decision.allowed});
    if !decision.reason.is_empty() {
        status["reason"] = json!(decision.reason);
    }
    status
}

/// `POST /apis/authorization.k8s.io/v1/selfsubjectaccessreviews`.
pub fn self_subject_access_review(
    st: &mut State,
    user: &UserInfo,
    body: &Value,
) -> Result<Value, ApiError> {
    let attrs = attributes_from_spec(&body["spec"])?;
    let status = access_status(st, user, &attrs);
    Ok(echo_with_status(
        body,
        "authorization.k8s.io/v1",
        "SelfSubjectAccessReview",
        status,
    ))
}

/// `POST /apis/authorization.k8s.io/v1/subjectaccessreviews` (the caller asks about someone else).
pub fn subject_access_review(st: &mut State, body: &Value) -> Result<Value, ApiError> {
    let spec = &body["spec"];
    let subject = UserInfo {
        name: spec["user"].as_str().unwrap_or("").to_string(),
        uid: spec["uid"].as_str().unwrap_or("").to_string(),
        groups: spec["groups"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|g| g.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default(),
    };
    let attrs = attributes_from_spec(spec)?;
    let status = access_status(st, &subject, &attrs);
    Ok(echo_with_status(
        body,
        "authorization.k8s.io/v1",
        "SubjectAccessReview",
        status,
    ))
}

/// `POST /apis/authentication.k8s.io/v1/tokenreviews`.
pub fn token_review(shared: &Shared, st: &mut State, body: &Value) -> Value {
    let token = body["spec"]["token"].as_str().unwrap_or("");
    let status = match crate::server::authenticate_token(shared, st, token) {
        Some(user) => {
            json!({"authenticated": true, "user": user_info_json(&user), "audiences": [API_AUDIENCE]})
        }
        None => json!({"user": {}, "error": "invalid bearer token"}),
    };
    let mut out = echo_with_status(body, "authentication.k8s.io/v1", "TokenReview", status);
    // The token itself is not echoed back.
    out["spec"] = json!({"token": ""});
    out
}

const MIN_EXPIRATION: i64 = 600;
const MAX_EXPIRATION: i64 = 1 << 32;
const DEFAULT_EXPIRATION: i64 = 3600;

/// A TokenRequest answer, with the warning the real server adds when it shortened the expiry.
pub struct IssuedToken {
    pub body: Value,
    pub warning: Option<String>,
}

/// `POST /api/v1/namespaces/{ns}/serviceaccounts/{name}/token` (TokenRequest), in the order
/// of `pkg/registry/core/serviceaccount/storage/token.go`: body name and namespace checks,
/// ServiceAccount lookup, then validation, then the `--service-account-max-token-expiration` cap.
pub fn token_request(
    shared: &Shared,
    st: &mut State,
    namespace: &str,
    sa_name: &str,
    body: &Value,
) -> Result<IssuedToken, ApiError> {
    let invalid = |name: &str, field: &str, value: Value, detail: &str| {
        ApiError::invalid(
            Target {
                group: "authentication.k8s.io",
                kind: "TokenRequest",
                name,
            },
            vec![FieldError::invalid(field, value, detail)],
        )
    };
    let body_name = meta_str(body, "name");
    if !body_name.is_empty() && body_name != sa_name {
        return Err(invalid(
            sa_name,
            "metadata.name",
            json!(body_name),
            "must match the service account name if specified",
        ));
    }
    let body_namespace = meta_str(body, "namespace");
    if !body_namespace.is_empty() && body_namespace != namespace {
        return Err(invalid(
            sa_name,
            "metadata.namespace",
            json!(body_namespace),
            "must match the service account namespace if specified",
        ));
    }
    let sa = st
        .store
        .get(&type_key("", "serviceaccounts"), namespace, sa_name)
        .cloned()
        .ok_or_else(|| {
            ApiError::not_found(Target {
                group: "",
                kind: "serviceaccounts",
                name: sa_name,
            })
        })?;
    let requested = body["spec"]["expirationSeconds"]
        .as_i64()
        .unwrap_or(DEFAULT_EXPIRATION);
    let field = "spec.expirationSeconds";
    if requested < MIN_EXPIRATION {
        return Err(invalid(
            "",
            field,
            json!(requested),
            "may not specify a duration less than 10 minutes",
        ));
    }
    if requested > MAX_EXPIRATION {
        return Err(invalid(
            "",
            field,
            json!(requested),
            "may not specify a duration larger than 2^32 seconds",
        ));
    }
    check_bound_object(st, namespace, sa_name, &body["spec"]["boundObjectRef"])?;
    let (granted, warning) = match st.max_token_expiration.map(|m| m.as_secs() as i64) {
        Some(max) if max > 0 && requested > max => (
            max,
            Some(format!(
                "requested expiration of {requested} seconds shortened to {max} seconds"
            )),
        ),
        _ => (requested, None),
    };
    let mut audiences: Vec<String> = body["spec"]["audiences"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default();
    if audiences.is_empty() {
        audiences.push(API_AUDIENCE.to_string());
    }
    let issued = st.now();
    let expires = issued.as_second() + granted;
    let token = shared.signer.issue_bound(
        namespace,
        sa_name,
        meta_str(&sa, "uid"),
        &audiences,
        issued.as_second(),
        expires,
    );
    st.minted_tokens.push(token.clone());
    let expiry = jiff::Timestamp::from_second(expires)
        .map(rfc3339)
        .unwrap_or_default();
    let mut spec = body["spec"].clone();
    if !spec.is_object() {
        spec = json!({});
    }
    spec["audiences"] = json!(audiences);
    spec["expirationSeconds"] = json!(granted);
    if spec.get("boundObjectRef").is_none() {
        spec["boundObjectRef"] = Value::Null;
    }
    let body = json!({
        "kind": "TokenRequest",
        "apiVersion": "authentication.k8s.io/v1",
        "metadata": {"name": sa_name, "namespace": namespace, "creationTimestamp": rfc3339(issued)},
        "spec": spec,
        "status": {"token": token, "expirationTimestamp": expiry},
    });
    Ok(IssuedToken { body, warning })
}

/// The object a TokenRequest binds its token to must exist (`TokenREST.Create` in
/// `pkg/registry/core/serviceaccount/storage/token.go`): a Pod of this ServiceAccount or a
/// Secret, in the namespace, with the UID given if any. Node and webhook references are let
/// through, as the sandbox serves no nodes.
fn check_bound_object(
    st: &State,
    namespace: &str,
    sa_name: &str,
    bound: &Value,
) -> Result<(), ApiError> {
    if !bound.is_object() {
        return Ok(());
    }
    let api_version = bound["apiVersion"].as_str().unwrap_or("");
    let kind = bound["kind"].as_str().unwrap_or("");
    let name = bound["name"].as_str().unwrap_or("");
    let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
    let resource = match (group, kind) {
        ("", "Pod") => "pods",
        ("", "Secret") => "secrets",
        ("", "Node") => return Ok(()),
        ("admissionregistration.k8s.io", "ValidatingWebhookConfiguration")
        | ("admissionregistration.k8s.io", "MutatingWebhookConfiguration") => return Ok(()),
        _ => {
            return Err(ApiError::bad_request(format!(
                "cannot bind token to object of type {group}/{version}, Kind={kind}"
            )));
        }
    };
    let object = st
        .store
        .get(&type_key("", resource), namespace, name)
        .ok_or_else(|| {
            ApiError::not_found(Target {
                group: "",
                kind: resource,
                name,
            })
        })?;
    if resource == "pods" && object["spec"]["serviceAccountName"].as_str() != Some(sa_name) {
        return Err(ApiError::bad_request(format!(
            "cannot bind token for serviceaccount {} to pod running with different serviceaccount name.",
            rbac::go_quote(sa_name)
        )));
    }
    let uid = bound["uid"].as_str().unwrap_or("");
    if !uid.is_empty() && uid != meta_str(object, "uid") {
        return Err(ApiError::conflict(
            Target {
                group: "",
                kind,
                name,
            },
            &format!(
                "the UID in the bound object reference ({uid}) does not match the UID in record. The object might have been deleted and then recreated"
            ),
        ));
    }
    Ok(())
}

/// Whether a verified token still stands: its ServiceAccount (and Secret) exist and match.
pub fn service_account_token_user(
    st: &mut State,
    claims: &TokenClaims,
    token: &str,
) -> Option<UserInfo> {
    let (namespace, sa_name, sa_uid) = match claims {
        TokenClaims::Bound {
            namespace,
            service_account,
            service_account_uid,
            audiences,
            expires,
        } => {
            if *expires <= st.now().as_second() || !audiences.iter().any(|a| a == API_AUDIENCE) {
                return None;
            }
            (namespace, service_account, service_account_uid)
        }
        TokenClaims::Legacy {
            namespace,
            service_account,
            service_account_uid,
            secret,
        } => {
            let key = type_key("", "secrets");
            let stored = st.store.get(&key, namespace, secret)?.clone();
            let still_this_token = stored["type"] == SA_TOKEN_TYPE
                && crate::objects::secret_value(&stored, "token").as_deref() == Some(token);
            let labels = &stored["metadata"]["labels"];
            if !still_this_token || labels.get(LEGACY_INVALID_SINCE).is_some() {
                return None;
            }
            stamp_last_used(st, namespace, secret, stored);
            (namespace, service_account, service_account_uid)
        }
    };
    let sa = st
        .store
        .get(&type_key("", "serviceaccounts"), namespace, sa_name)?;
    if meta_str(sa, "uid") != sa_uid {
        return None;
    }
    Some(service_account_user(namespace, sa_name, sa_uid))
}

pub const LEGACY_LAST_USED: &str = "kubernetes.io/legacy-token-last-used";
pub const LEGACY_INVALID_SINCE: &str = "kubernetes.io/legacy-token-invalid-since";

/// The apiserver labels a legacy token Secret with the day it was last used.
fn stamp_last_used(st: &mut State, namespace: &str, secret: &str, mut stored: Value) {
    let today = st.now().strftime("%Y-%m-%d").to_string();
    if stored["metadata"]["labels"][LEGACY_LAST_USED] == today.as_str() {
        return;
    }
    let meta = crate::store::meta_mut(&mut stored);
    let labels = meta.entry("labels").or_insert_with(|| json!({}));
    labels[LEGACY_LAST_USED] = json!(today);
    st.store
        .replace(&type_key("", "secrets"), namespace, secret, stored);
}
