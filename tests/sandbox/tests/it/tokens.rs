//! ServiceAccount tokens: TokenRequest defaults, limits and caps, what invalidates a token,
//! and the long-lived token Secrets the token controller fills.

use std::time::Duration;

use cicd_sandbox::{Config, Sandbox};
use k8s_openapi::api::authentication::v1::{SelfSubjectReview, TokenRequest};
use k8s_openapi::api::core::v1::{Secret, ServiceAccount};
use kube::api::{Api, DeleteParams, PostParams};
use kube::{Client, ResourceExt};
use serde_json::json;

use crate::common::{client, eventually, raw, start, start_with, status, token_client, typed};

const SA_TOKEN_TYPE: &str = "kubernetes.io/service-account-token";

async fn admin(sandbox: &Sandbox) -> Client {
    client(sandbox, "admin", "team-a").await
}

async fn create_sa(sandbox: &Sandbox, name: &str) -> ServiceAccount {
    let sa: ServiceAccount =
        typed(json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": name}}));
    Api::<ServiceAccount>::namespaced(admin(sandbox).await, "team-a")
        .create(&PostParams::default(), &sa)
        .await
        .unwrap()
}

fn token_request(expiration_seconds: Option<i64>) -> TokenRequest {
    let mut spec = json!({"audiences": []});
    if let Some(s) = expiration_seconds {
        spec["expirationSeconds"] = json!(s);
    }
    typed(json!({"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": spec}))
}

async fn request_token(
    sandbox: &Sandbox,
    sa: &str,
    expiration_seconds: Option<i64>,
) -> Result<TokenRequest, kube::Error> {
    Api::<ServiceAccount>::namespaced(admin(sandbox).await, "team-a")
        .create_token_request(
            sa,
            &PostParams::default(),
            &token_request(expiration_seconds),
        )
        .await
}

/// Who the server takes the token's bearer for; `Err` carries the Status (401 for a bad token).
async fn whoami(sandbox: &Sandbox, token: &str) -> Result<String, kube::Error> {
    let client = token_client(sandbox, token, "team-a").await;
    let review: SelfSubjectReview =
        typed(json!({"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"}));
    let reply = Api::<SelfSubjectReview>::all(client)
        .create(&PostParams::default(), &review)
        .await?;
    Ok(reply.status.unwrap().user_info.unwrap().username.unwrap())
}

#[track_caller]
fn assert_unauthorized(result: Result<String, kube::Error>) {
    let s = status(result);
    assert_eq!(
        (s.code, s.reason.as_str(), s.message.as_str()),
        (401, "Unauthorized", "Unauthorized")
    );
}

fn seconds_from_now(t: &k8s_openapi::apimachinery::pkg::apis::meta::v1::Time) -> i64 {
    t.0.as_second() - jiff::Timestamp::now().as_second()
}

#[tokio::test]
async fn a_token_request_defaults_to_one_hour() {
    let sandbox = start();
    create_sa(&sandbox, "ci").await;
    let reply = request_token(&sandbox, "ci", None).await.unwrap();
    assert_eq!(reply.metadata.name.as_deref(), Some("ci"));
    assert_eq!(reply.metadata.namespace.as_deref(), Some("team-a"));
    assert!(reply.metadata.creation_timestamp.is_some());
    assert_eq!(reply.spec.expiration_seconds, Some(3600));
    assert_eq!(
        reply.spec.audiences,
        ["https://kubernetes.default.svc.cluster.local"]
    );
    let status = reply.status.unwrap();
    let left = seconds_from_now(&status.expiration_timestamp);
    assert!((3590..=3600).contains(&left), "{left}");
    assert_eq!(
        whoami(&sandbox, &status.token).await.unwrap(),
        "system:serviceaccount:team-a:ci"
    );
}

#[tokio::test]
async fn token_durations_outside_the_limits_are_invalid() {
    let sandbox = start();
    create_sa(&sandbox, "ci").await;
    let s = status(request_token(&sandbox, "ci", Some(599)).await);
    assert_eq!((s.code, s.reason.as_str()), (422, "Invalid"));
    assert_eq!(
        s.message,
        "TokenRequest.authentication.k8s.io \"\" is invalid: spec.expirationSeconds: Invalid value: 599: may not specify a duration less than 10 minutes"
    );
    let d = s.details.unwrap();
    assert_eq!(
        (d.group.as_str(), d.kind.as_str(), d.name.as_str()),
        ("authentication.k8s.io", "TokenRequest", "")
    );
    assert_eq!(d.causes[0].field, "spec.expirationSeconds");

    let s = status(request_token(&sandbox, "ci", Some((1 << 32) + 1)).await);
    assert_eq!(
        s.message,
        "TokenRequest.authentication.k8s.io \"\" is invalid: spec.expirationSeconds: Invalid value: 4294967297: may not specify a duration larger than 2^32 seconds"
    );
    // Both limits are inclusive.
    for ok in [600, 1 << 32] {
        let reply = request_token(&sandbox, "ci", Some(ok)).await.unwrap();
        assert_eq!(reply.spec.expiration_seconds, Some(ok));
    }
}

#[tokio::test]
async fn the_server_maximum_caps_the_expiry_with_a_warning() {
    let sandbox = start();
    create_sa(&sandbox, "ci").await;
    sandbox.set_max_token_expiration(Some(Duration::from_secs(3600)));
    let thirty_days = 720 * 3600;
    let reply = request_token(&sandbox, "ci", Some(thirty_days))
        .await
        .unwrap();
    assert_eq!(reply.spec.expiration_seconds, Some(3600));
    let left = seconds_from_now(&reply.status.unwrap().expiration_timestamp);
    assert!((3590..=3600).contains(&left), "{left}");

    let raw_reply = raw(
        &admin(&sandbox).await,
        "POST",
        "/api/v1/namespaces/team-a/serviceaccounts/ci/token",
        &[("Content-Type", "application/json")],
        &json!({"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": {"expirationSeconds": thirty_days}}).to_string(),
    )
    .await;
    assert_eq!(raw_reply.code, 201);
    assert_eq!(
        raw_reply.header("warning"),
        "299 - \"requested expiration of 2592000 seconds shortened to 3600 seconds\""
    );
    // Shorter requests are left alone, without a warning.
    sandbox.set_max_token_expiration(Some(Duration::from_secs(7200)));
    let reply = request_token(&sandbox, "ci", Some(1800)).await.unwrap();
    assert_eq!(reply.spec.expiration_seconds, Some(1800));
}

#[tokio::test]
async fn a_token_for_a_missing_service_account_is_not_found() {
    let sandbox = start();
    let s = status(request_token(&sandbox, "ghost", None).await);
    assert_eq!((s.code, s.reason.as_str()), (404, "NotFound"));
    assert_eq!(s.message, "serviceaccounts \"ghost\" not found");
    // The ServiceAccount is looked up before the request is validated.
    let s = status(request_token(&sandbox, "ghost", Some(60)).await);
    assert_eq!(s.message, "serviceaccounts \"ghost\" not found");
}

#[tokio::test]
async fn deleting_the_service_account_invalidates_its_tokens() {
    let sandbox = start();
    create_sa(&sandbox, "ci").await;
    let token = request_token(&sandbox, "ci", None)
        .await
        .unwrap()
        .status
        .unwrap()
        .token;
    assert!(whoami(&sandbox, &token).await.is_ok());

    Api::<ServiceAccount>::namespaced(admin(&sandbox).await, "team-a")
        .delete("ci", &DeleteParams::default())
        .await
        .unwrap();
    assert_unauthorized(whoami(&sandbox, &token).await);
    // A new ServiceAccount of the same name is someone else (another uid).
    create_sa(&sandbox, "ci").await;
    assert_unauthorized(whoami(&sandbox, &token).await);
}

#[tokio::test]
async fn expired_tokens_are_unauthorized() {
    let sandbox = start();
    create_sa(&sandbox, "ci").await;
    let token = request_token(&sandbox, "ci", Some(600))
        .await
        .unwrap()
        .status
        .unwrap()
        .token;
    sandbox.advance_clock(Duration::from_secs(590));
    assert!(whoami(&sandbox, &token).await.is_ok());
    sandbox.advance_clock(Duration::from_secs(11));
    assert_unauthorized(whoami(&sandbox, &token).await);
    // Tokens issued after the jump live from the sandbox's "now".
    let fresh = request_token(&sandbox, "ci", Some(600)).await.unwrap();
    assert!(whoami(&sandbox, &fresh.status.unwrap().token).await.is_ok());
}

#[tokio::test]
async fn legacy_token_secrets_are_filled_used_and_revoked() {
    let delay = Duration::from_millis(300);
    let sandbox = start_with(Config {
        token_controller_delay: delay,
        ..Config::default()
    });
    let sa = create_sa(&sandbox, "legacy").await;
    let secrets: Api<Secret> = Api::namespaced(admin(&sandbox).await, "team-a");
    let secret: Secret = typed(json!({
        "apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": "legacy-token", "annotations": {"kubernetes.io/service-account.name": "legacy"}},
        "type": SA_TOKEN_TYPE,
    }));
    let created = secrets
        .create(&PostParams::default(), &secret)
        .await
        .unwrap();
    assert!(created.data.is_none(), "the controller fills it later");

    let started = std::time::Instant::now();
    let filled = eventually(Duration::from_secs(5), "the token controller", || {
        let secrets = secrets.clone();
        async move {
            let s = secrets.get("legacy-token").await.unwrap();
            s.data
                .as_ref()
                .is_some_and(|d| d.contains_key("token"))
                .then_some(s)
        }
    })
    .await;
    assert!(started.elapsed() < delay + Duration::from_secs(1));
    let data = filled.data.as_ref().unwrap();
    assert_eq!(data["namespace"].0, b"team-a");
    assert!(String::from_utf8_lossy(&data["ca.crt"].0).starts_with("-----BEGIN CERTIFICATE-----"));
    assert_eq!(
        filled
            .annotations()
            .get("kubernetes.io/service-account.uid"),
        sa.uid().as_ref()
    );

    let token = String::from_utf8(data["token"].0.clone()).unwrap();
    assert_eq!(
        whoami(&sandbox, &token).await.unwrap(),
        "system:serviceaccount:team-a:legacy"
    );
    let used = secrets.get("legacy-token").await.unwrap();
    let today = jiff::Timestamp::now().strftime("%Y-%m-%d").to_string();
    assert_eq!(
        used.labels().get("kubernetes.io/legacy-token-last-used"),
        Some(&today)
    );

    secrets
        .delete("legacy-token", &DeleteParams::default())
        .await
        .unwrap();
    assert_unauthorized(whoami(&sandbox, &token).await);
}

#[tokio::test]
async fn every_issued_token_is_recorded_as_minted() {
    let sandbox = start_with(Config {
        token_controller_delay: Duration::ZERO,
        ..Config::default()
    });
    create_sa(&sandbox, "ci").await;
    let mut issued = Vec::new();
    for _ in 0..2 {
        issued.push(
            request_token(&sandbox, "ci", None)
                .await
                .unwrap()
                .status
                .unwrap()
                .token,
        );
    }
    let secrets: Api<Secret> = Api::namespaced(admin(&sandbox).await, "team-a");
    let secret: Secret = typed(json!({
        "apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": "ci-token", "annotations": {"kubernetes.io/service-account.name": "ci"}},
        "type": SA_TOKEN_TYPE,
    }));
    secrets
        .create(&PostParams::default(), &secret)
        .await
        .unwrap();
    let legacy = eventually(Duration::from_secs(5), "the token controller", || {
        let secrets = secrets.clone();
        async move {
            let s = secrets.get("ci-token").await.unwrap();
            s.data.and_then(|d| {
                d.get("token")
                    .map(|t| String::from_utf8(t.0.clone()).unwrap())
            })
        }
    })
    .await;
    issued.push(legacy);

    let minted = sandbox.minted_tokens();
    assert_eq!(minted.len(), 3);
    for token in &issued {
        assert!(minted.contains(token));
    }
}
