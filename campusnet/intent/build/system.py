"""System: hostname, site, role, router id and chassis members."""

from __future__ import annotations

from campusnet.intent.build.view import DeviceView
from campusnet.intent.models import System


def build_system(view: DeviceView) -> System:
    dev = view.dev
    # the lab runs a virtual chassis as one node named after the chassis: FRR takes the node's hostname
    hostname = dev.virtual_chassis if (view.emulation and dev.virtual_chassis) else dev.name
    return System(hostname=hostname, site=dev.site, role=dev.role, platform=view.p.slug, tenant=dev.tenant,
                  description=dev.description, router_id=view.router_id, lab=view.name in view.idx.lab,
                  vc_members=tuple(m.name for m in view.members) if dev.virtual_chassis else (),
                  ip_forwarding=True, ipv6_forwarding=False)
