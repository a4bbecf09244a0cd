//! The terminal: where human text goes, whether questions may be asked, colours and spinners.
//!
//! Human text goes to stderr so stdout stays clean for data (`--dry-run` YAML).
//! Questions are asked only when stdin and stderr are both terminals and `--yes` was not
//! given: dialoguer would otherwise wait on the keyboard, or loop when there is no terminal.

use std::io::IsTerminal;
use std::time::Duration;

use console::{Style, measure_text_width, style, truncate_str};
use dialoguer::theme::{ColorfulTheme, Theme};

mod look;
use look::Look;

use crate::error::{Error, Result};
use crate::text::{LongWord, printable};

/// Whether a command may ask questions at all.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Prompts {
    /// On a terminal, ask.
    Ask,
    /// Never ask (`--yes`, or a command without questions).
    Never,
}

impl Prompts {
    /// `Never` with `--yes`, else `Ask`.
    pub fn unless(yes: bool) -> Prompts {
        if yes { Prompts::Never } else { Prompts::Ask }
    }
}

/// `NO_COLOR` is set: any non-empty value turns colour off (no-color.org), `NO_COLOR=0` too.
fn no_color() -> bool {
    std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty())
}

/// Colour for data on stdout (the audit table): on a terminal, or with `CLICOLOR_FORCE`
/// (non-empty and not `0`); never with [`no_color`].
pub fn stdout_color() -> bool {
    if no_color() {
        return false;
    }
    std::env::var_os("CLICOLOR_FORCE").is_some_and(|v| !v.is_empty() && v != "0")
        || std::io::stdout().is_terminal()
}

/// How much a command tells the person running it (`-q`, the default, `-v`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub enum Verbosity {
    /// Warnings and errors only; the command prints its one result (a path) on stdout.
    Quiet,
    /// A screen or two: what happens, and what to do next.
    #[default]
    Normal,
    /// Also the details: every permission held, whole objects, every check.
    Verbose,
}

pub struct Ui {
    interactive: bool,
    progress: bool,
    verbosity: Verbosity,
}

impl Ui {
    /// Looks at the terminal and the environment ([`no_color`]).
    pub fn detect(prompts: Prompts) -> Ui {
        let stderr_tty = std::io::stderr().is_terminal();
        if no_color() || !stderr_tty {
            console::set_colors_enabled_stderr(false);
            console::set_colors_enabled(false);
        }
        Ui {
            interactive: prompts == Prompts::Ask && std::io::stdin().is_terminal() && stderr_tty,
            progress: stderr_tty,
            verbosity: Verbosity::Normal,
        }
    }

    /// The same, telling as much as `verbosity` says.
    pub fn with_verbosity(mut self, verbosity: Verbosity) -> Ui {
        self.verbosity = verbosity;
        if verbosity == Verbosity::Quiet {
            self.progress = false;
        }
        self
    }

    pub fn verbosity(&self) -> Verbosity {
        self.verbosity
    }

    fn quiet(&self) -> bool {
        self.verbosity == Verbosity::Quiet
    }

    /// How wide the lines said on stderr may be: the terminal's width, else 100.
    pub fn width(&self) -> usize {
        terminal_columns().unwrap_or(100)
    }

    /// Never asks and shows progress as plain lines, never spinners: for work that runs
    /// concurrently (audit's fleet), whose spinners would draw over each other.
    pub fn lines_only() -> Ui {
        let mut ui = Ui::detect(Prompts::Never);
        ui.progress = false;
        ui
    }

    /// May we ask questions?
    pub fn interactive(&self) -> bool {
        self.interactive
    }

    // Everything said here may quote the cluster (names, subjects, messages): it is shown
    // with control characters escaped (crate::text::printable).
    pub fn say(&self, text: impl AsRef<str>) {
        if !self.quiet() {
            eprintln!("{}", self.fit(&printable(text.as_ref())));
        }
    }

    fn fit(&self, text: &str) -> String {
        fit_to_stderr(text)
    }

    pub fn heading(&self, text: impl AsRef<str>) {
        if !self.quiet() {
            eprintln!("\n{}", style(printable(text.as_ref())).bold());
        }
    }

    pub fn ok(&self, text: impl AsRef<str>) {
        if !self.quiet() {
            eprintln!(
                "{}",
                self.fit(&format!(
                    "{} {}",
                    style("✓").green(),
                    printable(text.as_ref())
                ))
            );
        }
    }

    pub fn warn(&self, text: impl AsRef<str>) {
        eprintln!(
            "{}",
            self.fit(&format!(
                "{} {}",
                style("warning:").yellow().bold(),
                printable(text.as_ref())
            ))
        );
    }

    pub fn dim(&self, text: impl AsRef<str>) {
        if !self.quiet() {
            eprintln!("{}", Style::new().dim().apply_to(printable(text.as_ref())));
        }
    }

    fn theme() -> Look {
        Look {
            inner: ColorfulTheme::default(),
            color: console::colors_enabled_stderr(),
        }
    }

    /// A prompt stopped by Esc, Ctrl-C or a failing terminal: the cursor is shown again (a
    /// select hides it) and the line the prompt stood on is ended, so what is said next starts
    /// a line of its own.
    fn prompt_error(e: dialoguer::Error) -> Error {
        restore_after_prompt();
        match e {
            dialoguer::Error::IO(io) if io.kind() == std::io::ErrorKind::Interrupted => {
                Error::Cancelled
            }
            other => Error::Terminal(format!("the terminal prompt failed: {other}")),
        }
    }

    /// Fits a prompt's text to the terminal: a question wider than the terminal is said first,
    /// wrapped at word boundaries (its lines aligned with the prompt's text after `? `), and
    /// its last line is the prompt (a prompt the terminal wraps is redrawn over the wrong
    /// lines).
    fn fit_prompt(&self, prompt: &str, reserve: usize) -> String {
        let prompt = printable(prompt).into_owned();
        let room = self.width().saturating_sub(reserve + 1).max(10);
        if measure_text_width(&prompt) <= room {
            return prompt;
        }
        let wrapped = crate::text::wrap_words(&prompt, room, 0, LongWord::Cut);
        let mut lines: Vec<&str> = wrapped.lines().collect();
        let last = lines.pop().unwrap_or_default().to_string();
        for line in lines {
            eprintln!("  {line}");
        }
        last
    }

    /// Yes/no. Esc or Ctrl-C cancels the whole command.
    pub fn confirm(&self, prompt: &str, default: bool) -> Result<bool> {
        // "? " before, " (y/n) › " and the answer after.
        let prompt = self.fit_prompt(prompt, 2 + 9 + 4);
        dialoguer::Confirm::with_theme(&Self::theme())
            .with_prompt(prompt)
            .default(default)
            .interact_opt()
            .map_err(Self::prompt_error)?
            .ok_or_else(cancelled_prompt)
    }

    pub fn input(
        &self,
        prompt: &str,
        default: &str,
        validate: impl Fn(&String) -> std::result::Result<(), String>,
    ) -> Result<String> {
        dialoguer::Input::<String>::with_theme(&Self::theme())
            .with_prompt(prompt)
            .default(default.to_string())
            .validate_with(move |s: &String| validate(s))
            .interact_text()
            .map_err(Self::prompt_error)
    }

    /// Rows and the title of a list, each cut to fit one line of the terminal: dialoguer clears
    /// as many lines as it wrote rows, so a row the terminal wraps leaves a stale copy of the
    /// list behind at every key.
    fn fit_list(&self, prompt: &str, items: &[String]) -> (String, Vec<String>) {
        let width = self.width();
        // "? " and " › [Page 10/10] " around the title; a cursor and a box before a row.
        let title = fit(&printable(prompt), width.saturating_sub(2 + 17 + 1));
        let rows = items
            .iter()
            .map(|i| fit(&printable(i), width.saturating_sub(ROW_PREFIX + 1)))
            .collect();
        (title, rows)
    }

    /// A multi-select over `items`; returns the chosen indexes. The cursor's row is marked
    /// (`❯`, or `>` without colour) and ticked rows are `✔` (`[x]` without colour).
    pub fn multi_select(
        &self,
        prompt: &str,
        items: &[String],
        checked: &[bool],
    ) -> Result<Vec<usize>> {
        let theme = Self::theme();
        let (title, rows) = self.fit_list(prompt, items);
        let picked = dialoguer::MultiSelect::with_theme(&theme)
            .with_prompt(&title)
            .items(&rows)
            .defaults(checked)
            .max_length(20)
            .report(false)
            .interact_opt()
            .map_err(Self::prompt_error)?
            .ok_or_else(cancelled_prompt)?;
        // What was chosen, in words that fit: the first word of each row.
        let chosen: Vec<String> = picked
            .iter()
            .filter_map(|&i| items.get(i))
            .map(|i| printable(i.split_whitespace().next().unwrap_or("")).into_owned())
            .collect();
        let mut head = String::new();
        let _ = theme.format_multi_select_prompt_selection(&mut head, &title, &[]);
        let answer = if chosen.is_empty() {
            vec!["none".to_string()]
        } else {
            chosen
        };
        eprintln!(
            "{}",
            wrap_list(head.trim_end(), &answer, self.width() - 1, true)
        );
        Ok(picked)
    }

    pub fn select(&self, prompt: &str, items: &[String], default: usize) -> Result<usize> {
        let theme = Self::theme();
        let (title, rows) = self.fit_list(prompt, items);
        let picked = dialoguer::Select::with_theme(&theme)
            .with_prompt(&title)
            .items(&rows)
            .default(default)
            .report(false)
            .interact_opt()
            .map_err(Self::prompt_error)?
            .ok_or_else(cancelled_prompt)?;
        let mut line = String::new();
        let answer = printable(items[picked].split_whitespace().next().unwrap_or("")).into_owned();
        let _ = theme.format_select_prompt_selection(&mut line, &title, &answer);
        eprintln!("{}", fit(&line, self.width() - 1));
        Ok(picked)
    }

    /// A spinner on a terminal; a single line of text elsewhere.
    pub fn spinner(&self, text: &str) -> Spinner {
        if self.progress {
            let bar = indicatif::ProgressBar::new_spinner();
            bar.set_style(
                indicatif::ProgressStyle::with_template("{spinner} {msg}")
                    .expect("spinner template")
                    .tick_strings(&["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏", "✓"]),
            );
            bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
            bar.set_message(printable(text).into_owned());
            bar.enable_steady_tick(Duration::from_millis(100));
            Spinner {
                bar: Some(bar),
                quiet: false,
            }
        } else {
            if !self.quiet() {
                eprintln!("{}", printable(text));
            }
            Spinner {
                bar: None,
                quiet: self.quiet(),
            }
        }
    }
}

/// `text` wrapped at word boundaries to the terminal's width when stderr is one (a line's
/// continuation under its text); unchanged in a pipe or a log.
pub fn fit_to_stderr(text: &str) -> String {
    let Some(width) = terminal_columns() else {
        return text.to_string();
    };
    // One column spare: a line that fills the last column makes some terminals wrap early.
    text.lines()
        .map(|line| {
            let lead = line.len() - line.trim_start_matches(' ').len();
            crate::text::wrap_words(line, width - 1, lead + 2, LongWord::Keep)
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The width of the terminal stdout is, if it is one: data written to a pipe or a file is
/// never wrapped.
pub fn stdout_width() -> Option<usize> {
    let term = console::Term::stdout();
    term.is_term()
        .then(|| term.size_checked().map(|(_, cols)| cols as usize))
        .flatten()
        .filter(|&cols| cols >= 20)
}

/// `head` then `items` comma-separated and wrapped at `width`, or at the terminal's width
/// when stderr is a narrower terminal (where this text goes); continuation lines indented.
pub fn wrap(head: &str, items: &[String], width: usize) -> String {
    match terminal_columns() {
        Some(cols) if cols <= width => wrap_list(head, items, cols - 1, true),
        _ => wrap_list(head, items, width, false),
    }
}

/// `head` then `items` comma-separated and wrapped at exactly `width` columns; `fit`: the
/// first item too goes on a line of its own when it does not fit after `head`.
fn wrap_list(head: &str, items: &[String], width: usize, fit: bool) -> String {
    let mut lines = vec![head.trim_end().to_string()];
    for (i, item) in items.iter().enumerate() {
        let piece = if i + 1 < items.len() {
            format!("{item},")
        } else {
            item.clone()
        };
        let last = lines.last_mut().expect("one line at least");
        let first_fits = i == 0 && (!fit || head.trim().is_empty());
        if measure_text_width(last) + 1 + measure_text_width(&piece) > width && !first_fits {
            lines.push(format!("      {piece}"));
        } else {
            last.push(' ');
            last.push_str(&piece);
        }
    }
    lines.join("\n")
}

/// `text` cut to `width` columns, with `…` where it was cut.
fn fit(text: &str, width: usize) -> String {
    truncate_str(text, width.max(2), "…").into_owned()
}

/// The columns of the terminal stderr is, if it is one.
fn terminal_columns() -> Option<usize> {
    let term = console::Term::stderr();
    if !term.is_term() {
        return None;
    }
    term.size_checked()
        .map(|(_, cols)| cols as usize)
        .filter(|c| *c >= 20)
}

/// Esc at a prompt: the terminal restored, the command cancelled.
fn cancelled_prompt() -> Error {
    restore_after_prompt();
    Error::Cancelled
}

/// Shows the cursor again and ends the prompt's line.
fn restore_after_prompt() {
    let term = console::Term::stderr();
    if term.is_term() {
        let _ = term.show_cursor();
        let _ = term.write_line("");
    }
}

/// Columns before a list row's text: a cursor mark, a box and spaces (`> [x] `).
const ROW_PREFIX: usize = 6;

/// Writes data (YAML, JSON, a table) to stdout. A reader that went away (`| head`) ends the
/// output quietly instead of a panic.
pub fn print_data(text: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes()).and_then(|()| out.flush());
}

pub struct Spinner {
    bar: Option<indicatif::ProgressBar>,
    quiet: bool,
}

impl Spinner {
    pub fn finish(self, text: &str) {
        match self.bar {
            Some(bar) => bar.finish_with_message(printable(text).into_owned()),
            None if self.quiet => {}
            None => eprintln!("{} {}", style("✓").green(), printable(text)),
        }
    }

    pub fn fail(self) {
        if let Some(bar) = self.bar {
            bar.finish_and_clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_wrap_after_the_head_and_fit_rows_to_the_width() {
        let items: Vec<String> = ["deployments.apps", "services", "configmaps"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        // As before: the first item stays on the head's line.
        assert_eq!(
            wrap_list("  [get list watch]", &items, 30, false),
            "  [get list watch] deployments.apps,\n      services, configmaps"
        );
        // Fitted to a terminal: it moves down rather than overflow.
        assert_eq!(
            wrap_list("  [get list watch]", &items, 30, true),
            "  [get list watch]\n      deployments.apps,\n      services, configmaps"
        );
        assert_eq!(fit("deployments.apps (Deployment)", 12), "deployments…");
        assert_eq!(fit("pods", 12), "pods");
    }

    #[test]
    fn the_cursor_row_is_marked_in_plain_text_without_colour() {
        let plain = Look {
            inner: ColorfulTheme::default(),
            color: false,
        };
        let row = |checked, active| {
            let mut s = String::new();
            plain
                .format_multi_select_prompt_item(&mut s, "pods (Pod)", checked, active)
                .unwrap();
            s
        };
        assert_eq!(row(false, true), "> [ ] pods (Pod)");
        assert_eq!(row(true, false), "  [x] pods (Pod)");
        let mut s = String::new();
        plain
            .format_select_prompt_item(&mut s, "web-app", true)
            .unwrap();
        assert_eq!(s, "> web-app");
        for text in [row(true, true), row(false, false)] {
            assert_eq!(measure_text_width(&text) - "pods (Pod)".len(), ROW_PREFIX);
        }
    }
}
