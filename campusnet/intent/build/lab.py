"""The lab side of an intent: the OVS bridge ports and FRR daemons of an emulated (or OVS) device."""

from __future__ import annotations

from campusnet.intent.models import (
    Bgp,
    EthernetInterface,
    Evpn,
    Interface,
    Lab,
    LagInterface,
    Ospf,
    OvsPort,
    SviInterface,
)


def build_lab(interfaces: tuple[Interface, ...], evpn: Evpn | None, ospf: Ospf | None, bgp: Bgp | None) -> Lab:
    ports: list[OvsPort] = []
    for x in interfaces:
        if isinstance(x, EthernetInterface) and x.switchport is not None and x.lag is None:
            ports.append(OvsPort(name=x.name, tag=x.switchport.access_vlan,
                                 trunks=x.switchport.allowed_csv if x.switchport.mode == "trunk" else ""))
        elif isinstance(x, LagInterface) and x.switchport is not None:
            ports.append(OvsPort(name=x.name, tag=x.switchport.access_vlan,
                                 trunks=x.switchport.allowed_csv if x.switchport.mode == "trunk" else "",
                                 bond_members=x.members, lacp_fast=x.lacp_fast))
        elif isinstance(x, SviInterface) and x.lab_port is not None:
            ports.append(OvsPort(name=x.lab_port, tag=x.vlan_id))
    if evpn is not None:
        ports.extend(OvsPort(name=v.lab_port, tag=v.vlan_id) for v in evpn.vnis)
    daemons = ["zebra", "staticd"]
    if bgp is not None:
        daemons.append("bgpd")
    if ospf is not None:
        daemons.append("ospfd")
    if any(isinstance(x, SviInterface) and x.vrrp for x in interfaces):
        daemons.append("vrrpd")
    return Lab(ovs_bridge="br0" if ports else None, ovs_ports=tuple(ports), frr_daemons=tuple(daemons))
