//! The control plane's tests, in one test binary: one link instead of one per file. A module
//! per area; `cargo test -p cicd-cluster launcher::` runs one.

mod differential;
mod launcher;
mod tokens;

/// Whether tests of the real control plane run: yes unless CICD_SKIP_REAL=1.
fn real_wanted() -> bool {
    if std::env::var("CICD_SKIP_REAL").is_ok_and(|v| v == "1") {
        eprintln!("CICD_SKIP_REAL=1: skipping a test of the real control plane");
        return false;
    }
    true
}
