//! The cluster access layer against the sandbox: self-reviews, discovery and kind names,
//! server-side apply, tokens, retries and error mapping, with request counts from the
//! sandbox's request log. No test prints a token: assertion messages use redacted types.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use cicd_sandbox::{Config, Fault, FaultAction, LogEntry, ResourceType, Sandbox};
use k8s_openapi::api::core::v1::ServiceAccount;
use k8s_openapi::api::rbac::v1::{PolicyRule, Role, RoleBinding, RoleRef, Subject};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kubectl_cicd::cluster::{Cluster, DiscoveryMode, RetrySettings, ServedKind};
use kubectl_cicd::error::Error;
use kubectl_cicd::rbac::kind_names::{KindLookupError, lookup_kind, resolve_kind};

use crate::common;

fn config_for(sb: &Sandbox, user: &str, ns: &str) -> kube::Config {
    let kc = kube::config::Kubeconfig::from_yaml(&sb.kubeconfig(user, ns)).unwrap();
    kube::Config::try_from(kc).unwrap()
}

fn connect(sb: &Sandbox, user: &str, ns: &str) -> Cluster {
    Cluster::connect(config_for(sb, user, ns)).unwrap()
}

/// (method, path without query, status) of every logged request.
fn requests(sb: &Sandbox) -> Vec<(String, String, u16)> {
    sb.request_log()
        .into_iter()
        .map(|e: LogEntry| {
            let path = e.path.split('?').next().unwrap_or("").to_string();
            (e.method, path, e.status)
        })
        .collect()
}

fn meta(ns: &str, name: &str) -> ObjectMeta {
    ObjectMeta {
        name: Some(name.into()),
        namespace: Some(ns.into()),
        labels: Some(BTreeMap::from([(
            "app.kubernetes.io/managed-by".to_string(),
            "kubectl-cicd".to_string(),
        )])),
        ..Default::default()
    }
}

fn service_account(ns: &str, name: &str) -> ServiceAccount {
    ServiceAccount {
        metadata: meta(ns, name),
        ..Default::default()
    }
}

fn role(ns: &str, name: &str) -> Role {
    Role {
        metadata: meta(ns, name),
        rules: Some(vec![PolicyRule {
            api_groups: Some(vec!["apps".into()]),
            resources: Some(vec!["deployments".into()]),
            verbs: vec!["get".into(), "list".into(), "patch".into()],
            ..Default::default()
        }]),
    }
}

fn binding(ns: &str, name: &str, role_name: &str, sa: &str) -> RoleBinding {
    RoleBinding {
        metadata: meta(ns, name),
        role_ref: RoleRef {
            api_group: "rbac.authorization.k8s.io".into(),
            kind: "Role".into(),
            name: role_name.into(),
        },
        subjects: Some(vec![Subject {
            kind: "ServiceAccount".into(),
            name: sa.into(),
            namespace: Some(ns.into()),
            ..Default::default()
        }]),
    }
}

#[tokio::test]
async fn whoami_is_one_self_subject_review() {
    let env = common::env();
    let sb = env.sandbox();
    let cluster = connect(sb, "alice", "team-a");
    sb.clear_request_log();
    let me = cluster.whoami().await.unwrap();
    assert_eq!(me.username, "alice");
    assert!(me.groups.contains(&"devs".to_string()), "{:?}", me.groups);
    assert!(me.groups.contains(&"system:authenticated".to_string()));
    assert!(me.uid.is_some());
    assert_eq!(
        requests(sb),
        vec![(
            "POST".into(),
            "/apis/authentication.k8s.io/v1/selfsubjectreviews".into(),
            201
        )]
    );
}

#[tokio::test]
async fn rules_review_for_bob_lists_deployments() {
    let env = common::env();
    let sb = env.sandbox();
    let cluster = connect(sb, "bob", "team-a");
    sb.clear_request_log();
    let review = cluster.rules_review("team-a").await.unwrap();
    assert_eq!(requests(sb).len(), 1, "one request");
    assert!(!review.incomplete);
    assert_eq!(review.evaluation_error, None);
    let deployments = review
        .resource_rules
        .iter()
        .find(|r| {
            r.api_groups.as_deref() == Some(&["apps".to_string()][..])
                && r.resources
                    .as_ref()
                    .is_some_and(|res| res.contains(&"deployments".to_string()))
        })
        .expect("a rule for deployments.apps");
    assert!(deployments.verbs.contains(&"patch".to_string()));
    assert!(
        !review.resource_rules.iter().any(|r| r
            .resources
            .as_ref()
            .is_some_and(|res| res.contains(&"secrets".to_string()))),
        "bob holds nothing on secrets"
    );
    // The basic-user rules every authenticated user has.
    assert!(review.resource_rules.iter().any(|r| {
        r.resources
            .as_ref()
            .is_some_and(|res| res.contains(&"selfsubjectrulesreviews".to_string()))
    }));
}

#[tokio::test]
async fn discovery_is_aggregated_in_two_requests() {
    let env = common::env();
    let sb = env.sandbox();
    let cluster = connect(sb, "alice", "team-a");
    sb.clear_request_log();
    let found = cluster.discover().await.unwrap();
    assert_eq!(found.mode, DiscoveryMode::Aggregated);
    let mut log = requests(sb);
    log.sort();
    assert_eq!(
        log,
        vec![
            ("GET".into(), "/api".into(), 200),
            ("GET".into(), "/apis".into(), 200)
        ]
    );
    assert!(
        sb.request_log()
            .iter()
            .all(|e| e.accept.contains("as=APIGroupDiscoveryList"))
    );

    let deploy = found
        .kinds
        .iter()
        .find(|k| k.group == "apps" && k.resource == "deployments")
        .unwrap();
    assert_eq!(deploy.version, "v1");
    assert_eq!(deploy.kind, "Deployment");
    assert_eq!(deploy.singular, "deployment");
    assert!(deploy.namespaced);
    assert_eq!(deploy.short_names, vec!["deploy"]);
    assert!(deploy.subresources.contains(&"scale".to_string()));
    assert!(deploy.subresources.contains(&"status".to_string()));
    assert!(deploy.verbs.iter().any(|v| v == "patch"));
    assert_eq!(deploy.group_resource(), "deployments.apps");
    assert_eq!(deploy.api_version(), "apps/v1");
    let sa = found
        .kinds
        .iter()
        .find(|k| k.group.is_empty() && k.resource == "serviceaccounts")
        .unwrap();
    assert_eq!(sa.subresources, vec!["token"]);
    let ns = found
        .kinds
        .iter()
        .find(|k| k.resource == "namespaces")
        .unwrap();
    assert!(!ns.namespaced);
    assert!(
        found
            .kinds
            .iter()
            .any(|k| k.group_resource() == "prometheusrules.monitoring.coreos.com")
    );
    assert!(found.kinds[0].group.is_empty(), "core group first");
}

fn comparable(kinds: &[ServedKind]) -> Vec<ServedKind> {
    let mut out: Vec<ServedKind> = kinds
        .iter()
        .cloned()
        .map(|mut k| {
            k.subresources.sort();
            k
        })
        .collect();
    out.sort_by(|a, b| (&a.group, &a.resource).cmp(&(&b.group, &b.resource)));
    out
}

#[tokio::test]
async fn discovery_falls_back_to_legacy_when_the_server_lacks_aggregated() {
    let env = common::env();
    let sb = env.sandbox();
    let cluster = connect(sb, "alice", "team-a");
    let aggregated = cluster.discover().await.unwrap();

    sb.set_aggregated_discovery(false);
    sb.clear_request_log();
    let legacy = cluster.discover().await.unwrap();
    assert_eq!(legacy.mode, DiscoveryMode::Legacy);
    let log = requests(sb);
    let group_versions = log
        .iter()
        .filter(|(_, p, _)| p.starts_with("/api/") || p.starts_with("/apis/"))
        .count();
    assert_eq!(log.len(), 2 + group_versions, "{log:?}");
    assert_eq!(
        log.iter().filter(|(_, p, _)| p == "/apis").count(),
        1,
        "/apis is not fetched twice"
    );
    assert!(log.iter().any(|(_, p, _)| p == "/api/v1"));
    assert!(log.iter().any(|(_, p, _)| p == "/apis/apps/v1"));
    assert!(log.iter().all(|(_, _, s)| *s == 200));
    eprintln!("legacy discovery: {} requests", log.len());

    assert_eq!(comparable(&legacy.kinds), comparable(&aggregated.kinds));
    assert!(legacy.kinds[0].group.is_empty(), "core group first");
}

#[tokio::test]
async fn resolve_kind_accepts_what_kubectl_accepts() {
    let env = common::env();
    let sb = env.sandbox();
    let found = connect(sb, "alice", "team-a").discover().await.unwrap();
    let kinds = &found.kinds;
    for name in [
        "deployments.apps",
        "deployments",
        "deployment",
        "Deployment",
        "DEPLOYMENTS",
        "deploy",
        "deployments.v1.apps",
        "deploy.apps",
        "Deployment.apps",
    ] {
        let k = resolve_kind(name, kinds).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(k.group_resource(), "deployments.apps", "{name}");
    }
    for (name, qualified) in [
        (
            "prometheusrules.monitoring.coreos.com",
            "prometheusrules.monitoring.coreos.com",
        ),
        ("prometheusrule", "prometheusrules.monitoring.coreos.com"),
        ("promrule", "prometheusrules.monitoring.coreos.com"),
        ("sa", "serviceaccounts"),
        ("secrets", "secrets"),
        ("svc", "services"),
        ("cronjobs.batch", "cronjobs.batch"),
        ("certs", "certificates.cert-manager.io"),
        // A short name of an argo CRD, not the `apps` group.
        ("apps", "applications.argoproj.io"),
    ] {
        assert_eq!(
            resolve_kind(name, kinds).unwrap().group_resource(),
            qualified,
            "{name}"
        );
    }
    assert_eq!(resolve_kind("deploy", kinds).unwrap().kind, "Deployment");

    // Cluster-scoped kinds are refused for a Role, with the reason.
    for name in [
        "namespaces",
        "nodes",
        "clusterroles.rbac.authorization.k8s.io",
        "ns",
    ] {
        match resolve_kind(name, kinds) {
            Err(e @ KindLookupError::ClusterScoped { .. }) => {
                let msg = e.to_string();
                assert!(
                    msg.contains("cluster-scoped") && msg.contains("Role"),
                    "{msg}"
                );
            }
            other => panic!("{name}: expected ClusterScoped, got {other:?}"),
        }
        assert!(lookup_kind(name, kinds).is_ok(), "{name} exists");
    }

    // Unknown names, with a suggestion where one is close.
    let err = resolve_kind("deploymnets", kinds).unwrap_err();
    assert!(
        matches!(&err, KindLookupError::Unknown { suggestions, .. } if suggestions.first().map(String::as_str) == Some("deployments.apps")),
        "{err:?}"
    );
    assert!(
        err.to_string().contains("did you mean deployments.apps"),
        "{err}"
    );
    let err = resolve_kind("deployments.app", kinds).unwrap_err();
    assert!(err.to_string().contains("deployments.apps"), "{err}");
    let err = resolve_kind("configmap.v1", kinds).unwrap_err();
    assert!(matches!(err, KindLookupError::Unknown { .. }), "{err:?}");
    let err = resolve_kind("frobnicators", kinds).unwrap_err();
    match &err {
        KindLookupError::Unknown { suggestions, .. } => {
            assert!(suggestions.is_empty(), "{suggestions:?}")
        }
        other => panic!("{other:?}"),
    }
    assert!(
        err.to_string()
            .contains("doesn't have a resource type \"frobnicators\""),
        "{err}"
    );
    assert!(matches!(
        resolve_kind("  ", kinds),
        Err(KindLookupError::Empty)
    ));

    // A version the group does not serve.
    let err = resolve_kind("deployments.v1beta1.apps", kinds).unwrap_err();
    assert!(
        matches!(err, KindLookupError::VersionNotServed { .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("deployments.apps"), "{err}");
}

#[tokio::test]
async fn ambiguous_names_are_listed_and_core_wins_like_kubectl() {
    let env = common::env();
    let sb = env.sandbox();
    sb.register_type(
        ResourceType::new("example.com", "v1", "widgets", "Widget", true).short_names(&["wd"]),
    );
    sb.register_type(ResourceType::new(
        "other.io", "v1alpha1", "widgets", "Widget", true,
    ));
    sb.register_type(
        ResourceType::new("events.k8s.io", "v1", "events", "Event", true).short_names(&["ev"]),
    );
    let found = connect(sb, "alice", "team-a").discover().await.unwrap();

    let err = resolve_kind("widgets", &found.kinds).unwrap_err();
    match &err {
        KindLookupError::Ambiguous { candidates, .. } => {
            assert_eq!(
                candidates,
                &vec![
                    "widgets.example.com".to_string(),
                    "widgets.other.io".to_string()
                ]
            );
        }
        other => panic!("{other:?}"),
    }
    assert!(
        err.to_string()
            .contains("widgets.example.com, widgets.other.io"),
        "{err}"
    );
    assert!(resolve_kind("Widget", &found.kinds).is_err());
    assert_eq!(
        resolve_kind("widgets.other.io", &found.kinds)
            .unwrap()
            .version,
        "v1alpha1"
    );
    assert_eq!(
        resolve_kind("wd", &found.kinds).unwrap().group,
        "example.com"
    );

    // `events` is served by core and events.k8s.io: core, as kubectl picks.
    assert_eq!(resolve_kind("events", &found.kinds).unwrap().group, "");
    assert_eq!(
        resolve_kind("events.events.k8s.io", &found.kinds)
            .unwrap()
            .group,
        "events.k8s.io"
    );
}

#[tokio::test]
async fn apply_is_idempotent_and_reads_return_none_for_missing_objects() {
    let env = common::env();
    let sb = env.sandbox();
    let cluster = connect(sb, "alice", "team-a");
    assert!(
        cluster
            .get_service_account("team-a", "ci")
            .await
            .unwrap()
            .is_none()
    );
    assert!(cluster.get_role("team-a", "ci").await.unwrap().is_none());
    assert!(
        cluster
            .get_role_binding("team-a", "ci")
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        cluster
            .get_secret_metadata("team-a", "ci")
            .await
            .unwrap()
            .is_none()
    );

    sb.clear_request_log();
    let stored_sa = cluster
        .apply(&service_account("team-a", "ci"))
        .await
        .unwrap();
    let stored_role = cluster.apply(&role("team-a", "ci")).await.unwrap();
    let applied = cluster
        .replace_role_binding_if_role_ref_changed(&binding("team-a", "ci", "ci", "ci"))
        .await
        .unwrap();
    assert!(!applied.replaced);
    let log = sb.request_log();
    assert_eq!(log.len(), 3, "one request per object");
    assert!(
        log.iter()
            .all(|e| e.method == "PATCH" && e.changed && e.status == 201)
    );
    assert!(
        log.iter()
            .all(|e| e.path.contains("fieldManager=kubectl-cicd") && e.path.contains("force=true"))
    );
    assert!(
        log.iter()
            .all(|e| e.content_type.starts_with("application/apply-patch"))
    );
    assert!(stored_sa.metadata.uid.is_some());
    assert_eq!(
        stored_role.rules.as_ref().unwrap()[0].verbs,
        vec!["get", "list", "patch"]
    );

    // The same again: nothing changes on the server.
    sb.clear_request_log();
    cluster
        .apply(&service_account("team-a", "ci"))
        .await
        .unwrap();
    let again = cluster.apply(&role("team-a", "ci")).await.unwrap();
    cluster
        .replace_role_binding_if_role_ref_changed(&binding("team-a", "ci", "ci", "ci"))
        .await
        .unwrap();
    let log = sb.request_log();
    assert_eq!(log.len(), 3);
    assert!(log.iter().all(|e| !e.changed && e.status == 200), "{log:?}");
    assert_eq!(
        again.metadata.resource_version,
        stored_role.metadata.resource_version
    );

    let got = cluster.get_role("team-a", "ci").await.unwrap().unwrap();
    assert_eq!(
        got.metadata.labels.unwrap()["app.kubernetes.io/managed-by"],
        "kubectl-cicd"
    );

    // Deletes say whether something was there.
    assert!(cluster.delete_role_binding("team-a", "ci").await.unwrap());
    assert!(!cluster.delete_role_binding("team-a", "ci").await.unwrap());
    assert!(
        cluster
            .delete_exact::<Role>("team-a", "ci", None)
            .await
            .unwrap()
    );
    assert!(
        cluster
            .delete_exact::<ServiceAccount>("team-a", "ci", None)
            .await
            .unwrap()
    );
    assert!(!cluster.delete_secret("team-a", "ci").await.unwrap());
}

#[tokio::test]
async fn role_ref_change_deletes_and_recreates_the_binding() {
    let env = common::env();
    let sb = env.sandbox();
    let cluster = connect(sb, "alice", "team-a");
    cluster
        .apply(&service_account("team-a", "ci"))
        .await
        .unwrap();
    cluster.apply(&role("team-a", "old-role")).await.unwrap();
    cluster.apply(&role("team-a", "new-role")).await.unwrap();
    let first = cluster
        .replace_role_binding_if_role_ref_changed(&binding("team-a", "ci", "old-role", "ci"))
        .await
        .unwrap();
    assert!(!first.replaced);

    sb.clear_request_log();
    let second = cluster
        .replace_role_binding_if_role_ref_changed(&binding("team-a", "ci", "new-role", "ci"))
        .await
        .unwrap();
    assert!(second.replaced);
    assert_eq!(second.binding.role_ref.name, "new-role");
    assert_ne!(second.binding.metadata.uid, first.binding.metadata.uid);
    let log: Vec<(String, u16)> = requests(sb).into_iter().map(|(m, _, s)| (m, s)).collect();
    assert_eq!(
        log,
        vec![
            ("PATCH".into(), 422),
            ("DELETE".into(), 200),
            ("PATCH".into(), 201)
        ]
    );
    let stored = sb
        .object("rbac.authorization.k8s.io", "rolebindings", "team-a", "ci")
        .unwrap();
    assert_eq!(stored["roleRef"]["name"], "new-role");
}

#[tokio::test]
async fn token_secret_is_filled_and_its_token_authenticates() {
    let env = common::env();
    let sb = env.sandbox();
    let cluster = connect(sb, "alice", "team-a");
    cluster
        .apply(&service_account("team-a", "ci"))
        .await
        .unwrap();
    let labels = BTreeMap::from([(
        "app.kubernetes.io/managed-by".to_string(),
        "kubectl-cicd".to_string(),
    )]);
    let annotations =
        BTreeMap::from([("kubectl-cicd/created-by".to_string(), "alice".to_string())]);

    sb.clear_request_log();
    cluster
        .create_token_secret("team-a", "ci-token", "ci", &labels, &annotations)
        .await
        .unwrap();
    assert!(
        cluster
            .filled_token("team-a", "ci-token")
            .await
            .unwrap()
            .is_none(),
        "the controller fills it only after a second"
    );
    let mut waits = 0;
    let started = Instant::now();
    let filled = cluster
        .wait_for_token("team-a", "ci-token", Duration::from_secs(15), || waits += 1)
        .await
        .unwrap();
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(
        waits >= 2,
        "first check after 0.5 s is too early for a 1 s controller"
    );
    assert!(!filled.token.is_empty());
    assert_eq!(format!("{:?}", filled.token), "<redacted>");
    assert_eq!(filled.ca_pem.as_deref(), Some(sb.ca_pem().as_bytes()));
    let log = requests(sb);
    eprintln!("token Secret: {} requests ({} waits)", log.len(), waits);
    assert_eq!(
        log.len(),
        2 + waits,
        "one POST, one GET, then one GET per wait"
    );

    let stored = sb.object("", "secrets", "team-a", "ci-token").unwrap();
    assert_eq!(stored["type"], "kubernetes.io/service-account-token");
    assert_eq!(
        stored["metadata"]["annotations"]["kubernetes.io/service-account.name"],
        "ci"
    );
    assert_eq!(
        stored["metadata"]["annotations"]["kubectl-cicd/created-by"],
        "alice"
    );
    assert_eq!(
        stored["metadata"]["labels"]["app.kubernetes.io/managed-by"],
        "kubectl-cicd"
    );

    // The token is the ServiceAccount's.
    let mut config = config_for(sb, "alice", "team-a");
    config.auth_info = kube::config::AuthInfo {
        token: Some(filled.token.expose().to_string().into()),
        ..Default::default()
    };
    let me = Cluster::connect(config).unwrap().whoami().await.unwrap();
    assert_eq!(me.username, "system:serviceaccount:team-a:ci");
    assert!(
        me.groups
            .contains(&"system:serviceaccounts:team-a".to_string())
    );

    // Reading it again finds it filled at once; creating it again is refused, never adopted.
    let again = cluster
        .filled_token("team-a", "ci-token")
        .await
        .unwrap()
        .expect("already filled");
    assert_eq!(again.token, filled.token);
    let twice = cluster
        .create_token_secret("team-a", "ci-token", "ci", &labels, &annotations)
        .await
        .unwrap_err();
    assert!(matches!(twice, Error::Api { code: 409, .. }), "{twice}");
}

#[tokio::test]
async fn waiting_for_a_token_times_out_naming_the_token_controller() {
    let env = common::env_with(Config {
        token_controller_delay: Duration::from_secs(3600),
        ..Config::default()
    });
    let sb = env.sandbox();
    let cluster = connect(sb, "alice", "team-a");
    cluster
        .apply(&service_account("team-a", "ci"))
        .await
        .unwrap();
    let none = BTreeMap::new();
    cluster
        .create_token_secret("team-a", "ci-token", "ci", &none, &none)
        .await
        .unwrap();
    let started = Instant::now();
    let err = cluster
        .wait_for_token("team-a", "ci-token", Duration::from_millis(1800), || {})
        .await
        .unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(4));
    let msg = err.to_string();
    assert!(matches!(err, Error::Token(_)), "{msg}");
    assert!(
        msg.contains("kube-controller-manager") && msg.contains("token controller"),
        "{msg}"
    );
    assert!(msg.contains("team-a/ci-token"), "{msg}");

    // A Secret for a ServiceAccount that does not exist is deleted by the controller.
    let env = common::env();
    let sb = env.sandbox();
    let cluster = connect(sb, "alice", "team-a");
    cluster
        .create_token_secret("team-a", "orphan", "nobody", &none, &none)
        .await
        .unwrap();
    let err = cluster
        .wait_for_token("team-a", "orphan", Duration::from_secs(10), || {})
        .await
        .unwrap_err();
    assert!(err.to_string().contains("disappeared"), "{err}");
}

#[tokio::test]
async fn token_request_takes_the_expiry_from_the_reply() {
    let env = common::env();
    let sb = env.sandbox();
    let cluster = connect(sb, "alice", "team-a");
    cluster
        .apply(&service_account("team-a", "ci"))
        .await
        .unwrap();
    let now = k8s_openapi::jiff::Timestamp::now();

    sb.clear_request_log();
    let default = cluster.request_token("team-a", "ci", None).await.unwrap();
    assert_eq!(requests(sb).len(), 1);
    let secs = (default.expires_at.as_second() - now.as_second()) as f64;
    assert!((3540.0..=3700.0).contains(&secs), "default expiry {secs}s");

    sb.set_max_token_expiration(Some(Duration::from_secs(20 * 60)));
    let capped = cluster
        .request_token("team-a", "ci", Some(Duration::from_secs(2 * 3600)))
        .await
        .unwrap();
    let secs = (capped.expires_at.as_second() - now.as_second()) as f64;
    assert!((1140.0..=1300.0).contains(&secs), "capped expiry {secs}s");
    assert_eq!(format!("{capped:?}").matches("<redacted>").count(), 1);

    let mut config = config_for(sb, "bob", "team-a");
    config.auth_info = kube::config::AuthInfo {
        token: Some(capped.token.expose().to_string().into()),
        ..Default::default()
    };
    let me = Cluster::connect(config).unwrap().whoami().await.unwrap();
    assert_eq!(me.username, "system:serviceaccount:team-a:ci");

    // Too short, and a missing ServiceAccount: API errors without tokens.
    let err = cluster
        .request_token("team-a", "ci", Some(Duration::from_secs(60)))
        .await
        .unwrap_err();
    assert!(matches!(&err, Error::Api { code: 422, .. }), "{err}");
    let err = cluster
        .request_token("team-a", "nobody", None)
        .await
        .unwrap_err();
    assert!(matches!(&err, Error::Api { code: 404, .. }), "{err}");
    env.assert_no_token_in(&format!("{err} {err:?}"));
}

#[tokio::test]
async fn server_errors_twice_then_success_is_retried() {
    let env = common::env();
    let sb = env.sandbox();
    let cluster = connect(sb, "alice", "team-a");
    sb.clear_request_log();
    sb.inject_fault(Fault::new(
        Some("GET"),
        "/api/v1/namespaces/team-a/serviceaccounts/*",
        2,
        FaultAction::Status(500),
    ));
    assert!(
        cluster
            .get_service_account("team-a", "default-sa")
            .await
            .unwrap()
            .is_none()
    );
    let statuses: Vec<u16> = requests(sb).into_iter().map(|(_, _, s)| s).collect();
    assert_eq!(statuses, vec![500, 500, 404]);

    // 503 on a self-review POST: kube's RetryPolicy part.
    sb.clear_request_log();
    sb.inject_fault(Fault::new(
        Some("POST"),
        "/apis/authentication.k8s.io/*",
        1,
        FaultAction::Status(503),
    ));
    assert_eq!(cluster.whoami().await.unwrap().username, "alice");
    let statuses: Vec<u16> = requests(sb).into_iter().map(|(_, _, s)| s).collect();
    assert_eq!(statuses, vec![503, 201]);

    // Discovery recovers too.
    sb.inject_fault(Fault::new(
        Some("GET"),
        "/apis",
        1,
        FaultAction::Status(502),
    ));
    assert_eq!(
        cluster.discover().await.unwrap().mode,
        DiscoveryMode::Aggregated
    );
}

#[tokio::test]
async fn too_many_requests_waits_for_retry_after() {
    let env = common::env();
    let sb = env.sandbox();
    let cluster = connect(sb, "alice", "team-a");
    sb.clear_request_log();
    sb.inject_fault(Fault::new(
        Some("POST"),
        "/apis/authentication.k8s.io/v1/selfsubjectreviews",
        1,
        FaultAction::TooManyRequests {
            retry_after_secs: 1,
        },
    ));
    let started = Instant::now();
    assert_eq!(cluster.whoami().await.unwrap().username, "alice");
    assert!(
        started.elapsed() >= Duration::from_millis(950),
        "Retry-After honoured"
    );
    let statuses: Vec<u16> = requests(sb).into_iter().map(|(_, _, s)| s).collect();
    assert_eq!(statuses, vec![429, 201]);

    // A Retry-After beyond the ceiling is not waited for.
    sb.inject_fault(Fault::new(
        Some("POST"),
        "/apis/authentication.k8s.io/v1/selfsubjectreviews",
        1,
        FaultAction::TooManyRequests {
            retry_after_secs: 600,
        },
    ));
    let started = Instant::now();
    let err = cluster.whoami().await.unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(2));
    assert!(matches!(&err, Error::Api { code: 429, .. }), "{err}");
    assert!(err.to_string().contains("Too Many Requests"), "{err}");
}

#[tokio::test]
async fn dropped_connection_is_retried() {
    let env = common::env();
    let sb = env.sandbox();
    let cluster = connect(sb, "alice", "team-a");
    cluster.whoami().await.unwrap();
    sb.clear_request_log();
    sb.inject_fault(Fault::new(
        Some("GET"),
        "/api/v1/namespaces/team-a/serviceaccounts/*",
        1,
        FaultAction::DropConnection,
    ));
    assert!(
        cluster
            .get_service_account("team-a", "x")
            .await
            .unwrap()
            .is_none()
    );
    let statuses: Vec<u16> = requests(sb).into_iter().map(|(_, _, s)| s).collect();
    assert_eq!(statuses, vec![0, 404], "a dropped request, then the retry");

    // A slow answer past the read timeout is retried as well.
    let settings = RetrySettings {
        read_timeout: Duration::from_millis(500),
        ..RetrySettings::default()
    };
    let mut config = config_for(sb, "alice", "team-a");
    config.read_timeout = None;
    let slow = Cluster::connect_with(config, settings).unwrap();
    sb.clear_request_log();
    sb.inject_fault(Fault::new(
        Some("GET"),
        "/api/v1/namespaces/team-a/serviceaccounts/*",
        1,
        FaultAction::Delay(Duration::from_secs(5)),
    ));
    let started = Instant::now();
    assert!(
        slow.get_service_account("team-a", "x")
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        started.elapsed() < Duration::from_millis(4500),
        "answered by the retry, not the slow first try"
    );
    // The sandbox never logs the abandoned first try (its handler is dropped with the
    // connection), so the log holds only the retry.
    let log = requests(sb);
    assert_eq!(log.last().map(|(_, _, s)| *s), Some(404), "{log:?}");
}

#[tokio::test]
async fn retries_are_bounded() {
    let env = common::env();
    let sb = env.sandbox();
    let cluster = connect(sb, "alice", "team-a");
    sb.clear_request_log();
    sb.inject_fault(Fault::new(
        Some("GET"),
        "/api/v1/namespaces/team-a/secrets/*",
        50,
        FaultAction::Status(500),
    ));
    let started = Instant::now();
    let err = cluster
        .get_secret_metadata("team-a", "x")
        .await
        .unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(20));
    assert!(matches!(&err, Error::Api { code: 500, .. }), "{err}");
    assert_eq!(
        requests(sb).len(),
        1 + RetrySettings::default().max_retries as usize
    );
    sb.clear_faults();

    // Not retried: errors that another try cannot fix.
    sb.clear_request_log();
    sb.inject_fault(Fault::new(
        Some("GET"),
        "/api/v1/namespaces/team-a/secrets/*",
        5,
        FaultAction::Conflict,
    ));
    assert!(cluster.get_secret_metadata("team-a", "x").await.is_err());
    assert_eq!(requests(sb).len(), 1);
}

#[tokio::test]
async fn unauthorized_and_forbidden_map_to_their_variants() {
    let env = common::env();
    let sb = env.sandbox();
    let text = sb
        .kubeconfig("alice", "team-a")
        .replace(&sb.user_token("alice").unwrap(), "sandbox-wrong-token");
    let config =
        kube::Config::try_from(kube::config::Kubeconfig::from_yaml(&text).unwrap()).unwrap();
    let err = Cluster::connect(config)
        .unwrap()
        .whoami()
        .await
        .unwrap_err();
    match &err {
        Error::Unauthorized { server } => assert_eq!(server, sb.url()),
        other => panic!("expected Unauthorized, got {other:?}"),
    }
    assert!(!err.to_string().contains("sandbox-wrong-token"));

    let bob = connect(sb, "bob", "team-a");
    let err = bob
        .get_secret_metadata("team-a", "anything")
        .await
        .unwrap_err();
    match &err {
        Error::Forbidden { message, hint } => {
            assert!(
                message.contains("User \"bob\" cannot get resource \"secrets\""),
                "{message}"
            );
            assert!(hint.contains("reading Secret team-a/anything"), "{hint}");
        }
        other => panic!("expected Forbidden, got {other:?}"),
    }
    let err = bob
        .apply(&service_account("team-a", "ci"))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Forbidden { .. }), "{err}");

    // Escalation: bob may write roles but not grant what he does not hold.
    let mut too_much = role("team-a", "too-much");
    too_much.rules.as_mut().unwrap()[0].resources = Some(vec!["secrets".into()]);
    too_much.rules.as_mut().unwrap()[0].api_groups = Some(vec!["".into()]);
    let err = bob.apply(&too_much).await.unwrap_err();
    match &err {
        Error::Forbidden { message, .. } => {
            assert!(message.contains("not currently held"), "{message}")
        }
        other => panic!("expected Forbidden, got {other:?}"),
    }
    env.assert_no_token_in(&format!("{err} {err:?}"));
}

#[tokio::test]
async fn closed_port_is_unreachable() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let env = common::env();
    let sb = env.sandbox();
    let mut config = config_for(sb, "alice", "team-a");
    config.cluster_url = format!("https://127.0.0.1:{port}").parse().unwrap();
    let started = Instant::now();
    let err = Cluster::connect(config)
        .unwrap()
        .whoami()
        .await
        .unwrap_err();
    let elapsed = started.elapsed();
    match &err {
        Error::Unreachable { server, detail } => {
            assert_eq!(server, &format!("https://127.0.0.1:{port}"));
            assert!(detail.contains("connection refused"), "{detail}");
        }
        other => panic!("expected Unreachable, got {other:?}"),
    }
    assert!(
        elapsed < Duration::from_secs(3),
        "bounded retries: {elapsed:?}"
    );
    assert!(err.to_string().contains("network or VPN"), "{err}");
    env.assert_no_token_in(&format!("{err} {err:?}"));
}

#[tokio::test]
async fn wrong_certificate_authority_is_a_tls_error() {
    let env = common::env();
    let sb = env.sandbox();
    let other_env = common::env();
    let other = other_env.sandbox();
    let mut config = config_for(sb, "alice", "team-a");
    config.root_cert = config_for(other, "alice", "team-a").root_cert;
    sb.clear_request_log();
    let err = Cluster::connect(config)
        .unwrap()
        .whoami()
        .await
        .unwrap_err();
    match &err {
        Error::Tls { server, detail } => {
            assert_eq!(server, sb.url());
            assert!(detail.contains("certificate"), "{detail}");
        }
        other => panic!("expected Tls, got {other:?}"),
    }
    assert!(err.to_string().contains("certificate authority"), "{err}");
    assert!(
        sb.request_log().is_empty(),
        "no request reached the server, and none was retried"
    );
}
