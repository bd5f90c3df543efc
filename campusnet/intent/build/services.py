"""Services (NTP, syslog, SNMP, AAA, DNS, DHCP relay) from the config context (docs/intent.md)."""

from __future__ import annotations

import json
from ipaddress import IPv4Address, IPv4Interface

from campusnet.intent.build.common import NO_RELAY_VLAN_ROLES
from campusnet.intent.build.view import DeviceView
from campusnet.intent.models import Interface, Services, SviInterface
from campusnet.sot.models import VLAN


class DhcpRelay:
    """Which gateways relay DHCP, and to which servers. Read first: its context errors come first."""

    def __init__(self, view: DeviceView):
        self.servers, self.roles = view.ctx.dhcp_relay()
        self.supported = view.p.capabilities.dhcp_relay

    def servers_for(self, vlan: VLAN | None, ips: list[IPv4Interface]) -> tuple[IPv4Address, ...]:
        """The relay servers of a gateway with addresses ``ips`` on ``vlan``; () when it does not relay."""
        role = vlan.role if vlan else None
        if self.servers and self.supported and ips and (
                role not in NO_RELAY_VLAN_ROLES if self.roles is None else role in self.roles):
            return self.servers
        return ()


def build_services(view: DeviceView, source_interface: str | None,
                   interfaces: tuple[Interface, ...]) -> Services:
    """The device's services, sourced from its first loopback; the emulation runs none."""
    # the same context content gives the same (frozen) model, parsed once
    skey = (json.dumps(view.ctx.get("services"), sort_keys=True, default=str), source_interface)
    services = view.idx.services.get(skey) or view.idx.services.setdefault(skey, view.ctx.services(source_interface))
    if any(isinstance(x, SviInterface) and x.dhcp_relay for x in interfaces):
        services = services.model_copy(update={"dhcp_relay": True})
    return services
