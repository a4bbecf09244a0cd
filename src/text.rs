//! Text for people: cluster data made safe to print on a terminal, URLs without their
//! passwords, and paths quoted for a POSIX shell.
//!
//! Names, annotations and subjects come from the cluster, so anyone who may create a
//! RoleBinding could otherwise write escape sequences into an auditor's terminal. Every human
//! output (tables, Markdown, init's reports, error messages) goes through [`printable`]; JSON
//! and SARIF keep the exact bytes (their encoders escape control characters themselves).

use std::borrow::Cow;

/// Whether `c` would be interpreted by a terminal rather than shown: C0 controls other than
/// tab and line feed, DEL, C1 controls, and the Unicode bidirectional overrides and isolates
/// (which reorder what follows them on screen).
pub fn is_unsafe(c: char) -> bool {
    matches!(c,
        '\u{0}'..='\u{8}' | '\u{b}'..='\u{1f}' | '\u{7f}'..='\u{9f}'
        | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// `text` with every character a terminal would act on replaced by its visible escape
/// (`\u{1b}` for ESC, `\r` for carriage return), as Rust's `escape_debug` writes them.
pub fn printable(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_unsafe) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if is_unsafe(c) {
            out.extend(c.escape_debug());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// [`printable`], and line breaks and tabs too: for one-line values (names, table cells).
pub fn one_line(text: &str) -> String {
    printable(text).replace('\n', "\\n").replace('\t', " ")
}

/// `url` with any `user:password@` replaced by `…@`: a password in a server or proxy URL
/// must never be printed nor embedded in a report.
pub fn redact_userinfo(url: &str) -> String {
    let Some(scheme_end) = url.find("://") else {
        return url.to_string();
    };
    let rest = &url[scheme_end + 3..];
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => format!("{}://…@{}", &url[..scheme_end], &rest[at + 1..]),
        None => url.to_string(),
    }
}

/// `url` without any `user:password@`, for a kubeconfig that authenticates with a token.
pub fn strip_userinfo(url: &str) -> String {
    let Some(scheme_end) = url.find("://") else {
        return url.to_string();
    };
    let rest = &url[scheme_end + 3..];
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => format!("{}://{}", &url[..scheme_end], &rest[at + 1..]),
        None => url.to_string(),
    }
}

/// `text` as one word for a POSIX shell: as it is when it holds only characters no shell
/// treats specially, else in single quotes (a `'` inside written as `'\''`).
pub fn shell_quote(text: &str) -> String {
    let plain = !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "@%+=:,./_-".contains(c));
    if plain {
        text.to_string()
    } else {
        format!("'{}'", text.replace('\'', "'\\''"))
    }
}

/// What [`wrap_words`] does with a word longer than a line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LongWord {
    /// Leave it whole (a path, a URL, a command stays copyable); the terminal wraps it.
    Keep,
    /// Cut it at the width: for prompts, which a line the terminal wraps would misdraw.
    Cut,
}

/// Word-wraps `line` to `width` columns (as a terminal shows them: colour sequences take
/// none), keeping its leading spaces, continuation lines indented by `indent` spaces.
pub fn wrap_words(line: &str, width: usize, indent: usize, long: LongWord) -> String {
    if console::measure_text_width(line) <= width {
        return line.to_string();
    }
    let lead = line.len() - line.trim_start_matches(' ').len();
    let indent = indent.min(width / 2);
    let mut out = String::with_capacity(line.len() + 16);
    let mut used = lead;
    out.push_str(&line[..lead]);
    let mut first = true;
    for word in line[lead..].split(' ') {
        let mut word = word.to_string();
        if !first && used + 1 + console::measure_text_width(&word) > width {
            out.push('\n');
            out.push_str(&" ".repeat(indent));
            used = indent;
        } else if !first {
            out.push(' ');
            used += 1;
        }
        while long == LongWord::Cut && used + console::measure_text_width(&word) > width {
            let room = width.saturating_sub(used).max(1);
            let head: String = word.chars().take(room).collect();
            word = word.chars().skip(room).collect();
            out.push_str(&head);
            out.push('\n');
            out.push_str(&" ".repeat(indent));
            used = indent;
        }
        used += console::measure_text_width(&word);
        out.push_str(&word);
        first = false;
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn words_wrap_at_spaces_long_ones_kept_or_cut() {
        use super::{LongWord, wrap_words};
        let text = "Nothing is chosen yet: tick a kind with Space";
        assert_eq!(
            wrap_words(text, 20, 2, LongWord::Keep),
            "Nothing is chosen\n  yet: tick a kind\n  with Space"
        );
        assert_eq!(
            wrap_words("  ! a gap that is long", 12, 4, LongWord::Keep),
            "  ! a gap\n    that is\n    long"
        );
        let long = "a averyveryverylongwordindeed b";
        let kept = wrap_words(long, 12, 0, LongWord::Keep);
        assert!(
            kept.lines().any(|l| l == "averyveryverylongwordindeed"),
            "{kept}"
        );
        let cut = wrap_words(long, 12, 0, LongWord::Cut);
        assert!(
            cut.lines().all(|l| console::measure_text_width(l) <= 12),
            "{cut}"
        );
        assert_eq!(cut.replace(['\n', ' '], ""), long.replace(' ', ""));
        assert_eq!(wrap_words("short", 80, 2, LongWord::Keep), "short");
    }

    use super::*;
    use proptest::prelude::*;

    #[test]
    fn escapes_become_visible() {
        assert_eq!(printable("ok"), "ok");
        assert_eq!(printable("a\u{1b}[2Jb"), "a\\u{1b}[2Jb");
        assert_eq!(printable("x\ry"), "x\\ry");
        assert_eq!(printable("line\nnext\ttab"), "line\nnext\ttab");
        assert_eq!(printable("\u{9b}31m"), "\\u{9b}31m");
        assert_eq!(printable("\u{202e}txt"), "\\u{202e}txt");
        assert_eq!(one_line("a\nb"), "a\\nb");
    }

    #[test]
    fn userinfo_is_redacted_or_stripped() {
        assert_eq!(
            redact_userinfo("https://user:pw@api:6443/x"),
            "https://…@api:6443/x"
        );
        assert_eq!(redact_userinfo("http://proxy:3128/"), "http://proxy:3128/");
        assert_eq!(
            redact_userinfo("https://api/path@not-userinfo"),
            "https://api/path@not-userinfo"
        );
        assert_eq!(strip_userinfo("https://u:p@api:6443"), "https://api:6443");
    }

    #[test]
    fn shell_words_are_quoted_only_when_needed() {
        assert_eq!(
            shell_quote("kubeconfig_ci_cd.yaml"),
            "kubeconfig_ci_cd.yaml"
        );
        assert_eq!(shell_quote("/tmp/a b"), "'/tmp/a b'");
        assert_eq!(shell_quote("it's;rm"), "'it'\\''s;rm'");
        assert_eq!(shell_quote("$(x)"), "'$(x)'");
        assert_eq!(shell_quote(""), "''");
    }

    proptest! {
        #[test]
        fn printable_leaves_no_control_character(s in any::<String>()) {
            let out = printable(&s);
            prop_assert!(!out.chars().any(is_unsafe));
            let line = one_line(&s);
            prop_assert!(!line.chars().any(|c| c.is_control()));
        }
    }
}
