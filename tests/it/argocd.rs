//! `kubectl cicd argocd`, end to end through the binary, with Argo CD's own release manifests
//! (tests/fixtures/argocd, checked against their recorded SHA-256 first): what install makes
//! of each, checked as a user would check it (it parses, keeps every namespaced object, holds
//! nothing cluster-scoped, every container has its four resource values, the dangling
//! argocd-redis binding is repaired and v3's own argocd-redis Role untouched, an emulation of
//! the platform's resource policy passes), the round trip through kubectl, `--apply` as a
//! namespace admin and as a user who may not, bad input, and `grant`.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::{Value, json};

use crate::common::{Env, Run, kubectl_wanted};

/// The four release manifests the guide's facts are about.
const FIXTURES: [&str; 4] = [
    "v2.4.11/namespace-install.yaml",
    "v2.4.11/ha/namespace-install.yaml",
    "v3.5.1/namespace-install.yaml",
    "v3.5.1/ha/namespace-install.yaml",
];
/// With CRDs inside (v2.0.x), and the cluster-wide install of the same release.
const V2_0_NAMESPACE: &str = "v2.0.5/namespace-install.yaml";
const V2_0_INSTALL: &str = "v2.0.5/install.yaml";

const CLUSTER_SCOPED: &[&str] = &[
    "CustomResourceDefinition",
    "ClusterRole",
    "ClusterRoleBinding",
    "Namespace",
    "ValidatingWebhookConfiguration",
    "MutatingWebhookConfiguration",
    "PriorityClass",
    "APIService",
];

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/argocd")
        .join(name)
}

fn fixture_text(name: &str) -> String {
    std::fs::read_to_string(fixture(name)).expect("fixture readable")
}

fn parse(text: &str) -> Vec<Value> {
    serde_saphyr::from_multiple::<Value>(text)
        .expect("valid multi-document YAML")
        .into_iter()
        .filter(|d| !d.is_null())
        .collect()
}

fn key(o: &Value) -> (String, String) {
    (
        o["kind"].as_str().unwrap_or_default().to_string(),
        o["metadata"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
    )
}

fn find<'a>(objects: &'a [Value], kind: &str, name: &str) -> Option<&'a Value> {
    objects
        .iter()
        .find(|o| key(o) == (kind.into(), name.into()))
}

fn pod_spec(o: &Value) -> Option<&Value> {
    match o["kind"].as_str()? {
        "Deployment"
        | "StatefulSet"
        | "DaemonSet"
        | "ReplicaSet"
        | "Job"
        | "ReplicationController" => Some(&o["spec"]["template"]["spec"]),
        "CronJob" => Some(&o["spec"]["jobTemplate"]["spec"]["template"]["spec"]),
        "Pod" => Some(&o["spec"]),
        _ => None,
    }
}

/// The platform's resource-requests policy, emulated (Compliant Kubernetes' Gatekeeper
/// constraint `K8sResourceRequests`): every entry of `containers` of every workload must set
/// `resources.requests.cpu` and `resources.requests.memory`. The violations, one a line.
fn resource_policy_violations(objects: &[Value]) -> Vec<String> {
    let mut out = Vec::new();
    for o in objects {
        let Some(spec) = pod_spec(o) else { continue };
        for c in spec["containers"].as_array().into_iter().flatten() {
            for field in ["cpu", "memory"] {
                let v = &c["resources"]["requests"][field];
                if v.is_null() || v == "" {
                    out.push(format!(
                        "{} {}: container {} has no resource requests.{field}",
                        key(o).0,
                        key(o).1,
                        c["name"]
                    ));
                }
            }
        }
    }
    out
}

/// Every container and initContainer without all four values.
fn missing_resources(objects: &[Value]) -> Vec<String> {
    let mut out = Vec::new();
    for o in objects {
        let Some(spec) = pod_spec(o) else { continue };
        for list in ["initContainers", "containers"] {
            for c in spec[list].as_array().into_iter().flatten() {
                for (s, r) in [
                    ("requests", "cpu"),
                    ("requests", "memory"),
                    ("limits", "cpu"),
                    ("limits", "memory"),
                ] {
                    let v = &c["resources"][s][r];
                    if !v.is_string() || v == "" {
                        out.push(format!("{}/{}: {s}.{r}", key(o).1, c["name"]));
                    }
                }
            }
        }
    }
    out
}

/// The plugin with no cluster at all: KUBECONFIG names a file that does not exist.
fn offline(args: &[&str], stdin: Option<&str>) -> Run {
    let dir = tempfile::tempdir().unwrap();
    offline_in(dir.path(), args, stdin, &[])
}

fn offline_in(dir: &Path, args: &[&str], stdin: Option<&str>, vars: &[(&str, &str)]) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_kubectl-cicd"));
    cmd.args(args)
        .current_dir(dir)
        .env("KUBECONFIG", dir.join("no-such-kubeconfig"))
        .env("HOME", dir)
        .env("NO_COLOR", "1")
        .env_remove("HTTPS_PROXY")
        .env_remove("https_proxy")
        .env_remove("ALL_PROXY")
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in vars {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("kubectl-cicd runs");
    if let Some(text) = stdin {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(text.as_bytes())
            .unwrap();
    }
    let out = child.wait_with_output().unwrap();
    Run {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// `argocd install -f FIXTURE -n team-a` offline: the output objects and the run.
fn install(name: &str, extra: &[&str]) -> (Vec<Value>, Run) {
    let path = fixture(name);
    let mut args = vec![
        "argocd",
        "install",
        "-f",
        path.to_str().unwrap(),
        "-n",
        "team-a",
    ];
    args.extend_from_slice(extra);
    let run = offline(&args, None);
    assert!(run.ok(), "{name}: {run:?}");
    assert!(!run.stderr.contains("panicked"), "{run:?}");
    (parse(&run.stdout), run)
}

mod fixtures {
    use super::*;

    /// The fixtures are upstream's files as recorded in SOURCES.md, byte for byte.
    #[test]
    fn are_upstreams_files() {
        let sources = fixture_text("SOURCES.md");
        let mut checked = 0;
        for line in sources.lines().filter(|l| l.starts_with("| `v")) {
            let cells: Vec<&str> = line
                .split('|')
                .map(|c| c.trim().trim_matches('`'))
                .collect();
            let (file, sha) = (cells[1], cells[6]);
            let bytes = std::fs::read(fixture(file)).unwrap();
            let digest = ring::digest::digest(&ring::digest::SHA256, &bytes);
            let hex: String = digest.as_ref().iter().map(|b| format!("{b:02x}")).collect();
            assert_eq!(hex, sha, "{file} is not the file SOURCES.md records");
            checked += 1;
        }
        assert_eq!(checked, FIXTURES.len() + 2);
        assert!(fixture_text("LICENSE").contains("Apache License"));
    }
}

mod install {
    use super::*;

    /// Each release manifest becomes one that parses, keeps every namespaced object (the
    /// dangling binding aside), holds nothing cluster-scoped, is all in team-a, in apply order,
    /// with four resource values on every container and initContainer.
    #[test]
    fn every_fixture_becomes_a_compliant_manifest() {
        for name in FIXTURES.iter().chain(&[V2_0_NAMESPACE, V2_0_INSTALL]) {
            let input = parse(&fixture_text(name));
            let (output, run) = install(name, &[]);
            let namespaced: BTreeSet<(String, String)> = input
                .iter()
                .filter(|o| !CLUSTER_SCOPED.contains(&o["kind"].as_str().unwrap()))
                .map(key)
                .collect();
            let kept: BTreeSet<(String, String)> = output.iter().map(key).collect();
            let lost: Vec<_> = namespaced.difference(&kept).collect();
            let dangling = name
                .starts_with("v2.4.11/namespace")
                .then(|| ("RoleBinding".to_string(), "argocd-redis".to_string()));
            assert_eq!(
                lost,
                dangling.iter().collect::<Vec<_>>(),
                "{name}: namespaced objects lost"
            );
            assert!(kept.is_subset(&namespaced), "{name}: objects added");
            for o in &output {
                assert!(
                    !CLUSTER_SCOPED.contains(&o["kind"].as_str().unwrap()),
                    "{name}: {:?} is cluster-scoped",
                    key(o)
                );
                assert_eq!(o["metadata"]["namespace"], "team-a", "{name}: {:?}", key(o));
            }
            assert_eq!(missing_resources(&output), Vec::<String>::new(), "{name}");
            // The order the issue asks for.
            let rank = |o: &Value| match o["kind"].as_str().unwrap() {
                "ServiceAccount" => 0,
                "Role" => 1,
                "RoleBinding" => 2,
                "ConfigMap" | "Secret" => 3,
                "Service" => 4,
                "Deployment" | "StatefulSet" => 5,
                "NetworkPolicy" => 6,
                _ => 7,
            };
            let ranks: Vec<u8> = output.iter().map(rank).collect();
            assert!(ranks.windows(2).all(|w| w[0] <= w[1]), "{name}: {ranks:?}");
            // Every ServiceAccount subject is in team-a.
            for rb in output.iter().filter(|o| o["kind"] == "RoleBinding") {
                for s in rb["subjects"].as_array().unwrap() {
                    assert_eq!(s["namespace"], "team-a", "{name}: {rb}");
                }
            }
            assert!(run.stderr.contains("What changed"), "{run:?}");
            eprintln!(
                "{name}: {} objects in, {} out, {} cluster-scoped removed",
                input.len(),
                output.len(),
                input.len() - namespaced.len()
            );
        }
    }

    #[test]
    fn v2_4_11s_dangling_redis_binding_is_repaired_as_asked() {
        let name = "v2.4.11/namespace-install.yaml";
        let input = parse(&fixture_text(name));
        assert!(find(&input, "Role", "argocd-redis").is_none());
        assert!(find(&input, "RoleBinding", "argocd-redis").is_some());

        let (dropped, run) = install(name, &[]);
        assert!(find(&dropped, "RoleBinding", "argocd-redis").is_none());
        assert!(find(&dropped, "Role", "argocd-redis").is_none());
        assert!(
            run.stderr.contains("RoleBinding argocd-redis")
                && run.stderr.contains("--redis-role drop"),
            "{run:?}"
        );

        let (empty, _) = install(name, &["--redis-role", "empty"]);
        let role = find(&empty, "Role", "argocd-redis").expect("an empty Role");
        assert_eq!(role["rules"], json!([]));
        assert_eq!(role["metadata"]["namespace"], "team-a");
        let rb = find(&empty, "RoleBinding", "argocd-redis").unwrap();
        assert_eq!(rb["roleRef"]["name"], "argocd-redis");
        // Every namespaced object of the input is there, and only the Role was added.
        assert_eq!(empty.len(), input.len() + 1);

        let (scc, _) = install(name, &["--redis-role", "openshift-scc"]);
        let role = find(&scc, "Role", "argocd-redis").unwrap();
        assert_eq!(
            role["rules"],
            json!([{"apiGroups": ["security.openshift.io"], "resourceNames": ["nonroot"],
                    "resources": ["securitycontextconstraints"], "verbs": ["use"]}])
        );
    }

    #[test]
    fn roles_the_manifest_has_are_left_as_they_are() {
        for name in ["v3.5.1/namespace-install.yaml", V2_0_NAMESPACE] {
            let input = parse(&fixture_text(name));
            for flag in ["drop", "empty", "openshift-scc"] {
                let (output, _) = install(name, &["--redis-role", flag]);
                let mut want = find(&input, "Role", "argocd-redis")
                    .expect("the release's own argocd-redis Role")
                    .clone();
                want["metadata"]["namespace"] = json!("team-a");
                assert_eq!(find(&output, "Role", "argocd-redis"), Some(&want), "{name}");
                assert_eq!(
                    output.len(),
                    input
                        .iter()
                        .filter(|o| o["kind"] != "CustomResourceDefinition")
                        .count()
                );
            }
        }
        let v3 = parse(&fixture_text("v3.5.1/namespace-install.yaml"));
        let rules = &find(&v3, "Role", "argocd-redis").unwrap()["rules"];
        assert_eq!(rules[0]["resources"], json!(["secrets"]), "{rules}");
    }

    #[test]
    fn crds_go_to_their_own_file_with_the_command_for_the_administrator() {
        let dir = tempfile::tempdir().unwrap();
        let path = fixture(V2_0_NAMESPACE);
        let run = offline_in(
            dir.path(),
            &[
                "argocd",
                "install",
                "-f",
                path.to_str().unwrap(),
                "-n",
                "team-a",
                "-o",
                "argocd.yaml",
            ],
            None,
            &[],
        );
        assert!(run.ok(), "{run:?}");
        assert_eq!(run.stdout, "", "with -o nothing goes to stdout");
        let output = parse(&std::fs::read_to_string(dir.path().join("argocd.yaml")).unwrap());
        assert!(
            output
                .iter()
                .all(|o| o["kind"] != "CustomResourceDefinition")
        );
        let crds = parse(&std::fs::read_to_string(dir.path().join("argocd-crds.yaml")).unwrap());
        let names: Vec<String> = crds.iter().map(|o| key(o).1).collect();
        assert_eq!(
            names,
            ["applications.argoproj.io", "appprojects.argoproj.io"]
        );
        assert_eq!(
            crds,
            parse(&fixture_text(V2_0_NAMESPACE))
                .into_iter()
                .filter(|o| o["kind"] == "CustomResourceDefinition")
                .collect::<Vec<_>>(),
            "the CRDs as upstream wrote them"
        );
        assert!(
            run.stderr
                .contains("kubectl apply --server-side --force-conflicts -f argocd-crds.yaml"),
            "{run:?}"
        );
        // Without CRDs in the input, no CRD file.
        let other = tempfile::tempdir().unwrap();
        let path = fixture(FIXTURES[0]);
        let run = offline_in(
            other.path(),
            &[
                "argocd",
                "install",
                "-f",
                path.to_str().unwrap(),
                "-n",
                "team-a",
            ],
            None,
            &[],
        );
        assert!(run.ok());
        assert!(!other.path().join("argocd-crds.yaml").exists());
    }

    /// install.yaml is namespace-install.yaml plus the cluster-scoped objects: the same
    /// result from either.
    #[test]
    fn install_yaml_gives_what_namespace_install_gives() {
        let (from_install, run) = install(V2_0_INSTALL, &[]);
        let (from_namespace_install, _) = install(V2_0_NAMESPACE, &[]);
        assert_eq!(from_install, from_namespace_install);
        for removed in [
            "ClusterRole argocd-application-controller",
            "ClusterRoleBinding argocd-server",
            "CustomResourceDefinition appprojects.argoproj.io",
        ] {
            assert!(run.stderr.contains(removed), "{removed}: {run:?}");
        }
    }

    /// The emulated platform policy denies every unmodified manifest and admits every output.
    #[test]
    fn the_platform_resource_policy_passes_on_every_output_and_fails_on_the_input() {
        for name in FIXTURES.iter().chain(&[V2_0_NAMESPACE, V2_0_INSTALL]) {
            let input = parse(&fixture_text(name));
            let before = resource_policy_violations(&input);
            assert!(
                !before.is_empty(),
                "{name}: the input should fail the policy"
            );
            for flags in [
                &[][..],
                &["--redis-role", "empty"][..],
                &["--overwrite-resources"][..],
            ] {
                let (output, _) = install(name, flags);
                assert_eq!(
                    resource_policy_violations(&output),
                    Vec::<String>::new(),
                    "{name} {flags:?}"
                );
            }
            eprintln!(
                "{name}: {} policy violations before, none after",
                before.len()
            );
        }
    }

    #[test]
    fn stdin_and_an_output_file_give_the_same_manifest() {
        let (from_file, _) = install(FIXTURES[2], &[]);
        let run = offline(
            &["argocd", "install", "-f", "-", "-n", "team-a"],
            Some(&fixture_text(FIXTURES[2])),
        );
        assert!(run.ok(), "{run:?}");
        assert_eq!(parse(&run.stdout), from_file);
        assert!(run.stderr.contains("from stdin"), "{run:?}");
    }

    #[test]
    fn resources_are_overridden_per_component_from_flags_and_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let values = dir.path().join("resources.yaml");
        std::fs::write(
            &values,
            "repo-server:\n  requests: {memory: 256Mi}\n  limits: {memory: 1Gi, cpu: 1}\nredis-ha-server/sentinel:\n  limits: {cpu: 20m}\n",
        )
        .unwrap();
        let (output, run) = install(
            FIXTURES[3],
            &[
                "--resources-file",
                values.to_str().unwrap(),
                "--resources",
                "server:requests.cpu=50m,limits.cpu=100m",
            ],
        );
        let container = |workload: &str, kind: &str, name: &str| -> Value {
            let spec = pod_spec(find(&output, kind, workload).unwrap()).unwrap();
            spec["initContainers"]
                .as_array()
                .into_iter()
                .flatten()
                .chain(spec["containers"].as_array().unwrap())
                .find(|c| c["name"] == name)
                .unwrap()["resources"]
                .clone()
        };
        let repo = container("argocd-repo-server", "Deployment", "argocd-repo-server");
        assert_eq!(
            repo,
            json!({"requests": {"cpu": "10m", "memory": "256Mi"}, "limits": {"cpu": "1", "memory": "1Gi"}})
        );
        // Its initContainer follows it.
        assert_eq!(
            container("argocd-repo-server", "Deployment", "copyutil"),
            repo
        );
        assert_eq!(
            container("argocd-redis-ha-server", "StatefulSet", "sentinel")["limits"]["cpu"],
            "20m"
        );
        assert_eq!(
            container("argocd-server", "Deployment", "argocd-server")["requests"]["cpu"],
            "50m"
        );
        assert!(run.stderr.contains("your override"), "{run:?}");
    }

    #[test]
    fn values_the_manifest_sets_stay_unless_overwritten() {
        let mut objects = parse(&fixture_text(FIXTURES[0]));
        let server = objects
            .iter_mut()
            .find(|o| key(o) == ("Deployment".into(), "argocd-server".into()))
            .unwrap();
        server["spec"]["template"]["spec"]["containers"][0]["resources"] =
            json!({"requests": {"memory": "300Mi"}});
        let text: String = objects
            .iter()
            .map(|o| format!("---\n{}", serde_saphyr::to_string(o).unwrap()))
            .collect();
        let resources_of = |run: &Run| {
            let out = parse(&run.stdout);
            find(&out, "Deployment", "argocd-server").unwrap()["spec"]["template"]["spec"]
                ["containers"][0]["resources"]
                .clone()
        };
        let kept = offline(
            &["argocd", "install", "-f", "-", "-n", "team-a"],
            Some(&text),
        );
        assert!(kept.ok(), "{kept:?}");
        // The manifest's request stays; the guide's 100Mi limit would be below it.
        assert_eq!(
            resources_of(&kept),
            json!({"requests": {"cpu": "5m", "memory": "300Mi"}, "limits": {"cpu": "10m", "memory": "300Mi"}})
        );
        let replaced = offline(
            &[
                "argocd",
                "install",
                "-f",
                "-",
                "-n",
                "team-a",
                "--overwrite-resources",
            ],
            Some(&text),
        );
        assert_eq!(
            resources_of(&replaced),
            json!({"requests": {"cpu": "5m", "memory": "50Mi"}, "limits": {"cpu": "10m", "memory": "100Mi"}})
        );
    }

    /// A denied guardrail (an image tagged :latest) fails the run, and --fail-on moves the bar.
    #[test]
    fn guardrails_gate_the_exit_code_as_fail_on_says() {
        let text = fixture_text(FIXTURES[2]).replace(
            "image: quay.io/argoproj/argocd:v3.5.1",
            "image: quay.io/argoproj/argocd:latest",
        );
        let dir = tempfile::tempdir().unwrap();
        let failed = offline_in(
            dir.path(),
            &[
                "argocd", "install", "-f", "-", "-n", "team-a", "-o", "out.yaml",
            ],
            Some(&text),
            &[],
        );
        assert_eq!(failed.code, Some(1), "{failed:?}");
        assert!(failed.stderr.contains("image-tag"), "{failed:?}");
        assert!(failed.stderr.contains("is tagged :latest"), "{failed:?}");
        assert!(
            failed
                .stderr
                .contains("The manifest was written all the same"),
            "{failed:?}"
        );
        assert!(dir.path().join("out.yaml").exists());
        let accepted = offline(
            &[
                "argocd",
                "install",
                "-f",
                "-",
                "-n",
                "team-a",
                "--fail-on",
                "none",
            ],
            Some(&text),
        );
        assert!(accepted.ok(), "{accepted:?}");
        // v2.4.11 leaves two controllers without a NetworkPolicy: a medium finding.
        let path = fixture(FIXTURES[0]);
        let medium = offline(
            &[
                "argocd",
                "install",
                "-f",
                path.to_str().unwrap(),
                "-n",
                "team-a",
                "--fail-on",
                "medium",
            ],
            None,
        );
        assert_eq!(medium.code, Some(1), "{medium:?}");
        assert!(
            medium
                .stderr
                .contains("network-policy Deployment argocd-applicationset-controller"),
            "{medium:?}"
        );
        let v3 = fixture(FIXTURES[2]);
        let clean = offline(
            &[
                "argocd",
                "install",
                "-f",
                v3.to_str().unwrap(),
                "-n",
                "team-a",
                "--fail-on",
                "medium",
            ],
            None,
        );
        assert!(
            clean.ok(),
            "v3.5.1 has a NetworkPolicy for every pod: {clean:?}"
        );
    }
}

mod bad_input {
    use super::*;

    fn refused(run: &Run, says: &[&str]) {
        assert_eq!(run.code, Some(2), "{run:?}");
        assert!(!run.stderr.contains("panicked"), "{run:?}");
        assert_eq!(run.stdout, "", "{run:?}");
        for s in says {
            assert!(run.stderr.contains(s), "{s:?} not in:\n{}", run.stderr);
        }
    }

    #[test]
    fn not_yaml() {
        let run = offline(
            &["argocd", "install", "-f", "-", "-n", "team-a"],
            Some("kind: [Deployment\n  name: {oops\n"),
        );
        refused(&run, &["error: stdin: it is not valid YAML"]);
    }

    #[test]
    fn not_kubernetes_objects() {
        let run = offline(
            &["argocd", "install", "-f", "-", "-n", "team-a"],
            Some("- a list\n- of words\n"),
        );
        refused(&run, &["document 1 is not a Kubernetes object"]);
    }

    #[test]
    fn not_an_argo_cd_manifest() {
        let run = offline(
            &["argocd", "install", "-f", "-", "-n", "team-a"],
            Some(
                "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: web}\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\n",
            ),
        );
        refused(
            &run,
            &[
                "this is not an Argo CD manifest",
                "1 ConfigMap, 1 Deployment",
                "namespace-install.yaml",
            ],
        );
    }

    #[test]
    fn a_manifest_for_another_namespace_unless_forced() {
        let mut objects = parse(&fixture_text(FIXTURES[0]));
        for o in &mut objects {
            o["metadata"]["namespace"] = json!("argocd");
        }
        let text: String = objects
            .iter()
            .map(|o| format!("---\n{}", serde_saphyr::to_string(o).unwrap()))
            .collect();
        let run = offline(
            &["argocd", "install", "-f", "-", "-n", "team-a"],
            Some(&text),
        );
        refused(
            &run,
            &[
                "the manifest is for another namespace than team-a",
                "ServiceAccount argocd-server has metadata.namespace argocd",
                "--force",
            ],
        );
        let forced = offline(
            &["argocd", "install", "-f", "-", "-n", "team-a", "--force"],
            Some(&text),
        );
        assert!(forced.ok(), "{forced:?}");
        assert!(
            parse(&forced.stdout)
                .iter()
                .all(|o| o["metadata"]["namespace"] == "team-a")
        );
        assert!(
            forced
                .stderr
                .contains("moved from another namespace by --force"),
            "{forced:?}"
        );
    }

    #[test]
    fn an_unknown_component_in_an_override() {
        let path = fixture(FIXTURES[0]);
        let run = offline(
            &[
                "argocd",
                "install",
                "-f",
                path.to_str().unwrap(),
                "-n",
                "team-a",
                "--resources",
                "repository-server:limits.memory=1Gi",
            ],
            None,
        );
        refused(
            &run,
            &[
                "there is no component \"repository-server\"",
                "repo-server",
                "application-controller",
            ],
        );
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("r.yaml"),
            "server/sidecar:\n  limits: {cpu: 1}\n",
        )
        .unwrap();
        let run = offline_in(
            dir.path(),
            &[
                "argocd",
                "install",
                "-f",
                path.to_str().unwrap(),
                "-n",
                "team-a",
                "--resources-file",
                "r.yaml",
            ],
            None,
            &[],
        );
        refused(
            &run,
            &[
                "component server has no container \"sidecar\"",
                "argocd-server",
            ],
        );
        let run = offline(
            &[
                "argocd",
                "install",
                "-f",
                path.to_str().unwrap(),
                "-n",
                "team-a",
                "--resources",
                "server:limits.cpu=plenty",
            ],
            None,
        );
        refused(&run, &["not a Kubernetes quantity"]);
    }

    #[test]
    fn a_missing_file_and_an_unreachable_url() {
        let run = offline(
            &["argocd", "install", "-f", "no-such.yaml", "-n", "team-a"],
            None,
        );
        refused(&run, &["cannot read no-such.yaml: no such file"]);
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let url = format!("https://127.0.0.1:{port}/namespace-install.yaml");
        let run = offline(&["argocd", "install", "-f", &url, "-n", "team-a"], None);
        refused(&run, &[&format!("cannot read {url}: cannot connect")]);
        let run = offline(
            &[
                "argocd",
                "install",
                "-f",
                "http://example.com/namespace-install.yaml",
                "-n",
                "team-a",
            ],
            None,
        );
        refused(&run, &["plain http is not accepted"]);
    }
}

mod url {
    use super::*;

    /// `-f https://…` as kubectl takes it: fetched over TLS checked against the system's roots
    /// (here the sandbox's CA through SSL_CERT_FILE), following a redirect; a 404 is said so.
    #[test]
    fn a_manifest_is_fetched_from_an_https_url() {
        let env = crate::common::env();
        let text = fixture_text(FIXTURES[0]);
        env.sandbox()
            .serve_file("/files/v2.4.11/namespace-install.yaml", text.as_bytes());
        env.sandbox()
            .serve_redirect("/latest.yaml", "/files/v2.4.11/namespace-install.yaml");
        let ca = env.path("ca.pem");
        std::fs::write(&ca, env.ca_pem()).unwrap();
        let ca = ca.to_str().unwrap();
        let (from_file, _) = install(FIXTURES[0], &[]);
        for path in ["/files/v2.4.11/namespace-install.yaml", "/latest.yaml"] {
            let url = format!("{}{path}", env.url());
            let run = offline_in(
                env.dir.path(),
                &["argocd", "install", "-f", &url, "-n", "team-a"],
                None,
                &[("SSL_CERT_FILE", ca)],
            );
            assert!(run.ok(), "{url}: {run:?}");
            assert_eq!(parse(&run.stdout), from_file, "{url}");
        }
        let missing = format!("{}/files/nothing.yaml", env.url());
        let run = offline_in(
            env.dir.path(),
            &["argocd", "install", "-f", &missing, "-n", "team-a"],
            None,
            &[("SSL_CERT_FILE", ca)],
        );
        assert_eq!(run.code, Some(2), "{run:?}");
        assert!(run.stderr.contains("the server answered"), "{run:?}");
        // Without the CA, the server is not trusted.
        let untrusted = offline_in(
            env.dir.path(),
            &[
                "argocd",
                "install",
                "-f",
                &format!("{}/latest.yaml", env.url()),
                "-n",
                "team-a",
            ],
            None,
            &[
                ("SSL_CERT_DIR", "/nonexistent"),
                ("SSL_CERT_FILE", "/nonexistent/ca.pem"),
            ],
        );
        assert_eq!(untrusted.code, Some(2), "{untrusted:?}");
        assert!(untrusted.stderr.contains("cannot read"), "{untrusted:?}");
    }
}

/// Lets `user` hold Argo CD's own kinds in the test namespace, as the administrator does when
/// installing its CRDs (docs/argocd.md): a ClusterRole bound there by a RoleBinding.
fn grant_argo_kinds(env: &Env, user: &str) {
    env.seed(vec![
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
               "metadata": {"name": "argocd-kinds"},
               "rules": [{"apiGroups": ["argoproj.io"],
                          "resources": ["applications", "applicationsets", "applicationsets/finalizers",
                                        "applicationsets/status", "appprojects"],
                          "verbs": ["create", "delete", "get", "list", "patch", "update", "watch"]}]}),
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
               "metadata": {"name": format!("{user}-argocd-kinds"), "namespace": env.ns()},
               "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "argocd-kinds"},
               "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": user}]}),
    ]);
    env.wait_until_allowed(
        user,
        &["devs"],
        "create",
        "argoproj.io",
        "appprojects",
        env.ns(),
    );
}

const KINDS: &[(&str, &str)] = &[
    ("", "serviceaccounts"),
    ("rbac.authorization.k8s.io", "roles"),
    ("rbac.authorization.k8s.io", "rolebindings"),
    ("", "configmaps"),
    ("", "secrets"),
    ("", "services"),
    ("apps", "deployments"),
    ("apps", "statefulsets"),
    ("networking.k8s.io", "networkpolicies"),
];

/// Where KINDS lists `kind`.
fn kind_index(kind: &str) -> usize {
    [
        "ServiceAccount",
        "Role",
        "RoleBinding",
        "ConfigMap",
        "Secret",
        "Service",
        "Deployment",
        "StatefulSet",
        "NetworkPolicy",
    ]
    .iter()
    .position(|k| *k == kind)
    .unwrap_or_else(|| panic!("no kind {kind} in KINDS"))
}

/// Every Argo CD object (named argocd-…) of the kinds install writes in the namespace, with
/// its resourceVersion.
fn versions(env: &Env, ns: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for (group, resource) in KINDS {
        for o in env.objects(group, resource, ns) {
            if !o["metadata"]["name"]
                .as_str()
                .unwrap()
                .starts_with("argocd-")
            {
                continue;
            }
            out.insert(
                format!("{resource}/{}", o["metadata"]["name"].as_str().unwrap()),
                o["metadata"]["resourceVersion"]
                    .as_str()
                    .unwrap()
                    .to_string(),
            );
        }
    }
    out
}

fn writes(env: &Env, user: &str) -> Vec<String> {
    env.request_log()
        .into_iter()
        .filter(|r| r.user == user && !matches!(r.verb.as_str(), "get" | "list" | "watch"))
        .filter(|r| !r.path.contains("selfsubject"))
        .map(|r| format!("{} {} {}", r.verb, r.path, r.status))
        .collect()
}

on_both_servers! {
    /// As alice, admin of her namespace (plus Argo CD's kinds, from the administrator),
    /// install --apply of v2.4.11 succeeds, every object is there with its resources, and a
    /// second run changes no object.
    fn alice_installs_v2_4_11_and_a_second_run_changes_nothing(env) {
        grant_argo_kinds(&env, "alice");
        let path = fixture(FIXTURES[0]);
        let args = ["argocd", "install", "-f", path.to_str().unwrap(), "-n", env.ns(), "--apply"];
        let first = env.plugin_as("alice", &args);
        assert!(first.ok(), "{first:?}");
        assert!(first.stderr.contains("Pre-check passed"), "{first:?}");
        assert!(first.stderr.contains("46 created"), "{first:?}");
        assert!(first.stderr.contains("Audit (pull-controller-cluster-wide)"), "{first:?}");

        let (expected, _) = install(FIXTURES[0], &[]);
        for o in &expected {
            let kind = o["kind"].as_str().unwrap();
            let (group, resource) = KINDS[kind_index(kind)];
            let stored = env
                .object(group, resource, env.ns(), o["metadata"]["name"].as_str().unwrap())
                .unwrap_or_else(|| panic!("{kind} {} was not applied", o["metadata"]["name"]));
            if let Some(spec) = pod_spec(o) {
                assert_eq!(
                    pod_spec(&stored).unwrap()["containers"][0]["resources"],
                    spec["containers"][0]["resources"],
                    "{kind} {}", o["metadata"]["name"]
                );
            }
        }
        assert!(env.object("rbac.authorization.k8s.io", "rolebindings", env.ns(), "argocd-redis").is_none());
        assert_eq!(resource_policy_violations(&env.objects("apps", "deployments", env.ns())), Vec::<String>::new());

        let before = versions(&env, env.ns());
        assert_eq!(before.len(), 46, "{before:?}");
        env.clear_request_log();
        let second = env.plugin_as("alice", &args);
        assert!(second.ok(), "{second:?}");
        assert!(second.stderr.contains("46 unchanged"), "{second:?}");
        assert_eq!(versions(&env, env.ns()), before, "a second run changed objects");
        let changed: Vec<String> = env
            .changed_objects()
            .into_iter()
            .filter(|c| !c.contains("leases"))
            .collect();
        assert_eq!(changed, Vec::<String>::new());
    }

}

on_both_servers! {
    /// As bob, who may write some RBAC but holds little, install stops before any write and
    /// names what he lacks.
    fn bob_is_stopped_before_any_write_and_told_what_he_lacks(env) {
        let path = fixture(FIXTURES[0]);
        env.clear_request_log();
        let run = env.plugin_as(
            "bob",
            &["argocd", "install", "-f", path.to_str().unwrap(), "-n", env.ns(), "--apply"],
        );
        assert_eq!(run.code, Some(1), "{run:?}");
        for says in [
            "You may not install this manifest in namespace",
            "so nothing was applied",
            "get, create, patch: serviceaccounts",
            "get, create, patch: statefulsets.apps",
            "roles.rbac.authorization.k8s.io \"argocd-server\" is forbidden: user \"bob\"",
            "{APIGroups:[\"\"], Resources:[\"secrets\"], Verbs:[\"get\" \"list\" \"watch\"]}",
            "{APIGroups:[\"argoproj.io\"], Resources:[\"applications\"]",
            "Who can help",
        ] {
            assert!(run.stderr.contains(says), "{says:?} not in:\n{}", run.stderr);
        }
        assert_eq!(writes(&env, "bob"), Vec::<String>::new());
        assert_eq!(versions(&env, env.ns()), BTreeMap::new(), "nothing was created");
    }

}

on_both_servers! {
    /// --dry-run: every object through the server's dry run, nothing stored.
    fn a_dry_run_changes_nothing(env) {
        grant_argo_kinds(&env, "alice");
        let path = fixture(FIXTURES[2]);
        env.clear_request_log();
        let run = env.plugin_as(
            "alice",
            &["argocd", "install", "-f", path.to_str().unwrap(), "-n", env.ns(), "--dry-run"],
        );
        assert!(run.ok(), "{run:?}");
        assert!(run.stderr.contains("Nothing was changed"), "{run:?}");
        assert!(run.stderr.contains("accepted (it would be created)"), "{run:?}");
        assert_eq!(run.stdout, "");
        assert_eq!(versions(&env, env.ns()), BTreeMap::new(), "nothing was created");
        let dry: Vec<_> = env
            .request_log()
            .into_iter()
            .filter(|r| r.user == "alice" && r.verb == "patch")
            .collect();
        assert!(!dry.is_empty() && dry.iter().all(|r| r.path.contains("dryRun=All")), "{dry:?}");
    }

}

on_both_servers! {
    /// A binding whose Role the manifest lacks but the namespace has is not dangling: with
    /// --apply, install looks, and keeps it.
    fn a_role_the_namespace_has_keeps_its_binding(env) {
        grant_argo_kinds(&env, "alice");
        env.seed(vec![json!({
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
            "metadata": {"name": "argocd-redis", "namespace": env.ns()}, "rules": []})]);
        let path = fixture(FIXTURES[0]);
        let run = env.plugin_as(
            "alice",
            &["argocd", "install", "-f", path.to_str().unwrap(), "-n", env.ns(), "--apply"],
        );
        assert!(run.ok(), "{run:?}");
        assert!(!run.stderr.contains("--redis-role drop"), "{run:?}");
        assert!(run.stderr.contains("47 created"), "{run:?}");
        let binding = env
            .object("rbac.authorization.k8s.io", "rolebindings", env.ns(), "argocd-redis")
            .expect("the binding is applied");
        assert_eq!(binding["roleRef"]["name"], "argocd-redis");
    }
}

/// alice as `admin` of the second namespace too, so she may grant there what she holds.
fn alice_admin_of_other_namespace(env: &Env) {
    env.seed(vec![json!({
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
        "metadata": {"name": "alice-admin", "namespace": env.other_ns()},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "admin"},
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "alice"}],
    })]);
    env.wait_until_allowed(
        "alice",
        &["devs"],
        "create",
        "rbac.authorization.k8s.io",
        "roles",
        env.other_ns(),
    );
}

/// `kubectl auth can-i VERB RESOURCE -n NS --as SA`, as the administrator: `true` for yes.
fn can_i(env: &Env, sa: &str, verb: &str, resource: &str, ns: &str) -> bool {
    let run = env.kubectl(
        &env.kubeconfig("admin"),
        &[
            "auth",
            "can-i",
            verb,
            resource,
            "-n",
            ns,
            &format!("--as={sa}"),
        ],
        None,
    );
    match run.stdout.trim() {
        "yes" => true,
        "no" => false,
        _ => panic!("kubectl auth can-i said neither yes nor no: {run:?}"),
    }
}

/// What `kubectl auth can-i --list -n NS --as SA` lists for resources: `resource [verbs]`
/// lines (the non-resource URLs left out).
fn can_i_list(env: &Env, sa: &str, ns: &str) -> BTreeSet<String> {
    let run = env.kubectl(
        &env.kubeconfig("admin"),
        &["auth", "can-i", "--list", "-n", ns, &format!("--as={sa}")],
        None,
    );
    assert!(run.ok(), "{run:?}");
    run.stdout
        .lines()
        .skip(1)
        .filter_map(|l| {
            let resource = l.split_whitespace().next()?;
            if resource.starts_with('[') {
                return None;
            }
            Some(format!("{resource} {}", &l[l.rfind('[')?..]))
        })
        .collect()
}

on_both_servers! {
    /// The grant gives Argo CD's application controller exactly the ticked kinds in a second
    /// namespace; list, audit and delete know it.
    fn grant_gives_the_controller_exactly_the_ticked_kinds(env) {
        if !kubectl_wanted() {
            return;
        }
        grant_argo_kinds(&env, "alice");
        alice_admin_of_other_namespace(&env);
        let path = fixture(FIXTURES[0]);
        let installed = env.plugin_as(
            "alice",
            &["argocd", "install", "-f", path.to_str().unwrap(), "-n", env.ns(), "--apply"],
        );
        assert!(installed.ok(), "{installed:?}");
        let (ns, other) = (env.ns().to_string(), env.other_ns().to_string());
        let name = format!("argocd-{ns}");
        let args = [
            "argocd", "grant", "-n", &ns, "--to", &other,
            "--kinds", "deployments.apps,services", "--read-only-kinds", "configmaps", "--yes",
        ];
        let run = env.plugin_as("alice", &args);
        assert!(run.ok(), "{run:?}");
        assert!(run.stderr.contains(&format!("Role {name} created, RoleBinding {name} created")), "{run:?}");
        assert!(run.stderr.contains("server: https://kubernetes.default.svc"), "{run:?}");

        let sa = format!("system:serviceaccount:{ns}:argocd-application-controller");
        env.wait_until_allowed(
            &sa,
            &["system:serviceaccounts", &format!("system:serviceaccounts:{ns}")],
            "create", "apps", "deployments", &other,
        );
        assert!(can_i(&env, &sa, "create", "deployments.apps", &other));
        assert!(can_i(&env, &sa, "delete", "services", &other));
        assert!(can_i(&env, &sa, "get", "configmaps", &other));
        assert!(!can_i(&env, &sa, "update", "configmaps", &other));
        assert!(!can_i(&env, &sa, "get", "secrets", &other));
        assert!(!can_i(&env, &sa, "list", "secrets", &other));
        assert!(!can_i(&env, &sa, "create", "pods", &other));
        // Only the controller: the server was not asked for.
        assert!(!can_i(&env, &format!("system:serviceaccount:{ns}:argocd-server"), "get", "deployments.apps", &other));
        // What any ServiceAccount of the namespace may do there (the self-reviews, and what the
        // cluster grants every authenticated identity), taken away from what the controller may.
        let baseline = can_i_list(&env, &format!("system:serviceaccount:{ns}:argocd-dex-server"), &other);
        let listed: BTreeSet<String> = can_i_list(&env, &sa, &other)
            .difference(&baseline)
            .cloned()
            .collect();
        let all = "[create delete get list patch update watch]";
        assert_eq!(
            listed,
            BTreeSet::from([
                format!("deployments.apps {all}"),
                format!("services {all}"),
                "configmaps [get list watch]".to_string(),
            ]),
            "kubectl auth can-i --list"
        );

        // list shows it as a grant.
        let list = env.plugin_as("alice", &["list", "-n", &other, "-o", "json"]);
        assert!(list.ok(), "{list:?}");
        let items: Value = serde_json::from_str(&list.stdout).unwrap();
        let row = &items["items"][0];
        assert_eq!(row["name"], name.as_str());
        assert_eq!(row["grantedTo"], json!([format!("{ns}/argocd-application-controller")]));
        assert_eq!(row["problems"], json!([]), "{row}");

        // No high finding comes from it.
        env.wait_for_settled_namespaces();
        let audit = env.plugin_as("admin", &["audit", "-A", "-o", "json", "--fail-on", "none"]);
        assert!(audit.ok(), "{audit:?}");
        let report: Value = serde_json::from_str(&audit.stdout).unwrap();
        let binding = format!("RoleBinding {other}/{name}");
        let through_grant: Vec<&Value> = report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["via"].as_array().into_iter().flatten().any(|v| v["binding"] == binding.as_str()))
            .collect();
        assert!(
            through_grant.iter().any(|f| f["rule"] == "workload-create"),
            "the grant is audited: {through_grant:?}"
        );
        assert!(
            through_grant.iter().all(|f| !matches!(f["severity"].as_str(), Some("critical" | "high"))),
            "{through_grant:?}"
        );

        // A second run changes nothing.
        env.clear_request_log();
        let again = env.plugin_as("alice", &args);
        assert!(again.ok(), "{again:?}");
        assert!(again.stderr.contains(&format!("Role {name} unchanged, RoleBinding {name} unchanged")), "{again:?}");

        // A changed Role is drift, and audit says which command restores it.
        let patched = env.kubectl(
            &env.kubeconfig("admin"),
            &["patch", "role", &name, "-n", &other, "--type=json", "-p",
              r#"[{"op": "add", "path": "/rules/-", "value": {"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"]}}]"#],
            None,
        );
        assert!(patched.ok(), "{patched:?}");
        let drift = env.plugin_as("admin", &["audit", "-n", &other, "-o", "json", "--fail-on", "none"]);
        let report: Value = serde_json::from_str(&drift.stdout).unwrap();
        let found = report["findings"].as_array().unwrap().iter().find(|f| f["rule"] == "drift").cloned();
        let found = found.unwrap_or_else(|| panic!("no drift finding: {drift:?}"));
        assert!(
            found["remediation"].as_str().unwrap().contains(&format!(
                "kubectl cicd argocd grant -n {ns} --to {other} --name {name}"
            )),
            "{found}"
        );
        let restored = env.plugin_as("alice", &args);
        assert!(restored.ok(), "{restored:?}");
        assert!(restored.stderr.contains(&format!("Role {name} configured")), "{restored:?}");

        // delete removes it, and with it the rights.
        let deleted = env.plugin_as("alice", &["delete", &name, "-n", &other, "--yes"]);
        assert!(deleted.ok(), "{deleted:?}");
        assert!(deleted.stderr.contains(&format!("The grant {name} is gone from namespace {other}")), "{deleted:?}");
        assert!(env.object("rbac.authorization.k8s.io", "roles", &other, &name).is_none());
        assert!(env.object("rbac.authorization.k8s.io", "rolebindings", &other, &name).is_none());
        env.wait_for(|| !can_i(&env, &sa, "create", "deployments.apps", &other));
    }
}

on_both_servers! {
    /// bob may not grant what he does not hold: nothing is written, and he is told what.
    fn a_grant_beyond_what_bob_holds_is_refused_before_any_write(env) {
        env.clear_request_log();
        let run = env.plugin_as(
            "bob",
            &["argocd", "grant", "-n", env.ns(), "--to", env.ns(), "--kinds", "deployments.apps,configmaps", "--yes"],
        );
        assert_eq!(run.code, Some(1), "{run:?}");
        for says in [
            &format!("In namespace {}:", env.ns())[..],
            "is attempting to grant RBAC permissions not currently held",
            "{APIGroups:[\"\"], Resources:[\"configmaps\"]",
            "Nothing was created",
        ] {
            assert!(run.stderr.contains(says), "{says:?} not in:\n{}", run.stderr);
        }
        assert!(!run.stderr.contains("Resources:[\"deployments\"]"), "bob holds deployments: {run:?}");
        assert_eq!(writes(&env, "bob"), Vec::<String>::new());
        let missing = env.plugin_as("bob", &["argocd", "grant", "-n", env.ns(), "--kinds", "deployments.apps", "--yes"]);
        assert_eq!(missing.code, Some(2), "{missing:?}");
        assert!(missing.stderr.contains("pass --to NAMESPACE"), "{missing:?}");
    }
}

/// A refusal part-way (the server refuses the NetworkPolicies) says what exists now; running
/// the same command again, once the cause is gone, finishes the job.
#[test]
fn a_refusal_part_way_says_what_exists_and_a_rerun_finishes() {
    let env = crate::common::env();
    grant_argo_kinds(&env, "alice");
    env.sandbox().inject_fault(cicd_sandbox::Fault::new(
        Some("PATCH"),
        "/apis/networking.k8s.io/v1/namespaces/team-a/networkpolicies/*",
        1,
        cicd_sandbox::FaultAction::Status(403),
    ));
    let path = fixture(FIXTURES[0]);
    let args = [
        "argocd",
        "install",
        "-f",
        path.to_str().unwrap(),
        "-n",
        "team-a",
        "--apply",
    ];
    let stopped = env.plugin_as("alice", &args);
    assert_eq!(stopped.code, Some(1), "{stopped:?}");
    for says in [
        "Stopped part-way. In namespace team-a, these exist now: ServiceAccount argocd-application-controller",
        "StatefulSet argocd-application-controller",
        "NetworkPolicy argocd-application-controller-network-policy may or may not have been changed",
        "run the same command again to finish the job",
    ] {
        assert!(
            stopped.stderr.contains(says),
            "{says:?} not in:\n{}",
            stopped.stderr
        );
    }
    let exist = stopped
        .stderr
        .split("these exist now: ")
        .nth(1)
        .and_then(|rest| rest.split(';').next())
        .unwrap_or_default();
    assert!(
        exist.contains("Deployment argocd-server") && !exist.contains("NetworkPolicy"),
        "the refused object is not said to exist: {exist}"
    );
    assert_eq!(
        versions(&env, "team-a").len(),
        41,
        "everything before the NetworkPolicies"
    );
    let finished = env.plugin_as("alice", &args);
    assert!(finished.ok(), "{finished:?}");
    assert!(
        finished.stderr.contains("41 unchanged") && finished.stderr.contains("5 created"),
        "{finished:?}"
    );
    assert_eq!(versions(&env, "team-a").len(), 46);
}

#[test]
fn without_a_namespace_or_a_kubeconfig_it_says_to_pass_n() {
    let path = fixture(FIXTURES[0]);
    let run = offline(&["argocd", "install", "-f", path.to_str().unwrap()], None);
    assert_eq!(run.code, Some(2), "{run:?}");
    assert!(run.stderr.contains("no namespace given (-n)"), "{run:?}");
}
