"""A private PostgreSQL cluster for the local NetBox (loopback only, run as ``postgres`` when root).

Durable: fsync, synchronous_commit and full_page_writes are on (set explicitly on the command line, so
no configuration file can turn them off): the source of truth must survive a power cut. Turning them off
did not even make ``migrate`` faster (FIELD-NOTES). No password ever appears on a command line (``ps``
shows every argv to every user): SQL goes to psql on stdin, initdb reads its password from a 0600 file.
"""

from __future__ import annotations

import hashlib
import os
import pwd
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from campusnet.errors import CampusnetError
from campusnet.private import write_private
from campusnet.procs import read_pid, wait_for

#: settings that make a commit survive a crash or a power cut (PostgreSQL's defaults; set explicitly)
DURABLE = {"fsync": "on", "synchronous_commit": "on", "full_page_writes": "on"}

PG_BIN_CANDIDATES = sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)


def pg_bin(tool: str) -> str:
    for d in PG_BIN_CANDIDATES:
        if (d / tool).exists():
            return str(d / tool)
    found = shutil.which(tool)
    if found:
        return found
    raise CampusnetError(
        "E161", f"PostgreSQL tool '{tool}' not found: install Debian's postgresql package (apt-get install postgresql)"
    )


def _run_user() -> str | None:
    """PostgreSQL refuses to run as root: as root we run it as the ``postgres`` user."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam("postgres")
    except KeyError as exc:
        raise CampusnetError("E162", "running as root but there is no 'postgres' user: install postgresql") from exc
    return "postgres"


def _can_traverse(user: str, path: Path) -> bool:
    probe = subprocess.run(["runuser", "-u", user, "--", "test", "-x", str(path)], check=False)
    return probe.returncode == 0


@dataclass
class Postgres:
    data_dir: Path
    socket_dir: Path
    log_file: Path
    port: int

    @classmethod
    def for_state(cls, state: Path, port: int) -> Postgres:
        base = state / "netbox" / "pg"
        user = _run_user()
        if user and not _can_traverse(user, state):
            # the checkout lives where 'postgres' cannot reach (e.g. under /root): keep the cluster in /var/lib
            digest = hashlib.sha256(str(state).encode()).hexdigest()[:12]
            base = Path("/var/lib/campusnet") / f"pg-{digest}"
        return cls(base / "data", base / "run", base / "postgres.log", port)

    # -- helpers --------------------------------------------------------------------------------------
    def _as_owner(self, argv: list[str], **kw) -> subprocess.CompletedProcess[str]:  # type: ignore[no-untyped-def]
        user = _run_user()
        full = (["runuser", "-u", user, "--"] if user else []) + argv
        return subprocess.run(full, text=True, capture_output=True, **kw)

    def _chown(self, path: Path) -> None:
        user = _run_user()
        if user:
            pw = pwd.getpwnam(user)
            for p in [path, *path.rglob("*")]:
                os.chown(p, pw.pw_uid, pw.pw_gid)

    @property
    def pidfile(self) -> Path:
        return self.data_dir / "postmaster.pid"

    def pid(self) -> int | None:
        return read_pid(self.pidfile)

    def initialised(self) -> bool:
        return (self.data_dir / "PG_VERSION").exists()

    # -- lifecycle ------------------------------------------------------------------------------------
    def init(self, password: str) -> None:
        root = self.data_dir.parent
        root.mkdir(parents=True, exist_ok=True)
        os.chmod(root, 0o700)
        self.socket_dir.mkdir(parents=True, exist_ok=True)
        pwfile = write_private(root / ".pwfile", password + "\n")
        self._chown(root)
        try:
            r = self._as_owner(self.initdb_argv(pwfile))
        finally:
            pwfile.unlink()
        if r.returncode != 0:
            raise CampusnetError("E163", f"initdb failed: {r.stderr.strip()[-500:]}")

    def start(self) -> None:
        if self.pid():
            return
        self.socket_dir.mkdir(parents=True, exist_ok=True)
        self._chown(self.socket_dir)
        r = self._as_owner(self.start_argv())
        if r.returncode != 0:
            tail = self.log_file.read_text()[-800:] if self.log_file.exists() else r.stderr
            raise CampusnetError("E164", f"PostgreSQL did not start: {tail.strip()}")

    def stop(self) -> bool:
        if not self.pid():
            return False
        self._as_owner([pg_bin("pg_ctl"), "-D", str(self.data_dir), "-m", "fast", "-w", "stop"])
        return True

    # -- command lines (no secret in any of them: tests/unit/test_netbox_faults.py checks) -------------------
    def initdb_argv(self, pwfile: Path) -> list[str]:
        return [pg_bin("initdb"), "-D", str(self.data_dir), "-U", "postgres", "--pwfile", str(pwfile),
                "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8", "--locale=C.UTF-8"]

    def start_argv(self) -> list[str]:
        opts = (f"-c listen_addresses=127.0.0.1 -p {self.port} -c unix_socket_directories={self.socket_dir} "
                + " ".join(f"-c {k}={v}" for k, v in DURABLE.items()) + " -c max_connections=200")
        return [pg_bin("pg_ctl"), "-D", str(self.data_dir), "-l", str(self.log_file), "-o", opts,
                "-w", "-t", "60", "start"]

    def psql_argv(self, db: str = "postgres") -> list[str]:
        """psql reading its SQL from stdin (``-f -``): statements may carry a password."""
        return [pg_bin("psql"), "-h", str(self.socket_dir), "-p", str(self.port), "-U", "postgres",
                "-d", db, "-v", "ON_ERROR_STOP=1", "-qAt", "-f", "-"]

    def settings(self, names: tuple[str, ...] = tuple(DURABLE)) -> dict[str, str]:
        """The running server's value of each setting (``SHOW``)."""
        rows = self.psql("SELECT name, setting FROM pg_settings WHERE name IN ("  # noqa: S608 - our constants
                         + ", ".join(f"'{n}'" for n in names) + ")")
        return dict(line.split("|", 1) for line in rows.splitlines() if "|" in line)

    def durable(self) -> bool:
        """fsync, synchronous_commit and full_page_writes are on in the running server."""
        return self.settings() == DURABLE

    def psql(self, sql: str, db: str = "postgres") -> str:
        r = self._as_owner(self.psql_argv(db), input=sql)
        if r.returncode != 0:
            raise CampusnetError("E165", f"psql failed: {r.stderr.strip()[-500:]}")
        return r.stdout.strip()

    def ensure_database(self, name: str, owner: str, password: str) -> bool:
        """Create role and database if missing. Returns True when the database was created."""
        # names are ours (constants), the password is generated from [A-Za-z0-9]: nothing to inject
        # the statement goes on stdin, never argv; a failing one is not logged with its password
        quiet = "SET log_min_error_statement = panic; SET log_statement = none;\n"
        if not self.psql(f"SELECT 1 FROM pg_roles WHERE rolname='{owner}'"):  # noqa: S608
            self.psql(quiet + f"CREATE ROLE {owner} LOGIN PASSWORD '{password}'")
        else:
            self.psql(quiet + f"ALTER ROLE {owner} PASSWORD '{password}'")
        if self.psql(f"SELECT 1 FROM pg_database WHERE datname='{name}'"):  # noqa: S608
            return False
        self.psql(f"CREATE DATABASE {name} OWNER {owner}")
        return True

    def drop_database(self, name: str) -> None:
        self.psql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    def dump(self, db: str, target: Path, exclude_data: tuple[str, ...] = ()) -> None:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(".tmp")
        # -Fc output is binary: write it straight to a file we own (0600: it is a copy of the data)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as fh:
            user = _run_user()
            argv = (["runuser", "-u", user, "--"] if user else []) + [
                pg_bin("pg_dump"), "-h", str(self.socket_dir), "-p", str(self.port), "-U", "postgres", "-Fc", "-O",
                *(f"--exclude-table-data={t}" for t in exclude_data), "-d", db]
            subprocess.run(argv, stdout=fh, check=True)
        tmp.replace(target)

    def restore(self, db: str, owner: str, source: Path) -> None:
        user = _run_user()
        argv = (["runuser", "-u", user, "--"] if user else []) + [
            pg_bin("pg_restore"), "-h", str(self.socket_dir), "-p", str(self.port), "-U", "postgres", "-O",
            "--role", owner, "-d", db]
        with open(source, "rb") as fh:
            r = subprocess.run(argv, stdin=fh, capture_output=True, text=False)
        if r.returncode != 0:
            raise CampusnetError("E167", f"pg_restore failed: {r.stderr.decode(errors='replace')[-500:]}")

    def wait_ready(self) -> None:
        wait_for(lambda: self._as_owner([pg_bin("pg_isready"), "-h", str(self.socket_dir), "-p", str(self.port)])
                 .returncode == 0, timeout=60, what="PostgreSQL")
