//! What a command has done so far, so that an error part-way through `init`, `rotate` or
//! `delete` says what exists now and how to finish.

use crate::cluster::{Cluster, IdentityLock};
use crate::error::Error;
use crate::ui::{Prompts, Ui};

/// What a command has done so far, so that an error part-way can say what exists now and
/// that running the same command again finishes the job.
#[derive(Debug, Default)]
pub struct Progress {
    namespace: String,
    /// The API server has answered once: a later network failure is likely passing.
    connected: bool,
    /// Something was written or deleted.
    changed: bool,
    /// Objects that exist now (`ServiceAccount ci-cd`), in the order learnt.
    exists: Vec<String>,
    /// Objects this run deleted.
    gone: Vec<String>,
    /// A write whose outcome is unknown (its request failed).
    unsure: Option<String>,
    /// The local side, e.g. "No kubeconfig was written."
    note: Option<String>,
    /// The identity's lock while the run holds it. A signal ends the run by dropping its
    /// future, and the lock's release with it: the command gives it back from here instead,
    /// so that running it again is not refused until the lock expires.
    held_lock: Option<(Cluster, IdentityLock)>,
}

impl Progress {
    /// The run now holds `lock`.
    pub fn hold_lock(&mut self, cluster: &Cluster, lock: &Option<IdentityLock>) {
        self.held_lock = lock.clone().map(|l| (cluster.clone(), l));
    }

    /// The run gave its lock back.
    pub fn lock_released(&mut self) {
        self.held_lock = None;
    }

    /// How a run that reported here ends: a lock it still holds (it was stopped early) is given
    /// back, and an error says what exists now and how to finish.
    pub async fn finish(
        mut self,
        result: Result<(), Error>,
        prompts: Prompts,
    ) -> Result<(), Error> {
        self.release_lock(&Ui::detect(prompts)).await;
        result.map_err(|e| self.explain(e))
    }

    /// Gives back a lock the run still held when it ended early.
    pub async fn release_lock(&mut self, ui: &Ui) {
        if let Some((cluster, lock)) = self.held_lock.take() {
            crate::run_lock::give_back(ui, &cluster, Some(lock)).await;
        }
    }

    pub fn new(namespace: &str) -> Progress {
        Progress {
            namespace: namespace.to_string(),
            ..Progress::default()
        }
    }

    /// The API server answered.
    pub fn connected(&mut self) {
        self.connected = true;
    }

    /// `what` is about to be written or deleted.
    pub fn attempt(&mut self, what: impl Into<String>) {
        self.unsure = Some(what.into());
    }

    /// `what` exists now (read, or written by this run).
    pub fn exists(&mut self, what: impl Into<String>) {
        let what = what.into();
        if self.unsure.as_deref() == Some(what.as_str()) {
            self.unsure = None;
            self.changed = true;
        }
        self.gone.retain(|g| *g != what);
        if !self.exists.contains(&what) {
            self.exists.push(what);
        }
    }

    /// `what` existed before this run (nothing was changed by learning it).
    pub fn existed(&mut self, what: impl Into<String>) {
        let what = what.into();
        if !self.exists.contains(&what) {
            self.exists.push(what);
        }
    }

    /// `what` was deleted (or was already gone).
    pub fn deleted(&mut self, what: impl Into<String>) {
        let what = what.into();
        if self.unsure.as_deref() == Some(what.as_str()) {
            self.unsure = None;
        }
        self.changed = true;
        self.exists.retain(|e| *e != what);
        if !self.gone.contains(&what) {
            self.gone.push(what);
        }
    }

    /// The local side of the state, said after the objects.
    pub fn note(&mut self, text: impl Into<String>) {
        self.note = Some(text.into());
    }

    /// `e`, with what exists now and how to finish when the run stopped part-way (or when a
    /// passing failure stopped it before any change).
    pub fn explain(&self, e: Error) -> Error {
        // A namespace that does not exist holds nothing: the write that found out created nothing.
        if matches!(
            e,
            Error::Partial { .. } | Error::Cancelled | Error::NoNamespace { .. }
        ) {
            return e;
        }
        let passing = e.is_passing(self.connected);
        let interrupted = matches!(e, Error::Interrupted(_));
        let note = self
            .note
            .as_deref()
            .map(|n| format!(" {n}"))
            .unwrap_or_default();
        if !self.changed && self.unsure.is_none() && interrupted {
            return Error::Partial {
                cause: Box::new(e),
                state: format!("Nothing was changed in the cluster.{note}"),
            };
        }
        if !self.changed && self.unsure.is_none() {
            if !passing {
                return e;
            }
            return Error::Partial {
                cause: Box::new(e),
                state: format!(
                    "Nothing was changed in the cluster.{note} This looks like a passing problem of the API server or the network: run the same command again."
                ),
            };
        }
        let mut parts = Vec::new();
        if self.exists.is_empty() {
            parts.push("none of the objects exist now".to_string());
        } else {
            parts.push(format!("these exist now: {}", self.exists.join(", ")));
        }
        if !self.gone.is_empty() {
            parts.push(format!("deleted: {}", self.gone.join(", ")));
        }
        if let Some(u) = &self.unsure {
            parts.push(format!(
                "{u} may or may not have been changed (its request failed)"
            ));
        }
        let hint = if interrupted {
            "Run the same command again to finish the job; it carries on from what exists."
        } else if passing {
            "This looks like a passing problem of the API server or the network: run the same command again to finish the job; it carries on from what exists."
        } else {
            "Fix the cause above, then run the same command again to finish the job; it carries on from what exists."
        };
        Error::Partial {
            cause: Box::new(e),
            state: format!(
                "Stopped part-way. In namespace {}, {}.{note} {hint}",
                self.namespace,
                parts.join("; ")
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api(code: u16) -> Error {
        Error::Api {
            context: "applying Role team-a/ci-cd".into(),
            code,
            reason: "InternalError".into(),
            message: "boom".into(),
        }
    }

    #[test]
    fn nothing_changed_and_a_lasting_error_is_left_alone() {
        let p = Progress::new("team-a");
        let e = p.explain(Error::Usage("bad".into()));
        assert!(matches!(e, Error::Usage(_)));
        let e = p.explain(api(403));
        assert!(matches!(e, Error::Api { .. }));
    }

    #[test]
    fn an_unreadable_answer_is_not_called_passing() {
        let mut p = Progress::new("team-a");
        p.connected();
        let e = p.explain(Error::BadResponse {
            context: "discovering what the cluster serves (GET /apis)".into(),
            message: "expected a discovery document, got kind \"Status\"".into(),
        });
        assert!(matches!(e, Error::BadResponse { .. }), "{e}");
        assert!(!e.to_string().contains("run the same command again"), "{e}");
    }

    #[test]
    fn the_cause_of_a_partial_error_is_its_source() {
        use std::error::Error as _;
        let mut p = Progress::new("team-a");
        p.attempt("Role ci-cd");
        let e = p.explain(api(500));
        let source = e.source().expect("a cause");
        assert_eq!(source.to_string(), "applying Role team-a/ci-cd: boom");
    }

    #[test]
    fn nothing_changed_and_a_passing_error_says_so() {
        let mut p = Progress::new("team-a");
        p.note("No kubeconfig was written.");
        let text = p.explain(api(409)).to_string();
        assert!(
            text.starts_with("applying Role team-a/ci-cd: boom\n"),
            "{text}"
        );
        assert!(text.contains("Nothing was changed in the cluster. No kubeconfig was written. This looks like a passing problem"), "{text}");
        assert_eq!(p.explain(api(500)).exit_code(), 1);
    }

    #[test]
    fn part_way_lists_what_exists_what_went_and_what_is_unsure() {
        let mut p = Progress::new("team-a");
        p.connected();
        p.existed("ServiceAccount ci-cd");
        p.attempt("Role ci-cd");
        p.exists("Role ci-cd");
        p.attempt("RoleBinding ci-cd");
        p.note("No kubeconfig was written.");
        let text = p.explain(api(409)).to_string();
        assert!(
            text.contains("Stopped part-way. In namespace team-a, these exist now: ServiceAccount ci-cd, Role ci-cd; RoleBinding ci-cd may or may not have been changed (its request failed). No kubeconfig was written. This looks like a passing problem"),
            "{text}"
        );

        let mut p = Progress::new("team-a");
        p.existed("RoleBinding ci-cd");
        p.existed("Role ci-cd");
        p.attempt("RoleBinding ci-cd");
        p.deleted("RoleBinding ci-cd");
        let text = p
            .explain(Error::Forbidden {
                message: "no".into(),
                hint: "ask".into(),
            })
            .to_string();
        assert!(
            text.contains("these exist now: Role ci-cd; deleted: RoleBinding ci-cd. Fix the cause above, then run the same command again"),
            "{text}"
        );
    }
}
