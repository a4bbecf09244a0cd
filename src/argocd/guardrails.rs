//! The platform's guardrails, checked on the manifest install produces, as a compliance-minded
//! platform's admission policies (Gatekeeper on Compliant Kubernetes) would check the objects:
//! requests and limits on every container and initContainer (denied without), images tagged
//! `:latest` or not at all (denied), pods no NetworkPolicy selects (warned), and workloads of
//! a single replica (warned). Pure: no I/O.

use serde_json::Value;

use super::objects::{self, describe};
use crate::cli::FailOn;

/// How much a finding weighs: the admission policy denies the object (`High`), or warns
/// (`Medium` for an unprotected pod, `Low` for a single replica).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Low,
    Medium,
    High,
}

impl Severity {
    pub fn label(self) -> &'static str {
        match self {
            Severity::High => "high",
            Severity::Medium => "medium",
            Severity::Low => "low",
        }
    }

    /// Whether a finding of this severity fails a run with `--fail-on`, as in audit.
    pub fn fails(self, fail_on: FailOn) -> bool {
        let threshold = match fail_on {
            FailOn::Critical | FailOn::None => return false,
            FailOn::High => Severity::High,
            FailOn::Medium => Severity::Medium,
            FailOn::Low => Severity::Low,
        };
        self >= threshold
    }
}

/// One guardrail a result trips.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub severity: Severity,
    /// `resources`, `image-tag`, `network-policy`, `replicas`.
    pub rule: &'static str,
    pub object: String,
    pub message: String,
}

/// The guardrails, in the order they are reported.
pub const RULES: &[(&str, &str)] = &[
    (
        "resources",
        "every container and initContainer sets requests and limits for cpu and memory (denied otherwise)",
    ),
    (
        "image-tag",
        "no image is tagged :latest or left without a tag (denied otherwise)",
    ),
    (
        "network-policy",
        "a NetworkPolicy selects the pods of every workload (warned otherwise)",
    ),
    (
        "replicas",
        "every Deployment and StatefulSet runs at least 2 replicas (warned otherwise)",
    ),
];

/// Every guardrail finding of `objects` (the namespaced objects to apply).
pub fn check(objects: &[Value]) -> Vec<Finding> {
    let mut out = Vec::new();
    let policies: Vec<&Value> = objects
        .iter()
        .filter(|o| objects::kind(o) == "NetworkPolicy")
        .collect();
    for o in objects.iter().filter(|o| objects::is_workload(o)) {
        let what = describe(o);
        let Some(spec) = objects::pod_spec(o) else {
            continue;
        };
        for (init, c) in objects::containers(spec) {
            let cname = c["name"].as_str().unwrap_or_default();
            let which = if init { "initContainer" } else { "container" };
            let missing: Vec<String> = [
                ("requests", "cpu"),
                ("requests", "memory"),
                ("limits", "cpu"),
                ("limits", "memory"),
            ]
            .iter()
            .filter(|(s, r)| !is_set(&c["resources"][*s][*r]))
            .map(|(s, r)| format!("{s}.{r}"))
            .collect();
            if !missing.is_empty() {
                out.push(Finding {
                    severity: Severity::High,
                    rule: "resources",
                    object: what.clone(),
                    message: format!("{which} {cname} sets no {}", missing.join(", ")),
                });
            }
            let image = c["image"].as_str().unwrap_or_default();
            if let Some(problem) = image_problem(image) {
                out.push(Finding {
                    severity: Severity::High,
                    rule: "image-tag",
                    object: what.clone(),
                    message: format!("{which} {cname}: image {image:?} {problem}"),
                });
            }
        }
        let labels = objects::pod_labels(o);
        if !policies.iter().any(|p| selects(p, labels)) {
            out.push(Finding {
                severity: Severity::Medium,
                rule: "network-policy",
                object: what.clone(),
                message: "no NetworkPolicy of the manifest selects its pods".into(),
            });
        }
        if matches!(objects::kind(o), "Deployment" | "StatefulSet") {
            let replicas = o["spec"]["replicas"].as_u64();
            if replicas.is_none_or(|r| r < 2) {
                out.push(Finding {
                    severity: Severity::Low,
                    rule: "replicas",
                    object: what.clone(),
                    message: match replicas {
                        Some(r) => format!("runs {r} replica (fewer than 2)"),
                        None => "sets no replicas, so it runs 1 (fewer than 2)".into(),
                    },
                });
            }
        }
    }
    // Most severe first; within a severity, in the manifest's order.
    out.sort_by_key(|f| std::cmp::Reverse(f.severity));
    out
}

fn is_set(v: &Value) -> bool {
    match v {
        Value::String(s) => !s.trim().is_empty(),
        Value::Number(_) => true,
        _ => false,
    }
}

/// What is wrong with an image reference, if anything: no tag (nor digest), or `latest`.
pub fn image_problem(image: &str) -> Option<&'static str> {
    if image.trim().is_empty() {
        return Some("is empty");
    }
    if image.contains('@') {
        return None;
    }
    // The tag follows the last ':' after the last '/' (a ':' before it is a registry port).
    let last = image.rsplit('/').next().unwrap_or(image);
    match last.rsplit_once(':') {
        None => Some("has no tag, so it means :latest"),
        Some((_, "latest")) => Some("is tagged :latest"),
        Some((_, "")) => Some("has an empty tag"),
        Some(_) => None,
    }
}

/// Whether NetworkPolicy `policy` selects pods labelled `labels` (its `podSelector`:
/// `matchLabels` and `matchExpressions`; an empty selector selects every pod).
fn selects(policy: &Value, labels: Option<&serde_json::Map<String, Value>>) -> bool {
    let selector = &policy["spec"]["podSelector"];
    let label = |k: &str| labels.and_then(|l| l.get(k)).and_then(Value::as_str);
    let match_labels = selector["matchLabels"]
        .as_object()
        .into_iter()
        .flatten()
        .all(|(k, v)| label(k) == v.as_str());
    let match_expressions = selector["matchExpressions"]
        .as_array()
        .into_iter()
        .flatten()
        .all(|e| {
            let key = e["key"].as_str().unwrap_or_default();
            let values: Vec<&str> = e["values"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            match e["operator"].as_str().unwrap_or_default() {
                "In" => label(key).is_some_and(|v| values.contains(&v)),
                "NotIn" => label(key).is_none_or(|v| !values.contains(&v)),
                "Exists" => label(key).is_some(),
                "DoesNotExist" => label(key).is_none(),
                _ => false,
            }
        });
    match_labels && match_expressions
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn deployment(labels: Value, image: &str, replicas: Option<u64>) -> Value {
        let mut d = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "argocd-server"},
            "spec": {"template": {"metadata": {"labels": labels}, "spec": {"containers": [{
                "name": "argocd-server", "image": image,
                "resources": {"requests": {"cpu": "5m", "memory": "50Mi"}, "limits": {"cpu": "10m", "memory": "100Mi"}}}]}}}});
        if let Some(r) = replicas {
            d["spec"]["replicas"] = json!(r);
        }
        d
    }

    fn policy(selector: Value) -> Value {
        json!({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
               "metadata": {"name": "p"}, "spec": {"podSelector": selector}})
    }

    fn rules(findings: &[Finding]) -> Vec<&str> {
        findings.iter().map(|f| f.rule).collect()
    }

    #[test]
    fn a_compliant_workload_trips_nothing() {
        let d = deployment(
            json!({"app.kubernetes.io/name": "argocd-server"}),
            "quay.io/argoproj/argocd:v3.5.1",
            Some(2),
        );
        let p = policy(json!({"matchLabels": {"app.kubernetes.io/name": "argocd-server"}}));
        assert_eq!(check(&[d, p]), vec![]);
    }

    #[test]
    fn each_guardrail_is_reported() {
        let mut d = deployment(json!({"app": "x"}), "redis", None);
        d["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"] = json!({"cpu": ""});
        let p = policy(json!({"matchLabels": {"app": "y"}}));
        let found = check(&[d, p]);
        assert_eq!(
            rules(&found),
            ["resources", "image-tag", "network-policy", "replicas"]
        );
        assert!(
            found[0].message.contains("limits.cpu, limits.memory"),
            "{found:?}"
        );
        assert_eq!(found[0].severity, Severity::High);
        assert!(Severity::Medium.fails(FailOn::Medium) && !Severity::Medium.fails(FailOn::High));
        assert!(!Severity::High.fails(FailOn::None));
    }

    #[test]
    fn images_need_a_tag_other_than_latest() {
        assert_eq!(image_problem("quay.io/argoproj/argocd:v2.4.11"), None);
        assert_eq!(image_problem("redis:7.0.4-alpine"), None);
        assert_eq!(image_problem("registry:5000/team/app@sha256:abc"), None);
        assert!(image_problem("registry:5000/team/app").is_some());
        assert!(image_problem("quay.io/argoproj/argocd:latest").is_some());
        assert!(image_problem("redis").is_some());
    }

    #[test]
    fn selectors_match_as_kubernetes_matches_them() {
        let labels = json!({"app": "a", "tier": "web"});
        let labels = labels.as_object();
        assert!(selects(&policy(json!({})), labels));
        assert!(selects(
            &policy(
                json!({"matchExpressions": [{"key": "tier", "operator": "In", "values": ["web"]}]})
            ),
            labels
        ));
        assert!(!selects(
            &policy(
                json!({"matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["web"]}]})
            ),
            labels
        ));
        assert!(selects(
            &policy(json!({"matchExpressions": [{"key": "zone", "operator": "DoesNotExist"}]})),
            labels
        ));
        assert!(!selects(
            &policy(json!({"matchLabels": {"app": "b"}})),
            labels
        ));
    }
}
