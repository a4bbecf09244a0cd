//! What the real token controller does with legacy token Secrets, as kubectl-cicd relies on it.

use std::time::{Duration, Instant};

use cicd_cluster::{Cluster, Options};
use serde_json::json;

fn token_of(cluster: &Cluster, namespace: &str, secret: &str) -> String {
    let path = format!("/api/v1/namespaces/{namespace}/secrets/{secret}");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(token) = cluster
            .get_json(&path)
            .and_then(|s| s["data"]["token"].as_str().map(String::from))
        {
            return token;
        }
        assert!(Instant::now() < deadline, "{secret} was never filled");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn delete(cluster: &Cluster, path: &str) {
    let req = http::Request::delete(path).body(Vec::new()).unwrap();
    cluster
        .block_on(cluster.admin_client().request_text(req))
        .expect("deleted");
}

/// Legacy tokens carry no issue time or random id, and the ServiceAccount key is RSA
/// (deterministic signatures): a token Secret deleted and made again under the same name, for
/// the same ServiceAccount, gets the very same token. Revoking a leaked token therefore needs a
/// Secret of another name (or a new ServiceAccount), never the same one again.
#[test]
fn a_token_secret_made_again_under_its_old_name_revives_the_old_token() {
    if !crate::real_wanted() {
        return;
    }
    let cluster = Cluster::start(Options::default()).expect("the real control plane starts");
    let secret = |name: &str| {
        json!({"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/service-account-token",
               "metadata": {"name": name, "namespace": "team-a",
                            "annotations": {"kubernetes.io/service-account.name": "robot"}}})
    };
    cluster
        .seed(vec![
            json!({"apiVersion": "v1", "kind": "ServiceAccount",
                   "metadata": {"name": "robot", "namespace": "team-a"}}),
            secret("robot-token"),
        ])
        .unwrap();
    let first = token_of(&cluster, "team-a", "robot-token");

    delete(&cluster, "/api/v1/namespaces/team-a/secrets/robot-token");
    cluster.seed(vec![secret("robot-token")]).unwrap();
    let again = token_of(&cluster, "team-a", "robot-token");
    assert_eq!(first, again, "the same name brings the same token back");

    cluster.seed(vec![secret("robot-token-x7k2p")]).unwrap();
    let renamed = token_of(&cluster, "team-a", "robot-token-x7k2p");
    assert_ne!(first, renamed, "another name gives another token");
}
