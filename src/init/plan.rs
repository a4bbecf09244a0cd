//! The plan `init` carries out. The wizard and the flags both produce [`Choices`];
//! [`Plan::new`] turns them into the Role to create and refuses what must not happen
//! (risky rules without `--allow-risky`), and [`check_grantable`] refuses, before any
//! write, what the API server would refuse.

use std::path::PathBuf;
use std::time::Duration;

use crate::error::{Error, Result};
use crate::issue::token::validate_request_duration;
use crate::names::{validate_name, validate_namespace};
use crate::rbac::{self, BuiltRole, Request, Risk, Rule, Selection, Skipped};

/// Everything the user decided, however they decided it.
#[derive(Debug, Clone, PartialEq)]
pub struct Choices {
    /// Name of the ServiceAccount, Role and RoleBinding.
    pub name: String,
    pub selections: Vec<Selection>,
    /// Kinds a preset asked for that the cluster cannot grant (reported, not dropped silently).
    pub skipped: Vec<Skipped>,
    pub token: TokenPlan,
    pub output: PathBuf,
    /// Overwrite an existing output file.
    pub overwrite: bool,
    pub allow_risky: bool,
    /// API server URL to write instead of the source context's.
    pub server: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenPlan {
    /// A `kubernetes.io/service-account-token` Secret named `<name>-token`.
    Secret,
    /// A TokenRequest token of this lifetime (the server may shorten it).
    Request { duration: Duration },
}

pub const DEFAULT_NAME: &str = "ci-cd";
/// The validated plan.
#[derive(Debug, Clone)]
pub struct Plan {
    pub namespace: String,
    pub choices: Choices,
    pub role: BuiltRole,
    /// Every risky finding in the Role (blocking ones were allowed with `--allow-risky`).
    pub risks: Vec<Risk>,
}

impl Plan {
    pub fn new(namespace: &str, choices: Choices) -> Result<Plan> {
        validate_namespace(namespace)?;
        validate_name(&choices.name)?;
        if let TokenPlan::Request { duration } = choices.token {
            validate_request_duration(duration)?;
        }
        if choices.selections.is_empty() {
            return Err(Error::Usage(
                "no kinds to grant: choose some with --kinds or --preset (see kubectl cicd init --help)".into(),
            ));
        }
        let (role, risks) =
            crate::role_choice::build_gated_role(&choices.selections, choices.allow_risky)?;
        Ok(Plan {
            namespace: namespace.to_string(),
            choices,
            role,
            risks,
        })
    }

    pub fn name(&self) -> &str {
        &self.choices.name
    }

    /// A new token Secret name, `<name>-token-<5 random characters>`: never a name used before,
    /// so a token revoked by deleting its Secret is never issued again (a legacy token's claims
    /// hold only the Secret's and ServiceAccount's names and uid, and RSA signatures are
    /// deterministic: the same names give the same token).
    pub fn fresh_token_secret_name(&self) -> String {
        crate::managed::fresh_secret_name(&self.choices.name, &[])
    }

    /// What the caller must be allowed to do to carry the plan out.
    pub fn required_permissions(&self) -> Vec<Request> {
        let mut out = object_permissions();
        out.extend(token_permissions(self.choices.token));
        out
    }
}

/// Server-side apply is authorized as patch, and as create when the object is new; init reads
/// each object first.
const APPLY: &[&str] = &["get", "create", "patch"];

/// What writing the ServiceAccount, Role and RoleBinding needs, whatever the choices.
pub fn object_permissions() -> Vec<Request> {
    let mut out = Vec::new();
    for (group, resource) in [
        ("", "serviceaccounts"),
        ("rbac.authorization.k8s.io", "roles"),
        ("rbac.authorization.k8s.io", "rolebindings"),
    ] {
        out.extend(APPLY.iter().map(|v| Request::new(v, group, resource)));
    }
    out
}

/// What obtaining the pipeline's token needs.
pub fn token_permissions(token: TokenPlan) -> Vec<Request> {
    match token {
        TokenPlan::Secret => APPLY
            .iter()
            .map(|v| Request::new(v, "", "secrets"))
            .collect(),
        TokenPlan::Request { .. } => {
            vec![Request::new("create", "", "serviceaccounts").with_subresource("token")]
        }
    }
}

/// Which ways of making the token the caller holds what they need for (`held`: the rules
/// review): a Secret token, a TokenRequest token.
pub fn token_ways(held: &[Rule]) -> (bool, bool) {
    let can = |plan| {
        token_permissions(plan)
            .iter()
            .all(|req| rbac::rules_allow(held, req))
    };
    (
        can(TokenPlan::Secret),
        can(TokenPlan::Request {
            duration: Duration::from_secs(3600),
        }),
    )
}

/// Before the wizard asks anything: refuses a caller who could not carry out any answer,
/// naming what is missing. Writing the three objects needs [`object_permissions`], and the
/// token either way of [`token_permissions`]; which kinds the Role may grant is asked next,
/// each marked with what the caller cannot grant.
pub fn check_writer_first(held: &[Rule], namespace: &str) -> Result<()> {
    let mut lacking: Vec<String> = object_permissions()
        .iter()
        .filter(|req| !rbac::rules_allow(held, req))
        .map(|req| format!("  {req}"))
        .collect();
    let (secret, request) = token_ways(held);
    if !secret && !request {
        let missing = |plan| {
            token_permissions(plan)
                .iter()
                .filter(|req| !rbac::rules_allow(held, req))
                .map(|req| req.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        };
        lacking.push(format!(
            "  and for the pipeline's token one of: {} (a token Secret), or {} (a TokenRequest token)",
            missing(TokenPlan::Secret),
            missing(TokenPlan::Request {
                duration: Duration::from_secs(3600)
            }),
        ));
    }
    if lacking.is_empty() {
        return Ok(());
    }
    Err(Error::Escalation(format!(
        "You may not create the ServiceAccount, Role and RoleBinding init makes in namespace \
         {namespace} (your permissions there, listed above, do not include them); missing:\n{}\n\n\
         Nothing was asked and nothing was changed. Ask your cluster administrator to grant you \
         these in {namespace} (the admin ClusterRole has them), or to run kubectl cicd init for you.",
        lacking.join("\n")
    )))
}

/// Refuses, before anything is written, a plan the API server would refuse:
/// a Role granting more than the caller holds (RBAC escalation prevention), or objects the
/// caller may not create. `held` is the caller's SelfSubjectRulesReview in the namespace.
pub fn check_grantable(plan: &Plan, user: &str, groups: &[String], held: &[Rule]) -> Result<()> {
    let needs = plan.required_permissions();
    let writer = rbac::Writer {
        user,
        groups,
        held,
        needs: &needs,
    };
    let problems = rbac::grant_problems(
        &writer,
        plan.name(),
        &plan.role.rules,
        &plan.namespace,
        "create the objects init needs",
    );
    if problems.is_empty() {
        return Ok(());
    }
    Err(Error::Escalation(format!(
        "{}\n\nNothing was created. Leave out what you do not hold, or ask your cluster administrator \
         to grant it to you (or to run kubectl cicd init for you).",
        problems.join("\n\n")
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::issue::token::DEFAULT_REQUEST_DURATION;
    use crate::issue::write::DEFAULT_OUTPUT;
    use crate::rbac::STANDARD_VERBS;
    use crate::rbac::ServedKind;

    fn kind(group: &str, resource: &str, kind: &str) -> ServedKind {
        ServedKind::new(group, "v1", resource, kind, true, STANDARD_VERBS)
    }

    fn choices(selections: Vec<Selection>) -> Choices {
        Choices {
            name: "ci-cd".into(),
            selections,
            skipped: vec![],
            token: TokenPlan::Secret,
            output: PathBuf::from(DEFAULT_OUTPUT),
            overwrite: false,
            allow_risky: false,
            server: None,
        }
    }

    fn admin_rules() -> Vec<Rule> {
        vec![Rule::resource(&["*"], &["*"], &["*"])]
    }

    #[test]
    fn risky_kinds_need_allow_risky() {
        let secrets = vec![Selection::new(kind("", "secrets", "Secret"))];
        let err = Plan::new("team-a", choices(secrets.clone())).unwrap_err();
        assert!(matches!(err, Error::Risky { .. }));
        assert!(err.to_string().contains("--allow-risky"), "{err}");
        assert!(err.to_string().contains("secrets"), "{err}");
        let mut allowed = choices(secrets);
        allowed.allow_risky = true;
        assert!(Plan::new("team-a", allowed).is_ok());
    }

    #[test]
    fn bad_names_and_namespaces_are_refused_before_anything_else() {
        let sel = vec![Selection::new(kind("apps", "deployments", "Deployment"))];
        let mut c = choices(sel.clone());
        c.name = "CI_CD".into();
        assert!(
            matches!(Plan::new("team-a", c), Err(Error::Usage(m)) if m.contains("invalid name \"CI_CD\""))
        );
        assert!(
            matches!(Plan::new("Team A", choices(sel)), Err(Error::Usage(m)) if m.contains("invalid namespace"))
        );
    }

    #[test]
    fn short_request_tokens_are_refused_like_the_server_would() {
        let mut c = choices(vec![Selection::new(kind(
            "apps",
            "deployments",
            "Deployment",
        ))]);
        c.token = TokenPlan::Request {
            duration: Duration::from_secs(300),
        };
        let err = Plan::new("team-a", c).unwrap_err();
        assert!(err.to_string().contains("less than 10 minutes"), "{err}");
    }

    #[test]
    fn escalation_is_predicted_in_the_servers_words() {
        let mut c = choices(vec![
            Selection::new(kind("apps", "deployments", "Deployment")),
            Selection::with_verbs(kind("", "secrets", "Secret"), &["get"]),
        ]);
        c.allow_risky = true;
        let plan = Plan::new("team-a", c).unwrap();
        let held = vec![
            Rule::resource(
                &["apps"],
                &["deployments"],
                &[
                    "get", "list", "watch", "create", "update", "patch", "delete",
                ],
            ),
            Rule::resource(&[""], &["serviceaccounts", "secrets"], &["create", "patch"]),
        ];
        let err = check_grantable(
            &plan,
            "bob",
            &["devs".into(), "system:authenticated".into()],
            &held,
        )
        .unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("roles.rbac.authorization.k8s.io \"ci-cd\" is forbidden: user \"bob\" (groups=[\"devs\" \"system:authenticated\"]) is attempting to grant RBAC permissions not currently held:\n{APIGroups:[\"\"], Resources:[\"secrets\"], Verbs:[\"get\"]}"),
            "{text}"
        );
        assert!(
            text.contains("get roles.rbac.authorization.k8s.io"),
            "{text}"
        );
        assert!(text.contains("Nothing was created"), "{text}");
        assert!(check_grantable(&plan, "root", &[], &admin_rules()).is_ok());
    }

    #[test]
    fn a_caller_who_cannot_write_the_objects_is_told_before_any_question() {
        let bob = vec![
            Rule::resource(&["apps"], &["deployments"], &["get", "create", "patch"]),
            Rule::resource(
                &["rbac.authorization.k8s.io"],
                &["roles", "rolebindings"],
                &["get", "create", "patch"],
            ),
        ];
        let text = check_writer_first(&bob, "team-a").unwrap_err().to_string();
        assert!(
            text.contains(
                "  get serviceaccounts\n  create serviceaccounts\n  patch serviceaccounts\n"
            ),
            "{text}"
        );
        assert!(text.contains("one of: get secrets, create secrets, patch secrets (a token Secret), or create serviceaccounts/token (a TokenRequest token)"), "{text}");
        assert!(!text.contains("roles"), "{text}");
        assert!(check_writer_first(&admin_rules(), "team-a").is_ok());
        let mut no_secrets = bob.clone();
        no_secrets.push(Rule::resource(
            &[""],
            &["serviceaccounts", "serviceaccounts/token"],
            &["get", "create", "patch"],
        ));
        assert!(check_writer_first(&no_secrets, "team-a").is_ok());
        assert_eq!(token_ways(&no_secrets), (false, true));
    }

    #[test]
    fn request_tokens_need_the_token_subresource() {
        let mut c = choices(vec![Selection::new(kind(
            "apps",
            "deployments",
            "Deployment",
        ))]);
        c.token = TokenPlan::Request {
            duration: DEFAULT_REQUEST_DURATION,
        };
        let plan = Plan::new("team-a", c).unwrap();
        let needed: Vec<String> = plan
            .required_permissions()
            .iter()
            .map(|r| r.to_string())
            .collect();
        assert!(
            needed.contains(&"create serviceaccounts/token".to_string()),
            "{needed:?}"
        );
        assert!(!needed.iter().any(|n| n.contains("secrets")), "{needed:?}");
    }
}
