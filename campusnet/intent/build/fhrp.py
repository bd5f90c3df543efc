"""FHRP: the VRRP groups of a gateway (SVI), from NetBox FHRP group assignments."""

from __future__ import annotations

from campusnet.intent.build.common import v4
from campusnet.intent.build.view import DeviceView
from campusnet.intent.models import Vrrp
from campusnet.sot.models import Interface as NbIf


def vrrp_groups(view: DeviceView, i: NbIf, vid: int) -> tuple[Vrrp, ...]:
    """The VRRP groups of SVI ``i`` (VLAN ``vid``), by VRID; other FHRP protocols are not rendered."""
    vrrps: list[Vrrp] = []
    for a in i.fhrp:
        group = view.idx.fhrp.get(a.group)
        if group is None or not group.protocol.startswith("vrrp"):
            continue
        if not view.p.capabilities.vrrp:
            raise view.err(f"platform {view.p.slug} cannot do VRRP", f"{i.name}.fhrp")
        vips = v4(group.vips)
        if not vips:
            raise view.err(f"FHRP group {group.id} (VRID {group.group_id}) has no virtual IP", f"{i.name}.fhrp")
        vrrps.append(Vrrp(vrid=group.group_id, version=2 if group.protocol == "vrrp2" else 3,
                          virtual_ip=vips[0].ip, priority=a.priority,
                          virtual_mac=f"00:00:5e:00:01:{group.group_id:02x}",
                          macvlan=f"vrrp{vid}-{group.group_id}"))
    return tuple(sorted(vrrps, key=lambda v: v.vrid))
