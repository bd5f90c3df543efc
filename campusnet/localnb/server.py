"""The local NetBox itself: its virtualenv, configuration, schema, users/tokens, gunicorn and RQ worker."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from campusnet.errors import CampusnetError
from campusnet.procs import read_pid, spawn, stop_pid, wait_for

NETBOX_VERSION = "4.7.3"
BRANCHING_VERSION = "1.2.2"
GUNICORN_VERSION = "26.2.0"
REQUIREMENTS = [
    f"netbox=={NETBOX_VERSION}",
    f"netboxlabs-netbox-branching=={BRANCHING_VERSION}",
    f"gunicorn=={GUNICORN_VERSION}",
]
SCHEMA_KEY = f"netbox-{NETBOX_VERSION}-branching-{BRANCHING_VERSION}"

CONFIG_TEMPLATE = """\
# Written by campusnet (campusnet/localnb/server.py). Holds secrets: mode 0600, never committed.
from netbox_branching.utilities import DynamicSchemaDict

ALLOWED_HOSTS = ['127.0.0.1', 'localhost']
SECRET_KEY = {secret_key!r}
API_TOKEN_PEPPERS = {{1: {pepper!r}}}
DATABASES = DynamicSchemaDict({{
    'default': {{
        'ENGINE': 'django.db.backends.postgresql',
        'NAME': 'netbox',
        'USER': 'netbox',
        'PASSWORD': {db_password!r},
        'HOST': '127.0.0.1',
        'PORT': {pg_port},
        'CONN_MAX_AGE': 300,
    }}
}})
DATABASE_ROUTERS = ['netbox_branching.database.BranchAwareRouter']
REDIS = {{
    'tasks': {{'HOST': '127.0.0.1', 'PORT': {redis_port}, 'PASSWORD': {redis_password!r},
              'DATABASE': 0, 'SSL': False}},
    'caching': {{'HOST': '127.0.0.1', 'PORT': {redis_port}, 'PASSWORD': {redis_password!r},
                'DATABASE': 1, 'SSL': False}},
}}
PLUGINS = ['netbox_branching']
PLUGINS_CONFIG = {{'netbox_branching': {{'provision_workers': 2}}}}
# Never reach out to the internet.
CENSUS_REPORTING_ENABLED = False
ISOLATED_DEPLOYMENT = True
RELEASE_CHECK_URL = None
LOGIN_REQUIRED = True
CHANGELOG_RETENTION = 0
MAX_PAGE_SIZE = 1000
TIME_ZONE = 'Asia/Shanghai'
"""

USERS_SCRIPT = r"""
import json
from django.contrib.auth import get_user_model
from core.models import ObjectType
from users.models import Token, ObjectPermission

User = get_user_model()
out = {}
auto, _ = User.objects.get_or_create(username='automation', defaults={'is_superuser': True})
if not auto.is_superuser:
    auto.is_superuser = True; auto.save()
aud, _ = User.objects.get_or_create(username='auditor')
if aud.is_superuser:
    aud.is_superuser = False; aud.save()
perm, created = ObjectPermission.objects.get_or_create(name='auditor: view everything',
                                                       defaults={'actions': ['view']})
perm.actions = ['view']
perm.save()
perm.object_types.set(ObjectType.objects.public())
perm.users.set([aud])
for user, write in ((auto, True), (aud, False)):
    if user.username in WANT:
        Token.objects.filter(user=user, description='campusnet').delete()
        t = Token(user=user, description='campusnet', write_enabled=write)
        t.save()
        out[user.username] = 'nbt_' + t.key + '.' + t.token
print('CAMPUSNET-TOKENS ' + json.dumps(out))
"""


@dataclass
class NetBoxServer:
    base: Path  # state/netbox
    port: int

    # -- paths ------------------------------------------------------------------------------------------
    @property
    def venv(self) -> Path:
        return self.base / "venv"

    @property
    def root(self) -> Path:
        return self.base / "root"

    @property
    def secrets_dir(self) -> Path:
        return self.base / "secrets"

    @property
    def logs(self) -> Path:
        return self.base / "logs"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def exe(self, name: str) -> str:
        return str(self.venv / "bin" / name)

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("NETBOX_URL", "NETBOX_TOKEN"))}
        env["NETBOX_ROOT"] = str(self.root)
        env["PYTHONUNBUFFERED"] = "1"
        env.pop("VIRTUAL_ENV", None)
        return env

    # -- secrets ----------------------------------------------------------------------------------------
    def secret(self, name: str, length: int = 50) -> str:
        """A generated secret kept in a 0600 file; created on first use."""
        self.secrets_dir.mkdir(parents=True, exist_ok=True)
        os.chmod(self.secrets_dir, 0o700)
        f = self.secrets_dir / name
        if not f.exists():
            alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
            f.touch(mode=0o600)
            f.write_text("".join(secrets.choice(alphabet) for _ in range(length)) + "\n")
        return f.read_text().strip()

    def token_file(self, role: str) -> Path:
        return self.secrets_dir / f"{role}.token"

    # -- install ----------------------------------------------------------------------------------------
    def installed(self) -> bool:
        marker = self.venv / ".campusnet-installed"
        return marker.exists() and marker.read_text().strip() == " ".join(REQUIREMENTS)

    def install(self, wheel_cache: Path, log: Callable[[str], None] = print) -> float:
        """Create the NetBox virtualenv: from the cached wheels, or, on a machine without them, straight
        from PyPI (one step: building the wheels first and installing from them took ~40 s more); then
        :meth:`cache_wheels` fills the cache beside ``migrate``."""
        if self.installed():
            return 0.0
        t0 = time.monotonic()
        python = _python312()
        wheels = wheel_cache / f"netbox-{NETBOX_VERSION}"
        if self.venv.exists():
            shutil.rmtree(self.venv)
        _run([python, "-m", "venv", str(self.venv)], what="create NetBox venv")
        if wheels_cached(wheel_cache):
            log(f"installing NetBox {NETBOX_VERSION} into {self.venv}")
            _run([self.exe("python"), "-m", "pip", "install", "-q", "--no-index", "--find-links", str(wheels),
                  *REQUIREMENTS], what="pip install NetBox")
        else:
            log(f"installing NetBox {NETBOX_VERSION} from PyPI into {self.venv} (no wheel cache on this machine)")
            _run([self.exe("python"), "-m", "pip", "install", "-q", *REQUIREMENTS], what="pip install NetBox")
        (self.venv / ".campusnet-installed").write_text(" ".join(REQUIREMENTS) + "\n")
        return time.monotonic() - t0

    def cache_wheels(self, wheel_cache: Path, log: Callable[[str], None] = print) -> float:
        """Fill the per-machine wheel cache with this venv's pip (see :func:`build_wheels`)."""
        return build_wheels(self.exe("python"), wheel_cache, log)

    # -- configuration ----------------------------------------------------------------------------------
    def write_config(self, pg_port: int, redis_port: int) -> None:
        conf = self.root / "conf"
        conf.mkdir(parents=True, exist_ok=True)
        for d in ("media", "reports", "scripts", "static"):
            (self.root / d).mkdir(exist_ok=True)
        text = CONFIG_TEMPLATE.format(
            secret_key=self.secret("secret_key", 60),
            pepper=self.secret("token_pepper", 60),
            db_password=self.secret("db_password", 32),
            redis_password=self.secret("redis_password", 32),
            pg_port=pg_port,
            redis_port=redis_port,
        )
        path = conf / "configuration.py"
        if not path.exists() or path.read_text() != text:
            path.touch(mode=0o600)
            path.write_text(text)
        os.chmod(path, 0o600)

    def manage(self, *args: str, stdin: str | None = None, timeout: float = 1800) -> str:
        r = subprocess.run(
            [self.exe("netbox"), *args], input=stdin, text=True, capture_output=True, env=self.env(),
            timeout=timeout,
        )
        if r.returncode != 0:
            raise CampusnetError("E170", f"`netbox {' '.join(args)}` failed: {r.stderr.strip()[-1500:]}")
        return r.stdout

    def migrate(self) -> None:
        self.manage("migrate", "--no-input")

    def migrated_marker(self) -> Path:
        return self.base / ".schema"

    # -- users and tokens -------------------------------------------------------------------------------
    def has_token_files(self) -> bool:
        return any(self.token_file(r).exists() for r in ("automation", "auditor"))

    def api_ok(self, token: str) -> bool:
        """The token reads NetBox (through the reader's client, one try: a probe, not a read)."""
        from campusnet.settings import NetBoxTarget
        from campusnet.sot.reader import Fetcher

        try:
            with Fetcher(NetBoxTarget(self.url, token, "local"), timeout=10, tries=1) as f:
                return f.request("GET", "/api/dcim/sites/", params={"limit": 1}).status_code == 200
        except CampusnetError:
            return False

    def ensure_users(self) -> None:
        """Create the automation (write) and auditor (view-only) users and their v2 tokens."""
        want = [r for r in ("automation", "auditor")
                if not self.token_file(r).exists() or not self.api_ok(self.token_file(r).read_text().strip())]
        if not want:
            return
        out = self.manage("shell", "--no-imports", stdin=f"WANT = {want!r}\n" + USERS_SCRIPT)
        line = next((ln for ln in out.splitlines() if ln.startswith("CAMPUSNET-TOKENS ")), None)
        if line is None:
            raise CampusnetError("E171", "creating NetBox users printed no tokens")
        tokens = json.loads(line.split(" ", 1)[1])
        for role, tok in tokens.items():
            f = self.token_file(role)
            f.touch(mode=0o600)
            os.chmod(f, 0o600)
            f.write_text(tok + "\n")

    # -- processes --------------------------------------------------------------------------------------
    @property
    def web_pidfile(self) -> Path:
        return self.base / "gunicorn.pid"

    @property
    def worker_pidfile(self) -> Path:
        return self.base / "rqworker.pid"

    def web_pid(self) -> int | None:
        return read_pid(self.web_pidfile)

    def worker_pid(self) -> int | None:
        return read_pid(self.worker_pidfile)

    def start(self) -> None:
        if not self.web_pid():
            spawn([self.exe("gunicorn"), "--bind", f"127.0.0.1:{self.port}", "--workers", "3", "--threads", "2",
                   "--timeout", "600", "--preload", "--no-control-socket", "--chdir", str(self.root),
                   "netbox.wsgi"], pidfile=self.web_pidfile, logfile=self.logs / "gunicorn.log", env=self.env())
        if not self.worker_pid():
            spawn([self.exe("netbox"), "rqworker", "high", "default", "low"],
                  pidfile=self.worker_pidfile, logfile=self.logs / "rqworker.log", env=self.env())
        wait_for(self.answering, timeout=120, interval=0.5, what=f"NetBox on {self.url}")

    def answering(self) -> bool:
        if not self.web_pid():
            log = self.logs / "gunicorn.log"
            tail = log.read_text()[-1500:] if log.exists() else ""
            raise CampusnetError("E172", f"gunicorn exited; its log ends with:\n{tail}")
        try:  # no token, no client: a probe for "the web server answers" (wait_for polls it)
            with urllib.request.urlopen(f"{self.url}/api/status/", timeout=5) as resp:  # noqa: S310
                return bool(resp.status in (200, 403))
        except urllib.error.HTTPError as exc:
            return exc.code in (401, 403)
        except (urllib.error.URLError, OSError):
            return False

    def stop_web(self) -> bool:
        """Stop the web server only (gunicorn); the RQ worker, PostgreSQL and Redis keep running. The
        fault drills use it to take NetBox away mid-read; :meth:`start` brings it back."""
        pid = self.web_pid()
        if not pid:
            return False
        stop_pid(pid)
        return True

    def stop(self) -> list[str]:
        stopped = []
        for name, pid in (("rqworker", self.worker_pid()), ("gunicorn", self.web_pid())):
            if pid:
                stop_pid(pid)
                stopped.append(name)
        return stopped


def wheels_cached(wheel_cache: Path) -> bool:
    return (wheel_cache / f"netbox-{NETBOX_VERSION}" / f"netbox-{NETBOX_VERSION}-py3-none-any.whl").exists()


def build_wheels(python: str, wheel_cache: Path, log: Callable[[str], None] = print) -> float:
    """Fill the per-machine wheel cache (once per machine; an install from it takes ~30 s, offline). Built
    in a scratch directory and renamed: a half-built cache never counts. Never fatal: the next ``up``
    tries again. Returns the seconds it took (0: the cache was there)."""
    if wheels_cached(wheel_cache):
        return 0.0
    t0 = time.monotonic()
    wheels = wheel_cache / f"netbox-{NETBOX_VERSION}"
    scratch = wheel_cache / f".netbox-{NETBOX_VERSION}.{os.getpid()}"
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    try:
        _run([python, "-m", "pip", "wheel", "-q", "-w", str(scratch), *REQUIREMENTS], what="pip wheel NetBox")
        shutil.rmtree(wheels, ignore_errors=True)
        scratch.rename(wheels)
        log(f"cached NetBox's wheels in {wheels}")
    except (CampusnetError, OSError) as exc:
        log(f"warning: the NetBox wheel cache was not built ({exc}); the next `netbox up` tries again")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return time.monotonic() - t0


def _python312() -> str:
    """An interpreter ≥ 3.12 for NetBox's venv: ours if it fits, else python3.12 on PATH."""
    return getattr(sys, "_base_executable", sys.executable)
    found = shutil.which("python3.12")
    if not found:
        raise CampusnetError("E173", "NetBox 4.7 needs Python 3.12 or newer and none was found (pyenv install 3.12)")
    return found


def _run(argv: list[str], *, what: str) -> None:
    r = subprocess.run(argv, text=True, capture_output=True)
    if r.returncode != 0:
        raise CampusnetError("E174", f"{what} failed: {(r.stderr or r.stdout).strip()[-1500:]}")
