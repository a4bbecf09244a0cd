//! The interactive path: the same [`Choices`] as the flags give, asked for one by one (the
//! kinds through the shared [`crate::role_choice::wizard`]). Flags given on the command line
//! become the defaults.

use std::path::PathBuf;

use crate::cli::InitFlags;
use crate::cluster::ServedKind;
use crate::error::{Error, Result};
use crate::rbac::Rule;
use crate::role_choice;
use crate::ui::Ui;

use super::choices;
use super::plan::{Choices, DEFAULT_NAME, TokenPlan};
use crate::issue::token::DEFAULT_REQUEST_DURATION;
use crate::issue::write::DEFAULT_OUTPUT;
use crate::names::validate_name;

/// `sources`: the kubeconfig files the run reads, which the output must not be.
pub fn ask(
    ui: &Ui,
    flags: &InitFlags,
    served: &[ServedKind],
    held: &[Rule],
    sources: &[PathBuf],
) -> Result<Choices> {
    let name = ui.input(
        "Name for the ServiceAccount, Role and RoleBinding",
        flags.name.as_deref().unwrap_or(DEFAULT_NAME),
        |s: &String| validate_name(s).map_err(|e| e.to_string()),
    )?;
    let picked = role_choice::wizard::ask_kinds(ui, &flags.role, served, held, "the pipeline")?;
    let token = ask_token(ui, flags, held)?;
    let (output, overwrite) = ask_output(ui, flags, sources)?;
    Ok(Choices {
        name,
        selections: picked.selections,
        skipped: picked.skipped,
        token,
        output,
        overwrite,
        allow_risky: picked.allow_risky,
        server: flags.server.clone(),
    })
}

/// A Secret token or a TokenRequest one; only the way the caller may use is offered (init
/// checked before the first question that one of them is possible).
fn ask_token(ui: &Ui, flags: &InitFlags, held: &[Rule]) -> Result<TokenPlan> {
    let from_flags = choices::token_from_flags(flags)?;
    let (secret, request) = super::plan::token_ways(held);
    let items = vec![
        "secret   a long-lived token in a Secret; revoke it by deleting the Secret".to_string(),
        "request  a TokenRequest token that expires after a time you choose".to_string(),
    ];
    let default = matches!(from_flags, TokenPlan::Request { .. }) as usize;
    let secret_token = match (secret, request) {
        (true, false) => {
            ui.say(
                "The pipeline's token: a long-lived token in a Secret (you may not create \
                 serviceaccounts/token, which a TokenRequest token needs).",
            );
            true
        }
        (false, true) => {
            ui.say(
                "The pipeline's token: a TokenRequest token (you may not create Secrets, which a \
                 token Secret needs).",
            );
            false
        }
        _ => ui.select("How should the pipeline's token be made?", &items, default)? == 0,
    };
    if secret_token {
        return Ok(TokenPlan::Secret);
    }
    let default = match from_flags {
        TokenPlan::Request { duration } => duration,
        TokenPlan::Secret => DEFAULT_REQUEST_DURATION,
    };
    let text = ui.input(
        "Token lifetime (e.g. 720h; the server may shorten it)",
        &format!("{}h", default.as_secs() / 3600),
        |s: &String| crate::cli::parse_go_duration(s).map(|_| ()),
    )?;
    let duration = crate::cli::parse_go_duration(&text).map_err(Error::Usage)?;
    Ok(TokenPlan::Request { duration })
}

/// Where to write the kubeconfig; a path init could not write at the end (a source
/// kubeconfig, a device, a missing folder) is explained and asked again.
fn ask_output(ui: &Ui, flags: &InitFlags, sources: &[PathBuf]) -> Result<(PathBuf, bool)> {
    let mut default = flags
        .output
        .clone()
        .unwrap_or_else(|| PathBuf::from(DEFAULT_OUTPUT));
    loop {
        let path = PathBuf::from(ui.input(
            "Write the pipeline's kubeconfig to",
            &default.to_string_lossy(),
            |s: &String| {
                if s.trim().is_empty() {
                    Err("a path is needed".into())
                } else {
                    Ok(())
                }
            },
        )?);
        let overwrite = if !path.exists() || flags.force {
            flags.force
        } else if ui.confirm(&format!("{} exists. Overwrite it?", path.display()), false)? {
            true
        } else {
            default = path;
            continue;
        };
        match crate::issue::write::check_output(&path, overwrite, sources) {
            Ok(()) => return Ok((path, overwrite)),
            Err(e) => ui.warn(format!("{e}: choose another path")),
        }
    }
}
