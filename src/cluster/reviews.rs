//! Who am I, and what may I do: SelfSubjectReview and SelfSubjectRulesReview (one request each).

use k8s_openapi::api::authentication::v1::SelfSubjectReview;
use k8s_openapi::api::authorization::v1::{
    NonResourceRule, ResourceRule, SelfSubjectRulesReview, SelfSubjectRulesReviewSpec,
};
use kube::api::{Api, PostParams};

use super::Cluster;
use crate::error::{Error, Result};

/// The authenticated user, as the API server sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Caller {
    pub username: String,
    pub uid: Option<String>,
    pub groups: Vec<String>,
}

/// What the user may do in one namespace, as the authorizer lists it.
#[derive(Clone, Debug, PartialEq)]
pub struct RulesReview {
    pub namespace: String,
    pub resource_rules: Vec<ResourceRule>,
    pub non_resource_rules: Vec<NonResourceRule>,
    /// The list may miss rules (a webhook authorizer, or an evaluation error).
    pub incomplete: bool,
    pub evaluation_error: Option<String>,
}

impl Cluster {
    /// `kubectl auth whoami`: one POST of a SelfSubjectReview.
    pub async fn whoami(&self) -> Result<Caller> {
        let api: Api<SelfSubjectReview> = Api::all(self.client.clone());
        let reply = api
            .create(&PostParams::default(), &SelfSubjectReview::default())
            .await
            .map_err(|e| {
                self.err(e, || {
                    "asking the API server who you are (SelfSubjectReview)".into()
                })
            })?;
        let info = reply
            .status
            .and_then(|s| s.user_info)
            .ok_or_else(|| Error::BadResponse {
                context: "asking the API server who you are (SelfSubjectReview)".into(),
                message: "the reply holds no user info".into(),
            })?;
        Ok(Caller {
            username: info.username.unwrap_or_default(),
            uid: info.uid.filter(|u| !u.is_empty()),
            groups: info.groups.unwrap_or_default(),
        })
    }

    /// `kubectl auth can-i --list -n <namespace>`: one POST of a SelfSubjectRulesReview.
    pub async fn rules_review(&self, namespace: &str) -> Result<RulesReview> {
        let api: Api<SelfSubjectRulesReview> = Api::all(self.client.clone());
        let review = SelfSubjectRulesReview {
            spec: SelfSubjectRulesReviewSpec {
                namespace: Some(namespace.to_string()),
            },
            ..Default::default()
        };
        let reply = api
            .create(&PostParams::default(), &review)
            .await
            .map_err(|e| {
                self.err(e, || {
                    format!(
                        "listing what you may do in namespace {namespace} (SelfSubjectRulesReview)"
                    )
                })
            })?;
        let status = reply.status.unwrap_or_default();
        Ok(RulesReview {
            namespace: namespace.to_string(),
            resource_rules: status.resource_rules,
            non_resource_rules: status.non_resource_rules,
            incomplete: status.incomplete,
            evaluation_error: status.evaluation_error.filter(|e| !e.is_empty()),
        })
    }
}

impl Cluster {
    /// `kubectl version`'s server half: one GET of `/version`, e.g. `v1.37.2`.
    pub async fn server_version(&self) -> Result<String> {
        let info = self
            .client
            .apiserver_version()
            .await
            .map_err(|e| self.err(e, || "asking the API server for its version".into()))?;
        Ok(info.git_version)
    }
}
