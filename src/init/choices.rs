//! From flags to [`Choices`]: the kinds through the shared [`crate::role_choice`] (kind names
//! resolved through discovery as kubectl resolves them, presets resolved against what the
//! cluster serves), the token and output choices with their defaults filled in.

use std::path::PathBuf;

use crate::cli::{InitFlags, TokenKind};
use crate::error::{Error, Result};
use crate::rbac::ServedKind;
use crate::role_choice::kinds_from_flags;

use super::plan::{Choices, DEFAULT_NAME, TokenPlan};
use crate::issue::token::{DEFAULT_REQUEST_DURATION, check_token_flags};
use crate::issue::write::DEFAULT_OUTPUT;

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
    let (selections, skipped) = kinds_from_flags(&flags.role, served)?;
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
        allow_risky: flags.role.allow_risky,
        server: flags.server.clone(),
    })
}
