//! Namespace deletion as the real control plane does it: DELETE marks the namespace
//! Terminating and answers with it, nothing new may be created in it, and the namespace
//! controller removes what it holds and then the namespace.

use std::time::Duration;

use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams};
use serde_json::json;

use crate::common::{client, eventually, start_with, status, typed};

#[tokio::test]
async fn a_deleted_namespace_terminates_refuses_new_content_then_goes() {
    let sandbox = start_with(cicd_sandbox::Config {
        namespace_deletion_delay: Duration::from_secs(2),
        ..Default::default()
    });
    let client = client(&sandbox, "admin", "demo").await;
    let namespaces: Api<Namespace> = Api::all(client.clone());
    namespaces
        .create(
            &PostParams::default(),
            &typed(json!({"metadata": {"name": "short"}})),
        )
        .await
        .unwrap();
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), "short");
    cms.create(
        &PostParams::default(),
        &typed(json!({"metadata": {"name": "inside"}})),
    )
    .await
    .unwrap();

    let answered = namespaces
        .delete("short", &DeleteParams::default())
        .await
        .unwrap()
        .left()
        .expect("the namespace, not a Status");
    assert_eq!(
        answered.status.as_ref().unwrap().phase.as_deref(),
        Some("Terminating")
    );
    assert!(answered.metadata.deletion_timestamp.is_some());
    let read = namespaces.get("short").await.unwrap();
    assert_eq!(read.status.unwrap().phase.as_deref(), Some("Terminating"));
    assert_eq!(
        read.metadata.resource_version, answered.metadata.resource_version,
        "the reply is the stored object"
    );
    // Deleting again answers the namespace as it is.
    let again = namespaces
        .delete("short", &DeleteParams::default())
        .await
        .unwrap()
        .left()
        .unwrap();
    assert_eq!(
        again.metadata.deletion_timestamp,
        answered.metadata.deletion_timestamp
    );

    let s = status(
        cms.create(
            &PostParams::default(),
            &typed(json!({"metadata": {"name": "late"}})),
        )
        .await,
    );
    assert_eq!((s.code, s.reason.as_str()), (403, "Forbidden"));
    assert_eq!(
        s.message,
        "configmaps \"late\" is forbidden: unable to create new content in namespace short because it is being terminated"
    );
    let details = s.details.unwrap();
    assert_eq!(
        (details.kind.as_str(), details.name.as_str()),
        ("configmaps", "late")
    );
    let cause = &details.causes[0];
    assert_eq!(
        (
            cause.reason.as_str(),
            cause.message.as_str(),
            cause.field.as_str()
        ),
        (
            "NamespaceTerminating",
            "namespace short is being terminated",
            "metadata.namespace"
        )
    );
    // What is already there may still change until the controller removes it.
    cms.patch(
        "inside",
        &PatchParams::default(),
        &Patch::Merge(json!({"data": {"k": "v"}})),
    )
    .await
    .expect("updates are not refused");

    eventually(Duration::from_secs(10), "the namespace to go", || {
        let namespaces = namespaces.clone();
        async move {
            namespaces
                .get_opt("short")
                .await
                .unwrap()
                .is_none()
                .then_some(())
        }
    })
    .await;
    assert_eq!(status(cms.get("inside").await).code, 404);
    let s = status(
        cms.create(
            &PostParams::default(),
            &typed(json!({"metadata": {"name": "late"}})),
        )
        .await,
    );
    assert_eq!(
        (s.code, s.message.as_str()),
        (404, "namespaces \"short\" not found")
    );
}

#[tokio::test]
async fn a_dry_run_delete_leaves_the_namespace_active() {
    let sandbox = start_with(Default::default());
    let namespaces: Api<Namespace> = Api::all(client(&sandbox, "admin", "demo").await);
    let answered = namespaces
        .delete("demo", &DeleteParams::default().dry_run())
        .await
        .unwrap()
        .left()
        .unwrap();
    assert_eq!(
        answered.status.unwrap().phase.as_deref(),
        Some("Terminating")
    );
    tokio::time::sleep(Duration::from_millis(700)).await;
    let demo = namespaces.get("demo").await.unwrap();
    assert_eq!(demo.status.unwrap().phase.as_deref(), Some("Active"));
    assert!(demo.metadata.deletion_timestamp.is_none());
}
