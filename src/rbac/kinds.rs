//! [`ResolvedKind`]: what discovery says about one resource type. Filled by
//! the cluster-access layer; the core only reads it.

use crate::rbac::rule::group_resource;
use serde::{Deserialize, Serialize};

/// Verbs that change objects.
pub const WRITE_VERBS: &[&str] = &["create", "update", "patch", "delete", "deletecollection"];

/// One served resource type, as discovery reports it.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ResolvedKind {
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
}

impl ResolvedKind {
    /// A kind from literals (handy in tests and presets).
    pub fn new(
        group: &str,
        version: &str,
        resource: &str,
        kind: &str,
        namespaced: bool,
        verbs: &[&str],
    ) -> Self {
        ResolvedKind {
            group: group.to_string(),
            version: version.to_string(),
            resource: resource.to_string(),
            kind: kind.to_string(),
            namespaced,
            verbs: verbs.iter().map(|v| v.to_string()).collect(),
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
}

/// Splits `deployments.apps` into (`apps`, `deployments`) the way
/// `schema.ParseGroupResource` does (at the first dot); `pods` is core.
pub fn parse_group_resource(text: &str) -> (String, String) {
    match text.split_once('.') {
        Some((resource, group)) => (group.to_string(), resource.to_string()),
        None => (String::new(), text.to_string()),
    }
}

/// Finds the kind for `group` + `resource` (first match wins when discovery
/// listed several versions).
pub fn find_kind<'a>(
    kinds: &'a [ResolvedKind],
    group: &str,
    resource: &str,
) -> Option<&'a ResolvedKind> {
    kinds.iter().find(|k| k.is(group, resource))
}

/// Finds a kind by what a user types: `deployments.apps`, `deployments`,
/// `Deployment` or `deployment.apps` (kind names match case-insensitively).
/// Without a group, the core group wins, then the first match.
pub fn lookup_kind<'a>(kinds: &'a [ResolvedKind], text: &str) -> Option<&'a ResolvedKind> {
    let by_name = |group: Option<&str>, name: &str| {
        let matches = |k: &&ResolvedKind| {
            group.is_none_or(|g| k.group == g)
                && (k.resource == name
                    || (!k.is_subresource() && k.kind.eq_ignore_ascii_case(name)))
        };
        let mut found = kinds.iter().filter(matches);
        let first = found.next()?;
        if first.group.is_empty() {
            return Some(first);
        }
        Some(
            kinds
                .iter()
                .filter(matches)
                .find(|k| k.group.is_empty())
                .unwrap_or(first),
        )
    };
    if let Some(k) = by_name(None, text) {
        return Some(k);
    }
    let (group, resource) = parse_group_resource(text);
    by_name(Some(&group), &resource)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn served() -> Vec<ResolvedKind> {
        vec![
            ResolvedKind::new(
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
            ResolvedKind::new("", "v1", "pods/log", "Pod", true, &["get"]),
            ResolvedKind::new(
                "apps",
                "v1",
                "deployments",
                "Deployment",
                true,
                &[
                    "create", "delete", "get", "list", "patch", "update", "watch",
                ],
            ),
            ResolvedKind::new(
                "metrics.k8s.io",
                "v1beta1",
                "pods",
                "PodMetrics",
                true,
                &["get", "list"],
            ),
            ResolvedKind::new(
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
        assert!(ResolvedKind::default().is_read_only());
    }

    #[test]
    fn parse_group_resource_like_go() {
        assert_eq!(
            parse_group_resource("deployments.apps"),
            ("apps".into(), "deployments".into())
        );
        assert_eq!(
            parse_group_resource("ingresses.networking.k8s.io"),
            ("networking.k8s.io".into(), "ingresses".into())
        );
        assert_eq!(parse_group_resource("pods"), (String::new(), "pods".into()));
    }

    #[test]
    fn find_and_lookup() {
        let s = served();
        assert_eq!(
            find_kind(&s, "apps", "deployments").unwrap().kind,
            "Deployment"
        );
        assert!(find_kind(&s, "", "deployments").is_none());
        assert_eq!(
            lookup_kind(&s, "deployments.apps").unwrap().kind,
            "Deployment"
        );
        assert_eq!(lookup_kind(&s, "deployments").unwrap().group, "apps");
        assert_eq!(
            lookup_kind(&s, "Deployment").unwrap().resource,
            "deployments"
        );
        assert_eq!(
            lookup_kind(&s, "deployment.apps").unwrap().resource,
            "deployments"
        );
        // core wins for an ambiguous plural
        assert_eq!(lookup_kind(&s, "pods").unwrap().group, "");
        assert_eq!(
            lookup_kind(&s, "pods.metrics.k8s.io").unwrap().kind,
            "PodMetrics"
        );
        assert_eq!(
            lookup_kind(&s, "PodMetrics").unwrap().group,
            "metrics.k8s.io"
        );
        assert!(lookup_kind(&s, "widgets").is_none());
        assert!(lookup_kind(&s, "deployments.extensions").is_none());
    }
}
