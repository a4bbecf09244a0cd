//! What a request asks for: the apiserver's RequestInfo (`endpoints/request/requestinfo.go`)
//! plus the representation the client accepts.

use std::collections::HashMap;

/// Parsed request attributes; `resource_request == false` for discovery, `/version`, etc.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RequestInfo {
    pub resource_request: bool,
    pub verb: String,
    pub path: String,
    pub group: String,
    pub version: String,
    pub namespace: String,
    pub resource: String,
    pub subresource: String,
    pub name: String,
}

/// Subresources of namespaces that do not start a nested resource path.
const NAMESPACE_SUBRESOURCES: &[&str] = &["status", "finalize"];

pub fn parse(method: &str, path: &str, query: &HashMap<String, String>) -> RequestInfo {
    let mut info = RequestInfo {
        path: path.to_string(),
        verb: method.to_lowercase(),
        ..Default::default()
    };
    let parts: Vec<&str> = path
        .trim_matches('/')
        .split('/')
        .filter(|p| !p.is_empty())
        .collect();
    let rest: &[&str] = match parts.as_slice() {
        ["api", version, rest @ ..] if !rest.is_empty() => {
            info.version = version.to_string();
            rest
        }
        ["apis", group, version, rest @ ..] if !rest.is_empty() => {
            info.group = group.to_string();
            info.version = version.to_string();
            rest
        }
        _ => return info,
    };
    info.resource_request = true;
    let mut current: Vec<&str> = rest.to_vec();
    if current[0] == "namespaces" && current.len() > 1 {
        info.namespace = current[1].to_string();
        if current.len() > 2 && !NAMESPACE_SUBRESOURCES.contains(&current[2]) {
            current = current[2..].to_vec();
        }
    }
    info.resource = current[0].to_string();
    if current.len() >= 2 {
        info.name = current[1].to_string();
    }
    if current.len() >= 3 {
        info.subresource = current[2].to_string();
    }
    let watch = matches!(query.get("watch").map(String::as_str), Some("true" | "1"));
    info.verb = match method {
        "GET" | "HEAD" if watch => "watch",
        "GET" | "HEAD" if info.name.is_empty() => "list",
        "GET" | "HEAD" => "get",
        "POST" => "create",
        "PUT" => "update",
        "PATCH" => "patch",
        "DELETE" if info.name.is_empty() => "deletecollection",
        "DELETE" => "delete",
        other => {
            return RequestInfo {
                verb: other.to_lowercase(),
                ..info
            };
        }
    }
    .to_string();
    info
}

/// The representations the sandbox can answer with, chosen from the Accept header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Representation {
    Plain,
    Table,
    PartialObjectMetadata,
    AggregatedDiscovery,
}

pub fn representation(accept: &str) -> Representation {
    for media in accept.split(',') {
        let params: Vec<&str> = media.split(';').map(str::trim).collect();
        let has = |p: &str| params.contains(&p);
        if has("as=Table") && has("g=meta.k8s.io") {
            return Representation::Table;
        }
        if (has("as=PartialObjectMetadataList") || has("as=PartialObjectMetadata"))
            && has("g=meta.k8s.io")
        {
            return Representation::PartialObjectMetadata;
        }
        if has("as=APIGroupDiscoveryList") && has("g=apidiscovery.k8s.io") && has("v=v2") {
            return Representation::AggregatedDiscovery;
        }
        if params
            .first()
            .is_some_and(|m| *m == "application/json" || *m == "*/*")
            && params.len() == 1
        {
            return Representation::Plain;
        }
    }
    Representation::Plain
}

pub fn parse_query(query: Option<&str>) -> HashMap<String, String> {
    let mut out = HashMap::new();
    for pair in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let decode = |s: &str| {
            percent_encoding::percent_decode_str(&s.replace('+', " "))
                .decode_utf8_lossy()
                .into_owned()
        };
        out.insert(decode(k), decode(v));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(method: &str, path: &str) -> RequestInfo {
        parse(method, path, &HashMap::new())
    }

    #[test]
    fn namespaced_subresources_parse_like_the_apiserver() {
        let i = p("POST", "/api/v1/namespaces/x/serviceaccounts/ci/token");
        assert!(i.resource_request);
        assert_eq!(
            (
                i.verb.as_str(),
                i.namespace.as_str(),
                i.resource.as_str(),
                i.name.as_str(),
                i.subresource.as_str()
            ),
            ("create", "x", "serviceaccounts", "ci", "token")
        );
        let i = p("GET", "/apis/apps/v1/namespaces/x/deployments");
        assert_eq!(
            (i.verb.as_str(), i.group.as_str(), i.resource.as_str()),
            ("list", "apps", "deployments")
        );
    }

    #[test]
    fn a_namespace_is_its_own_namespace() {
        let i = p("GET", "/api/v1/namespaces/team-a");
        assert_eq!(
            (i.namespace.as_str(), i.resource.as_str(), i.name.as_str()),
            ("team-a", "namespaces", "team-a")
        );
        let i = p("PUT", "/api/v1/namespaces/team-a/finalize");
        assert_eq!(
            (i.resource.as_str(), i.subresource.as_str()),
            ("namespaces", "finalize")
        );
    }

    #[test]
    fn discovery_is_not_a_resource_request() {
        for path in [
            "/api",
            "/api/v1",
            "/apis",
            "/apis/apps",
            "/apis/apps/v1",
            "/version",
        ] {
            let i = p("GET", path);
            assert!(!i.resource_request, "{path}");
            assert_eq!(i.verb, "get");
        }
    }

    #[test]
    fn watch_and_delete_collection_verbs() {
        let mut q = HashMap::new();
        q.insert("watch".to_string(), "true".to_string());
        assert_eq!(parse("GET", "/api/v1/pods", &q).verb, "watch");
        assert_eq!(
            p("DELETE", "/api/v1/namespaces/x/pods").verb,
            "deletecollection"
        );
    }

    #[test]
    fn accept_headers_pick_the_representation() {
        assert_eq!(
            representation(
                "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json"
            ),
            Representation::Table
        );
        assert_eq!(
            representation("application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1"),
            Representation::PartialObjectMetadata
        );
        assert_eq!(
            representation(
                "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json"
            ),
            Representation::AggregatedDiscovery
        );
        assert_eq!(
            representation("application/json, */*"),
            Representation::Plain
        );
    }
}
