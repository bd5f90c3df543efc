"""DeviceIntent → configuration text. The one rendering path: the CLI, the Nornir task and the Ansible
playbook all call :func:`render_device` / :func:`render_all`.

One Jinja environment (StrictUndefined, trim_blocks, lstrip_blocks, keep_trailing_newline). Templates live
in ``templates/<platform>/``; ``main.j2`` includes one template per section by short name (an include is
resolved next to the including template). Secrets referenced in the intent (``SecretRef``) are resolved
here, at render time, from ``CAMPUSNET_SECRET_<NAME>`` or a 0600 file ``<state>/secrets/<NAME>``.
"""

from __future__ import annotations

import os
import re
import stat
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2

from campusnet import settings
from campusnet.errors import CampusnetError
from campusnet.intent.emulation import plumbing
from campusnet.intent.models import Bgp, DeviceIntent, SecretRef, Services
from campusnet.platforms import get_platform
from campusnet.private import private_dir, write_private
from campusnet.safety import SECRET_REF, control_char, path_component, quote_description, shell_comment, shell_word

LAB_DIR = "lab"
SecretResolver = Callable[[str], str]


# --------------------------------------------------------------------------------------------------------
# secrets
# --------------------------------------------------------------------------------------------------------
def secret_env_name(name: str) -> str:
    """``snmp-community`` → ``CAMPUSNET_SECRET_SNMP_COMMUNITY``."""
    return "CAMPUSNET_SECRET_" + re.sub(r"[^A-Za-z0-9]", "_", name).upper()


def secret_path(name: str) -> Path:
    """The file of secret ``name`` in ``<state>/secrets``: ``name`` must be ``[A-Za-z0-9_-]+`` (E320) and the
    path, symlinks resolved, must stay inside the secrets directory (E321)."""
    if not isinstance(name, str) or SECRET_REF.fullmatch(name) is None:
        raise CampusnetError("E320", f"secret reference {str(name)[:60]!r} is not [A-Za-z0-9_-]+ (refused: it "
                             "names a file in the secrets directory)", obj=str(name)[:60], field="secret_ref")
    base = settings.state_dir() / "secrets"
    path = base / name
    if path.is_symlink() or path.exists():
        real, root = path.resolve(), base.resolve()
        if real.parent != root or not real.is_file():
            raise CampusnetError("E321", f"secret file {path} resolves to {real}, outside the secrets directory "
                                 f"{root} or not a file: refused", obj=name, field="secret_ref")
    return path


def _single_line(name: str, value: str, source: str) -> str:
    """A secret goes on one configuration line: a control character in it (never shown) is refused."""
    if control_char(value):
        raise CampusnetError("E324", f"the value from {source} holds a newline or another control character: it "
                             "would end the configuration line it is put on (value not shown)", obj=name,
                             field="secret_ref")
    return value


def resolve_secret(name: str) -> str:
    """The value of secret ``name``: environment first, then a private file in the state directory."""
    path = secret_path(name)
    value = os.environ.get(secret_env_name(name))
    if value:
        return _single_line(name, value, secret_env_name(name))
    if path.exists():
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            raise CampusnetError("E305", f"secret file {path} is readable by others (mode {mode:o}): chmod 600",
                                 obj=name, field="secret_ref")
        return _single_line(name, path.read_text(encoding="utf-8").strip(), str(path))
    raise CampusnetError("E304", f"secret not found: set {secret_env_name(name)} or write {path} (mode 0600)",
                         obj=name, field="secret_ref")


def _resolve(value: Any, resolver: SecretResolver, device: str) -> Any:
    if not isinstance(value, SecretRef):
        return value
    try:
        return resolver(value.secret_ref)
    except CampusnetError as exc:
        raise CampusnetError(exc.code, f"{exc.message} (needed by device {device})", obj=exc.obj,
                             field=exc.field) from None


def secret_refs(intents: Iterable[DeviceIntent]) -> set[str]:
    """The names of every secret the intents refer to."""
    names: set[str] = set()

    def record(name: str) -> str:
        names.add(name)
        return ""

    for intent in intents:
        resolve_secrets(intent, record)
    return names


def generate_missing_secrets(names: Iterable[str]) -> list[str]:
    """Create random values (0600 files in the state directory) for secrets that have none yet.

    For the embedded default only (local NetBox and lab): production secrets come from the environment or
    a secret store, and a missing one is an error (E304). Returns the names generated, never the values.
    """
    import secrets as _secrets

    d = settings.state_dir() / "secrets"
    d.mkdir(mode=0o700, parents=True, exist_ok=True)
    made: list[str] = []
    for name in sorted(names):
        path = secret_path(name)
        if os.environ.get(secret_env_name(name)) or path.exists() or path.is_symlink():
            continue
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(_secrets.token_urlsafe(18) + "\n")
        made.append(name)
    return made


def placeholder_secret(name: str) -> str:
    """A stand-in for reviews and diffs without secrets (``campusnet render --fake-secrets``); never push it."""
    return f"FAKE-{name}"


def resolve_secrets(intent: DeviceIntent, resolver: SecretResolver = resolve_secret) -> DeviceIntent:
    """A copy of the intent with every :class:`SecretRef` replaced by its value (services, BGP passwords)."""
    upd: dict[str, Any] = {}
    svc: Services = intent.services
    s_upd: dict[str, Any] = {}
    if svc.snmp is not None and isinstance(svc.snmp.community, SecretRef):
        community = _resolve(svc.snmp.community, resolver, intent.hostname)
        s_upd["snmp"] = svc.snmp.model_copy(update={"community": community})
    if svc.aaa is not None and isinstance(svc.aaa.key, SecretRef):
        s_upd["aaa"] = svc.aaa.model_copy(update={"key": _resolve(svc.aaa.key, resolver, intent.hostname)})
    if s_upd:
        upd["services"] = svc.model_copy(update=s_upd)
    bgp: Bgp | None = intent.bgp
    if bgp is not None and any(isinstance(n.password, SecretRef) for n in bgp.neighbors):
        upd["bgp"] = bgp.model_copy(update={"neighbors": tuple(
            n.model_copy(update={"password": _resolve(n.password, resolver, intent.hostname)}) for n in bgp.neighbors)})
    return intent.model_copy(update=upd) if upd else intent


# --------------------------------------------------------------------------------------------------------
# the environment
# --------------------------------------------------------------------------------------------------------
class _Environment(jinja2.Environment):
    def join_path(self, template: str, parent: str) -> str:
        """``{% include "bgp.j2" %}`` inside ``huawei_vrp/main.j2`` means ``huawei_vrp/bgp.j2``."""
        if "/" in template or "/" not in parent:
            return template
        return parent.rsplit("/", 1)[0] + "/" + template


@lru_cache(maxsize=4)
def environment(templates: Path | None = None) -> jinja2.Environment:
    env = _Environment(
        loader=jinja2.FileSystemLoader(str(templates or settings.templates_dir())),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,
        auto_reload=False,
    )
    # hostile strings (docs/reliability.md, 3): descriptions made safe per platform, shell words checked+quoted
    env.filters["desc"] = _desc_filter
    env.filters["sh"] = shell_word
    env.filters["shcomment"] = shell_comment
    return env


@jinja2.pass_context
def _desc_filter(ctx: jinja2.runtime.Context, text: object, where: str = "interface") -> str:
    """``{{ i.description | desc }}``: the description for this template's platform (quote_description)."""
    system = ctx.get("system")
    return quote_description(text, getattr(system, "platform", ""), where)


def _context(intent: DeviceIntent, ovs: bool) -> dict[str, Any]:
    ctx: dict[str, Any] = {name: getattr(intent, name) for name in DeviceIntent.model_fields}
    ctx["intent"] = intent
    if ovs:  # a Linux node: its OVS/Linux plumbing, computed from the intent (the emulation step)
        ctx["lab"] = plumbing(intent)
    return ctx


def render_files(intent: DeviceIntent, *, templates: Path | None = None) -> dict[str, str]:
    """Render one intent for its own platform: ``{relative file name: text}`` (no secret resolution)."""
    platform = get_platform(intent.platform, obj=intent.hostname)
    env = environment(templates)
    ctx = _context(intent, platform.capabilities.ovs)
    out: dict[str, str] = {}
    for pattern, template in platform.outputs:
        name = f"{platform.template_subdir}/{template}"
        try:
            text = env.get_template(name).render(ctx)
        except jinja2.TemplateError as exc:
            raise CampusnetError("E306", f"template {name} failed: {exc}", obj=intent.hostname,
                                 field=getattr(exc, "name", None) or name) from None
        if pattern in platform.optional_outputs and not text.strip():
            continue  # e.g. openvpn.conf on a device without a VPN: no file at all
        out[pattern.format(host=intent.hostname)] = text
    return out


def render_device(intent: DeviceIntent, *, secrets: SecretResolver | None = None, lab: bool = True,
                  templates: Path | None = None, emulation: DeviceIntent | None = None) -> dict[str, str]:
    """All files of one device, keyed by path relative to the device's directory: its platform's files
    (``<host>.cfg`` for VRP/Comware; ``frr.conf``, ``ovs.sh``, ``net.sh`` for linux-frr) and, given the
    device's ``emulation`` (``Pipeline.emulations``), its ``lab/frr.conf``, ``lab/ovs.sh``, ``lab/net.sh``.
    Secrets are resolved."""
    resolver = secrets or resolve_secret
    files = render_files(resolve_secrets(intent, resolver), templates=templates)
    if lab and emulation is not None:
        for name, text in render_files(resolve_secrets(emulation, resolver), templates=templates).items():
            files[f"{LAB_DIR}/{name}"] = text
    return files


@dataclass
class RenderSummary:
    devices: int = 0
    files: int = 0
    changed: int = 0
    bytes: int = 0
    seconds: float = 0.0
    per_platform: dict[str, int] = field(default_factory=dict)
    written: list[Path] = field(default_factory=list)


def render_all(intents: Mapping[str, DeviceIntent] | Iterable[DeviceIntent], out_dir: Path | str, *,
               progress: Callable[[str], None] | None = None, secrets: SecretResolver | None = None,
               lab: bool = True, templates: Path | None = None,
               emulations: Mapping[str, DeviceIntent] | None = None) -> RenderSummary:
    """Render every intent into ``out_dir/<host>/<file>`` (see :func:`render_device`; ``emulations``: the lab
    twins by device name); files whose content did not change are not rewritten. ``progress(hostname)`` is
    called after each device."""
    t0 = time.perf_counter()
    out = Path(out_dir)
    items = intents.values() if isinstance(intents, Mapping) else intents
    summary = RenderSummary()
    made: set[Path] = set()
    # every device is rendered before anything is written: a failure (a missing secret, a template error)
    # leaves the output directory as it was, never half old and half new
    rendered = []
    for intent in items:
        rendered.append((intent, render_device(intent, secrets=secrets, lab=lab, templates=templates,
                                               emulation=(emulations or {}).get(intent.hostname))))
    for intent, files in rendered:
        summary.devices += 1
        summary.per_platform[intent.platform] = summary.per_platform.get(intent.platform, 0) + 1
        for rel, text in files.items():
            path = out / path_component(intent.hostname) / rel
            if path.parent not in made:
                private_dir(path.parent)  # configurations carry secrets: 0700 directories, 0600 files
                made.add(path.parent)
            data = text.encode("utf-8")
            summary.files += 1
            summary.bytes += len(data)
            mode = 0o700 if rel.endswith(".sh") else 0o600
            if not path.exists() or path.read_bytes() != data or path.stat().st_mode & 0o7777 != mode:
                write_private(path, data, mode=mode)
                summary.changed += 1
            summary.written.append(path)
        if progress is not None:
            progress(intent.hostname)
    summary.seconds = time.perf_counter() - t0
    return summary
