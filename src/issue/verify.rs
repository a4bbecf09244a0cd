//! Proof, with an identity's own token, that it is the identity it should be and holds what
//! was intended, none of the risky rest, and none of what was just taken from it; and the
//! can / cannot summary of it.

use std::collections::BTreeMap;

use crate::cluster::{Cluster, RulesReview};
use crate::error::{Error, Result};
use crate::k8s::SA_NAME_ANNOTATION;
use crate::kubeconfig::{self, SecretToken, SourceContext};
use crate::rbac::{self, Rule};
use crate::ui::{Ui, Verbosity, wrap};

/// Proves, as the new identity, that it is `system:serviceaccount:<namespace>:<name>` (a
/// SelfSubjectReview with the new token) and that it holds what `intended` grants and none of
/// the risky rest (a SelfSubjectRulesReview).
pub async fn verify(
    ui: &Ui,
    source: &SourceContext,
    namespace: &str,
    name: &str,
    intended: &[Rule],
    token: &SecretToken,
) -> Result<()> {
    let proof = prove(ui, source, namespace, name, intended, &[], token).await?;
    if let Err(who) = &proof.identity {
        return Err(Error::Verification(format!(
            "the new token authenticates as {who}, not as {}: it is another identity's token. \
             Check the token Secret's {SA_NAME_ANNOTATION} annotation, then run the command again",
            subject(namespace, name)
        )));
    }
    if !proof.verification.passed() {
        return Err(Error::Verification(proof.verification.summary()));
    }
    ui.ok("Verified with the new token");
    Ok(())
}

fn subject(namespace: &str, name: &str) -> String {
    format!("system:serviceaccount:{namespace}:{name}")
}

/// What an identity's own token shows: who it is, what it holds against what was intended,
/// and which of the rules taken from it (`gone`) it still holds.
#[derive(Debug, Clone)]
pub struct Proof {
    /// `Err(username)` when the token is another identity's; nothing else was asked then.
    pub identity: std::result::Result<(), String>,
    pub verification: rbac::Verification,
    /// Broken-down rules of `gone` the identity still holds (through another grant, once the
    /// server has caught up).
    pub still_held: Vec<Rule>,
}

impl Proof {
    /// The right identity, holding what was intended, nothing risky besides, and none of `gone`.
    pub fn passed(&self) -> bool {
        self.identity.is_ok() && self.verification.passed() && self.still_held.is_empty()
    }
}

/// Who `token` is: `Ok(Ok(()))` when it is identity `namespace/name`, `Ok(Err(username))`
/// when it is someone else; errors when the server cannot be asked (a revoked token is 401).
pub async fn token_identity(
    source: &SourceContext,
    namespace: &str,
    name: &str,
    token: &SecretToken,
) -> Result<std::result::Result<Cluster, String>> {
    let subject = subject(namespace, name);
    let as_robot = Cluster::connect(kubeconfig::with_token(source, token.expose()))?;
    // Who first: another identity with the same rights would pass the rules check.
    let who = as_robot.whoami().await.map_err(|e| match e {
        Error::Api {
            code,
            reason,
            message,
            ..
        } => Error::Api {
            context: format!("verifying the token (SelfSubjectReview, expecting {subject})"),
            code,
            reason,
            message,
        },
        other => other,
    })?;
    if who.username != subject {
        return Ok(Err(who.username));
    }
    Ok(Ok(as_robot))
}

/// As identity `namespace/name` (with its `token`): who it is, then a SelfSubjectRulesReview
/// checked against `intended` (see [`rbac::verify`]) and against `gone`, shown as the can /
/// cannot summary.
pub async fn prove(
    ui: &Ui,
    source: &SourceContext,
    namespace: &str,
    name: &str,
    intended: &[Rule],
    gone: &[Rule],
    token: &SecretToken,
) -> Result<Proof> {
    let subject = subject(namespace, name);
    let as_robot = match token_identity(source, namespace, name, token).await? {
        Ok(robot) => robot,
        Err(who) => {
            return Ok(Proof {
                identity: Err(who),
                verification: rbac::verify(intended, intended),
                still_held: Vec::new(),
            });
        }
    };
    let gone: Vec<Rule> = gone.iter().flat_map(rbac::breakdown).collect();
    // kube-apiserver authorizes from an informer's cache of the RBAC objects, so a Role or
    // RoleBinding written a moment ago may not count yet: while rules are only missing (or,
    // after rules were taken away, still there), ask again a few times before calling it.
    let mut attempt = 0;
    let (verification, still_held) = loop {
        let review = as_robot
            .rules_review(namespace)
            .await
            .map_err(|e| match e {
                Error::Api {
                    code,
                    reason,
                    message,
                    ..
                } => Error::Api {
                    context: format!("verifying the token (SelfSubjectRulesReview as {subject})"),
                    code,
                    reason,
                    message,
                },
                other => other,
            })?;
        let held = held_rules(&review);
        let verification = rbac::verify(intended, &held);
        let still_held: Vec<Rule> = gone
            .iter()
            .filter(|r| rbac::covers::any_covers(&held, r))
            .cloned()
            .collect();
        attempt += 1;
        let settled = verification.passed() && still_held.is_empty();
        // A risky grant nobody asked for is an answer at once, unless rules were just taken
        // away: then it may be one of them, still in the server's cache.
        let risky_now = !verification.unexpected_risky.is_empty() && gone.is_empty();
        if settled || risky_now || attempt >= VERIFY_ATTEMPTS {
            break (verification, still_held);
        }
        tokio::time::sleep(VERIFY_RETRY_WAIT).await;
    };
    verification_report(ui, &subject, &verification);
    Ok(Proof {
        identity: Ok(()),
        verification,
        still_held,
    })
}

/// How often verification asks for the identity's rules while they are not yet as expected,
/// and the wait between: RBAC changes reach kube-apiserver's authorizer within well under a
/// second.
const VERIFY_ATTEMPTS: u32 = 4;
const VERIFY_RETRY_WAIT: std::time::Duration = std::time::Duration::from_millis(750);

/// The can / cannot summary of the new identity.
pub fn verification_report(ui: &Ui, subject: &str, v: &rbac::Verification) {
    ui.heading(format!("What {subject} can do"));
    let mut can: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    let mut cannot = Vec::new();
    for row in &v.rows {
        match (row.wanted, row.allowed) {
            (true, true) => can.entry(&row.target).or_default().push(&row.verb),
            (false, false) => cannot.push(row.action()),
            (true, false) => ui.say(format!("  MISSING     {}", row.action())),
            (false, true) => ui.say(format!("  UNEXPECTED  {}", row.action())),
        }
    }
    for (target, verbs) in can {
        ui.say(format!("  can     {target}: {}", verbs.join(" ")));
    }
    if cannot.is_empty() {
        return;
    }
    if ui.verbosity() == Verbosity::Verbose {
        ui.say(wrap("  cannot ", &cannot, ui.width()));
    } else {
        ui.say(format!(
            "  cannot  any of the {} risky actions checked (secrets, exec, tokens, RBAC writes, ...; -v lists them)",
            cannot.len()
        ));
    }
}

/// A SelfSubjectRulesReview's rules in the core's terms.
pub fn held_rules(review: &RulesReview) -> Vec<Rule> {
    review
        .resource_rules
        .iter()
        .map(Rule::from)
        .chain(review.non_resource_rules.iter().map(Rule::from))
        .collect()
}
