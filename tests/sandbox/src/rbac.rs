// TEMPORARY STUB until the oracle lands.
use serde::{Deserialize, Serialize};
use serde_json::Value;
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PolicyRule {
    #[serde(default)]
    pub verbs: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub api_groups: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resources: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resource_names: Vec<String>,
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        rename = "nonResourceURLs"
    )]
    pub non_resource_urls: Vec<String>,
}
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UserInfo {
    pub name: String,
    pub uid: String,
    pub groups: Vec<String>,
}
#[derive(Clone, Debug, Default)]
pub struct Attributes {
    pub verb: String,
    pub resource_request: bool,
    pub namespace: String,
    pub api_group: String,
    pub api_version: String,
    pub resource: String,
    pub subresource: String,
    pub name: String,
    pub path: String,
}
pub struct RbacSnapshot;
impl RbacSnapshot {
    pub fn from_objects(_: &[Value], _: &[Value], _: &[Value], _: &[Value]) -> Self {
        RbacSnapshot
    }
}
pub struct Decision {
    pub allowed: bool,
    pub reason: String,
}
pub fn authorize(_: &RbacSnapshot, _: &UserInfo, _: &Attributes) -> Decision {
    Decision {
        allowed: true,
        reason: String::new(),
    }
}
pub fn forbidden_message(_: &UserInfo, _: &Attributes) -> String {
    String::new()
}
pub enum RbacDenial {
    Forbidden(String),
    RoleNotFound { resource: String, name: String },
}
pub fn check_role_escalation(
    _: &RbacSnapshot,
    _: &UserInfo,
    _: &str,
    _: &str,
    _: &str,
    _: &[PolicyRule],
) -> Result<(), RbacDenial> {
    Ok(())
}
pub fn check_binding_escalation(
    _: &RbacSnapshot,
    _: &UserInfo,
    _: &str,
    _: &str,
    _: &str,
    _: &str,
    _: &str,
) -> Result<(), RbacDenial> {
    Ok(())
}
pub fn self_subject_rules_review_status(_: &RbacSnapshot, _: &UserInfo, _: &str) -> Value {
    serde_json::json!({"resourceRules":[],"nonResourceRules":[],"incomplete":false})
}
