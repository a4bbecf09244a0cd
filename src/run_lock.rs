//! One run per identity at a time: takes and gives back the identity's Lease
//! ([`crate::cluster::lock`]), telling the user when it cannot.

use crate::cluster::{Cluster, IdentityLock};
use crate::error::Result;
use crate::ui::Ui;

/// Takes the lock of identity `ns/name` for this run (see [`crate::cluster::lock`]). Without
/// the right to create Leases in the namespace the run goes on unlocked, and says so.
pub async fn take(
    ui: &Ui,
    cluster: &Cluster,
    ns: &str,
    name: &str,
    me: &str,
) -> Result<Option<IdentityLock>> {
    let holder = format!("{me}, kubectl-cicd pid {}", std::process::id());
    let lock = cluster.lock_identity(ns, name, &holder).await?;
    if lock.is_none() {
        ui.warn(format!(
            "you may not create Leases (coordination.k8s.io) in namespace {ns}, so identity {name} is not locked \
             while this run changes it: make sure no other kubectl cicd run works on it at the same time"
        ));
    }
    Ok(lock)
}

/// Gives the lock back; a failure only warns (the Lease expires by itself).
pub async fn give_back(ui: &Ui, cluster: &Cluster, lock: Option<IdentityLock>) {
    if let Some(lock) = lock
        && let Err(e) = cluster.unlock_identity(lock).await
    {
        ui.warn(e.to_string());
    }
}

/// Fails when the run's lock may have run out (see [`IdentityLock::check_held`]).
pub fn check_held(lock: &Option<IdentityLock>) -> Result<()> {
    lock.as_ref().map_or(Ok(()), IdentityLock::check_held)
}
