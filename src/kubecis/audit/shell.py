"""The real shell executor: each audit fed to ``/bin/sh`` on stdin, as kube-bench does.

stdout and stderr share one pipe (kube-bench uses Go's CombinedOutput), so error
messages become part of the evaluated text. Unlike kube-bench, an audit that hangs
is killed after a timeout and one that prints more than ``MAX_OUTPUT_BYTES`` is
stopped; both become WARN with a reason instead of a hung or exhausted run.
Only selected with ``--executor shell`` (or ``auto`` on a live host): YAML is data,
and this is the one place where it becomes code.
"""

from __future__ import annotations

import os
import selectors
import signal
import subprocess
import time
from collections.abc import Mapping

from kubecis.audit.base import DEFAULT_TIMEOUT, MAX_OUTPUT_BYTES, AuditResult

SHELL = "/bin/sh"


def decode(data: bytes) -> str:
    """Bytes → str keeping undecodable bytes (re-encodable with surrogateescape)."""
    return data.decode("utf-8", "surrogateescape")


class ShellExecutor:
    """Runs audits through the real ``/bin/sh``."""

    def __init__(
        self,
        timeout: float = DEFAULT_TIMEOUT,
        max_output: int = MAX_OUTPUT_BYTES,
        env: Mapping[str, str] | None = None,
        shell: str = SHELL,
    ) -> None:
        self.timeout = timeout
        self.max_output = max_output
        self.env = dict(env) if env is not None else None
        self.shell = shell

    @property
    def name(self) -> str:
        return "shell"

    def run(self, script: str) -> AuditResult:
        if not script.strip():
            return AuditResult("", 0, self.name)
        try:
            proc = subprocess.Popen(
                [self.shell],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                env=self.env,
                start_new_session=True,  # its own process group, so a timeout kills the whole pipeline
            )
        except OSError as e:
            return AuditResult("", 127, self.name, not_run=f"cannot start {self.shell}: {e.strerror or e}")
        try:
            return self._collect(proc, script)
        except BaseException:  # Ctrl-C, SIGTERM (kubecis.errors.Terminated): the audit's whole group goes too
            _kill_group(proc)
            proc.wait()
            raise

    def _collect(self, proc: subprocess.Popen[bytes], script: str) -> AuditResult:
        assert proc.stdin is not None and proc.stdout is not None
        try:
            proc.stdin.write(script.encode("utf-8", "surrogateescape"))
            proc.stdin.close()
        except BrokenPipeError:
            pass
        chunks: list[bytes] = []
        size = 0
        deadline = time.monotonic() + self.timeout
        not_run = ""
        sel = selectors.DefaultSelector()
        sel.register(proc.stdout, selectors.EVENT_READ)
        fd = proc.stdout.fileno()
        try:
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    not_run = f"audit timed out after {self.timeout:g}s and was stopped"
                    break
                if not sel.select(timeout=left):
                    continue
                data = os.read(fd, 65536)
                if not data:
                    break
                size += len(data)
                if size > self.max_output:
                    not_run = f"audit printed more than {self.max_output} bytes and was stopped"
                    break
                chunks.append(data)
        finally:
            sel.close()
        if not_run:
            _kill_group(proc)
            proc.stdout.close()
            proc.wait()
            return AuditResult(decode(b"".join(chunks)), -1, self.name, not_run=not_run)
        proc.stdout.close()
        try:
            rc = proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            _kill_group(proc)
            proc.wait()
            return AuditResult(decode(b"".join(chunks)), -1, self.name,
                               not_run=f"audit timed out after {self.timeout:g}s and was stopped")
        return AuditResult(decode(b"".join(chunks)), rc, self.name)


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        proc.kill()
