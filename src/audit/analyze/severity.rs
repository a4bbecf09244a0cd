//! Every severity decision of the analysis. A finding starts at its rule's severity in the
//! catalogue ([`rules`]); the rules move it only through these functions, so what raises or
//! lowers a finding can be read here and nowhere else.

use super::PeoplePolicy;
use crate::audit::model::Severity;
use crate::audit::rules::{self, PermissionCheck, RuleInfo, lowered, raised};

/// Where every finding starts: the catalogue's severity for its rule.
pub(super) fn base(rule: &RuleInfo) -> Severity {
    rule.severity
}

/// A permission rule's finding. One level up when a grant behind it is `wide` (it applies in
/// every namespace or in a privileged one such as kube-system) and the rule is about
/// namespaced resources ([`PermissionCheck::raise_when_wide`]): the same right there reaches
/// every tenant or the cluster's own components; rules about cluster-scoped kinds are
/// cluster-wide by nature. Then one level down when every grant is limited by
/// `resourceNames` (`named`): only the named objects are reachable, not the whole kind.
pub(super) fn permission(check: &PermissionCheck, wide: bool, named: bool) -> Severity {
    let mut severity = base(check.rule);
    if check.raise_when_wide && wide {
        severity = raised(severity);
    }
    if named {
        severity = lowered(severity);
    }
    severity
}

/// `workload-create`, after [`permission`]: one level down when no other ServiceAccount of
/// the namespaces it reaches is bound to a role (`alone`): its pods can then run only with
/// rights it holds itself, and what remains is that they may mount the namespace's Secrets,
/// which is what a deploy pipeline is there to do.
pub(super) fn workload_create(severity: Severity, alone: bool) -> Severity {
    if alone { lowered(severity) } else { severity }
}

/// `long-lived-token`: one level down for a token Secret kubectl-cicd made and rotation
/// keeps younger than [`super::Options::token_rotation_days`] (`rotated`): it never expires,
/// but a leaked copy stops working at the next rotation, and deleting the Secret revokes it at
/// once, which a TokenRequest token cannot offer.
pub(super) fn long_lived_token(rotated: bool) -> Severity {
    let severity = base(rules::LONG_LIVED_TOKEN);
    if rotated { lowered(severity) } else { severity }
}

/// `wildcard`: one level up when a grant behind it is wide, as for the permission rules: a
/// `*` there covers every namespace's (or kube-system's) objects.
pub(super) fn wildcard(wide: bool) -> Severity {
    let severity = base(rules::WILDCARD);
    if wide { raised(severity) } else { severity }
}

/// `broad-group-binding`: one level down when every group bound is
/// `system:serviceaccounts:<ns>` by a RoleBinding of that same namespace
/// (`own_namespace_only`): it reaches only ServiceAccounts that already live there.
pub(super) fn broad_group(own_namespace_only: bool) -> Severity {
    let severity = base(rules::BROAD_GROUP_BINDING);
    if own_namespace_only {
        lowered(severity)
    } else {
        severity
    }
}

/// A finding about what a subject's grants allow, as rated for its kind of subject: a
/// person's (`person`) is `info` under [`PeoplePolicy::Info`], the default, because the audit
/// is about robots and a namespace's human admins would otherwise drown them.
pub(super) fn for_subject(severity: Severity, person: bool, people: PeoplePolicy) -> Severity {
    if person && people == PeoplePolicy::Info {
        Severity::Info
    } else {
        severity
    }
}
