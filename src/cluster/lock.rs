//! One command at a time per identity: a Lease `kubectl-cicd.<name>` in the identity's
//! namespace, taken with a create (the API server lets exactly one of two concurrent creates
//! succeed) and deleted when the command ends. Two `rotate` runs at once would otherwise both
//! write a kubeconfig while each revokes the other's token.
//!
//! A run that was killed leaves its Lease behind; it counts as held for [`LOCK_DURATION`] after
//! its `renewTime`, then the next run takes it over with an update that carries the Lease's
//! resourceVersion (of two runs taking over at once, one gets 409). A run checks
//! [`IdentityLock::check_held`] before each step that others must not overlap with, so it
//! stops rather than carry on past its own lease.

use std::collections::BTreeMap;
use std::time::Duration;

use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};
use kube::api::{Api, DeleteParams, PostParams, Preconditions};

use super::Cluster;
use crate::error::{Error, Result};

/// How long a lock counts as held without its holder: longer than any healthy run (the token
/// controller wait is at most a minute), short enough that a killed run blocks no one for long.
pub const LOCK_DURATION: Duration = Duration::from_secs(600);
/// A run stops this long before its lease runs out, so clock skew between machines cannot
/// let a second run in while it still writes.
const SAFETY_MARGIN: Duration = Duration::from_secs(120);

/// The Lease's name for identity `name`.
pub fn lease_name(name: &str) -> String {
    format!("kubectl-cicd.{name}")
}

/// A held lock; give it back with [`Cluster::unlock_identity`].
#[derive(Clone, Debug)]
pub struct IdentityLock {
    namespace: String,
    lease: String,
    uid: Option<String>,
    taken: tokio::time::Instant,
}

impl IdentityLock {
    /// Fails when the lock may have run out, before a step that must not overlap another run.
    pub fn check_held(&self) -> Result<()> {
        if self.taken.elapsed() + SAFETY_MARGIN < LOCK_DURATION {
            return Ok(());
        }
        Err(Error::Identity(format!(
            "this run took longer than its lock on the identity allows ({} min, Lease {}/{}), so it stopped \
             before changing more: another kubectl cicd run may have started meanwhile. Run the command again",
            (LOCK_DURATION - SAFETY_MARGIN).as_secs() / 60,
            self.namespace,
            self.lease
        )))
    }
}

/// What the caller tells about itself in the Lease (`holderIdentity`).
fn lease(namespace: &str, lease: &str, identity: &str, holder: &str) -> Lease {
    let now = MicroTime(jiff::Timestamp::now());
    Lease {
        metadata: ObjectMeta {
            name: Some(lease.to_string()),
            namespace: Some(namespace.to_string()),
            labels: Some(BTreeMap::from([
                (
                    crate::managed::MANAGED_BY_LABEL.to_string(),
                    crate::managed::MANAGED_BY.to_string(),
                ),
                (
                    crate::managed::IDENTITY_LABEL.to_string(),
                    identity.to_string(),
                ),
            ])),
            ..Default::default()
        },
        spec: Some(LeaseSpec {
            holder_identity: Some(holder.to_string()),
            lease_duration_seconds: Some(LOCK_DURATION.as_secs() as i32),
            acquire_time: Some(now.clone()),
            renew_time: Some(now),
            ..Default::default()
        }),
    }
}

/// When an existing Lease stops counting as held.
fn expires_at(existing: &Lease) -> Option<jiff::Timestamp> {
    let spec = existing.spec.as_ref()?;
    let since = spec.renew_time.as_ref().or(spec.acquire_time.as_ref())?.0;
    let seconds = i64::from(spec.lease_duration_seconds.unwrap_or(0).max(0));
    since
        .checked_add(jiff::SignedDuration::from_secs(seconds))
        .ok()
}

fn api_code(e: &kube::Error) -> Option<u16> {
    match e {
        kube::Error::Api(s) => Some(s.code),
        _ => None,
    }
}

impl Cluster {
    /// Takes the lock of identity `ns/name` for `holder` (who and which process). `Ok(None)`
    /// when the caller may not create Leases in the namespace: the run goes on unlocked and
    /// the caller says so. Another run's live lock is an error naming it and what to do.
    pub async fn lock_identity(
        &self,
        ns: &str,
        name: &str,
        holder: &str,
    ) -> Result<Option<IdentityLock>> {
        let api: Api<Lease> = Api::namespaced(self.client.clone(), ns);
        let lease_name = lease_name(name);
        let wanted = lease(ns, &lease_name, name, holder);
        let params = PostParams {
            field_manager: Some(super::FIELD_MANAGER.to_string()),
            ..PostParams::default()
        };
        let taken = tokio::time::Instant::now();
        let what = || format!("taking the lock of identity {name} (Lease {ns}/{lease_name})");
        let existing = match api.create(&params, &wanted).await {
            Ok(created) => {
                return Ok(Some(IdentityLock {
                    namespace: ns.to_string(),
                    lease: lease_name,
                    uid: created.metadata.uid,
                    taken,
                }));
            }
            Err(e) if api_code(&e) == Some(403) => return Ok(None),
            Err(e) if api_code(&e) == Some(409) => match api.get(&lease_name).await {
                Ok(existing) => existing,
                Err(e) => return Err(self.err(e, what)),
            },
            Err(e) => return Err(self.err(e, what)),
        };
        let held_by = existing
            .spec
            .as_ref()
            .and_then(|s| s.holder_identity.clone())
            .unwrap_or_else(|| "someone".into());
        let until = expires_at(&existing);
        if until.is_some_and(|t| t > jiff::Timestamp::now()) || until.is_none() {
            return Err(busy(ns, name, &lease_name, &held_by, until));
        }
        // Left behind by a run that ended without giving it back: take it over, only if it is
        // still the Lease just read (resourceVersion), so of two runs doing this one wins.
        let mut takeover = wanted;
        takeover.metadata.resource_version = existing.metadata.resource_version.clone();
        match api.replace(&lease_name, &params, &takeover).await {
            Ok(replaced) => Ok(Some(IdentityLock {
                namespace: ns.to_string(),
                lease: lease_name,
                uid: replaced.metadata.uid,
                taken,
            })),
            Err(e) if matches!(api_code(&e), Some(409) | Some(404)) => {
                Err(busy(ns, name, &lease_name, "another run", None))
            }
            Err(e) => Err(self.err(e, what)),
        }
    }

    /// Gives the lock back (deletes the Lease, only if it is still the one taken). Best
    /// effort: a Lease left behind expires by itself; the caller may warn with the error.
    pub async fn unlock_identity(&self, lock: IdentityLock) -> Result<()> {
        let api: Api<Lease> = Api::namespaced(self.client.clone(), &lock.namespace);
        let params = DeleteParams {
            preconditions: lock.uid.as_ref().map(|uid| Preconditions {
                uid: Some(uid.clone()),
                resource_version: None,
            }),
            ..DeleteParams::default()
        };
        match api.delete(&lock.lease, &params).await {
            Ok(_) => Ok(()),
            Err(e) if matches!(api_code(&e), Some(404) | Some(409)) => Ok(()),
            Err(e) => Err(self.err(e, || {
                format!(
                    "giving back the lock (deleting Lease {}/{}); it expires by itself within {} min",
                    lock.namespace,
                    lock.lease,
                    LOCK_DURATION.as_secs() / 60
                )
            })),
        }
    }
}

fn busy(ns: &str, name: &str, lease: &str, holder: &str, until: Option<jiff::Timestamp>) -> Error {
    let expiry = until
        .map(|t| format!("it expires at {}", t.strftime("%Y-%m-%dT%H:%M:%SZ")))
        .unwrap_or_else(|| "it has no expiry".into());
    Error::Identity(format!(
        "another kubectl cicd run is changing identity {name} in namespace {ns} right now \
         (holder: {holder}), so this one changed nothing and wrote no kubeconfig. Wait for it to finish, \
         then run the command again. If no such run is going on (one was killed), the lock is stale: \
         {expiry}, or delete it: kubectl delete lease -n {ns} {lease}"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lease_is_labelled_and_expires_after_its_duration() {
        let l = lease("team-a", &lease_name("ci-cd"), "ci-cd", "alice (pid 1)");
        assert_eq!(l.metadata.name.as_deref(), Some("kubectl-cicd.ci-cd"));
        let labels = l.metadata.labels.as_ref().unwrap();
        assert_eq!(labels["kubectl-cicd.io/identity"], "ci-cd");
        let spec = l.spec.as_ref().unwrap();
        assert_eq!(spec.holder_identity.as_deref(), Some("alice (pid 1)"));
        let since = spec.renew_time.as_ref().unwrap().0;
        assert_eq!(
            expires_at(&l).unwrap().duration_since(since).as_secs(),
            LOCK_DURATION.as_secs() as i64
        );
        let mut no_time = l.clone();
        no_time.spec.as_mut().unwrap().renew_time = None;
        no_time.spec.as_mut().unwrap().acquire_time = None;
        assert_eq!(expires_at(&no_time), None);
    }

    #[test]
    fn the_busy_message_says_who_and_what_to_do() {
        let text = busy(
            "team-a",
            "ci-cd",
            "kubectl-cicd.ci-cd",
            "alice (pid 7)",
            None,
        )
        .to_string();
        assert!(
            text.starts_with("another kubectl cicd run is changing identity ci-cd"),
            "{text}"
        );
        assert!(
            text.contains("kubectl delete lease -n team-a kubectl-cicd.ci-cd"),
            "{text}"
        );
    }
}
