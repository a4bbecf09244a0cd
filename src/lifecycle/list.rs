//! `kubectl cicd list`: the identities `init` made, one line each (or JSON): what their Role
//! grants, their token (kind, age, expiry, last use) and who made them when.
//!
//! Four list requests whatever the number of identities: ServiceAccounts, Roles, RoleBindings
//! and Secrets carrying our label, the Secrets metadata-only. A TokenRequest token leaves no
//! trace on the server, so its issue and expiry times come from the annotations `init` and
//! `rotate` put on the ServiceAccount; a Secret token's age is the Secret's, and its last use is
//! the `kubernetes.io/legacy-token-last-used` label the API server stamps on it.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};
use serde::Serialize;

use crate::cli::{GlobalFlags, ListFlags, ListFormat};
use crate::cluster::Namespaces;
use crate::error::{Error, Result};
use crate::k8s::LAST_USED_LABEL;
use crate::managed::{CREATED_AT, CREATED_BY, INTENDED_RULES, TOOL_VERSION, TokenRecord};
use crate::rbac::{self, READ_ONLY_VERBS, Rule};
use crate::target::Target;
use crate::ui::{Prompts, Ui};

use super::{Found, by_creation};
use crate::managed::identity_of;

/// One identity as `list` shows it.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IdentityRow {
    pub namespace: String,
    pub name: String,
    /// What the Role grants, kind by kind.
    pub kinds: Vec<KindGrant>,
    pub token: TokenInfo,
    pub created_by: Option<String>,
    pub created_at: Option<String>,
    pub tool_version: Option<String>,
    pub objects: Present,
    /// For a grant of `argocd grant`: the ServiceAccounts (`namespace/name`) it is for; a
    /// grant has no ServiceAccount or token of its own. Empty for a CI/CD identity.
    pub granted_to: Vec<String>,
    /// What is not as `init` (or `argocd grant`) leaves it (missing objects, several token Secrets).
    pub problems: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct KindGrant {
    /// `deployments.apps`, `services`.
    pub resource: String,
    pub verbs: Vec<String>,
}

impl KindGrant {
    fn read_only(&self) -> bool {
        self.verbs
            .iter()
            .all(|v| READ_ONLY_VERBS.contains(&v.as_str()))
    }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TokenInfo {
    /// `secret` or `request`, as recorded on the ServiceAccount.
    pub kind: Option<String>,
    /// When the token in use was made: the token Secret's creation, or the recorded TokenRequest.
    pub issued_at: Option<String>,
    /// When it expires: `None` for a Secret token (never) or an unrecorded TokenRequest.
    pub expires_at: Option<String>,
    /// The day the API server last saw the Secret token used (`kubernetes.io/legacy-token-last-used`).
    pub last_used: Option<String>,
    /// The identity's token Secrets (names only; their data is never read).
    pub secrets: Vec<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Present {
    pub service_account: bool,
    pub role: bool,
    pub role_binding: bool,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ListOut<'a> {
    api_version: &'static str,
    kind: &'static str,
    items: &'a [IdentityRow],
}

pub async fn run(global: &GlobalFlags, flags: &ListFlags) -> Result<()> {
    let target = Target::resolve(
        global,
        flags.namespaces.all_namespaces,
        Ui::detect(Prompts::Never),
    )?;
    let ui = &target.ui;
    let scope = target.namespaces();
    let cluster = target.connect()?;
    let found = match super::find(&cluster, scope, None).await {
        Err(Error::Forbidden { message, hint }) if target.all_namespaces => {
            return Err(Error::Forbidden {
                message,
                hint: format!("{hint} Or list one namespace: kubectl cicd list -n NAMESPACE."),
            });
        }
        other => other?,
    };
    let rows = rows(&found);
    let out = ListOut {
        api_version: "kubectl-cicd.io/v1",
        kind: "IdentityList",
        items: &rows,
    };
    match flags.output {
        ListFormat::Json => crate::ui::print_data(&format!(
            "{}\n",
            serde_json::to_string_pretty(&out).expect("rows serialize")
        )),
        ListFormat::Yaml => {
            crate::ui::print_data(&serde_saphyr::to_string(&out).map_err(|e| Error::Internal {
                context: "writing the identities as YAML".into(),
                message: e.to_string(),
            })?)
        }
        ListFormat::Table | ListFormat::Wide => {
            if rows.is_empty() {
                let place = match scope {
                    Namespaces::One(ns) => format!("namespace {ns}"),
                    Namespaces::All => "any namespace".to_string(),
                };
                ui.say(format!(
                    "No identities made by kubectl-cicd in {place}. Create one with kubectl cicd init."
                ));
            } else {
                let layout = Layout {
                    wide: flags.output == ListFormat::Wide,
                    headers: !flags.no_headers,
                };
                crate::ui::print_data(&table(&rows, jiff::Timestamp::now(), layout));
            }
        }
    }
    for row in &rows {
        for p in &row.problems {
            ui.warn(format!("{}/{}: {p}", row.namespace, row.name));
        }
    }
    Ok(())
}

fn annotation(meta: &ObjectMeta, key: &str) -> Option<String> {
    meta.annotations
        .as_ref()
        .and_then(|a| a.get(key))
        .filter(|v| !v.is_empty())
        .cloned()
}

fn time(t: &Option<Time>) -> Option<String> {
    t.as_ref().map(|t| crate::timestamp::rfc3339(t.0))
}

/// What a Role grants, kind by kind, in the Role's order.
pub fn kinds_of(rules: &[Rule]) -> Vec<KindGrant> {
    let mut out: Vec<KindGrant> = Vec::new();
    for rule in rules.iter().filter(|r| r.non_resource_urls.is_empty()) {
        for group in &rule.api_groups {
            for resource in &rule.resources {
                let name = rbac::rule::group_resource(group, resource);
                match out.iter_mut().find(|k| k.resource == name) {
                    Some(k) => {
                        for v in &rule.verbs {
                            if !k.verbs.contains(v) {
                                k.verbs.push(v.clone());
                            }
                        }
                    }
                    None => out.push(KindGrant {
                        resource: name,
                        verbs: rule.verbs.clone(),
                    }),
                }
            }
        }
    }
    out
}

/// One row per identity found (by its labels), sorted by namespace and name.
pub fn rows(found: &Found) -> Vec<IdentityRow> {
    type Key = (String, String);
    let mut by_identity: BTreeMap<Key, IdentityRow> = BTreeMap::new();
    let all_meta = found
        .service_accounts
        .iter()
        .map(|o| &o.metadata)
        .chain(found.roles.iter().map(|o| &o.metadata))
        .chain(found.role_bindings.iter().map(|o| &o.metadata))
        .chain(found.token_secrets.iter().map(|o| &o.metadata));
    for meta in all_meta {
        if let Some((namespace, name)) = identity_of(meta) {
            by_identity
                .entry((namespace.clone(), name.clone()))
                .or_insert_with(|| IdentityRow {
                    namespace,
                    name,
                    kinds: Vec::new(),
                    token: TokenInfo::default(),
                    created_by: None,
                    created_at: None,
                    tool_version: None,
                    objects: Present::default(),
                    granted_to: Vec::new(),
                    problems: Vec::new(),
                });
        }
    }
    let mut recorded_secret: BTreeMap<Key, String> = BTreeMap::new();
    for sa in &found.service_accounts {
        let Some(key) = identity_of(&sa.metadata) else {
            continue;
        };
        if sa.metadata.name.as_deref() != Some(key.1.as_str()) {
            continue;
        }
        let Some(r) = by_identity.get_mut(&key) else {
            continue;
        };
        r.objects.service_account = true;
        let record = TokenRecord::from_meta(&sa.metadata);
        if record.kind.as_deref() == Some("request") {
            r.token.issued_at = record.issued_at.clone();
            r.token.expires_at = record.expires_at.clone();
        }
        if let (Some("secret"), Some(secret)) = (record.kind.as_deref(), record.secret_name) {
            recorded_secret.insert(key, secret);
        }
        r.token.kind = record.kind;
        r.created_by = annotation(&sa.metadata, CREATED_BY);
        r.created_at = annotation(&sa.metadata, CREATED_AT);
        r.tool_version = annotation(&sa.metadata, TOOL_VERSION);
    }
    for role in &found.roles {
        let Some(key) = identity_of(&role.metadata) else {
            continue;
        };
        if role.metadata.name.as_deref() != Some(key.1.as_str()) {
            continue;
        }
        let Some(r) = by_identity.get_mut(&key) else {
            continue;
        };
        r.objects.role = true;
        if let Some(to) = crate::managed::granted_to(&role.metadata) {
            r.granted_to = to;
        }
        let rules: Vec<Rule> = role
            .rules
            .iter()
            .flatten()
            .cloned()
            .map(Rule::from)
            .collect();
        r.kinds = kinds_of(&rules);
        if r.created_by.is_none() {
            r.created_by = annotation(&role.metadata, CREATED_BY);
            r.created_at = annotation(&role.metadata, CREATED_AT);
        }
        if let Some(intended) = annotation(&role.metadata, INTENDED_RULES)
            .and_then(|text| serde_json::from_str::<Vec<Rule>>(&text).ok())
            && kinds_of(&intended) != r.kinds
        {
            r.problems.push(
                "the Role differs from what init recorded (kubectl cicd audit shows the drift)"
                    .into(),
            );
        }
    }
    for rb in &found.role_bindings {
        if let Some(key) = identity_of(&rb.metadata)
            && rb.metadata.name.as_deref() == Some(key.1.as_str())
            && let Some(r) = by_identity.get_mut(&key)
        {
            r.objects.role_binding = true;
            if let Some(to) = crate::managed::granted_to(&rb.metadata)
                && r.granted_to.is_empty()
            {
                r.granted_to = to;
            }
        }
    }

    let mut secrets: Vec<_> = found.token_secrets.iter().collect();
    by_creation(&mut secrets, |s| &s.metadata);
    let mut secrets_of: BTreeMap<Key, Vec<&ObjectMeta>> = BTreeMap::new();
    for s in secrets {
        if let Some(key) = identity_of(&s.metadata) {
            secrets_of.entry(key).or_default().push(&s.metadata);
        }
    }

    for (key, r) in by_identity.iter_mut() {
        let mine = secrets_of.get(key).cloned().unwrap_or_default();
        r.token.secrets = mine.iter().filter_map(|m| m.name.clone()).collect();
        if r.token.kind.as_deref() != Some("request") {
            // The recorded token Secret, else the newest, is the one in use.
            let in_use = recorded_secret
                .get(key)
                .and_then(|name| mine.iter().find(|m| m.name.as_ref() == Some(name)))
                .or(mine.last());
            if let Some(m) = in_use {
                r.token.issued_at = time(&m.creation_timestamp);
                r.token.last_used = m
                    .labels
                    .as_ref()
                    .and_then(|l| l.get(LAST_USED_LABEL))
                    .cloned();
            }
        }
        if !r.granted_to.is_empty() {
            // A grant: a Role and a RoleBinding, no ServiceAccount or token of its own.
            for (there, kind) in [
                (r.objects.role, "Role"),
                (r.objects.role_binding, "RoleBinding"),
            ] {
                if !there {
                    r.problems.push(format!(
                        "{kind} {} of the grant is missing: run kubectl cicd argocd grant again to restore it, or kubectl cicd delete {} to remove the rest",
                        r.name, r.name
                    ));
                }
            }
            continue;
        }
        for (there, kind) in [
            (r.objects.service_account, "ServiceAccount"),
            (r.objects.role, "Role"),
            (r.objects.role_binding, "RoleBinding"),
        ] {
            if !there {
                r.problems.push(format!(
                    "{kind} {} is missing: run kubectl cicd init again to restore it, or kubectl cicd delete {} to remove the rest",
                    r.name, r.name
                ));
            }
        }
        match (r.token.kind.as_deref(), r.token.secrets.len()) {
            (Some("secret"), 0) => r.problems.push(
                "its token Secret is missing: kubectl cicd rotate makes a new one".into(),
            ),
            (Some("request"), n) if n > 0 => r.problems.push(format!(
                "it uses TokenRequest tokens, but token Secret(s) {} still exist and work: kubectl cicd rotate deletes them",
                r.token.secrets.join(", ")
            )),
            (_, n) if n > 1 => r.problems.push(format!(
                "{n} token Secrets exist ({}), each a working token: kubectl cicd rotate leaves one new one",
                r.token.secrets.join(", ")
            )),
            _ => {}
        }
    }
    by_identity.into_values().collect()
}

fn or_dash(text: String) -> String {
    if text.is_empty() { "-".into() } else { text }
}

/// `sa,role,binding`: which of the identity's objects exist (a grant has no ServiceAccount).
fn objects_present(r: &IdentityRow) -> String {
    let present: Vec<&str> = [
        (r.objects.service_account, "sa"),
        (r.objects.role, "role"),
        (r.objects.role_binding, "binding"),
    ]
    .iter()
    .filter(|(there, _)| *there)
    .map(|(_, name)| *name)
    .collect();
    or_dash(present.join(","))
}

fn parse(t: &str) -> Option<jiff::Timestamp> {
    t.parse().ok()
}

/// kubectl's short ages: `45s`, `12m`, `5h`, `3d`, `2y`.
pub fn short_age(seconds: i64) -> String {
    let s = seconds.max(0);
    match s {
        0..120 => format!("{s}s"),
        120..7200 => format!("{}m", s / 60),
        7200..172_800 => format!("{}h", s / 3600),
        172_800..63_072_000 => format!("{}d", s / 86_400),
        _ => format!("{}y", s / 31_536_000),
    }
}

/// Which table: `-o wide`'s extra columns, and the header line unless `--no-headers`.
#[derive(Clone, Copy, Debug)]
pub struct Layout {
    pub wide: bool,
    pub headers: bool,
}

impl Default for Layout {
    fn default() -> Self {
        Layout {
            wide: false,
            headers: true,
        }
    }
}

/// The table people read: one identity a line.
pub fn table(rows: &[IdentityRow], now: jiff::Timestamp, layout: Layout) -> String {
    let mut header: Vec<String> = [
        "NAMESPACE",
        "NAME",
        "KINDS",
        "TOKEN",
        "TOKEN AGE",
        "EXPIRES",
        "LAST USED",
        "CREATED BY",
        "CREATED",
    ]
    .map(String::from)
    .to_vec();
    if layout.wide {
        header.extend(["TOKEN SECRETS", "OBJECTS", "VERSION", "PROBLEMS"].map(String::from));
    }
    let mut lines: Vec<Vec<String>> = vec![header];
    for r in rows {
        let kinds = if r.kinds.is_empty() {
            "-".to_string()
        } else {
            r.kinds
                .iter()
                .map(|k| {
                    if k.read_only() {
                        format!("{}(ro)", k.resource)
                    } else {
                        k.resource.clone()
                    }
                })
                .collect::<Vec<_>>()
                .join(",")
        };
        let age = r
            .token
            .issued_at
            .as_deref()
            .and_then(parse)
            .map(|t| short_age(now.as_second() - t.as_second()))
            .unwrap_or_else(|| "-".into());
        let expires = match (
            r.token.kind.as_deref(),
            r.token.expires_at.as_deref().and_then(parse),
        ) {
            (_, Some(t)) if t > now => format!("in {}", short_age(t.as_second() - now.as_second())),
            (_, Some(t)) => format!("expired {} ago", short_age(now.as_second() - t.as_second())),
            (Some("secret"), None) => "never".into(),
            (Some("request"), None) => "unknown".into(),
            _ => "-".into(),
        };
        let grant = !r.granted_to.is_empty();
        let last_used = match r.token.kind.as_deref() {
            _ if grant => "-".into(),
            Some("secret") => r.token.last_used.clone().unwrap_or_else(|| "never".into()),
            _ => "unknown".into(),
        };
        let created = r
            .created_at
            .as_deref()
            .map(|c| c.split('T').next().unwrap_or(c).to_string())
            .unwrap_or_else(|| "-".into());
        let mut line = vec![
            r.namespace.clone(),
            r.name.clone(),
            kinds,
            if grant {
                format!("grant to {}", r.granted_to.join(","))
            } else {
                r.token.kind.clone().unwrap_or_else(|| "-".into())
            },
            age,
            expires,
            last_used,
            r.created_by.clone().unwrap_or_else(|| "-".into()),
            created,
        ];
        if layout.wide {
            line.extend([
                or_dash(r.token.secrets.join(",")),
                objects_present(r),
                or_dash(r.tool_version.clone().unwrap_or_default()),
                r.problems.len().to_string(),
            ]);
        }
        lines.push(line);
    }
    if !layout.headers {
        lines.remove(0);
    }
    // Every cell comes from the cluster: shown with control characters escaped, on one line.
    for line in &mut lines {
        for cell in line.iter_mut() {
            *cell = crate::text::one_line(cell);
        }
    }
    let mut widths = vec![0usize; lines.first().map_or(0, Vec::len)];
    for line in &lines {
        for (w, cell) in widths.iter_mut().zip(line) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for line in &lines {
        let mut text = String::new();
        for (i, cell) in line.iter().enumerate() {
            if i + 1 == line.len() {
                text.push_str(cell);
            } else {
                text.push_str(&format!("{cell:<width$}   ", width = widths[i]));
            }
        }
        out.push_str(text.trim_end());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_grant_is_a_role_and_a_binding_without_a_token() {
        use crate::managed::{GRANTED_TO, IDENTITY_LABEL, MANAGED_BY, MANAGED_BY_LABEL};
        use k8s_openapi::api::rbac::v1::{PolicyRule, Role};
        use kube::core::PartialObjectMeta;
        let meta = || ObjectMeta {
            name: Some("argocd-argocd".into()),
            namespace: Some("shop".into()),
            labels: Some(BTreeMap::from([
                (MANAGED_BY_LABEL.to_string(), MANAGED_BY.to_string()),
                (IDENTITY_LABEL.to_string(), "argocd-argocd".to_string()),
            ])),
            annotations: Some(BTreeMap::from([(
                GRANTED_TO.to_string(),
                "argocd/argocd-application-controller".to_string(),
            )])),
            ..Default::default()
        };
        let found = Found {
            roles: vec![Role {
                metadata: meta(),
                rules: Some(vec![PolicyRule {
                    api_groups: Some(vec!["apps".into()]),
                    resources: Some(vec!["deployments".into()]),
                    verbs: vec!["get".into(), "create".into()],
                    ..Default::default()
                }]),
            }],
            role_bindings: vec![PartialObjectMeta {
                metadata: meta(),
                ..Default::default()
            }],
            ..Found::default()
        };
        let rows = rows(&found);
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].granted_to, ["argocd/argocd-application-controller"]);
        assert_eq!(
            rows[0].problems,
            Vec::<String>::new(),
            "no ServiceAccount or token expected"
        );
        let now: jiff::Timestamp = "2026-11-27T12:00:00Z".parse().unwrap();
        let text = table(&rows, now, Layout::default());
        assert!(
            text.contains("grant to argocd/argocd-application-controller"),
            "{text}"
        );

        let only_role = Found {
            roles: found.roles.clone(),
            ..Found::default()
        };
        let problems = &super::rows(&only_role)[0].problems;
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(
            problems[0].contains("kubectl cicd argocd grant again"),
            "{problems:?}"
        );
    }

    #[test]
    fn ages_read_like_kubectl() {
        assert_eq!(short_age(45), "45s");
        assert_eq!(short_age(600), "10m");
        assert_eq!(short_age(5 * 3600), "5h");
        assert_eq!(short_age(3 * 86_400), "3d");
        assert_eq!(short_age(800 * 86_400), "2y");
        assert_eq!(short_age(-5), "0s");
    }

    #[test]
    fn kinds_merge_verbs_and_mark_read_only() {
        let rules = vec![
            Rule::resource(&["apps"], &["deployments"], &["get", "list"]),
            Rule::resource(&["apps"], &["deployments"], &["create"]),
            Rule::resource(&[""], &["services"], &["get", "list", "watch"]),
        ];
        let kinds = kinds_of(&rules);
        assert_eq!(kinds.len(), 2);
        assert_eq!(kinds[0].resource, "deployments.apps");
        assert_eq!(kinds[0].verbs, vec!["get", "list", "create"]);
        assert!(!kinds[0].read_only());
        assert!(kinds[1].read_only());
    }

    #[test]
    fn the_table_aligns_and_says_never_and_unknown() {
        let now: jiff::Timestamp = "2026-11-27T12:00:00Z".parse().unwrap();
        let row = |name: &str, kind: &str, expires: Option<&str>| IdentityRow {
            namespace: "team-a".into(),
            name: name.into(),
            kinds: vec![KindGrant {
                resource: "services".into(),
                verbs: vec!["get".into()],
            }],
            token: TokenInfo {
                kind: Some(kind.into()),
                issued_at: Some("2026-11-27T10:00:00Z".into()),
                expires_at: expires.map(str::to_string),
                last_used: None,
                secrets: vec![],
            },
            created_by: Some("alice".into()),
            created_at: Some("2026-11-20T09:00:00Z".into()),
            tool_version: None,
            objects: Present::default(),
            granted_to: vec![],
            problems: vec![],
        };
        let rows = [
            row("ci-cd", "secret", None),
            row("deployer", "request", Some("2026-12-27T12:00:00Z")),
            row("old", "request", None),
        ];
        let text = table(&rows, now, Layout::default());
        let wide = table(
            &rows,
            now,
            Layout {
                wide: true,
                headers: false,
            },
        );
        assert_eq!(wide.lines().count(), 3, "no header: {wide}");
        assert!(
            wide.lines()
                .all(|l| l.ends_with("   -   0") && !l.starts_with("NAMESPACE")),
            "wide adds the objects and problems columns: {wide}"
        );
        let lines: Vec<&str> = text.lines().collect();
        assert!(
            lines[0].starts_with("NAMESPACE   NAME       KINDS          TOKEN"),
            "{text}"
        );
        assert!(
            lines[1].contains("services(ro)") && lines[1].contains("never"),
            "{text}"
        );
        assert!(
            lines[1].contains("2h") && lines[1].contains("2026-11-20"),
            "{text}"
        );
        assert!(
            lines[2].contains("in 30d") && lines[2].contains("unknown"),
            "{text}"
        );
        assert!(
            lines[3].contains("request") && lines[3].contains("unknown"),
            "{text}"
        );
    }

    proptest::proptest! {
        #[test]
        fn the_table_holds_no_control_character_whatever_the_cluster_says(
            namespace in proptest::prelude::any::<String>(),
            name in proptest::prelude::any::<String>(),
            resource in proptest::prelude::any::<String>(),
            kind in proptest::prelude::any::<String>(),
            created_by in proptest::prelude::any::<String>(),
            created_at in proptest::prelude::any::<String>(),
            expires in proptest::prelude::any::<String>(),
        ) {
            let now: jiff::Timestamp = "2026-11-27T12:00:00Z".parse().unwrap();
            let row = IdentityRow {
                namespace,
                name,
                kinds: vec![KindGrant { resource, verbs: vec!["get".into()] }],
                token: TokenInfo {
                    kind: Some(kind),
                    issued_at: Some(created_at.clone()),
                    expires_at: Some(expires),
                    last_used: None,
                    secrets: vec![],
                },
                created_by: Some(created_by),
                created_at: Some(created_at),
                tool_version: None,
                objects: Present::default(),
                granted_to: vec![],
                problems: vec![],
            };
            let text = table(&[row], now, Layout::default());
            proptest::prop_assert!(
                !text.chars().any(|c| c.is_control() && c != '\n'),
                "{:?}", text
            );
        }
    }
}
