//! The plugin's integration tests, in one test binary: one link of the crate, kube, rustls and
//! the sandbox instead of one per file, and one real control plane for every test that needs
//! it. A module per area; `cargo test --workspace audit::` runs one of them.
//!
//! The tests share this process: none of them changes process-wide state (environment
//! variables, the working directory, the umask, signal handlers). Whatever a child needs is
//! set on its `Command`.

#[macro_use]
mod common;

mod argocd;
mod audit;
mod audit_sources;
mod bad_input;
mod cluster;
mod faults;
mod habits;
mod init;
mod krew;
mod kubeconfig_source;
mod kubectl;
mod lifecycle;
mod packaging;
mod robust;
mod screen;
mod tighten;
mod trust;
mod wizard;
