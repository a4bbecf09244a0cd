//! Lists in pages through the kube client: `limit` and `continue`, `remainingItemCount`,
//! consistent pages while the collection changes, metadata-only lists and Tables paged the
//! same way, and the real server's answers to garbled or stale tokens.

use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, ListParams, PostParams};
use serde_json::{Value, json};

use crate::common::{client, raw, start, status, typed};

fn config_maps(n: usize) -> Vec<Value> {
    (0..n)
        .map(|i| {
            json!({"apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": format!("cm-{i:02}"), "namespace": "demo", "labels": {"even": (i % 2 == 0).to_string()}}})
        })
        .collect()
}

fn names(list: &kube::api::ObjectList<ConfigMap>) -> Vec<String> {
    list.items
        .iter()
        .map(|c| c.metadata.name.clone().unwrap())
        .collect()
}

#[tokio::test]
async fn pages_carry_a_continue_token_and_the_remaining_count() {
    let sandbox = start();
    sandbox.seed(config_maps(5)).unwrap();
    let api: Api<ConfigMap> = Api::namespaced(client(&sandbox, "admin", "demo").await, "demo");
    // cm-00 … cm-04 and kube-root-ca.crt: six in key order.
    let first = api.list(&ListParams::default().limit(4)).await.unwrap();
    assert_eq!(names(&first), ["cm-00", "cm-01", "cm-02", "cm-03"]);
    assert_eq!(first.metadata.remaining_item_count, Some(2));
    let token = first.metadata.continue_.clone().expect("a continue token");

    let second = api
        .list(&ListParams::default().limit(4).continue_token(&token))
        .await
        .unwrap();
    assert_eq!(names(&second), ["cm-04", "kube-root-ca.crt"]);
    assert_eq!(second.metadata.continue_, None);
    assert_eq!(second.metadata.remaining_item_count, None);
    assert_eq!(
        second.metadata.resource_version, first.metadata.resource_version,
        "every page is read at the first page's resourceVersion"
    );

    // Selectors filter within the pages; the remaining count is then unknown.
    let even = api
        .list(&ListParams::default().labels("even=true").limit(2))
        .await
        .unwrap();
    assert_eq!(names(&even), ["cm-00", "cm-02"]);
    assert!(even.metadata.continue_.is_some());
    assert_eq!(even.metadata.remaining_item_count, None);
    let everything = api.list(&ListParams::default()).await.unwrap();
    assert_eq!(everything.items.len(), 6);
    assert_eq!(everything.metadata.continue_, None);
}

#[tokio::test]
async fn later_pages_show_the_list_as_it_was() {
    let sandbox = start();
    sandbox.seed(config_maps(4)).unwrap();
    let api: Api<ConfigMap> = Api::namespaced(client(&sandbox, "admin", "demo").await, "demo");
    let first = api.list(&ListParams::default().limit(2)).await.unwrap();
    let token = first.metadata.continue_.clone().unwrap();
    api.create(
        &PostParams::default(),
        &typed(json!({"metadata": {"name": "cm-99"}})),
    )
    .await
    .unwrap();
    api.delete("cm-03", &Default::default()).await.unwrap();
    let rest = api
        .list(&ListParams::default().limit(10).continue_token(&token))
        .await
        .unwrap();
    assert_eq!(names(&rest), ["cm-02", "cm-03", "kube-root-ca.crt"]);
    let now = api.list(&ListParams::default()).await.unwrap();
    assert!(names(&now).contains(&"cm-99".to_string()));
}

#[tokio::test]
async fn garbled_and_stale_tokens_are_answered_as_the_real_server_answers_them() {
    let sandbox = start();
    sandbox.seed(config_maps(3)).unwrap();
    let api: Api<ConfigMap> = Api::namespaced(client(&sandbox, "admin", "demo").await, "demo");

    let s = status(
        api.list(&ListParams::default().limit(2).continue_token("not*a*token"))
            .await,
    );
    assert_eq!((s.code, s.reason.as_str()), (400, "BadRequest"));
    assert_eq!(
        s.message,
        "invalid continue token: continue key is not valid: illegal base64 data at input byte 3"
    );

    let first = api.list(&ListParams::default().limit(2)).await.unwrap();
    let token = first.metadata.continue_.clone().unwrap();
    let client = client(&sandbox, "admin", "demo").await;
    let reply = raw(
        &client,
        "GET",
        &format!("/api/v1/namespaces/demo/configmaps?limit=2&resourceVersion=5&continue={token}"),
        &[],
        "",
    )
    .await;
    assert_eq!(reply.code, 400, "{}", reply.body);
    assert_eq!(
        reply.json()["message"],
        "specifying resource version is not allowed when using continue"
    );

    // The sandbox keeps the copies of the last 16 paged lists: after 16 more, each taken
    // after a change, the first token's list is gone, as after an etcd compaction.
    for i in 0..16 {
        api.create(
            &PostParams::default(),
            &typed(json!({"metadata": {"name": format!("new-{i:02}")}})),
        )
        .await
        .unwrap();
        api.list(&ListParams::default().limit(1)).await.unwrap();
    }
    let reply = raw(
        &client,
        "GET",
        &format!("/api/v1/namespaces/demo/configmaps?limit=2&continue={token}"),
        &[],
        "",
    )
    .await;
    assert_eq!(reply.code, 410, "{}", reply.body);
    let body = reply.json();
    assert_eq!(body["reason"], "Expired");
    assert_eq!(
        body["message"],
        "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list."
    );
    let fresh = body["metadata"]["continue"].as_str().expect("a new token");
    let rest = api
        .list(&ListParams::default().limit(100).continue_token(fresh))
        .await
        .unwrap();
    assert_eq!(
        names(&rest)[0],
        "cm-02",
        "the new token resumes after cm-01, at the latest state"
    );
    assert_eq!(rest.items.len(), 2 + 16);
}

#[tokio::test]
async fn metadata_only_lists_and_tables_page_the_same_way() {
    let sandbox = start();
    sandbox.seed(config_maps(3)).unwrap();
    let client = client(&sandbox, "admin", "demo").await;
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), "demo");
    let first = api
        .list_metadata(&ListParams::default().limit(3))
        .await
        .unwrap();
    assert_eq!(first.items.len(), 3);
    assert_eq!(first.metadata.remaining_item_count, Some(1));
    let token = first.metadata.continue_.clone().unwrap();
    let rest = api
        .list_metadata(&ListParams::default().limit(3).continue_token(&token))
        .await
        .unwrap();
    let rest_names: Vec<_> = rest
        .items
        .iter()
        .map(|p| p.metadata.name.clone().unwrap())
        .collect();
    assert_eq!(rest_names, ["kube-root-ca.crt"]);

    let table = raw(
        &client,
        "GET",
        "/api/v1/namespaces/demo/configmaps?limit=2",
        &[("Accept", "application/json;as=Table;v=v1;g=meta.k8s.io")],
        "",
    )
    .await
    .json();
    assert_eq!(table["kind"], "Table");
    assert_eq!(table["rows"].as_array().unwrap().len(), 2);
    assert_eq!(table["metadata"]["remainingItemCount"], 2);
    let token = table["metadata"]["continue"].as_str().unwrap();
    let next = raw(
        &client,
        "GET",
        &format!("/api/v1/namespaces/demo/configmaps?limit=2&continue={token}"),
        &[("Accept", "application/json;as=Table;v=v1;g=meta.k8s.io")],
        "",
    )
    .await
    .json();
    let cells: Vec<&Value> = next["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| &r["cells"][0])
        .collect();
    assert_eq!(cells, [&json!("cm-02"), &json!("kube-root-ca.crt")]);
}
