//! Validation and server-side apply errors as a client decodes them: the 422 Invalid texts of
//! the real registries, roleRef immutability, apply's fieldManager rule, conflicts and no-ops.

use k8s_openapi::api::core::v1::{ConfigMap, ServiceAccount};
use k8s_openapi::api::rbac::v1::{ClusterRole, Role, RoleBinding};
use kube::api::{Api, Patch, PatchParams, PostParams};
use kube::core::Status;
use serde_json::json;

use crate::common::{client, raw, start, status, typed};

fn role(name: &str, rules: serde_json::Value) -> Role {
    typed(json!({
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
        "metadata": {"name": name}, "rules": rules,
    }))
}

#[track_caller]
fn assert_invalid(s: &Status, kind: &str, message: &str) {
    assert_eq!((s.code, s.reason.as_str()), (422, "Invalid"), "{s:?}");
    assert_eq!(s.message, message);
    assert_eq!(
        s.details.as_ref().unwrap().kind,
        kind,
        "Invalid names the Kind"
    );
}

#[tokio::test]
async fn a_service_account_name_must_be_a_dns_subdomain() {
    let sandbox = start();
    let api: Api<ServiceAccount> =
        Api::default_namespaced(client(&sandbox, "alice", "team-a").await);
    let sa: ServiceAccount = typed(
        json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "CI_Bot"}}),
    );
    let s = status(api.create(&PostParams::default(), &sa).await);
    assert_invalid(
        &s,
        "ServiceAccount",
        "ServiceAccount \"CI_Bot\" is invalid: metadata.name: Invalid value: \"CI_Bot\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
    );
    let cause = &s.details.unwrap().causes[0];
    assert_eq!(
        (cause.reason.as_str(), cause.field.as_str()),
        ("FieldValueInvalid", "metadata.name")
    );
}

#[tokio::test]
async fn a_role_name_may_not_contain_a_slash() {
    let sandbox = start();
    let api: Api<Role> = Api::default_namespaced(client(&sandbox, "alice", "team-a").await);
    let r = role(
        "ci/cd",
        json!([{"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}]),
    );
    let s = status(api.create(&PostParams::default(), &r).await);
    assert_invalid(
        &s,
        "Role",
        "Role.rbac.authorization.k8s.io \"ci/cd\" is invalid: metadata.name: Invalid value: \"ci/cd\": may not contain '/'",
    );
    assert_eq!(s.details.unwrap().group, "rbac.authorization.k8s.io");
}

#[tokio::test]
async fn rbac_rules_are_validated_with_the_real_texts() {
    let sandbox = start();
    let client = client(&sandbox, "admin", "team-a").await;
    let roles: Api<Role> = Api::default_namespaced(client.clone());

    let s = status(
        roles
            .create(
                &PostParams::default(),
                &role(
                    "no-verbs",
                    json!([{"apiGroups": [""], "resources": ["pods"], "verbs": []}]),
                ),
            )
            .await,
    );
    assert_invalid(
        &s,
        "Role",
        "Role.rbac.authorization.k8s.io \"no-verbs\" is invalid: rules[0].verbs: Required value",
    );

    let s = status(
        roles
            .create(
                &PostParams::default(),
                &role(
                    "no-groups",
                    json!([{"resources": ["pods"], "verbs": ["get"]}]),
                ),
            )
            .await,
    );
    assert_invalid(
        &s,
        "Role",
        "Role.rbac.authorization.k8s.io \"no-groups\" is invalid: rules[0].apiGroups: Required value: resource rules must supply at least one api group",
    );

    let s = status(
        roles
            .create(
                &PostParams::default(),
                &role(
                    "no-resources",
                    json!([{"apiGroups": ["apps"], "verbs": ["get"]}]),
                ),
            )
            .await,
    );
    assert_invalid(
        &s,
        "Role",
        "Role.rbac.authorization.k8s.io \"no-resources\" is invalid: rules[0].resources: Required value: resource rules must supply at least one resource",
    );

    // Two problems are listed together, bracketed.
    let s = status(
        roles
            .create(
                &PostParams::default(),
                &role("empty", json!([{"verbs": []}])),
            )
            .await,
    );
    assert_eq!(s.details.as_ref().unwrap().causes.len(), 3);
    assert_eq!(
        s.message,
        "Role.rbac.authorization.k8s.io \"empty\" is invalid: [rules[0].verbs: Required value, rules[0].apiGroups: Required value: resource rules must supply at least one api group, rules[0].resources: Required value: resource rules must supply at least one resource]"
    );

    // Go prints the bad []string value with %#v.
    let s = status(
        roles
            .create(
                &PostParams::default(),
                &role(
                    "urls",
                    json!([{"nonResourceURLs": ["/healthz", "/metrics"], "verbs": ["get"]}]),
                ),
            )
            .await,
    );
    assert_invalid(
        &s,
        "Role",
        "Role.rbac.authorization.k8s.io \"urls\" is invalid: rules[0].nonResourceURLs: Invalid value: [\"/healthz\",\"/metrics\"]: namespaced rules cannot apply to non-resource URLs",
    );
    // The same rule is fine in a ClusterRole.
    let cluster_roles: Api<ClusterRole> = Api::all(client);
    let cr: ClusterRole = typed(
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": "urls"}, "rules": [{"nonResourceURLs": ["/healthz"], "verbs": ["get"]}]}),
    );
    cluster_roles
        .create(&PostParams::default(), &cr)
        .await
        .unwrap();
}

#[tokio::test]
async fn a_bindings_role_ref_cannot_change() {
    let sandbox = start();
    let api: Api<RoleBinding> = Api::default_namespaced(client(&sandbox, "admin", "team-a").await);
    let rb: RoleBinding = typed(json!({
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
        "metadata": {"name": "viewers"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"},
        "subjects": [{"kind": "Group", "apiGroup": "rbac.authorization.k8s.io", "name": "devs"}],
    }));
    let mut stored = api.create(&PostParams::default(), &rb).await.unwrap();
    stored.role_ref.name = "edit".into();
    let s = status(
        api.replace("viewers", &PostParams::default(), &stored)
            .await,
    );
    assert_invalid(
        &s,
        "RoleBinding",
        "RoleBinding.rbac.authorization.k8s.io \"viewers\" is invalid: roleRef: Invalid value: {\"APIGroup\":\"rbac.authorization.k8s.io\",\"Kind\":\"ClusterRole\",\"Name\":\"edit\"}: field is immutable",
    );
    // A patch is an update too.
    let s = status(
        api.patch(
            "viewers",
            &PatchParams::default(),
            &Patch::Merge(json!({"roleRef": {"name": "admin"}})),
        )
        .await,
    );
    assert!(s.message.ends_with(": field is immutable"), "{}", s.message);
    // And so is a forced server-side apply.
    let applied = Patch::Apply(json!({
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
        "metadata": {"name": "viewers"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "admin"},
        "subjects": [{"kind": "Group", "apiGroup": "rbac.authorization.k8s.io", "name": "devs"}],
    }));
    let s = status(
        api.patch("viewers", &PatchParams::apply("ci").force(), &applied)
            .await,
    );
    assert_invalid(
        &s,
        "RoleBinding",
        "RoleBinding.rbac.authorization.k8s.io \"viewers\" is invalid: roleRef: Invalid value: {\"APIGroup\":\"rbac.authorization.k8s.io\",\"Kind\":\"ClusterRole\",\"Name\":\"admin\"}: field is immutable",
    );
    assert_eq!(api.get("viewers").await.unwrap().role_ref.name, "view");
}

#[tokio::test]
async fn apply_without_a_field_manager_is_invalid() {
    let sandbox = start();
    let client = client(&sandbox, "alice", "team-a").await;
    // kube refuses this client-side, so the request is sent as kubectl-less clients would send it.
    let reply = raw(
        &client,
        "PATCH",
        "/api/v1/namespaces/team-a/configmaps/cfg",
        &[("Content-Type", "application/apply-patch+yaml")],
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg\ndata:\n  a: \"1\"\n",
    )
    .await;
    assert_eq!(reply.code, 422, "{}", reply.body);
    let body = reply.json();
    assert_eq!(
        body["message"],
        "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is required for apply patch"
    );
    assert_eq!(body["details"]["kind"], "PatchOptions");
    assert_eq!(body["details"]["group"], "meta.k8s.io");
    assert!(
        body["details"].get("name").is_none(),
        "an empty name is left out: {body}"
    );
    assert!(
        Api::<ConfigMap>::default_namespaced(client)
            .get_opt("cfg")
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn two_appliers_of_one_field_conflict_until_forced() {
    let sandbox = start();
    let api: Api<ConfigMap> = Api::default_namespaced(client(&sandbox, "alice", "team-a").await);
    let cfg = |value: &str| {
        Patch::Apply(
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "shared"}, "data": {"owner": value}}),
        )
    };
    api.patch("shared", &PatchParams::apply("team-one"), &cfg("one"))
        .await
        .unwrap();

    let s = status(
        api.patch("shared", &PatchParams::apply("team-two"), &cfg("two"))
            .await,
    );
    assert_eq!((s.code, s.reason.as_str()), (409, "Conflict"));
    assert_eq!(
        s.message,
        "Apply failed with 1 conflict: conflict with \"team-one\": .data.owner"
    );
    let cause = &s.details.unwrap().causes[0];
    assert_eq!(
        (
            cause.reason.as_str(),
            cause.message.as_str(),
            cause.field.as_str()
        ),
        (
            "FieldManagerConflict",
            "conflict with \"team-one\"",
            ".data.owner"
        )
    );

    let forced = api
        .patch(
            "shared",
            &PatchParams::apply("team-two").force(),
            &cfg("two"),
        )
        .await
        .unwrap();
    assert_eq!(forced.data.unwrap()["owner"], "two");
    let managers: Vec<String> = forced
        .metadata
        .managed_fields
        .unwrap()
        .into_iter()
        .filter_map(|m| m.manager)
        .collect();
    assert!(managers.contains(&"team-two".to_string()), "{managers:?}");
}

#[tokio::test]
async fn reapplying_the_same_content_changes_nothing() {
    let sandbox = start();
    let api: Api<ConfigMap> = Api::default_namespaced(client(&sandbox, "alice", "team-a").await);
    let patch = Patch::Apply(
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "steady", "labels": {"a": "b"}}, "data": {"k": "v"}}),
    );
    let first = api
        .patch("steady", &PatchParams::apply("ci"), &patch)
        .await
        .unwrap();
    sandbox.clear_request_log();

    let second = api
        .patch("steady", &PatchParams::apply("ci"), &patch)
        .await
        .unwrap();
    assert_eq!(
        second.metadata.resource_version,
        first.metadata.resource_version
    );
    assert_eq!(
        second.metadata.managed_fields,
        first.metadata.managed_fields
    );
    let log = sandbox.request_log();
    assert_eq!(log.len(), 1);
    assert_eq!(
        (log[0].verb.as_str(), log[0].status, log[0].changed),
        ("patch", 200, false)
    );
}

#[tokio::test]
async fn a_dry_run_apply_checks_everything_and_stores_nothing() {
    let sandbox = start();
    let role = |name: &str, resource: &str| {
        Patch::Apply(json!({
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
            "metadata": {"name": name},
            "rules": [{"apiGroups": [""], "resources": [resource], "verbs": ["get"]}],
        }))
    };
    let mut dry = PatchParams::apply("kubectl-cicd").force();
    dry.dry_run = true;

    let bob: Api<Role> = Api::default_namespaced(client(&sandbox, "bob", "team-a").await);
    sandbox.clear_request_log();
    let preview = bob
        .patch("svc-reader", &dry, &role("svc-reader", "services"))
        .await
        .unwrap();
    // As a real dry-run create: identity filled in, no resourceVersion, nothing stored.
    assert!(preview.metadata.uid.is_some());
    assert!(preview.metadata.creation_timestamp.is_some());
    assert_eq!(preview.metadata.resource_version, None);
    assert!(bob.get_opt("svc-reader").await.unwrap().is_none());
    assert!(sandbox.request_log().iter().all(|e| !e.changed));

    // Escalation prevention runs on dry runs too.
    let s = status(
        bob.patch("secret-reader", &dry, &role("secret-reader", "secrets"))
            .await,
    );
    assert_eq!((s.code, s.reason.as_str()), (403, "Forbidden"));
    assert_eq!(
        s.message,
        "roles.rbac.authorization.k8s.io \"secret-reader\" is forbidden: user \"bob\" (groups=[\"devs\" \"system:authenticated\"]) is attempting to grant RBAC permissions not currently held:\n{APIGroups:[\"\"], Resources:[\"secrets\"], Verbs:[\"get\"]}"
    );

    // On an existing object the preview shows the change; the stored object keeps its version.
    let stored = bob
        .patch(
            "svc-reader",
            &PatchParams::apply("kubectl-cicd").force(),
            &role("svc-reader", "services"),
        )
        .await
        .unwrap();
    let changed = Patch::Apply(json!({
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
        "metadata": {"name": "svc-reader"},
        "rules": [{"apiGroups": [""], "resources": ["services"], "verbs": ["get", "list"]}],
    }));
    let preview = bob.patch("svc-reader", &dry, &changed).await.unwrap();
    assert_eq!(preview.rules.unwrap()[0].verbs, ["get", "list"]);
    let after = bob.get("svc-reader").await.unwrap();
    assert_eq!(
        after.metadata.resource_version,
        stored.metadata.resource_version
    );
    assert_eq!(after.rules.unwrap()[0].verbs, ["get"]);
}

#[track_caller]
fn assert_causes(s: &Status, expected: &[(&str, &str, &str)]) {
    let causes: Vec<(String, String, String)> = s
        .details
        .as_ref()
        .unwrap()
        .causes
        .iter()
        .map(|c| (c.field.clone(), c.reason.clone(), c.message.clone()))
        .collect();
    let expected: Vec<(String, String, String)> = expected
        .iter()
        .map(|(f, r, m)| (f.to_string(), r.to_string(), m.to_string()))
        .collect();
    assert_eq!(causes, expected);
}

fn labelled_config_map(name: &str, labels: serde_json::Value) -> ConfigMap {
    typed(json!({"metadata": {"name": name, "labels": labels}}))
}

const LABEL_VALUE_RULE: &str = "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";
const LABEL_NAME_RULE: &str = "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";

#[tokio::test]
async fn label_values_are_at_most_63_characters_of_the_label_alphabet() {
    let sandbox = start();
    let api: Api<ConfigMap> = Api::default_namespaced(client(&sandbox, "alice", "team-a").await);
    let long = "v".repeat(64);
    let s = status(
        api.create(
            &PostParams::default(),
            &labelled_config_map("c", json!({"tier": long})),
        )
        .await,
    );
    let detail = format!("Invalid value: \"{long}\": must be no more than 63 bytes");
    assert_invalid(
        &s,
        "ConfigMap",
        &format!("ConfigMap \"c\" is invalid: metadata.labels: {detail}"),
    );
    assert_causes(&s, &[("metadata.labels", "FieldValueInvalid", &detail)]);

    let s = status(
        api.create(
            &PostParams::default(),
            &labelled_config_map("c", json!({"tier": "-front", "ok": ""})),
        )
        .await,
    );
    assert_invalid(
        &s,
        "ConfigMap",
        &format!(
            "ConfigMap \"c\" is invalid: metadata.labels: Invalid value: \"-front\": {LABEL_VALUE_RULE}"
        ),
    );
    assert!(
        sandbox.object("", "configmaps", "team-a", "c").is_none(),
        "nothing stored"
    );
    api.create(
        &PostParams::default(),
        &labelled_config_map(
            "c",
            json!({"tier": "v".repeat(63), "ok": "", "a.b_c-d": "X.y_z-1"}),
        ),
    )
    .await
    .expect("valid labels are accepted");
}

#[tokio::test]
async fn label_keys_follow_the_prefix_and_name_rules() {
    let sandbox = start();
    let api: Api<ConfigMap> = Api::default_namespaced(client(&sandbox, "alice", "team-a").await);
    let s = status(
        api.create(
            &PostParams::default(),
            &labelled_config_map(
                "c",
                json!({"Example.com/ok": "1", "/x": "2", "a/b/c": "3", "example.com/bad key": "4"}),
            ),
        )
        .await,
    );
    assert_invalid(
        &s,
        "ConfigMap",
        &format!(
            "ConfigMap \"c\" is invalid: [metadata.labels: Invalid value: \"/x\": prefix part must be non-empty, metadata.labels: Invalid value: \"Example.com/ok\": prefix part a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*'), metadata.labels: Invalid value: \"a/b/c\": a valid label key {LABEL_NAME_RULE} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName'), metadata.labels: Invalid value: \"example.com/bad key\": name part {LABEL_NAME_RULE}]"
        ),
    );
    assert_eq!(s.details.as_ref().unwrap().causes.len(), 4);
    let long_name = format!("example.com/{}", "n".repeat(64));
    let s = status(
        api.create(
            &PostParams::default(),
            &labelled_config_map("c", json!({long_name.clone(): "v"})),
        )
        .await,
    );
    assert_eq!(
        s.message,
        format!(
            "ConfigMap \"c\" is invalid: metadata.labels: Invalid value: \"{long_name}\": name part must be no more than 63 characters"
        )
    );
}

#[tokio::test]
async fn annotations_together_are_at_most_256_kib() {
    let sandbox = start();
    let api: Api<ConfigMap> = Api::default_namespaced(client(&sandbox, "alice", "team-a").await);
    // Key "a" plus the value: one byte over 262144.
    let big = "x".repeat(256 * 1024);
    let cm: ConfigMap = typed(json!({"metadata": {"name": "big", "annotations": {"a": big}}}));
    let s = status(api.create(&PostParams::default(), &cm).await);
    assert_invalid(
        &s,
        "ConfigMap",
        "ConfigMap \"big\" is invalid: metadata.annotations: Too long: may not be more than 262144 bytes",
    );
    assert_causes(
        &s,
        &[(
            "metadata.annotations",
            "FieldValueTooLong",
            "Too long: may not be more than 262144 bytes",
        )],
    );
    let fits: ConfigMap = typed(
        json!({"metadata": {"name": "big", "annotations": {"a": "x".repeat(256 * 1024 - 1)}}}),
    );
    api.create(&PostParams::default(), &fits).await.unwrap();
    // Updates are held to the same limit.
    let s = status(
        api.patch(
            "big",
            &PatchParams::default(),
            &Patch::Merge(json!({"metadata": {"annotations": {"b": "y"}}})),
        )
        .await,
    );
    assert_eq!(s.code, 422);
    assert!(
        s.message
            .ends_with("metadata.annotations: Too long: may not be more than 262144 bytes"),
        "{}",
        s.message
    );
}

#[tokio::test]
async fn a_secrets_type_cannot_change() {
    use k8s_openapi::api::core::v1::Secret;
    let sandbox = start();
    let api: Api<Secret> = Api::default_namespaced(client(&sandbox, "alice", "team-a").await);
    let created = api
        .create(
            &PostParams::default(),
            &typed(json!({"metadata": {"name": "s"}, "stringData": {"k": "v"}})),
        )
        .await
        .unwrap();
    assert_eq!(created.type_.as_deref(), Some("Opaque"));
    let message =
        "Secret \"s\" is invalid: type: Invalid value: \"example.com/custom\": field is immutable";

    let mut changed = created.clone();
    changed.type_ = Some("example.com/custom".into());
    let s = status(api.replace("s", &PostParams::default(), &changed).await);
    assert_invalid(&s, "Secret", message);
    assert_causes(
        &s,
        &[(
            "type",
            "FieldValueInvalid",
            "Invalid value: \"example.com/custom\": field is immutable",
        )],
    );

    let s = status(
        api.patch(
            "s",
            &PatchParams::default(),
            &Patch::Merge(json!({"type": "example.com/custom"})),
        )
        .await,
    );
    assert_invalid(&s, "Secret", message);

    let applied = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}, "type": "example.com/custom"});
    let s = status(
        api.patch(
            "s",
            &PatchParams::apply("tests").force(),
            &Patch::Apply(applied),
        )
        .await,
    );
    assert_invalid(&s, "Secret", message);

    let stored = sandbox.object("", "secrets", "team-a", "s").unwrap();
    assert_eq!(stored["type"], "Opaque");
    // Everything else may still change.
    api.patch(
        "s",
        &PatchParams::default(),
        &Patch::Merge(json!({"metadata": {"labels": {"rotated": "yes"}}})),
    )
    .await
    .unwrap();
}

#[tokio::test]
async fn names_follow_each_kinds_rule() {
    use k8s_openapi::api::core::v1::{Namespace, Service};
    let sandbox = start();
    let admin = client(&sandbox, "admin", "demo").await;

    let namespaces: Api<Namespace> = Api::all(admin.clone());
    let s = status(
        namespaces
            .create(
                &PostParams::default(),
                &typed(json!({"metadata": {"name": "team.b"}})),
            )
            .await,
    );
    assert_invalid(
        &s,
        "Namespace",
        "Namespace \"team.b\" is invalid: metadata.name: Invalid value: \"team.b\": must not contain dots",
    );
    let long = "n".repeat(64);
    let s = status(
        namespaces
            .create(
                &PostParams::default(),
                &typed(json!({"metadata": {"name": long}})),
            )
            .await,
    );
    assert_eq!(
        s.message,
        format!(
            "Namespace \"{long}\" is invalid: [metadata.name: Invalid value: \"{long}\": must be no more than 63 characters, metadata.labels: Invalid value: \"{long}\": must be no more than 63 bytes]"
        )
    );

    // 1.37 validates Service names as DNS-1123 labels (RelaxedServiceNameValidation): a leading
    // digit is fine, a dot is not.
    let services: Api<Service> = Api::namespaced(admin.clone(), "demo");
    services
        .create(
            &PostParams::default(),
            &typed(json!({"metadata": {"name": "1-web"}, "spec": {"ports": [{"port": 80}]}})),
        )
        .await
        .expect("a Service name may start with a digit");
    let s = status(
        services
            .create(
                &PostParams::default(),
                &typed(json!({"metadata": {"name": "web.x"}, "spec": {"ports": [{"port": 80}]}})),
            )
            .await,
    );
    assert_invalid(
        &s,
        "Service",
        "Service \"web.x\" is invalid: metadata.name: Invalid value: \"web.x\": must not contain dots",
    );

    let config_maps: Api<ConfigMap> = Api::namespaced(admin, "demo");
    let dotted = format!("{}.{}", "a".repeat(63), "b".repeat(63));
    config_maps
        .create(
            &PostParams::default(),
            &typed(json!({"metadata": {"name": dotted}})),
        )
        .await
        .expect("a DNS subdomain may be longer than 63 with dots");
    let too_long = "c".repeat(254);
    let s = status(
        config_maps
            .create(
                &PostParams::default(),
                &typed(json!({"metadata": {"name": too_long}})),
            )
            .await,
    );
    assert_eq!(
        s.message,
        format!(
            "ConfigMap \"{too_long}\" is invalid: metadata.name: Invalid value: \"{too_long}\": must be no more than 253 characters"
        )
    );
}
