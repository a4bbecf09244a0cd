//! The core's error type.

use thiserror::Error;

/// What can go wrong in the pure core. Each message says what to do next.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum RbacError {
    /// The Role would grant risky permissions and `--allow-risky` was not given.
    #[error(
        "the Role would grant risky permissions ({}); review them and pass --allow-risky to grant them anyway",
        categories.join(", ")
    )]
    RiskyRules {
        /// Risk category ids, in order of first appearance.
        categories: Vec<String>,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_say_what_to_do() {
        let e = RbacError::RiskyRules {
            categories: vec!["secrets".into(), "pod-exec".into()],
        };
        assert_eq!(
            e.to_string(),
            "the Role would grant risky permissions (secrets, pod-exec); review them and pass --allow-risky to grant them anyway"
        );
    }
}
