//! The three control-plane processes: started with their output in log files, watched while
//! the cluster starts, and stopped in reverse order.
//!
//! Each child gets a pipe as standard input and the Go binary ends itself when that pipe
//! closes. The launcher never writes to it: the pipe closes when the launcher stops them, and
//! also when the launcher exits, crashes or is killed, so a control plane never outlives the
//! process that started it (a test binary keeps its cluster in a static, which is never
//! dropped; the kernel closes the pipe at exit).

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Part {
    pub name: &'static str,
    child: Child,
    stdin: Option<ChildStdin>,
    pub log: PathBuf,
}

impl Part {
    pub fn start(
        binary: &Path,
        name: &'static str,
        args: &[String],
        dir: &Path,
    ) -> Result<Part, String> {
        let log = dir.join(format!("{name}.log"));
        let out =
            File::create(&log).map_err(|e| format!("cannot create {}: {e}", log.display()))?;
        let err = out.try_clone().map_err(|e| e.to_string())?;
        let mut child = Command::new(binary)
            .arg(name)
            .args(args)
            .env("CICD_EXIT_ON_STDIN_EOF", "1")
            .stdin(Stdio::piped())
            .stdout(out)
            .stderr(err)
            .spawn()
            .map_err(|e| format!("cannot start {name}: {e}"))?;
        let stdin = child.stdin.take();
        Ok(Part {
            name,
            child,
            stdin,
            log,
        })
    }

    /// An error naming the part and the end of its log, when it has exited.
    pub fn check_running(&mut self) -> Result<(), String> {
        match self.child.try_wait() {
            Ok(Some(status)) => Err(format!(
                "{} exited during start-up ({status}); the end of {}:\n{}",
                self.name,
                self.log.display(),
                log_tail(&self.log, 30)
            )),
            _ => Ok(()),
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Closes the child's standard input (it then shuts down as on SIGTERM) and waits up to
    /// `grace` before killing it.
    pub fn stop(&mut self, grace: Duration) {
        drop(self.stdin.take());
        let deadline = Instant::now() + grace;
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Resident memory in kilobytes (VmRSS), when the process is alive.
    pub fn resident_kb(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).ok()?;
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
    }
}

pub fn log_tail(path: &Path, lines: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// A free TCP port on 127.0.0.1 (bound, then released: the caller retries start-up on the rare
/// race with another process taking it in between).
pub fn free_port() -> Result<u16, String> {
    let listener = std::net::TcpListener::bind(("127.0.0.1", 0))
        .map_err(|e| format!("cannot find a free port on 127.0.0.1: {e}"))?;
    listener
        .local_addr()
        .map(|a| a.port())
        .map_err(|e| e.to_string())
}
