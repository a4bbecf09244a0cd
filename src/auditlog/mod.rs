//! The API server's audit log as evidence of what identities did: audit.k8s.io/v1 Events, one
//! JSON object a line, as kube-apiserver writes them with `--audit-log-path` (and as managed
//! services and log shippers export them, with a wrapper around each), read as a stream from
//! plain or gzip files or stdin ([`read`]), each line turned into the few [`event`] fields
//! that matter, and what one identity did gathered as [`usage`], from which [`role`] builds the
//! least Role it needs. Memory stays flat in the size of the log: one entry per distinct
//! action, not per request.
//!
//! `tighten` reads it for one identity; `audit --audit-log` for every ServiceAccount
//! ([`service_accounts`]).

pub mod event;
pub mod read;
pub mod role;
pub mod time;
pub mod usage;

pub use event::{Decision, Event};
pub use read::{FileStats, Gap, Scan, Source, scan};
pub use usage::{Action, Seen, Usage, Usages};

/// The username a ServiceAccount's requests carry.
pub fn service_account_user(namespace: &str, name: &str) -> String {
    format!("{SERVICE_ACCOUNT_PREFIX}{namespace}:{name}")
}

/// What every ServiceAccount's username starts with.
pub const SERVICE_ACCOUNT_PREFIX: &str = "system:serviceaccount:";

/// Reads `sources` for the completed requests of every ServiceAccount (a blocking read).
pub fn service_accounts(sources: &[Source]) -> crate::error::Result<Usages> {
    let mut by_user: std::collections::BTreeMap<String, Usage> = Default::default();
    let scan = scan(sources, SERVICE_ACCOUNT_PREFIX, &mut |e| {
        if !e.user.starts_with(SERVICE_ACCOUNT_PREFIX) {
            return false;
        }
        if e.completed() {
            by_user.entry(e.user.clone()).or_default().add(e);
        }
        true
    })?;
    Ok(Usages {
        by_user,
        first: scan.first,
        last: scan.last,
        logs: sources.iter().map(Source::label).collect(),
    })
}
