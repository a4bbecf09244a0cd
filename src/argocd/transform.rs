//! The heart of `argocd install`: upstream's manifest in, the compliant namespace-scoped one
//! out, with a record of every change. A pure function of the objects and [`Options`]: it
//! sets the namespace, removes cluster-scoped objects (CRDs kept apart for the
//! administrator), fills in resource requests and limits, repairs RoleBindings whose Role is
//! missing, and sorts the objects in the order they are applied.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};

use super::objects::{self, describe, kind, name};
use super::resources::{self, Origin, Overrides, Values};
use crate::cli::RedisRole;

/// How to transform.
#[derive(Debug, Clone)]
pub struct Options {
    /// The namespace Argo CD is installed in.
    pub namespace: String,
    /// Accept objects (or ServiceAccount subjects) that name another namespace, and move them.
    pub force: bool,
    /// What to do with a RoleBinding whose Role is missing.
    pub redis_role: RedisRole,
    pub overrides: Overrides,
    /// Replace resource values the manifest already sets.
    pub overwrite_resources: bool,
    /// Roles that already exist in the namespace (read from the cluster with `--apply`): a
    /// binding to one of them is not dangling.
    pub roles_in_cluster: BTreeSet<String>,
    /// Whether `roles_in_cluster` was read from the cluster (else the report says only the
    /// manifest was looked at).
    pub cluster_checked: bool,
}

impl Options {
    pub fn new(namespace: &str) -> Options {
        Options {
            namespace: namespace.to_string(),
            force: false,
            redis_role: RedisRole::Drop,
            overrides: Overrides::default(),
            overwrite_resources: false,
            roles_in_cluster: BTreeSet::new(),
            cluster_checked: false,
        }
    }
}

/// One change to one object, for the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// `Deployment argocd-server`, or a summary such as `47 namespaced objects`.
    pub object: String,
    pub change: String,
}

/// A cluster-scoped object left out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Removed {
    pub object: String,
    pub crd: bool,
}

/// What the transform produced.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    /// The namespaced objects, in apply order.
    pub objects: Vec<Value>,
    /// The CustomResourceDefinitions the input held, for the administrator.
    pub crds: Vec<Value>,
    pub removed: Vec<Removed>,
    pub changes: Vec<Change>,
    /// Namespaced objects in the input (all of them are in `objects`, or were dropped as
    /// dangling bindings).
    pub input_namespaced: usize,
    /// Dangling RoleBindings left out (`--redis-role drop`).
    pub dropped_bindings: usize,
    /// Roles added for dangling RoleBindings (`--redis-role empty|openshift-scc`).
    pub added_roles: usize,
}

/// Why the input cannot be transformed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransformError {
    #[error(
        "this is not an Argo CD manifest: none of its {count} objects ({kinds}) is named argocd-… or labelled app.kubernetes.io/part-of: argocd. \
         Pass upstream's manifests/namespace-install.yaml (or ha/namespace-install.yaml) of an Argo CD release"
    )]
    NotArgoCd { count: usize, kinds: String },
    #[error(
        "the manifest is for another namespace than {namespace}:\n{places}\n\
         Install into the namespace it names (-n), or pass --force to move every object to {namespace}"
    )]
    OtherNamespace { namespace: String, places: String },
    #[error(
        "there is no component {component:?} in this manifest (an override names it): its workloads' components are {known}"
    )]
    UnknownComponent { component: String, known: String },
    #[error(
        "component {component} has no container {container:?} (an override names it): its containers are {known}"
    )]
    UnknownContainer {
        component: String,
        container: String,
        known: String,
    },
}

/// Transforms the parsed objects of an Argo CD manifest.
pub fn transform(input: Vec<Value>, options: &Options) -> Result<Outcome, TransformError> {
    if !input.iter().any(objects::is_argo_cd) {
        return Err(TransformError::NotArgoCd {
            count: input.len(),
            kinds: kinds_summary(&input),
        });
    }
    let mut out = Outcome::default();
    let mut kept = Vec::new();
    for object in input {
        if objects::is_cluster_scoped(&object) {
            let crd = objects::is_crd(&object);
            out.removed.push(Removed {
                object: describe(&object),
                crd,
            });
            if crd {
                out.crds.push(object);
            }
        } else {
            kept.push(object);
        }
    }
    out.input_namespaced = kept.len();
    check_overrides(&kept, &options.overrides)?;
    set_namespace(&mut kept, options, &mut out.changes)?;
    let before = kept.len();
    let mut kept = repair_dangling(kept, options, &mut out.changes);
    out.added_roles = out
        .changes
        .iter()
        .filter(|c| c.object.starts_with("Role ") && c.change.starts_with("added"))
        .count();
    out.dropped_bindings = before + out.added_roles - kept.len();
    for object in &mut kept {
        fill_resources(object, options, &mut out.changes);
    }
    // A stable sort: input order within each group.
    kept.sort_by_key(objects::order_group);
    out.objects = kept;
    Ok(out)
}

fn kinds_summary(objects: &[Value]) -> String {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for o in objects {
        *counts.entry(kind(o)).or_default() += 1;
    }
    counts
        .iter()
        .map(|(k, n)| format!("{n} {k}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Every override must name a component (and container) the manifest has.
fn check_overrides(objects: &[Value], overrides: &Overrides) -> Result<(), TransformError> {
    let mut components: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for o in objects.iter().filter(|o| objects::is_workload(o)) {
        let entry = components.entry(objects::component(name(o))).or_default();
        if let Some(spec) = objects::pod_spec(o) {
            for (_, c) in objects::containers(spec) {
                entry.insert(c["name"].as_str().unwrap_or_default());
            }
        }
    }
    for (component, container) in overrides.keys() {
        let Some(names) = components.get(component) else {
            return Err(TransformError::UnknownComponent {
                component: component.to_string(),
                known: components.keys().copied().collect::<Vec<_>>().join(", "),
            });
        };
        if let Some(container) = container
            && !names.contains(container)
        {
            return Err(TransformError::UnknownContainer {
                component: component.to_string(),
                container: container.to_string(),
                known: names.iter().copied().collect::<Vec<_>>().join(", "),
            });
        }
    }
    Ok(())
}

/// Sets `metadata.namespace` everywhere and the namespace of ServiceAccount subjects;
/// refuses other namespaces unless `force`.
fn set_namespace(
    objects: &mut [Value],
    options: &Options,
    changes: &mut Vec<Change>,
) -> Result<(), TransformError> {
    let ns = options.namespace.as_str();
    let mut elsewhere = Vec::new();
    for o in objects.iter() {
        if let Some(other) = o["metadata"]["namespace"].as_str()
            && other != ns
        {
            elsewhere.push(format!("  {} has metadata.namespace {other}", describe(o)));
        }
        for s in subjects(o) {
            if let Some(other) = s["namespace"].as_str()
                && other != ns
            {
                elsewhere.push(format!(
                    "  {} binds ServiceAccount {other}/{}",
                    describe(o),
                    s["name"].as_str().unwrap_or_default()
                ));
            }
        }
    }
    if !elsewhere.is_empty() && !options.force {
        return Err(TransformError::OtherNamespace {
            namespace: ns.to_string(),
            places: elsewhere.join("\n"),
        });
    }
    let mut moved = 0;
    let mut bindings = 0;
    for o in objects.iter_mut() {
        let before = o["metadata"]["namespace"].as_str().map(str::to_string);
        if before.as_deref().is_some_and(|b| b != ns) {
            moved += 1;
        }
        o["metadata"]["namespace"] = json!(ns);
        let mut set = false;
        for s in subjects_mut(o) {
            if s["namespace"].as_str() != Some(ns) {
                if s["namespace"].is_string() {
                    moved += 1;
                }
                s["namespace"] = json!(ns);
                set = true;
            }
        }
        bindings += usize::from(set);
    }
    let forced = if moved > 0 {
        format!(" ({moved} moved from another namespace by --force)")
    } else {
        String::new()
    };
    let mut summary = vec![Change {
        object: format!("all {} namespaced objects", objects.len()),
        change: format!("metadata.namespace: {ns}"),
    }];
    if bindings > 0 {
        summary.push(Change {
            object: format!(
                "{bindings} RoleBinding{}",
                if bindings == 1 { "" } else { "s" }
            ),
            change: format!("namespace of their ServiceAccount subjects: {ns}"),
        });
    }
    summary[0].change.push_str(&forced);
    changes.splice(0..0, summary);
    Ok(())
}

/// The ServiceAccount subjects of a RoleBinding.
fn subjects(o: &Value) -> Vec<&Value> {
    if kind(o) != "RoleBinding" {
        return Vec::new();
    }
    o["subjects"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|s| s["kind"] == "ServiceAccount")
        .collect()
}

fn subjects_mut(o: &mut Value) -> Vec<&mut Value> {
    if kind(o) != "RoleBinding" {
        return Vec::new();
    }
    o["subjects"]
        .as_array_mut()
        .into_iter()
        .flatten()
        .filter(|s| s["kind"] == "ServiceAccount")
        .collect()
}

/// RoleBindings whose Role neither the manifest nor the cluster has: dropped, or given an
/// empty Role, or the OpenShift SCC Role, per `--redis-role`. A Role the manifest has is
/// never touched.
fn repair_dangling(
    objects: Vec<Value>,
    options: &Options,
    changes: &mut Vec<Change>,
) -> Vec<Value> {
    let roles: BTreeSet<String> = objects
        .iter()
        .filter(|o| kind(o) == "Role")
        .map(|o| name(o).to_string())
        .collect();
    let mut out = Vec::with_capacity(objects.len());
    let mut added = Vec::new();
    for o in objects {
        let dangling = kind(&o) == "RoleBinding"
            && o["roleRef"]["kind"] == "Role"
            && o["roleRef"]["name"]
                .as_str()
                .is_some_and(|r| !roles.contains(r) && !options.roles_in_cluster.contains(r));
        if !dangling {
            out.push(o);
            continue;
        }
        let role = o["roleRef"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let why = format!(
            "it binds Role {role}, which {} (a user without the bind verb cannot create it)",
            if options.cluster_checked {
                "neither the manifest nor the namespace has"
            } else {
                "the manifest does not have"
            }
        );
        match options.redis_role {
            RedisRole::Drop => {
                changes.push(Change {
                    object: describe(&o),
                    change: format!("removed: {why} (--redis-role drop)"),
                });
            }
            RedisRole::Empty | RedisRole::OpenshiftScc => {
                let rules = if options.redis_role == RedisRole::Empty {
                    json!([])
                } else {
                    json!([{
                        "apiGroups": ["security.openshift.io"],
                        "resourceNames": ["nonroot"],
                        "resources": ["securitycontextconstraints"],
                        "verbs": ["use"],
                    }])
                };
                let mut metadata = json!({"name": role, "namespace": options.namespace});
                if let Some(labels) = o["metadata"].get("labels") {
                    metadata["labels"] = labels.clone();
                }
                let new = json!({
                    "apiVersion": "rbac.authorization.k8s.io/v1",
                    "kind": "Role",
                    "metadata": metadata,
                    "rules": rules,
                });
                changes.push(Change {
                    object: format!("Role {role}"),
                    change: format!(
                        "added for RoleBinding {}: {} (--redis-role {})",
                        name(&o),
                        if options.redis_role == RedisRole::Empty {
                            "no rules, so the binding grants nothing, as it did upstream"
                        } else {
                            "use of the OpenShift SecurityContextConstraints nonroot, the Role Argo CD v2.0 shipped"
                        },
                        options.redis_role.as_str()
                    ),
                });
                added.push(new);
                out.push(o);
            }
        }
    }
    // Added Roles go after the manifest's own Roles (the sort keeps input order in a group).
    out.extend(added);
    out
}

/// Requests and limits for every container and initContainer of a workload.
fn fill_resources(object: &mut Value, options: &Options, changes: &mut Vec<Change>) {
    if !objects::is_workload(object) {
        return;
    }
    let what = describe(object);
    let workload = name(object).to_string();
    let component = objects::component(&workload).to_string();
    let (base, base_origin) = match resources::guide(&component) {
        Some(v) => (v, Origin::Guide),
        None => (resources::our_default(), Origin::OurDefault),
    };
    let (component_values, component_origin) = match options.overrides.component(&component) {
        Some(over) => (base.merged(over), Origin::Override),
        None => (base, base_origin),
    };
    let Some(spec) = objects::pod_spec_mut(object) else {
        return;
    };
    let main = spec["containers"][0]["name"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let with_container = |container: &str, v: &Values, origin: Origin| match options
        .overrides
        .container(&component, container)
    {
        Some(over) => (v.merged(over), Origin::Override),
        None => (v.clone(), origin),
    };
    let (main_values, _) = with_container(&main, &component_values, component_origin);
    for key in ["initContainers", "containers"] {
        let init = key == "initContainers";
        let Some(list) = spec[key].as_array_mut() else {
            continue;
        };
        for container in list {
            let cname = container["name"].as_str().unwrap_or_default().to_string();
            let (want, origin) = if init {
                with_container(&cname, &main_values, Origin::MainContainer)
            } else {
                with_container(&cname, &component_values, component_origin)
            };
            let said = set_values(container, &want, options.overwrite_resources);
            if said.is_empty() {
                continue;
            }
            let origin_text = match origin {
                Origin::MainContainer => format!("as its pod's main container {main}"),
                Origin::Guide => format!("the guide's values for {component}"),
                Origin::OurDefault => {
                    format!("kubectl-cicd's default: the guide has no values for {component}")
                }
                Origin::Override => "your override".to_string(),
            };
            changes.push(Change {
                object: what.clone(),
                change: format!(
                    "{} {cname}: {} ({origin_text})",
                    if init { "initContainer" } else { "container" },
                    said.join("; ")
                ),
            });
        }
    }
}

/// The value of `resources.<section>.<resource>` if set (an empty string counts as unset).
fn current(container: &Value, section: &str, resource: &str) -> Option<String> {
    match &container["resources"][section][resource] {
        Value::String(s) if !s.trim().is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The four fields, in the order they are reported.
const FIELDS: [(&str, &str); 4] = [
    ("requests", "cpu"),
    ("requests", "memory"),
    ("limits", "cpu"),
    ("limits", "memory"),
];

/// Sets the four values on one container, keeping values it has unless `overwrite`, and
/// keeping every limit at least its request. Returns what was done, for the report.
fn set_values(container: &mut Value, want: &Values, overwrite: bool) -> Vec<String> {
    let wanted = |section: &str, resource: &str| match (section, resource) {
        ("requests", "cpu") => want.requests.cpu.clone(),
        ("requests", "memory") => want.requests.memory.clone(),
        ("limits", "cpu") => want.limits.cpu.clone(),
        _ => want.limits.memory.clone(),
    };
    let mut said = Vec::new();
    let mut kept = Vec::new();
    // Each field's value and whether it is ours to write.
    let mut result: Vec<Option<(String, bool)>> = Vec::new();
    for (section, resource) in FIELDS {
        let Some(wanted) = wanted(section, resource) else {
            result.push(None);
            continue;
        };
        match current(container, section, resource) {
            Some(have) if !overwrite || have == wanted => {
                if have != wanted {
                    kept.push(format!("{section}.{resource} {have}"));
                }
                result.push(Some((have, false)));
            }
            _ => result.push(Some((wanted, true))),
        }
    }
    // A limit below its request is refused by the API server: whichever of the two we set
    // gives way to the one the manifest has.
    for (resource, request_at, limit_at) in [("cpu", 0, 2), ("memory", 1, 3)] {
        let (Some((request, request_ours)), Some((limit, limit_ours))) =
            (result[request_at].clone(), result[limit_at].clone())
        else {
            continue;
        };
        if !resources::quantity_less(&limit, &request) {
            continue;
        }
        if limit_ours && !request_ours {
            result[limit_at] = Some((request.clone(), true));
            said.push(format!(
                "limits.{resource} raised to the manifest's requests.{resource} {request}"
            ));
        } else if request_ours && !limit_ours {
            result[request_at] = Some((limit.clone(), true));
            said.push(format!(
                "requests.{resource} lowered to the manifest's limits.{resource} {limit}"
            ));
        }
    }
    let mut set = Vec::new();
    for ((section, resource), value) in FIELDS.iter().zip(&result) {
        let Some((value, true)) = value else { continue };
        if container["resources"][*section][*resource].as_str() == Some(value.as_str()) {
            continue;
        }
        if !container["resources"].is_object() {
            container["resources"] = json!({});
        }
        if !container["resources"][*section].is_object() {
            container["resources"][*section] = json!({});
        }
        container["resources"][*section][*resource] = json!(value);
        set.push(format!("{section}.{resource} {value}"));
    }
    let mut out = Vec::new();
    if !set.is_empty() {
        out.push(format!("set {}", set.join(", ")));
    }
    if !kept.is_empty() {
        out.push(format!(
            "kept the manifest's {} (--overwrite-resources replaces them)",
            kept.join(", ")
        ));
    }
    out.extend(said);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deployment(name: &str, inits: &[&str], containers: &[&str]) -> Value {
        let list = |names: &[&str]| -> Value {
            names
                .iter()
                .map(|n| json!({"name": n, "image": "example/app:v1"}))
                .collect()
        };
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
               "spec": {"template": {"metadata": {"labels": {"app": name}},
                        "spec": {"initContainers": list(inits), "containers": list(containers)}}}})
    }

    fn role(name: &str) -> Value {
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
               "metadata": {"name": name}, "rules": [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get"]}]})
    }

    fn binding(name: &str, role: &str) -> Value {
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
               "metadata": {"name": name, "labels": {"app.kubernetes.io/name": name}},
               "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": role},
               "subjects": [{"kind": "ServiceAccount", "name": name}]})
    }

    fn resources_of<'a>(out: &'a Outcome, workload: &str, container: &str) -> &'a Value {
        let o = out.objects.iter().find(|o| name(o) == workload).unwrap();
        let spec = objects::pod_spec(o).unwrap();
        let (_, c) = objects::containers(spec)
            .into_iter()
            .find(|(_, c)| c["name"] == container)
            .unwrap();
        &c["resources"]
    }

    #[test]
    fn namespace_is_set_and_other_namespaces_refused() {
        let input = vec![
            binding("argocd-server", "argocd-server"),
            role("argocd-server"),
        ];
        let out = transform(input.clone(), &Options::new("team-a")).unwrap();
        for o in &out.objects {
            assert_eq!(o["metadata"]["namespace"], "team-a");
        }
        let rb = out
            .objects
            .iter()
            .find(|o| kind(o) == "RoleBinding")
            .unwrap();
        assert_eq!(rb["subjects"][0]["namespace"], "team-a");
        // Roles before RoleBindings, whatever the input order.
        assert_eq!(kind(&out.objects[0]), "Role");

        let mut elsewhere = input.clone();
        elsewhere[1]["metadata"]["namespace"] = json!("argocd");
        elsewhere[0]["subjects"][0]["namespace"] = json!("argocd");
        let e = transform(elsewhere.clone(), &Options::new("team-a")).unwrap_err();
        let text = e.to_string();
        assert!(
            text.contains("Role argocd-server has metadata.namespace argocd"),
            "{text}"
        );
        assert!(
            text.contains("binds ServiceAccount argocd/argocd-server"),
            "{text}"
        );
        let mut forced = Options::new("team-a");
        forced.force = true;
        let out = transform(elsewhere, &forced).unwrap();
        assert!(
            out.objects
                .iter()
                .all(|o| o["metadata"]["namespace"] == "team-a")
        );
        assert!(
            out.changes[0]
                .change
                .ends_with("(2 moved from another namespace by --force)"),
            "{:?}",
            out.changes
        );
    }

    #[test]
    fn something_else_than_argo_cd_is_refused() {
        let input =
            vec![json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "web"}})];
        let e = transform(input, &Options::new("team-a")).unwrap_err();
        assert!(
            matches!(e, TransformError::NotArgoCd { count: 1, .. }),
            "{e}"
        );
        assert!(e.to_string().contains("1 ConfigMap"), "{e}");
    }

    #[test]
    fn cluster_scoped_objects_are_removed_and_crds_kept_apart() {
        let input = vec![
            json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
                   "metadata": {"name": "applications.argoproj.io"}, "spec": {"group": "argoproj.io"}}),
            json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
                   "metadata": {"name": "argocd-server"}}),
            role("argocd-server"),
        ];
        let out = transform(input, &Options::new("team-a")).unwrap();
        assert_eq!(out.objects.len(), 1);
        assert_eq!(out.crds.len(), 1);
        assert_eq!(
            out.removed,
            vec![
                Removed {
                    object: "CustomResourceDefinition applications.argoproj.io".into(),
                    crd: true
                },
                Removed {
                    object: "ClusterRole argocd-server".into(),
                    crd: false
                }
            ]
        );
    }

    #[test]
    fn dangling_bindings_are_repaired_as_asked_and_present_roles_left_alone() {
        let input = vec![
            binding("argocd-redis", "argocd-redis"),
            binding("argocd-server", "argocd-server"),
            role("argocd-server"),
        ];
        let out = transform(input.clone(), &Options::new("team-a")).unwrap();
        let names: Vec<String> = out.objects.iter().map(describe).collect();
        assert_eq!(names, ["Role argocd-server", "RoleBinding argocd-server"]);

        let mut empty = Options::new("team-a");
        empty.redis_role = RedisRole::Empty;
        let out = transform(input.clone(), &empty).unwrap();
        let names: Vec<String> = out.objects.iter().map(describe).collect();
        assert_eq!(
            names,
            [
                "Role argocd-server",
                "Role argocd-redis",
                "RoleBinding argocd-redis",
                "RoleBinding argocd-server"
            ]
        );
        assert_eq!(out.objects[1]["rules"], json!([]));
        assert_eq!(out.objects[1]["metadata"]["namespace"], "team-a");
        assert_eq!(out.objects[0], {
            let mut r = role("argocd-server");
            r["metadata"]["namespace"] = json!("team-a");
            r
        });

        let mut scc = Options::new("team-a");
        scc.redis_role = RedisRole::OpenshiftScc;
        let out = transform(input.clone(), &scc).unwrap();
        assert_eq!(
            out.objects[1]["rules"][0]["resources"][0],
            "securitycontextconstraints"
        );

        let mut in_cluster = Options::new("team-a");
        in_cluster.roles_in_cluster.insert("argocd-redis".into());
        let out = transform(input, &in_cluster).unwrap();
        assert!(
            out.objects
                .iter()
                .any(|o| describe(o) == "RoleBinding argocd-redis")
        );
        assert!(
            !out.objects
                .iter()
                .any(|o| describe(o) == "Role argocd-redis")
        );
    }

    #[test]
    fn every_container_gets_four_values_inits_follow_their_main_container() {
        let input = vec![
            deployment("argocd-repo-server", &["copyutil"], &["argocd-repo-server"]),
            deployment("argocd-redis-ha-haproxy", &["config-init"], &["haproxy"]),
        ];
        let out = transform(input, &Options::new("team-a")).unwrap();
        let guide = json!({"requests": {"cpu": "10m", "memory": "100Mi"}, "limits": {"cpu": "60m", "memory": "200Mi"}});
        assert_eq!(
            *resources_of(&out, "argocd-repo-server", "argocd-repo-server"),
            guide
        );
        assert_eq!(*resources_of(&out, "argocd-repo-server", "copyutil"), guide);
        let ours = json!({"requests": {"cpu": "10m", "memory": "32Mi"}, "limits": {"cpu": "50m", "memory": "64Mi"}});
        assert_eq!(
            *resources_of(&out, "argocd-redis-ha-haproxy", "haproxy"),
            ours
        );
        assert_eq!(
            *resources_of(&out, "argocd-redis-ha-haproxy", "config-init"),
            ours
        );
        let said: Vec<&Change> = out
            .changes
            .iter()
            .filter(|c| c.object == "Deployment argocd-repo-server")
            .collect();
        assert_eq!(said.len(), 2, "{said:?}");
        assert!(
            said[0].change.starts_with("initContainer copyutil: set"),
            "{said:?}"
        );
        assert!(
            said[0]
                .change
                .contains("as its pod's main container argocd-repo-server"),
            "{said:?}"
        );
    }

    #[test]
    fn existing_values_stay_unless_overwritten_and_limits_never_fall_below_requests() {
        let mut d = deployment("argocd-server", &[], &["argocd-server"]);
        d["spec"]["template"]["spec"]["containers"][0]["resources"] =
            json!({"requests": {"memory": "512Mi"}, "limits": {"cpu": "2"}});
        let out = transform(vec![d.clone()], &Options::new("team-a")).unwrap();
        let r = resources_of(&out, "argocd-server", "argocd-server");
        assert_eq!(
            *r,
            json!({"requests": {"cpu": "5m", "memory": "512Mi"}, "limits": {"cpu": "2", "memory": "512Mi"}})
        );
        let change = &out.changes.last().unwrap().change;
        assert!(
            change.contains("kept the manifest's requests.memory 512Mi"),
            "{change}"
        );
        assert!(change.contains("limits.memory raised"), "{change}");

        let mut overwrite = Options::new("team-a");
        overwrite.overwrite_resources = true;
        let out = transform(vec![d], &overwrite).unwrap();
        assert_eq!(
            *resources_of(&out, "argocd-server", "argocd-server"),
            json!({"requests": {"cpu": "5m", "memory": "50Mi"}, "limits": {"cpu": "10m", "memory": "100Mi"}})
        );
    }

    #[test]
    fn overrides_apply_per_component_and_container_and_unknown_ones_are_refused() {
        let input = vec![deployment(
            "argocd-repo-server",
            &["copyutil"],
            &["argocd-repo-server"],
        )];
        let mut options = Options::new("team-a");
        options
            .overrides
            .add_flag("repo-server:limits.memory=1Gi")
            .unwrap();
        options
            .overrides
            .add_flag("repo-server/copyutil:limits.cpu=100m")
            .unwrap();
        let out = transform(input.clone(), &options).unwrap();
        let main = resources_of(&out, "argocd-repo-server", "argocd-repo-server");
        assert_eq!(main["limits"]["memory"], "1Gi");
        assert_eq!(main["requests"]["memory"], "100Mi");
        let init = resources_of(&out, "argocd-repo-server", "copyutil");
        assert_eq!(init["limits"]["memory"], "1Gi");
        assert_eq!(init["limits"]["cpu"], "100m");

        let mut unknown = Options::new("team-a");
        unknown.overrides.add_flag("repo:limits.cpu=1").unwrap();
        let e = transform(input.clone(), &unknown).unwrap_err();
        assert!(e.to_string().contains("no component \"repo\""), "{e}");
        assert!(e.to_string().contains("repo-server"), "{e}");
        let mut unknown = Options::new("team-a");
        unknown
            .overrides
            .add_flag("repo-server/git:limits.cpu=1")
            .unwrap();
        let e = transform(input, &unknown).unwrap_err();
        assert!(e.to_string().contains("copyutil"), "{e}");
    }
}
