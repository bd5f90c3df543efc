"""An SSH session that dies under a command is E412 (fault drill 1), whatever paramiko raises or returns."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest

from campusnet.deploy.transport import Connection, Credentials
from campusnet.errors import CampusnetError


class _Chan:
    def __init__(self, rc: int) -> None:
        self.rc = rc

    def recv_exit_status(self) -> int:
        return self.rc

    def shutdown_write(self) -> None:
        pass


class _Stream(io.BytesIO):
    def __init__(self, rc: int) -> None:
        super().__init__(b"")
        self.channel = _Chan(rc)


class _Transport:
    def __init__(self, active: bool) -> None:
        self.active = active

    def is_active(self) -> bool:
        return self.active


class _Client:
    def __init__(self, *, rc: int = 0, active: bool = True, raises: BaseException | None = None) -> None:
        self.rc, self.active, self.raises = rc, active, raises

    def exec_command(self, command: str, timeout: float) -> tuple[Any, Any, Any]:
        if self.raises is not None:
            raise self.raises
        return _Stream(self.rc), _Stream(self.rc), _Stream(self.rc)

    def get_transport(self) -> _Transport | None:
        return _Transport(self.active)


def _conn(client: _Client) -> Connection:
    c = Connection("spine1", "10.254.0.11", Credentials("root", Path("/nonexistent"), None))
    c._client = client
    return c


def test_eof_from_a_dead_session_is_e412() -> None:
    with pytest.raises(CampusnetError) as exc:
        _conn(_Client(raises=EOFError())).run("frr-reload.py --reload x")
    assert exc.value.code == "E412" and "EOFError" in str(exc.value) and "spine1" in str(exc.value)


def test_no_exit_status_on_a_dropped_session_is_e412() -> None:
    with pytest.raises(CampusnetError) as exc:
        _conn(_Client(rc=-1, active=False)).run("frr-reload.py --reload x")
    assert exc.value.code == "E412" and "session dropped" in str(exc.value)


def test_no_exit_status_on_a_live_session_is_the_command_s_own() -> None:
    assert _conn(_Client(rc=-1, active=True)).run("kill -9 $$").rc == -1
