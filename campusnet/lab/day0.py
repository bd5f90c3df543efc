"""Day-0 configuration of a lab node: FRR with its daemons enabled and nothing else.

The campus configuration arrives later through ``campusnet deploy`` (SSH to ``mgmt0``). Provider stubs
are not NetBox devices and are never deployed: their day 0 is their whole configuration (addresses on
the circuit interfaces, the provider's test addresses on ``lo``, eBGP from the provider's ASN to the
campus end offering a default route, the test addresses and the customer circuits' subnets, and static
routes for the campus's private space back to the campus end). Test hosts have no intent either: their
day 0 (:func:`host_script`, :func:`openvpn_client_conf`) is their NetBox addresses, the derived default
route and, for a VPN user, an OpenVPN client.
"""

from __future__ import annotations

from pathlib import Path

from campusnet.lab.plan import FRR_DAEMONS, LabNode, LabPlan
from campusnet.safety import quote_description, shell_word

ALL_DAEMONS = ("bgpd", "ospfd", "ospf6d", "ripd", "ripngd", "isisd", "pimd", "pim6d", "ldpd", "nhrpd",
               "eigrpd", "babeld", "sharpd", "pbrd", "bfdd", "fabricd", "vrrpd", "pathd")


def daemons_file(node: LabNode) -> str:
    lines = ["# campusnet lab day-0: FRR daemons of node " + node.name, "zebra=yes"]
    for d in ALL_DAEMONS:
        lines.append(f"{d}={'yes' if d in node.daemons else 'no'}")
    lines += [
        "vtysh_enable=yes",
        'zebra_options="  -A 127.0.0.1 -s 90000000"',
        *(f'{d}_options="-A 127.0.0.1"' for d in FRR_DAEMONS if d != "zebra"),
        "frr_profile=traditional",
    ]
    return "\n".join(lines) + "\n"


def frr_conf(node: LabNode) -> str:
    out = [
        "frr defaults traditional",
        f"hostname {node.name}",
        "log file /var/log/frr/frr.log informational",
        "log timestamp precision 3",
        "service integrated-vtysh-config",
        "!",
    ]
    if node.kind == "provider":
        if node.loopbacks:
            out += ["interface lo", *(f" ip address {a}" for a in node.loopbacks), "exit", "!"]
        for i in node.interfaces:
            if i.address:
                out += [f"interface {i.linux}", f" description {quote_description(i.netbox, 'linux_frr')}",
                        f" ip address {i.address}", "exit", "!"]
        for r in node.routes:
            out.append(f"ip route {r.prefix} {r.via}")
        if node.routes:
            out.append("!")
        if node.asn is not None and node.bgp_peers:
            out += [f"router bgp {node.asn}", " no bgp ebgp-requires-policy", " no bgp network import-check",
                    " timers bgp 1 3"]
            for p in node.bgp_peers:
                out += [f" neighbor {p.address} remote-as {p.asn}",
                        f" neighbor {p.address} description "
                        f"{quote_description(p.description, 'linux_frr', 'bgp_peer')}",

                        f" neighbor {p.address} timers connect 1",
                        f" neighbor {p.address} advertisement-interval 0"]
            out += [" !", " address-family ipv4 unicast"]
            out += [f"  network {n}" for n in node.announce]
            for p in node.bgp_peers:
                out.append(f"  neighbor {p.address} default-originate")
            out += [" exit-address-family", "exit", "!"]
    return "\n".join(out) + "\n"


def host_script(node: LabNode) -> str:
    """A test host's day 0 (idempotent shell, run in its namespace once the veths exist): its NetBox
    addresses on its ports and the derived default route. Every word from NetBox is checked and quoted
    (:func:`~campusnet.safety.shell_word`): the script runs as root."""
    def w(value: object, what: str) -> str:
        return shell_word(value, what=what, obj=node.name)

    lines = ["set -e"]
    for i in node.interfaces:
        lines.append(f"ip link set {w(i.linux, 'interface')} up")
        if i.address:
            lines.append(f"ip addr replace {w(i.address, 'address')} dev {w(i.linux, 'interface')}")
    if node.gateway and node.gateway_iface:
        lines.append(f"ip route replace default via {w(node.gateway, 'gateway')} dev "
                     f"{w(node.gateway_iface, 'interface')}")
    return "\n".join(lines) + "\n"


def provider_script(node: LabNode) -> str:
    """A provider stub's kernel side (idempotent shell): its customers' traffic may not use the routes back
    to the campus's private space (those are for replies to the campus; the lab has no egress NAT)."""
    lines = ["set -e"]
    for iface in node.customer_ifaces:
        for r in node.routes:
            rule = (f"iif {shell_word(iface, what='interface', obj=node.name)} to "
                    f"{shell_word(r.prefix, what='prefix', obj=node.name)} prohibit priority 100")
            lines.append(f"ip rule del {rule} 2>/dev/null || true")
            lines.append(f"ip rule add {rule}")
    return "\n".join(lines) + "\n"


def openvpn_client_conf(node: LabNode, key_dir: Path, *, pid_file: Path, log_file: Path) -> str:
    """The OpenVPN client of a VPN test host (TLS mode, tun), derived from NetBox through the plan.

    The server is the VPN gateway's public address; its certificate must name the gateway (CN = its NetBox
    name). It retries by itself until the gateway answers (``connect-retry``, short handshake window):
    the gateway's server arrives later, with ``campusnet deploy``. Routes come from the server (``pull``).
    """
    c = node.vpn_client
    if c is None:
        raise ValueError(f"{node.name}: no VPN client in the plan")
    k = key_dir
    return "\n".join([
        f"# campusnet lab: OpenVPN client of test host {node.name} (from NetBox: gateway {c.gateway})",
        "client",
        f"dev {c.device}",
        "dev-type tun",
        f"proto {c.proto}4" if c.proto == "udp" else "proto tcp4-client",
        f"remote {c.remote} {c.port}",
        "nobind",
        "resolv-retry infinite",
        "connect-retry 1 2",
        "server-poll-timeout 4",
        "hand-window 5",
        "remote-cert-tls server",
        f"verify-x509-name {c.gateway} name",
        f"ca {k / 'ca.crt'}",
        f"cert {k / 'cert.crt'}",
        f"key {k / 'cert.key'}",
        f"tls-crypt {k / 'tls-crypt.key'}",
        "data-ciphers AES-256-GCM:AES-128-GCM:CHACHA20-POLY1305",
        "verb 3",
        "daemon campusnet-vpn-client",
        f"writepid {pid_file}",
        f"log-append {log_file}",
        "",
    ])


def vtysh_conf(node: LabNode) -> str:
    # the hostname here makes `ip netns exec cn-X vtysh` (host UTS namespace) show the node's name
    return f"service integrated-vtysh-config\nhostname {node.name}\n"


def render_day0(plan: LabPlan, out_dir: Path) -> Path:
    """Write ``out_dir/<node>/{daemons,frr.conf,vtysh.conf}`` for every FRR node; return ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    for node in plan.nodes:
        if not node.frr:
            continue
        d = out_dir / node.name
        d.mkdir(parents=True, exist_ok=True)
        (d / "daemons").write_text(daemons_file(node))
        (d / "frr.conf").write_text(frr_conf(node))
        (d / "vtysh.conf").write_text(vtysh_conf(node))
    return out_dir
