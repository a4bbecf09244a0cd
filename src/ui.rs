//! The terminal: where human text goes, whether questions may be asked, colours and spinners.
//!
//! Human text goes to stderr so stdout stays clean for data (`--dry-run` YAML).
//! Questions are asked only when stdin and stderr are both terminals and `--yes` was not
//! given: dialoguer would otherwise wait on the keyboard, or loop when there is no terminal.

use std::io::IsTerminal;
use std::time::Duration;

use console::{Style, style};
use dialoguer::theme::ColorfulTheme;

use crate::error::{Error, Result};
use crate::text::printable;

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
        stderr_width().unwrap_or(100)
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

    fn theme() -> ColorfulTheme {
        ColorfulTheme::default()
    }

    fn prompt_error(e: dialoguer::Error) -> Error {
        match e {
            dialoguer::Error::IO(io) if io.kind() == std::io::ErrorKind::Interrupted => {
                Error::Cancelled
            }
            other => Error::Terminal(format!("the terminal prompt failed: {other}")),
        }
    }

    /// Yes/no. Esc or Ctrl-C cancels the whole command.
    pub fn confirm(&self, prompt: &str, default: bool) -> Result<bool> {
        dialoguer::Confirm::with_theme(&Self::theme())
            .with_prompt(printable(prompt))
            .default(default)
            .interact_opt()
            .map_err(Self::prompt_error)?
            .ok_or(Error::Cancelled)
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

    /// A multi-select over `items`; returns the chosen indexes.
    pub fn multi_select(
        &self,
        prompt: &str,
        items: &[String],
        checked: &[bool],
    ) -> Result<Vec<usize>> {
        let items: Vec<String> = items.iter().map(|i| printable(i).into_owned()).collect();
        dialoguer::MultiSelect::with_theme(&Self::theme())
            .with_prompt(prompt)
            .items(&items)
            .defaults(checked)
            .max_length(20)
            .interact_opt()
            .map_err(Self::prompt_error)?
            .ok_or(Error::Cancelled)
    }

    pub fn select(&self, prompt: &str, items: &[String], default: usize) -> Result<usize> {
        let items: Vec<String> = items.iter().map(|i| printable(i).into_owned()).collect();
        dialoguer::Select::with_theme(&Self::theme())
            .with_prompt(prompt)
            .items(&items)
            .default(default)
            .interact_opt()
            .map_err(Self::prompt_error)?
            .ok_or(Error::Cancelled)
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
    let Some(width) = stderr_width() else {
        return text.to_string();
    };
    text.lines()
        .map(|line| {
            let lead = line.len() - line.trim_start_matches(' ').len();
            crate::text::wrap_words(line, width, lead + 2)
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The width of the terminal stderr is, if it is one.
fn stderr_width() -> Option<usize> {
    let term = console::Term::stderr();
    term.is_term()
        .then(|| term.size_checked().map(|(_, cols)| cols as usize))
        .flatten()
        .filter(|&cols| cols >= 20)
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

/// `head` then `items` comma-separated and wrapped at `width`; continuation lines indented.
pub fn wrap(head: &str, items: &[String], width: usize) -> String {
    let mut lines = vec![head.trim_end().to_string()];
    for (i, item) in items.iter().enumerate() {
        let piece = if i + 1 < items.len() {
            format!("{item},")
        } else {
            item.clone()
        };
        let last = lines.last_mut().expect("one line at least");
        if last.chars().count() + 1 + piece.len() > width && i > 0 {
            lines.push(format!("      {piece}"));
        } else {
            last.push(' ');
            last.push_str(&piece);
        }
    }
    lines.join("\n")
}

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
