//! The audit's scope ([`Scope`]) as the rules ask it: is this namespace, ServiceAccount,
//! subject or binding in it? (What each scope covers is listed in [`super`], under Scope.)

use std::collections::BTreeSet;

use crate::audit::model::{BindingData, Scope, SubjectRef};
use crate::audit::resolve::{self, group_covers_service_account, is_broad_group};

/// What is in the audit's scope, asked for one namespace, identity or binding at a time.
pub(super) struct ScopeFilter<'a> {
    pub(super) all: bool,
    pub(super) namespaces: BTreeSet<&'a str>,
    pub(super) service_account: Option<&'a str>,
}

impl<'a> ScopeFilter<'a> {
    pub(super) fn new(scope: &'a Scope) -> Self {
        ScopeFilter {
            all: scope.all_namespaces,
            namespaces: scope.namespaces.iter().map(String::as_str).collect(),
            service_account: scope.service_account.as_deref(),
        }
    }

    pub(super) fn namespace(&self, ns: &str) -> bool {
        self.all
            || self.namespaces.contains(ns)
            || (self.service_account.is_some() && self.namespaces.is_empty())
    }

    pub(super) fn service_account(&self, ns: &str, name: &str) -> bool {
        self.namespace(ns) && self.service_account.is_none_or(|sa| sa == name)
    }

    pub(super) fn subject(&self, s: &SubjectRef) -> bool {
        match &s.namespace {
            Some(ns) if s.kind == "ServiceAccount" => self.service_account(ns, &s.name),
            _ => false,
        }
    }

    /// True when a binding subject list reaches an identity in scope.
    pub(super) fn binding_reaches(&self, b: &BindingData, cluster: bool) -> bool {
        if self.all && self.service_account.is_none() {
            return true;
        }
        let ns_ok = !cluster
            && b.meta
                .namespace
                .as_deref()
                .is_some_and(|n| self.namespace(n));
        if self.service_account.is_none() && ns_ok {
            return true;
        }
        b.subjects.iter().any(|s| match s.kind.as_str() {
            "ServiceAccount" => s
                .namespace
                .as_deref()
                .is_some_and(|ns| self.service_account(ns, &s.name)),
            "User" => resolve::subject_of("User", &s.name, None).is_some_and(|r| self.subject(&r)),
            "Group" if is_broad_group(&s.name) => {
                if self.service_account.is_some() {
                    // Reaches the audited ServiceAccount?
                    self.all
                        || self.namespaces.is_empty()
                        || self
                            .namespaces
                            .iter()
                            .any(|ns| group_covers_service_account(&s.name, ns))
                } else {
                    s.name
                        .strip_prefix(resolve::NAMESPACE_SERVICE_ACCOUNTS_PREFIX)
                        .is_none_or(|ns| self.namespace(ns))
                }
            }
            _ => false,
        })
    }
}
