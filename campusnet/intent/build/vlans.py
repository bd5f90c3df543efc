"""VLANs and SVIs: the VLANs a device carries (named from NetBox VLAN objects) and its gateways."""

from __future__ import annotations

from campusnet.intent.build.common import DIGITS, vlan_ranges
from campusnet.intent.build.fhrp import vrrp_groups
from campusnet.intent.build.index import SnapshotIndex
from campusnet.intent.build.ospf import OspfBuilder
from campusnet.intent.build.services import DhcpRelay
from campusnet.intent.build.view import DeviceView
from campusnet.intent.models import SviInterface, Vlan, Vlans
from campusnet.sot.models import VLAN
from campusnet.sot.models import Interface as NbIf


class VlanTable:
    """The VLANs seen on the device's ports and SVIs; a VLAN's NetBox object wins over a bare id."""

    def __init__(self, idx: SnapshotIndex):
        self.idx = idx
        self.objs: dict[int, VLAN | None] = {}

    def note(self, vid: int | None, key: str | None) -> None:
        if vid is None:
            return
        obj = self.idx.vlan_of(key)
        if vid not in self.objs or self.objs[vid] is None:
            self.objs[vid] = obj

    def model(self) -> Vlans:
        vlans = tuple(Vlan(vid=vid, name=(obj.name if obj else f"VLAN{vid}"),
                           description=(obj.description if obj else ""))
                      for vid, obj in sorted(self.objs.items()))
        return Vlans(vlans=vlans, ranges=vlan_ranges(self.objs), vids_csv=",".join(map(str, sorted(self.objs))))


def svi_vid(view: DeviceView, i: NbIf) -> int:
    """The VLAN of an SVI: its untagged VLAN, else the number in its name."""
    if i.untagged_vid is not None:
        return i.untagged_vid
    m = DIGITS.search(i.name)
    if not m:
        raise view.err("SVI without untagged VLAN and without a VLAN number in its name", f"{i.name}.untagged_vlan")
    return int(m.group(1))


class SviBuilder:
    """The device's SVIs (gateways), with their VRRP groups, DHCP relay and passive OSPF."""

    def __init__(self, view: DeviceView, table: VlanTable, ospf: OspfBuilder, relay: DhcpRelay):
        self.view, self.table, self.ospf, self.relay = view, table, ospf, relay
        self.vids = [svi_vid(view, i) for i in view.by_kind["svi"]]

    def note_vlans(self) -> None:
        for i, vid in zip(self.view.by_kind["svi"], self.vids, strict=True):
            self.table.note(vid, i.untagged_vlan)

    def build(self) -> list[SviInterface]:
        """The SVIs."""
        view, p = self.view, self.view.p
        out: list[SviInterface] = []
        for i, vid in zip(view.by_kind["svi"], self.vids, strict=True):
            ips = view.iface_ips(i)
            vlan = view.idx.vlan_of(i.untagged_vlan)
            vrrp = vrrp_groups(view, i, vid)
            out.append(SviInterface(
                name=p.svi_name(vid), netbox_name=i.name, netbox_device=i.device,
                description=i.description or (vlan.name if vlan else f"vlan {vid}"),
                enabled=i.enabled, mtu=i.mtu, vlan_id=vid,
                ipv4=ips[0] if ips else None, vrrp=vrrp,
                dhcp_relay=self.relay.servers_for(vlan, ips),
                ospf=self.ospf.interface(passive=True, p2p=False) if view.runs_ospf and ips else None))
        return out
