//! `Status` error bodies as the real apiserver writes them
//! (apimachinery `pkg/api/errors/errors.go`).

use serde_json::{Value, json};

use crate::rbac::go_quote;

/// An API error: the HTTP code plus the Status body.
#[derive(Clone, Debug, PartialEq)]
pub struct ApiError {
    pub code: u16,
    pub body: Value,
}

/// The type an error is about: group and plural resource (or Kind for Invalid).
#[derive(Clone, Debug, Default)]
pub struct Target<'a> {
    pub group: &'a str,
    pub kind: &'a str,
    pub name: &'a str,
}

impl ApiError {
    pub fn new(
        code: u16,
        reason: &str,
        message: impl Into<String>,
        details: Option<Value>,
    ) -> Self {
        let mut body = json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": message.into(),
            "reason": reason,
            "code": code,
        });
        if let Some(d) = details {
            body["details"] = d;
        }
        ApiError { code, body }
    }

    pub fn message(&self) -> &str {
        self.body["message"].as_str().unwrap_or("")
    }

    pub fn reason(&self) -> &str {
        self.body["reason"].as_str().unwrap_or("")
    }

    /// `serviceaccounts "x" not found`, `roles.rbac.authorization.k8s.io "x" not found`.
    pub fn not_found(t: Target) -> Self {
        let msg = format!("{} \"{}\" not found", qualified(t.group, t.kind), t.name);
        ApiError::new(404, "NotFound", msg, Some(details(&t)))
    }

    pub fn already_exists(t: Target) -> Self {
        let msg = format!(
            "{} \"{}\" already exists",
            qualified(t.group, t.kind),
            t.name
        );
        ApiError::new(409, "AlreadyExists", msg, Some(details(&t)))
    }

    pub fn conflict(t: Target, why: &str) -> Self {
        let msg = format!(
            "Operation cannot be fulfilled on {} \"{}\": {}",
            qualified(t.group, t.kind),
            t.name,
            why
        );
        ApiError::new(409, "Conflict", msg, Some(details(&t)))
    }

    pub fn stale_update(t: Target) -> Self {
        ApiError::conflict(
            t,
            "the object has been modified; please apply your changes to the latest version and try again",
        )
    }

    /// A Forbidden error whose message is already complete.
    pub fn forbidden(t: Target, message: String) -> Self {
        ApiError::new(403, "Forbidden", message, Some(details(&t)))
    }

    /// `<Kind>[.<group>] "<name>" is invalid: <field>: <kind of error>: <detail>`; `causes` are
    /// (reason, message, field) triples such as ("FieldValueInvalid", "Invalid value: ...", "metadata.name").
    pub fn invalid(t: Target, causes: Vec<FieldError>) -> Self {
        let listed: Vec<String> = causes.iter().map(|c| c.to_string()).collect();
        let summary = if listed.len() == 1 {
            listed[0].clone()
        } else {
            format!("[{}]", listed.join(", "))
        };
        let msg = format!(
            "{} \"{}\" is invalid: {}",
            qualified(t.group, t.kind),
            t.name,
            summary
        );
        let mut d = details(&t);
        d["causes"] = Value::Array(
            causes
                .iter()
                .map(|c| json!({"reason": c.reason(), "message": c.detail_message(), "field": c.field}))
                .collect(),
        );
        ApiError::new(422, "Invalid", msg, Some(d))
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        ApiError::new(400, "BadRequest", message, None)
    }

    pub fn unauthorized() -> Self {
        ApiError::new(401, "Unauthorized", "Unauthorized", None)
    }

    pub fn method_not_allowed() -> Self {
        ApiError::new(
            405,
            "MethodNotAllowed",
            "the server does not allow this method on the requested resource",
            None,
        )
    }

    /// A PATCH whose content type no route consumes: go-restful's answer, before the handler.
    pub fn unsupported_media_type() -> Self {
        ApiError::new(
            415,
            "UnsupportedMediaType",
            "415: Unsupported Media Type",
            None,
        )
    }

    /// A create or update body in a media type the type cannot be read from
    /// (`negotiation.NewUnsupportedMediaTypeError`): custom resources take no protobuf.
    pub fn unsupported_body_media_type() -> Self {
        ApiError::new(
            415,
            "UnsupportedMediaType",
            "the body of the request was in an unknown format - accepted media types include: application/json, application/yaml",
            None,
        )
    }

    /// The bare 404 the real server gives for a path it does not serve.
    pub fn path_not_found() -> Self {
        ApiError::new(
            404,
            "NotFound",
            "the server could not find the requested resource",
            Some(json!({})),
        )
    }

    pub fn internal(message: impl Into<String>) -> Self {
        ApiError::new(500, "InternalError", message, None)
    }
}

/// `roles.rbac.authorization.k8s.io` or `pods`.
pub fn qualified(group: &str, resource_or_kind: &str) -> String {
    if group.is_empty() {
        resource_or_kind.to_string()
    } else {
        format!("{resource_or_kind}.{group}")
    }
}

/// StatusDetails: `name` and `group` are `omitempty`, so empty ones are left out.
fn details(t: &Target) -> Value {
    let mut d = json!({"kind": t.kind});
    if !t.name.is_empty() {
        d["name"] = json!(t.name);
    }
    if !t.group.is_empty() {
        d["group"] = json!(t.group);
    }
    d
}

/// One field error (apimachinery `validation/field/errors.go`).
#[derive(Clone, Debug, PartialEq)]
pub struct FieldError {
    pub field: String,
    pub kind: FieldErrorKind,
}

#[derive(Clone, Debug, PartialEq)]
pub enum FieldErrorKind {
    Invalid {
        value: Value,
        detail: String,
    },
    /// An invalid value Go prints as a struct (`%#v`), already rendered, e.g.
    /// `rbac.RoleRef{APIGroup:"rbac.authorization.k8s.io", Kind:"Role", Name:"x"}`.
    InvalidStruct {
        go_value: String,
        detail: String,
    },
    Required {
        detail: String,
    },
    Forbidden {
        detail: String,
    },
    NotSupported {
        value: Value,
        supported: Vec<String>,
    },
    /// `field.TooLong`: the value itself is left out of the message.
    TooLong {
        max_bytes: usize,
    },
}

impl FieldError {
    pub fn invalid(field: &str, value: Value, detail: impl Into<String>) -> Self {
        FieldError {
            field: field.into(),
            kind: FieldErrorKind::Invalid {
                value,
                detail: detail.into(),
            },
        }
    }

    pub fn invalid_struct(field: &str, go_value: String, detail: impl Into<String>) -> Self {
        FieldError {
            field: field.into(),
            kind: FieldErrorKind::InvalidStruct {
                go_value,
                detail: detail.into(),
            },
        }
    }

    pub fn required(field: &str, detail: impl Into<String>) -> Self {
        FieldError {
            field: field.into(),
            kind: FieldErrorKind::Required {
                detail: detail.into(),
            },
        }
    }

    pub fn forbidden(field: &str, detail: impl Into<String>) -> Self {
        FieldError {
            field: field.into(),
            kind: FieldErrorKind::Forbidden {
                detail: detail.into(),
            },
        }
    }

    fn reason(&self) -> &'static str {
        match self.kind {
            FieldErrorKind::Invalid { .. } | FieldErrorKind::InvalidStruct { .. } => {
                "FieldValueInvalid"
            }
            FieldErrorKind::Required { .. } => "FieldValueRequired",
            FieldErrorKind::Forbidden { .. } => "FieldValueForbidden",
            FieldErrorKind::NotSupported { .. } => "FieldValueNotSupported",
            FieldErrorKind::TooLong { .. } => "FieldValueTooLong",
        }
    }

    /// The part after `<field>: `.
    fn detail_message(&self) -> String {
        let with_detail = |head: String, detail: &str| {
            if detail.is_empty() {
                head
            } else {
                format!("{head}: {detail}")
            }
        };
        match &self.kind {
            FieldErrorKind::Invalid { value, detail } => {
                with_detail(format!("Invalid value: {}", go_value(value)), detail)
            }
            FieldErrorKind::InvalidStruct { go_value, detail } => {
                with_detail(format!("Invalid value: {go_value}"), detail)
            }
            FieldErrorKind::Required { detail } => with_detail("Required value".into(), detail),
            FieldErrorKind::Forbidden { detail } => with_detail("Forbidden".into(), detail),
            FieldErrorKind::TooLong { max_bytes } => {
                format!("Too long: may not be more than {max_bytes} bytes")
            }
            FieldErrorKind::NotSupported { value, supported } => {
                let quoted: Vec<String> = supported.iter().map(|s| format!("\"{s}\"")).collect();
                format!(
                    "Unsupported value: {}: supported values: {}",
                    go_value(value),
                    quoted.join(", ")
                )
            }
        }
    }
}

impl std::fmt::Display for FieldError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.field, self.detail_message())
    }
}

/// How apimachinery prints a bad value (`field.Error.ErrorBody`): strings with `%q`, numbers
/// and booleans bare, anything else as its JSON (`["a","b"]`).
fn go_value(v: &Value) -> String {
    match v {
        Value::String(s) => go_quote(s),
        other => other.to_string(),
    }
}

/// Go `%#v` of a struct of string fields: `rbac.RoleRef{APIGroup:"g", Kind:"Role", Name:"x"}`.
pub fn go_struct(type_name: &str, fields: &[(&str, &str)]) -> String {
    let fields: Vec<String> = fields
        .iter()
        .map(|(k, v)| format!("{k}:{}", go_quote(v)))
        .collect();
    format!("{type_name}{{{}}}", fields.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn not_found_leaves_out_the_core_group() {
        let e = ApiError::not_found(Target {
            group: "",
            kind: "serviceaccounts",
            name: "x",
        });
        assert_eq!(e.code, 404);
        assert_eq!(e.message(), "serviceaccounts \"x\" not found");
        assert!(e.body["details"].get("group").is_none());
        let e = ApiError::not_found(Target {
            group: "rbac.authorization.k8s.io",
            kind: "roles",
            name: "r",
        });
        assert_eq!(
            e.message(),
            "roles.rbac.authorization.k8s.io \"r\" not found"
        );
        assert_eq!(e.body["details"]["group"], "rbac.authorization.k8s.io");
    }

    #[test]
    fn invalid_names_the_kind_field_and_value() {
        let e = ApiError::invalid(
            Target {
                group: "",
                kind: "ServiceAccount",
                name: "Bad_Name",
            },
            vec![FieldError::invalid(
                "metadata.name",
                json!("Bad_Name"),
                "a lowercase RFC 1123 subdomain",
            )],
        );
        assert_eq!(e.code, 422);
        assert_eq!(
            e.message(),
            "ServiceAccount \"Bad_Name\" is invalid: metadata.name: Invalid value: \"Bad_Name\": a lowercase RFC 1123 subdomain"
        );
        assert_eq!(e.body["details"]["causes"][0]["field"], "metadata.name");
        assert_eq!(
            e.body["details"]["causes"][0]["reason"],
            "FieldValueInvalid"
        );
    }

    #[test]
    fn bad_values_print_as_go_prints_them() {
        let urls = FieldError::invalid("rules[0].nonResourceURLs", json!(["/a", "/b"]), "x");
        assert_eq!(
            urls.to_string(),
            "rules[0].nonResourceURLs: Invalid value: [\"/a\",\"/b\"]: x"
        );
        let role_ref = go_struct("rbac.RoleRef", &[("Kind", "Role"), ("Name", "r")]);
        assert_eq!(role_ref, "rbac.RoleRef{Kind:\"Role\", Name:\"r\"}");
        let e = ApiError::invalid(
            Target {
                group: "meta.k8s.io",
                kind: "PatchOptions",
                name: "",
            },
            vec![FieldError::required(
                "fieldManager",
                "is required for apply patch",
            )],
        );
        assert!(e.body["details"].get("name").is_none());
    }

    #[test]
    fn stale_update_uses_the_real_conflict_text() {
        let e = ApiError::stale_update(Target {
            group: "rbac.authorization.k8s.io",
            kind: "roles",
            name: "x",
        });
        assert_eq!(
            e.message(),
            "Operation cannot be fulfilled on roles.rbac.authorization.k8s.io \"x\": the object has been modified; please apply your changes to the latest version and try again"
        );
    }
}
