//! Findings about identities: who is audited, pull controllers, unused accounts, thresholds,
//! workload creation and cloud identities.

use super::*;

#[test]
fn unread_bindings_make_no_unused_identity_claim() {
    let objects = [sa("team-a", "deployer")];
    let scope = Scope {
        namespaces: vec!["team-a".into()],
        ..Scope::default()
    };
    let mut snapshot = from_objects(&objects, NOW);
    let findings = analyze(&snapshot, &scope, &Options::default());
    assert!(!of(&findings, "unused-identity", "deployer").is_empty());
    snapshot.gaps.push("clusterrolebindings: forbidden".into());
    let findings = analyze(&snapshot, &scope, &Options::default());
    assert!(
        of(&findings, "unused-identity", "deployer").is_empty(),
        "a ClusterRoleBinding the caller cannot read may name it"
    );
}

#[test]
fn system_identities_and_bootstrap_bindings_are_not_audited() {
    let mut masters = crb(
        "cluster-admin",
        "cluster-admin",
        json!([{"kind": "Group", "name": "system:masters"}]),
    );
    masters["metadata"]["labels"] = json!({"kubernetes.io/bootstrapping": "rbac-defaults"});
    let mut fake = crb("sneaky", "cluster-admin", sa_subject("x", "ci"));
    fake["metadata"]["labels"] = json!({"kubernetes.io/bootstrapping": "rbac-defaults"});
    let objects = vec![
        cluster_role("cluster-admin", &[r(&["*"], &["*"], &["*"])]),
        masters,
        crb(
            "scheduler",
            "cluster-admin",
            json!([{"kind": "User", "name": "system:kube-scheduler"}]),
        ),
        sa("x", "ci"),
        fake,
    ];
    let findings = run(&objects, &all());
    assert_eq!(
        subjects(&findings),
        BTreeSet::from(["ServiceAccount x/ci".to_string()])
    );
    assert!(
        !of(&findings, "cluster-admin-binding", "ci").is_empty(),
        "a label cannot hide it"
    );
}

#[test]
fn pull_controllers_by_name_and_label() {
    assert_eq!(
        pull_controller("argocd", "argocd-application-controller", None)
            .unwrap()
            .0,
        "Argo CD"
    );
    assert_eq!(
        pull_controller("flux-system", "kustomize-controller", None)
            .unwrap()
            .0,
        "Flux"
    );
    assert_eq!(
        pull_controller("flux-system", "image-reflector-controller", None)
            .unwrap()
            .0,
        "Flux"
    );
    assert!(pull_controller("team-a", "kustomize-controller", None).is_none());
    let labels = BTreeMap::from([("app.kubernetes.io/part-of".to_string(), "flux".to_string())]);
    assert_eq!(
        pull_controller("gitops", "x", Some(&labels)).unwrap().0,
        "Flux"
    );
    assert!(pull_controller("team-a", "ci", None).is_none());
    let objects = vec![
        sa("argocd", "argocd-application-controller"),
        cluster_role(
            "argocd-application-controller",
            &[r(&["*"], &["*"], &["*"])],
        ),
        crb(
            "argocd-application-controller",
            "argocd-application-controller",
            sa_subject("argocd", "argocd-application-controller"),
        ),
        sa("flux-system", "helm-controller"),
        cluster_role("reader", &[r(&[""], &["configmaps"], &["get"])]),
        crb(
            "flux-reader",
            "reader",
            sa_subject("flux-system", "helm-controller"),
        ),
    ];
    let findings = run(&objects, &all());
    let argo = of(
        &findings,
        "pull-controller-cluster-wide",
        "argocd-application-controller",
    );
    assert!(
        argo[0]
            .evidence
            .contains("belongs to Argo CD (its name argocd-application-controller)")
    );
    assert!(argo[0].remediation.contains("namespace-install"));
    assert!(
        !of(
            &findings,
            "cluster-admin-binding",
            "argocd-application-controller"
        )
        .is_empty()
    );
    let flux = of(&findings, "pull-controller-cluster-wide", "helm-controller");
    assert!(flux[0].remediation.contains("--default-service-account"));
    assert!(
        of(&findings, "cluster-wide-binding", "helm-controller").is_empty(),
        "the specific rule replaces the generic one"
    );
}

#[test]
fn unused_identities_skip_default_and_bound_accounts() {
    let objects = vec![
        sa("x", "default"),
        sa("x", "idle"),
        sa("x", "dangling"),
        rb("x", "dangling", "Role", "gone", sa_subject("x", "dangling")),
    ];
    let findings = run(&objects, &all());
    assert_eq!(
        findings
            .iter()
            .filter(|f| f.rule == "unused-identity")
            .map(|f| f.subject.name.as_str())
            .collect::<Vec<_>>(),
        ["idle"]
    );
    let missing = of(&findings, "missing-role", "dangling");
    assert_eq!(missing[0].subject.kind, "RoleBinding");
    assert!(
        missing[0]
            .evidence
            .contains("refers to Role x/gone, which does not exist")
    );
    assert!(
        missing[0]
            .evidence
            .contains("grants it to ServiceAccount x/dangling")
    );
    assert!(
        missing[0]
            .remediation
            .contains("kubectl delete rolebinding dangling -n x")
    );
    // a role the snapshot could not read is not "missing"
    let mut snap = from_objects(&objects, NOW);
    snap.gaps
        .push("roles: forbidden (alice cannot list roles)".into());
    assert!(
        analyze(&snap, &all(), &Options::default())
            .iter()
            .all(|f| f.rule != "missing-role")
    );
}

#[test]
fn many_roles_and_subjects_thresholds() {
    let mut objects = vec![sa("x", "busy")];
    for i in 0..5 {
        objects.push(role(
            "x",
            &format!("r{i}"),
            &[r(&[""], &["configmaps"], &["get"])],
        ));
        objects.push(rb(
            "x",
            &format!("b{i}"),
            "Role",
            &format!("r{i}"),
            sa_subject("x", "busy"),
        ));
    }
    for i in 0..6 {
        objects.push(rb(
            "y",
            &format!("m{i}"),
            "Role",
            "r",
            sa_subject("y", &format!("s{i}")),
        ));
    }
    let findings = run(&objects, &all());
    let busy = of(&findings, "many-roles", "busy");
    assert_eq!(busy[0].severity, Severity::Info);
    assert!(busy[0].evidence.contains("5 roles (more than 4)"));
    let ns = of(&findings, "many-subjects", "y");
    assert_eq!(ns[0].subject.kind, "Namespace");
    assert!(ns[0].evidence.contains("6 subjects (more than 5)"));
    let relaxed = analyze(
        &from_objects(&objects, NOW),
        &all(),
        &Options {
            many_roles: 5,
            many_subjects: 6,
            ..Options::default()
        },
    );
    assert!(
        relaxed
            .iter()
            .all(|f| f.rule != "many-roles" && f.rule != "many-subjects")
    );
}

#[test]
fn workload_creation_names_the_identities_pods_can_use() {
    let mut objects = vec![
        sa("x", "ci"),
        sa("x", "powerful"),
        role(
            "x",
            "deploy",
            &[r(&["apps"], &["deployments"], &["create"])],
        ),
        rb("x", "deploy", "Role", "deploy", sa_subject("x", "ci")),
    ];
    // Alone: no other ServiceAccount of x is bound to anything, so pods gain nothing.
    let findings = run(&objects, &all());
    let alone = of(&findings, "workload-create", "ci")[0];
    assert_eq!(alone.severity, Severity::Low, "{}", alone.evidence);
    assert!(
        alone
            .evidence
            .contains("None of the others is bound to a role"),
        "{}",
        alone.evidence
    );

    objects.push(role(
        "x",
        "read-secrets",
        &[r(&[""], &["secrets"], &["get"])],
    ));
    objects.push(rb(
        "x",
        "powerful",
        "Role",
        "read-secrets",
        sa_subject("x", "powerful"),
    ));
    let findings = run(&objects, &all());
    let f = of(&findings, "workload-create", "ci")[0];
    assert_eq!(f.severity, Severity::Medium);
    assert!(
        f.evidence
            .contains("create deployments.apps in namespace x"),
        "{}",
        f.evidence
    );
    assert!(
        f.evidence
            .contains("any ServiceAccount of namespace x (ci, powerful)"),
        "{}",
        f.evidence
    );
    assert!(!f.evidence.contains("None of the others"), "{}", f.evidence);

    // Bindings that could not be read might bind the others: not lowered.
    let mut snapshot = from_objects(&objects[..4], NOW);
    snapshot
        .gaps
        .push("clusterrolebindings: forbidden (no)".into());
    let findings = analyze(&snapshot, &all(), &Options::default());
    let unread = of(&findings, "workload-create", "ci")[0];
    assert_eq!(unread.severity, Severity::Medium, "{}", unread.evidence);
}

#[test]
fn cloud_identity_and_default_service_account() {
    let mut annotated = sa("x", "app");
    annotated["metadata"]["annotations"] =
        json!({"iam.gke.io/gcp-service-account": "app@p.iam.gserviceaccount.com"});
    let objects = vec![
        annotated,
        sa("x", "default"),
        role("x", "read", &[r(&[""], &["configmaps"], &["get"])]),
        rb(
            "x",
            "default-read",
            "Role",
            "read",
            sa_subject("x", "default"),
        ),
    ];
    let findings = run(&objects, &all());
    let cloud = of(&findings, "cloud-identity", "app");
    assert!(
        cloud[0]
            .evidence
            .contains("iam.gke.io/gcp-service-account: app@p.iam.gserviceaccount.com")
    );
    let default = of(&findings, "default-sa-bound", "default");
    assert!(
        default[0]
            .evidence
            .contains("every pod of namespace x that names no ServiceAccount")
    );
}
