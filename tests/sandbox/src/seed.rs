//! What a fresh sandbox holds: the default users, namespaces and RBAC of a small real cluster,
//! plus any objects loaded from `--seed` files.

use serde_json::{Value, json};

use crate::auth::StaticUser;
use crate::objects::{self, Call};
use crate::rbac::UserInfo;
use crate::state::State;
use crate::util::{random_hex, random_uid};

pub const NAMESPACES: &[&str] = &[
    "default",
    "kube-system",
    "kube-public",
    "kube-node-lease",
    "team-a",
    "demo",
];

/// `admin` (system:masters), `alice` (admin of team-a) and `bob` (deployments and services in team-a),
/// each with a fresh random token.
pub fn default_users() -> Vec<StaticUser> {
    let user = |name: &str, groups: &[&str]| StaticUser {
        token: format!("sandbox-{name}-{}", random_hex(16)),
        name: name.to_string(),
        uid: random_uid(),
        groups: groups.iter().map(|g| g.to_string()).collect(),
    };
    vec![
        user("admin", &["system:masters"]),
        user("alice", &["devs"]),
        user("bob", &["devs"]),
    ]
}

fn system_admin() -> UserInfo {
    UserInfo {
        name: "system:admin".into(),
        uid: String::new(),
        groups: vec!["system:masters".into(), "system:authenticated".into()],
    }
}

/// alice as `admin` of team-a, and bob's limited Role there: the grants every test server seeds.
pub fn team_a_rbac() -> Vec<Value> {
    let rbac = "rbac.authorization.k8s.io/v1";
    vec![
        json!({
            "apiVersion": rbac, "kind": "RoleBinding",
            "metadata": {"name": "alice-admin", "namespace": "team-a"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "admin"},
            "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "alice"}],
        }),
        json!({
            "apiVersion": rbac, "kind": "Role",
            "metadata": {"name": "bob-deployer", "namespace": "team-a"},
            "rules": [
                {"apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["get", "list", "watch", "create", "update", "patch", "delete"]},
                {"apiGroups": [""], "resources": ["services"], "verbs": ["get", "list", "watch", "create", "update", "patch", "delete"]},
                {"apiGroups": ["rbac.authorization.k8s.io"], "resources": ["roles", "rolebindings"], "verbs": ["get", "list", "watch", "create", "update", "patch"]},
            ],
        }),
        json!({
            "apiVersion": rbac, "kind": "RoleBinding",
            "metadata": {"name": "bob-deployer", "namespace": "team-a"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "bob-deployer"},
            "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "bob"}],
        }),
    ]
}

/// Creates one object as the cluster administrator, through the same admission path as requests.
pub fn create_as_admin(st: &mut State, mut obj: Value) -> Result<Value, String> {
    let api_version = obj["apiVersion"].as_str().unwrap_or("").to_string();
    let kind = obj["kind"].as_str().unwrap_or("").to_string();
    let t = st
        .registry
        .find_kind(&api_version, &kind)
        .cloned()
        .ok_or_else(|| format!("no resource type serves {kind} in {api_version}"))?;
    let namespace = if t.namespaced {
        let ns = obj["metadata"]["namespace"]
            .as_str()
            .unwrap_or("default")
            .to_string();
        obj["metadata"]["namespace"] = json!(ns);
        ns
    } else {
        String::new()
    };
    let admin = system_admin();
    let call = Call {
        user: &admin,
        t: &t,
        namespace: &namespace,
        field_manager: "cicd-sandbox-seed".into(),
        dry_run: false,
    };
    objects::create(st, &call, obj)
        .map(|(_, stored)| stored)
        .map_err(|e| format!("{kind} {}: {}", obj_name_hint(&e), e.message()))
}

fn obj_name_hint(e: &crate::status::ApiError) -> String {
    e.body["details"]["name"].as_str().unwrap_or("").to_string()
}

/// Namespaces, bootstrap RBAC and the team-a grants.
pub fn seed_defaults(st: &mut State) -> Result<(), String> {
    for ns in NAMESPACES {
        create_as_admin(
            st,
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}),
        )?;
    }
    for obj in crate::bootstrap::default_cluster_roles()
        .into_iter()
        .chain(crate::bootstrap::default_cluster_role_bindings())
        .chain(team_a_rbac())
    {
        create_as_admin(st, obj)?;
    }
    Ok(())
}

/// The objects of every `--seed FILE`, in order (the launchers of both test servers read them).
pub fn read_files(files: &[std::path::PathBuf]) -> Result<Vec<Value>, String> {
    let mut objects = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(file)
            .map_err(|e| format!("cannot read seed file {}: {e}", file.display()))?;
        let docs =
            parse_documents(&text).map_err(|e| format!("seed file {}: {e}", file.display()))?;
        objects.extend(docs);
    }
    Ok(objects)
}

/// Parses multi-document YAML (as `kubectl apply -f` reads it); `List` kinds are unpacked.
pub fn parse_documents(text: &str) -> Result<Vec<Value>, String> {
    // One JSON document (a large `List`, say) is read as JSON: the YAML reader's node budget
    // refuses documents of more than 250,000 nodes.
    let docs: Vec<Value> = match serde_json::from_str::<Value>(text) {
        Ok(doc) => vec![doc],
        Err(_) => {
            serde_saphyr::from_str_multiple(text).map_err(|e| format!("not valid YAML: {e}"))?
        }
    };
    let mut out = Vec::new();
    for doc in docs.into_iter().filter(|d| !d.is_null()) {
        if doc["kind"]
            .as_str()
            .is_some_and(|k| k == "List" || k.ends_with("List"))
            && doc["items"].is_array()
        {
            out.extend(doc["items"].as_array().cloned().unwrap_or_default());
        } else {
            out.push(doc);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::Registry;

    #[test]
    fn defaults_seed_cleanly() {
        let mut st = State::new(Registry::standard(), default_users());
        seed_defaults(&mut st).unwrap();
        let sa = crate::store::type_key("", "serviceaccounts");
        assert!(st.store.get(&sa, "team-a", "default").is_some());
        let roles = crate::store::type_key("rbac.authorization.k8s.io", "clusterroles");
        for name in [
            "cluster-admin",
            "admin",
            "edit",
            "view",
            "system:basic-user",
            "system:discovery",
        ] {
            assert!(st.store.get(&roles, "", name).is_some(), "{name}");
        }
    }

    #[test]
    fn documents_split_and_lists_unpack() {
        let docs = parse_documents("a: 1\n---\nkind: List\nitems:\n- b: 2\n- c: 3\n---\n").unwrap();
        assert_eq!(
            docs,
            vec![json!({"a": 1}), json!({"b": 2}), json!({"c": 3})]
        );
    }
}
