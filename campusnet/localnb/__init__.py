"""The local NetBox: the embedded default when no NETBOX_URL/NETBOX_TOKEN are given.

``up`` installs NetBox from cached wheels into ``<state>/netbox/venv`` (a machine without them: straight
from PyPI, and the wheel cache is built beside migrate — ``scripts/bootstrap.sh`` usually built it
already, beside the project's own venv), starts a private PostgreSQL and Redis on 127.0.0.1, restores
the migrated schema from the per-machine cache (or migrates once and caches it; collectstatic runs
beside), creates the ``automation`` and ``auditor`` users with v2 tokens in 0600 files, and serves
NetBox with gunicorn plus an RQ worker (the Branching plugin needs one). Every step is idempotent and
timed (the keys of :meth:`LocalNetBox.up`'s result; the demo reports them).

The seeded cache: after the first successful seed of a database ``up`` created (the demo does it),
the seeded database is dumped into the per-machine cache under a key of everything that shapes it
(NetBox and plugin versions, the design YAML, the seed code). The next ``up`` that creates a database
restores that dump instead of the bare schema when the key still matches; the seed then runs as
usual and must find nothing to write. Token rows are never in the dump: tokens are peppered per
install, so ``up`` makes fresh users' tokens for every state directory.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from campusnet import settings
from campusnet.localnb.postgres import Postgres
from campusnet.localnb.redis import Redis
from campusnet.localnb.server import NETBOX_VERSION, SCHEMA_KEY, NetBoxServer
from campusnet.procs import free_port

Log = Callable[[str], None]


@dataclass
class LocalNetBox:
    state: Path
    ports: dict[str, int] = field(default_factory=dict)
    #: set by :meth:`up`: "created" (a new database, bare schema), "seeded-cache" (a new database
    #: restored from the seeded cache) or "existing"
    origin: str = "existing"

    @classmethod
    def load(cls) -> LocalNetBox:
        state = settings.state_dir()
        sf = settings.local_state_file()
        ports: dict[str, int] = {}
        if sf.exists():
            ports = json.loads(sf.read_text()).get("ports", {})
        return cls(state, ports)

    # -- components -------------------------------------------------------------------------------------
    @property
    def base(self) -> Path:
        return self.state / "netbox"

    def _port(self, name: str, preferred: int) -> int:
        if name not in self.ports:
            self.ports[name] = free_port(preferred)
        return self.ports[name]

    @property
    def server(self) -> NetBoxServer:
        return NetBoxServer(self.base, self._port("netbox", 8470))

    @property
    def postgres(self) -> Postgres:
        return Postgres.for_state(self.state, self._port("postgres", 54370))

    @property
    def redis(self) -> Redis:
        return Redis(self.base / "redis", self._port("redis", 63790), self.server.secret("redis_password", 32))

    def schema_cache(self) -> Path:
        return settings.cache_dir() / "schema" / f"{SCHEMA_KEY}.dump"

    def seeded_cache(self, campus: Path) -> Path:
        return settings.cache_dir() / "seeded" / f"{SCHEMA_KEY}-{seeded_key(campus)}.dump"

    def cache_seeded(self, campus: Path, log: Log = print) -> Path | None:
        """Dump the seeded database into the per-machine cache: only when :meth:`up` created this
        database in this process (so it holds nothing but the seed) and no dump for the key exists."""
        if self.origin != "created":
            return None
        target = self.seeded_cache(campus)
        self._created_marker().unlink(missing_ok=True)  # seeded now: never a candidate again
        if target.exists():
            return None
        # token rows are peppered per install and useless elsewhere: never in the cache
        self.postgres.dump("netbox", target, exclude_data=("users_token",))
        log(f"cached the seeded database in {target}")
        self.origin = "existing"
        return target

    # -- verbs ------------------------------------------------------------------------------------------
    def up(self, log: Log = print, *, seeded: Path | None = None) -> dict[str, float]:
        """Bring the local NetBox up. ``seeded``: the design directory whose seeded-cache dump a newly
        created database may start from (None: start from the bare schema). When ``scripts/bootstrap.sh``
        is preparing it in the background, wait for that first (``waited``) and find the work done."""
        t0 = time.monotonic()
        with self._lock() as waited:
            times = {"waited for bootstrap": waited} if waited >= 1 else {}
            times.update(self._prepare(log, seeded=seeded))
            if self.origin == "seeded-cache":
                self._created_marker().unlink(missing_ok=True)
            t = time.monotonic()
            self._serve()
            times["serve"] = time.monotonic() - t
        times["total"] = time.monotonic() - t0
        return times

    def prepare(self, log: Log = print, *, seeded: Path | None = None) -> dict[str, float]:
        """Everything :meth:`up` does before serving (install, PostgreSQL, Redis, schema): what
        ``scripts/bootstrap.sh`` runs in the background on a fresh clone while the project's venv installs.
        Standard library only."""
        with self._lock():
            return self._prepare(log, seeded=seeded)

    @contextlib.contextmanager
    def _lock(self) -> Iterator[float]:
        """One ``up``/``prepare`` at a time per state directory; yields the seconds waited for it."""
        self.base.mkdir(parents=True, exist_ok=True)
        with open(self.base / "up.lock", "a") as f:
            t = time.monotonic()
            fcntl.flock(f, fcntl.LOCK_EX)
            try:
                yield time.monotonic() - t
            finally:
                fcntl.flock(f, fcntl.LOCK_UN)

    def _created_marker(self) -> Path:
        """The origin of a database another process created (the background prepare): ``created`` stays
        until the seeded cache is taken (:meth:`cache_seeded`); ``seeded-cache`` is read once."""
        return self.base / ".origin"

    def _set_origin(self, origin: str) -> None:
        self.origin = origin
        self._created_marker().write_text(origin + "\n")

    def _read_origin(self) -> None:
        marker = self._created_marker()
        if self.origin == "existing" and marker.exists():
            self.origin = marker.read_text().strip()
            if self.origin != "created":
                marker.unlink()

    def _prepare(self, log: Log, *, seeded: Path | None) -> dict[str, float]:
        times: dict[str, float] = {}
        self.base.mkdir(parents=True, exist_ok=True)
        self._read_origin()
        srv, pg, rd = self.server, self.postgres, self.redis

        # the NetBox venv install (pip, ~30 s) overlaps PostgreSQL's start and the dump restore: neither
        # needs the venv; migrate does, so it waits for the install
        wheel_cache = settings.cache_dir() / "wheels"
        with ThreadPoolExecutor(max_workers=3, thread_name_prefix="localnb") as pool:
            install = pool.submit(srv.install, wheel_cache, log)

            t = time.monotonic()
            if not pg.initialised():
                log(f"initialising PostgreSQL cluster in {pg.data_dir}")
                pg.init(srv.secret("pg_superuser_password", 32))
            if pg.pid() and not _safe(pg.durable):
                # started by an older campusnet with fsync off: restart it durable, unless NetBox is serving
                # (a restart under a running NetBox fails its requests and jobs): then say how
                if srv.web_pid():
                    log("warning: PostgreSQL runs with fsync off (started by an older campusnet); "
                        "`campusnet netbox down` then `campusnet netbox up` restarts it durable")
                else:
                    log("restarting PostgreSQL with fsync, synchronous_commit and full_page_writes on")
                    srv.stop()  # the RQ worker holds connections
                    pg.stop()
            pg.start()
            pg.wait_ready()
            rd.start()
            times["services"] = time.monotonic() - t

            srv.write_config(pg.port, rd.port)
            self._write_state()

            t = time.monotonic()
            created = pg.ensure_database("netbox", "netbox", srv.secret("db_password", 32))
            marker = srv.migrated_marker()
            need_schema = created or not marker.exists() or marker.read_text().strip() != SCHEMA_KEY
            cache = self.schema_cache()
            seeded_dump = self.seeded_cache(seeded) if seeded is not None else None
            source: Path | None = None
            if created and seeded_dump is not None and seeded_dump.exists():
                source = seeded_dump
                self._set_origin("seeded-cache")
                log(f"restoring the seeded NetBox database from {seeded_dump} (the seed will check it)")
            elif created and cache.exists():
                source = cache
                self._set_origin("created")
                log(f"restoring the migrated NetBox schema from {cache}")
            if source is not None:
                pg.restore("netbox", "netbox", source)
            times["restore"] = time.monotonic() - t

            t = time.monotonic()
            times["install"] = install.result()  # raises the install's error, if any
            times["install wait"] = time.monotonic() - t
            # a machine without the wheel cache installed from PyPI: fill the cache beside migrate
            wheels = pool.submit(srv.cache_wheels, wheel_cache, log)

            t = time.monotonic()
            times.update(self._schema(pool, source=source, need_schema=need_schema, created=created,
                                      log=log))
            times["schema"] = time.monotonic() - t
            times["wheel cache"] = wheels.result()

        self._write_state()
        return times

    def _serve(self) -> None:
        srv = self.server
        if srv.has_token_files():
            srv.start()
            srv.ensure_users()  # checks the existing tokens through the web server
        else:  # a new state dir: make users and tokens (a Django shell) while gunicorn starts
            with ThreadPoolExecutor(max_workers=1, thread_name_prefix="localnb") as pool:
                users = pool.submit(srv.ensure_users)
                srv.start()
                users.result()
        self._write_state()

    def _schema(self, pool: ThreadPoolExecutor, *, source: Path | None, need_schema: bool, created: bool,
                log: Log) -> dict[str, float]:
        """Migrate when needed (caching the bare schema after a first migrate) and collect the static files
        beside it: collectstatic reads no database (it runs against a database that does not exist)."""
        srv, pg = self.server, self.postgres
        times: dict[str, float] = {}
        marker = srv.migrated_marker()
        static_marker = srv.root / "static" / ".campusnet-collected"
        static = None
        if not static_marker.exists() or static_marker.read_text().strip() != SCHEMA_KEY:
            log("collecting NetBox's static files (rack elevations need their CSS), beside migrate")
            static = pool.submit(_timed, lambda: srv.manage("collectstatic", "--no-input"))
        if need_schema:
            t = time.monotonic()
            if source is not None:
                log("applying migrations (nothing to do after a restore, ~20 s)")
                srv.migrate()
            else:
                log("migrating the NetBox database (first time on this machine: ~7 min of CPU)")
                srv.migrate()
                if created:
                    pg.dump("netbox", self.schema_cache())
                    log(f"cached the migrated schema in {self.schema_cache()}")
                    self._set_origin("created")
            marker.write_text(SCHEMA_KEY + "\n")
            times["migrate"] = time.monotonic() - t
        if static is not None:
            times["collectstatic"] = static.result()
            static_marker.write_text(SCHEMA_KEY + "\n")
        return times

    def down(self) -> list[str]:
        stopped = self.server.stop()
        if self.redis.stop():
            stopped.append("redis")
        if self.postgres.stop():
            stopped.append("postgres")
        return stopped

    def reset(self, log: Log = print) -> None:
        """Wipe NetBox's data (keep the install and the caches): drop and restore the empty schema."""
        self.server.stop()
        pg = self.postgres
        if pg.initialised():
            pg.start()
            pg.drop_database("netbox")
        for f in (self.server.migrated_marker(), *self.server.secrets_dir.glob("*.token")):
            f.unlink(missing_ok=True)
        self.up(log=log)

    def status(self) -> dict[str, Any]:
        srv, pg, rd = self.server, self.postgres, self.redis
        web = srv.web_pid()
        return {
            "netbox_version": NETBOX_VERSION,
            "url": srv.url,
            "answering": bool(web) and _safe(srv.answering),
            "state_dir": str(self.state),
            "token_files": {r: str(srv.token_file(r)) for r in ("automation", "auditor")},
            "pids": {"gunicorn": web, "rqworker": srv.worker_pid(), "postgres": pg.pid(), "redis": rd.pid()},
            "ports": dict(self.ports),
            "postgres_data": str(pg.data_dir),
            "postgres_durable": bool(pg.pid()) and _safe(pg.durable),
            "schema_cache": str(self.schema_cache()),
            "schema_cache_present": self.schema_cache().exists(),
        }

    def purge(self) -> None:
        """Remove the whole local NetBox (install, database, secrets). Used by `netbox reset --hard`."""
        self.down()
        pg_root = self.postgres.data_dir.parent
        shutil.rmtree(self.base, ignore_errors=True)
        shutil.rmtree(pg_root, ignore_errors=True)

    def _write_state(self) -> None:
        srv = self.server
        sf = settings.local_state_file()
        sf.parent.mkdir(parents=True, exist_ok=True)
        data = {
            "url": srv.url,
            "ports": self.ports,
            "token_files": {r: str(srv.token_file(r)) for r in ("automation", "auditor")},
            "netbox_version": NETBOX_VERSION,
        }
        sf.write_text(json.dumps(data, indent=2) + "\n")
        os.chmod(sf, 0o644)


def prepare_in_background() -> int:
    """``scripts/bootstrap.sh`` on a fresh clone: :meth:`LocalNetBox.prepare` (the first ``netbox up``'s
    install and migrate) while the project's venv installs. Standard library only. A failure is left to
    ``netbox up``, which redoes what is missing and reports it."""
    t0 = time.monotonic()

    def log(msg: str) -> None:
        print(f"[{time.monotonic() - t0:6.1f} s] {msg}", flush=True)

    try:
        times = LocalNetBox.load().prepare(log, seeded=settings.inventory_dir() / "campus")
    except Exception as exc:  # noqa: BLE001 - reported; `netbox up` tries again in the foreground
        log(f"failed: {exc}")
        return 1
    log("prepared: " + ", ".join(f"{k} {v:.0f} s" for k, v in times.items() if round(v)))
    return 0


def seeded_key(campus: Path) -> str:
    """What the seeded database depends on: NetBox and plugin versions (the schema key), the design
    YAML under ``campus`` and the seed code (campusnet/design/*.py). Any change: a new key."""
    h = hashlib.sha256(f"{SCHEMA_KEY}\n".encode())
    design_code = settings.REPO_ROOT / "campusnet" / "design"
    for label, root, pattern in (("campus", campus, "*.yml"), ("code", design_code, "*.py")):
        for f in sorted(root.rglob(pattern)):
            h.update(f"{label}/{f.relative_to(root).as_posix()}\n".encode())
            h.update(hashlib.sha256(f.read_bytes()).digest())
    return h.hexdigest()[:16]


def _timed(fn: Callable[[], object]) -> float:
    t = time.monotonic()
    fn()
    return time.monotonic() - t


def _safe(fn: Callable[[], bool]) -> bool:
    try:
        return fn()
    except Exception:  # noqa: BLE001 - status must never crash
        return False
