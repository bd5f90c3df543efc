"""Devices: every device the automation should configure can be configured, and names are unique."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from campusnet.platforms import REGISTRY
from campusnet.rules.registry import Violation, rule
from campusnet.rules.roles import would_configure
from campusnet.sot.models import Snapshot


def _missing_templates(slug: str) -> list[str]:
    p = REGISTRY[slug]
    return [f"{p.template_subdir}/{t}" for _, t in p.outputs if not (p.template_dir / t).is_file()]


@rule("platform-supported", "devices")
def platform_supported(snap: Snapshot) -> Iterator[Violation]:
    """Every network device that would be configured (status active or staged, a network role) has a
    platform that is in the platform registry and whose templates exist.

    The intent builder configures only devices whose platform is in the registry
    (``campusnet/platforms/``); any other device is skipped, and ``deploy`` reports it only as "no intent
    for this host" (E310). A core switch given a platform slug with a typo, a new vendor nobody wrote
    templates for, or no platform at all would silently keep its old configuration while NetBox says it
    changed. End devices (servers, PDUs, hosts: ``campusnet/rules/roles.py``), patch panels, the roles the
    lab builds itself (``test-host``) and planned or offline devices are exempt."""
    for d in snap.devices:
        if not would_configure(d):
            continue
        if d.platform is None:
            yield Violation(rule="platform-supported", object_type="dcim.device", object_name=d.name,
                            field="platform", message=f"{d.status} {d.role} has no platform: it would never be "
                                                      "configured")
        elif d.platform not in REGISTRY:
            yield Violation(rule="platform-supported", object_type="dcim.device", object_name=d.name,
                            field="platform", message=f"platform {d.platform!r} is not in the platform registry "
                                                      f"(known: {', '.join(sorted(REGISTRY))}): the device "
                                                      "would be skipped, not configured")
        else:
            missing = _missing_templates(d.platform)
            if missing:
                yield Violation(rule="platform-supported", object_type="dcim.device", object_name=d.name,
                                field="platform", message=f"platform {d.platform!r} has no template(s) "
                                                          f"{', '.join(missing)}")


@rule("device-name-unique", "devices")
def device_name_unique(snap: Snapshot) -> Iterator[Violation]:
    """No two devices share a name, whatever their site (compared without case).

    NetBox allows the same name in two sites (and a tenant each); campusnet does not: the device name is
    the configuration's hostname, the directory ``out/<device>/``, the lab's node and the Nornir host, and
    the snapshot looks devices up by name. Two ``core-1`` render into one directory, one overwriting the
    other, and a deploy may push one's configuration to the other. Case is ignored because file systems
    and DNS may ignore it."""
    by_name: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for d in snap.devices:
        by_name[d.name.casefold()].append((d.name, d.id))
    sites = {d.id: d.site for d in snap.devices}
    for group in by_name.values():
        if len(group) < 2:
            continue
        for name, did in group:
            others = ", ".join(f"{n} at site {sites[i]} (id {i})" for n, i in group if i != did)
            yield Violation(rule="device-name-unique", object_type="dcim.device", object_name=name, field="name",
                            message=f"site {sites[did]} (id {did}): the name is also used by {others}")
