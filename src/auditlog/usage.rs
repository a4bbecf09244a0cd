//! What one identity did, as the audit log shows it: each distinct request it was allowed, and
//! each it was refused, with how often and when. One entry per distinct action, whatever the
//! size of the log; object names are kept up to [`MAX_NAMES`] per action.

use std::collections::{BTreeMap, BTreeSet};

use super::event::{Decision, Event};
use crate::rbac::Request;
use crate::rbac::rule::group_resource;

/// Object names kept per action; past that the action counts as "many names".
pub const MAX_NAMES: usize = 64;

/// A distinct action: a resource request in a namespace (empty for cluster-scoped ones), or a
/// non-resource request (`path`), without the object's name.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Action {
    pub namespace: String,
    pub verb: String,
    pub group: String,
    pub resource: String,
    pub subresource: String,
    /// Non-resource requests only.
    pub path: String,
}

impl Action {
    fn of(e: &Event) -> Action {
        if e.resource.is_empty() {
            return Action {
                verb: e.verb.clone(),
                path: e.path.clone(),
                ..Action::default()
            };
        }
        Action {
            namespace: e.namespace.clone(),
            verb: e.verb.clone(),
            group: e.group.clone(),
            resource: e.resource.clone(),
            subresource: e.subresource.clone(),
            path: String::new(),
        }
    }

    /// A non-resource request (`/api`, `/version`): a Role cannot grant it.
    pub fn is_path(&self) -> bool {
        self.resource.is_empty()
    }

    /// The request as the authorizer sees it, without a name; `None` for a non-resource one.
    pub fn request(&self) -> Option<Request> {
        if self.is_path() {
            return None;
        }
        let mut req = Request::new(&self.verb, &self.group, &self.resource);
        if !self.subresource.is_empty() {
            req = req.with_subresource(&self.subresource);
        }
        Some(req)
    }

    /// `deployments.apps/scale`, or the path.
    pub fn target(&self) -> String {
        if self.is_path() {
            return self.path.clone();
        }
        let combined = if self.subresource.is_empty() {
            self.resource.clone()
        } else {
            format!("{}/{}", self.resource, self.subresource)
        };
        group_resource(&self.group, &combined)
    }
}

impl std::fmt::Display for Action {
    /// `create deployments.apps in shop`, `list namespaces (cluster-wide)`, `get /version`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.verb, self.target())?;
        match (self.is_path(), self.namespace.as_str()) {
            (true, _) => Ok(()),
            (false, "") => f.write_str(" (cluster-wide)"),
            (false, ns) => write!(f, " in {ns}"),
        }
    }
}

/// How often, when, and on which objects an action was seen.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Seen {
    pub count: u64,
    pub first: Option<i64>,
    pub last: Option<i64>,
    /// The objects named, up to [`MAX_NAMES`].
    pub names: BTreeSet<String>,
    /// Some request named no object (a list, a create, a watch of every object).
    pub nameless: bool,
    /// More names than [`MAX_NAMES`] were seen.
    pub many_names: bool,
}

impl Seen {
    fn add(&mut self, name: Option<&str>, time: Option<i64>) {
        self.count += 1;
        if let Some(t) = time {
            self.first = Some(self.first.map_or(t, |f| f.min(t)));
            self.last = Some(self.last.map_or(t, |l| l.max(t)));
        }
        match name {
            None => self.nameless = true,
            Some(n) if self.names.contains(n) => {}
            Some(_) if self.names.len() >= MAX_NAMES => self.many_names = true,
            Some(n) => {
                self.names.insert(n.to_string());
            }
        }
    }

    /// Seen on more than one day.
    pub fn days(&self) -> i64 {
        match (self.first, self.last) {
            (Some(f), Some(l)) => l.div_euclid(86_400) - f.div_euclid(86_400) + 1,
            _ => 1,
        }
    }
}

/// Everything one identity did in the log.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Usage {
    /// Allowed by authorization (whatever the reply: a 404 or 409 still used the permission).
    pub allowed: BTreeMap<Action, Seen>,
    /// Refused by authorization (403).
    pub denied: BTreeMap<Action, Seen>,
    /// The identity's completed requests.
    pub requests: u64,
    /// Its first and last request, in Unix seconds.
    pub first: Option<i64>,
    pub last: Option<i64>,
}

impl Usage {
    /// Counts `e`, a completed request of the identity.
    pub fn add(&mut self, e: &Event) {
        self.requests += 1;
        if let Some(t) = e.time {
            self.first = Some(self.first.map_or(t, |f| f.min(t)));
            self.last = Some(self.last.map_or(t, |l| l.max(t)));
        }
        // The authorizer never sees a name for these: a name the log records (from the body of
        // a create) was not part of the decision.
        let name = Some(e.name.as_str())
            .filter(|n| !n.is_empty() && !matches!(e.verb.as_str(), "create" | "deletecollection"));
        let map = match e.decision {
            Decision::Allowed => &mut self.allowed,
            Decision::Denied => &mut self.denied,
        };
        map.entry(Action::of(e)).or_default().add(name, e.time);
    }

    /// Allowed requests, counted.
    pub fn allowed_requests(&self) -> u64 {
        self.allowed.values().map(|s| s.count).sum()
    }

    /// Denied requests, counted.
    pub fn denied_requests(&self) -> u64 {
        self.denied.values().map(|s| s.count).sum()
    }
}

/// What several identities did (each username's [`Usage`]), and the logs it comes from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Usages {
    pub by_user: BTreeMap<String, Usage>,
    /// The first and last event of the logs (anyone's), Unix seconds.
    pub first: Option<i64>,
    pub last: Option<i64>,
    /// The logs' file names, as given.
    pub logs: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(verb: &str, resource: &str, name: &str, decision: Decision, time: i64) -> Event {
        Event {
            user: "system:serviceaccount:shop:ci-cd".into(),
            stage: "ResponseComplete".into(),
            verb: verb.into(),
            group: "apps".into(),
            resource: resource.into(),
            subresource: String::new(),
            namespace: "shop".into(),
            name: name.into(),
            path: String::new(),
            code: 200,
            decision,
            time: Some(time),
        }
    }

    #[test]
    fn distinct_actions_are_counted_once_each_with_their_names_and_times() {
        let mut u = Usage::default();
        for (i, name) in ["web", "web", "api", ""].iter().enumerate() {
            u.add(&event(
                "get",
                "deployments",
                name,
                Decision::Allowed,
                100 + i as i64,
            ));
        }
        u.add(&event(
            "create",
            "deployments",
            "web",
            Decision::Allowed,
            90,
        ));
        u.add(&event(
            "delete",
            "deployments",
            "web",
            Decision::Denied,
            200_000,
        ));
        assert_eq!(u.requests, 6);
        assert_eq!((u.first, u.last), (Some(90), Some(200_000)));
        assert_eq!(u.allowed.len(), 2);
        let get = u
            .allowed
            .iter()
            .find(|(a, _)| a.verb == "get")
            .map(|(_, s)| s)
            .unwrap();
        assert_eq!(get.count, 4);
        assert_eq!(get.names, BTreeSet::from(["api".into(), "web".into()]));
        assert!(get.nameless);
        let create = u.allowed.iter().find(|(a, _)| a.verb == "create").unwrap();
        assert!(
            create.1.names.is_empty(),
            "a create is authorized without a name"
        );
        assert_eq!(u.denied_requests(), 1);
        let (denied, seen) = u.denied.iter().next().unwrap();
        assert_eq!(denied.to_string(), "delete deployments.apps in shop");
        assert_eq!(seen.days(), 1);
    }

    #[test]
    fn names_stop_being_kept_past_the_limit() {
        let mut u = Usage::default();
        for i in 0..MAX_NAMES + 10 {
            u.add(&event(
                "get",
                "deployments",
                &format!("n{i}"),
                Decision::Allowed,
                1,
            ));
        }
        let seen = u.allowed.values().next().unwrap();
        assert_eq!(seen.names.len(), MAX_NAMES);
        assert!(seen.many_names);
        assert_eq!(seen.count, (MAX_NAMES + 10) as u64);
    }

    #[test]
    fn non_resource_and_cluster_wide_actions_say_so() {
        let mut e = event("get", "", "", Decision::Allowed, 1);
        e.group.clear();
        e.namespace.clear();
        e.path = "/version".into();
        assert_eq!(Action::of(&e).to_string(), "get /version");
        assert!(Action::of(&e).request().is_none());
        let mut ns = event("list", "namespaces", "", Decision::Allowed, 1);
        ns.group.clear();
        ns.namespace.clear();
        assert_eq!(
            Action::of(&ns).to_string(),
            "list namespaces (cluster-wide)"
        );
    }
}
