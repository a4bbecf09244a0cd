//! The pure RBAC core of kubectl-cicd (layer 3 of the house plan).
//!
//! Plain data in, plain data out: no I/O, no async. Everything that must agree
//! with the real API server is written from the Kubernetes sources and cites the
//! file it follows:
//!
//! * request matching: `pkg/apis/rbac/v1/evaluation_helpers.go` and
//!   `plugin/pkg/auth/authorizer/rbac/rbac.go` (`RuleAllows`);
//! * escalation pre-check: `staging/src/k8s.io/component-helpers/auth/rbac/validation/policy_comparator.go`
//!   (`Covers`, `BreakdownRule`), `pkg/registry/rbac/validation/policy_compact.go`
//!   (`CompactRules`), `pkg/registry/rbac/validation/rule.go` (`ConfirmNoEscalation`)
//!   and `pkg/apis/rbac/v1/evaluation_helpers.go` (`CompactString`);
//!   and `staging/src/k8s.io/kubectl/pkg/util/rbac/rbac.go`.
//!
//! Module map (one job each):
//! * [`rule`]: the [`Rule`] type, normalising helpers, k8s-openapi conversions;
//! * [`matching`]: [`Request`] / [`NonResourceRequest`] and what a rule allows;
//! * [`gofmt`]: Go-compatible text (`%q`, `%v`, `CompactString`, gogo `String()`);
//! * [`mod@covers`]: the server's escalation check and its error text;
//! * [`grantable`]: whether a caller may write a Role (escalation and the write's own rights);
//! * [`mod@compact`]: server, kubectl and semantics-preserving compaction;
//! * [`kinds`]: [`ServedKind`], the discovery view of a namespaced resource;
//! * [`presets`]: named sets of wanted kinds and their resolution;
//! * [`builder`]: the least-privilege Role builder;
//! * [`least`]: the least Role that allows a set of logged requests (`tighten`);
//! * [`risk`]: the risk catalogue and the `init` gate;
//! * [`mod@verify`]: checking a new identity's SelfSubjectRulesReview;

pub mod builder;
pub mod compact;
pub mod covers;
pub mod error;
pub mod gofmt;
pub mod grantable;
pub mod kind_names;
pub mod kinds;
pub mod least;
pub mod matching;
pub mod presets;
#[cfg(test)]
mod properties;
pub mod risk;
pub mod rule;
pub mod verify;

pub use builder::{BuiltRole, DropReason, Dropped, Selection, build_role};
pub use compact::{compact, kubectl_compact, server_compact};
pub use covers::{breakdown, covers, forbidden_message, not_held_message, uncovered};
pub use error::RbacError;
pub use gofmt::compact_string;
pub use grantable::{Writer, grant_problems};
pub use kinds::ServedKind;
pub use least::{LeastRole, least_role, request_rule};
pub use matching::{NonResourceRequest, Request, rules_allow, rules_allow_path};
pub use presets::{Preset, Resolution, Skipped, Want};
pub use risk::{Risk, RiskCategory, gate, risky_findings};
pub use rule::Rule;
pub use verify::{CheckRow, Verification, verify};

/// The eight verbs a fully served resource lists in discovery, in kubectl's order.
pub const STANDARD_VERBS: &[&str] = &[
    "get",
    "list",
    "watch",
    "create",
    "update",
    "patch",
    "delete",
    "deletecollection",
];

/// Verbs a CI/CD robot gets on a kind by default.
pub const READ_WRITE_VERBS: &[&str] = &[
    "get", "list", "watch", "create", "update", "patch", "delete",
];

/// Verbs for kinds that are only read.
pub const READ_ONLY_VERBS: &[&str] = &["get", "list", "watch"];

/// The RBAC API group.
pub const RBAC_GROUP: &str = "rbac.authorization.k8s.io";
