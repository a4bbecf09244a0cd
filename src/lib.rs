//! kubectl-cicd: least-privilege CI/CD access to Kubernetes namespaces.

pub mod cli;
pub mod cluster;
pub mod error;
pub mod init;
pub mod kubeconfig;
pub mod rbac;
pub mod ui;
