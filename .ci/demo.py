#!/usr/bin/env python3
"""The README's demo command, run as a newcomer would run it, in a pseudo-terminal.

It takes the demo command from README.md (the `cargo run` line of the block under
"## Try it: two commands"), runs that exact string from the repository root, answers the
wizard (the defaults, and a kubeconfig path in a temporary folder), and checks with the real
kubectl that the kubeconfig it wrote works: `auth can-i create deployments.apps` is yes,
`auth can-i get secrets` is no, and `auth whoami` is the new ServiceAccount.

The sandbox stops when the wizard exits, so the kubectl check has to run before that. The
command's inner `cargo run -q -- init` is started by the sandbox through PATH; this script puts
a `cargo` wrapper first on PATH, which runs the real cargo and, only for the command the
sandbox runs (CICD_SANDBOX_URL is set) and only when it succeeded, runs kubectl with the new
kubeconfig while the sandbox still serves. The README string itself runs unchanged.

Python 3 standard library only. Quiet on success (one line); on failure it prints the session,
with the token of the written kubeconfig (if any) replaced by <token>, and exits 1. Every wait
has a deadline and the whole process group is killed on timeout, so it cannot hang CI.
CICD_SKIP_KUBECTL=1 skips the kubectl check (the wizard still has to finish).
"""

import os
import pty
import re
import select
import shlex
import shutil
import signal
import struct
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HEADING = "## Try it: two commands"
# The first prompt waits for cargo to build the sandbox and the plugin.
BUILD_TIMEOUT = float(os.environ.get("DEMO_BUILD_TIMEOUT", "1200"))
STEP_TIMEOUT = 120.0
ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b[()][0-9A-Za-z]|\x1b[=>78]|\r")

CARGO_WRAPPER = """#!/bin/sh
# cargo for the demo check: the real cargo; then, for the command the sandbox runs, kubectl
# with the kubeconfig the wizard wrote, while the sandbox still serves.
"$DEMO_REAL_CARGO" "$@"
status=$?
if [ "$status" -eq 0 ] && [ -n "${CICD_SANDBOX_URL:-}" ] && [ "${CICD_SKIP_KUBECTL:-}" != 1 ]; then
    k() { kubectl --kubeconfig "$DEMO_KUBECONFIG" --cache-dir "$DEMO_DIR/kube-cache" --request-timeout 20s "$@"; }
    k auth can-i create deployments.apps >"$DEMO_DIR/can-create-deployments" 2>&1
    k auth can-i get secrets >"$DEMO_DIR/can-get-secrets" 2>&1
    k auth whoami -o 'jsonpath={.status.userInfo.username}' >"$DEMO_DIR/whoami" 2>&1
    echo done >"$DEMO_DIR/checked"
fi
exit "$status"
"""


def demo_command():
    """The `cargo run` line of the first code block under HEADING in README.md."""
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as f:
        lines = f.read().splitlines()
    try:
        start = lines.index(HEADING)
    except ValueError:
        sys.exit(f"demo: README.md has no heading {HEADING!r}")
    in_block = False
    for line in lines[start + 1:]:
        if line.startswith("## "):
            break
        if line.startswith("```"):
            if in_block:
                break
            in_block = True
            continue
        if in_block and line.startswith("cargo run"):
            return line.strip()
    sys.exit(f"demo: no `cargo run` line in the first code block under {HEADING!r} in README.md")


class Session:
    """A child in a pseudo-terminal, read with deadlines."""

    def __init__(self, argv, env, cwd):
        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # the child: the pty is its controlling terminal and stdio
            try:
                os.chdir(cwd)
                os.execvpe(argv[0], argv, env)
            finally:
                os._exit(127)
        # A terminal window of 120x40, as the wizard test has.
        import fcntl
        import termios
        fcntl.ioctl(self.fd, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
        self.raw = b""
        self.seen = 0  # how much of the plain text the expectations have consumed
        self.eof = False
        self.status = None

    def text(self):
        return ANSI.sub("", self.raw.decode("utf-8", "replace"))

    def _read(self, timeout):
        if self.eof:
            return
        ready, _, _ = select.select([self.fd], [], [], timeout)
        if not ready:
            return
        try:
            data = os.read(self.fd, 65536)
        except OSError:  # EIO: every process holding the terminal is gone
            data = b""
        if data:
            self.raw += data
        else:
            self.eof = True

    def expect(self, needle, timeout=STEP_TIMEOUT):
        deadline = time.monotonic() + timeout
        while True:
            text = self.text()
            at = text.find(needle, self.seen)
            if at >= 0:
                self.seen = at + len(needle)
                return
            if self.eof:
                raise Failure(f"the session ended before {needle!r}")
            left = deadline - time.monotonic()
            if left <= 0:
                raise Failure(f"no {needle!r} within {timeout:.0f}s")
            self._read(min(left, 1.0))

    def send(self, keys):
        time.sleep(0.2)  # let the prompt finish drawing
        os.write(self.fd, keys.encode())

    def wait(self, timeout=STEP_TIMEOUT):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.status = os.waitstatus_to_exitcode(status)
                for _ in range(20):  # what is still buffered in the terminal
                    if self.eof:
                        break
                    self._read(0.1)
                return self.status
            self._read(0.5)
        raise Failure(f"the command did not exit within {timeout:.0f}s")

    def kill(self):
        if self.status is not None:
            return
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(self.pid, sig)  # the child leads its own session and group
            except ProcessLookupError:
                break
            time.sleep(2)
        try:
            os.waitpid(self.pid, 0)
        except ChildProcessError:
            pass


class Failure(Exception):
    pass


def token_of(path):
    try:
        with open(path, encoding="utf-8") as f:
            for line in f:
                key, _, value = line.strip().partition(":")
                if key == "token" and value.strip():
                    return value.strip().strip("'\"")
    except OSError:
        pass
    return None


def read(path):
    try:
        with open(path, encoding="utf-8") as f:
            return f.read().strip()
    except OSError:
        return None


def main():
    command = demo_command()
    argv = shlex.split(command)
    real_cargo = shutil.which("cargo")
    if real_cargo is None:
        sys.exit("demo: cargo is not on PATH")
    skip_kubectl = os.environ.get("CICD_SKIP_KUBECTL") == "1"
    if not skip_kubectl and shutil.which("kubectl") is None:
        sys.exit("demo: kubectl is not on PATH (CICD_SKIP_KUBECTL=1 skips the kubectl check)")

    work = tempfile.mkdtemp(prefix="cicd-demo-")
    bin_dir = os.path.join(work, "bin")
    os.mkdir(bin_dir)
    wrapper = os.path.join(bin_dir, "cargo")
    with open(wrapper, "w", encoding="utf-8") as f:
        f.write(CARGO_WRAPPER)
    os.chmod(wrapper, 0o755)
    kubeconfig = os.path.join(work, "kubeconfig_ci_cd.yaml")

    env = dict(os.environ)
    env.update(
        PATH=bin_dir + os.pathsep + env.get("PATH", ""),
        DEMO_REAL_CARGO=real_cargo,
        DEMO_KUBECONFIG=kubeconfig,
        DEMO_DIR=work,
        TERM="xterm",
        NO_COLOR="1",
    )
    for var in ("KUBECONFIG", "CICD_SANDBOX_DIR", "CICD_SANDBOX_URL"):
        env.pop(var, None)

    started = time.monotonic()
    session = Session(argv, env, ROOT)
    problem = None
    try:
        session.expect("Set up CI/CD access in this context and namespace?", BUILD_TIMEOUT)
        session.send("y")
        session.expect("Name for the ServiceAccount, Role and RoleBinding")
        session.send("\r")  # ci-cd
        session.expect("Start from a preset")
        session.send("\r")  # web-app
        session.expect("Filter the kinds by a word")
        session.send("\r")  # all kinds, the preset's ticked
        session.expect("Kinds the pipeline may change")
        session.send("\r")
        session.expect("Look for more kinds?")
        session.send("n")
        session.expect("Which of these may the pipeline only read")
        session.send("\r")  # none
        session.expect("How should the pipeline's token be made?")
        session.send("\r")  # a token Secret
        session.expect("Write the pipeline's kubeconfig to")
        session.send(kubeconfig + "\r")
        session.expect("Apply these objects?")
        session.send("y")
        session.expect("Verified with the new token")
        session.expect("Wrote " + kubeconfig)
        code = session.wait()
        if code != 0:
            raise Failure(f"the demo command exited with {code}")
        if not os.path.isfile(kubeconfig):
            raise Failure(f"no kubeconfig at {kubeconfig}")
        mode = os.stat(kubeconfig).st_mode & 0o777
        if mode != 0o600:
            raise Failure(f"the kubeconfig has mode {mode:o}, not 600")
        checks = "skipped (CICD_SKIP_KUBECTL=1)"
        if not skip_kubectl:
            if read(os.path.join(work, "checked")) != "done":
                raise Failure("the kubectl check did not run while the sandbox served")
            create = read(os.path.join(work, "can-create-deployments"))
            secrets = read(os.path.join(work, "can-get-secrets"))
            whoami = read(os.path.join(work, "whoami"))
            if create != "yes":
                raise Failure(f"kubectl auth can-i create deployments.apps: {create!r}, not 'yes'")
            if secrets != "no":
                raise Failure(f"kubectl auth can-i get secrets: {secrets!r}, not 'no'")
            if whoami != "system:serviceaccount:team-a:ci-cd":
                raise Failure(f"kubectl auth whoami: {whoami!r}")
            checks = f"kubectl with it: create deployments yes, get secrets no, whoami {whoami}"
    except Failure as e:
        problem = str(e)
    finally:
        session.kill()

    token = token_of(kubeconfig)
    transcript = session.text()
    if token and token in transcript:
        problem = problem or "the token of the written kubeconfig appears in the session"
        transcript = transcript.replace(token, "<token>")
    elapsed = time.monotonic() - started
    shutil.rmtree(work, ignore_errors=True)
    if problem:
        print(f"demo: FAILED after {elapsed:.0f}s: {problem}", file=sys.stderr)
        print(f"demo: command: {command}", file=sys.stderr)
        print("demo: the session (last 150 lines):", file=sys.stderr)
        for line in transcript.splitlines()[-150:]:
            print("  | " + line, file=sys.stderr)
        return 1
    print(f"demo: ok in {elapsed:.0f}s: `{command}` reached the wizard and wrote a kubeconfig; {checks}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
