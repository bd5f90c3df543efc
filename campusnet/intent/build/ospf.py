"""OSPF: the per-interface settings and the process (docs/intent.md, "OSPF")."""

from __future__ import annotations

from functools import cached_property

from campusnet.intent.build.common import ospf_area
from campusnet.intent.build.view import DeviceView
from campusnet.intent.models import Bgp, Interface, ManagementInterface, Ospf, OspfArea, OspfInterface


class OspfBuilder:
    """OSPF of one device. Built first so that a lab timer error comes before the interfaces' errors."""

    def __init__(self, view: DeviceView):
        self.view = view
        self.hello, self.dead, self.timers = (view.ctx.ospf_lab_timers() if view.emulation
                                              else (None, None, None))

    @cached_property
    def area(self) -> str:
        raw = self.view.ctx.get("ospf.area")
        if raw is None:
            raise self.view.err("missing: OSPF runs on this device (tag ospf on a link) but no area is set",
                                "config_context.ospf.area")
        try:
            return ospf_area(raw)
        except ValueError:
            raise self.view.err(f"not an OSPF area: {raw!r}", "config_context.ospf.area") from None

    def process_id(self) -> int:
        return self.view.ctx.integer("ospf.process_id", 1) or 1

    def interface(self, *, passive: bool, p2p: bool) -> OspfInterface:
        """OSPF on one interface: passive (loopbacks, gateways) or a point-to-point adjacency."""
        area = self.area
        return OspfInterface(process_id=self.process_id(), area=area,
                             network_type="p2p" if p2p else None, passive=passive,
                             cost=None if passive else self.view.ctx.integer("ospf.cost"),
                             hello_interval=None if passive else self.hello,
                             dead_interval=None if passive else self.dead)

    def process(self, interfaces: tuple[Interface, ...], bgp: Bgp | None) -> Ospf | None:
        """The OSPF process, when a routed link runs OSPF. ``bgp`` decides what is redistributed: the
        OSPF/BGP boundary (a core with campus BGP peers) and the egress (provider peers) add ``bgp``."""
        view = self.view
        if not view.runs_ospf:
            return None
        if not view.p.capabilities.ospf:
            raise view.err(f"platform {view.p.slug} cannot run OSPF", "platform")
        if view.router_id is None:
            raise view.err("missing: OSPF needs a router id (the loopback as primary IPv4)", "primary_ip4")
        has_provider = bgp is not None and any(n.kind == "provider" for n in bgp.neighbors)
        boundary = bgp is not None and any(n.kind == "campus" for n in bgp.neighbors)
        networks = sorted({x.ipv4.network for x in interfaces
                           if not isinstance(x, ManagementInterface) and getattr(x, "ospf", None) is not None
                           and x.ipv4 is not None})
        passive = tuple(x.name for x in interfaces if getattr(x, "ospf", None) is not None
                        and x.ospf.passive)  # type: ignore[union-attr]
        dflt = view.ctx.get("ospf.default_originate", "normal" if has_provider else None)
        redistribute = list(view.ctx.get("ospf.redistribute", ()) or ())
        if boundary and "bgp" not in redistribute:
            redistribute.append("bgp")  # the fabric's and VPN's routes into the campus
        if has_provider and "bgp" not in redistribute:
            # the egress: what a provider announces beyond the default (its test addresses, its
            # customers) goes to the right egress, not to whichever default the core hashes onto
            redistribute.append("bgp")
        return Ospf(process_id=self.process_id(), router_id=view.router_id,
                    areas=(OspfArea(area=self.area, networks=tuple(networks)),),
                    passive_interfaces=passive,
                    default_originate="always" if dflt in ("always", True) else (
                        "normal" if dflt == "normal" else None),
                    redistribute=tuple(redistribute),
                    timers=self.timers)
