//! Subresources: `serviceaccounts/token`, `*/scale`, `*/status`, and the pod and node
//! subresources that need a running workload (authorized like the real ones, then refused).

use serde_json::{Value, json};

use crate::objects::{self, Call};
use crate::reviews;
use crate::server::{Ctx, Reply};
use crate::state::{Shared, State};
use crate::status::ApiError;
use crate::store::meta_str;

pub fn handle(shared: &Shared, st: &mut State, ctx: &Ctx, call: &Call) -> Result<Reply, ApiError> {
    let info = ctx.info;
    let sub = call
        .t
        .subresource(&info.subresource)
        .ok_or_else(ApiError::path_not_found)?
        .clone();
    if !sub.verbs.iter().any(|v| v == &info.verb) {
        return Err(ApiError::method_not_allowed());
    }
    let parse = || crate::server::parse_body(ctx, "TokenRequest");
    match sub.name.as_str() {
        "token" => {
            let issued = reviews::token_request(shared, st, call.namespace, &info.name, &parse()?)?;
            let mut r = Reply::json(201, &issued.body);
            r.secret_data = false;
            r.warnings.extend(issued.warning);
            Ok(r)
        }
        "scale" => scale(st, ctx, call),
        "status" | "approval" => status(st, ctx, call),
        "log" => {
            objects::get(st, call, &info.name)?;
            Ok(Reply::text(200, ""))
        }
        "exec" | "attach" | "portforward" => {
            let pod = objects::get(st, call, &info.name)?;
            // No kubelet to stream from: the real server looks up the pod's node first.
            if pod["spec"]["nodeName"].as_str().unwrap_or("").is_empty() {
                return Err(ApiError::bad_request(format!(
                    "pod {} does not have a host assigned",
                    info.name
                )));
            }
            Err(ApiError::bad_request("Upgrade request required"))
        }
        _ => {
            objects::get(st, call, &info.name)?;
            Err(ApiError::new(
                503,
                "ServiceUnavailable",
                format!(
                    "no endpoints available for {} \"{}\" in the sandbox",
                    call.t.resource, info.name
                ),
                None,
            ))
        }
    }
}

fn scale_of(call: &Call, obj: &Value) -> Value {
    let replicas = obj["spec"]["replicas"].as_i64().unwrap_or(1);
    let selector = obj["spec"]["selector"]["matchLabels"]
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or("")))
                .collect::<Vec<_>>()
                .join(",")
        })
        .unwrap_or_default();
    json!({
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": {
            "name": meta_str(obj, "name"),
            "namespace": call.namespace,
            "uid": meta_str(obj, "uid"),
            "resourceVersion": meta_str(obj, "resourceVersion"),
            "creationTimestamp": obj["metadata"]["creationTimestamp"],
        },
        "spec": {"replicas": replicas},
        "status": {"replicas": obj["status"]["replicas"].as_i64().unwrap_or(0), "selector": selector},
    })
}

fn scale(st: &mut State, ctx: &Ctx, call: &Call) -> Result<Reply, ApiError> {
    let name = &ctx.info.name;
    let obj = objects::get(st, call, name)?;
    if ctx.info.verb == "get" {
        return Ok(Reply::json(200, &scale_of(call, &obj)));
    }
    let mut wanted = scale_of(call, &obj);
    if ctx.info.verb == "update" {
        wanted = crate::server::parse_body(ctx, "Scale")?;
    } else {
        let body: Value = serde_json::from_slice(ctx.body)
            .map_err(|e| ApiError::bad_request(format!("error decoding request body: {e}")))?;
        crate::patch::merge_patch(&mut wanted, &body);
    }
    let replicas = wanted["spec"]["replicas"]
        .as_i64()
        .ok_or_else(|| ApiError::bad_request("spec.replicas is required"))?;
    let mut updated = obj.clone();
    updated["spec"]["replicas"] = json!(replicas);
    let (_, stored) = objects::update(st, call, name, updated)?;
    Ok(Reply::json(200, &scale_of(call, &stored)))
}

/// `*/status`: reads the object; writes change only its status.
fn status(st: &mut State, ctx: &Ctx, call: &Call) -> Result<Reply, ApiError> {
    let name = &ctx.info.name;
    let obj = objects::get(st, call, name)?;
    if ctx.info.verb == "get" {
        return Ok(Reply::json(200, &obj));
    }
    let body: Value = if ctx.info.verb == "update" {
        crate::server::parse_body(ctx, &call.t.kind)?
    } else {
        serde_json::from_slice(ctx.body)
            .map_err(|e| ApiError::bad_request(format!("error decoding request body: {e}")))?
    };
    let mut wanted = obj.clone();
    if ctx.info.verb == "update" {
        wanted["status"] = body["status"].clone();
    } else {
        crate::patch::merge_patch(&mut wanted, &body);
        if let Some(spec) = obj.get("spec") {
            wanted["spec"] = spec.clone();
        }
        wanted["metadata"] = obj["metadata"].clone();
    }
    let (_, stored) = objects::update(st, call, name, wanted)?;
    Ok(Reply::json(200, &stored))
}
