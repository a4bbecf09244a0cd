//! The objects `init` creates, their YAML, and the diff against what already exists.
//!
//! Every object carries `app.kubernetes.io/managed-by: kubectl-cicd` and
//! `kubectl-cicd.io/identity: <name>` so `audit`, `rotate` and `delete` can find it, and
//! annotations saying who created it, when, with which version, and (on the Role) the
//! intended rules, so drift can be told from intent.

use super::plan::{Plan, TokenPlan};
use crate::managed::{self, CREATED_AT, CREATED_BY, INTENDED_RULES, Provenance, TokenRecord};
use crate::preview::yaml;
use k8s_openapi::api::core::v1::{Secret, ServiceAccount};
use k8s_openapi::api::rbac::v1::{PolicyRule, Role, RoleBinding, RoleRef, Subject};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

/// What already exists under the identity's name (a re-run, or a name clash).
#[derive(Debug, Clone, Default)]
pub struct Existing {
    pub service_account: Option<ServiceAccount>,
    pub role: Option<Role>,
    pub role_binding: Option<RoleBinding>,
    /// The token Secret the ServiceAccount records, while it exists (metadata only).
    pub token_secret: Option<ObjectMeta>,
}

impl Existing {
    /// What the existing ServiceAccount records about the token.
    pub fn token_record(&self) -> TokenRecord {
        self.service_account
            .as_ref()
            .map(|sa| TokenRecord::from_meta(&sa.metadata))
            .unwrap_or_default()
    }

    /// Who created the identity and when, from the first object that records it.
    pub fn provenance(&self) -> Option<Provenance> {
        [
            &self.role.as_ref().map(|r| &r.metadata),
            &self.service_account.as_ref().map(|s| &s.metadata),
        ]
        .into_iter()
        .flatten()
        .find_map(|meta| {
            let a = meta.annotations.as_ref()?;
            Some(Provenance {
                created_by: a.get(CREATED_BY)?.clone(),
                created_at: a.get(CREATED_AT)?.clone(),
            })
        })
    }
}

/// The objects of one CI/CD identity.
#[derive(Debug, Clone, PartialEq)]
pub struct Desired {
    pub service_account: ServiceAccount,
    pub role: Role,
    pub role_binding: RoleBinding,
    /// The token Secret, with `--token secret`.
    pub token_secret: Option<Secret>,
}

fn metadata(
    plan: &Plan,
    name: &str,
    provenance: &Provenance,
    extra: &[(&str, String)],
) -> ObjectMeta {
    managed::metadata(&plan.namespace, plan.name(), name, provenance, extra)
}

/// The objects for `plan`. `token` is what the ServiceAccount records about the token (its
/// kind must match the plan's); with `--token secret` it also names the token Secret.
pub fn desired(plan: &Plan, provenance: &Provenance, token: &TokenRecord) -> Desired {
    let name = plan.name();
    let service_account = ServiceAccount {
        metadata: metadata(plan, name, provenance, &token.annotations()),
        ..Default::default()
    };
    let rules: Vec<PolicyRule> = plan
        .role
        .rules
        .iter()
        .cloned()
        .map(PolicyRule::from)
        .collect();
    let intended = serde_json::to_string(&plan.role.rules).expect("rules serialize");
    let role = Role {
        metadata: metadata(plan, name, provenance, &[(INTENDED_RULES, intended)]),
        rules: Some(rules),
    };
    let role_binding = RoleBinding {
        metadata: metadata(plan, name, provenance, &[]),
        role_ref: RoleRef {
            api_group: "rbac.authorization.k8s.io".into(),
            kind: "Role".into(),
            name: name.to_string(),
        },
        subjects: Some(vec![Subject {
            kind: "ServiceAccount".into(),
            name: name.to_string(),
            namespace: Some(plan.namespace.clone()),
            api_group: None,
        }]),
    };
    let secret_name = token
        .secret_name
        .clone()
        .unwrap_or_else(|| plan.fresh_token_secret_name());
    let token_secret = (plan.choices.token == TokenPlan::Secret)
        .then(|| managed::token_secret(&plan.namespace, name, &secret_name, provenance));
    Desired {
        service_account,
        role,
        role_binding,
        token_secret,
    }
}

/// The objects as a multi-document YAML stream that `kubectl apply -f -` takes.
pub fn yaml_stream(d: &Desired) -> String {
    let mut docs = vec![
        yaml(&d.service_account),
        yaml(&d.role),
        yaml(&d.role_binding),
    ];
    if let Some(s) = &d.token_secret {
        docs.push(yaml(s));
    }
    docs.iter().map(|doc| format!("---\n{doc}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::init::plan::Choices;
    use crate::issue::write::DEFAULT_OUTPUT;
    use crate::k8s::SA_TOKEN_TYPE;
    use crate::managed::{
        IDENTITY_LABEL, MANAGED_BY_LABEL, TOKEN_EXPIRES_AT, TOKEN_KIND, TOKEN_SECRET,
    };
    use crate::rbac::{Selection, ServedKind};
    use serde_json::Value;
    use std::collections::BTreeMap;

    fn plan(token: TokenPlan) -> Plan {
        let deploy = ServedKind::new(
            "apps",
            "v1",
            "deployments",
            "Deployment",
            true,
            &[
                "create", "get", "list", "patch", "update", "delete", "watch",
            ],
        );
        Plan::new(
            "team-a",
            Choices {
                name: "ci-cd".into(),
                selections: vec![Selection::new(deploy)],
                skipped: vec![],
                token,
                output: DEFAULT_OUTPUT.into(),
                overwrite: false,
                allow_risky: false,
                server: None,
            },
        )
        .unwrap()
    }

    fn provenance() -> Provenance {
        Provenance {
            created_by: "alice".into(),
            created_at: "2026-11-27T10:00:00Z".into(),
        }
    }

    #[test]
    fn objects_are_labelled_annotated_and_bound_together() {
        let d = desired(
            &plan(TokenPlan::Secret),
            &provenance(),
            &TokenRecord::secret("ci-cd-token"),
        );
        let labels = d.role.metadata.labels.as_ref().unwrap();
        assert_eq!(labels[MANAGED_BY_LABEL], "kubectl-cicd");
        assert_eq!(labels[IDENTITY_LABEL], "ci-cd");
        let annotations = d.role.metadata.annotations.as_ref().unwrap();
        assert_eq!(annotations[CREATED_BY], "alice");
        let intended: Vec<crate::rbac::Rule> =
            serde_json::from_str(&annotations[INTENDED_RULES]).unwrap();
        assert_eq!(intended.len(), 1);
        assert_eq!(d.role_binding.role_ref.name, "ci-cd");
        assert_eq!(
            d.role_binding.subjects.as_ref().unwrap()[0]
                .namespace
                .as_deref(),
            Some("team-a")
        );
        let secret = d.token_secret.unwrap();
        assert_eq!(secret.metadata.name.as_deref(), Some("ci-cd-token"));
        assert_eq!(secret.type_.as_deref(), Some(SA_TOKEN_TYPE));
        assert!(
            desired(
                &plan(TokenPlan::Request {
                    duration: std::time::Duration::from_secs(3600)
                }),
                &provenance(),
                &TokenRecord::request(None)
            )
            .token_secret
            .is_none()
        );
    }

    #[test]
    fn yaml_stream_is_kubectl_apply_input() {
        let d = desired(
            &plan(TokenPlan::Secret),
            &provenance(),
            &TokenRecord::secret("ci-cd-token"),
        );
        let text = yaml_stream(&d);
        assert_eq!(text.matches("---\n").count(), 4);
        let docs: Vec<Value> = serde_saphyr::from_str_multiple(&text).unwrap();
        let kinds: Vec<&str> = docs.iter().map(|d| d["kind"].as_str().unwrap()).collect();
        assert_eq!(
            kinds,
            vec!["ServiceAccount", "Role", "RoleBinding", "Secret"]
        );
        assert_eq!(docs[1]["rules"][0]["apiGroups"][0], "apps");
    }

    #[test]
    fn comparable_drops_server_fields_and_never_secret_data() {
        let mut secret = desired(
            &plan(TokenPlan::Secret),
            &provenance(),
            &TokenRecord::secret("ci-cd-token"),
        )
        .token_secret
        .unwrap();
        secret.metadata.uid = Some("u".into());
        secret.data = Some(BTreeMap::from([(
            "token".into(),
            k8s_openapi::ByteString(b"s3cr3t".to_vec()),
        )]));
        let v = crate::preview::comparable(&secret);
        assert!(v["metadata"].get("uid").is_none());
        assert!(!v.to_string().contains("s3cr3t") && v.get("data").is_none());
    }

    #[test]
    fn the_service_account_records_the_token() {
        let d = desired(
            &plan(TokenPlan::Secret),
            &provenance(),
            &TokenRecord::secret("ci-cd-token-x7k2p"),
        );
        let a = d.service_account.metadata.annotations.as_ref().unwrap();
        assert_eq!(a[TOKEN_KIND], "secret");
        assert_eq!(a[TOKEN_SECRET], "ci-cd-token-x7k2p");
        assert!(!a.contains_key(TOKEN_EXPIRES_AT));
        assert_eq!(
            d.token_secret.unwrap().metadata.name.as_deref(),
            Some("ci-cd-token-x7k2p")
        );
        assert_eq!(
            TokenRecord::from_meta(&d.service_account.metadata),
            TokenRecord::secret("ci-cd-token-x7k2p")
        );

        let issued = Some(("2026-11-27T10:00:00Z".into(), "2026-12-27T10:00:00Z".into()));
        let d = desired(
            &plan(TokenPlan::Request {
                duration: std::time::Duration::from_secs(3600),
            }),
            &provenance(),
            &TokenRecord::request(issued),
        );
        let a = d.service_account.metadata.annotations.as_ref().unwrap();
        assert_eq!(a[TOKEN_KIND], "request");
        assert_eq!(a[TOKEN_EXPIRES_AT], "2026-12-27T10:00:00Z");
        assert!(!a.contains_key(TOKEN_SECRET));
    }
}
