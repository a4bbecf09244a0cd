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
    spinner.finish(&format!(
        "Read the audit logs ({:.1} s)",
        started.elapsed().as_secs_f64()
    ));
    let evidence = Evidence {
        subject,
        usage,
        scan,
        elapsed: started.elapsed(),
        sources: sources.to_vec(),
    };
    refuse_empty(&evidence)?;
    Ok(evidence)
}

/// No request of the identity, or none allowed: nothing to build a Role from.
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
    if ev.usage.allowed.is_empty() {
        let tried: Vec<String> = ev
            .usage
            .denied
            .keys()
            .take(5)
            .map(|a| a.to_string())
            .collect();
        let more = ev.usage.denied.len().saturating_sub(5);
        return Err(Error::AuditLog(format!(
            "every one of the {} requests of {} in the audit logs was denied (403), so they show nothing the Role \
             grants being used, and tighten will not take everything away. Denied: {}{}. \
             Check that the pipeline uses this identity's kubeconfig; nothing was changed",
            ev.usage.requests,
            ev.subject,
            tried.join(", "),
            if more > 0 {
                format!(" and {more} more")
            } else {
                String::new()
            }
        )));
    }
    Ok(())
}
