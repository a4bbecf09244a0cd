//! A finding before exceptions ([`Draft`]), built in one expression per rule, and the objects
//! a finding involves ([`ObjKey`]), which exceptions and `--ignore` targets name.

use super::severity;
use crate::audit::model::{BindingData, Severity, SubjectRef, TokenSecretData, Via};
use crate::audit::resolve::{Grant, object_label};
use crate::audit::rules::RuleInfo;

/// An object a finding involves (for exceptions and `--ignore` targets).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(super) struct ObjKey {
    pub(super) kind: &'static str,
    pub(super) namespace: Option<String>,
    pub(super) name: String,
}

impl ObjKey {
    pub(super) fn new(kind: &'static str, namespace: Option<&str>, name: &str) -> Self {
        ObjKey {
            kind,
            namespace: namespace.map(str::to_string),
            name: name.to_string(),
        }
    }

    pub(super) fn of_binding(b: &BindingData, cluster: bool) -> Self {
        if cluster {
            ObjKey::new("ClusterRoleBinding", None, &b.meta.name)
        } else {
            ObjKey::new("RoleBinding", b.meta.namespace.as_deref(), &b.meta.name)
        }
    }

    pub(super) fn of_role(g: &Grant<'_>) -> Option<Self> {
        let role = g.role?;
        Some(if g.binding.role_ref.kind == "Role" {
            ObjKey::new("Role", role.meta.namespace.as_deref(), &role.meta.name)
        } else {
            ObjKey::new("ClusterRole", None, &role.meta.name)
        })
    }

    pub(super) fn of_token(t: &TokenSecretData) -> Self {
        ObjKey::new("Secret", t.meta.namespace.as_deref(), &t.meta.name)
    }

    pub(super) fn label(&self) -> String {
        object_label(self.kind, self.namespace.as_deref(), &self.name)
    }
}

/// The objects behind a grant: its binding, then its role if that exists.
pub(super) fn path_of(g: &Grant<'_>) -> Vec<ObjKey> {
    let mut p = vec![ObjKey::of_binding(g.binding, g.cluster_binding)];
    p.extend(ObjKey::of_role(g));
    p
}

/// A finding before exceptions.
pub(super) struct Draft {
    pub(super) rule: &'static RuleInfo,
    pub(super) severity: Severity,
    pub(super) subject: SubjectRef,
    /// The subject's own object (ServiceAccount, binding, Role), if it has one.
    pub(super) own: Option<ObjKey>,
    /// The objects behind each grant (binding, role); the finding is accepted by annotations
    /// when every path carries one (or `own` does).
    pub(super) paths: Vec<Vec<ObjKey>>,
    pub(super) via: Vec<Via>,
    pub(super) evidence: String,
    pub(super) remediation: String,
}

impl Draft {
    /// A finding of `rule` about `subject`, at the rule's base severity, with no objects or
    /// grants behind it yet.
    pub(super) fn new(rule: &'static RuleInfo, subject: SubjectRef) -> Self {
        Draft {
            rule,
            severity: severity::base(rule),
            subject,
            own: None,
            paths: Vec::new(),
            via: Vec::new(),
            evidence: String::new(),
            remediation: String::new(),
        }
    }

    /// The subject's own object.
    pub(super) fn own(mut self, own: Option<ObjKey>) -> Self {
        self.own = own;
        self
    }

    /// A severity decided in the `severity` module.
    pub(super) fn severity(mut self, severity: Severity) -> Self {
        self.severity = severity;
        self
    }

    /// The grants behind the finding: each is shown as a via, and is a path an annotation on
    /// its binding or role accepts the finding through.
    pub(super) fn through(mut self, grants: &[&Grant<'_>]) -> Self {
        for g in grants {
            self.paths.push(path_of(g));
            self.via.push(g.via());
        }
        self
    }

    /// Grants shown as vias only: annotations on them do not accept the finding.
    pub(super) fn via(mut self, via: impl IntoIterator<Item = Via>) -> Self {
        self.via.extend(via);
        self
    }

    /// Objects besides grants that an annotation accepts the finding through (token Secrets).
    pub(super) fn paths(mut self, paths: Vec<Vec<ObjKey>>) -> Self {
        self.paths.extend(paths);
        self
    }

    /// What was found, and how to fix it.
    pub(super) fn says(mut self, evidence: String, remediation: String) -> Self {
        self.evidence = evidence;
        self.remediation = remediation;
        self
    }
}
