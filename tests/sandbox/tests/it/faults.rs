//! Programmed faults: each action hits exactly the next N matching requests (method and
//! path glob), then the server answers normally again; the request log shows what happened.

use std::time::{Duration, Instant};

use cicd_sandbox::{Fault, FaultAction, Sandbox};
use k8s_openapi::api::core::v1::ConfigMap;
use kube::Api;
use kube::api::ListParams;

use crate::common::{self, client, client_without_retries, raw, start, status};

const CONFIGMAPS: &str = "/api/v1/namespaces/team-a/configmaps";

async fn configmaps(sandbox: &Sandbox) -> Api<ConfigMap> {
    Api::default_namespaced(client_without_retries(sandbox, "alice", "team-a").await)
}

/// Status codes the request log recorded for requests to `path`.
fn logged(sandbox: &Sandbox, path: &str) -> Vec<u16> {
    sandbox
        .request_log()
        .into_iter()
        .filter(|e| e.path.split('?').next() == Some(path))
        .map(|e| e.status)
        .collect()
}

#[tokio::test]
async fn a_status_fault_answers_n_requests_then_stops() {
    let sandbox = start();
    let api = configmaps(&sandbox).await;
    sandbox.inject_fault(Fault::new(
        Some("GET"),
        "/api/v1/namespaces/*/configmaps",
        2,
        FaultAction::Status(500),
    ));
    for _ in 0..2 {
        let s = status(api.list(&ListParams::default()).await);
        assert_eq!((s.code, s.reason.as_str()), (500, "InternalError"));
    }
    api.list(&ListParams::default()).await.unwrap();
    assert_eq!(logged(&sandbox, CONFIGMAPS), [500, 500, 200]);
}

#[tokio::test]
async fn faults_only_hit_their_method_and_path() {
    let sandbox = start();
    let api = configmaps(&sandbox).await;
    sandbox.inject_fault(Fault::new(
        Some("POST"),
        "/api/v1/namespaces/*/configmaps",
        1,
        FaultAction::Status(503),
    ));
    // A GET of the same path and a GET elsewhere are untouched.
    api.list(&ListParams::default()).await.unwrap();
    api.get_opt("x").await.unwrap();
    let cm: ConfigMap = common::typed(serde_json::json!({"metadata": {"name": "x"}}));
    let s = status(api.create(&Default::default(), &cm).await);
    assert_eq!((s.code, s.reason.as_str()), (503, "ServiceUnavailable"));
    api.create(&Default::default(), &cm).await.unwrap();
}

#[tokio::test]
async fn too_many_requests_is_plain_text_with_retry_after() {
    let sandbox = start();
    let client = client_without_retries(&sandbox, "alice", "team-a").await;
    sandbox.inject_fault(Fault::new(
        None,
        CONFIGMAPS,
        1,
        FaultAction::TooManyRequests {
            retry_after_secs: 3,
        },
    ));
    let reply = raw(&client, "GET", CONFIGMAPS, &[], "").await;
    assert_eq!(reply.code, 429);
    assert_eq!(reply.header("retry-after"), "3");
    assert_eq!(reply.header("content-type"), "text/plain; charset=utf-8");
    assert_eq!(reply.body, "Too many requests, please try again later.\n");
    // kube reports the non-Status body as best it can.
    sandbox.inject_fault(Fault::new(
        None,
        CONFIGMAPS,
        1,
        FaultAction::TooManyRequests {
            retry_after_secs: 3,
        },
    ));
    let s = status(
        configmaps(&sandbox)
            .await
            .list(&ListParams::default())
            .await,
    );
    assert_eq!(s.code, 429);
    assert_eq!(s.message, "Too many requests, please try again later.");
    assert_eq!(logged(&sandbox, CONFIGMAPS), [429, 429]);
}

#[tokio::test]
async fn kubes_default_client_waits_out_retry_after() {
    let sandbox = start();
    let api: Api<ConfigMap> = Api::default_namespaced(client(&sandbox, "alice", "team-a").await);
    sandbox.inject_fault(Fault::new(
        Some("GET"),
        CONFIGMAPS,
        1,
        FaultAction::TooManyRequests {
            retry_after_secs: 1,
        },
    ));
    let started = Instant::now();
    api.list(&ListParams::default()).await.unwrap();
    assert!(started.elapsed() >= Duration::from_secs(1));
    assert_eq!(logged(&sandbox, CONFIGMAPS), [429, 200]);
}

#[tokio::test]
async fn a_conflict_fault_is_a_conflict_status() {
    let sandbox = start();
    let api = configmaps(&sandbox).await;
    sandbox.inject_fault(Fault::new(
        Some("GET"),
        CONFIGMAPS,
        1,
        FaultAction::Conflict,
    ));
    let s = status(api.list(&ListParams::default()).await);
    assert_eq!((s.code, s.reason.as_str()), (409, "Conflict"));
    assert!(
        s.message.contains("the object has been modified"),
        "{}",
        s.message
    );
    api.list(&ListParams::default()).await.unwrap();
}

#[tokio::test]
async fn a_dropped_connection_is_a_transport_error_and_the_next_request_works() {
    let sandbox = start();
    let api = configmaps(&sandbox).await;
    sandbox.inject_fault(Fault::new(
        Some("GET"),
        CONFIGMAPS,
        1,
        FaultAction::DropConnection,
    ));
    match api.list(&ListParams::default()).await {
        Err(kube::Error::Api(s)) => panic!("expected a connection error, got a Status: {s:?}"),
        Err(_) => {}
        Ok(_) => panic!("the request should have failed"),
    }
    api.list(&ListParams::default()).await.unwrap();
    // The dropped request is logged without a status.
    assert_eq!(logged(&sandbox, CONFIGMAPS), [0, 200]);
}

#[tokio::test]
async fn a_delay_fault_slows_the_request_down_and_then_serves_it() {
    let sandbox = start();
    let api = configmaps(&sandbox).await;
    // Long enough that a loaded machine serving the undelayed request does not reach it.
    let delay = Duration::from_secs(1);
    sandbox.inject_fault(Fault::new(
        None,
        "/api/v1/namespaces/*/configmaps*",
        1,
        FaultAction::Delay(delay),
    ));
    let started = Instant::now();
    api.list(&ListParams::default()).await.unwrap();
    assert!(started.elapsed() >= delay);
    let started = Instant::now();
    api.list(&ListParams::default()).await.unwrap();
    assert!(started.elapsed() < delay);
    assert_eq!(logged(&sandbox, CONFIGMAPS), [200, 200]);
}

#[tokio::test]
async fn faulted_requests_are_logged_with_method_path_and_status() {
    let sandbox = start();
    let api = configmaps(&sandbox).await;
    sandbox.clear_request_log();
    sandbox.inject_fault(Fault::new(
        Some("get"),
        "/api/v1/namespaces/team-a/*",
        1,
        FaultAction::Status(504),
    ));
    let s = status(api.get("anything").await);
    assert_eq!((s.code, s.reason.as_str()), (504, "Timeout"));
    let log = sandbox.request_log();
    assert_eq!(log.len(), 1);
    let e = &log[0];
    assert_eq!(
        (e.method.as_str(), e.path.as_str(), e.status, e.changed),
        (
            "GET",
            "/api/v1/namespaces/team-a/configmaps/anything",
            504,
            false
        )
    );
    sandbox.clear_faults();
    assert_eq!(status(api.get("anything").await).code, 404);
}
