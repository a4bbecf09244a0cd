//! Kubernetes' own well-known names that several parts of kubectl-cicd read or write.

/// The type of a Secret the token controller fills with a ServiceAccount token.
pub const SA_TOKEN_TYPE: &str = "kubernetes.io/service-account-token";
/// On a token Secret: the ServiceAccount whose token it holds.
pub const SA_NAME_ANNOTATION: &str = "kubernetes.io/service-account.name";
/// On a token Secret: the day (a date) the API server last saw its token used (1.26+).
pub const LAST_USED_LABEL: &str = "kubernetes.io/legacy-token-last-used";
/// On a token Secret: the day the legacy token cleaner invalidated its unused token (1.29+).
pub const INVALID_SINCE_LABEL: &str = "kubernetes.io/legacy-token-invalid-since";
