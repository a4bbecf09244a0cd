//! The real wizard in a pseudo-terminal: confirm the context, pick kinds, accept,
//! and the kubeconfig it writes works.

use crate::common::{env, kubectl_wanted};
use rexpect::session::{Options, spawn_with_options};

const TIMEOUT_MS: u64 = 30_000;

/// Sends keys without a newline (rexpect buffers them until flushed).
fn press(p: &mut rexpect::session::PtySession, keys: &str) {
    p.send(keys).unwrap();
    p.flush().unwrap();
}

#[test]
fn the_wizard_walks_through_and_writes_a_working_kubeconfig() {
    let env = env();
    let mut t = Term::spawn(&env, "alice", 120, "init", false);
    t.expect("namespace  team-a");
    t.expect("Set up CI/CD access in this context and namespace?");
    t.press("y");
    t.expect("Name for the ServiceAccount, Role and RoleBinding");
    t.p.send_line("deployer").unwrap();
    t.expect("Start from a preset");
    t.press("\r"); // web-app, the default
    t.expect("Filter the kinds by a word");
    t.p.send_line("cronjob").unwrap();
    t.expect("cronjobs.batch (CronJob)");
    t.press(" "); // tick it
    t.press("\r");
    t.expect("Look for more kinds?");
    t.press("n");
    t.expect("Which of these may the pipeline only read");
    t.press("\r");
    t.expect("How should the pipeline's token be made?");
    t.press("\r"); // a Secret token
    t.expect("Write the pipeline's kubeconfig to");
    t.press("\r");
    t.expect("Apply these objects?");
    t.press("y");
    t.expect("Verified with the new token");
    t.expect("Wrote kubeconfig_ci_cd.yaml");
    t.eof();
    env.assert_no_token_in(&t.text());

    let role = env
        .sandbox()
        .object("rbac.authorization.k8s.io", "roles", "team-a", "deployer")
        .expect("role created");
    let text = role["rules"].to_string();
    for resource in ["cronjobs", "deployments", "services", "configmaps"] {
        assert!(text.contains(resource), "{resource} in {text}");
    }
    let written = env.path("kubeconfig_ci_cd.yaml");
    assert!(written.exists());
    if kubectl_wanted() {
        let can = env.kubectl(
            &written,
            &["auth", "can-i", "create", "cronjobs.batch"],
            None,
        );
        assert_eq!(can.stdout.trim(), "yes", "{can:?}");
    }
}

/// `argocd grant` on a terminal asks what the flags did not say: the namespaces, the kinds
/// (the same preset, filter and tick steps as init), read-only ones, the server, and to confirm.
#[test]
fn the_grant_wizard_asks_for_what_the_flags_left_out() {
    let env = env();
    env.seed(vec![serde_json::json!({
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
        "metadata": {"name": "alice-admin", "namespace": "demo"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "admin"},
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "alice"}],
    })]);
    let mut t = Term::spawn(&env, "alice", 140, "argocd grant -n team-a", false);
    t.expect("Namespaces Argo CD may deploy into");
    t.p.send_line("demo").unwrap();
    t.expect("Start from a preset");
    t.press("\r"); // web-app, the default
    t.expect("Filter the kinds by a word");
    t.p.send_line("cronjob").unwrap();
    t.expect("cronjobs.batch (CronJob)");
    t.press(" ");
    t.press("\r");
    t.expect("Look for more kinds?");
    t.press("n");
    t.expect("Which of these may Argo CD only read");
    t.press("\r");
    t.expect("Bind argocd-server too");
    t.press("y");
    t.expect("Create these grants?");
    t.press("y");
    t.expect("Namespace demo: Role argocd-team-a created, RoleBinding argocd-team-a created");
    t.eof();

    let binding = env
        .sandbox()
        .object(
            "rbac.authorization.k8s.io",
            "rolebindings",
            "demo",
            "argocd-team-a",
        )
        .expect("binding created");
    let subjects: Vec<&str> = binding["subjects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(subjects, ["argocd-application-controller", "argocd-server"]);
    let role = env
        .sandbox()
        .object(
            "rbac.authorization.k8s.io",
            "roles",
            "demo",
            "argocd-team-a",
        )
        .expect("role created");
    let text = role["rules"].to_string();
    for resource in ["cronjobs", "deployments", "services", "configmaps"] {
        assert!(text.contains(resource), "{resource} in {text}");
    }
}

/// A wizard in a pseudo-terminal of `cols` columns, keeping every byte it wrote.
struct Term {
    p: rexpect::session::PtySession,
    raw: String,
}

impl Term {
    /// `kubectl-cicd ARGS` as `user`, without colour unless `color`, escapes kept.
    fn spawn(env: &crate::common::Env, user: &str, cols: usize, args: &str, color: bool) -> Term {
        let mut cmd = env.terminal_command(user, cols, &format!("exec \"$PLUGIN\" {args}"));
        if color {
            cmd.env_remove("NO_COLOR").env("CLICOLOR_FORCE", "1");
        } else {
            cmd.env("NO_COLOR", "1");
        }
        let p = spawn_with_options(
            cmd,
            Options::new()
                .timeout_ms(Some(TIMEOUT_MS))
                .strip_ansi_escape_codes(false),
        )
        .expect("the wizard starts in a pseudo-terminal");
        Term {
            p,
            raw: String::new(),
        }
    }

    /// Waits for `text`. rexpect reads bytes as Latin-1 characters: the needle is spelt so too.
    fn expect(&mut self, text: &str) {
        let needle: String = text.bytes().map(char::from).collect();
        let before = self.p.exp_string(&needle).unwrap_or_else(|e| {
            panic!(
                "waiting for {text:?}: {e}\nscreen so far:\n{}",
                self.screen(120).text()
            )
        });
        self.raw.push_str(&before);
        self.raw.push_str(&needle);
    }

    /// What the program wrote, decoded as the UTF-8 it is.
    fn text(&self) -> String {
        let bytes: Vec<u8> = self.raw.chars().map(|c| c as u32 as u8).collect();
        String::from_utf8_lossy(&bytes).into_owned()
    }

    fn press(&mut self, keys: &str) {
        press(&mut self.p, keys);
    }

    /// Reads what the program writes until it has been quiet for a moment.
    fn settle(&mut self) {
        let mut quiet = 0;
        while quiet < 40 {
            match self.p.try_read() {
                Some(c) => {
                    self.raw.push(c);
                    quiet = 0;
                }
                None => {
                    std::thread::sleep(std::time::Duration::from_millis(10));
                    quiet += 1;
                }
            }
        }
    }

    fn eof(&mut self) {
        let rest = self.p.exp_eof().unwrap_or_default();
        self.raw.push_str(&rest);
    }

    fn screen(&self, cols: usize) -> crate::screen::Screen {
        let mut s = crate::screen::Screen::new(cols, 40);
        s.feed(&self.text());
        s
    }
}

const KIND_LIST: &str = "Kinds the pipeline may change";

/// At 80 columns the kind list's rows fit the terminal, so each redraw clears
/// exactly what the last one drew. The list has more kinds than a page, so every arrow key
/// redraws the title with the page (dialoguer's paging): the bytes hold the title once per
/// drawing (1 + presses), the screen exactly once, not once per press.
#[test]
fn wizard_kind_list_fits_80_columns_and_redraws_in_place() {
    let env = env();
    let mut t = Term::spawn(&env, "alice", 80, "init", false);
    t.expect("Set up CI/CD access in this context and namespace?");
    t.press("y");
    t.expect("Name for the ServiceAccount, Role and RoleBinding");
    t.p.send_line("deployer").unwrap();
    t.expect("Start from a preset");
    t.press("\r");
    t.expect("Filter the kinds by a word");
    t.p.send_line("").unwrap();
    t.expect(KIND_LIST);
    t.settle();
    let presses = 10;
    for _ in 0..presses {
        t.press("\x1b[B");
        t.settle();
    }
    let screen = t.screen(80);
    eprintln!("the kind list after {presses} presses:\n{}", screen.text());
    assert_eq!(
        t.text().matches(KIND_LIST).count(),
        presses + 1,
        "the page (title included) is drawn once per press"
    );
    assert_eq!(
        screen.count(KIND_LIST),
        1,
        "one title on the screen and in what scrolled off:\n{}",
        screen.all().join("\n")
    );
    for line in screen.all() {
        assert!(
            console::measure_text_width(&line) < 80,
            "a row as wide as the terminal wraps: {line:?}"
        );
    }
    t.p.send_control('c').unwrap();
    t.eof();
}

/// Whether `text` holds an SGR (colour) escape: `ESC [ digits ; ... m`.
fn has_colour(text: &str) -> bool {
    text.match_indices("\x1b[").any(|(i, _)| {
        let rest = &text[i + 2..];
        let params = rest
            .find(|c: char| !(c.is_ascii_digit() || c == ';'))
            .unwrap_or(rest.len());
        params > 0 && rest[params..].starts_with('m')
    })
}

fn to_the_kind_list(t: &mut Term, filter: &str) {
    t.expect("Set up CI/CD access in this context and namespace?");
    t.press("y");
    t.expect("Name for the ServiceAccount, Role and RoleBinding");
    t.p.send_line("deployer").unwrap();
    t.expect("Start from a preset");
    t.press("\r");
    t.expect("Filter the kinds by a word");
    t.p.send_line(filter).unwrap();
    t.expect(KIND_LIST);
    t.settle();
}

/// The cursor's row is marked in plain text, not by colour alone: `>` and `[x]`/`[ ]`
/// under NO_COLOR (and no colour escape at all), `❯` before the row with colour on.
#[test]
fn wizard_cursor_row_is_marked_without_colour_and_with_it() {
    let env = env();
    let mut t = Term::spawn(&env, "alice", 80, "init", false);
    to_the_kind_list(&mut t, "cronjob");
    let rows = |t: &Term| -> Vec<String> {
        t.screen(80)
            .visible()
            .into_iter()
            .filter(|l| l.contains("cronjobs.batch (") || l.contains("cronjobs.batch/status ("))
            .collect()
    };
    assert_eq!(
        rows(&t),
        [
            "> [ ] cronjobs.batch (CronJob)",
            "  [ ] cronjobs.batch/status (a CronJob's status, read-only)"
        ]
    );
    t.press("\x1b[B");
    t.press(" ");
    t.settle();
    assert_eq!(
        rows(&t),
        [
            "  [ ] cronjobs.batch (CronJob)",
            "> [x] cronjobs.batch/status (a CronJob's status, read-only)"
        ]
    );
    assert!(!has_colour(&t.text()), "NO_COLOR, yet colour was sent");
    t.press("\x1b");
    t.eof();

    let mut t = Term::spawn(&env, "alice", 80, "init", true);
    to_the_kind_list(&mut t, "cronjob");
    t.press("\x1b[B");
    t.settle();
    assert!(has_colour(&t.text()), "colour is on");
    assert_eq!(
        rows(&t),
        [
            "  ⬚ cronjobs.batch (CronJob)",
            "❯ ⬚ cronjobs.batch/status (a CronJob's status, read-only)"
        ]
    );
    t.press("\x1b");
    t.eof();
}

/// Ctrl-C in the kind list (where the cursor is hidden) shows the cursor again, says
/// that nothing was changed on a line of its own, and exits 130; nothing was written.
#[test]
fn wizard_ctrl_c_restores_the_terminal_and_says_nothing_was_changed() {
    let env = env();
    let mut t = Term::spawn(&env, "alice", 80, "init", false);
    to_the_kind_list(&mut t, "");
    let hidden_at = t
        .text()
        .rfind("\x1b[?25l")
        .expect("the list hides the cursor");
    assert!(!t.text()[hidden_at..].contains("\x1b[?25h"));
    t.p.send_control('c').unwrap();
    t.expect("cancelled: nothing was changed");
    t.eof();
    let text = t.text();
    assert!(
        text[hidden_at..].contains("\x1b[?25h"),
        "the cursor-show sequence was sent after Ctrl-C: {:?}",
        &text[text.len().saturating_sub(300)..]
    );
    let screen = t.screen(80);
    assert!(screen.cursor_visible);
    assert_eq!(
        screen.visible().last().map(String::as_str),
        Some("cancelled: nothing was changed"),
        "{}",
        screen.text()
    );
    assert_eq!(screen.count("cancelled"), 1, "said once");
    let status = t.p.process().wait().unwrap();
    assert!(
        matches!(status, rexpect::process::WaitStatus::Exited(_, 130)),
        "{status:?}"
    );
    assert!(
        env.sandbox()
            .object("rbac.authorization.k8s.io", "roles", "team-a", "deployer")
            .is_none()
    );

    // In a text question too (the cursor stands after the question there).
    let mut t = Term::spawn(&env, "alice", 80, "init", false);
    t.expect("Set up CI/CD access in this context and namespace?");
    t.press("y");
    t.expect("Name for the ServiceAccount, Role and RoleBinding");
    t.settle();
    t.p.send_control('c').unwrap();
    t.expect("cancelled: nothing was changed");
    t.eof();
    let screen = t.screen(80);
    assert_eq!(
        screen.visible().last().map(String::as_str),
        Some("cancelled: nothing was changed"),
        "{}",
        screen.text()
    );
}

/// Enter on a list with nothing ticked (and nothing chosen) explains and shows the
/// same list again; ticking then goes on. The scale subresource is offered next to
/// its kind and ends up in the Role.
#[test]
fn wizard_empty_choice_goes_back_to_the_list_and_offers_scale() {
    let env = env();
    let mut t = Term::spawn(&env, "alice", 80, "init", false);
    t.expect("Set up CI/CD access in this context and namespace?");
    t.press("y");
    t.expect("Name for the ServiceAccount, Role and RoleBinding");
    t.p.send_line("deployer").unwrap();
    t.expect("Start from a preset");
    t.press("\x1b[A"); // up from web-app wraps to "none"
    t.press("\r");
    t.expect("Filter the kinds by a word");
    t.p.send_line("deploy").unwrap();
    t.expect(KIND_LIST);
    t.settle();
    let rows: Vec<String> = t
        .screen(80)
        .visible()
        .into_iter()
        .filter(|l| {
            [
                "deployments.apps (",
                "deployments.apps/scale (",
                "deployments.apps/status (",
            ]
            .iter()
            .any(|k| l.contains(k))
        })
        .collect();
    assert_eq!(
        rows,
        [
            "> [ ] deployments.apps (Deployment)",
            "  [ ] deployments.apps/scale (kubectl scale of a Deployment)",
            "  [ ] deployments.apps/status (a Deployment's status, read-only)",
        ]
    );
    t.press("\r"); // Enter instead of Space
    t.expect("Nothing is chosen yet");
    t.expect(KIND_LIST);
    t.settle();
    let screen = t.screen(80);
    let all = screen.all();
    let said = all
        .iter()
        .position(|l| l.starts_with("Nothing is chosen yet"))
        .expect("explained");
    assert!(
        all[said..]
            .iter()
            .any(|l| l.starts_with("? Kinds the pipeline may change")),
        "the list again, below the explanation:\n{}",
        screen.text()
    );
    for line in &all {
        assert!(console::measure_text_width(line) < 80, "{line:?}");
    }
    assert_eq!(
        screen.count("Filter the kinds"),
        1,
        "no new filter question"
    );
    assert!(!t.text().contains("no kinds chosen"));
    t.press(" "); // deployments.apps
    t.press("\x1b[B");
    t.press(" "); // deployments.apps/scale
    t.press("\r");
    t.expect("Look for more kinds?");
    t.press("n");
    t.expect("Which of these may the pipeline only read");
    t.press("\r");
    t.expect("How should the pipeline's token be made?");
    t.press("\r");
    t.expect("Write the pipeline's kubeconfig to");
    // A path init could not write is refused at once and asked again, not after applying.
    t.p.send_line("no-such-folder/ci.yaml").unwrap();
    t.expect("choose another path");
    t.expect("Write the pipeline's kubeconfig to");
    t.press("\r");
    t.expect("Apply these objects?");
    t.press("y");
    t.expect("Verified with the new token");
    t.eof();
    assert!(env.path("kubeconfig_ci_cd.yaml").exists());
    let role = env
        .sandbox()
        .object("rbac.authorization.k8s.io", "roles", "team-a", "deployer")
        .expect("role created");
    let rules = role["rules"].as_array().unwrap();
    assert!(
        rules.iter().any(
            |r| r["resources"] == serde_json::json!(["deployments/scale"])
                && r["verbs"] == serde_json::json!(["get", "patch", "update"])
        ),
        "{rules:?}"
    );
}

/// bob may not create ServiceAccounts (nor a token either way). The rules review
/// says so before the first question: he is told at once what is missing and whom to ask,
/// and no question is asked.
#[test]
fn wizard_tells_bob_what_he_lacks_before_asking_anything() {
    let env = env();
    let mut t = Term::spawn(&env, "bob", 80, "init", false);
    t.expect("Set up CI/CD access in this context and namespace?");
    t.press("y");
    t.expect("You may not create the ServiceAccount, Role and RoleBinding");
    t.eof();
    let screen = t.screen(80);
    let text = screen.all().join("\n");
    // The message is wrapped to the terminal: compare its words.
    let words = |t: &str| t.split_whitespace().collect::<Vec<_>>().join(" ");
    let flat = words(&text);
    for needed in [
        "create serviceaccounts",
        "patch serviceaccounts",
        "(a token Secret), or create serviceaccounts/token (a TokenRequest token)",
        "Nothing was asked and nothing was changed. Ask your cluster administrator",
    ] {
        assert!(flat.contains(needed), "{needed:?} in:\n{text}");
    }
    assert!(
        screen.all().iter().all(|l| l.chars().count() < 80),
        "wrapped at words: {text}"
    );
    assert!(
        !text.contains("create roles"),
        "bob may write Roles:\n{text}"
    );
    assert!(!t.text().contains("Name for the ServiceAccount"), "{text}");
    let status = t.p.process().wait().unwrap();
    assert!(
        matches!(status, rexpect::process::WaitStatus::Exited(_, 1)),
        "{status:?}"
    );
}

/// The questions: at 80 columns a risk explained before "Grant these risky
/// permissions anyway?" and a question longer than a line ("Bind argocd-server too ...") are
/// broken at spaces, never inside a word, and no line reaches the last column.
#[test]
fn wizard_questions_and_warnings_wrap_at_words_at_80_columns() {
    let env = env();
    env.seed(vec![serde_json::json!({
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
        "metadata": {"name": "alice-admin", "namespace": "demo"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "admin"},
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "alice"}],
    })]);
    let mut t = Term::spawn(&env, "alice", 80, "argocd grant -n team-a", false);
    t.expect("Namespaces Argo CD may deploy into");
    t.p.send_line("demo").unwrap();
    t.expect("Start from a preset");
    t.press("\r");
    t.expect("Filter the kinds by a word");
    t.p.send_line("secret").unwrap();
    t.expect("secrets (Secret)");
    t.settle();
    t.press(" ");
    t.press("\r");
    t.expect("Look for more kinds?");
    t.press("n");
    t.expect("Which of these may Argo CD only read");
    t.press("\r");
    t.expect("Grant these risky permissions anyway?");
    t.press("n");
    t.expect("(y/n)");
    t.settle();
    let screen = t.screen(80);
    eprintln!("at 80 columns:\n{}", screen.text());
    let all = screen.all();
    for line in &all {
        assert!(
            console::measure_text_width(line) < 80,
            "{line:?} in\n{}",
            all.join("\n")
        );
    }
    // Joined again at the breaks, the texts are whole: each break was at a space.
    let joined = all.iter().map(|l| l.trim()).collect::<Vec<_>>().join(" ");
    let risk = kubectl_cicd::rbac::risky_findings(&[kubectl_cicd::rbac::Rule::resource(
        &[""],
        &["secrets"],
        &[
            "create", "delete", "get", "list", "patch", "update", "watch",
        ],
    )])
    .into_iter()
    .find(|r| r.blocks_init())
    .expect("secrets are risky")
    .to_string();
    assert!(
        joined.contains(&format!("warning: {risk}")),
        "{risk:?} in\n{joined}"
    );
    // The question's last line is the prompt, after dialoguer's `? `.
    assert!(
        joined
            .replace(" ? ", " ")
            .contains("Bind argocd-server too (the UI's live view, logs and deletes need it)?"),
        "{joined}"
    );
    t.press("\x1b");
    t.eof();
}
