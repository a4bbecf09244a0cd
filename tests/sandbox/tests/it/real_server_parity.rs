//! Answers the differential suite (`tests/cluster/tests/it/differential.rs`) found the sandbox
//! giving differently from kube-apiserver 1.37, pinned here so that they stay fixed without a
//! real control plane: status codes, reasons and message texts, discovery details, TokenRequest
//! bound objects and the bootstrap roles' rules.

use serde_json::{Value, json};

use crate::common::{RawReply, client, raw, start};

async fn send(
    sandbox: &cicd_sandbox::Sandbox,
    user: &str,
    method: &str,
    path: &str,
    content_type: &str,
    body: Value,
) -> RawReply {
    let c = client(sandbox, user, "team-a").await;
    let text = if body.is_null() {
        String::new()
    } else {
        body.to_string()
    };
    raw(&c, method, path, &[("Content-Type", content_type)], &text).await
}

#[track_caller]
fn assert_status(reply: &RawReply, code: u16, reason: &str, message: &str) {
    let v = reply.json();
    assert_eq!(
        (reply.code, v["reason"].as_str(), v["message"].as_str()),
        (code, Some(reason), Some(message)),
        "{}",
        reply.body
    );
}

#[tokio::test]
async fn a_body_of_another_kind_fails_in_the_conversion_as_upstream() {
    let sb = start();
    let secret = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}});
    let reply = send(
        &sb,
        "admin",
        "POST",
        "/api/v1/namespaces/team-a/configmaps",
        "application/json",
        secret,
    )
    .await;
    assert_status(
        &reply,
        400,
        "BadRequest",
        "Secret in version \"v1\" cannot be handled as a ConfigMap: converting (v1.Secret) to (core.ConfigMap): unknown conversion",
    );
    let list = json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleList", "metadata": {"name": "r"}});
    let path = "/apis/rbac.authorization.k8s.io/v1/namespaces/team-a/roles/r";
    let reply = send(&sb, "admin", "PUT", path, "application/json", list).await;
    assert_status(
        &reply,
        400,
        "BadRequest",
        "RoleList in version \"v1\" cannot be handled as a Role: converting (v1.RoleList) to (rbac.Role): unknown conversion",
    );
}

#[tokio::test]
async fn methods_and_media_types_no_route_takes_are_refused_before_the_body_is_read() {
    let sb = start();
    let cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}});
    let reply = send(
        &sb,
        "admin",
        "PUT",
        "/api/v1/namespaces/team-a/configmaps",
        "application/json",
        cm.clone(),
    )
    .await;
    assert_status(
        &reply,
        405,
        "MethodNotAllowed",
        "the server does not allow this method on the requested resource",
    );
    send(
        &sb,
        "admin",
        "POST",
        "/api/v1/namespaces/team-a/configmaps",
        "application/json",
        cm,
    )
    .await;
    let c = client(&sb, "admin", "team-a").await;
    let reply = raw(
        &c,
        "PATCH",
        "/api/v1/namespaces/team-a/configmaps/x",
        &[("Content-Type", "text/plain")],
        "not a patch",
    )
    .await;
    assert_status(
        &reply,
        415,
        "UnsupportedMediaType",
        "415: Unsupported Media Type",
    );
}

#[tokio::test]
async fn paths_of_no_served_group_get_the_plain_404_and_served_groups_a_status() {
    let sb = start();
    let c = client(&sb, "admin", "team-a").await;
    for path in [
        "/apis/nosuch.example.com/v1",
        "/apis/nosuch.example.com",
        "/nosuch",
        "/apis/nosuch.example.com/v1/namespaces/team-a/widgets",
    ] {
        let reply = raw(&c, "GET", path, &[], "").await;
        assert_eq!(
            (reply.code, reply.body.as_str()),
            (404, "404 page not found\n"),
            "{path}"
        );
        assert!(
            reply.header("content-type").starts_with("text/plain"),
            "{path}"
        );
    }
    for path in ["/api/v2", "/apis/apps/v1/namespaces/team-a/widgets"] {
        let reply = raw(&c, "GET", path, &[], "").await;
        assert_status(
            &reply,
            404,
            "NotFound",
            "the server could not find the requested resource",
        );
    }
}

#[tokio::test]
async fn services_answer_delete_with_the_object_and_offer_deletecollection() {
    let sb = start();
    let svc = json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"}, "spec": {"ports": [{"port": 80}]}});
    send(
        &sb,
        "admin",
        "POST",
        "/api/v1/namespaces/team-a/services",
        "application/json",
        svc,
    )
    .await;
    let reply = send(
        &sb,
        "admin",
        "DELETE",
        "/api/v1/namespaces/team-a/services/web",
        "application/json",
        Value::Null,
    )
    .await;
    assert_eq!(
        (reply.code, reply.json()["kind"].as_str()),
        (200, Some("Service"))
    );

    let c = client(&sb, "admin", "team-a").await;
    let list = raw(&c, "GET", "/api/v1", &[], "").await.json();
    let services = list["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "services")
        .unwrap();
    assert!(
        services["verbs"]
            .as_array()
            .unwrap()
            .contains(&json!("deletecollection"))
    );
}

#[tokio::test]
async fn groups_come_in_the_aggregators_order_and_crds_carry_their_categories() {
    let sb = start();
    let c = client(&sb, "admin", "team-a").await;
    let groups = raw(&c, "GET", "/apis", &[], "").await.json();
    let names: Vec<&str> = groups["groups"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|g| g["name"].as_str())
        .collect();
    let order = |n: &str| {
        names
            .iter()
            .position(|g| *g == n)
            .unwrap_or_else(|| panic!("{n} served"))
    };
    let expected = [
        "apps",
        "authentication.k8s.io",
        "authorization.k8s.io",
        "rbac.authorization.k8s.io",
        "cert-manager.io",
        "monitoring.coreos.com",
        "argoproj.io",
    ];
    for pair in expected.windows(2) {
        assert!(
            order(pair[0]) < order(pair[1]),
            "{} before {}: {names:?}",
            pair[0],
            pair[1]
        );
    }
    let monitoring = raw(&c, "GET", "/apis/monitoring.coreos.com/v1", &[], "")
        .await
        .json();
    for r in monitoring["resources"].as_array().unwrap() {
        assert_eq!(
            r["categories"],
            json!(["prometheus-operator"]),
            "{}",
            r["name"]
        );
    }
    let argo = raw(&c, "GET", "/apis/argoproj.io/v1alpha1", &[], "")
        .await
        .json();
    assert!(
        argo["resources"][0]
            .get("categories")
            .is_none_or(|c| c == &json!([])),
        "{argo}"
    );
}

#[tokio::test]
async fn a_token_request_bound_to_an_object_needs_that_object() {
    let sb = start();
    let path = "/api/v1/namespaces/team-a/serviceaccounts/default/token";
    let bound = |kind: &str, name: &str| {
        json!({"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest",
            "spec": {"boundObjectRef": {"apiVersion": "v1", "kind": kind, "name": name}}})
    };
    let reply = send(
        &sb,
        "admin",
        "POST",
        path,
        "application/json",
        bound("Secret", "nosuch"),
    )
    .await;
    assert_status(&reply, 404, "NotFound", "secrets \"nosuch\" not found");
    let reply = send(
        &sb,
        "admin",
        "POST",
        path,
        "application/json",
        bound("ConfigMap", "x"),
    )
    .await;
    assert_status(
        &reply,
        400,
        "BadRequest",
        "cannot bind token to object of type /v1, Kind=ConfigMap",
    );

    let pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
        "spec": {"serviceAccountName": "other", "containers": [{"name": "c", "image": "busybox"}]}});
    send(
        &sb,
        "admin",
        "POST",
        "/api/v1/namespaces/team-a/pods",
        "application/json",
        pod,
    )
    .await;
    let reply = send(
        &sb,
        "admin",
        "POST",
        path,
        "application/json",
        bound("Pod", "p"),
    )
    .await;
    assert_status(
        &reply,
        400,
        "BadRequest",
        "cannot bind token for serviceaccount \"default\" to pod running with different serviceaccount name.",
    );

    let secret = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "held"}});
    send(
        &sb,
        "admin",
        "POST",
        "/api/v1/namespaces/team-a/secrets",
        "application/json",
        secret,
    )
    .await;
    let reply = send(
        &sb,
        "admin",
        "POST",
        path,
        "application/json",
        bound("Secret", "held"),
    )
    .await;
    assert_eq!(reply.code, 201, "{}", reply.body);
}

#[tokio::test]
async fn exec_into_a_pod_without_a_node_is_a_bad_request() {
    let sb = start();
    let pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
        "spec": {"containers": [{"name": "c", "image": "busybox"}]}});
    send(
        &sb,
        "admin",
        "POST",
        "/api/v1/namespaces/team-a/pods",
        "application/json",
        pod,
    )
    .await;
    let reply = send(
        &sb,
        "alice",
        "POST",
        "/api/v1/namespaces/team-a/pods/p/exec?command=true",
        "application/json",
        Value::Null,
    )
    .await;
    assert_status(
        &reply,
        400,
        "BadRequest",
        "pod p does not have a host assigned",
    );
    let reply = send(
        &sb,
        "bob",
        "POST",
        "/api/v1/namespaces/team-a/pods/p/exec?command=true",
        "application/json",
        Value::Null,
    )
    .await;
    assert_eq!(reply.code, 403);
}

#[tokio::test]
async fn a_deployment_needs_a_selector_matching_labels_and_containers() {
    let sb = start();
    let empty = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"}, "spec": {}});
    let reply = send(
        &sb,
        "admin",
        "POST",
        "/apis/apps/v1/namespaces/team-a/deployments",
        "application/json",
        empty,
    )
    .await;
    assert_status(
        &reply,
        422,
        "Invalid",
        "Deployment.apps \"d\" is invalid: [spec.selector: Required value, spec.template.metadata.labels: Invalid value: null: `selector` does not match template `labels`, spec.template.spec.containers: Required value]",
    );
}

#[tokio::test]
async fn a_label_selector_without_a_key_is_refused() {
    let sb = start();
    let c = client(&sb, "admin", "team-a").await;
    let reply = raw(
        &c,
        "GET",
        "/api/v1/namespaces/team-a/configmaps?labelSelector=%3D%3D%3D",
        &[],
        "",
    )
    .await;
    assert_status(
        &reply,
        400,
        "BadRequest",
        "found '==', expected: !, identifier, or 'end of string'",
    );
}

#[tokio::test]
async fn binding_a_missing_role_names_the_binding_resource_and_view_has_the_1_37_rules() {
    let sb = start();
    let binding = |name: &str, kind: &str, role: &str| {
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": {"name": name},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": kind, "name": role},
            "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "eve"}]})
    };
    let path = "/apis/rbac.authorization.k8s.io/v1/namespaces/team-a/rolebindings";
    let reply = send(
        &sb,
        "bob",
        "POST",
        path,
        "application/json",
        binding("b", "Role", "nosuch"),
    )
    .await;
    assert_status(
        &reply,
        404,
        "NotFound",
        "rolebindings.rbac.authorization.k8s.io \"nosuch\" not found",
    );

    let reply = send(
        &sb,
        "bob",
        "POST",
        path,
        "application/json",
        binding("v", "ClusterRole", "view"),
    )
    .await;
    let message = reply.json()["message"].as_str().unwrap_or("").to_string();
    assert_eq!(reply.code, 403);
    for rule in [
        r#"{APIGroups:["events.k8s.io"], Resources:["events"], Verbs:["get" "list" "watch"]}"#,
        r#"{APIGroups:["resource.k8s.io"], Resources:["resourceclaims"], Verbs:["get" "list" "watch"]}"#,
    ] {
        assert!(message.contains(rule), "{rule} missing from: {message}");
    }
}
