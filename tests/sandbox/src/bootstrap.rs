//! The default ClusterRoles and ClusterRoleBindings a 1.37 cluster has, as the
//! apiserver's `rbac/bootstrap-roles` post-start hook creates them
//! (`plugin/pkg/auth/authorizer/rbac/bootstrappolicy/policy.go`; the rules below follow
//! its rendering in `bootstrappolicy/testdata/cluster-roles.yaml`, whose rule builder
//! sorts every list), with the aggregated roles `admin`, `edit` and `view` already
//! filled in as the clusterrole-aggregation controller leaves them.
//!
//! Only the roles a user of the sandbox meets are included: `cluster-admin`, `admin`,
//! `edit`, `view`, their `system:aggregate-to-*` sources, `system:basic-user`,
//! `system:discovery`, `system:public-info-viewer` and
//! `system:service-account-issuer-discovery`; the controller and node roles are left out.

use serde_json::{Value, json};

use crate::rbac::{PolicyRule, RBAC_GROUP, aggregate_cluster_roles};

const READ: &[&str] = &["get", "list", "watch"];
const WRITE: &[&str] = &["create", "delete", "deletecollection", "patch", "update"];
const READ_WRITE: &[&str] = &[
    "create",
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "update",
    "watch",
];

const AGGREGATE_TO_ADMIN: &str = "rbac.authorization.k8s.io/aggregate-to-admin";
const AGGREGATE_TO_EDIT: &str = "rbac.authorization.k8s.io/aggregate-to-edit";
const AGGREGATE_TO_VIEW: &str = "rbac.authorization.k8s.io/aggregate-to-view";

fn r(verbs: &[&str], groups: &[&str], resources: &[&str]) -> PolicyRule {
    PolicyRule::resource(verbs, groups, resources)
}

fn urls(verbs: &[&str], urls: &[&str]) -> PolicyRule {
    PolicyRule::non_resource(verbs, urls)
}

/// `addDefaultMetadata`: label `kubernetes.io/bootstrapping: rbac-defaults`, annotation
/// `rbac.authorization.kubernetes.io/autoupdate: "true"`, plus the object's own labels.
fn metadata(name: &str, extra_label: Option<&str>) -> Value {
    let mut labels = json!({"kubernetes.io/bootstrapping": "rbac-defaults"});
    if let Some(l) = extra_label {
        labels[l] = json!("true");
    }
    json!({
        "name": name,
        "labels": labels,
        "annotations": {"rbac.authorization.kubernetes.io/autoupdate": "true"}
    })
}

fn cluster_role(name: &str, label: Option<&str>, rules: Vec<PolicyRule>) -> Value {
    json!({
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRole",
        "metadata": metadata(name, label),
        "rules": rules
    })
}

fn aggregated_role(name: &str, label: Option<&str>, selector_label: &str) -> Value {
    json!({
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRole",
        "metadata": metadata(name, label),
        "aggregationRule": {"clusterRoleSelectors": [{"matchLabels": {selector_label: "true"}}]},
        "rules": null
    })
}

/// `system:aggregate-to-admin`.
fn aggregate_to_admin_rules() -> Vec<PolicyRule> {
    vec![
        r(
            &["create"],
            &["authorization.k8s.io"],
            &["localsubjectaccessreviews"],
        ),
        r(READ_WRITE, &[RBAC_GROUP], &["rolebindings", "roles"]),
    ]
}

/// `system:aggregate-to-edit`.
fn aggregate_to_edit_rules() -> Vec<PolicyRule> {
    vec![
        r(
            READ,
            &[""],
            &[
                "pods/attach",
                "pods/exec",
                "pods/portforward",
                "pods/proxy",
                "secrets",
                "services/proxy",
            ],
        ),
        r(&["impersonate"], &[""], &["serviceaccounts"]),
        r(
            WRITE,
            &[""],
            &[
                "pods",
                "pods/attach",
                "pods/exec",
                "pods/portforward",
                "pods/proxy",
            ],
        ),
        r(&["create"], &[""], &["pods/eviction"]),
        r(
            WRITE,
            &[""],
            &[
                "configmaps",
                "persistentvolumeclaims",
                "replicationcontrollers",
                "replicationcontrollers/scale",
                "secrets",
                "serviceaccounts",
                "services",
                "services/proxy",
            ],
        ),
        r(&["create"], &[""], &["serviceaccounts/token"]),
        r(WRITE, &["", "events.k8s.io"], &["events"]),
        r(
            WRITE,
            &["apps"],
            &[
                "daemonsets",
                "deployments",
                "deployments/rollback",
                "deployments/scale",
                "replicasets",
                "replicasets/scale",
                "statefulsets",
                "statefulsets/scale",
            ],
        ),
        r(WRITE, &["autoscaling"], &["horizontalpodautoscalers"]),
        r(WRITE, &["batch"], &["cronjobs", "jobs"]),
        r(
            WRITE,
            &["extensions"],
            &[
                "daemonsets",
                "deployments",
                "deployments/rollback",
                "deployments/scale",
                "ingresses",
                "networkpolicies",
                "replicasets",
                "replicasets/scale",
                "replicationcontrollers/scale",
            ],
        ),
        r(WRITE, &["policy"], &["poddisruptionbudgets"]),
        r(
            WRITE,
            &["networking.k8s.io"],
            &["ingresses", "networkpolicies"],
        ),
        r(READ_WRITE, &["coordination.k8s.io"], &["leases"]),
        r(
            WRITE,
            &["resource.k8s.io"],
            &["resourceclaims", "resourceclaimtemplates"],
        ),
    ]
}

/// `system:aggregate-to-view`.
fn aggregate_to_view_rules() -> Vec<PolicyRule> {
    vec![
        r(
            READ,
            &[""],
            &[
                "configmaps",
                "endpoints",
                "persistentvolumeclaims",
                "persistentvolumeclaims/status",
                "pods",
                "replicationcontrollers",
                "replicationcontrollers/scale",
                "serviceaccounts",
                "services",
                "services/status",
            ],
        ),
        r(
            READ,
            &[""],
            &[
                "bindings",
                "limitranges",
                "namespaces/status",
                "pods/log",
                "pods/status",
                "replicationcontrollers/status",
                "resourcequotas",
                "resourcequotas/status",
            ],
        ),
        r(READ, &[""], &["namespaces"]),
        r(READ, &["", "events.k8s.io"], &["events"]),
        r(READ, &["discovery.k8s.io"], &["endpointslices"]),
        r(
            READ,
            &["apps"],
            &[
                "controllerrevisions",
                "daemonsets",
                "daemonsets/status",
                "deployments",
                "deployments/scale",
                "deployments/status",
                "replicasets",
                "replicasets/scale",
                "replicasets/status",
                "statefulsets",
                "statefulsets/scale",
                "statefulsets/status",
            ],
        ),
        r(
            READ,
            &["autoscaling"],
            &[
                "horizontalpodautoscalers",
                "horizontalpodautoscalers/status",
            ],
        ),
        r(
            READ,
            &["batch"],
            &["cronjobs", "cronjobs/status", "jobs", "jobs/status"],
        ),
        r(
            READ,
            &["extensions"],
            &[
                "daemonsets",
                "daemonsets/status",
                "deployments",
                "deployments/scale",
                "deployments/status",
                "ingresses",
                "ingresses/status",
                "networkpolicies",
                "replicasets",
                "replicasets/scale",
                "replicasets/status",
                "replicationcontrollers/scale",
            ],
        ),
        r(
            READ,
            &["policy"],
            &["poddisruptionbudgets", "poddisruptionbudgets/status"],
        ),
        r(
            READ,
            &["networking.k8s.io"],
            &["ingresses", "ingresses/status", "networkpolicies"],
        ),
        r(
            READ,
            &["resource.k8s.io"],
            &[
                "resourceclaims",
                "resourceclaims/status",
                "resourceclaimtemplates",
            ],
        ),
    ]
}

/// Full rbac.authorization.k8s.io/v1 ClusterRole objects (without server-set metadata
/// such as uid, resourceVersion, creationTimestamp), `admin`/`edit`/`view` aggregated.
pub fn default_cluster_roles() -> Vec<Value> {
    let mut roles = vec![
        cluster_role(
            "cluster-admin",
            None,
            vec![r(&["*"], &["*"], &["*"]), urls(&["*"], &["*"])],
        ),
        aggregated_role("admin", None, AGGREGATE_TO_ADMIN),
        aggregated_role("edit", Some(AGGREGATE_TO_ADMIN), AGGREGATE_TO_EDIT),
        aggregated_role("view", Some(AGGREGATE_TO_EDIT), AGGREGATE_TO_VIEW),
        cluster_role(
            "system:aggregate-to-admin",
            Some(AGGREGATE_TO_ADMIN),
            aggregate_to_admin_rules(),
        ),
        cluster_role(
            "system:aggregate-to-edit",
            Some(AGGREGATE_TO_EDIT),
            aggregate_to_edit_rules(),
        ),
        cluster_role(
            "system:aggregate-to-view",
            Some(AGGREGATE_TO_VIEW),
            aggregate_to_view_rules(),
        ),
        cluster_role(
            "system:basic-user",
            None,
            vec![
                r(
                    &["create"],
                    &["authorization.k8s.io"],
                    &["selfsubjectaccessreviews", "selfsubjectrulesreviews"],
                ),
                r(
                    &["create"],
                    &["authentication.k8s.io"],
                    &["selfsubjectreviews"],
                ),
            ],
        ),
        cluster_role(
            "system:discovery",
            None,
            vec![urls(
                &["get"],
                &[
                    "/api",
                    "/api/*",
                    "/apis",
                    "/apis/*",
                    "/healthz",
                    "/livez",
                    "/openapi",
                    "/openapi/*",
                    "/readyz",
                    "/version",
                    "/version/",
                ],
            )],
        ),
        cluster_role(
            "system:public-info-viewer",
            None,
            vec![urls(
                &["get"],
                &["/healthz", "/livez", "/readyz", "/version", "/version/"],
            )],
        ),
        cluster_role(
            "system:service-account-issuer-discovery",
            None,
            vec![urls(
                &["get"],
                &[
                    "/.well-known/openid-configuration",
                    "/.well-known/openid-configuration/",
                    "/openid/v1/jwks",
                    "/openid/v1/jwks/",
                ],
            )],
        ),
    ];
    aggregate_cluster_roles(&mut roles);
    roles
}

fn cluster_role_binding(name: &str, groups: &[&str]) -> Value {
    let subjects: Vec<Value> = groups
        .iter()
        .map(|g| json!({"apiGroup": RBAC_GROUP, "kind": "Group", "name": g}))
        .collect();
    json!({
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "ClusterRoleBinding",
        "metadata": metadata(name, None),
        "roleRef": {"apiGroup": RBAC_GROUP, "kind": "ClusterRole", "name": name},
        "subjects": subjects
    })
}

/// The default ClusterRoleBindings of those roles (each named as its role).
pub fn default_cluster_role_bindings() -> Vec<Value> {
    vec![
        cluster_role_binding("cluster-admin", &["system:masters"]),
        cluster_role_binding("system:basic-user", &["system:authenticated"]),
        cluster_role_binding("system:discovery", &["system:authenticated"]),
        cluster_role_binding(
            "system:public-info-viewer",
            &["system:authenticated", "system:unauthenticated"],
        ),
        cluster_role_binding(
            "system:service-account-issuer-discovery",
            &["system:serviceaccounts"],
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rbac::{
        Attributes, RbacSnapshot, UserInfo, authorize, check_binding_escalation,
        check_role_escalation, rules_of, self_subject_rules_review_status,
    };

    fn find<'a>(roles: &'a [Value], name: &str) -> &'a Value {
        roles
            .iter()
            .find(|r| r["metadata"]["name"] == name)
            .unwrap_or_else(|| panic!("no {name}"))
    }

    /// A snapshot with the defaults plus RoleBindings of `cluster_role` in `ns` for `user`.
    fn snapshot_with(bindings: &[(&str, &str, &str)]) -> RbacSnapshot {
        let rbs: Vec<Value> = bindings
            .iter()
            .map(|(ns, role, user)| {
                json!({
                    "metadata": {"namespace": ns, "name": format!("{user}-{role}")},
                    "roleRef": {"apiGroup": RBAC_GROUP, "kind": "ClusterRole", "name": role},
                    "subjects": [{"apiGroup": RBAC_GROUP, "kind": "User", "name": user}]
                })
            })
            .collect();
        RbacSnapshot::from_objects(
            &[],
            &rbs,
            &default_cluster_roles(),
            &default_cluster_role_bindings(),
        )
    }

    fn user(name: &str) -> UserInfo {
        UserInfo::new(name, &["system:authenticated"])
    }

    #[test]
    fn metadata_is_the_real_one() {
        let roles = default_cluster_roles();
        for r in &roles {
            assert_eq!(r["apiVersion"], "rbac.authorization.k8s.io/v1");
            assert_eq!(r["kind"], "ClusterRole");
            assert_eq!(
                r["metadata"]["labels"]["kubernetes.io/bootstrapping"],
                "rbac-defaults"
            );
            assert_eq!(
                r["metadata"]["annotations"]["rbac.authorization.kubernetes.io/autoupdate"],
                "true"
            );
        }
        assert_eq!(
            find(&roles, "edit")["metadata"]["labels"][AGGREGATE_TO_ADMIN],
            "true"
        );
        assert_eq!(
            find(&roles, "view")["metadata"]["labels"][AGGREGATE_TO_EDIT],
            "true"
        );
        assert_eq!(
            find(&roles, "admin")["aggregationRule"],
            json!({"clusterRoleSelectors": [{"matchLabels": {AGGREGATE_TO_ADMIN: "true"}}]})
        );
        for b in default_cluster_role_bindings() {
            assert_eq!(b["kind"], "ClusterRoleBinding");
            assert_eq!(b["roleRef"]["name"], b["metadata"]["name"]);
            assert_eq!(
                b["metadata"]["labels"]["kubernetes.io/bootstrapping"],
                "rbac-defaults"
            );
        }
    }

    #[test]
    fn aggregated_rules_are_filled_in_controller_order() {
        let roles = default_cluster_roles();
        let view = rules_of(find(&roles, "view"));
        assert_eq!(view, aggregate_to_view_rules());
        let edit = rules_of(find(&roles, "edit"));
        let mut expected = aggregate_to_edit_rules();
        expected.extend(aggregate_to_view_rules());
        assert_eq!(edit, expected);
        let admin = rules_of(find(&roles, "admin"));
        expected.extend(aggregate_to_admin_rules());
        assert_eq!(admin, expected);
        // admin can manage roles and bindings but holds neither escalate nor bind.
        assert!(admin.iter().all(|r| {
            !r.verbs
                .iter()
                .any(|v| v == "escalate" || v == "bind" || v == "*")
        }));
        // the aggregation is stable
        let mut again = roles.clone();
        assert!(!aggregate_cluster_roles(&mut again));
    }

    #[test]
    fn view_edit_admin_grants() {
        let s = snapshot_with(&[("team-a", "view", "vic"), ("team-a", "admin", "ada")]);
        let vic = user("vic");
        assert!(
            authorize(
                &s,
                &vic,
                &Attributes::resource("list", "team-a", "", "pods", "")
            )
            .allowed
        );
        assert!(
            authorize(
                &s,
                &vic,
                &Attributes::resource("get", "team-a", "", "pods/log", "p")
            )
            .allowed
        );
        assert!(
            !authorize(
                &s,
                &vic,
                &Attributes::resource("get", "team-a", "", "secrets", "s")
            )
            .allowed
        );
        assert!(
            !authorize(
                &s,
                &vic,
                &Attributes::resource("list", "team-b", "", "pods", "")
            )
            .allowed
        );
        assert!(
            !authorize(
                &s,
                &vic,
                &Attributes::resource("create", "team-a", "", "pods", "")
            )
            .allowed
        );
        let ada = user("ada");
        let create_role = Attributes::resource("create", "team-a", RBAC_GROUP, "roles", "");
        let d = authorize(&s, &ada, &create_role);
        assert!(d.allowed);
        assert_eq!(
            d.reason,
            r#"RBAC: allowed by RoleBinding "ada-admin/team-a" of ClusterRole "admin" to User "ada""#
        );
        assert!(
            authorize(
                &s,
                &ada,
                &Attributes::resource("create", "team-a", "", "serviceaccounts/token", "sa")
            )
            .allowed
        );
        assert!(
            !authorize(
                &s,
                &ada,
                &Attributes::resource("escalate", "team-a", RBAC_GROUP, "roles", "r")
            )
            .allowed
        );
        assert!(
            !authorize(
                &s,
                &ada,
                &Attributes::resource("bind", "team-a", RBAC_GROUP, "clusterroles", "admin")
            )
            .allowed
        );
    }

    #[test]
    fn admin_holder_cannot_escalate() {
        let s = snapshot_with(&[("team-a", "admin", "ada")]);
        let ada = user("ada");
        let secrets = [r(&["get", "list"], &[""], &["secrets"])];
        assert!(
            check_role_escalation(&s, &ada, "Role", "team-a", "secret-reader", &secrets).is_ok()
        );
        let star = [r(&["*"], &[""], &["pods"])];
        let err = check_role_escalation(&s, &ada, "Role", "team-a", "pod-god", &star).unwrap_err();
        assert_eq!(
            err.message(),
            "roles.rbac.authorization.k8s.io \"pod-god\" is forbidden: user \"ada\" (groups=[\"system:authenticated\"]) is attempting to grant RBAC permissions not currently held:\n{APIGroups:[\"\"], Resources:[\"pods\"], Verbs:[\"*\"]}"
        );
        let nodes = [r(&["get"], &[""], &["nodes"])];
        assert!(check_role_escalation(&s, &ada, "Role", "team-a", "n", &nodes).is_err());
        // binding admin or edit in the own namespace is covered, cluster-admin is not
        assert!(
            check_binding_escalation(
                &s,
                &ada,
                "RoleBinding",
                "team-a",
                "b",
                "ClusterRole",
                "edit"
            )
            .is_ok()
        );
        assert!(
            check_binding_escalation(
                &s,
                &ada,
                "RoleBinding",
                "team-a",
                "b",
                "ClusterRole",
                "admin"
            )
            .is_ok()
        );
        assert!(
            check_binding_escalation(
                &s,
                &ada,
                "RoleBinding",
                "team-a",
                "b",
                "ClusterRole",
                "cluster-admin"
            )
            .is_err()
        );
        assert!(
            check_binding_escalation(
                &s,
                &ada,
                "RoleBinding",
                "team-b",
                "b",
                "ClusterRole",
                "view"
            )
            .is_err()
        );
    }

    #[test]
    fn fresh_service_account_can_discover_and_review_itself() {
        let s = snapshot_with(&[]);
        let sa = UserInfo::service_account("ci", "deployer");
        for path in [
            "/api",
            "/api/v1",
            "/apis",
            "/apis/apps/v1",
            "/version",
            "/openapi/v2",
            "/healthz",
        ] {
            assert!(
                authorize(&s, &sa, &Attributes::non_resource("get", path)).allowed,
                "{path}"
            );
        }
        assert!(!authorize(&s, &sa, &Attributes::non_resource("get", "/metrics")).allowed);
        let ssrr = Attributes::resource(
            "create",
            "",
            "authorization.k8s.io",
            "selfsubjectrulesreviews",
            "",
        );
        let d = authorize(&s, &sa, &ssrr);
        assert_eq!(
            d.reason,
            r#"RBAC: allowed by ClusterRoleBinding "system:basic-user" of ClusterRole "system:basic-user" to Group "system:authenticated""#
        );
        assert!(!authorize(&s, &sa, &Attributes::resource("list", "ci", "", "pods", "")).allowed);
        let status = self_subject_rules_review_status(&s, &sa, "ci");
        assert_eq!(status["incomplete"], json!(false));
        assert!(status.get("evaluationError").is_none());
        assert_eq!(
            status["resourceRules"],
            json!([
                {"verbs": ["create"], "apiGroups": ["authorization.k8s.io"], "resources": ["selfsubjectaccessreviews", "selfsubjectrulesreviews"]},
                {"verbs": ["create"], "apiGroups": ["authentication.k8s.io"], "resources": ["selfsubjectreviews"]}
            ])
        );
        assert_eq!(status["nonResourceRules"].as_array().unwrap().len(), 3);
        // an anonymous user only sees the public info
        let anon = UserInfo::new("system:anonymous", &["system:unauthenticated"]);
        assert!(authorize(&s, &anon, &Attributes::non_resource("get", "/version")).allowed);
        assert!(!authorize(&s, &anon, &Attributes::non_resource("get", "/api")).allowed);
        // system:masters is bound to cluster-admin as well
        let root = UserInfo::new(
            "kubernetes-admin",
            &["system:masters", "system:authenticated"],
        );
        let status = self_subject_rules_review_status(&s, &root, "ci");
        assert_eq!(
            status["resourceRules"][0],
            json!({"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]})
        );
    }
}
