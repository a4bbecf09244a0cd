//! The plan `init` carries out. The wizard and the flags both produce [`Choices`];
//! [`Plan::new`] turns them into the Role to create and refuses what must not happen
//! (risky rules without `--allow-risky`), and [`check_grantable`] refuses, before any
//! write, what the API server would refuse.

use std::path::PathBuf;
use std::time::Duration;

use crate::error::{Error, Result};
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
pub const DEFAULT_OUTPUT: &str = "kubeconfig_ci_cd.yaml";
/// 30 days: long enough for a pipeline secret, short enough to force rotation.
pub const DEFAULT_REQUEST_DURATION: Duration = Duration::from_secs(720 * 3600);
pub const MIN_REQUEST_DURATION: Duration = Duration::from_secs(600);
/// The API server refuses a TokenRequest for more than 2^32 seconds (about 136 years).
pub const MAX_REQUEST_DURATION: Duration = Duration::from_secs(1 << 32);

/// Refuses a TokenRequest lifetime the API server would refuse (10 minutes to 2^32 seconds).
pub fn validate_request_duration(duration: Duration) -> Result<()> {
    if duration < MIN_REQUEST_DURATION {
        return Err(Error::Usage(format!(
            "--token-duration {}s is too short: the API server refuses tokens valid for less than 10 minutes (use e.g. 1h or 720h)",
            duration.as_secs()
        )));
    }
    if duration > MAX_REQUEST_DURATION {
        return Err(Error::Usage(format!(
            "--token-duration {}h is too long: the API server refuses TokenRequest durations over 2^32 seconds (about 136 years); use e.g. 720h",
            duration.as_secs() / 3600
        )));
    }
    Ok(())
}

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
        let role = rbac::build_role(&choices.selections);
        if role.rules.is_empty() {
            let why: Vec<String> = role.dropped.iter().map(|d| d.to_string()).collect();
            return Err(Error::Usage(format!(
                "nothing left to grant: {}",
                why.join("; ")
            )));
        }
        let risks = rbac::risky_findings(&role.rules);
        rbac::risk::gate(&risks, choices.allow_risky).map_err(|e| {
            let lines: Vec<String> = risks
                .iter()
                .filter(|r| r.blocks_init())
                .map(|r| format!("  - {r}"))
                .collect();
            Error::Risky(format!("{e}:\n{}", lines.join("\n")))
        })?;
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
        super::objects::fresh_secret_name(&self.choices.name, &[])
    }

    /// What the caller must be allowed to do to carry the plan out.
    pub fn required_permissions(&self) -> Vec<Request> {
        let mut out = Vec::new();
        let mut need = |verbs: &[&str], group: &str, resource: &str| {
            for v in verbs {
                out.push(Request::new(v, group, resource));
            }
        };
        // Server-side apply is authorized as patch, and as create when the object is new.
        let apply = &["get", "create", "patch"];
        need(apply, "", "serviceaccounts");
        need(apply, "rbac.authorization.k8s.io", "roles");
        need(apply, "rbac.authorization.k8s.io", "rolebindings");
        match self.choices.token {
            TokenPlan::Secret => need(apply, "", "secrets"),
            TokenPlan::Request { .. } => {
                out.push(Request::new("create", "", "serviceaccounts").with_subresource("token"))
            }
        }
        out
    }
}

/// Refuses, before anything is written, a plan the API server would refuse:
/// a Role granting more than the caller holds (RBAC escalation prevention), or objects the
/// caller may not create. `held` is the caller's SelfSubjectRulesReview in the namespace.
pub fn check_grantable(plan: &Plan, user: &str, groups: &[String], held: &[Rule]) -> Result<()> {
    let mut problems = Vec::new();
    if let Err(missing) = rbac::covers(held, &plan.role.rules) {
        let server_words = rbac::not_held_message(user, groups, &missing);
        problems.push(format!(
            "The Role would grant permissions you do not hold yourself, so the API server would refuse it:\n\
             roles.rbac.authorization.k8s.io \"{}\" is forbidden: {server_words}",
            plan.name()
        ));
    }
    let lacking: Vec<String> = plan
        .required_permissions()
        .into_iter()
        .filter(|req| !rbac::rules_allow(held, req))
        .map(|req| format!("  {req}"))
        .collect();
    if !lacking.is_empty() {
        problems.push(format!(
            "You may not create the objects init needs in namespace {}; missing:\n{}",
            plan.namespace,
            lacking.join("\n")
        ));
    }
    if problems.is_empty() {
        return Ok(());
    }
    Err(Error::Escalation(format!(
        "{}\n\nNothing was created. Leave out what you do not hold, or ask your cluster administrator \
         to grant it to you (or to run kubectl cicd init for you).",
        problems.join("\n\n")
    )))
}

fn is_dns_label(s: &str, max: usize) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= max
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
        && b[0] != b'-'
        && b[b.len() - 1] != b'-'
}

/// The ServiceAccount name rules (DNS-1123 subdomain); the Role, RoleBinding and
/// `<name>-token` Secret names then fit theirs too.
pub fn validate_name(name: &str) -> Result<()> {
    // The name is also the value of the kubectl-cicd.io/identity label: at most 63 characters.
    let ok = name.len() <= MAX_NAME_LEN && name.split('.').all(|p| is_dns_label(p, 63));
    if ok {
        return Ok(());
    }
    let slash = if name.contains('/') || name.contains('%') {
        " ('/' and '%' are not allowed in Role and RoleBinding names either: they are path segments)"
    } else {
        ""
    };
    Err(Error::Usage(format!(
        "invalid name {name:?}: a ServiceAccount name must be lower-case letters, digits, '-' or '.', \
         start and end with a letter or digit, and be at most {MAX_NAME_LEN} characters, as it is also a label value (e.g. ci-cd, github-deployer){slash}"
    )))
}

/// The longest identity name: a label value's limit.
pub const MAX_NAME_LEN: usize = 63;

/// Refuses a `--server` that is not an `https://` URL with a host: the pipeline's kubeconfig
/// must reach the API server over verified TLS.
pub fn validate_server_flag(server: &str) -> Result<()> {
    let shown = crate::text::one_line(&crate::text::redact_userinfo(server));
    let bad = |why: &str| {
        Error::Usage(format!(
            "--server {shown:?} {why}: give the API server's https:// URL, e.g. https://api.example.com:6443"
        ))
    };
    let uri: http::Uri = server.parse().map_err(|_| bad("is not a URL"))?;
    match uri.scheme_str() {
        Some("https") => {}
        Some("http") => return Err(bad("uses plain http, which sends the token unencrypted")),
        Some(_) => return Err(bad("is not an https:// URL")),
        None => return Err(bad("has no scheme")),
    }
    if uri.host().is_none_or(str::is_empty) {
        return Err(bad("has no host"));
    }
    Ok(())
}

pub fn validate_namespace(namespace: &str) -> Result<()> {
    if is_dns_label(namespace, 63) {
        Ok(())
    } else {
        Err(Error::Usage(format!(
            "invalid namespace {namespace:?}: a namespace name is at most 63 lower-case letters, digits or '-', \
             starting and ending with a letter or digit"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rbac::ResolvedKind;
    use crate::rbac::STANDARD_VERBS;

    fn kind(group: &str, resource: &str, kind: &str) -> ResolvedKind {
        ResolvedKind::new(group, "v1", resource, kind, true, STANDARD_VERBS)
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
        assert!(matches!(err, Error::Risky(_)));
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
