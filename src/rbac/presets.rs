//! Presets: named lists of (group, resource, verbs) a pipeline typically needs,
//! and their resolution against the kinds the cluster really serves. A wanted
//! kind the cluster does not serve is reported, never silently dropped.

use crate::rbac::builder::Selection;
use crate::rbac::kinds::{ServedKind, find_kind};
use crate::rbac::rule::Rule;
use crate::rbac::{READ_ONLY_VERBS, READ_WRITE_VERBS};
use serde::{Deserialize, Serialize};

/// One wanted grant: verbs on `resource` in `group`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Want {
    /// API group, `""` for core.
    pub group: String,
    /// Plural resource.
    pub resource: String,
    /// Wanted verbs.
    pub verbs: Vec<String>,
}

impl Want {
    /// A want from literals.
    pub fn new(group: &str, resource: &str, verbs: &[&str]) -> Self {
        Want {
            group: group.to_string(),
            resource: resource.to_string(),
            verbs: verbs.iter().map(|v| v.to_string()).collect(),
        }
    }

    /// The want as a one-group, one-resource rule.
    pub fn to_rule(&self) -> Rule {
        Rule::new(self.verbs.iter().map(String::as_str))
            .with_groups([self.group.as_str()])
            .with_resources([self.resource.as_str()])
    }
}

/// A named preset.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Preset {
    /// The name used on the command line (`--preset web-app`).
    pub name: String,
    /// One line for the wizard.
    pub description: String,
    /// What the preset asks for.
    pub wants: Vec<Want>,
}

/// Why a wanted kind did not make it into the selection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum SkipReason {
    /// Discovery does not list the type (CRD not installed, API disabled).
    NotServed,
    /// The type is cluster-scoped: a Role cannot grant it.
    ClusterScoped,
}

impl std::fmt::Display for SkipReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            SkipReason::NotServed => "the cluster does not serve this resource",
            SkipReason::ClusterScoped => "cluster-scoped: a namespaced Role cannot grant it",
        })
    }
}

/// A want that was not selected, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Skipped {
    /// The want.
    pub want: Want,
    /// Why it was skipped.
    pub reason: SkipReason,
}

/// The outcome of resolving wants against served kinds.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resolution {
    /// Kinds to grant, with the verbs wanted (one entry per kind).
    pub selections: Vec<Selection>,
    /// Wants the cluster cannot satisfy.
    pub skipped: Vec<Skipped>,
}

/// Resolves `wants` against `served`. Several wants for one kind merge their
/// verbs; the order of first appearance is kept.
pub fn resolve(wants: &[Want], served: &[ServedKind]) -> Resolution {
    let mut out = Resolution::default();
    for want in wants {
        let Some(kind) = find_kind(served, &want.group, &want.resource) else {
            out.skipped.push(Skipped {
                want: want.clone(),
                reason: SkipReason::NotServed,
            });
            continue;
        };
        if !kind.namespaced {
            out.skipped.push(Skipped {
                want: want.clone(),
                reason: SkipReason::ClusterScoped,
            });
            continue;
        }
        match out
            .selections
            .iter_mut()
            .find(|s| s.kind.is(&want.group, &want.resource))
        {
            Some(sel) => {
                let verbs = sel.verbs.get_or_insert_with(Vec::new);
                for v in &want.verbs {
                    if !verbs.contains(v) {
                        verbs.push(v.clone());
                    }
                }
            }
            None => out.selections.push(Selection {
                kind: kind.clone(),
                verbs: Some(want.verbs.clone()),
            }),
        }
    }
    out
}

impl Preset {
    /// Resolves the preset against the served kinds.
    pub fn resolve(&self, served: &[ServedKind]) -> Resolution {
        resolve(&self.wants, served)
    }

    /// The preset's wants as rules (one per want).
    pub fn rules(&self) -> Vec<Rule> {
        self.wants.iter().map(Want::to_rule).collect()
    }
}

/// Preset names, in the order the wizard offers them.
pub const NAMES: &[&str] = &["web-app", "helm", "welkin-demo"];

fn preset(name: &str, description: &str, wants: Vec<Want>) -> Preset {
    Preset {
        name: name.to_string(),
        description: description.to_string(),
        wants,
    }
}

fn web_app_wants() -> Vec<Want> {
    vec![
        Want::new("apps", "deployments", READ_WRITE_VERBS),
        Want::new("", "services", READ_WRITE_VERBS),
        Want::new("networking.k8s.io", "ingresses", READ_WRITE_VERBS),
        Want::new("autoscaling", "horizontalpodautoscalers", READ_WRITE_VERBS),
        Want::new("", "configmaps", READ_WRITE_VERBS),
    ]
}

/// `web-app`: a stateless web application applied with `kubectl apply`.
pub fn web_app() -> Preset {
    preset(
        "web-app",
        "Deployments, Services, Ingresses, HorizontalPodAutoscalers and ConfigMaps",
        web_app_wants(),
    )
}

/// `helm`: `web-app` plus what Helm 3 itself needs: Secrets (Helm stores
/// each release's state in a Secret of the release namespace) and read access
/// to ReplicaSets (`helm upgrade --wait` reads them to find a Deployment's new
/// ReplicaSet; it never writes them, so they are read-only here).
pub fn helm() -> Preset {
    let mut wants = web_app_wants();
    wants.push(Want::new("", "secrets", READ_WRITE_VERBS));
    wants.push(Want::new("apps", "replicasets", READ_ONLY_VERBS));
    preset(
        "helm",
        "web-app plus Secrets (Helm release state) and read-only ReplicaSets (helm --wait)",
        wants,
    )
}

/// Verbs of every full-access rule of the Welkin user-demo Role, in the file's order.
const WELKIN_FULL: &[&str] = &[
    "create", "delete", "get", "list", "patch", "update", "watch",
];

/// The Role the Welkin / Compliant Kubernetes user demo's CI/CD pipeline uses,
/// rule for rule, from `user-demo/deploy/ci-cd-role.yaml` in the
/// `elastisys/compliantkubernetes` repository (commit
/// 1ebd0d6d7ba8536b2827b2a47fb782da826d0690; the Welkin docs link it as
/// `github.com/elastisys/welkin/blob/main/user-demo/deploy/ci-cd-role.yaml`
/// after the rename). Its header says it was tested with `helm install --wait`,
/// `helm upgrade --wait`, `helm list` and `helm uninstall`. Note the file lists
/// `networking.k8s.io` in two separate rules (ingresses, networkpolicies).
pub fn welkin_demo_rules() -> Vec<Rule> {
    vec![
        Rule::resource(
            &[""],
            &["configmaps", "pods", "secrets", "services"],
            WELKIN_FULL,
        ),
        Rule::resource(&["apps"], &["deployments", "replicasets"], WELKIN_FULL),
        Rule::resource(&["autoscaling"], &["horizontalpodautoscalers"], WELKIN_FULL),
        Rule::resource(&["networking.k8s.io"], &["ingresses"], WELKIN_FULL),
        Rule::resource(
            &["monitoring.coreos.com"],
            &["prometheusrules", "servicemonitors"],
            WELKIN_FULL,
        ),
        Rule::resource(&["networking.k8s.io"], &["networkpolicies"], WELKIN_FULL),
        Rule::resource(
            &["cert-manager.io"],
            &["certificates"],
            &["get", "list", "watch"],
        ),
    ]
}

/// `welkin-demo`: exactly [`welkin_demo_rules`], one want per (group, resource).
pub fn welkin_demo() -> Preset {
    let wants = welkin_demo_rules()
        .iter()
        .flat_map(|r| {
            r.resources.iter().map(|res| Want {
                group: r.api_groups[0].clone(),
                resource: res.clone(),
                verbs: r.verbs.clone(),
            })
        })
        .collect();
    preset(
        "welkin-demo",
        "the Welkin user demo's ci-cd Role (Helm chart with Prometheus rules, ServiceMonitors, NetworkPolicies, cert-manager Certificates)",
        wants,
    )
}

/// Every preset, in [`NAMES`] order.
pub fn all() -> Vec<Preset> {
    vec![web_app(), helm(), welkin_demo()]
}

/// The preset called `name`.
pub fn by_name(name: &str) -> Option<Preset> {
    all().into_iter().find(|p| p.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rbac::covers::covers;

    const RW: &[&str] = &[
        "create",
        "delete",
        "deletecollection",
        "get",
        "list",
        "patch",
        "update",
        "watch",
    ];

    fn cluster() -> Vec<ServedKind> {
        vec![
            ServedKind::new("", "v1", "configmaps", "ConfigMap", true, RW),
            ServedKind::new("", "v1", "pods", "Pod", true, RW),
            ServedKind::new("", "v1", "secrets", "Secret", true, RW),
            ServedKind::new(
                "",
                "v1",
                "services",
                "Service",
                true,
                &[
                    "create", "delete", "get", "list", "patch", "update", "watch",
                ],
            ),
            ServedKind::new("apps", "v1", "deployments", "Deployment", true, RW),
            ServedKind::new("apps", "v1", "replicasets", "ReplicaSet", true, RW),
            ServedKind::new(
                "autoscaling",
                "v2",
                "horizontalpodautoscalers",
                "HorizontalPodAutoscaler",
                true,
                RW,
            ),
            ServedKind::new("networking.k8s.io", "v1", "ingresses", "Ingress", true, RW),
            ServedKind::new(
                "networking.k8s.io",
                "v1",
                "networkpolicies",
                "NetworkPolicy",
                true,
                RW,
            ),
            ServedKind::new("", "v1", "namespaces", "Namespace", false, RW),
        ]
    }

    #[test]
    fn names_and_lookup() {
        assert_eq!(
            all().iter().map(|p| p.name.as_str()).collect::<Vec<_>>(),
            NAMES
        );
        assert_eq!(by_name("helm").unwrap().name, "helm");
        assert!(by_name("nope").is_none());
        for p in all() {
            assert!(!p.description.is_empty());
            assert!(!p.wants.is_empty());
        }
    }

    #[test]
    fn web_app_contents() {
        let got: Vec<(String, String)> = web_app()
            .wants
            .iter()
            .map(|w| (w.group.clone(), w.resource.clone()))
            .collect();
        let want: Vec<(String, String)> = [
            ("apps", "deployments"),
            ("", "services"),
            ("networking.k8s.io", "ingresses"),
            ("autoscaling", "horizontalpodautoscalers"),
            ("", "configmaps"),
        ]
        .iter()
        .map(|(g, r)| (g.to_string(), r.to_string()))
        .collect();
        assert_eq!(got, want);
        assert!(web_app().wants.iter().all(|w| w.verbs == READ_WRITE_VERBS));
    }

    #[test]
    fn helm_is_web_app_plus_secrets_and_replicasets() {
        let h = helm();
        assert_eq!(&h.wants[..5], &web_app().wants[..]);
        assert_eq!(h.wants[5], Want::new("", "secrets", READ_WRITE_VERBS));
        assert_eq!(
            h.wants[6],
            Want::new("apps", "replicasets", READ_ONLY_VERBS)
        );
        assert_eq!(h.wants.len(), 7);
    }

    #[test]
    fn welkin_demo_matches_the_file() {
        let rules = welkin_demo_rules();
        assert_eq!(rules.len(), 7);
        // the file's resources, group by group
        let pairs: Vec<(String, String)> = welkin_demo()
            .wants
            .iter()
            .map(|w| (w.group.clone(), w.resource.clone()))
            .collect();
        assert_eq!(pairs.len(), 12);
        for (g, r) in [
            ("", "configmaps"),
            ("", "pods"),
            ("", "secrets"),
            ("", "services"),
            ("apps", "deployments"),
            ("apps", "replicasets"),
            ("autoscaling", "horizontalpodautoscalers"),
            ("networking.k8s.io", "ingresses"),
            ("networking.k8s.io", "networkpolicies"),
            ("monitoring.coreos.com", "prometheusrules"),
            ("monitoring.coreos.com", "servicemonitors"),
            ("cert-manager.io", "certificates"),
        ] {
            assert!(pairs.contains(&(g.to_string(), r.to_string())), "{r}.{g}");
        }
        let certs = welkin_demo()
            .wants
            .into_iter()
            .find(|w| w.resource == "certificates")
            .unwrap();
        assert_eq!(certs.verbs, ["get", "list", "watch"]);
        // the preset's rules and the file's rules allow the same things
        assert_eq!(covers(&rules, &welkin_demo().rules()), Ok(()));
        assert_eq!(covers(&welkin_demo().rules(), &rules), Ok(()));
    }

    #[test]
    fn resolve_reports_unserved_kinds() {
        let res = welkin_demo().resolve(&cluster());
        let skipped: Vec<&str> = res
            .skipped
            .iter()
            .map(|s| s.want.resource.as_str())
            .collect();
        assert_eq!(
            skipped,
            ["prometheusrules", "servicemonitors", "certificates"]
        );
        assert!(
            res.skipped
                .iter()
                .all(|s| s.reason == SkipReason::NotServed)
        );
        assert_eq!(res.selections.len(), 9);
    }

    #[test]
    fn resolve_everything_served() {
        let res = helm().resolve(&cluster());
        assert!(res.skipped.is_empty());
        assert_eq!(res.selections.len(), 7);
        let rs = res
            .selections
            .iter()
            .find(|s| s.kind.resource == "replicasets")
            .unwrap();
        assert_eq!(rs.verbs.as_deref().unwrap(), READ_ONLY_VERBS);
    }

    #[test]
    fn resolve_cluster_scoped_and_merge() {
        let wants = vec![
            Want::new("", "namespaces", &["get"]),
            Want::new("", "pods", &["get", "list"]),
            Want::new("", "pods", &["list", "watch"]),
        ];
        let res = resolve(&wants, &cluster());
        assert_eq!(
            res.skipped,
            vec![Skipped {
                want: wants[0].clone(),
                reason: SkipReason::ClusterScoped
            }]
        );
        assert_eq!(res.selections.len(), 1);
        assert_eq!(
            res.selections[0].verbs.as_deref().unwrap(),
            ["get", "list", "watch"]
        );
        assert!(
            SkipReason::ClusterScoped
                .to_string()
                .contains("cluster-scoped")
        );
        assert!(SkipReason::NotServed.to_string().contains("does not serve"));
    }

    #[test]
    fn resolve_against_nothing() {
        let res = web_app().resolve(&[]);
        assert!(res.selections.is_empty());
        assert_eq!(res.skipped.len(), 5);
    }

    #[test]
    fn want_to_rule() {
        assert_eq!(
            Want::new("apps", "deployments", &["get"]).to_rule(),
            Rule::resource(&["apps"], &["deployments"], &["get"])
        );
    }
}
