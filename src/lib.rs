//! kubectl-cicd: least-privilege CI/CD access to Kubernetes namespaces.
//!
//! Layers, top to bottom (data flows down): the command line (`cli`, `target`), the commands
//! (`init`, `audit`, `lifecycle`, `tighten`, `argocd`) and what they share (`managed`, `names`,
//! `issue`, `progress`, `run_lock`, `preview`, `auditlog`, `role_choice`), the pure RBAC core (`rbac`), cluster access
//! (`cluster`, `kubeconfig`), and the terminal (`ui`, `text`). See docs/architecture.md.

pub mod argocd;
pub mod audit;
pub mod auditlog;
pub mod cli;
pub mod cluster;
pub mod completion;
pub mod error;
pub mod exec_guard;
pub mod init;
pub mod interrupt;
pub mod issue;
pub mod k8s;
pub mod kubeconfig;
pub mod lifecycle;
pub mod managed;
pub mod names;
pub mod preview;
pub mod progress;
pub mod rbac;
pub mod role_choice;
pub mod run_lock;
pub mod target;
pub mod text;
pub mod tighten;
pub mod timestamp;
pub mod ui;
pub mod version;
