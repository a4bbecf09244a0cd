//! Generic storage through typed `Api<K>`: the CRUD verbs, every patch type, optimistic
//! concurrency, the error Statuses a client decodes, selectors, metadata-only lists,
//! namespace lifecycle and generateName.

use std::time::Duration;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, Secret, ServiceAccount};
use k8s_openapi::api::rbac::v1::{ClusterRole, Role};
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams};
use kube::core::response::StatusSummary;
use serde_json::json;

use crate::common::{client, eventually, raw, start, status, typed};

fn config_map(name: &str, labels: serde_json::Value, data: serde_json::Value) -> ConfigMap {
    typed(json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": name, "labels": labels},
        "data": data,
    }))
}

fn deployment(name: &str) -> Deployment {
    typed(json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [
                    {"name": "web", "image": "nginx:1.25"},
                    {"name": "sidecar", "image": "busybox:1.36"},
                ]},
            },
        },
    }))
}

#[tokio::test]
async fn namespaced_objects_go_through_create_get_list_replace_delete() {
    let sandbox = start();
    let api: Api<ConfigMap> = Api::default_namespaced(client(&sandbox, "alice", "team-a").await);

    let created = api
        .create(
            &PostParams::default(),
            &config_map("settings", json!({}), json!({"a": "1"})),
        )
        .await
        .unwrap();
    let meta = &created.metadata;
    assert_eq!(meta.namespace.as_deref(), Some("team-a"));
    assert_eq!(meta.uid.as_ref().map(String::len), Some(36));
    assert!(
        meta.resource_version
            .as_deref()
            .is_some_and(|rv| !rv.is_empty())
    );
    assert!(meta.creation_timestamp.is_some());

    let fetched = api.get("settings").await.unwrap();
    assert_eq!(fetched.metadata.uid, meta.uid);
    assert_eq!(fetched.data.as_ref().unwrap()["a"], "1");

    let names: Vec<String> = api
        .list(&ListParams::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .filter_map(|c| c.metadata.name)
        .collect();
    assert!(names.contains(&"settings".to_string()), "{names:?}");

    let mut changed = fetched.clone();
    changed.data = Some([("a".to_string(), "2".to_string())].into());
    let replaced = api
        .replace("settings", &PostParams::default(), &changed)
        .await
        .unwrap();
    assert_eq!(replaced.metadata.uid, meta.uid);
    assert_ne!(replaced.metadata.resource_version, meta.resource_version);
    assert_eq!(replaced.data.unwrap()["a"], "2");

    api.delete("settings", &DeleteParams::default())
        .await
        .unwrap();
    let gone = status(api.get("settings").await);
    assert_eq!(gone.code, 404);
}

#[tokio::test]
async fn cluster_scoped_objects_have_no_namespace() {
    let sandbox = start();
    let client = client(&sandbox, "admin", "demo").await;
    let roles: Api<ClusterRole> = Api::all(client.clone());
    let role: ClusterRole = typed(json!({
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
        "metadata": {"name": "pod-reader"},
        "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}],
    }));
    let created = roles.create(&PostParams::default(), &role).await.unwrap();
    assert_eq!(created.metadata.namespace, None);
    assert!(created.metadata.uid.is_some());

    let mut more = roles.get("pod-reader").await.unwrap();
    more.rules.as_mut().unwrap()[0].verbs.push("list".into());
    let replaced = roles
        .replace("pod-reader", &PostParams::default(), &more)
        .await
        .unwrap();
    assert_eq!(replaced.rules.unwrap()[0].verbs, ["get", "list"]);
    roles
        .delete("pod-reader", &DeleteParams::default())
        .await
        .unwrap();
    assert_eq!(status(roles.get("pod-reader").await).code, 404);

    let namespaces: Api<Namespace> = Api::all(client);
    let ns: Namespace =
        typed(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "scratch"}}));
    let created = namespaces
        .create(&PostParams::default(), &ns)
        .await
        .unwrap();
    assert_eq!(created.status.unwrap().phase.as_deref(), Some("Active"));
    assert!(
        namespaces
            .list(&ListParams::default())
            .await
            .unwrap()
            .items
            .iter()
            .any(|n| n.metadata.name.as_deref() == Some("scratch"))
    );
}

#[tokio::test]
async fn merge_json_strategic_and_apply_patches() {
    let sandbox = start();
    let client = client(&sandbox, "alice", "team-a").await;
    let cms: Api<ConfigMap> = Api::default_namespaced(client.clone());
    cms.create(
        &PostParams::default(),
        &config_map("p", json!({"tier": "web"}), json!({"a": "1", "b": "2"})),
    )
    .await
    .unwrap();

    // Merge patch: null removes a key.
    let merged = cms
        .patch(
            "p",
            &PatchParams::default(),
            &Patch::Merge(json!({"data": {"b": null, "c": "3"}})),
        )
        .await
        .unwrap();
    let data = merged.data.unwrap();
    assert_eq!(
        (data.get("a"), data.get("b"), data.get("c")),
        (Some(&"1".into()), None, Some(&"3".into()))
    );

    // JSON patch (kube needs its jsonpatch feature for this; the wire format is what matters).
    let reply = raw(
        &client,
        "PATCH",
        "/api/v1/namespaces/team-a/configmaps/p",
        &[("Content-Type", "application/json-patch+json")],
        r#"[{"op":"replace","path":"/data/a","value":"10"},{"op":"add","path":"/metadata/labels/extra","value":"yes"}]"#,
    )
    .await;
    assert_eq!(reply.code, 200, "{}", reply.body);
    let patched = cms.get("p").await.unwrap();
    assert_eq!(patched.data.unwrap()["a"], "10");
    assert_eq!(patched.metadata.labels.unwrap()["extra"], "yes");

    // Strategic merge patch: containers merge by name instead of being replaced.
    let deployments: Api<Deployment> = Api::default_namespaced(client.clone());
    deployments
        .create(&PostParams::default(), &deployment("web"))
        .await
        .unwrap();
    let patch = json!({"spec": {"template": {"spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]}}}});
    let d = deployments
        .patch("web", &PatchParams::default(), &Patch::Strategic(patch))
        .await
        .unwrap();
    let containers = d.spec.unwrap().template.spec.unwrap().containers;
    let images: Vec<(String, Option<String>)> =
        containers.into_iter().map(|c| (c.name, c.image)).collect();
    assert_eq!(
        images,
        [
            ("web".to_string(), Some("nginx:1.27".to_string())),
            ("sidecar".to_string(), Some("busybox:1.36".to_string()))
        ]
    );
    assert_eq!(d.metadata.generation, Some(2));

    // Server-side apply creates, then updates, recording the manager.
    let applied = cms
        .patch(
            "applied",
            &PatchParams::apply("ci-bot"),
            &Patch::Apply(json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "applied"}, "data": {"k": "v"}})),
        )
        .await
        .unwrap();
    assert!(applied.metadata.uid.is_some());
    let managers: Vec<(String, String)> = applied
        .metadata
        .managed_fields
        .unwrap()
        .into_iter()
        .map(|m| (m.manager.unwrap(), m.operation.unwrap()))
        .collect();
    assert_eq!(managers, [("ci-bot".to_string(), "Apply".to_string())]);
    let updated = cms
        .patch(
            "applied",
            &PatchParams::apply("ci-bot"),
            &Patch::Apply(json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "applied"}, "data": {"k": "w"}})),
        )
        .await
        .unwrap();
    assert_eq!(updated.data.unwrap()["k"], "w");
    assert_eq!(updated.metadata.uid, applied.metadata.uid);
}

#[tokio::test]
async fn replacing_with_a_stale_resource_version_conflicts() {
    let sandbox = start();
    let api: Api<Role> = Api::default_namespaced(client(&sandbox, "alice", "team-a").await);
    let role: Role = typed(json!({
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
        "metadata": {"name": "reader"},
        "rules": [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get"]}],
    }));
    let first = api.create(&PostParams::default(), &role).await.unwrap();
    let mut newer = first.clone();
    newer.rules.as_mut().unwrap()[0].verbs.push("list".into());
    api.replace("reader", &PostParams::default(), &newer)
        .await
        .unwrap();

    let mut stale = first.clone();
    stale.rules.as_mut().unwrap()[0].verbs.push("watch".into());
    let s = status(api.replace("reader", &PostParams::default(), &stale).await);
    assert_eq!((s.code, s.reason.as_str()), (409, "Conflict"));
    assert_eq!(
        s.message,
        "Operation cannot be fulfilled on roles.rbac.authorization.k8s.io \"reader\": the object has been modified; please apply your changes to the latest version and try again"
    );
    let d = s.details.unwrap();
    assert_eq!(
        (d.name.as_str(), d.group.as_str(), d.kind.as_str()),
        ("reader", "rbac.authorization.k8s.io", "roles")
    );
}

#[tokio::test]
async fn creating_an_existing_object_is_already_exists() {
    let sandbox = start();
    let api: Api<ConfigMap> = Api::default_namespaced(client(&sandbox, "alice", "team-a").await);
    let cm = config_map("twice", json!({}), json!({}));
    api.create(&PostParams::default(), &cm).await.unwrap();
    let s = status(api.create(&PostParams::default(), &cm).await);
    assert_eq!((s.code, s.reason.as_str()), (409, "AlreadyExists"));
    assert_eq!(s.message, "configmaps \"twice\" already exists");
    let d = s.details.unwrap();
    assert_eq!(
        (d.name.as_str(), d.group.as_str(), d.kind.as_str()),
        ("twice", "", "configmaps")
    );
}

#[tokio::test]
async fn getting_a_missing_object_is_not_found_with_the_plural() {
    let sandbox = start();
    let client = client(&sandbox, "alice", "team-a").await;
    let s = status(
        Api::<ConfigMap>::default_namespaced(client.clone())
            .get("nope")
            .await,
    );
    assert_eq!(
        (s.code, s.reason.as_str(), s.message.as_str()),
        (404, "NotFound", "configmaps \"nope\" not found")
    );
    assert_eq!(s.details.unwrap().kind, "configmaps");

    let s = status(
        Api::<Role>::default_namespaced(client.clone())
            .get("nope")
            .await,
    );
    assert_eq!(
        s.message,
        "roles.rbac.authorization.k8s.io \"nope\" not found"
    );
    let d = s.details.unwrap();
    assert_eq!(
        (d.kind.as_str(), d.group.as_str()),
        ("roles", "rbac.authorization.k8s.io")
    );

    // The raw body leaves the group out for the core group.
    let reply = raw(
        &client,
        "GET",
        "/api/v1/namespaces/team-a/configmaps/nope",
        &[],
        "",
    )
    .await;
    assert_eq!(
        reply.json(),
        json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
               "message": "configmaps \"nope\" not found", "reason": "NotFound",
               "details": {"name": "nope", "kind": "configmaps"}, "code": 404})
    );
}

#[tokio::test]
async fn lists_honour_label_and_field_selectors() {
    let sandbox = start();
    let client = client(&sandbox, "alice", "team-a").await;
    let cms: Api<ConfigMap> = Api::default_namespaced(client.clone());
    for (name, app) in [("web-1", "web"), ("web-2", "web"), ("db-1", "db")] {
        cms.create(
            &PostParams::default(),
            &config_map(name, json!({"app": app}), json!({})),
        )
        .await
        .unwrap();
    }
    let names = |list: kube::core::ObjectList<ConfigMap>| -> Vec<String> {
        list.items
            .into_iter()
            .filter_map(|c| c.metadata.name)
            .collect()
    };
    assert_eq!(
        names(
            cms.list(&ListParams::default().labels("app=web"))
                .await
                .unwrap()
        ),
        ["web-1", "web-2"]
    );
    assert_eq!(
        names(
            cms.list(&ListParams::default().labels("app in (db),!missing"))
                .await
                .unwrap()
        ),
        ["db-1"]
    );
    assert_eq!(
        names(
            cms.list(&ListParams::default().fields("metadata.name=web-2"))
                .await
                .unwrap()
        ),
        ["web-2"]
    );
    assert_eq!(
        names(
            cms.list(
                &ListParams::default()
                    .labels("app")
                    .fields("metadata.name!=web-1")
            )
            .await
            .unwrap()
        ),
        ["db-1", "web-2"]
    );

    let secrets: Api<Secret> = Api::default_namespaced(client);
    for (name, kind) in [("plain", "Opaque"), ("login", "kubernetes.io/basic-auth")] {
        let s: Secret = typed(
            json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name}, "type": kind, "stringData": {"username": "u"}}),
        );
        secrets.create(&PostParams::default(), &s).await.unwrap();
    }
    let basic = secrets
        .list(&ListParams::default().fields("type=kubernetes.io/basic-auth"))
        .await
        .unwrap();
    let names: Vec<String> = basic
        .items
        .into_iter()
        .filter_map(|s| s.metadata.name)
        .collect();
    assert_eq!(names, ["login"]);
    // Field labels a type does not support are a 400.
    let s = status(cms.list(&ListParams::default().fields("type=x")).await);
    assert_eq!(s.code, 400);
}

#[tokio::test]
async fn metadata_only_lists_never_carry_secret_data() {
    let sandbox = start();
    let secrets: Api<Secret> = Api::default_namespaced(client(&sandbox, "alice", "team-a").await);
    let s: Secret = typed(
        json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db", "labels": {"app": "db"}}, "stringData": {"password": "hunter2"}}),
    );
    secrets.create(&PostParams::default(), &s).await.unwrap();
    sandbox.clear_request_log();

    let meta = secrets.list_metadata(&ListParams::default()).await.unwrap();
    assert_eq!(meta.types.kind, "PartialObjectMetadataList");
    assert_eq!(meta.types.api_version, "meta.k8s.io/v1");
    let item = meta
        .items
        .iter()
        .find(|i| i.metadata.name.as_deref() == Some("db"))
        .unwrap();
    assert_eq!(item.metadata.labels.as_ref().unwrap()["app"], "db");

    let full = secrets.list(&ListParams::default()).await.unwrap();
    let db = full
        .items
        .iter()
        .find(|i| i.metadata.name.as_deref() == Some("db"))
        .unwrap();
    assert_eq!(db.data.as_ref().unwrap()["password"].0, b"hunter2");

    let log = sandbox.request_log();
    let flags: Vec<(bool, bool)> = log
        .iter()
        .map(|e| {
            (
                e.accept.contains("as=PartialObjectMetadataList"),
                e.secret_data,
            )
        })
        .collect();
    assert_eq!(flags, [(true, false), (false, true)], "{log:#?}");
}

#[tokio::test]
async fn deleting_a_namespace_removes_what_it_holds() {
    let sandbox = start();
    let client = client(&sandbox, "admin", "demo").await;
    let namespaces: Api<Namespace> = Api::all(client.clone());
    let ns: Namespace = typed(
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "short-lived"}}),
    );
    namespaces
        .create(&PostParams::default(), &ns)
        .await
        .unwrap();
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), "short-lived");
    cms.create(
        &PostParams::default(),
        &config_map("inside", json!({}), json!({})),
    )
    .await
    .unwrap();

    namespaces
        .delete("short-lived", &DeleteParams::default())
        .await
        .unwrap();
    eventually(Duration::from_secs(5), "the namespace to go", || {
        let namespaces = namespaces.clone();
        async move {
            namespaces
                .get_opt("short-lived")
                .await
                .unwrap()
                .is_none()
                .then_some(())
        }
    })
    .await;
    assert_eq!(status(cms.get("inside").await).code, 404);
    assert!(
        cms.list(&ListParams::default())
            .await
            .unwrap()
            .items
            .is_empty()
    );
}

#[tokio::test]
async fn creating_in_a_missing_namespace_is_not_found() {
    let sandbox = start();
    let cms: Api<ConfigMap> = Api::namespaced(client(&sandbox, "admin", "demo").await, "nowhere");
    let s = status(
        cms.create(
            &PostParams::default(),
            &config_map("x", json!({}), json!({})),
        )
        .await,
    );
    assert_eq!((s.code, s.reason.as_str()), (404, "NotFound"));
    assert_eq!(s.message, "namespaces \"nowhere\" not found");
    let d = s.details.unwrap();
    assert_eq!(
        (d.name.as_str(), d.kind.as_str()),
        ("nowhere", "namespaces")
    );
}

#[tokio::test]
async fn generate_name_gets_a_random_suffix() {
    let sandbox = start();
    let cms: Api<ConfigMap> = Api::default_namespaced(client(&sandbox, "alice", "team-a").await);
    let template: ConfigMap = typed(
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"generateName": "run-"}}),
    );
    let a = cms.create(&PostParams::default(), &template).await.unwrap();
    let b = cms.create(&PostParams::default(), &template).await.unwrap();
    let (a, b) = (a.metadata.name.unwrap(), b.metadata.name.unwrap());
    assert_ne!(a, b);
    for name in [&a, &b] {
        let suffix = name.strip_prefix("run-").expect("prefix kept");
        assert_eq!(suffix.len(), 5, "{name}");
        assert!(
            suffix
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()),
            "{name}"
        );
    }
    assert_eq!(a, cms.get(&a).await.unwrap().metadata.name.unwrap());
}

#[tokio::test]
async fn deletes_answer_with_a_status_or_the_object_as_the_real_registries_do() {
    let sandbox = start();
    let client = client(&sandbox, "admin", "team-a").await;

    // Most registries answer with a Success Status naming what went.
    let cms: Api<ConfigMap> = Api::default_namespaced(client.clone());
    let cm = cms
        .create(
            &PostParams::default(),
            &config_map("gone", json!({}), json!({})),
        )
        .await
        .unwrap();
    let s = cms
        .delete("gone", &DeleteParams::default())
        .await
        .unwrap()
        .right()
        .expect("a Status");
    assert_eq!(s.status, Some(StatusSummary::Success));
    let d = s.details.unwrap();
    assert_eq!(
        (
            d.name.as_str(),
            d.group.as_str(),
            d.kind.as_str(),
            Some(d.uid)
        ),
        ("gone", "", "configmaps", cm.metadata.uid)
    );
    let roles: Api<Role> = Api::default_namespaced(client.clone());
    roles
        .create(
            &PostParams::default(),
            &typed(json!({"metadata": {"name": "r"}, "rules": []})),
        )
        .await
        .unwrap();
    let s = roles
        .delete("r", &DeleteParams::default())
        .await
        .unwrap()
        .right()
        .unwrap();
    let d = s.details.unwrap();
    assert_eq!(
        (d.group.as_str(), d.kind.as_str()),
        ("rbac.authorization.k8s.io", "roles")
    );

    // ServiceAccounts (like pods) answer with the deleted object.
    let sas: Api<ServiceAccount> = Api::default_namespaced(client.clone());
    sas.create(
        &PostParams::default(),
        &typed(json!({"metadata": {"name": "bot"}})),
    )
    .await
    .unwrap();
    let sa = sas
        .delete("bot", &DeleteParams::default())
        .await
        .unwrap()
        .left()
        .expect("the object");
    assert_eq!(sa.metadata.name.as_deref(), Some("bot"));

    // A namespace answers as its deletion leaves it: Terminating.
    let namespaces: Api<Namespace> = Api::all(client);
    namespaces
        .create(
            &PostParams::default(),
            &typed(json!({"metadata": {"name": "doomed"}})),
        )
        .await
        .unwrap();
    let ns = namespaces
        .delete("doomed", &DeleteParams::default())
        .await
        .unwrap()
        .left()
        .expect("the namespace");
    assert_eq!(ns.status.unwrap().phase.as_deref(), Some("Terminating"));
    assert!(ns.metadata.deletion_timestamp.is_some());
}

#[tokio::test]
async fn delete_preconditions_refuse_a_different_object() {
    let sandbox = start();
    let api: Api<ConfigMap> = Api::namespaced(client(&sandbox, "admin", "demo").await, "demo");
    let created = api
        .create(
            &PostParams::default(),
            &config_map("pinned", json!({}), json!({"a": "1"})),
        )
        .await
        .unwrap();
    let uid = created.metadata.uid.clone().unwrap();

    let wrong = DeleteParams {
        preconditions: Some(kube::api::Preconditions {
            uid: Some("not-the-uid".into()),
            resource_version: None,
        }),
        ..DeleteParams::default()
    };
    let refused = status(api.delete("pinned", &wrong).await);
    assert_eq!(refused.code, 409);
    assert_eq!(
        refused.message,
        format!(
            "Operation cannot be fulfilled on configmaps \"pinned\": Precondition failed: UID in precondition: not-the-uid, UID in object meta: {uid}"
        )
    );
    assert!(
        api.get_opt("pinned").await.unwrap().is_some(),
        "still there"
    );

    let right = DeleteParams {
        preconditions: Some(kube::api::Preconditions {
            uid: Some(uid),
            resource_version: None,
        }),
        ..DeleteParams::default()
    };
    api.delete("pinned", &right).await.unwrap();
    assert!(api.get_opt("pinned").await.unwrap().is_none());
}
