"""Verify's pyATS collector (``--via pyats``, campusnet/verify/session.py) without the lab.

The batch travels through a real Unicon session (the linux plugin, the same ``connect``/``execute``/
``disconnect`` calls) to a local interactive ``bash`` whose prompt looks like the lab's, so Unicon's own
prompt matching meets output that ends in prompt characters (JSON's ``]``, a config line's ``#``, a
copied prompt). Recorded batches (tests/fixtures/verify/) go through the same encoding and parser.
"""

from __future__ import annotations

import base64
import gzip
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from campusnet.errors import CampusnetError
from campusnet.verify import session
from campusnet.verify.collect import batch_script, parse_batch_output

FIX = Path(__file__).resolve().parents[1] / "fixtures" / "verify"
TRICKY = ["printf '[{\"a\": 1}]'",                 # JSON without a newline: ends in a prompt character
          "echo 'hostname core#'; echo 'root@jpl-core:~# '",  # a config line and a copied prompt
          "echo oops >&2; exit 3",
          "seq 1 20000"]                           # ~110 KB of output through one execute()


def _terminal(command: str) -> str:
    """What ``execute()`` returns for ``command`` on a pty: the echo, then the output with CRLF endings."""
    out = subprocess.run(["sh", "-c", command], capture_output=True, text=True, timeout=30, check=True).stdout
    return (command + "\n" + out).replace("\n", "\r\n")


def _testbed(plan: Any, nodes: list[str] | None = None) -> dict[str, Any]:
    """Each node a local interactive bash with a lab-like prompt; node ``dead`` exits at once."""
    devices = {}
    for n in nodes or []:
        cmd = "true" if n == "dead" else f"env -i PS1='root@{n}:~# ' HOME=/tmp bash --norc --noprofile -i"
        devices[n] = {"os": "linux", "type": "linux", "credentials": {"default": {"username": "root",
                                                                                   "password": ""}},
                      "connections": {"defaults": {"class": "unicon.Unicon", "via": "cli"},
                                      "cli": {"command": cmd, "settings": dict(session.PYATS_SETTINGS)}}}
    return {"testbed": {"name": "t"}, "devices": devices}


def test_the_command_line_carries_neither_its_marks_nor_a_prompt_character() -> None:
    line = session.pyats_command(batch_script(TRICKY, "@@cn-1"), "@@cnabcdef")
    assert "\n" not in line and "@@cnabcdef" not in line
    assert not set(line) & set(">$%~#]"), "a read that stops mid-echo could look like Unicon's Linux prompt"


def test_recorded_batches_survive_the_encoding_and_the_parser() -> None:
    for path in sorted(FIX.glob("*.json")):
        doc = json.loads(path.read_text())
        cmds = list(doc["commands"])
        # the node's printout, rebuilt from the recording exactly as batch_script prints it
        printout = "".join(f"\n@@cn-r out {i} {doc['commands'][c]['rc']}\n{doc['commands'][c]['out']}"
                           f"\n@@cn-r err {i}\n{doc['commands'][c].get('err', '')}" for i, c in enumerate(cmds))
        printout += "\n@@cn-r end\n"
        blob = base64.b64encode(gzip.compress(printout.encode())).decode()
        text = f"echo ...\r\n@@cnmark begin\r\n{blob}\r\n@@cnmark end\r\n"
        got = session.decode_pyats_output(path.stem, cmds, "@@cn-r", "@@cnmark", text)
        assert {c: (v["rc"], v["out"]) for c, v in got.items()} == \
               {c: (v["rc"], v["out"]) for c, v in doc["commands"].items()}


def test_the_shell_line_round_trips_output_that_ends_in_prompt_characters() -> None:
    script = batch_script(TRICKY, "@@cn-42")
    got = session.decode_pyats_output("n", TRICKY, "@@cn-42", "@@cn0123",
                                      _terminal(session.pyats_command(script, "@@cn0123")))
    assert got == parse_batch_output("n", TRICKY, "@@cn-42",
                                     subprocess.run(["sh", "-c", script], capture_output=True, text=True,
                                                    check=True).stdout)
    assert got[TRICKY[0]]["out"] == '[{"a": 1}]' and got[TRICKY[2]] == {"rc": 3, "out": "", "err": "oops\n"}


def test_a_cut_or_garbled_printout_is_a_coded_error() -> None:
    text = _terminal(session.pyats_command(batch_script(["echo a"], "@@cn-1"), "@@cnzz"))
    with pytest.raises(CampusnetError) as exc:
        session.decode_pyats_output("jpl-core", ["echo a"], "@@cn-1", "@@cnzz", text[: text.index("@@cnzz end")])
    assert exc.value.code == "E434" and "jpl-core" in str(exc.value) and "no end line" in str(exc.value)
    bad = text.replace("@@cnzz begin\r\n", "@@cnzz begin\r\n!!")
    with pytest.raises(CampusnetError) as exc:
        session.decode_pyats_output("jpl-core", ["echo a"], "@@cn-1", "@@cnzz", bad)
    assert exc.value.code == "E437" and "jpl-core" in str(exc.value)


@pytest.mark.skipif(not shutil.which("bash"), reason="needs a local bash for the Unicon session")
def test_unicon_collects_every_node_in_one_execute(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(session, "testbed_dict", _testbed)
    states, conns = session.collect_pyats(None, {"n1": TRICKY, "n2": TRICKY[:2], "dead": TRICKY[:1]},  # type: ignore[arg-type]
                                          log_dir=tmp_path, keep_open=frozenset({"n1"}))
    want = parse_batch_output("n", TRICKY, "@@cn-9", subprocess.run(
        ["sh", "-c", batch_script(TRICKY, "@@cn-9")], capture_output=True, text=True, check=True).stdout)
    assert states["n1"].error is None and states["n1"].commands == want
    assert states["n2"].commands == {c: want[c] for c in TRICKY[:2]}
    assert states["dead"].error and "dead" in states["dead"].error and not states["dead"].commands
    for n in ("n1", "n2"):  # one execute() per node, the init commands skipped
        assert (tmp_path / f"{n}.unicon.log").read_text().count("executing command") == 1, n
    for n in ("n1", "n2", "dead"):
        for f in (f"{n}.log", f"{n}.json", f"{n}.unicon.log"):
            assert (tmp_path / f).stat().st_mode & 0o777 == 0o600, f
    assert "seq 1 20000" in (tmp_path / "n1.log").read_text()
    # the session is closed after the batch; a read the batch lacks opens it again
    live = conns["n1"]
    assert live.run("echo live; false").rc == 1
    live.close()


def test_an_unknown_collector_is_a_coded_error() -> None:
    from campusnet.cli.verify import verify

    with pytest.raises(CampusnetError) as exc:
        verify(snapshot=None, check=None, node=None, out_dir=None, show_passed=False, via="netconf")  # type: ignore[arg-type]
    assert exc.value.code == "E438" and "netconf" in str(exc.value) and "--via" in str(exc.value)


def test_ssh_is_the_default_collector_and_pyats_the_option() -> None:
    """pyATS missed the 10 s target on the reference lab (docs/benchmarks.md): ssh stays the default."""
    import inspect

    from campusnet.cli.verify import verify
    from campusnet.verify.run import VerifyContext

    assert VerifyContext.__dataclass_fields__["via"].default == "ssh"
    assert inspect.signature(verify).parameters["via"].default.default == "ssh"
