"""One device's intent: the area builders in the order their answers depend on each other.

The order also fixes which error a device with several faults reports first.
"""

from __future__ import annotations

from campusnet.intent.build.bgp import BgpBuilder, build_evpn, vnis_by_vid
from campusnet.intent.build.interfaces import InterfaceBuilder
from campusnet.intent.build.ospf import OspfBuilder
from campusnet.intent.build.services import DhcpRelay, build_services
from campusnet.intent.build.system import build_system
from campusnet.intent.build.view import DeviceView
from campusnet.intent.build.vlans import SviBuilder, VlanTable
from campusnet.intent.build.vpn import build_vpn
from campusnet.intent.models import DeviceIntent, Interface, Services


def build_device(view: DeviceView) -> DeviceIntent:
    p = view.p
    relay = DhcpRelay(view)
    ospf = OspfBuilder(view)
    table = VlanTable(view.idx)
    ifb = InterfaceBuilder(view, table, ospf)
    out: list[tuple[str, Interface]] = [("management", x) for x in ifb.management()]
    loopbacks = ifb.loopbacks()
    out += [("loopback", x) for x in loopbacks]
    out += [("ethernet", x) for x in ifb.ethernet()]
    out += [("lag", x) for x in ifb.lags()]
    svis = SviBuilder(view, table, ospf, relay)
    svis.note_vlans()
    vnis = vnis_by_vid(view, table)
    out += [("svi", x) for x in svis.build()]
    interfaces = tuple(m for _, m in sorted(out, key=lambda t: p.interface_sort_key(t[0], t[1].name)))  # type: ignore[arg-type]

    lo = loopbacks[0] if loopbacks else None
    services = build_services(view, lo.name if lo else None, interfaces)
    static = list(view.ctx.static_routes())
    bgp_builder = BgpBuilder(view, interfaces, has_vnis=bool(vnis))
    bgp = bgp_builder.build()
    static += bgp_builder.static_routes
    ospf_process = ospf.process(interfaces, bgp)
    evpn = build_evpn(view, interfaces, vnis, lo)
    system = build_system(view)
    vpn = build_vpn(view, interfaces)
    return DeviceIntent(system=system, services=services if not view.emulation else Services(),
                        vlans=table.model(), interfaces=interfaces, ospf=ospf_process, bgp=bgp, evpn=evpn,
                        static_routes=tuple(sorted(static, key=lambda r: (r.prefix, str(r.next_hop)))),
                        vpn=vpn)
