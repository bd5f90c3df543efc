"""SSH transport to a device's management address (paramiko): run a command, upload a file.

Credentials never come from the repository: the private key is the lab's (``<state>/lab/ssh/id_ed25519``,
0600) or the file named by ``CAMPUSNET_SSH_KEY``; the user is ``CAMPUSNET_SSH_USER`` (default ``root``).
Host keys are checked against ``<state>/lab/ssh/known_hosts`` when the lab wrote one.
"""

from __future__ import annotations

import os
import shlex
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import paramiko

from campusnet import settings
from campusnet.errors import CampusnetError


@dataclass(frozen=True)
class Credentials:
    username: str
    key_file: Path
    known_hosts: Path | None

    @classmethod
    def from_environment(cls) -> Credentials:
        ssh_dir = settings.state_dir() / "lab" / "ssh"
        key = Path(os.environ.get("CAMPUSNET_SSH_KEY", ssh_dir / "id_ed25519"))
        if not key.exists():
            raise CampusnetError("E410", f"no SSH key at {key}: run `campusnet lab up` or set CAMPUSNET_SSH_KEY")
        kh = ssh_dir / "known_hosts"
        return cls(os.environ.get("CAMPUSNET_SSH_USER", "root"), key, kh if kh.exists() else None)


@dataclass(frozen=True)
class CommandResult:
    command: str
    rc: int
    stdout: str
    stderr: str

    @property
    def ok(self) -> bool:
        return self.rc == 0


class Connection:
    """One SSH session to one device, used as a context manager."""

    def __init__(self, device: str, host: str, creds: Credentials, *, timeout: float = 15.0, retries: int = 3):
        self.device = device
        self.host = host
        self.creds = creds
        self.timeout = timeout
        self.retries = retries
        self._client: paramiko.SSHClient | None = None

    def __enter__(self) -> Connection:
        self.open()
        return self

    def __exit__(self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    def open(self) -> None:
        client = paramiko.SSHClient()
        if self.creds.known_hosts:
            client.load_host_keys(str(self.creds.known_hosts))
            client.set_missing_host_key_policy(paramiko.RejectPolicy())
        else:
            client.set_missing_host_key_policy(paramiko.AutoAddPolicy())  # noqa: S507 - lab without known_hosts
        last: Exception | None = None
        for attempt in range(self.retries):
            try:
                client.connect(self.host, username=self.creds.username, key_filename=str(self.creds.key_file),
                               timeout=self.timeout, banner_timeout=self.timeout, auth_timeout=self.timeout,
                               allow_agent=False, look_for_keys=False)
                self._client = client
                return
            except (TimeoutError, paramiko.SSHException, OSError) as exc:
                last = exc
                time.sleep(0.5 * (attempt + 1))
        raise CampusnetError("E411", f"SSH to {self.host} failed: {last}", obj=f"device {self.device}")

    def close(self) -> None:
        if self._client:
            self._client.close()
            self._client = None

    def run(self, command: str, *, check: bool = False, timeout: float = 120.0, stdin: str | None = None
            ) -> CommandResult:
        if not self._client:
            self.open()
        assert self._client is not None
        try:
            i, o, e = self._client.exec_command(command, timeout=timeout)
            if stdin is not None:
                i.write(stdin)
                i.channel.shutdown_write()
            out = o.read().decode(errors="replace")
            err = e.read().decode(errors="replace")
            rc = o.channel.recv_exit_status()
        except (TimeoutError, paramiko.SSHException, OSError) as exc:
            raise CampusnetError("E412", f"`{command}` failed over SSH: {exc}", obj=f"device {self.device}") from exc
        res = CommandResult(command, rc, out, err)
        if check and rc != 0:
            raise CampusnetError("E413", f"`{command}` exited {rc}: {(err or out).strip()[-800:]}",
                                 obj=f"device {self.device}")
        return res

    def put(self, text: str, path: str, mode: int = 0o600) -> None:
        """Write ``text`` to ``path`` on the device (through the shell: no SFTP subsystem needed)."""
        q = shlex.quote(path)
        self.run(f"umask 077; cat > {q}.cn-tmp && chmod {mode:o} {q}.cn-tmp && mv {q}.cn-tmp {q}", stdin=text,
                 check=True)
