//! From flags to [`Choices`]: kind names resolved through discovery as kubectl resolves them,
//! presets resolved against what the cluster serves, defaults filled in.

use std::path::PathBuf;

use crate::cli::{InitFlags, PresetName, TokenKind, Verb};
use crate::error::{Error, Result};
use crate::rbac::kind_names::resolve_kind;
use crate::rbac::{self, READ_ONLY_VERBS, Selection, ServedKind, Skipped};

use super::plan::{Choices, DEFAULT_NAME, TokenPlan};
use crate::issue::token::{DEFAULT_REQUEST_DURATION, check_token_flags};
use crate::issue::write::DEFAULT_OUTPUT;

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

/// One kind name from the command line, resolved to a kind a Role can grant.
pub fn resolve_grantable(name: &str, served: &[ServedKind]) -> Result<ServedKind> {
    resolve_kind(name, served)
        .cloned()
        .map_err(|e| Error::Usage(e.to_string()))
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
    flags: &InitFlags,
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
        upsert(
            &mut selections,
            Selection::with_verbs(kind, READ_ONLY_VERBS),
        );
    }
    Ok((selections, skipped))
}

pub fn token_from_flags(flags: &InitFlags) -> Result<TokenPlan> {
    check_token_flags(flags.token, flags.token_duration)?;
    match flags.token {
        Some(TokenKind::Request) => Ok(TokenPlan::Request {
            duration: flags.token_duration.unwrap_or(DEFAULT_REQUEST_DURATION),
        }),
        None if flags.token_duration.is_some() => Err(Error::Usage(
            "--token-duration needs --token request".into(),
        )),
        Some(TokenKind::Secret) | None => Ok(TokenPlan::Secret),
    }
}

/// The non-interactive path: every answer from a flag or a default.
pub fn from_flags(flags: &InitFlags, served: &[ServedKind]) -> Result<Choices> {
    let token = token_from_flags(flags)?;
    let (selections, skipped) = kinds_from_flags(flags, served)?;
    if selections.is_empty() && skipped.is_empty() {
        return Err(Error::MissingAnswer {
            what: "which kinds the pipeline may change".into(),
            flag: "--preset web-app|helm|welkin-demo or --kinds LIST".into(),
        });
    }
    Ok(Choices {
        name: flags
            .name
            .clone()
            .unwrap_or_else(|| DEFAULT_NAME.to_string()),
        selections,
        skipped,
        token,
        output: flags
            .output
            .clone()
            .unwrap_or_else(|| PathBuf::from(DEFAULT_OUTPUT)),
        overwrite: flags.force,
        allow_risky: flags.allow_risky,
        server: flags.server.clone(),
    })
}
