//! Go-compatible text, so the plugin can print exactly what the server and
//! kubectl print.
//!
//! * [`go_quote`] is `strconv.Quote` (what `%q` does to a string);
//! * [`go_quote_list`] is `%q` applied to a `[]string`: `["a" "b"]`;
//! * [`go_list`] is `%v` applied to a `[]string`: `[a b]`;
//! * [`compact_string`] is `CompactString` from `pkg/apis/rbac/v1/evaluation_helpers.go`;
//! * [`policy_rule_string`] is the gogo-protobuf generated `(*PolicyRule).String()`
//!   of `k8s.io/api/rbac/v1`, which kubectl's `SortableRuleSlice` sorts by.

use crate::rbac::rule::Rule;

/// True for characters Go's `strconv.IsPrint` accepts. Exact for ASCII and
/// Latin-1; beyond that an approximation (Rust has no Unicode general category
/// in std): controls, non-ASCII spaces and the common format characters are
/// escaped. RBAC fields are ASCII in practice.
fn go_is_print(c: char) -> bool {
    if c == ' ' {
        return true;
    }
    if c.is_control() || c.is_whitespace() {
        return false;
    }
    !matches!(
        c,
        '\u{00AD}'
            | '\u{061C}'
            | '\u{180E}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{206F}'
            | '\u{FEFF}'
            | '\u{FFF9}'..='\u{FFFB}'
            | '\u{E000}'..='\u{F8FF}'
            | '\u{F0000}'..='\u{10FFFF}'
    )
}

/// `strconv.Quote`: double-quoted, Go escapes.
pub fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if go_is_print(c) => out.push(c),
            '\u{07}' => out.push_str("\\a"),
            '\u{08}' => out.push_str("\\b"),
            '\u{0C}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{0B}' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c == '\u{7F}' => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c if (c as u32) < 0x10000 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push_str(&format!("\\U{:08x}", c as u32)),
        }
    }
    out.push('"');
    out
}

/// `fmt.Sprintf("%q", list)`: `["a" "b"]`, `[]` when empty.
pub fn go_quote_list(list: &[String]) -> String {
    let items: Vec<String> = list.iter().map(|s| go_quote(s)).collect();
    format!("[{}]", items.join(" "))
}

/// `fmt.Sprintf("%v", list)`: `[a b]`, `[]` when empty.
pub fn go_list(list: &[String]) -> String {
    format!("[{}]", list.join(" "))
}

/// `CompactString`: the form the escalation error lists missing rules in,
/// e.g. `{APIGroups:["apps"], Resources:["deployments"], Verbs:["create" "delete"]}`.
/// Empty fields are left out; the field order is APIGroups, Resources,
/// NonResourceURLs, ResourceNames, Verbs.
pub fn compact_string(rule: &Rule) -> String {
    let fields = [
        ("APIGroups", &rule.api_groups),
        ("Resources", &rule.resources),
        ("NonResourceURLs", &rule.non_resource_urls),
        ("ResourceNames", &rule.resource_names),
        ("Verbs", &rule.verbs),
    ];
    let parts: Vec<String> = fields
        .iter()
        .filter(|(_, list)| !list.is_empty())
        .map(|(name, list)| format!("{name}:{}", go_quote_list(list)))
        .collect();
    format!("{{{}}}", parts.join(", "))
}

/// The gogo-generated `(*PolicyRule).String()`:
/// `&PolicyRule{Verbs:[get],APIGroups:[apps],Resources:[deployments],ResourceNames:[],NonResourceURLs:[],}`.
/// kubectl sorts `auth can-i --list` rows and `describe role` rules by it.
pub fn policy_rule_string(rule: &Rule) -> String {
    format!(
        "&PolicyRule{{Verbs:{},APIGroups:{},Resources:{},ResourceNames:{},NonResourceURLs:{},}}",
        go_list(&rule.verbs),
        go_list(&rule.api_groups),
        go_list(&rule.resources),
        go_list(&rule.resource_names),
        go_list(&rule.non_resource_urls),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn quote_plain_and_escapes() {
        assert_eq!(go_quote("apps"), "\"apps\"");
        assert_eq!(go_quote(""), "\"\"");
        assert_eq!(go_quote("a\"b"), "\"a\\\"b\"");
        assert_eq!(go_quote("a\\b"), "\"a\\\\b\"");
        assert_eq!(go_quote("a\nb\tc"), "\"a\\nb\\tc\"");
        assert_eq!(
            go_quote("\u{07}\u{08}\u{0C}\r\u{0B}"),
            "\"\\a\\b\\f\\r\\v\""
        );
        assert_eq!(go_quote("\u{01}"), "\"\\x01\"");
        assert_eq!(go_quote("\u{7F}"), "\"\\x7f\"");
        assert_eq!(go_quote("*"), "\"*\"");
        assert_eq!(go_quote("/api/*"), "\"/api/*\"");
    }

    #[test]
    fn quote_non_ascii() {
        // printable letters stay as they are (strconv.Quote is not ASCII-only)
        assert_eq!(go_quote("åäö"), "\"åäö\"");
        assert_eq!(go_quote("日本"), "\"日本\"");
        // C1 controls and invisible format characters are escaped
        assert_eq!(go_quote("\u{85}"), "\"\\u0085\"");
        assert_eq!(go_quote("\u{a0}"), "\"\\u00a0\"");
        assert_eq!(go_quote("\u{200b}"), "\"\\u200b\"");
        assert_eq!(go_quote("\u{feff}"), "\"\\ufeff\"");
        assert_eq!(go_quote("\u{F0000}"), "\"\\U000f0000\"");
    }

    #[test]
    fn quote_list_is_space_separated() {
        assert_eq!(
            go_quote_list(&s(&["create", "delete"])),
            "[\"create\" \"delete\"]"
        );
        assert_eq!(go_quote_list(&s(&[""])), "[\"\"]");
        assert_eq!(go_quote_list(&[]), "[]");
    }

    #[test]
    fn plain_list() {
        assert_eq!(go_list(&s(&["get", "list"])), "[get list]");
        assert_eq!(go_list(&s(&[""])), "[]");
        assert_eq!(go_list(&[]), "[]");
        assert_eq!(go_list(&s(&["", "apps"])), "[ apps]");
    }

    #[test]
    fn compact_string_matches_server_examples() {
        let r = Rule::resource(&["apps"], &["deployments"], &["create", "delete"]);
        assert_eq!(
            compact_string(&r),
            r#"{APIGroups:["apps"], Resources:["deployments"], Verbs:["create" "delete"]}"#
        );
        let core = Rule::resource(&[""], &["secrets"], &["get"]);
        assert_eq!(
            compact_string(&core),
            r#"{APIGroups:[""], Resources:["secrets"], Verbs:["get"]}"#
        );
    }

    #[test]
    fn compact_string_field_order_and_omission() {
        let r = Rule::resource(&[""], &["configmaps"], &["get"])
            .with_names(["a"])
            .with_urls(["/x"]);
        assert_eq!(
            compact_string(&r),
            r#"{APIGroups:[""], Resources:["configmaps"], NonResourceURLs:["/x"], ResourceNames:["a"], Verbs:["get"]}"#
        );
        let n = Rule::non_resource(&["/healthz"], &["get"]);
        assert_eq!(
            compact_string(&n),
            r#"{NonResourceURLs:["/healthz"], Verbs:["get"]}"#
        );
        assert_eq!(compact_string(&Rule::default()), "{}");
    }

    #[test]
    fn gogo_string() {
        let r = Rule::resource(&["apps"], &["deployments"], &["get", "list"]);
        assert_eq!(
            policy_rule_string(&r),
            "&PolicyRule{Verbs:[get list],APIGroups:[apps],Resources:[deployments],ResourceNames:[],NonResourceURLs:[],}"
        );
        let n = Rule::non_resource(&["/api"], &["get"]);
        assert_eq!(
            policy_rule_string(&n),
            "&PolicyRule{Verbs:[get],APIGroups:[],Resources:[],ResourceNames:[],NonResourceURLs:[/api],}"
        );
    }
}
