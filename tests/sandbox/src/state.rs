//! Everything the server holds: storage, types, users, the request log and programmed faults.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use serde::Serialize;
use serde_json::Value;

use crate::auth::{StaticUser, TokenSigner};
use crate::rbac::RbacSnapshot;
use crate::registry::Registry;
use crate::store::Store;

/// One line of the request log.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct LogEntry {
    pub time: String,
    /// User name, or `-` when the request was not authenticated.
    pub user: String,
    /// Kubernetes verb (`get`, `list`, `create`, `patch`, ...; lower-case method for non-resource paths).
    pub verb: String,
    pub method: String,
    /// Path with its query string.
    pub path: String,
    pub status: u16,
    /// Whether the request changed anything stored.
    pub changed: bool,
    /// Whether the reply carried Secret `data` or `stringData`.
    pub secret_data: bool,
    pub accept: String,
    pub content_type: String,
    /// The user's groups (empty when not authenticated).
    pub groups: Vec<String>,
    pub user_agent: String,
    /// What the request was about, as the authorizer saw it (empty for non-resource paths).
    pub api_group: String,
    pub api_version: String,
    pub resource: String,
    pub subresource: String,
    pub namespace: String,
    pub name: String,
    /// `allow` or `forbid` once authorization decided; empty before (no credentials, a fault).
    pub decision: String,
}

/// What a programmed fault does to a matching request.
#[derive(Clone, Debug, PartialEq)]
pub enum FaultAction {
    /// Answer with this HTTP code and an InternalError (5xx) or matching Status body.
    Status(u16),
    /// 429 with `Retry-After` (seconds), as the max-in-flight filter answers.
    TooManyRequests { retry_after_secs: u64 },
    /// 409 Conflict as for a stale resourceVersion.
    Conflict,
    /// Close the connection without an answer.
    DropConnection,
    /// Wait this long, then serve the request normally.
    Delay(Duration),
}

/// "The next `count` requests matching `method` and `path` do `action`".
/// `path` is a glob over the path without query: `*` matches any run of characters.
#[derive(Clone, Debug, PartialEq)]
pub struct Fault {
    pub method: Option<String>,
    pub path: String,
    pub count: usize,
    pub action: FaultAction,
}

impl Fault {
    pub fn new(method: Option<&str>, path: &str, count: usize, action: FaultAction) -> Self {
        Fault {
            method: method.map(str::to_uppercase),
            path: path.to_string(),
            count,
            action,
        }
    }

    pub fn matches(&self, method: &str, path: &str) -> bool {
        self.count > 0
            && self.method.as_deref().is_none_or(|m| m == method)
            && glob_match(&self.path, path)
    }
}

pub fn glob_match(pattern: &str, text: &str) -> bool {
    let pieces: Vec<&str> = pattern.split('*').collect();
    if pieces.len() == 1 {
        return pattern == text;
    }
    let mut rest = text;
    for (i, piece) in pieces.iter().enumerate() {
        if i == 0 {
            match rest.strip_prefix(piece) {
                Some(r) => rest = r,
                None => return false,
            }
        } else if i == pieces.len() - 1 {
            return rest.ends_with(piece);
        } else {
            match rest.find(piece) {
                Some(idx) => rest = &rest[idx + piece.len()..],
                None => return false,
            }
        }
    }
    true
}

pub struct State {
    pub store: Store,
    pub registry: Registry,
    pub users: Vec<StaticUser>,
    pub aggregated_discovery: bool,
    pub token_controller_delay: Duration,
    pub max_token_expiration: Option<Duration>,
    pub log: Vec<LogEntry>,
    pub faults: Vec<Fault>,
    /// Every ServiceAccount token the sandbox issued, for leak checks.
    pub minted_tokens: Vec<String>,
    /// How far the sandbox's clock runs ahead of the real one (see [`State::now`]).
    pub clock_offset: Duration,
    rbac_cache: Option<(u64, Arc<RbacSnapshot>)>,
    /// The copies paged lists keep for their continue tokens.
    pub list_snapshots: crate::paging::Snapshots,
    /// Namespaces being deleted, and since when (for the namespace controller).
    pub terminating_since: std::collections::HashMap<String, std::time::Instant>,
    /// How long the namespace controller takes to empty and remove a Terminating namespace.
    pub namespace_deletion_delay: Duration,
    /// Test hook: plain files (and redirects) served at their paths to anyone, outside the
    /// API, as a web server next to the cluster would serve a manifest.
    pub files: std::collections::HashMap<String, ServedFile>,
}

/// What a test-hook path answers.
#[derive(Clone, Debug)]
pub enum ServedFile {
    /// 200 with this body.
    Body(Vec<u8>),
    /// 302 to this location.
    Redirect(String),
}

impl State {
    pub fn new(registry: Registry, users: Vec<StaticUser>) -> Self {
        State {
            store: Store::default(),
            registry,
            users,
            aggregated_discovery: true,
            token_controller_delay: Duration::from_secs(1),
            max_token_expiration: None,
            log: Vec::new(),
            faults: Vec::new(),
            minted_tokens: Vec::new(),
            clock_offset: Duration::ZERO,
            rbac_cache: None,
            list_snapshots: Default::default(),
            terminating_since: Default::default(),
            namespace_deletion_delay: Duration::from_millis(500),
            files: Default::default(),
        }
    }

    /// The time for token issue, token expiry and last-used stamps: tests move it forward
    /// instead of waiting for a token to expire.
    pub fn now(&self) -> jiff::Timestamp {
        let offset = jiff::SignedDuration::try_from(self.clock_offset).unwrap_or_default();
        crate::util::now()
            .checked_add(offset)
            .unwrap_or_else(|_| crate::util::now())
    }

    /// The RBAC objects as the oracle sees them, rebuilt only when one of them changed
    /// (writes of other types, such as the token controller filling Secrets, keep it).
    /// Rebuilding reads every RBAC object: callers that do not need it (system:masters,
    /// whom authorization and escalation checks let through) should not ask.
    pub fn rbac(&mut self) -> Arc<RbacSnapshot> {
        let g = "rbac.authorization.k8s.io";
        // Resource versions only grow, so the newest change of the four types identifies
        // their contents.
        let rv = [
            "roles",
            "rolebindings",
            "clusterroles",
            "clusterrolebindings",
        ]
        .iter()
        .map(|r| self.store.type_version(&crate::store::type_key(g, r)))
        .max()
        .unwrap_or(0);
        if let Some((cached_rv, snap)) = &self.rbac_cache
            && *cached_rv == rv
        {
            return snap.clone();
        }
        let snap = Arc::new(RbacSnapshot::from_objects(
            &self.store.list_cloned(g, "roles"),
            &self.store.list_cloned(g, "rolebindings"),
            &self.store.list_cloned(g, "clusterroles"),
            &self.store.list_cloned(g, "clusterrolebindings"),
        ));
        self.rbac_cache = Some((rv, snap.clone()));
        snap
    }

    /// Takes one use of the first fault matching the request.
    pub fn take_fault(&mut self, method: &str, path: &str) -> Option<FaultAction> {
        let fault = self.faults.iter_mut().find(|f| f.matches(method, path))?;
        fault.count -= 1;
        let action = fault.action.clone();
        self.faults.retain(|f| f.count > 0);
        Some(action)
    }
}

/// Shared between the connection tasks, the token controller and the test-facing handle.
pub struct Shared {
    pub state: Mutex<State>,
    pub signer: TokenSigner,
    pub ca_pem: String,
    pub url: String,
}

impl Shared {
    pub fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock must not take the whole sandbox down with it.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Does a reply body carry Secret data? (For the audit's "never read Secret data" checks.)
pub fn carries_secret_data(body: &Value) -> bool {
    let is_secret_with_data = |o: &Value| {
        o["kind"] == "Secret"
            && (o.get("data").is_some_and(|d| !d.is_null())
                || o.get("stringData").is_some_and(|d| !d.is_null()))
    };
    if is_secret_with_data(body) {
        return true;
    }
    body["items"].as_array().is_some_and(|items| {
        list_items_carry_secret_data(body["kind"].as_str().unwrap_or(""), items.iter())
    })
}

/// [`carries_secret_data`] for the items of a list of kind `list_kind`.
pub fn list_items_carry_secret_data<'a>(
    list_kind: &str,
    mut items: impl Iterator<Item = &'a Value>,
) -> bool {
    items.any(|i| {
        i.get("data").is_some_and(|d| !d.is_null())
            && (i["kind"] == "Secret" || list_kind == "SecretList")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_match_paths() {
        assert!(glob_match(
            "/api/v1/namespaces/*/serviceaccounts/*/token",
            "/api/v1/namespaces/x/serviceaccounts/ci/token"
        ));
        assert!(glob_match("*", "/anything"));
        assert!(glob_match(
            "/apis/rbac*",
            "/apis/rbac.authorization.k8s.io/v1"
        ));
        assert!(!glob_match(
            "/api/v1/*/secrets",
            "/api/v1/namespaces/x/pods"
        ));
        assert!(glob_match("/version", "/version"));
    }

    #[test]
    fn the_rbac_snapshot_is_rebuilt_only_when_rbac_objects_change() {
        let mut st = State::new(Registry::standard(), crate::seed::default_users());
        crate::seed::seed_defaults(&mut st).unwrap();
        // Seeding as system:masters never needed the snapshot.
        assert!(st.rbac_cache.is_none());
        let first = st.rbac();
        st.store.insert_new(
            &crate::store::type_key("", "configmaps"),
            "team-a",
            "c",
            serde_json::json!({"metadata": {}}),
        );
        assert!(
            Arc::ptr_eq(&first, &st.rbac()),
            "a ConfigMap write keeps it"
        );
        st.store.insert_new(
            &crate::store::type_key("rbac.authorization.k8s.io", "roles"),
            "team-a",
            "r",
            serde_json::json!({"metadata": {"name": "r", "namespace": "team-a"}, "rules": []}),
        );
        let second = st.rbac();
        assert!(!Arc::ptr_eq(&first, &second), "a Role write rebuilds it");
        assert!(Arc::ptr_eq(&second, &st.rbac()));
    }

    #[test]
    fn faults_are_used_up() {
        let mut st = State::new(Registry::standard(), Vec::new());
        st.faults.push(Fault::new(
            Some("post"),
            "/api/*",
            2,
            FaultAction::Status(500),
        ));
        assert_eq!(st.take_fault("GET", "/api/v1"), None);
        assert_eq!(
            st.take_fault("POST", "/api/v1"),
            Some(FaultAction::Status(500))
        );
        assert_eq!(
            st.take_fault("POST", "/api/v1"),
            Some(FaultAction::Status(500))
        );
        assert_eq!(st.take_fault("POST", "/api/v1"), None);
    }

    #[test]
    fn secret_data_is_recognised_in_objects_and_lists() {
        assert!(carries_secret_data(
            &serde_json::json!({"kind": "Secret", "data": {"a": "b"}})
        ));
        assert!(carries_secret_data(
            &serde_json::json!({"kind": "SecretList", "items": [{"data": {"a": "b"}}]})
        ));
        assert!(!carries_secret_data(
            &serde_json::json!({"kind": "PartialObjectMetadataList", "items": [{"metadata": {}}]})
        ));
        assert!(!carries_secret_data(
            &serde_json::json!({"kind": "ConfigMap", "data": {"a": "b"}})
        ));
    }
}
