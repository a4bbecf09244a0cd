//! Two controllers of kube-controller-manager, in miniature: the token controller fills
//! `kubernetes.io/service-account-token` Secrets some time after they are created, and the
//! namespace controller empties and removes Terminating namespaces.

use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::json;

use crate::state::Shared;
use crate::store::{meta_mut, meta_str, type_key};
use crate::validation::{SA_NAME_ANNOTATION, SA_TOKEN_TYPE, SA_UID_ANNOTATION};

const TICK: Duration = Duration::from_millis(50);

pub async fn run(shared: Arc<Shared>) {
    loop {
        tokio::time::sleep(TICK).await;
        fill_token_secrets(&shared);
        finish_namespace_deletions(&shared);
    }
}

/// Namespaces Terminating for the configured delay lose what they hold, then go themselves.
pub fn finish_namespace_deletions(shared: &Shared) {
    let mut st = shared.lock();
    let delay = st.namespace_deletion_delay;
    let due: Vec<String> = st
        .terminating_since
        .iter()
        .filter(|(_, since)| since.elapsed() >= delay)
        .map(|(ns, _)| ns.clone())
        .collect();
    for ns in due {
        st.terminating_since.remove(&ns);
        st.store.remove_namespace_contents(&ns);
        st.store.remove(&type_key("", "namespaces"), "", &ns);
    }
}

/// One pass: every token Secret old enough and still empty gets its token, or is deleted when
/// its ServiceAccount is gone or has another uid (as the real controller does).
pub fn fill_token_secrets(shared: &Shared) {
    let mut st = shared.lock();
    let delay = st.token_controller_delay;
    let secrets_key = type_key("", "secrets");
    let pending: Vec<serde_json::Value> = st
        .store
        .list(&secrets_key, None)
        .into_iter()
        .filter(|s| s["type"] == SA_TOKEN_TYPE && s["data"]["token"].is_null())
        .filter(|s| {
            st.store
                .created_at(meta_str(s, "uid"))
                .is_none_or(|created| created.elapsed() >= delay)
        })
        .cloned()
        .collect();
    for mut secret in pending {
        let namespace = meta_str(&secret, "namespace").to_string();
        let name = meta_str(&secret, "name").to_string();
        let sa_name = secret["metadata"]["annotations"][SA_NAME_ANNOTATION]
            .as_str()
            .unwrap_or("")
            .to_string();
        let sa = st
            .store
            .get(&type_key("", "serviceaccounts"), &namespace, &sa_name)
            .cloned();
        let wanted_uid = secret["metadata"]["annotations"][SA_UID_ANNOTATION]
            .as_str()
            .unwrap_or("")
            .to_string();
        let Some(sa) = sa.filter(|sa| wanted_uid.is_empty() || meta_str(sa, "uid") == wanted_uid)
        else {
            st.store.remove(&secrets_key, &namespace, &name);
            continue;
        };
        let sa_uid = meta_str(&sa, "uid").to_string();
        let token = shared
            .signer
            .issue_legacy(&namespace, &sa_name, &sa_uid, &name);
        st.minted_tokens.push(token.clone());
        let data = json!({
            "token": B64.encode(&token),
            "ca.crt": B64.encode(&shared.ca_pem),
            "namespace": B64.encode(&namespace),
        });
        let mut merged = secret["data"].clone();
        if !merged.is_object() {
            merged = json!({});
        }
        for (k, v) in data.as_object().expect("object") {
            merged[k] = v.clone();
        }
        secret["data"] = merged;
        let meta = meta_mut(&mut secret);
        let annotations = meta.entry("annotations").or_insert_with(|| json!({}));
        annotations[SA_UID_ANNOTATION] = json!(sa_uid);
        st.store.replace(&secrets_key, &namespace, &name, secret);
    }
}
