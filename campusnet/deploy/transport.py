"""SSH transport to a device's management address (paramiko): run a command, upload a file.

Credentials never come from the repository: the private key is the lab's (``<state>/lab/ssh/id_ed25519``,
0600) or the file named by ``CAMPUSNET_SSH_KEY``; the user is ``CAMPUSNET_SSH_USER`` (default ``root``).

Host keys are always checked. The known hosts are the lab's ``<state>/lab/ssh/known_hosts`` (``lab up``
writes every node's key there) or, outside the lab, the file named by ``CAMPUSNET_SSH_KNOWN_HOSTS``
(default ``<state>/ssh/known_hosts``), plus the user's ``~/.ssh/known_hosts``. A host whose key is not
there is refused (``E475``) unless the user opts in (``--accept-new-host-keys`` or
``CAMPUSNET_SSH_ACCEPT_NEW=1``): then its key is learnt once and written to that file (OpenSSH's
``accept-new``). A key that differs from the known one is always refused (``E476``).
"""

from __future__ import annotations

import contextlib
import os
import shlex
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import paramiko

from campusnet import settings
from campusnet.errors import CampusnetError
from campusnet.private import private_dir, write_private

ACCEPT_NEW_ENV = "CAMPUSNET_SSH_ACCEPT_NEW"


def accept_new_from_env() -> bool:
    return os.environ.get(ACCEPT_NEW_ENV, "").strip().lower() in ("1", "true", "yes")


@dataclass(frozen=True)
class Credentials:
    username: str
    key_file: Path
    known_hosts: Path | None  # where host keys are read from (and, with accept_new, learnt into)
    accept_new: bool = False  # learn the key of a host not in known_hosts (never a changed one)

    @classmethod
    def from_environment(cls, *, accept_new: bool | None = None) -> Credentials:
        ssh_dir = settings.state_dir() / "lab" / "ssh"
        key = Path(os.environ.get("CAMPUSNET_SSH_KEY", ssh_dir / "id_ed25519"))
        if not key.exists():
            raise CampusnetError("E410", f"no SSH key at {key}: run `campusnet lab up` or set CAMPUSNET_SSH_KEY")
        lab_kh = ssh_dir / "known_hosts"
        env_kh = os.environ.get("CAMPUSNET_SSH_KNOWN_HOSTS")
        kh = Path(env_kh) if env_kh else lab_kh if lab_kh.exists() else settings.state_dir() / "ssh" / "known_hosts"
        return cls(os.environ.get("CAMPUSNET_SSH_USER", "root"), key, kh,
                   accept_new_from_env() if accept_new is None else accept_new)


class _UnknownHostKey(Exception):
    def __init__(self, hostname: str, key: paramiko.PKey):
        self.hostname = hostname
        self.key = key
        super().__init__(hostname)


class _RefuseUnknown(paramiko.MissingHostKeyPolicy):  # type: ignore[misc]
    """Refuse a host whose key is not known (paramiko's RejectPolicy, with the key kept for the message)."""

    def missing_host_key(self, client: paramiko.SSHClient, hostname: str, key: paramiko.PKey) -> None:
        raise _UnknownHostKey(hostname, key)


class _AcceptNew(paramiko.MissingHostKeyPolicy):  # type: ignore[misc]
    """Learn an unknown host's key and write it to the campusnet known_hosts file (0600)."""

    def __init__(self, path: Path):
        self.path = path

    def missing_host_key(self, client: paramiko.SSHClient, hostname: str, key: paramiko.PKey) -> None:
        client.get_host_keys().add(hostname, key.get_name(), key)
        with _LEARN_LOCK:  # threads of one run learn keys for different hosts: none may be lost
            private_dir(self.path.parent)
            if not self.path.exists():
                write_private(self.path, "")
            keys = paramiko.HostKeys(str(self.path))
            keys.add(hostname, key.get_name(), key)
            keys.save(str(self.path))
            os.chmod(self.path, 0o600)


_LEARN_LOCK = threading.Lock()


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

    def _client_with_host_keys(self) -> paramiko.SSHClient:
        client = paramiko.SSHClient()
        user_kh = Path.home() / ".ssh" / "known_hosts"
        if user_kh.is_file():
            # an unreadable personal file only means fewer known hosts: still refused, never added
            with contextlib.suppress(OSError, paramiko.SSHException):
                client.load_system_host_keys(str(user_kh))
        kh = self.creds.known_hosts
        if kh is not None and kh.is_file():
            client.get_host_keys().load(str(kh))  # not load_host_keys(): paramiko would rewrite the file
        if self.creds.accept_new and kh is not None:
            client.set_missing_host_key_policy(_AcceptNew(kh))
        else:
            client.set_missing_host_key_policy(_RefuseUnknown())
        return client

    def open(self) -> None:
        last: Exception | None = None
        for attempt in range(self.retries):
            client = self._client_with_host_keys()
            try:
                client.connect(self.host, username=self.creds.username, key_filename=str(self.creds.key_file),
                               timeout=self.timeout, banner_timeout=self.timeout, auth_timeout=self.timeout,
                               allow_agent=False, look_for_keys=False)
                self._client = client
                return
            except _UnknownHostKey as exc:
                client.close()
                raise CampusnetError(
                    "E475", f"unknown SSH host key ({exc.key.get_name()} {exc.key.get_fingerprint().hex()}) for "
                    f"{self.host}, not in {self.creds.known_hosts or '~/.ssh/known_hosts'}: refused. Check it out "
                    f"of band and add it there, or opt in to learning new keys with --accept-new-host-keys "
                    f"(or {ACCEPT_NEW_ENV}=1)", obj=f"device {self.device}", field="host key") from None
            except paramiko.BadHostKeyException as exc:
                client.close()
                raise CampusnetError(
                    "E476", f"the SSH host key of {self.host} changed ({exc.key.get_name()} "
                    f"{exc.key.get_fingerprint().hex()}, known: {exc.expected_key.get_fingerprint().hex()}): refused "
                    f"— a replaced device or a man in the middle; fix {self.creds.known_hosts or 'known_hosts'} "
                    "after checking", obj=f"device {self.device}", field="host key") from None
            except (TimeoutError, paramiko.SSHException, OSError) as exc:
                client.close()
                last = exc
                time.sleep(0.5 * (attempt + 1))
        raise CampusnetError("E411", f"SSH to {self.host} failed: {last}", obj=f"device {self.device}")

    def alive(self) -> bool:
        """The session still answers (a dropped one does not: the rollback reconnects)."""
        transport = self._client.get_transport() if self._client else None
        if transport is None or not transport.is_active():
            return False
        try:
            return self.run("true", timeout=10).ok
        except CampusnetError:
            return False

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
        except (TimeoutError, paramiko.SSHException, OSError, EOFError) as exc:  # EOFError: the session died
            raise CampusnetError("E412", f"`{command}` failed over SSH: {str(exc) or type(exc).__name__}",
                                 obj=f"device {self.device}") from exc
        if rc == -1 and _dropped(self._client):  # no exit status because the session died (fault drill 1)
            raise CampusnetError("E412", f"`{command}` got no exit status: the SSH session dropped",
                                 obj=f"device {self.device}")
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


def _dropped(client: paramiko.SSHClient, settle: float = 1.0) -> bool:
    """Whether the SSH transport under a command that returned no exit status is gone. paramiko closes the
    channels a moment before it marks the transport inactive: give it ``settle`` seconds to say so."""
    deadline = time.monotonic() + settle
    while True:
        transport = client.get_transport()
        if transport is None or not transport.is_active():
            return True
        if time.monotonic() > deadline:
            return False  # alive: the command itself died (a signal), not the session
        time.sleep(0.05)
