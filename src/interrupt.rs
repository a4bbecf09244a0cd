//! Ctrl-C (SIGINT) and SIGTERM during a command that changes things.
//!
//! Without a handler the process would die wherever it is: possibly with a half-placed
//! temporary kubeconfig holding a working token, and without the "stopped part-way" report
//! every other failure gives. With [`listen`], the signal ends the command's future at its
//! next await instead (file writes are synchronous and finish first), so the command can say
//! what exists now; `main` then restores the terminal and exits 130 or 143, as a shell would.

use std::future::Future;

/// The signal that stopped a command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Signal {
    /// SIGINT, Ctrl-C.
    Interrupt,
    /// SIGTERM, as a CI runner or `kill` sends it.
    Terminate,
}

impl Signal {
    /// The exit code a shell reports for a process this signal ended: 128 + its number.
    pub fn exit_code(self) -> u8 {
        match self {
            Signal::Interrupt => crate::error::exit::SIGNAL_BASE + 2,
            Signal::Terminate => crate::error::exit::SIGNAL_BASE + 15,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Signal::Interrupt => "Ctrl-C (SIGINT)",
            Signal::Terminate => "SIGTERM",
        }
    }
}

/// Runs `work` until it ends or the first Ctrl-C or SIGTERM stops it (`Error::Interrupted`;
/// `work` is dropped there, so whatever it holds must be given back by its caller, as
/// [`crate::progress::Progress::finish`] does for the run's lock).
pub async fn stoppable(
    work: impl Future<Output = crate::error::Result<()>>,
) -> crate::error::Result<()> {
    let stop = listen();
    tokio::select! {
        result = work => result,
        signal = stop => Err(crate::error::Error::Interrupted(signal)),
    }
}

/// Installs the handlers now and returns a future that ends with the first signal. When the
/// handlers cannot be installed the future never ends (the signals then act as before).
#[cfg(unix)]
pub fn listen() -> impl Future<Output = Signal> {
    use tokio::signal::unix::{SignalKind, signal};
    let interrupt = signal(SignalKind::interrupt()).ok();
    let terminate = signal(SignalKind::terminate()).ok();
    async move {
        match (interrupt, terminate) {
            (Some(mut i), Some(mut t)) => tokio::select! {
                _ = i.recv() => Signal::Interrupt,
                _ = t.recv() => Signal::Terminate,
            },
            _ => std::future::pending().await,
        }
    }
}

/// Ctrl-C only: Windows has no SIGTERM.
#[cfg(not(unix))]
pub fn listen() -> impl Future<Output = Signal> {
    async {
        match tokio::signal::ctrl_c().await {
            Ok(()) => Signal::Interrupt,
            Err(_) => std::future::pending().await,
        }
    }
}

/// Shows the cursor again (prompts and spinners hide it) when stderr is a terminal.
pub fn restore_terminal() {
    let term = console::Term::stderr();
    if term.is_term() {
        let _ = term.show_cursor();
    }
}
