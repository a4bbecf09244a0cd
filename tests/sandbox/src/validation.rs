//! Object validation as the real registries do it (apimachinery `validation`, `pkg/apis/*/validation`):
//! names per type, RBAC rules and role references, ServiceAccount token Secrets.

use serde_json::{Value, json};

use crate::status::FieldError;

const DNS1123_LABEL_MSG: &str = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
const DNS1123_SUBDOMAIN_MSG: &str = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const DNS1035_LABEL_MSG: &str = "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";

const LABEL_KEY_NAME_MSG: &str = "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
const LABEL_VALUE_MSG: &str = "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";

/// `TotalAnnotationSizeLimitB`: keys and values of all annotations together.
pub const ANNOTATIONS_MAX_BYTES: usize = 256 * 1024;

pub const SA_TOKEN_TYPE: &str = "kubernetes.io/service-account-token";
pub const SA_NAME_ANNOTATION: &str = "kubernetes.io/service-account.name";
pub const SA_UID_ANNOTATION: &str = "kubernetes.io/service-account.uid";

/// Which naming rule a type's names follow.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NameRule {
    Dns1123Label,
    Dns1035Label,
    Dns1123Subdomain,
    PathSegment,
}

pub fn name_rule(group: &str, resource: &str) -> NameRule {
    match (group, resource) {
        ("", "namespaces") => NameRule::Dns1123Label,
        // RelaxedServiceNameValidation (on by default in 1.37): a DNS-1123 label.
        ("", "services") => NameRule::Dns1123Label,
        ("rbac.authorization.k8s.io", _) => NameRule::PathSegment,
        _ => NameRule::Dns1123Subdomain,
    }
}

fn label_chars_ok(s: &str, first_alpha: bool) -> bool {
    let b = s.as_bytes();
    let ok = |c: u8| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-';
    !b.is_empty()
        && b.iter().all(|c| ok(*c))
        && b[0] != b'-'
        && b[b.len() - 1] != b'-'
        && (!first_alpha || b[0].is_ascii_lowercase())
}

pub fn is_dns1123_label(s: &str) -> bool {
    s.len() <= 63 && label_chars_ok(s, false)
}

fn is_subdomain_chars(s: &str) -> bool {
    s.split('.').all(|part| label_chars_ok(part, false))
}

pub fn is_dns1123_subdomain(s: &str) -> bool {
    s.len() <= 253 && s.split('.').all(|part| label_chars_ok(part, false))
}

/// Problems with a name under a rule, as detail texts (empty when fine).
pub fn name_problems(rule: NameRule, name: &str) -> Vec<String> {
    let mut out = Vec::new();
    match rule {
        NameRule::Dns1123Label | NameRule::Dns1035Label => {
            if name.len() > 63 {
                out.push("must be no more than 63 characters".to_string());
            }
            let first_alpha = rule == NameRule::Dns1035Label;
            if rule == NameRule::Dns1123Label
                && !label_chars_ok(name, false)
                && is_subdomain_chars(name)
            {
                // `content.IsDNS1123Label`: a valid subdomain that is not a label has dots.
                out.push("must not contain dots".to_string());
            } else if !label_chars_ok(name, first_alpha) {
                out.push(
                    if first_alpha {
                        DNS1035_LABEL_MSG
                    } else {
                        DNS1123_LABEL_MSG
                    }
                    .to_string(),
                );
            }
        }
        NameRule::Dns1123Subdomain => {
            if name.len() > 253 {
                out.push("must be no more than 253 characters".to_string());
            }
            if !name.split('.').all(|part| label_chars_ok(part, false)) {
                out.push(DNS1123_SUBDOMAIN_MSG.to_string());
            }
        }
        NameRule::PathSegment => {
            if name == "." || name == ".." {
                out.push(format!("may not be '{name}'"));
            }
            for bad in ["/", "%"] {
                if name.contains(bad) {
                    out.push(format!("may not contain '{bad}'"));
                }
            }
        }
    }
    out
}

/// `content.IsLabelKey` (a label key, or an annotation key lower-cased): problems as detail texts.
pub fn label_key_problems(key: &str) -> Vec<String> {
    let parts: Vec<&str> = key.split('/').collect();
    let mut out = Vec::new();
    let name = match parts.as_slice() {
        [name] => *name,
        [prefix, name] => {
            if prefix.is_empty() {
                out.push("prefix part must be non-empty".to_string());
            } else {
                for p in name_problems(NameRule::Dns1123Subdomain, prefix) {
                    out.push(format!("prefix part {p}"));
                }
            }
            name
        }
        _ => {
            return vec![format!(
                "a valid label key {} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')",
                LABEL_KEY_NAME_MSG
            )];
        }
    };
    if name.is_empty() {
        out.push("name part must be non-empty".to_string());
    } else if name.len() > 63 {
        out.push("name part must be no more than 63 characters".to_string());
    }
    if !label_name_chars_ok(name) {
        out.push(format!("name part {LABEL_KEY_NAME_MSG}"));
    }
    out
}

/// `([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]`
fn label_name_chars_ok(s: &str) -> bool {
    let b = s.as_bytes();
    let edge = |c: u8| c.is_ascii_alphanumeric();
    !b.is_empty()
        && edge(b[0])
        && edge(b[b.len() - 1])
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
}

/// `content.IsLabelValue`.
pub fn label_value_problems(value: &str) -> Vec<String> {
    let mut out = Vec::new();
    if value.len() > 63 {
        out.push("must be no more than 63 bytes".to_string());
    }
    if !value.is_empty() && !label_name_chars_ok(value) {
        out.push(LABEL_VALUE_MSG.to_string());
    }
    out
}

/// Labels and annotations, as `ValidateObjectMeta` and `ValidateObjectMetaUpdate` check them
/// (keys in sorted order: Go walks the maps in random order).
pub fn validate_metadata(obj: &Value) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let string_map = |field: &str| -> Vec<(String, String)> {
        let mut pairs: Vec<(String, String)> = obj["metadata"][field]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(k, v)| (k.clone(), v.as_str().unwrap_or("").to_string()))
            .collect();
        pairs.sort();
        pairs
    };
    for (key, value) in string_map("labels") {
        for detail in label_key_problems(&key) {
            errs.push(FieldError::invalid("metadata.labels", json!(key), detail));
        }
        for detail in label_value_problems(&value) {
            errs.push(FieldError::invalid("metadata.labels", json!(value), detail));
        }
    }
    let annotations = string_map("annotations");
    for (key, _) in &annotations {
        for detail in label_key_problems(&key.to_lowercase()) {
            errs.push(FieldError::invalid(
                "metadata.annotations",
                json!(key),
                detail,
            ));
        }
    }
    let size: usize = annotations.iter().map(|(k, v)| k.len() + v.len()).sum();
    if size > ANNOTATIONS_MAX_BYTES {
        errs.push(FieldError {
            field: "metadata.annotations".into(),
            kind: crate::status::FieldErrorKind::TooLong {
                max_bytes: ANNOTATIONS_MAX_BYTES,
            },
        });
    }
    errs
}

/// What an update may not change (`ValidateSecretUpdate`: a Secret's `type`).
pub fn validate_update(group: &str, resource: &str, old: &Value, new: &Value) -> Vec<FieldError> {
    if (group, resource) != ("", "secrets") {
        return Vec::new();
    }
    // Defaulting runs before validation in the real server: no type means Opaque.
    let type_of = |o: &Value| match o["type"].as_str() {
        None | Some("") => "Opaque".to_string(),
        Some(t) => t.to_string(),
    };
    let (was, now) = (type_of(old), type_of(new));
    if was == now {
        return Vec::new();
    }
    vec![FieldError::invalid(
        "type",
        json!(now),
        "field is immutable",
    )]
}

pub fn validate_name(group: &str, resource: &str, name: &str) -> Vec<FieldError> {
    name_problems(name_rule(group, resource), name)
        .into_iter()
        .map(|detail| FieldError::invalid("metadata.name", json!(name), detail))
        .collect()
}

/// Type-specific validation of a new or updated object.
pub fn validate_object(group: &str, resource: &str, obj: &Value) -> Vec<FieldError> {
    match (group, resource) {
        ("rbac.authorization.k8s.io", "roles") => validate_rules(&obj["rules"], true),
        ("rbac.authorization.k8s.io", "clusterroles") => validate_rules(&obj["rules"], false),
        ("rbac.authorization.k8s.io", "rolebindings") => validate_binding(obj, true),
        ("rbac.authorization.k8s.io", "clusterrolebindings") => validate_binding(obj, false),
        ("", "secrets") => validate_secret(obj),
        ("apps", "deployments") => validate_deployment(&obj["spec"]),
        _ => Vec::new(),
    }
}

/// The part of `ValidateDeploymentSpec` (`pkg/apis/apps/validation`) a client meets first: a
/// selector, template labels it selects, and at least one container.
fn validate_deployment(spec: &Value) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let selector = &spec["selector"];
    let labels = &spec["template"]["metadata"]["labels"];
    if selector.is_null() {
        errs.push(FieldError::required("spec.selector", ""));
    }
    // A missing selector selects nothing; match expressions are not checked here.
    let selected = selector.is_object()
        && selector["matchLabels"]
            .as_object()
            .into_iter()
            .flatten()
            .all(|(k, v)| labels.get(k) == Some(v));
    if !selected {
        errs.push(FieldError::invalid(
            "spec.template.metadata.labels",
            labels.clone(),
            "`selector` does not match template `labels`",
        ));
    }
    let containers = &spec["template"]["spec"]["containers"];
    if containers.as_array().is_none_or(Vec::is_empty) {
        errs.push(FieldError::required("spec.template.spec.containers", ""));
    }
    errs
}

fn strings(v: &Value) -> Vec<&str> {
    v.as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

/// `pkg/apis/rbac/validation/validation.go` ValidatePolicyRule.
fn validate_rules(rules: &Value, namespaced: bool) -> Vec<FieldError> {
    let mut errs = Vec::new();
    for (i, rule) in rules.as_array().into_iter().flatten().enumerate() {
        let path = |f: &str| format!("rules[{i}].{f}");
        if strings(&rule["verbs"]).is_empty() {
            // 1.37's declarative validation reports it without a detail.
            errs.push(FieldError::required(&path("verbs"), ""));
        }
        let urls = strings(&rule["nonResourceURLs"]);
        if !urls.is_empty() {
            if namespaced {
                errs.push(FieldError::invalid(
                    &path("nonResourceURLs"),
                    rule["nonResourceURLs"].clone(),
                    "namespaced rules cannot apply to non-resource URLs",
                ));
            }
            if !strings(&rule["apiGroups"]).is_empty() || !strings(&rule["resources"]).is_empty() {
                errs.push(FieldError::invalid(
                    &path("nonResourceURLs"),
                    rule["nonResourceURLs"].clone(),
                    "rules cannot apply to both regular resources and non-resource URLs",
                ));
            }
            continue;
        }
        if rule["apiGroups"].as_array().is_none_or(Vec::is_empty) {
            errs.push(FieldError::required(
                &path("apiGroups"),
                "resource rules must supply at least one api group",
            ));
        }
        if strings(&rule["resources"]).is_empty() {
            errs.push(FieldError::required(
                &path("resources"),
                "resource rules must supply at least one resource",
            ));
        }
    }
    errs
}

fn validate_binding(obj: &Value, namespaced: bool) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let role_ref = &obj["roleRef"];
    let api_group = role_ref["apiGroup"].as_str().unwrap_or("");
    if api_group != "rbac.authorization.k8s.io" {
        errs.push(FieldError {
            field: "roleRef.apiGroup".into(),
            kind: crate::status::FieldErrorKind::NotSupported {
                value: json!(api_group),
                supported: vec!["rbac.authorization.k8s.io".into()],
            },
        });
    }
    let kind = role_ref["kind"].as_str().unwrap_or("");
    let allowed: &[&str] = if namespaced {
        &["Role", "ClusterRole"]
    } else {
        &["ClusterRole"]
    };
    if !allowed.contains(&kind) {
        errs.push(FieldError {
            field: "roleRef.kind".into(),
            kind: crate::status::FieldErrorKind::NotSupported {
                value: json!(kind),
                supported: allowed.iter().map(|s| s.to_string()).collect(),
            },
        });
    }
    let name = role_ref["name"].as_str().unwrap_or("");
    if name.is_empty() {
        errs.push(FieldError::required("roleRef.name", ""));
    } else {
        for detail in name_problems(NameRule::PathSegment, name) {
            errs.push(FieldError::invalid("roleRef.name", json!(name), detail));
        }
    }
    for (i, subject) in obj["subjects"].as_array().into_iter().flatten().enumerate() {
        let path = |f: &str| format!("subjects[{i}].{f}");
        let sname = subject["name"].as_str().unwrap_or("");
        if sname.is_empty() {
            errs.push(FieldError::required(&path("name"), ""));
        }
        match subject["kind"].as_str().unwrap_or("") {
            "ServiceAccount" => {
                if !sname.is_empty() {
                    for detail in name_problems(NameRule::Dns1123Subdomain, sname) {
                        errs.push(FieldError::invalid(&path("name"), json!(sname), detail));
                    }
                }
                if !namespaced && subject["namespace"].as_str().unwrap_or("").is_empty() {
                    errs.push(FieldError::required(&path("namespace"), ""));
                }
            }
            "User" | "Group" => {}
            other => errs.push(FieldError {
                field: path("kind"),
                kind: crate::status::FieldErrorKind::NotSupported {
                    value: json!(other),
                    supported: vec!["ServiceAccount".into(), "User".into(), "Group".into()],
                },
            }),
        }
    }
    errs
}

fn validate_secret(obj: &Value) -> Vec<FieldError> {
    if obj["type"] != SA_TOKEN_TYPE {
        return Vec::new();
    }
    let annotated = obj["metadata"]["annotations"][SA_NAME_ANNOTATION]
        .as_str()
        .is_some_and(|s| !s.is_empty());
    if annotated {
        Vec::new()
    } else {
        vec![FieldError::required(
            &format!("metadata.annotations[{SA_NAME_ANNOTATION}]"),
            "",
        )]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_each_types_rule() {
        assert!(validate_name("", "serviceaccounts", "ci-cd").is_empty());
        assert!(validate_name("", "serviceaccounts", "ci.cd").is_empty());
        let errs = validate_name("", "serviceaccounts", "CI_CD");
        assert_eq!(errs.len(), 1);
        assert!(errs[0].to_string().starts_with(
            "metadata.name: Invalid value: \"CI_CD\": a lowercase RFC 1123 subdomain"
        ));
        assert!(!validate_name("", "namespaces", "a.b").is_empty());
        assert!(validate_name("rbac.authorization.k8s.io", "roles", "Weird:Name").is_empty());
        assert_eq!(
            validate_name("rbac.authorization.k8s.io", "roles", "a/b")[0].to_string(),
            "metadata.name: Invalid value: \"a/b\": may not contain '/'"
        );
        assert_eq!(validate_name("", "namespaces", &"a".repeat(64)).len(), 1);
    }

    #[test]
    fn rbac_rules_need_verbs_groups_and_resources() {
        let role = json!({"rules": [{"verbs": [], "resources": ["pods"]}]});
        let texts: Vec<String> = validate_object("rbac.authorization.k8s.io", "roles", &role)
            .iter()
            .map(|e| e.to_string())
            .collect();
        assert_eq!(
            texts,
            vec![
                "rules[0].verbs: Required value",
                "rules[0].apiGroups: Required value: resource rules must supply at least one api group",
            ]
        );
        let role = json!({"rules": [{"verbs": ["get"], "nonResourceURLs": ["/x"]}]});
        assert!(
            validate_object("rbac.authorization.k8s.io", "roles", &role)[0]
                .to_string()
                .ends_with("namespaced rules cannot apply to non-resource URLs")
        );
        assert!(validate_object("rbac.authorization.k8s.io", "clusterroles", &role).is_empty());
    }

    #[test]
    fn token_secrets_need_the_service_account_annotation() {
        let s = json!({"type": SA_TOKEN_TYPE, "metadata": {"name": "t"}});
        assert_eq!(
            validate_object("", "secrets", &s)[0].to_string(),
            "metadata.annotations[kubernetes.io/service-account.name]: Required value"
        );
        let s = json!({"type": SA_TOKEN_TYPE, "metadata": {"name": "t", "annotations": {SA_NAME_ANNOTATION: "ci"}}});
        assert!(validate_object("", "secrets", &s).is_empty());
    }
}
