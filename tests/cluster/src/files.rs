//! What the control plane reads at start: certificates and keys (made by the Go binary's
//! `pki` part), the static token users, the audit policy, and the controller manager's
//! kubeconfig.

use std::collections::BTreeMap;
use std::path::Path;

/// The static bearer-token users: name and groups. `admin` is a superuser through
/// `system:masters`; alice and bob start with no rights beyond the bootstrap discovery roles
/// until the launcher binds them in `team-a`.
pub const USERS: &[(&str, &str)] = &[
    ("admin", "system:masters"),
    ("alice", "devs"),
    ("bob", "devs"),
    // Authenticated, and granted nothing: the tests' "may list nothing" identity.
    ("carol", ""),
];

/// The launcher's own identity, for seeding, waiting and reading back (a superuser). The audit
/// policy leaves its requests out, so the log holds only what tests and tools sent.
pub const LAUNCHER_USER: &str = "cicd-cluster:launcher";

/// The controller manager's own identity (a superuser, as its controllers need more than the
/// bootstrap `system:kube-controller-manager` role when they all share one client).
pub const CONTROLLER_MANAGER_USER: &str = "cicd-cluster:controller-manager";

/// The audit policy: every request at `Metadata` level (user, verb, request URI, response
/// code, user agent), except health probes and the launcher's own. With `bodies`, Secrets and
/// issued tokens are logged with their bodies, so that a test can see whether a reply carried
/// Secret data and collect every token the server minted for its leak check. The log stays in
/// the cluster's own folder.
pub fn audit_policy(bodies: bool) -> String {
    let mut policy = format!(
        "apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived, ResponseStarted]
rules:
- level: None
  nonResourceURLs: ['/readyz*', '/livez*', '/healthz*']
- level: None
  users: ['{LAUNCHER_USER}']
"
    );
    if bodies {
        policy.push_str(
            "- level: RequestResponse
  resources:
  - group: ''
    resources: [secrets, serviceaccounts/token]
",
        );
    }
    policy.push_str("- level: Metadata\n");
    policy
}

/// Writes tokens.csv (`token,user,uid,\"groups\"`) and returns each user's token.
pub fn write_tokens(dir: &Path) -> Result<BTreeMap<String, String>, String> {
    let mut tokens = BTreeMap::new();
    let mut csv = String::new();
    let users = USERS.iter().copied().chain([
        (CONTROLLER_MANAGER_USER, "system:masters"),
        (LAUNCHER_USER, "system:masters"),
    ]);
    for (i, (user, groups)) in users.enumerate() {
        let token = random_hex(24)?;
        if groups.is_empty() {
            csv.push_str(&format!("{token},{user},uid-{i}\n"));
        } else {
            csv.push_str(&format!("{token},{user},uid-{i},\"{groups}\"\n"));
        }
        tokens.insert(user.to_string(), token);
    }
    cicd_sandbox::write_private(&dir.join("tokens.csv"), &csv)
        .map_err(|e| format!("cannot write tokens.csv: {e}"))?;
    Ok(tokens)
}

pub fn random_hex(bytes: usize) -> Result<String, String> {
    use ring::rand::SecureRandom;
    let mut buf = vec![0u8; bytes];
    ring::rand::SystemRandom::new()
        .fill(&mut buf)
        .map_err(|_| "the system random source failed".to_string())?;
    Ok(buf.iter().map(|b| format!("{b:02x}")).collect())
}
