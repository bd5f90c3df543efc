"""The platform registry, keyed by NetBox platform slug.

>>> get_platform("huawei-vrp").template_subdir
'huawei_vrp'
>>> get_platform("h3c-comware").netmiko
'hp_comware'
"""

from __future__ import annotations

from campusnet.errors import CampusnetError
from campusnet.platforms.base import Capabilities, Platform, natural_key
from campusnet.platforms.h3c_comware import H3C_COMWARE
from campusnet.platforms.huawei_vrp import HUAWEI_VRP
from campusnet.platforms.linux_frr import LINUX_FRR, linux_ifname

REGISTRY: dict[str, Platform] = {p.slug: p for p in (HUAWEI_VRP, H3C_COMWARE, LINUX_FRR)}

#: the platform every lab device is emulated on
LAB_PLATFORM = LINUX_FRR


def get_platform(slug: str | None, *, obj: str | None = None) -> Platform:
    """The registry entry for a NetBox platform slug; a named error when there is none."""
    if slug is None:
        raise CampusnetError("E303", "device has no platform", obj=obj, field="platform")
    try:
        return REGISTRY[slug]
    except KeyError:
        raise CampusnetError("E303", f"unknown platform {slug!r} (known: {', '.join(sorted(REGISTRY))})",
                             obj=obj, field="platform") from None


def has_platform(slug: str | None) -> bool:
    return slug is not None and slug in REGISTRY


__all__ = ["LAB_PLATFORM", "REGISTRY", "Capabilities", "Platform", "get_platform", "has_platform",
           "linux_ifname", "natural_key"]
