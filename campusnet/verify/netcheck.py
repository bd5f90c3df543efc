"""The network checks as pytest tests (collected only through :func:`campusnet.verify.run.run_verify`).

One test per expectation; the plugin object (``VerifyPlugin``) parametrizes them, and every result was
judged in-process before the first test (one collected batch per node). A failing test's message names the
device, the expectation and what was found.
"""

from __future__ import annotations

from typing import Any


def test_network(expectation: Any, verify_ctx: Any) -> None:
    result = verify_ctx.evaluate(expectation)
    assert result.passed, f"{result.message} | expected: {result.expected} | found: {result.found}"
