//! Which kinds a Role grants, as `init` and `argocd grant` both choose them: from flags
//! (`--preset`, `--kinds`, `--verbs`, `--read-only-kinds`) resolved against what the cluster
//! serves, or from the wizard ([`wizard`]); then the Role built without wildcards, risky
//! rules refused without `--allow-risky`, and a Role the caller could not grant refused before
//! anything is written, in the API server's own words.

pub mod wizard;

use crate::cli::{PresetName, RoleFlags, Verb};
use crate::error::{Error, Result};
use crate::rbac::kind_names::resolve_grantable_kind;
use crate::rbac::{self, BuiltRole, Risk, Rule, Selection, ServedKind, Skipped};

/// The kinds a Role can grant: namespaced, and creatable (the wizard's list).
pub fn grantable_kinds(served: &[ServedKind]) -> Vec<&ServedKind> {
    served
        .iter()
        .filter(|k| {
            k.namespaced && k.verbs.iter().any(|v| v == "create") && !k.resource.contains('/')
        })
        .collect()
}

/// A preset's selections and the kinds of it the cluster cannot grant.
pub fn preset_selections(
    preset: PresetName,
    served: &[ServedKind],
) -> (Vec<Selection>, Vec<Skipped>) {
    let preset = match preset {
        PresetName::WebApp => rbac::presets::web_app(),
        PresetName::Helm => rbac::presets::helm(),
        PresetName::WelkinDemo => rbac::presets::welkin_demo(),
    };
    let resolution = preset.resolve(served);
    (resolution.selections, resolution.skipped)
}

/// The wizard's list: the kinds a Role can grant, each followed by the subresources of it a
/// deploy needs (`scale` wherever it is served, `status` of the workloads in `apps` and
/// `batch`, read-only).
pub fn wizard_kinds(served: &[ServedKind]) -> Vec<ServedKind> {
    let mut out = Vec::new();
    for kind in grantable_kinds(served) {
        out.push(kind.clone());
        out.extend(kind.subresource("scale"));
        if matches!(kind.group.as_str(), "apps" | "batch") {
            out.extend(kind.subresource("status"));
        }
    }
    out
}

/// One kind name from the command line, resolved to a kind a Role can grant, or to a
/// subresource of one (`deployments.apps/scale`).
pub fn resolve_grantable(name: &str, served: &[ServedKind]) -> Result<ServedKind> {
    resolve_grantable_kind(name, served).map_err(|e| Error::Usage(e.to_string()))
}

/// `--verbs` as RBAC spells them, each once.
fn verb_names(verbs: &[Verb]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for v in verbs.iter().map(|v| v.as_str()) {
        if !out.iter().any(|o| o == v) {
            out.push(v.to_string());
        }
    }
    out
}

/// Puts a selection in, replacing one for the same kind.
fn upsert(selections: &mut Vec<Selection>, sel: Selection) {
    match selections
        .iter_mut()
        .find(|s| s.kind.group == sel.kind.group && s.kind.resource == sel.kind.resource)
    {
        Some(existing) => *existing = sel,
        None => selections.push(sel),
    }
}

/// Kinds from `--preset`, `--kinds` (with `--verbs`) and `--read-only-kinds`, in that order,
/// later ones overriding earlier ones for the same kind.
pub fn kinds_from_flags(
    flags: &RoleFlags,
    served: &[ServedKind],
) -> Result<(Vec<Selection>, Vec<Skipped>)> {
    let (mut selections, skipped) = match flags.preset {
        Some(p) => preset_selections(p, served),
        None => (Vec::new(), Vec::new()),
    };
    let verbs = verb_names(&flags.verbs);
    if !verbs.is_empty() && flags.kinds.is_empty() {
        return Err(Error::Usage(
            "--verbs applies to --kinds: name the kinds too".into(),
        ));
    }
    for name in flags.kinds.iter().filter(|n| !n.trim().is_empty()) {
        let kind = resolve_grantable(name.trim(), served)?;
        let sel = if verbs.is_empty() {
            Selection::new(kind)
        } else {
            Selection {
                kind,
                verbs: Some(verbs.clone()),
            }
        };
        upsert(&mut selections, sel);
    }
    for name in flags
        .read_only_kinds
        .iter()
        .filter(|n| !n.trim().is_empty())
    {
        let kind = resolve_grantable(name.trim(), served)?;
        let verbs = rbac::builder::read_only_verbs(&kind);
        upsert(&mut selections, Selection::with_verbs(kind, verbs));
    }
    Ok((selections, skipped))
}

/// The least-privilege Role for `selections` ([`rbac::build_role`]: no wildcards), with its
/// risky findings; refused when nothing is left to grant, or when a risky permission is
/// asked for without `allow_risky`.
pub fn build_gated_role(
    selections: &[Selection],
    allow_risky: bool,
) -> Result<(BuiltRole, Vec<Risk>)> {
    if selections.is_empty() {
        return Err(Error::Usage(
            "no kinds to grant: choose some with --kinds or --preset".into(),
        ));
    }
    let role = rbac::build_role(selections);
    if role.rules.is_empty() {
        let why: Vec<String> = role.dropped.iter().map(|d| d.to_string()).collect();
        return Err(Error::Usage(format!(
            "nothing left to grant: {}",
            why.join("; ")
        )));
    }
    let risks = rbac::risky_findings(&role.rules);
    rbac::risk::gate(&risks, allow_risky).map_err(|cause| Error::Risky {
        cause,
        risks: risks
            .iter()
            .filter(|r| r.blocks_init())
            .map(|r| format!("  - {r}"))
            .collect::<Vec<_>>()
            .join("\n"),
    })?;
    Ok((role, risks))
}

/// Why the API server would refuse Role `name` with `rules` from a caller holding `held`
/// (RBAC escalation prevention), in its own words; `None` when it would not.
pub fn escalation_problem(
    name: &str,
    rules: &[Rule],
    user: &str,
    groups: &[String],
    held: &[Rule],
) -> Option<String> {
    let missing = rbac::covers(held, rules).err()?;
    let server_words = rbac::not_held_message(user, groups, &missing);
    Some(rbac::forbidden_message(
        "roles.rbac.authorization.k8s.io",
        name,
        &server_words,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rbac::{READ_ONLY_VERBS, STANDARD_VERBS};

    fn served() -> Vec<ServedKind> {
        vec![
            ServedKind::new(
                "apps",
                "v1",
                "deployments",
                "Deployment",
                true,
                STANDARD_VERBS,
            ),
            ServedKind::new("", "v1", "services", "Service", true, STANDARD_VERBS),
            ServedKind::new("", "v1", "secrets", "Secret", true, STANDARD_VERBS),
            ServedKind::new("", "v1", "namespaces", "Namespace", false, STANDARD_VERBS),
        ]
    }

    #[test]
    fn flags_resolve_to_selections_later_ones_winning() {
        let flags = RoleFlags {
            kinds: vec!["Deployment".into(), "services".into()],
            read_only_kinds: vec!["service".into()],
            ..RoleFlags::default()
        };
        let (selections, skipped) = kinds_from_flags(&flags, &served()).unwrap();
        assert!(skipped.is_empty());
        let names: Vec<String> = selections.iter().map(|s| s.kind.group_resource()).collect();
        assert_eq!(names, ["deployments.apps", "services"]);
        assert_eq!(
            selections[1].wanted_verbs(),
            READ_ONLY_VERBS
                .iter()
                .map(|v| v.to_string())
                .collect::<Vec<_>>()
        );
        let only_verbs = RoleFlags {
            verbs: vec![Verb::Get],
            ..RoleFlags::default()
        };
        assert!(kinds_from_flags(&only_verbs, &served()).is_err());
        assert_eq!(grantable_kinds(&served()).len(), 3);
    }

    #[test]
    fn risky_roles_need_allow_risky_and_escalation_is_worded_as_the_server_words_it() {
        let secrets = vec![Selection::new(served()[2].clone())];
        assert!(matches!(
            build_gated_role(&secrets, false),
            Err(Error::Risky { .. })
        ));
        let (role, risks) = build_gated_role(&secrets, true).unwrap();
        assert!(!risks.is_empty());
        let text = escalation_problem("argocd-team-a", &role.rules, "bob", &[], &[]).unwrap();
        assert!(
            text.starts_with(
                "roles.rbac.authorization.k8s.io \"argocd-team-a\" is forbidden: user \"bob\""
            ),
            "{text}"
        );
        let all = vec![Rule::resource(&["*"], &["*"], &["*"])];
        assert_eq!(
            escalation_problem("x", &role.rules, "root", &[], &all),
            None
        );
    }
}
