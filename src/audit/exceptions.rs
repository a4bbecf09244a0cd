//! Documented exceptions: findings someone accepted, with a reason. An accepted finding stays
//! in the report (with [`Accepted`]) and never gates; nothing is dropped silently.
//!
//! Two sources:
//! * `--ignore RULE[:NAMESPACE/NAME]` on the command line ([`parse_ignore`]): `RULE` alone
//!   accepts every finding of the rule; with a target, only findings whose subject, or an
//!   object involved (binding, role, token Secret), is `NAMESPACE/NAME`. Cluster-scoped
//!   objects and users or groups are named without namespace: `RULE:NAME`
//!   (`cluster-wide-binding:argocd-application-controller`, `many-roles:alice`).
//! * annotations on the ServiceAccount, the binding or the role involved (or the token
//!   Secret for token findings): `kubectl-cicd.io/ignore: "RULE,RULE"` plus
//!   `kubectl-cicd.io/ignore-reason: "why"`. An annotation without a reason, or naming an
//!   unknown rule, is not applied and is itself reported as `invalid-exception`.

use super::model::{Accepted, Meta};
use super::rules;

/// Annotation listing accepted rule ids, comma-separated.
pub const IGNORE_ANNOTATION: &str = "kubectl-cicd.io/ignore";
/// Annotation saying why.
pub const IGNORE_REASON_ANNOTATION: &str = "kubectl-cicd.io/ignore-reason";

/// An `--ignore` flag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ignore {
    /// The rule id.
    pub rule: String,
    /// `NAMESPACE/NAME` or `NAME`; `None` matches every finding of the rule.
    pub target: Option<IgnoreTarget>,
}

/// What an `--ignore` names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IgnoreTarget {
    /// `None` for cluster-scoped objects, users and groups.
    pub namespace: Option<String>,
    pub name: String,
}

impl std::fmt::Display for Ignore {
    /// The flag as it was (canonically) written: `secrets-read:team-a/ci`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.rule)?;
        match &self.target {
            Some(IgnoreTarget {
                namespace: Some(ns),
                name,
            }) => write!(f, ":{ns}/{name}"),
            Some(IgnoreTarget {
                namespace: None,
                name,
            }) => write!(f, ":{name}"),
            None => Ok(()),
        }
    }
}

/// Parses `RULE`, `RULE:NAMESPACE/NAME` or `RULE:NAME` (the `--ignore` value, for clap).
/// Errors are sentences for people; clap puts the value and the flag before them.
pub fn parse_ignore(s: &str) -> Result<Ignore, String> {
    let s = s.trim();
    let (rule, target) = match s.split_once(':') {
        Some((rule, target)) => (rule.trim(), Some(target.trim())),
        None => (s, None),
    };
    if rule.is_empty() {
        return Err(
            "expected RULE or RULE:NAMESPACE/NAME, e.g. secrets-read:team-a/ci-cd".to_string(),
        );
    }
    if rules::rule(rule).is_none() {
        let known: Vec<&str> = rules::catalogue().iter().map(|r| r.id).collect();
        return Err(format!(
            "unknown rule {rule:?}; the rules are: {}",
            known.join(", ")
        ));
    }
    let target = match target {
        None => None,
        Some("") => {
            return Err(format!(
                "nothing after the colon; write {rule} alone to accept every {rule} finding, or {rule}:NAMESPACE/NAME"
            ));
        }
        Some(t) => Some(match t.split_once('/') {
            Some((ns, name)) => {
                if ns.is_empty() || name.is_empty() || name.contains('/') {
                    return Err(
                        "expected NAMESPACE/NAME after the colon (or NAME alone for cluster-scoped objects, users and groups)"
                            .to_string(),
                    );
                }
                IgnoreTarget {
                    namespace: Some(ns.to_string()),
                    name: name.to_string(),
                }
            }
            None => IgnoreTarget {
                namespace: None,
                name: t.to_string(),
            },
        }),
    };
    Ok(Ignore {
        rule: rule.to_string(),
        target,
    })
}

impl Ignore {
    /// True when the flag accepts a finding of `rule` about `names` (the subject and the
    /// objects involved, as `(namespace, name)`).
    pub fn matches<'a, I>(&self, rule: &str, mut names: I) -> bool
    where
        I: Iterator<Item = (Option<&'a str>, &'a str)>,
    {
        if self.rule != rule {
            return false;
        }
        match &self.target {
            None => true,
            Some(t) => names.any(|(ns, name)| ns == t.namespace.as_deref() && name == t.name),
        }
    }

    /// The [`Accepted`] record of a finding this flag accepts.
    pub fn accepted(&self) -> Accepted {
        Accepted {
            reason: "accepted on the command line".into(),
            source: format!("--ignore {self}"),
        }
    }
}

/// The exception an object's annotations declare.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnnotationException {
    /// Rule ids the annotation lists (known ones).
    pub rules: Vec<String>,
    /// Listed ids that are not rules.
    pub unknown: Vec<String>,
    /// The reason; `None` when missing or blank.
    pub reason: Option<String>,
}

impl AnnotationException {
    /// True when it validly accepts `rule`.
    pub fn accepts(&self, rule: &str) -> bool {
        self.reason.is_some() && self.rules.iter().any(|r| r == rule)
    }

    /// What is wrong with it, for the `invalid-exception` evidence; `None` when valid.
    pub fn problem(&self) -> Option<String> {
        let mut problems = Vec::new();
        if self.reason.is_none() {
            problems.push(format!(
                "has no {IGNORE_REASON_ANNOTATION} annotation, so the exception is not applied"
            ));
        }
        if !self.unknown.is_empty() {
            problems.push(format!(
                "names unknown rule{} {}",
                if self.unknown.len() == 1 { "" } else { "s" },
                self.unknown.join(", ")
            ));
        }
        if self.rules.is_empty() && self.unknown.is_empty() {
            problems.push("lists no rule".to_string());
        }
        (!problems.is_empty()).then(|| problems.join(" and "))
    }
}

/// The exception declared by an object's annotations, if it carries
/// [`IGNORE_ANNOTATION`].
pub fn annotation_exception(meta: &Meta) -> Option<AnnotationException> {
    let list = meta.annotations.get(IGNORE_ANNOTATION)?;
    let mut known = Vec::new();
    let mut unknown = Vec::new();
    for id in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let bucket = if rules::rule(id).is_some() {
            &mut known
        } else {
            &mut unknown
        };
        if !bucket.iter().any(|x| x == id) {
            bucket.push(id.to_string());
        }
    }
    let reason = meta
        .annotations
        .get(IGNORE_REASON_ANNOTATION)
        .map(|r| r.trim())
        .filter(|r| !r.is_empty())
        .map(str::to_string);
    Some(AnnotationException {
        rules: known,
        unknown,
        reason,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_rule_alone_and_with_targets() {
        assert_eq!(
            parse_ignore("secrets-read").unwrap(),
            Ignore {
                rule: "secrets-read".into(),
                target: None
            }
        );
        let i = parse_ignore(" secrets-read:team-a/ci-cd ").unwrap();
        assert_eq!(
            i.target,
            Some(IgnoreTarget {
                namespace: Some("team-a".into()),
                name: "ci-cd".into()
            })
        );
        assert_eq!(i.to_string(), "secrets-read:team-a/ci-cd");
        let g = parse_ignore("wildcard:system:serviceaccounts:team-a").unwrap();
        assert_eq!(
            g.target,
            Some(IgnoreTarget {
                namespace: None,
                name: "system:serviceaccounts:team-a".into()
            })
        );
        assert_eq!(g.to_string(), "wildcard:system:serviceaccounts:team-a");
    }

    #[test]
    fn parse_errors_say_what_to_write() {
        let e = parse_ignore("secret-read").unwrap_err();
        assert!(
            e.contains("unknown rule \"secret-read\"") && e.contains("secrets-read"),
            "{e}"
        );
        let e = parse_ignore("").unwrap_err();
        assert!(e.contains("RULE:NAMESPACE/NAME"), "{e}");
        let e = parse_ignore(":team-a/x").unwrap_err();
        assert!(e.contains("expected RULE"), "{e}");
        let e = parse_ignore("wildcard:").unwrap_err();
        assert!(e.contains("nothing after the colon"), "{e}");
        for bad in ["wildcard:/x", "wildcard:ns/", "wildcard:a/b/c"] {
            let e = parse_ignore(bad).unwrap_err();
            assert!(e.contains("NAMESPACE/NAME"), "{bad}: {e}");
        }
    }

    #[test]
    fn matching() {
        let all = parse_ignore("secrets-read").unwrap();
        let one = parse_ignore("secrets-read:team-a/ci").unwrap();
        let cluster = parse_ignore("secrets-read:view").unwrap();
        let names = [(Some("team-a"), "ci"), (None, "view")];
        assert!(all.matches("secrets-read", names.iter().copied()));
        assert!(!all.matches("wildcard", names.iter().copied()));
        assert!(one.matches("secrets-read", names.iter().copied()));
        assert!(cluster.matches("secrets-read", names.iter().copied()));
        assert!(!one.matches("secrets-read", [(Some("team-b"), "ci")].into_iter()));
        assert!(!one.matches("secrets-read", [(None, "ci")].into_iter()));
        let a = one.accepted();
        assert_eq!(a.source, "--ignore secrets-read:team-a/ci");
        assert!(!a.reason.is_empty());
    }

    fn meta(annotations: &[(&str, &str)]) -> Meta {
        Meta {
            annotations: annotations
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            ..Meta::default()
        }
    }

    #[test]
    fn annotations() {
        assert_eq!(annotation_exception(&meta(&[])), None);
        assert_eq!(
            annotation_exception(&meta(&[(IGNORE_REASON_ANNOTATION, "x")])),
            None,
            "a reason alone declares nothing"
        );
        let ok = annotation_exception(&meta(&[
            (
                IGNORE_ANNOTATION,
                " secrets-read , token-create,secrets-read",
            ),
            (IGNORE_REASON_ANNOTATION, "Helm release state"),
        ]))
        .unwrap();
        assert_eq!(ok.rules, ["secrets-read", "token-create"]);
        assert!(ok.accepts("token-create") && !ok.accepts("wildcard"));
        assert_eq!(ok.problem(), None);

        let no_reason = annotation_exception(&meta(&[
            (IGNORE_ANNOTATION, "secrets-read"),
            (IGNORE_REASON_ANNOTATION, "   "),
        ]))
        .unwrap();
        assert!(!no_reason.accepts("secrets-read"));
        assert!(no_reason.problem().unwrap().contains("ignore-reason"));

        let unknown = annotation_exception(&meta(&[
            (IGNORE_ANNOTATION, "secrets-read,secret-read"),
            (IGNORE_REASON_ANNOTATION, "Helm"),
        ]))
        .unwrap();
        assert!(unknown.accepts("secrets-read"), "known ids still apply");
        assert_eq!(unknown.problem().unwrap(), "names unknown rule secret-read");

        let empty = annotation_exception(&meta(&[
            (IGNORE_ANNOTATION, " , "),
            (IGNORE_REASON_ANNOTATION, "r"),
        ]))
        .unwrap();
        assert_eq!(empty.problem().unwrap(), "lists no rule");
    }
}
