//! Generic create, read, update, patch and delete for every stored type, with the admission
//! steps the real server runs on the way: namespace existence, RBAC escalation prevention,
//! validation, defaulting, optimistic concurrency and managedFields.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::{Value, json};

use crate::apply;
use crate::paging::ListMeta;
use crate::patch;
use crate::rbac::{self, RbacDenial, UserInfo, rules_of};
use crate::registry::ResourceType;
use crate::state::State;
use crate::status::{ApiError, FieldError, Target};
use crate::store::{FieldSelector, LabelSelector, TypeKey, meta_mut, meta_str, type_key};
use crate::table;
use crate::util::{now_rfc3339, random_suffix, random_uid};
use crate::validation::{
    SA_NAME_ANNOTATION, SA_TOKEN_TYPE, validate_metadata, validate_name, validate_object,
    validate_update,
};

const RBAC_GROUP: &str = "rbac.authorization.k8s.io";

/// The request facts object handlers need.
pub struct Call<'a> {
    pub user: &'a UserInfo,
    pub t: &'a ResourceType,
    /// Storage namespace: `""` for cluster-scoped types.
    pub namespace: &'a str,
    pub field_manager: String,
    pub dry_run: bool,
}

impl Call<'_> {
    fn key(&self) -> TypeKey {
        type_key(&self.t.group, &self.t.resource)
    }

    pub fn target<'b>(&'b self, name: &'b str) -> Target<'b> {
        Target {
            group: &self.t.group,
            kind: &self.t.resource,
            name,
        }
    }

    fn kind_target<'b>(&'b self, name: &'b str) -> Target<'b> {
        Target {
            group: &self.t.group,
            kind: &self.t.kind,
            name,
        }
    }
}

pub fn get(st: &State, call: &Call, name: &str) -> Result<Value, ApiError> {
    st.store
        .get(&call.key(), call.namespace, name)
        .cloned()
        .ok_or_else(|| ApiError::not_found(call.target(name)))
}

/// Objects matching the request's selectors. `namespace == None` lists across namespaces.
pub fn select<'s>(
    st: &'s State,
    t: &ResourceType,
    namespace: Option<&str>,
    label_selector: Option<&str>,
    field_selector: Option<&str>,
) -> Result<Vec<&'s Value>, ApiError> {
    let labels =
        LabelSelector::parse(label_selector.unwrap_or("")).map_err(ApiError::bad_request)?;
    let extra_fields: &[&str] = if t.group.is_empty() && t.resource == "secrets" {
        &["type"]
    } else {
        &[]
    };
    let fields = FieldSelector::parse(field_selector.unwrap_or(""), extra_fields)
        .map_err(ApiError::bad_request)?;
    Ok(st
        .store
        .list(&type_key(&t.group, &t.resource), namespace)
        .into_iter()
        .filter(|o| labels.matches(&o["metadata"]["labels"]) && fields.matches(o))
        .collect())
}

pub fn list_body(t: &ResourceType, items: &[&Value], resource_version: u64) -> Value {
    json!({
        "kind": format!("{}List", t.kind),
        "apiVersion": t.api_version(),
        "metadata": {"resourceVersion": resource_version.to_string()},
        "items": items,
    })
}

/// Checks kind and apiVersion of a body against the URL's type and fills them in when absent.
fn check_type_meta(t: &ResourceType, obj: &mut Value) -> Result<(), ApiError> {
    if !obj.is_object() {
        return Err(ApiError::bad_request(
            "the body of the request must be a JSON or YAML object",
        ));
    }
    let api_version = obj["apiVersion"].as_str().unwrap_or("").to_string();
    let kind = obj["kind"].as_str().unwrap_or("").to_string();
    if !api_version.is_empty() && api_version != t.api_version() {
        return Err(ApiError::bad_request(format!(
            "the API version in the data ({api_version}) does not match the expected API version ({})",
            t.api_version()
        )));
    }
    if !kind.is_empty() && kind != t.kind {
        return Err(ApiError::bad_request(wrong_kind_message(t, &kind)));
    }
    obj["apiVersion"] = json!(t.api_version());
    obj["kind"] = json!(t.kind);
    Ok(())
}

/// kube-apiserver decodes a built-in type through its internal package and fails in the
/// conversion; custom resources are decoded without one.
fn wrong_kind_message(t: &ResourceType, kind: &str) -> String {
    let built_in = !t.group.contains('.') || t.group.ends_with(".k8s.io");
    if !built_in {
        return format!(
            "the kind in the data ({kind}) does not match the expected kind ({})",
            t.kind
        );
    }
    let internal = match t.group.as_str() {
        "" => "core",
        group => group.split('.').next().unwrap_or(group),
    };
    format!(
        "{kind} in version \"{v}\" cannot be handled as a {expected}: converting ({v}.{kind}) to ({internal}.{expected}): unknown conversion",
        v = t.version,
        expected = t.kind,
    )
}

fn check_namespace_matches(call: &Call, obj: &Value) -> Result<(), ApiError> {
    let body_ns = meta_str(obj, "namespace");
    if call.t.namespaced && !body_ns.is_empty() && body_ns != call.namespace {
        return Err(ApiError::bad_request(
            "the namespace of the provided object does not match the namespace sent on the request",
        ));
    }
    Ok(())
}

fn require_namespace(st: &State, call: &Call) -> Result<(), ApiError> {
    if !call.t.namespaced {
        return Ok(());
    }
    match st
        .store
        .get(&type_key("", "namespaces"), "", call.namespace)
    {
        Some(_) => Ok(()),
        None => Err(ApiError::not_found(Target {
            group: "",
            kind: "namespaces",
            name: call.namespace,
        })),
    }
}

/// `POST` a new object.
pub fn create(st: &mut State, call: &Call, mut obj: Value) -> Result<(u16, Value), ApiError> {
    check_type_meta(call.t, &mut obj)?;
    check_namespace_matches(call, &obj)?;
    let mut name = meta_str(&obj, "name").to_string();
    if name.is_empty() {
        let prefix = meta_str(&obj, "generateName").to_string();
        if prefix.is_empty() {
            return Err(ApiError::invalid(
                call.kind_target(""),
                vec![FieldError::required(
                    "metadata.name",
                    "name or generateName is required",
                )],
            ));
        }
        name = format!("{prefix}{}", random_suffix());
        meta_mut(&mut obj).insert("name".into(), json!(name));
    }
    admit(st, call, &name, None, obj, true)
}

/// `PUT` over an existing object.
pub fn update(
    st: &mut State,
    call: &Call,
    name: &str,
    mut obj: Value,
) -> Result<(u16, Value), ApiError> {
    check_type_meta(call.t, &mut obj)?;
    check_namespace_matches(call, &obj)?;
    let body_name = meta_str(&obj, "name");
    if body_name != name {
        return Err(ApiError::bad_request(format!(
            "the name of the object ({body_name}) does not match the name on the URL ({name})"
        )));
    }
    let old = get(st, call, name)?;
    let sent_rv = meta_str(&obj, "resourceVersion");
    if !sent_rv.is_empty() && sent_rv != meta_str(&old, "resourceVersion") {
        return Err(ApiError::stale_update(call.target(name)));
    }
    admit(st, call, name, Some(&old), obj, true)
}

/// `PATCH` with JSON patch, merge patch or strategic merge patch.
pub fn patch(
    st: &mut State,
    call: &Call,
    name: &str,
    content_type: &str,
    body: &[u8],
) -> Result<(u16, Value), ApiError> {
    const PATCH_TYPES: &[&str] = &[
        "application/json-patch+json",
        "application/merge-patch+json",
        "application/strategic-merge-patch+json",
    ];
    if !PATCH_TYPES.contains(&content_type) {
        return Err(ApiError::unsupported_media_type());
    }
    let old = get(st, call, name)?;
    let patch_doc: Value = serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_request(format!("error decoding patch: {e}")))?;
    let mut new = old.clone();
    let result = match content_type {
        "application/json-patch+json" => patch::json_patch_checked(&mut new, &patch_doc),
        "application/merge-patch+json" => patch::merge_patch_checked(&mut new, &patch_doc),
        "application/strategic-merge-patch+json" => {
            patch::strategic_merge_patch_checked(&mut new, &patch_doc)
        }
        _ => return Err(ApiError::unsupported_media_type()),
    };
    result.map_err(|e| ApiError::new(e.code, e.reason, e.message, None))?;
    if meta_str(&new, "name") != name {
        return Err(ApiError::bad_request(format!(
            "the name of the object ({}) does not match the name on the URL ({name})",
            meta_str(&new, "name")
        )));
    }
    let sent_rv = meta_str(&new, "resourceVersion");
    if sent_rv != meta_str(&old, "resourceVersion") {
        return Err(ApiError::stale_update(call.target(name)));
    }
    admit(st, call, name, Some(&old), new, true)
}

/// Server-side apply (`application/apply-patch+yaml`): creates when missing.
pub fn server_side_apply(
    st: &mut State,
    call: &Call,
    name: &str,
    body: &[u8],
    force: bool,
) -> Result<(u16, Value), ApiError> {
    if call.field_manager.is_empty() {
        return Err(ApiError::invalid(
            Target {
                group: "meta.k8s.io",
                kind: "PatchOptions",
                name: "",
            },
            vec![FieldError::required(
                "fieldManager",
                "is required for apply patch",
            )],
        ));
    }
    let text =
        std::str::from_utf8(body).map_err(|_| ApiError::bad_request("apply patch is not UTF-8"))?;
    let mut config: Value = serde_saphyr::from_str(text)
        .map_err(|e| ApiError::bad_request(format!("error decoding YAML: {e}")))?;
    apply::validate_apply_config(&config, &call.t.api_version(), &call.t.kind)
        .map_err(ApiError::bad_request)?;
    check_type_meta(call.t, &mut config)?;
    check_namespace_matches(call, &config)?;
    if meta_str(&config, "name") != name {
        return Err(ApiError::bad_request(format!(
            "the name of the object ({}) does not match the name on the URL ({name})",
            meta_str(&config, "name")
        )));
    }
    let old = st.store.get(&call.key(), call.namespace, name).cloned();
    if old.is_none() {
        // An apply that creates is authorized as a create too, not only as the patch it arrived as.
        authorize_create(st, call, name)?;
        require_namespace(st, call)?;
    }
    let merged = apply::apply(
        old.as_ref(),
        &config,
        &call.field_manager,
        force,
        &now_rfc3339(),
    )
    .map_err(apply_conflict)?;
    admit(st, call, name, old.as_ref(), merged, false)
}

fn authorize_create(st: &mut State, call: &Call, name: &str) -> Result<(), ApiError> {
    let attrs = rbac::Attributes {
        verb: "create".into(),
        resource_request: true,
        namespace: call.namespace.to_string(),
        api_group: call.t.group.clone(),
        api_version: call.t.version.clone(),
        resource: call.t.resource.clone(),
        subresource: String::new(),
        name: name.to_string(),
        path: String::new(),
    };
    if call.user.is_superuser() {
        return Ok(());
    }
    let snapshot = st.rbac();
    let decision = rbac::authorize(&snapshot, call.user, &attrs);
    if decision.allowed {
        return Ok(());
    }
    let message = rbac::forbidden_message_with_reason(call.user, &attrs, &decision.reason);
    Err(ApiError::forbidden(call.target(name), message))
}

fn apply_conflict(c: apply::ApplyConflict) -> ApiError {
    let body = c.to_status();
    ApiError { code: 409, body }
}

/// The shared path for every write: admission, validation, defaulting, concurrency, storage.
/// `track_fields` is false when server-side apply already maintained managedFields.
fn admit(
    st: &mut State,
    call: &Call,
    name: &str,
    old: Option<&Value>,
    mut obj: Value,
    track_fields: bool,
) -> Result<(u16, Value), ApiError> {
    require_namespace(st, call)?;
    if old.is_none() {
        refuse_if_terminating(st, call, name)?;
    }
    prevent_escalation(st, call, name, old, &obj)?;
    if let Some(old) = old {
        check_immutable(call, name, old, &obj)?;
    }
    // As the real registries do: defaults first (a Namespace's name label included), then
    // validation of the defaulted object.
    default_object(call.t, &mut obj);
    let mut errors = Vec::new();
    if old.is_none() {
        errors.extend(validate_name(&call.t.group, &call.t.resource, name));
    }
    errors.extend(validate_metadata(&obj));
    if let Some(old) = old {
        errors.extend(validate_update(&call.t.group, &call.t.resource, old, &obj));
    }
    errors.extend(validate_object(&call.t.group, &call.t.resource, &obj));
    if !errors.is_empty() {
        return Err(ApiError::invalid(call.kind_target(name), errors));
    }

    let now = now_rfc3339();
    match old {
        None => {
            if st.store.get(&call.key(), call.namespace, name).is_some() {
                return Err(ApiError::already_exists(call.target(name)));
            }
            if obj.get("spec").is_some() {
                meta_mut(&mut obj).insert("generation".into(), json!(1));
            }
            if track_fields {
                apply::track_update(
                    None,
                    &mut obj,
                    &call.field_manager,
                    &call.t.api_version(),
                    &now,
                );
            }
            let meta = meta_mut(&mut obj);
            for server_owned in [
                "uid",
                "resourceVersion",
                "creationTimestamp",
                "deletionTimestamp",
                "selfLink",
            ] {
                meta.remove(server_owned);
            }
            if call.dry_run {
                // As `FillObjectMetaSystemFields` does before the dry-run storage skips the write.
                let meta = meta_mut(&mut obj);
                meta.insert("uid".into(), json!(random_uid()));
                meta.insert("creationTimestamp".into(), json!(now));
                return Ok((201, obj));
            }
            let stored = st.store.insert_new(&call.key(), call.namespace, name, obj);
            after_create(st, call.t, &stored);
            after_write(st, call.t, &[&stored]);
            Ok((201, stored))
        }
        Some(old) => {
            let old_meta = &old["metadata"];
            {
                let meta = meta_mut(&mut obj);
                for server_owned in ["uid", "creationTimestamp", "resourceVersion", "generation"] {
                    match old_meta.get(server_owned) {
                        Some(v) => meta.insert(server_owned.into(), v.clone()),
                        None => meta.remove(server_owned),
                    };
                }
            }
            if obj.get("spec").is_some() && obj["spec"] != old["spec"] {
                let generation = old_meta["generation"].as_i64().unwrap_or(0) + 1;
                meta_mut(&mut obj).insert("generation".into(), json!(generation));
            }
            if track_fields {
                apply::track_update(
                    Some(old),
                    &mut obj,
                    &call.field_manager,
                    &call.t.api_version(),
                    &now,
                );
            }
            if &obj == old || call.dry_run {
                return Ok((200, obj));
            }
            let stored = st.store.replace(&call.key(), call.namespace, name, obj);
            after_write(st, call.t, &[old, &stored]);
            Ok((200, stored))
        }
    }
}

/// RBAC escalation prevention (`pkg/registry/rbac/*/policybased/storage.go`), before validation as in the real server.
fn prevent_escalation(
    st: &mut State,
    call: &Call,
    name: &str,
    old: Option<&Value>,
    obj: &Value,
) -> Result<(), ApiError> {
    // system:masters passes every check below before any rule is read (the real storages
    // short-circuit there too): no snapshot to build, which keeps bulk seeding linear.
    if call.t.group != RBAC_GROUP || call.user.is_superuser() {
        return Ok(());
    }
    let snapshot = st.rbac();
    let has_aggregation = |o: Option<&Value>| {
        o.is_some_and(|o| o.get("aggregationRule").is_some_and(|a| !a.is_null()))
    };
    let result = match call.t.resource.as_str() {
        "roles" | "clusterroles" => {
            let kind = if call.t.resource == "roles" {
                "Role"
            } else {
                "ClusterRole"
            };
            let rules = rules_of(obj);
            rbac::check_role_write(
                &snapshot,
                call.user,
                &rbac::RoleWrite {
                    kind,
                    namespace: call.namespace,
                    name,
                    // The escalate check is authorized against the request's name: none on create.
                    request_name: if old.is_some() { name } else { "" },
                    rules: &rules,
                    aggregation_rule: has_aggregation(Some(obj)),
                    old_aggregation_rule: has_aggregation(old),
                },
            )
        }
        "rolebindings" | "clusterrolebindings" => {
            let kind = if call.t.resource == "rolebindings" {
                "RoleBinding"
            } else {
                "ClusterRoleBinding"
            };
            rbac::check_binding_escalation(
                &snapshot,
                call.user,
                kind,
                call.namespace,
                name,
                obj["roleRef"]["kind"].as_str().unwrap_or(""),
                obj["roleRef"]["name"].as_str().unwrap_or(""),
            )
        }
        _ => Ok(()),
    };
    result.map_err(|denial| match denial {
        RbacDenial::Forbidden(message) => ApiError::forbidden(call.target(name), message),
        RbacDenial::RoleNotFound { resource, name } => ApiError::not_found(Target {
            group: RBAC_GROUP,
            kind: &resource,
            name: &name,
        }),
    })
}

fn check_immutable(call: &Call, name: &str, old: &Value, new: &Value) -> Result<(), ApiError> {
    let is_binding = call.t.group == RBAC_GROUP && call.t.resource.ends_with("bindings");
    if is_binding && old["roleRef"] != new["roleRef"] {
        return Err(ApiError::invalid(
            call.kind_target(name),
            // 1.37's declarative validation prints the struct as JSON with Go field names.
            vec![FieldError::invalid_struct(
                "roleRef",
                json!({
                    "APIGroup": new["roleRef"]["apiGroup"].as_str().unwrap_or(""),
                    "Kind": new["roleRef"]["kind"].as_str().unwrap_or(""),
                    "Name": new["roleRef"]["name"].as_str().unwrap_or(""),
                })
                .to_string(),
                "field is immutable",
            )],
        ));
    }
    let sent_uid = meta_str(new, "uid");
    if !sent_uid.is_empty() && sent_uid != meta_str(old, "uid") {
        return Err(ApiError::conflict(
            call.target(name),
            &format!(
                "Precondition failed: UID in precondition: {sent_uid}, UID in object meta: {}",
                meta_str(old, "uid")
            ),
        ));
    }
    Ok(())
}

/// Defaulting the real registries do that clients can see.
fn default_object(t: &ResourceType, obj: &mut Value) {
    match (t.group.as_str(), t.resource.as_str()) {
        ("", "secrets") => {
            if obj["type"].as_str().unwrap_or("").is_empty() {
                obj["type"] = json!("Opaque");
            }
            if let Some(Value::Object(string_data)) =
                obj.as_object_mut().and_then(|m| m.remove("stringData"))
            {
                let data = obj
                    .as_object_mut()
                    .expect("object")
                    .entry("data")
                    .or_insert_with(|| json!({}));
                if !data.is_object() {
                    *data = json!({});
                }
                for (k, v) in string_data {
                    data[k.as_str()] = json!(B64.encode(v.as_str().unwrap_or("")));
                }
            }
        }
        ("", "namespaces") => {
            // The namespace registry labels every Namespace with its own name.
            let name = obj["metadata"]["name"].clone();
            if !obj["metadata"]["labels"].is_object() {
                obj["metadata"]["labels"] = json!({});
            }
            obj["metadata"]["labels"]["kubernetes.io/metadata.name"] = name;
            if obj["status"]["phase"].is_null() {
                obj["status"] = json!({"phase": "Active"});
            }
            if obj["spec"]["finalizers"].is_null() {
                obj["spec"] = json!({"finalizers": ["kubernetes"]});
            }
        }
        _ => {}
    }
}

/// What controllers do right after a create.
fn after_create(st: &mut State, t: &ResourceType, obj: &Value) {
    if t.group.is_empty() && t.resource == "namespaces" {
        let ns = meta_str(obj, "name").to_string();
        let sa = json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "default", "namespace": ns}});
        st.store
            .insert_new(&type_key("", "serviceaccounts"), &ns, "default", sa);
        let ca = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "kube-root-ca.crt", "namespace": ns}, "data": {"ca.crt": ""}});
        st.store
            .insert_new(&type_key("", "configmaps"), &ns, "kube-root-ca.crt", ca);
    }
}

/// The ClusterRole aggregation controller: aggregated roles follow the roles they select.
/// `touched`: the written object, old and new. Writes that cannot change an aggregated
/// role ([`rbac::aggregation_affected`]) skip the controller.
fn after_write(st: &mut State, t: &ResourceType, touched: &[&Value]) {
    if !(t.group == RBAC_GROUP && t.resource == "clusterroles") {
        return;
    }
    let key = type_key(RBAC_GROUP, "clusterroles");
    if !rbac::aggregation_affected(&st.store.list(&key, None), touched) {
        return;
    }
    let before = st.store.list_cloned(RBAC_GROUP, "clusterroles");
    let mut after = before.clone();
    if !rbac::aggregate_cluster_roles(&mut after) {
        return;
    }
    for (old, new) in before.iter().zip(after) {
        if old != &new {
            let name = meta_str(&new, "name").to_string();
            st.store.replace(&key, "", &name, new);
        }
    }
}

/// `DELETE` one object. The reply is the object where its registry sets `ReturnDeletedObject`
/// (a namespace as its deletion leaves it: Terminating), else a Success `Status`
/// (`finalizeDelete` in apiserver `registry/generic/registry/store.go`).
pub fn delete(
    st: &mut State,
    call: &Call,
    name: &str,
    options: &Value,
) -> Result<(u16, Value), ApiError> {
    check_preconditions(&get(st, call, name)?, &options["preconditions"], call, name)?;
    // DeleteOptions may carry `dryRun` in the body instead of the query.
    let in_body = options["dryRun"]
        .as_array()
        .is_some_and(|d| d.iter().any(|v| v == "All"));
    let call = &Call {
        user: call.user,
        t: call.t,
        namespace: call.namespace,
        field_manager: call.field_manager.clone(),
        dry_run: call.dry_run || in_body,
    };
    if call.t.group.is_empty() && call.t.resource == "namespaces" {
        return Ok((200, start_terminating(st, call, name)?));
    }
    let obj = remove(st, call, name)?;
    if call.t.returns_deleted_object {
        return Ok((200, obj));
    }
    let mut details = json!({"name": name, "kind": call.t.resource, "uid": meta_str(&obj, "uid")});
    if !call.t.group.is_empty() {
        details["group"] = json!(call.t.group);
    }
    Ok((
        200,
        json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "details": details}),
    ))
}

/// A namespace's DELETE (`registry/core/namespace/storage` Delete): it is marked Terminating
/// and kept; the namespace controller ([`crate::controller`]) removes it and what it holds
/// later. Deleting a namespace already Terminating answers it as it is.
fn start_terminating(st: &mut State, call: &Call, name: &str) -> Result<Value, ApiError> {
    let mut obj = get(st, call, name)?;
    if obj["metadata"]["deletionTimestamp"].is_string() {
        return Ok(obj);
    }
    meta_mut(&mut obj).insert("deletionTimestamp".into(), json!(now_rfc3339()));
    obj["status"]["phase"] = json!("Terminating");
    if call.dry_run {
        return Ok(obj);
    }
    st.terminating_since
        .insert(name.to_string(), std::time::Instant::now());
    Ok(st.store.replace(&call.key(), "", name, obj))
}

/// The NamespaceLifecycle admission plugin: nothing new in a namespace being deleted.
fn refuse_if_terminating(st: &State, call: &Call, name: &str) -> Result<(), ApiError> {
    if !call.t.namespaced {
        return Ok(());
    }
    let ns = st
        .store
        .get(&type_key("", "namespaces"), "", call.namespace);
    if ns.is_none_or(|ns| ns["status"]["phase"] != "Terminating") {
        return Ok(());
    }
    let mut e = ApiError::forbidden(
        call.target(name),
        format!(
            "{}{} is forbidden: unable to create new content in namespace {} because it is being terminated",
            crate::status::qualified(&call.t.group, &call.t.resource),
            if name.is_empty() {
                String::new()
            } else {
                format!(" \"{name}\"")
            },
            call.namespace
        ),
    );
    e.body["details"]["causes"] = json!([{
        "reason": "NamespaceTerminating",
        "message": format!("namespace {} is being terminated", call.namespace),
        "field": "metadata.namespace",
    }]);
    Err(e)
}

/// Removes one object, with the cascades the real controllers perform; returns what was removed.
/// DeleteOptions `preconditions` (apiserver storage `checkPreconditions`).
fn check_preconditions(
    obj: &Value,
    preconditions: &Value,
    call: &Call,
    name: &str,
) -> Result<(), ApiError> {
    for (field, label) in [("uid", "UID"), ("resourceVersion", "ResourceVersion")] {
        let Some(wanted) = preconditions[field].as_str() else {
            continue;
        };
        let actual = meta_str(obj, field);
        if wanted != actual {
            return Err(ApiError::conflict(
                call.target(name),
                &format!(
                    "Precondition failed: {label} in precondition: {wanted}, {label} in object meta: {actual}"
                ),
            ));
        }
    }
    Ok(())
}

fn remove(st: &mut State, call: &Call, name: &str) -> Result<Value, ApiError> {
    let obj = get(st, call, name)?;
    if call.dry_run {
        return Ok(obj);
    }
    st.store.remove(&call.key(), call.namespace, name);
    match (call.t.group.as_str(), call.t.resource.as_str()) {
        ("", "namespaces") => st.store.remove_namespace_contents(name),
        // The token controller deletes the token Secrets of a deleted ServiceAccount.
        ("", "serviceaccounts") => {
            let secrets = type_key("", "secrets");
            let doomed: Vec<String> = st
                .store
                .list(&secrets, Some(call.namespace))
                .into_iter()
                .filter(|s| {
                    s["type"] == SA_TOKEN_TYPE
                        && s["metadata"]["annotations"][SA_NAME_ANNOTATION] == name
                })
                .map(|s| meta_str(s, "name").to_string())
                .collect();
            for secret in doomed {
                st.store.remove(&secrets, call.namespace, &secret);
            }
        }
        _ => {}
    }
    after_write(st, call.t, &[&obj]);
    Ok(obj)
}

/// `DELETE` on a collection, honouring selectors.
pub fn delete_collection(
    st: &mut State,
    call: &Call,
    label_selector: Option<&str>,
    field_selector: Option<&str>,
) -> Result<(u16, Value), ApiError> {
    let names: Vec<String> = select(
        st,
        call.t,
        Some(call.namespace),
        label_selector,
        field_selector,
    )?
    .into_iter()
    .map(|o| meta_str(o, "name").to_string())
    .collect();
    let mut deleted = Vec::new();
    for name in names {
        deleted.push(remove(st, call, &name)?);
    }
    let refs: Vec<&Value> = deleted.iter().collect();
    Ok((200, list_body(call.t, &refs, st.store.resource_version())))
}

/// The reply body for a read in the representation the client asked for.
pub fn render_list(
    t: &ResourceType,
    items: &[&Value],
    meta: &ListMeta,
    repr: crate::request::Representation,
) -> Value {
    use crate::request::Representation;
    let rv = meta.resource_version;
    let mut body = match repr {
        Representation::Table => table::table(t, items, rv),
        Representation::PartialObjectMetadata => table::partial_metadata_list(items, rv),
        _ => list_body(t, items, rv),
    };
    body["metadata"] = meta.to_json();
    body
}

/// The reply body of a list in the plain or metadata-only form, written straight from the
/// stored objects: the same JSON as [`render_list`] gives (keys in the same order), without
/// first copying every object into a new `Value` (10,000 RoleBindings are answered in about
/// half the time so, metadata-only lists in a third). `None` for the other forms (Table).
pub fn list_json(
    t: &ResourceType,
    items: &[&Value],
    meta: &ListMeta,
    repr: crate::request::Representation,
) -> Option<Vec<u8>> {
    use crate::request::Representation;
    use serde::Serialize;

    // Field order: the keys' order in a serialized `Value` map (sorted).
    #[derive(Serialize)]
    struct Meta<'a> {
        #[serde(rename = "continue", skip_serializing_if = "Option::is_none")]
        continue_token: Option<&'a str>,
        #[serde(rename = "remainingItemCount", skip_serializing_if = "Option::is_none")]
        remaining_item_count: Option<i64>,
        #[serde(rename = "resourceVersion")]
        resource_version: String,
    }
    #[derive(Serialize)]
    struct List<'a, I: Serialize> {
        #[serde(rename = "apiVersion")]
        api_version: &'a str,
        items: I,
        kind: &'a str,
        metadata: Meta<'a>,
    }
    #[derive(Serialize)]
    struct Partial<'a> {
        #[serde(rename = "apiVersion")]
        api_version: &'static str,
        kind: &'static str,
        metadata: &'a Value,
    }
    let metadata = Meta {
        continue_token: meta.continue_token.as_deref(),
        remaining_item_count: meta.remaining_item_count,
        resource_version: meta.resource_version.to_string(),
    };
    let bytes = match repr {
        Representation::Table => return None,
        Representation::PartialObjectMetadata => serde_json::to_vec(&List {
            api_version: "meta.k8s.io/v1",
            items: items
                .iter()
                .map(|o| Partial {
                    api_version: "meta.k8s.io/v1",
                    kind: "PartialObjectMetadata",
                    metadata: &o["metadata"],
                })
                .collect::<Vec<_>>(),
            kind: "PartialObjectMetadataList",
            metadata,
        }),
        Representation::Plain | Representation::AggregatedDiscovery => serde_json::to_vec(&List {
            api_version: &t.api_version(),
            items,
            kind: &format!("{}List", t.kind),
            metadata,
        }),
    };
    Some(bytes.expect("JSON values serialize"))
}

pub fn render_one(
    t: &ResourceType,
    obj: &Value,
    rv: u64,
    repr: crate::request::Representation,
) -> Value {
    use crate::request::Representation;
    match repr {
        Representation::Table => table::table(t, &[obj], rv),
        Representation::PartialObjectMetadata => table::partial_metadata(obj),
        _ => obj.clone(),
    }
}

/// Decodes base64 Secret data (for the token controller and token checks).
pub fn secret_value(secret: &Value, key: &str) -> Option<String> {
    let raw = secret["data"][key].as_str()?;
    B64.decode(raw).ok().and_then(|b| String::from_utf8(b).ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::Registry;
    use crate::request::Representation;

    #[test]
    fn lists_written_directly_equal_the_rendered_ones_byte_for_byte() {
        let registry = Registry::standard();
        let secrets = registry.find("", "v1", "secrets").unwrap();
        let a = json!({"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
            "metadata": {"name": "a", "namespace": "x", "labels": {"k": "v"},
                         "managedFields": [{"manager": "m"}]},
            "data": {"p": "cHc="}});
        let b = json!({"metadata": {"name": "b \"quoted\" ü", "namespace": "y"}});
        let items = [&a, &b];
        let paged = ListMeta {
            resource_version: 42,
            continue_token: Some("tok".into()),
            remaining_item_count: Some(3),
        };
        for meta in [ListMeta::at(42), paged] {
            for repr in [Representation::Plain, Representation::PartialObjectMetadata] {
                let direct = list_json(secrets, &items, &meta, repr).unwrap();
                let rendered = render_list(secrets, &items, &meta, repr).to_string();
                assert_eq!(String::from_utf8(direct).unwrap(), rendered, "{repr:?}");
            }
        }
        let at_42 = ListMeta::at(42);
        assert!(list_json(secrets, &items, &at_42, Representation::Table).is_none());
        let empty = list_json(secrets, &[], &ListMeta::at(1), Representation::Plain).unwrap();
        assert_eq!(
            String::from_utf8(empty).unwrap(),
            render_list(secrets, &[], &ListMeta::at(1), Representation::Plain).to_string()
        );
    }
}
