"""Nornir task: render one host's configuration files with the library (no logic of its own).

>>> from nornir_tasks import init_nornir                      # doctest: +SKIP
>>> init_nornir().run(task=render_config, out_dir="out/nornir")  # doctest: +SKIP
"""

from __future__ import annotations

from pathlib import Path

from nornir.core.task import Result, Task

from campusnet.nornir_inventory import emulation_of, intent_of
from campusnet.render import SecretResolver, render_all


def render_config(task: Task, out_dir: Path | str, *, lab: bool = True,
                  secrets: SecretResolver | None = None) -> Result:
    """Render the host's intent (``campusnet.render.render_device``, written by the CLI's writer
    ``render_all``: ``<out_dir>/<host>/…``) ; ``changed`` when a file's content changed. ``lab`` and
    ``secrets`` are ``render_all``'s (``campusnet render --no-lab`` / ``--fake-secrets``)."""
    intent = intent_of(task.host)
    emulation = emulation_of(task.host) if lab else None
    summary = render_all([intent], out_dir, lab=lab, secrets=secrets,
                         emulations={intent.hostname: emulation} if emulation else None)
    return Result(host=task.host, changed=summary.changed > 0, result=[str(p) for p in summary.written])
