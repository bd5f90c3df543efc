"""VPN: the remote-access VPN server of a VPN gateway, from NetBox only (docs/intent.md, "VPN")."""

from __future__ import annotations

from collections import defaultdict
from ipaddress import IPv4Interface, IPv4Network, collapse_addresses

from campusnet.errors import CampusnetError
from campusnet.intent.build.common import POOL_DEVICE_ROLE, POOL_PREFIX_ROLE, VPN_ROUTE_ROLES
from campusnet.intent.build.view import DeviceView
from campusnet.intent.models import Interface, LoopbackInterface, Vpn, VpnRoute
from campusnet.vpn import REMOTE_VPN_DIR, VPN_DEVICE, transport


def build_vpn(view: DeviceView, interfaces: tuple[Interface, ...]) -> Vpn | None:
    """The VPN server of a device of role ``vpn-gateway`` (None for other roles)."""
    if view.dev.role != POOL_DEVICE_ROLE:
        return None
    if not view.p.capabilities.vpn:
        raise view.err(f"platform {view.p.slug} cannot run the VPN server", "platform")
    pools = sorted(view.idx.pools_by_site.get(view.dev.site, ()))
    if not pools:
        raise view.err(f"missing: a VPN gateway needs a prefix of role {POOL_PREFIX_ROLE} at its site "
                       f"{view.dev.site}", f"prefix (role {POOL_PREFIX_ROLE})")
    pool = pools[0]
    listen: IPv4Interface | None = None
    for x in interfaces:
        if isinstance(x, LoopbackInterface) and x.secondary:
            listen = x.secondary[0]
            break
    if listen is None:
        raise view.err("missing: a VPN gateway listens on a public address: an IP of role anycast (or vip) on "
                       "its loopback", "interfaces.loopback.ip_addresses (role anycast)")
    dns = next((ip.dns_name for key in (i.key for i in view.ifaces) for ip in view.idx.ips.get(key, ())
                if ip.address == str(listen)), "")
    try:
        port, proto = transport(view.dev.config_context)
    except CampusnetError as exc:
        raise view.err(exc.message, exc.field) from None
    return Vpn(common_name=view.dev.name, listen=listen.ip, dns_name=dns, port=port, proto=proto,
               device=VPN_DEVICE, pool=pool, server_address=IPv4Interface(f"{pool[1]}/{pool.prefixlen}"),
               routes=routes(view, pool), key_dir=REMOTE_VPN_DIR)


def routes(view: DeviceView, pool: IPv4Network) -> tuple[VpnRoute, ...]:
    """The routes offered to clients: the prefixes of the route roles, collapsed, never the pool."""
    roles = tuple(str(r) for r in (view.ctx.get("vpn.route_roles") or VPN_ROUTE_ROLES))
    by_role: dict[IPv4Network, set[str]] = defaultdict(set)
    for pfx in view.idx.snap.prefixes:
        net = pfx.network
        if pfx.vrf is None and isinstance(net, IPv4Network) and pfx.role in roles and not net.overlaps(pool):
            by_role[net].add(pfx.role or "")
    out = []
    for net in collapse_addresses(by_role):
        covered = sorted({r for n, rs in by_role.items() if n.subnet_of(net) for r in rs})
        out.append(VpnRoute(network=net, netmask=net.netmask, roles=tuple(covered)))
    return tuple(out)
