//! The evidence `tighten` works from: the identity's requests in the audit logs, read once,
//! in a blocking task (a log of gigabytes takes seconds), and refused when it holds nothing
//! to act on: no request of the identity at all, or only denied ones.

use std::time::{Duration, Instant};

use crate::auditlog::time::format;
use crate::auditlog::{self, Scan, Source, Usage};
use crate::error::{Error, Result};
use crate::ui::Ui;

/// What the logs say about one identity.
#[derive(Debug, Clone)]
pub struct Evidence {
    /// `system:serviceaccount:NS:NAME`.
    pub subject: String,
    pub usage: Usage,
    pub scan: Scan,
    pub elapsed: Duration,
    /// The sources, as given.
    pub sources: Vec<Source>,
}

impl Evidence {
    /// `Read 2 files (1.2 GB, 3,456,789 events) in 4.1 s: 1,234 requests of ...`.
    pub fn summary(&self) -> String {
        use super::report::{bytes_words, thousands};
        let files = match self.scan.files.len() {
            1 => "1 file".to_string(),
            n => format!("{n} files"),
        };
        format!(
            "Read {files} ({}, {} events) in {:.1} s: {} requests of {}",
            bytes_words(self.scan.bytes()),
            thousands(self.scan.events()),
            self.elapsed.as_secs_f64(),
            thousands(self.usage.requests),
            self.subject
        )
    }
}

/// Reads `sources` for the requests of ServiceAccount `namespace/name`.
pub async fn read(ui: &Ui, sources: &[Source], namespace: &str, name: &str) -> Result<Evidence> {
    let subject = auditlog::service_account_user(namespace, name);
    let spinner = ui.spinner(&format!(
        "Reading the audit logs for the requests of {subject}"
    ));
    let started = Instant::now();
    let (owned_sources, who) = (sources.to_vec(), subject.clone());
    let read = tokio::task::spawn_blocking(move || {
        let mut usage = Usage::default();
        let scan = auditlog::scan(&owned_sources, &who, &mut |e| {
            if e.user != who {
                return false;
            }
            if e.completed() {
                usage.add(e);
            }
            true
        })?;
        Ok::<_, Error>((usage, scan))
    })
    .await
    .map_err(|e| Error::Internal {
        context: "reading the audit logs".into(),
        message: e.to_string(),
    });
    let (usage, scan) = match read.and_then(|r| r) {
        Ok(done) => done,
        Err(e) => {
            spinner.fail();
            return Err(e);
        }
    };
    let evidence = Evidence {
        subject,
        usage,
        scan,
        elapsed: started.elapsed(),
        sources: sources.to_vec(),
    };
    spinner.finish(&evidence.summary());
    refuse_empty(&evidence)?;
    Ok(evidence)
}

/// No request of the identity, or none allowed that a Role is needed for: nothing to build a
/// Role from.
fn refuse_empty(ev: &Evidence) -> Result<()> {
    let span = match (ev.scan.first, ev.scan.last) {
        (Some(a), Some(b)) => format!(" from {} to {}", format(a), format(b)),
        _ => String::new(),
    };
    let files: Vec<String> = ev.scan.files.iter().map(|f| f.label.clone()).collect();
    if ev.usage.requests == 0 {
        return Err(Error::AuditLog(format!(
            "the audit logs ({}) hold no request of {}: {} events{span}, none of them its. \
             Check the identity's name and namespace (-n), that the logs cover the time its pipeline ran, \
             and that the cluster's audit policy records its requests (level Metadata or above). Nothing was changed",
            files.join(", "),
            ev.subject,
            ev.scan.events()
        )));
    }
    let relevant = ev
        .usage
        .allowed
        .keys()
        .filter(|a| crate::auditlog::role::for_a_role(a).is_some())
        .count();
    if relevant > 0 {
        return Ok(());
    }
    let others = ev.usage.allowed_requests();
    let besides = if others > 0 {
        format!(
            " (besides {others} requests for discovery and self-reviews, which every identity may make)"
        )
    } else {
        String::new()
    };
    if ev.usage.denied.is_empty() {
        return Err(Error::AuditLog(format!(
            "the audit logs ({}) hold no request of {} that its Role is needed for{besides}: they show nothing \
             to keep, and tighten will not take everything away. Check that the logs cover the time its pipeline ran. \
             Nothing was changed",
            files.join(", "),
            ev.subject,
        )));
    }
    let tried: Vec<String> = ev
        .usage
        .denied
        .keys()
        .take(5)
        .map(|a| a.to_string())
        .collect();
    let more = ev.usage.denied.len().saturating_sub(5);
    Err(Error::AuditLog(format!(
        "every request of {} in the audit logs that a Role could grant was denied (403){besides}: they show \
         nothing the Role grants being used, and tighten will not take everything away. Denied: {}{}. \
         Check that the pipeline deploys with this identity's kubeconfig. Nothing was changed",
        ev.subject,
        tried.join(", "),
        if more > 0 {
            format!(" and {more} more")
        } else {
            String::new()
        }
    )))
}
