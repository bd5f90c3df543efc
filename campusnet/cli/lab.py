"""`campusnet lab up|down|status|plan|exec`: the namespace lab built from NetBox (devices tagged ``lab``)."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

out = Console()
lab_app = typer.Typer(help="Build, inspect and tear down the lab: one network namespace per NetBox device "
                           "tagged `lab`, with FRR / Open vSwitch / sshd in each (needs root).",
                      no_args_is_help=True)

SNAPSHOT = typer.Option(None, "--snapshot", help="Read this Snapshot JSON file instead of NetBox.")
LIMIT = typer.Option(None, "--limit", help="Cut the device set (same syntax as every verb's --limit).")
CONFIGS = typer.Option(None, "--configs", help="Day-0 files per node (default: rendered into the state directory).")
COMMAND = typer.Argument(..., help="Command and arguments (after --).")


def register(app: typer.Typer) -> None:
    app.add_typer(lab_app, name="lab")


def _plan(snapshot: Path | None, limit: str | None):  # type: ignore[no-untyped-def]
    from campusnet.pipeline import lab_plan

    return lab_plan(snapshot, limit=limit)


@lab_app.command()
def plan(snapshot: Path | None = SNAPSHOT, limit: str | None = LIMIT,
         as_json: bool = typer.Option(False, "--json", help="The whole LabPlan as JSON.")) -> None:
    """Show the lab NetBox implies (nodes, interface names, links) without building anything."""
    p = _plan(snapshot, limit)
    if as_json:
        print(p.model_dump_json(indent=1))
        return
    t = Table("node", "kind", "mgmt", "frr/ovs", "interfaces (Linux ← NetBox)")
    for n in p.nodes:
        ifs = ", ".join(f"{i.linux}←{i.netbox}" if i.netbox != i.linux else i.linux
                        for i in n.interfaces if any(n.name in (lk.a.node, lk.b.node) and i.linux in
                                                     (lk.a.iface, lk.b.iface) for lk in p.links))
        t.add_row(n.name, n.kind, n.mgmt_ip, f"{'frr' if n.frr else '-'}/{'ovs' if n.ovs else '-'}", ifs)
    out.print(t)
    out.print(f"{len(p.nodes)} nodes, {len(p.links)} links")


@lab_app.command()
def up(snapshot: Path | None = SNAPSHOT, limit: str | None = LIMIT,
       configs: Path | None = CONFIGS) -> None:
    """Read NetBox, render day-0 and build the lab (idempotent: running nodes are kept)."""
    from campusnet.lab import lab_up
    from campusnet.lab.engine import require_root, ssh_dir

    require_root()
    p = _plan(snapshot, limit)
    res = lab_up(p, configs, log=lambda m: out.print(f"[dim]·[/] {m}"))
    out.print(f"lab up: {res.nodes} nodes ({len(res.started)} started, {len(res.kept)} kept), {res.links} links "
              f"in {res.seconds['total']:.1f} s; ssh -F {ssh_dir() / 'config'} <node>")


@lab_app.command()
def down(sweep_all_cn: bool = typer.Option(False, "--sweep-all-cn",
                                           help="Also remove cn-* namespaces this lab did not record.")) -> None:
    """Stop every process in the lab's namespaces and remove namespaces, veths, cnmgmt (also after a crash)."""
    from campusnet.lab import lab_down

    res = lab_down(sweep_all_cn=sweep_all_cn, log=lambda m: out.print(f"[dim]·[/] {m}"))
    out.print(f"lab down: {len(res['namespaces'])} namespaces, {len(res['links'])} host links removed")


@lab_app.command()
def status(as_json: bool = typer.Option(False, "--json", help="Machine-readable output for scripts.")) -> None:
    """Nodes (daemon PIDs, memory), links (both ends up?), leftovers."""
    from campusnet.lab import lab_status

    st = lab_status()
    if as_json:
        print(json.dumps(st.model_dump(mode="json") | {"summary": st.summary()}, indent=1))
        return
    if not st.running:
        out.print("no lab running" + (f" (stray namespaces: {', '.join(st.stray_namespaces)})"
                                      if st.stray_namespaces else ""))
        return
    t = Table("node", "kind", "mgmt", "ok", "daemons", "RSS MiB")
    for n in st.nodes:
        down = [k for k, v in n.pids.items() if v is None]
        daemons = f"{len(n.pids) - len(down)}/{len(n.pids)} up" + (f" [red]down: {' '.join(down)}[/]" if down else "")
        t.add_row(n.name, n.kind, n.mgmt, "[green]yes[/]" if n.healthy else "[red]no[/]", daemons,
                  f"{n.rss_kib / 1024:.1f}")
    out.print(t)
    down_links = [lk for lk in st.links if not lk.up]
    for lk in down_links:
        out.print(f"[red]link down[/] {lk.a} ({lk.a_state}) -- {lk.b} ({lk.b_state})")
    s = st.summary()
    out.print(f"{s['healthy']}/{s['nodes']} nodes healthy, {s['links_up']}/{s['links']} links up, "
              f"RSS {s['rss_mib']} MiB (PSS {s['pss_mib']} MiB)")
    if down_links or s["healthy"] != s["nodes"]:
        raise typer.Exit(1)


@lab_app.command("exec", context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def exec_(node: str, command: list[str] = COMMAND) -> None:
    """Run a command inside a node's namespaces (its own /etc/frr, /run/frr, OVS): `lab exec r1 -- vtysh`."""
    from campusnet.lab import node_exec

    print(node_exec(node, command, check=False), end="")
