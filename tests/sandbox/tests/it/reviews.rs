//! RBAC as an API client meets it: self-reviews (rules, access, identity), broken bindings,
//! and the bodies of 403 answers.

use k8s_openapi::api::authentication::v1::{SelfSubjectReview, TokenRequest};
use k8s_openapi::api::authorization::v1::{
    SelfSubjectAccessReview, SelfSubjectRulesReview, SubjectRulesReviewStatus,
};
use k8s_openapi::api::core::v1::{Secret, ServiceAccount};
use k8s_openapi::api::rbac::v1::RoleBinding;
use kube::api::{Api, PostParams};
use kube::{Client, ResourceExt};
use serde_json::json;

use crate::common::{client, raw, start, status, token_client, typed};

async fn rules_review(client: &Client, namespace: &str) -> SubjectRulesReviewStatus {
    let review: SelfSubjectRulesReview = typed(json!({
        "apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectRulesReview",
        "spec": {"namespace": namespace},
    }));
    Api::<SelfSubjectRulesReview>::all(client.clone())
        .create(&PostParams::default(), &review)
        .await
        .unwrap()
        .status
        .expect("status is always set")
}

async fn access_review(client: &Client, attributes: serde_json::Value) -> serde_json::Value {
    let review: SelfSubjectAccessReview = typed(json!({
        "apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
        "spec": attributes,
    }));
    let reply = Api::<SelfSubjectAccessReview>::all(client.clone())
        .create(&PostParams::default(), &review)
        .await
        .unwrap();
    serde_json::to_value(reply.status.unwrap()).unwrap()
}

async fn whoami(client: &Client) -> serde_json::Value {
    let review: SelfSubjectReview =
        typed(json!({"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"}));
    let reply = Api::<SelfSubjectReview>::all(client.clone())
        .create(&PostParams::default(), &review)
        .await
        .unwrap();
    serde_json::to_value(reply.status.unwrap().user_info.unwrap()).unwrap()
}

fn grants(status: &SubjectRulesReviewStatus, group: &str, resource: &str, verb: &str) -> bool {
    status.resource_rules.iter().any(|r| {
        let has = |v: &Option<Vec<String>>, x: &str| {
            v.as_ref()
                .is_some_and(|v| v.iter().any(|i| i == x || i == "*"))
        };
        has(&r.api_groups, group)
            && has(&r.resources, resource)
            && r.verbs.iter().any(|v| v == verb || v == "*")
    })
}

#[tokio::test]
async fn a_rules_review_needs_a_namespace() {
    let sandbox = start();
    let client = client(&sandbox, "bob", "team-a").await;
    let review: SelfSubjectRulesReview = typed(json!({
        "apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectRulesReview", "spec": {},
    }));
    let s = status(
        Api::<SelfSubjectRulesReview>::all(client)
            .create(&PostParams::default(), &review)
            .await,
    );
    assert_eq!((s.code, s.reason.as_str()), (400, "BadRequest"));
    assert_eq!(s.message, "no namespace on request");
}

#[tokio::test]
async fn bobs_rules_in_team_a_include_deployments() {
    let sandbox = start();
    let client = client(&sandbox, "bob", "team-a").await;
    let status = rules_review(&client, "team-a").await;
    assert!(!status.incomplete);
    assert_eq!(status.evaluation_error, None);
    for verb in ["get", "list", "create", "delete"] {
        assert!(
            grants(&status, "apps", "deployments", verb),
            "{verb}: {status:?}"
        );
    }
    assert!(!grants(&status, "", "secrets", "get"));
    // Everyone may review themselves and discover (system:basic-user, system:discovery).
    assert!(grants(
        &status,
        "authorization.k8s.io",
        "selfsubjectrulesreviews",
        "create"
    ));
    assert!(status.non_resource_rules.iter().any(|r| {
        r.non_resource_urls
            .as_ref()
            .is_some_and(|u| u.iter().any(|u| u == "/api"))
    }));

    // Elsewhere bob holds none of that.
    let elsewhere = rules_review(&client, "demo").await;
    assert!(!grants(&elsewhere, "apps", "deployments", "get"));
}

#[tokio::test]
async fn access_reviews_answer_with_the_rbac_reason() {
    let sandbox = start();
    let bob = client(&sandbox, "bob", "team-a").await;
    let allowed = access_review(
        &bob,
        json!({"resourceAttributes": {"namespace": "team-a", "verb": "create", "group": "apps", "resource": "deployments"}}),
    )
    .await;
    assert_eq!(
        allowed,
        json!({"allowed": true, "reason": "RBAC: allowed by RoleBinding \"bob-deployer/team-a\" of Role \"bob-deployer\" to User \"bob\""})
    );
    let denied = access_review(
        &bob,
        json!({"resourceAttributes": {"namespace": "team-a", "verb": "get", "resource": "secrets", "name": "db"}}),
    )
    .await;
    assert_eq!(denied, json!({"allowed": false}));
    let subresource = access_review(
        &bob,
        json!({"resourceAttributes": {"namespace": "team-a", "verb": "update", "group": "apps", "resource": "deployments", "subresource": "scale"}}),
    )
    .await;
    assert_eq!(
        subresource["allowed"], false,
        "plain deployments does not cover deployments/scale"
    );
    let path = access_review(
        &bob,
        json!({"nonResourceAttributes": {"path": "/version", "verb": "get"}}),
    )
    .await;
    assert_eq!(path["allowed"], true);
    // system:discovery and system:public-info-viewer both grant it; which one answers first
    // depends on the order bindings are listed in.
    let reason = path["reason"].as_str().unwrap();
    assert!(
        reason.starts_with("RBAC: allowed by ClusterRoleBinding \"system:"),
        "{reason}"
    );
    assert!(
        reason.ends_with("to Group \"system:authenticated\""),
        "{reason}"
    );

    // alice is admin of team-a through a RoleBinding to the admin ClusterRole.
    let alice = client(&sandbox, "alice", "team-a").await;
    let review = access_review(
        &alice,
        json!({"resourceAttributes": {"namespace": "team-a", "verb": "get", "resource": "secrets"}}),
    )
    .await;
    assert_eq!(
        review["reason"],
        "RBAC: allowed by RoleBinding \"alice-admin/team-a\" of ClusterRole \"admin\" to User \"alice\""
    );
}

#[tokio::test]
async fn self_subject_review_names_people_and_service_accounts() {
    let sandbox = start();
    let alice = client(&sandbox, "alice", "team-a").await;
    let me = whoami(&alice).await;
    assert_eq!(me["username"], "alice");
    assert_eq!(me["groups"], json!(["devs", "system:authenticated"]));
    assert_eq!(me["uid"].as_str().map(str::len), Some(36));

    let admin = client(&sandbox, "admin", "team-a").await;
    let sas: Api<ServiceAccount> = Api::namespaced(admin, "team-a");
    let sa: ServiceAccount = typed(
        json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "deployer"}}),
    );
    let sa = sas.create(&PostParams::default(), &sa).await.unwrap();
    let request: TokenRequest = typed(
        json!({"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": {"audiences": []}}),
    );
    let token = sas
        .create_token_request("deployer", &PostParams::default(), &request)
        .await
        .unwrap()
        .status
        .unwrap()
        .token;

    let robot = token_client(&sandbox, &token, "team-a").await;
    let me = whoami(&robot).await;
    assert_eq!(me["username"], "system:serviceaccount:team-a:deployer");
    assert_eq!(
        me["groups"],
        json!([
            "system:serviceaccounts",
            "system:serviceaccounts:team-a",
            "system:authenticated"
        ])
    );
    assert_eq!(me["uid"].as_str(), sa.uid().as_deref());
}

#[tokio::test]
async fn a_binding_to_a_missing_role_is_an_evaluation_error_and_others_still_apply() {
    let sandbox = start();
    let admin = client(&sandbox, "admin", "team-a").await;
    let ghost: RoleBinding = typed(json!({
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
        "metadata": {"name": "ghost"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "gone"},
        "subjects": [{"kind": "User", "apiGroup": "rbac.authorization.k8s.io", "name": "bob"}],
    }));
    Api::<RoleBinding>::namespaced(admin, "team-a")
        .create(&PostParams::default(), &ghost)
        .await
        .unwrap();

    let bob = client(&sandbox, "bob", "team-a").await;
    let rules = rules_review(&bob, "team-a").await;
    assert_eq!(
        rules.evaluation_error.as_deref(),
        Some("role.rbac.authorization.k8s.io \"gone\" not found")
    );
    assert!(!rules.incomplete);
    assert!(
        grants(&rules, "apps", "deployments", "list"),
        "other bindings still apply"
    );

    // Denials now carry the resolution error, in reviews and in 403s alike.
    let denied = access_review(
        &bob,
        json!({"resourceAttributes": {"namespace": "team-a", "verb": "list", "resource": "secrets"}}),
    )
    .await;
    assert_eq!(
        denied,
        json!({"allowed": false, "reason": "RBAC: role.rbac.authorization.k8s.io \"gone\" not found"})
    );
    let s = status(
        Api::<Secret>::namespaced(bob.clone(), "team-a")
            .list(&Default::default())
            .await,
    );
    assert_eq!(
        s.message,
        "secrets is forbidden: User \"bob\" cannot list resource \"secrets\" in API group \"\" in the namespace \"team-a\": RBAC: role.rbac.authorization.k8s.io \"gone\" not found"
    );
}

#[tokio::test]
async fn forbidden_answers_carry_the_real_message_and_details() {
    let sandbox = start();
    let bob = client(&sandbox, "bob", "team-a").await;

    let reply = raw(&bob, "GET", "/api/v1/namespaces/team-a/secrets", &[], "").await;
    assert_eq!(
        reply.json(),
        json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
               "message": "secrets is forbidden: User \"bob\" cannot list resource \"secrets\" in API group \"\" in the namespace \"team-a\"",
               "reason": "Forbidden", "details": {"kind": "secrets"}, "code": 403})
    );

    let s = status(
        Api::<Secret>::namespaced(bob.clone(), "team-a")
            .get("db")
            .await,
    );
    assert_eq!(
        s.message,
        "secrets \"db\" is forbidden: User \"bob\" cannot get resource \"secrets\" in API group \"\" in the namespace \"team-a\""
    );
    let d = s.details.unwrap();
    assert_eq!(
        (d.name.as_str(), d.kind.as_str(), d.group.as_str()),
        ("db", "secrets", "")
    );

    let reply = raw(
        &bob,
        "GET",
        "/apis/rbac.authorization.k8s.io/v1/clusterroles",
        &[],
        "",
    )
    .await;
    let body = reply.json();
    assert_eq!(
        body["message"],
        "clusterroles.rbac.authorization.k8s.io is forbidden: User \"bob\" cannot list resource \"clusterroles\" in API group \"rbac.authorization.k8s.io\" at the cluster scope"
    );
    assert_eq!(
        body["details"],
        json!({"group": "rbac.authorization.k8s.io", "kind": "clusterroles"})
    );

    let reply = raw(&bob, "GET", "/metrics", &[], "").await;
    assert_eq!(reply.code, 403);
    let body = reply.json();
    assert_eq!(
        body["message"],
        "forbidden: User \"bob\" cannot get path \"/metrics\""
    );
    assert_eq!(body["details"], json!({}));

    let reply = raw(
        &bob,
        "POST",
        "/api/v1/namespaces/team-a/serviceaccounts/default/token",
        &[("Content-Type", "application/json")],
        "{}",
    )
    .await;
    assert_eq!(
        reply.json()["message"],
        "serviceaccounts \"default\" is forbidden: User \"bob\" cannot create resource \"serviceaccounts/token\" in API group \"\" in the namespace \"team-a\""
    );
}
