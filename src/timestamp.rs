//! Times as kubectl-cicd writes them, in annotations and reports: RFC 3339 in UTC to the
//! second, `2026-11-27T10:00:00Z`.

/// `t` as `2026-11-27T10:00:00Z`.
pub fn rfc3339(t: jiff::Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// Now, as [`rfc3339`].
pub fn now() -> String {
    rfc3339(jiff::Timestamp::now())
}
