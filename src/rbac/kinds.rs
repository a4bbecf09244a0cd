//! [`ServedKind`]: what discovery says about one resource type the cluster serves. Filled by
//! the cluster-access layer (`cluster::discovery`); the core only reads it.

use std::collections::BTreeMap;

use crate::rbac::rule::group_resource;
use serde::{Deserialize, Serialize};

/// The subresources a Role made by kubectl-cicd may grant, with the verbs each gets: `scale`
/// (what `kubectl scale` changes) and `status`, read-only (a rollout's progress; writing a
/// status is a controller's job, not a pipeline's).
pub const GRANTABLE_SUBRESOURCES: &[(&str, &[&str])] =
    &[("scale", &["get", "update", "patch"]), ("status", &["get"])];

/// Verbs that change objects.
pub const WRITE_VERBS: &[&str] = &["create", "update", "patch", "delete", "deletecollection"];

/// One served resource type, as discovery reports it.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ServedKind {
    /// API group, `""` for core.
    pub group: String,
    /// Preferred version, e.g. `v1`.
    pub version: String,
    /// Plural resource name; `res/sub` for a subresource entry.
    pub resource: String,
    /// Kind, e.g. `Deployment`.
    pub kind: String,
    /// True for namespaced types (only those can be granted by a Role).
    pub namespaced: bool,
    /// The verbs discovery lists for the type.
    pub verbs: Vec<String>,
    /// `deployment` (the lower-cased kind when the server does not say).
    pub singular: String,
    /// `deploy`, ...
    pub short_names: Vec<String>,
    /// `all`, ... (what `kubectl get all` expands).
    pub categories: Vec<String>,
    /// `status`, `scale`, `exec`, ...
    pub subresources: Vec<String>,
    /// The verbs discovery lists for each of [`ServedKind::subresources`].
    #[serde(default)]
    pub subresource_verbs: BTreeMap<String, Vec<String>>,
}

impl ServedKind {
    /// A kind from literals (handy in tests and presets).
    pub fn new(
        group: &str,
        version: &str,
        resource: &str,
        kind: &str,
        namespaced: bool,
        verbs: &[&str],
    ) -> Self {
        ServedKind {
            group: group.to_string(),
            version: version.to_string(),
            resource: resource.to_string(),
            kind: kind.to_string(),
            namespaced,
            verbs: verbs.iter().map(|v| v.to_string()).collect(),
            singular: kind.to_lowercase(),
            ..ServedKind::default()
        }
    }

    /// `deployments.apps`, `pods`.
    pub fn group_resource(&self) -> String {
        group_resource(&self.group, &self.resource)
    }

    /// `apps/v1`, or `v1` for core.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// True when discovery lists `verb` for this type.
    pub fn serves(&self, verb: &str) -> bool {
        self.verbs.iter().any(|v| v == verb)
    }

    /// True when the type serves no write verb (metrics, reviews' read views ...).
    pub fn is_read_only(&self) -> bool {
        !WRITE_VERBS.iter().any(|v| self.serves(v))
    }

    /// True for `res/sub` entries.
    pub fn is_subresource(&self) -> bool {
        self.resource.contains('/')
    }

    /// True when `group`/`resource` name this kind.
    pub fn is(&self, group: &str, resource: &str) -> bool {
        self.group == group && self.resource == resource
    }

    /// `scale` for `deployments/scale`; `None` for a kind that is not a subresource entry.
    pub fn subresource_name(&self) -> Option<&str> {
        self.resource.split_once('/').map(|(_, sub)| sub)
    }

    /// The entry of subresource `sub` of this kind (`deployments/scale`), with the verbs
    /// discovery lists for it; `None` when the kind does not serve it.
    pub fn subresource(&self, sub: &str) -> Option<ServedKind> {
        if self.is_subresource() {
            return None;
        }
        let verbs = self.subresource_verbs.get(sub)?;
        Some(ServedKind {
            group: self.group.clone(),
            version: self.version.clone(),
            resource: format!("{}/{sub}", self.resource),
            kind: self.kind.clone(),
            namespaced: self.namespaced,
            verbs: verbs.clone(),
            singular: format!("{}/{sub}", self.singular),
            ..ServedKind::default()
        })
    }

    /// The verbs a Role grants on this subresource entry by default
    /// ([`GRANTABLE_SUBRESOURCES`]); `None` for a subresource kubectl-cicd does not grant, or
    /// a kind that is not one.
    pub fn subresource_default_verbs(&self) -> Option<&'static [&'static str]> {
        let sub = self.subresource_name()?;
        GRANTABLE_SUBRESOURCES
            .iter()
            .find(|(name, _)| *name == sub)
            .map(|(_, verbs)| *verbs)
    }
}

/// Finds the kind for `group` + `resource` (first match wins when discovery
/// listed several versions).
pub fn find_kind<'a>(
    kinds: &'a [ServedKind],
    group: &str,
    resource: &str,
) -> Option<&'a ServedKind> {
    kinds.iter().find(|k| k.is(group, resource))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn served() -> Vec<ServedKind> {
        vec![
            ServedKind::new(
                "",
                "v1",
                "pods",
                "Pod",
                true,
                &[
                    "create",
                    "delete",
                    "deletecollection",
                    "get",
                    "list",
                    "patch",
                    "update",
                    "watch",
                ],
            ),
            ServedKind::new("", "v1", "pods/log", "Pod", true, &["get"]),
            ServedKind::new(
                "apps",
                "v1",
                "deployments",
                "Deployment",
                true,
                &[
                    "create", "delete", "get", "list", "patch", "update", "watch",
                ],
            ),
            ServedKind::new(
                "metrics.k8s.io",
                "v1beta1",
                "pods",
                "PodMetrics",
                true,
                &["get", "list"],
            ),
            ServedKind::new(
                "",
                "v1",
                "namespaces",
                "Namespace",
                false,
                &[
                    "create", "delete", "get", "list", "patch", "update", "watch",
                ],
            ),
        ]
    }

    #[test]
    fn display_helpers() {
        let k = &served()[2];
        assert_eq!(k.group_resource(), "deployments.apps");
        assert_eq!(k.api_version(), "apps/v1");
        assert_eq!(served()[0].api_version(), "v1");
        assert_eq!(served()[1].group_resource(), "pods/log");
    }

    #[test]
    fn serves_and_read_only() {
        let s = served();
        assert!(s[0].serves("deletecollection"));
        assert!(!s[2].serves("deletecollection"));
        assert!(!s[0].is_read_only());
        assert!(s[3].is_read_only());
        assert!(s[1].is_read_only());
        assert!(s[1].is_subresource());
        assert!(!s[0].is_subresource());
        assert!(ServedKind::default().is_read_only());
    }

    #[test]
    fn find_by_group_and_resource() {
        let s = served();
        assert_eq!(
            find_kind(&s, "apps", "deployments").unwrap().kind,
            "Deployment"
        );
        assert!(find_kind(&s, "", "deployments").is_none());
    }
}
