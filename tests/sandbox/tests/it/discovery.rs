//! Discovery and `/version` through kube's own discovery client, in both forms real servers
//! offer: aggregated (apidiscovery.k8s.io/v2, two requests) and legacy (one per group version).

use cicd_sandbox::ResourceType;
use kube::core::GroupVersionKind;
use kube::discovery::{ApiCapabilities, Discovery, Scope};

use crate::common::{client, raw, start};

const AGGREGATED_CT: &str = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";

fn caps(d: &Discovery, group: &str, version: &str, kind: &str) -> ApiCapabilities {
    d.resolve_gvk(&GroupVersionKind::gvk(group, version, kind))
        .unwrap_or_else(|| panic!("{kind}.{group}/{version} is not discovered"))
        .1
}

fn subresource_names(c: &ApiCapabilities) -> Vec<String> {
    c.subresources
        .iter()
        .map(|(r, _)| r.plural.clone())
        .collect()
}

#[tokio::test]
async fn aggregated_discovery_needs_exactly_two_requests() {
    let sandbox = start();
    let client = client(&sandbox, "alice", "team-a").await;
    sandbox.clear_request_log();

    let d = Discovery::new(client).run_aggregated().await.unwrap();

    let log = sandbox.request_log();
    let mut paths: Vec<&str> = log.iter().map(|e| e.path.as_str()).collect();
    paths.sort();
    assert_eq!(paths, ["/api", "/apis"], "{log:#?}");
    for e in &log {
        assert_eq!((e.method.as_str(), e.status), ("GET", 200));
        assert!(
            e.accept.starts_with(
                "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
            ),
            "{}",
            e.accept
        );
    }
    assert!(d.has_group(""), "core group");
    assert!(d.has_group("apps"));
    let deployments = caps(&d, "apps", "v1", "Deployment");
    assert_eq!(deployments.scope, Scope::Namespaced);
    assert!(deployments.operations.iter().any(|v| v == "list"));
}

#[tokio::test]
async fn aggregated_replies_carry_the_aggregated_content_type() {
    let sandbox = start();
    let client = client(&sandbox, "alice", "team-a").await;
    let accept = kube::core::discovery::v2::ACCEPT_AGGREGATED_DISCOVERY_V2;
    for path in ["/api", "/apis"] {
        let reply = raw(&client, "GET", path, &[("Accept", accept)], "").await;
        assert_eq!(reply.code, 200);
        assert_eq!(reply.header("content-type"), AGGREGATED_CT, "{path}");
        let body = reply.json();
        assert_eq!(body["kind"], "APIGroupDiscoveryList");
        assert_eq!(body["apiVersion"], "apidiscovery.k8s.io/v2");
    }
    // Without the aggregated Accept the same paths answer the legacy documents.
    let reply = raw(
        &client,
        "GET",
        "/apis",
        &[("Accept", "application/json")],
        "",
    )
    .await;
    assert_eq!(reply.header("content-type"), "application/json");
    assert_eq!(reply.json()["kind"], "APIGroupList");
}

#[tokio::test]
async fn legacy_discovery_asks_every_group_version() {
    let sandbox = start();
    let client = client(&sandbox, "bob", "team-a").await;
    sandbox.clear_request_log();

    let d = Discovery::new(client).run().await.unwrap();

    let paths: Vec<String> = sandbox.request_log().into_iter().map(|e| e.path).collect();
    for expected in [
        "/api",
        "/apis",
        "/api/v1",
        "/apis/apps/v1",
        "/apis/batch/v1",
    ] {
        assert!(
            paths.iter().any(|p| p == expected),
            "{expected} in {paths:?}"
        );
    }
    assert_eq!(caps(&d, "", "v1", "Namespace").scope, Scope::Cluster);
    assert_eq!(caps(&d, "", "v1", "ConfigMap").scope, Scope::Namespaced);
    assert_eq!(
        caps(&d, "rbac.authorization.k8s.io", "v1", "ClusterRole").scope,
        Scope::Cluster
    );
}

#[tokio::test]
async fn a_server_without_aggregated_discovery_still_serves_legacy_discovery() {
    let sandbox = start();
    sandbox.set_aggregated_discovery(false);
    let client = client(&sandbox, "alice", "team-a").await;

    let accept = kube::core::discovery::v2::ACCEPT_AGGREGATED_DISCOVERY_V2;
    let reply = raw(&client, "GET", "/apis", &[("Accept", accept)], "").await;
    assert_eq!(reply.header("content-type"), "application/json");
    assert_eq!(reply.json()["kind"], "APIGroupList");

    // kube 5 does not look at the reply's Content-Type: the legacy documents decode as an
    // empty APIGroupDiscoveryList, so aggregated discovery "succeeds" with nothing in it
    // (as against a real pre-1.26 server). Callers must fall back on an empty result too.
    let aggregated = Discovery::new(client.clone())
        .run_aggregated()
        .await
        .unwrap();
    assert_eq!(aggregated.groups().count(), 0);
    assert!(!aggregated.has_group("apps"));

    let d = Discovery::new(client).run().await.unwrap();
    assert!(d.has_group("apps") && d.has_group(""));
}

#[tokio::test]
async fn crd_style_types_are_discovered_with_scope_and_verbs() {
    let sandbox = start();
    let client = client(&sandbox, "alice", "team-a").await;
    let aggregated = Discovery::new(client.clone())
        .run_aggregated()
        .await
        .unwrap();
    let legacy = Discovery::new(client).run().await.unwrap();
    for d in [&aggregated, &legacy] {
        for (group, version, kind, plural) in [
            (
                "monitoring.coreos.com",
                "v1",
                "PrometheusRule",
                "prometheusrules",
            ),
            ("cert-manager.io", "v1", "Certificate", "certificates"),
            ("argoproj.io", "v1alpha1", "Application", "applications"),
        ] {
            let (ar, c) = d
                .resolve_gvk(&GroupVersionKind::gvk(group, version, kind))
                .unwrap_or_else(|| panic!("{kind} not discovered"));
            assert_eq!(ar.plural, plural);
            assert_eq!(c.scope, Scope::Namespaced, "{kind}");
            let mut verbs = c.operations.clone();
            verbs.sort();
            assert_eq!(
                verbs,
                [
                    "create",
                    "delete",
                    "deletecollection",
                    "get",
                    "list",
                    "patch",
                    "update",
                    "watch"
                ],
                "{kind}"
            );
        }
    }
}

#[tokio::test]
async fn token_and_scale_are_listed_as_subresources() {
    let sandbox = start();
    let client = client(&sandbox, "alice", "team-a").await;
    let aggregated = Discovery::new(client.clone())
        .run_aggregated()
        .await
        .unwrap();
    let legacy = Discovery::new(client.clone()).run().await.unwrap();
    for d in [&aggregated, &legacy] {
        let sa = caps(d, "", "v1", "ServiceAccount");
        assert!(subresource_names(&sa).contains(&"token".to_string()));
        let (token, token_caps) = sa
            .subresources
            .iter()
            .find(|(r, _)| r.plural == "token")
            .unwrap();
        assert_eq!(token.kind, "TokenRequest");
        assert_eq!(token_caps.operations, ["create"]);

        let deploy = caps(d, "apps", "v1", "Deployment");
        assert!(subresource_names(&deploy).contains(&"scale".to_string()));
        let (scale, scale_caps) = deploy
            .subresources
            .iter()
            .find(|(r, _)| r.plural == "scale")
            .unwrap();
        assert_eq!(scale.kind, "Scale");
        assert_eq!(scale_caps.operations, ["get", "patch", "update"]);
    }
    // The legacy list names the subresource's own group and version, as the real server does.
    let core = raw(&client, "GET", "/api/v1", &[], "").await.json();
    let token = core["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "serviceaccounts/token")
        .unwrap()
        .clone();
    assert_eq!(token["group"], "authentication.k8s.io");
    assert_eq!(token["version"], "v1");
}

#[tokio::test]
async fn a_registered_type_shows_up_in_discovery() {
    let sandbox = start();
    let client = client(&sandbox, "admin", "demo").await;
    let before = Discovery::new(client.clone())
        .run_aggregated()
        .await
        .unwrap();
    assert!(!before.has_group("widgets.example.com"));

    sandbox.register_type(
        ResourceType::new("widgets.example.com", "v1beta1", "gadgets", "Gadget", false)
            .short_names(&["gd"]),
    );

    for d in [
        Discovery::new(client.clone())
            .run_aggregated()
            .await
            .unwrap(),
        Discovery::new(client.clone()).run().await.unwrap(),
    ] {
        let group = d.get("widgets.example.com").expect("new group discovered");
        assert_eq!(group.preferred_version(), Some("v1beta1"));
        let c = caps(&d, "widgets.example.com", "v1beta1", "Gadget");
        assert_eq!(c.scope, Scope::Cluster);
    }
    // And it is served: objects of the new type can be stored.
    let ar = kube::discovery::ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("widgets.example.com", "v1beta1", "Gadget"),
        "gadgets",
    );
    let api: kube::Api<kube::core::DynamicObject> = kube::Api::all_with(client, &ar);
    let obj = kube::core::DynamicObject::new("g1", &ar);
    api.create(&Default::default(), &obj).await.unwrap();
    assert_eq!(api.list(&Default::default()).await.unwrap().items.len(), 1);
}

#[tokio::test]
async fn version_matches_a_1_30_server() {
    let sandbox = start();
    let client = client(&sandbox, "bob", "team-a").await;
    let v = client.apiserver_version().await.unwrap();
    assert_eq!((v.major.as_str(), v.minor.as_str()), ("1", "30"));
    assert_eq!(v.git_version, "v1.30.0");
    assert_eq!(v.git_tree_state, "clean");
    assert_eq!(v.go_version, "go1.22.2");
    assert_eq!(v.compiler, "gc");
    assert_eq!(v.platform, "linux/amd64");
    assert_eq!(v.git_commit.len(), 40);
}
