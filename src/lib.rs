//! kubectl-cicd: least-privilege CI/CD access to Kubernetes namespaces.

pub mod audit;
pub mod cli;
pub mod cluster;
pub mod completion;
pub mod error;
pub mod exec_guard;
pub mod identity;
pub mod init;
pub mod interrupt;
pub mod kubeconfig;
pub mod lifecycle;
pub mod rbac;
pub mod text;
pub mod ui;
