"""Task runner. `./run <session>` prepares the machine (scripts/bootstrap.sh) and runs a session here.

Sessions run in the project's .venv (pinned in pyproject.toml), so they share one environment:
`./run tests` and `./run demo` do not install twice.
"""

from __future__ import annotations

import os

import nox

nox.options.default_venv_backend = "none"
nox.options.sessions = ["lint", "tests"]


@nox.session
def lint(session: nox.Session) -> None:
    """ruff, mypy (strict on the contracts), yamllint/ansible-lint on playbooks."""
    session.run("ruff", "check", ".")
    session.run("mypy", "campusnet", "nornir_tasks")
    if os.path.isdir("playbooks") and any(f.endswith(".yml") for f in os.listdir("playbooks")):
        session.run("ansible-lint", "--offline", "playbooks", external=True)


@nox.session
def tests(session: nox.Session) -> None:
    """Unit tests, then integration tests against the real local NetBox and the lab (root)."""
    args = session.posargs or []
    junit = os.environ.get("CAMPUSNET_JUNIT", "out/junit/tests.xml")
    session.run("pytest", "tests", f"--junitxml={junit}", *args)


@nox.session
def unit(session: nox.Session) -> None:
    """Unit tests only: no NetBox, no lab (recorded data)."""
    session.run("pytest", "tests/unit", *session.posargs)


@nox.session
def demo(session: nox.Session) -> None:
    """The main job on the embedded default: NetBox up, seed, validate, render, lab, deploy, verify, report."""
    session.run("campusnet", "demo", *session.posargs)


@nox.session
def bench(session: nox.Session) -> None:
    """University-scale benchmarks (P1 intent vs. inventories, P2 render) and the issue-12 table: P1 full,
    P1 incremental, one-device check-change, verify per check, each beside its anchor and target."""
    session.run("python", "-m", "benchmarks", *session.posargs)


@nox.session
def bench_lab(session: nox.Session) -> None:
    """Deploy-time growth (root): the reference lab vs. a larger one made in a NetBox branch; prints ratios."""
    session.run("python", "-m", "benchmarks.lab_growth", *session.posargs)


@nox.session
def check_change(session: nox.Session) -> None:
    """CI change validation: `./run check_change -- --branch NAME` (or --git-ref REF; --lab-proof on a lab
    runner). Writes out/check-change/<name>/{summary.md,junit.xml,result.json}; exit 1 refuses the change."""
    session.run("campusnet", "check-change", *session.posargs)
