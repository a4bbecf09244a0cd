//! Names the API server will take: identity (ServiceAccount, Role, RoleBinding) names and
//! namespaces, checked before anything is sent so a typo is a usage error, not a 422.

use crate::error::{Error, Result};

fn is_dns_label(s: &str, max: usize) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= max
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
        && b[0] != b'-'
        && b[b.len() - 1] != b'-'
}

/// The ServiceAccount name rules (DNS-1123 subdomain); the Role, RoleBinding and
/// `<name>-token` Secret names then fit theirs too.
pub fn validate_name(name: &str) -> Result<()> {
    match name_problem(name) {
        None => Ok(()),
        Some(problem) => Err(Error::Usage(format!("invalid name {name:?}: {problem}"))),
    }
}

/// An identity name from the command line (`--name`, `--sa`, `rotate NAME`), for clap: a bad
/// one is a usage error before anything runs.
pub fn parse_name(name: &str) -> std::result::Result<String, String> {
    match name_problem(name) {
        None => Ok(name.to_string()),
        Some(problem) => Err(problem),
    }
}

fn name_problem(name: &str) -> Option<String> {
    // The name is also the value of the kubectl-cicd.io/identity label: at most 63 characters.
    if name.len() <= MAX_NAME_LEN && name.split('.').all(|p| is_dns_label(p, 63)) {
        return None;
    }
    let slash = if name.contains('/') || name.contains('%') {
        " ('/' and '%' are not allowed in Role and RoleBinding names either: they are path segments)"
    } else {
        ""
    };
    Some(format!(
        "a ServiceAccount name must be lower-case letters, digits, '-' or '.', start and end with a letter or digit, \
         and be at most {MAX_NAME_LEN} characters, as it is also a label value (e.g. ci-cd, github-deployer){slash}"
    ))
}

/// The longest identity name: a label value's limit.
pub const MAX_NAME_LEN: usize = 63;

/// Refuses a namespace name the API server would refuse (a DNS-1123 label).
pub fn validate_namespace(namespace: &str) -> Result<()> {
    if is_dns_label(namespace, 63) {
        Ok(())
    } else {
        Err(Error::Usage(format!(
            "invalid namespace {namespace:?}: a namespace name is at most 63 lower-case letters, digits or '-', \
             starting and ending with a letter or digit"
        )))
    }
}
