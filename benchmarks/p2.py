"""P2: render every config — ours in-process, ours on a process pool, an Ansible ``template`` loop.

The intents are rebuilt from the snapshot P1 saved (the same NetBox data). Secrets are resolved by a
placeholder resolver (the benchmark measures rendering, not secret stores). The Ansible loop renders the
same intent (as JSON host variables, one host per device) with ``ansible-playbook`` and the ``template``
module on localhost. Our platform templates read ``ipaddress`` objects (``.ip``, ``.netmask``) that JSON
host variables cannot carry, so Ansible renders ``benchmarks/ansible/intent.j2`` — a generic walk of the
same intent of comparable output size; the per-host cost of the template module dominates either way.
It runs on a sample of hosts and is extrapolated (said in the output).
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from campusnet.intent import DeviceIntent
from campusnet.render import render_device
from campusnet.settings import REPO_ROOT

ANSIBLE_TEMPLATE = Path(__file__).with_name("ansible") / "intent.j2"


def placeholder_secret(name: str) -> str:
    return f"bench-{name}"


def _render_chunk(intents: list[DeviceIntent]) -> tuple[int, int]:
    files = nbytes = 0
    for it in intents:
        for text in render_device(it, secrets=placeholder_secret, lab=False).values():
            files += 1
            nbytes += len(text)
    return files, nbytes


def in_process(intents: list[DeviceIntent]) -> dict[str, Any]:
    t0 = time.perf_counter()
    files, nbytes = _render_chunk(intents)
    return {"total_s": round(time.perf_counter() - t0, 3), "devices": len(intents), "files": files,
            "bytes": nbytes}


def pool(intents: list[DeviceIntent], workers: int = 2) -> dict[str, Any]:
    """A process pool (``workers`` processes, one chunk each); includes pool start and pickling."""
    t0 = time.perf_counter()
    chunks = [intents[i::workers] for i in range(workers)]
    with ProcessPoolExecutor(workers) as ex:
        results = list(ex.map(_render_chunk, chunks))
    return {"total_s": round(time.perf_counter() - t0, 3), "workers": workers,
            "files": sum(r[0] for r in results), "bytes": sum(r[1] for r in results)}


PLAYBOOK = """\
- name: Render configs with the template module (benchmark)
  hosts: all
  gather_facts: false
  connection: local
  tasks:
    - name: Render the platform's main template
      ansible.builtin.template:
        src: "{{ tpl }}"
        dest: "{{ out_dir }}/{{ inventory_hostname }}.cfg"
        mode: "0644"
"""


def ansible_loop(intents: list[DeviceIntent], sample: int = 60, forks: int = 4, seed: int = 3) -> dict[str, Any]:
    """ansible-playbook + template over ``sample`` hosts (intent fields as host vars), extrapolated."""
    rng = random.Random(seed)  # noqa: S311 - a sample, not a secret
    picked = rng.sample(intents, min(sample, len(intents)))
    with tempfile.TemporaryDirectory() as tmp:
        out_dir = Path(tmp) / "out"
        out_dir.mkdir()
        hosts: dict[str, Any] = {}
        for it in picked:
            hv = {"intent": it.model_dump(mode="json")}
            hv["tpl"] = str(ANSIBLE_TEMPLATE)
            hv["ansible_python_interpreter"] = sys.executable
            hosts[it.hostname] = hv
        inv = Path(tmp) / "inventory.json"
        inv.write_text(json.dumps({"all": {"hosts": hosts, "vars": {"out_dir": str(out_dir)}}}))
        book = Path(tmp) / "render.yml"
        book.write_text(PLAYBOOK)
        env = os.environ.copy() | {"ANSIBLE_FORKS": str(forks), "ANSIBLE_HOST_KEY_CHECKING": "False",
                                   "ANSIBLE_STDOUT_CALLBACK": "default", "ANSIBLE_NOCOLOR": "1",
                                   "ANSIBLE_RETRY_FILES_ENABLED": "False",
                                   "ANSIBLE_CONFIG": str(Path(tmp) / "none.cfg")}
        exe = str(Path(sys.executable).with_name("ansible-playbook"))
        t0 = time.perf_counter()
        r = subprocess.run([exe, "-i", str(inv), str(book)], capture_output=True, text=True, env=env,
                           cwd=REPO_ROOT, check=False)
        secs = time.perf_counter() - t0
        rendered = len(list(out_dir.glob("*.cfg")))
    failed = len(picked) - rendered
    per_host = secs / max(1, len(picked))
    res: dict[str, Any] = {"template": str(ANSIBLE_TEMPLATE.relative_to(REPO_ROOT)),
                           "total_s": round(per_host * len(intents), 2), "sample_hosts": len(picked),
                           "sample_s": round(secs, 2), "per_host_s": round(per_host, 4), "forks": forks,
                           "extrapolated": True, "rendered": rendered, "failed": failed}
    if r.returncode != 0:
        res["note"] = "some hosts failed: " + " ".join(r.stdout.split("fatal:")[1:2])[:400]
    return res


def load_intents(snapshot_path: Path) -> list[DeviceIntent]:
    from campusnet.intent import build_intents_collect
    from campusnet.sot import Snapshot

    intents, _errors = build_intents_collect(Snapshot.load(snapshot_path))
    return list(intents.values())


__all__ = ["REPO_ROOT", "ansible_loop", "in_process", "load_intents", "pool"]
