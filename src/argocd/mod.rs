//! `kubectl cicd argocd`: a namespace-scoped Argo CD on a compliance-minded platform.
//!
//! * `install` ([`install`]): upstream's `namespace-install.yaml` (or the HA one, or even
//!   `install.yaml`) made compliant for one namespace by a pure transform ([`transform`],
//!   with [`resources`], [`objects`] and [`manifest`]), checked against the platform's
//!   guardrails ([`guardrails`]), reported ([`report`]), and optionally applied ([`apply`]).
//! * `grant` ([`grant`]): least-privilege deploy rights for Argo CD's application controller
//!   in other namespaces, a Role built as `init` builds one ([`crate::role_choice`]).
//!
//! See docs/argocd.md.

pub mod apply;
pub mod grant;
pub mod guardrails;
pub mod install;
pub mod manifest;
pub mod objects;
pub mod report;
pub mod resources;
pub mod source;
pub mod transform;

use crate::cli::{ArgocdCommand, GlobalFlags};
use crate::error::Result;

/// Runs one `argocd` subcommand.
pub async fn run(global: &GlobalFlags, command: &ArgocdCommand) -> Result<()> {
    match command {
        ArgocdCommand::Install(flags) => install::run(global, flags).await,
        ArgocdCommand::Grant(flags) => grant::run(global, flags).await,
    }
}
