//! Proof, with the new token, that it is the identity it should be and holds what was
//! intended and none of the risky rest; and the can / cannot summary of it.

use std::collections::BTreeMap;

use crate::cluster::{Cluster, RulesReview};
use crate::error::{Error, Result};
use crate::k8s::SA_NAME_ANNOTATION;
use crate::kubeconfig::{self, SecretToken, SourceContext};
use crate::rbac::{self, Rule};
use crate::ui::{Ui, wrap};

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
    let subject = format!("system:serviceaccount:{namespace}:{name}");
    let as_robot = Cluster::connect(kubeconfig::with_token(source, token.expose()))?;
    // Who first: another identity with the same rights would pass the rules check below.
    let who = as_robot.whoami().await.map_err(|e| match e {
        Error::Api {
            code,
            reason,
            message,
            ..
        } => Error::Api {
            context: format!("verifying the new token (SelfSubjectReview, expecting {subject})"),
            code,
            reason,
            message,
        },
        other => other,
    })?;
    if who.username != subject {
        return Err(Error::Verification(format!(
            "the new token authenticates as {}, not as {subject}: it is another identity's token. \
             Check the token Secret's {SA_NAME_ANNOTATION} annotation, then run the command again",
            who.username
        )));
    }
    // kube-apiserver authorizes from an informer's cache of the RBAC objects, so a RoleBinding
    // written a moment ago may not count yet: while rules are only missing (nothing risky is
    // extra), ask again a few times before calling the identity short of rights.
    let mut attempt = 0;
    let verification = loop {
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
                    context: format!(
                        "verifying the new token (SelfSubjectRulesReview as {subject})"
                    ),
                    code,
                    reason,
                    message,
                },
                other => other,
            })?;
        let verification = rbac::verify(intended, &held_rules(&review));
        attempt += 1;
        if verification.passed()
            || !verification.unexpected_risky.is_empty()
            || attempt >= VERIFY_ATTEMPTS
        {
            break verification;
        }
        tokio::time::sleep(VERIFY_RETRY_WAIT).await;
    };
    verification_report(ui, &subject, &verification);
    if !verification.passed() {
        return Err(Error::Verification(verification.summary()));
    }
    ui.ok("Verified with the new token");
    Ok(())
}

/// How often verification asks for the new identity's rules while some are missing, and the
/// wait between: RBAC changes reach kube-apiserver's authorizer within well under a second.
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
    if !cannot.is_empty() {
        ui.say(wrap("  cannot ", &cannot, 100));
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
