"""Ansible inventory plugin ``campusnet_inventory``: NetBox through campusnet's reader (one bulk read).

The same hosts, groups and addresses as the Nornir inventory (``campusnet.nornir_inventory``): a host per
configured device (a virtual chassis is one host, its master), ``ansible_host`` = the management address
(``oob_ip``), groups ``site_*`` / ``role_*`` / ``platform_*`` / ``tag_*``, and the NetBox facts in one host
variable ``campusnet`` (a dict: no clash with Ansible's reserved names such as ``tags``).
"""

from __future__ import annotations

from typing import Any

from ansible.errors import AnsibleParserError
from ansible.plugins.inventory import BaseInventoryPlugin, Constructable

DOCUMENTATION = r"""
name: campusnet_inventory
short_description: campusnet devices from NetBox, read once in bulk (or from a snapshot file)
description:
  - Reads NetBox with campusnet's bulk reader (the URL and token from C(NETBOX_URL)/C(NETBOX_TOKEN), or the
    local NetBox that C(campusnet netbox up) runs), or loads a snapshot file written by C(campusnet snapshot).
  - Hosts are the devices campusnet configures; a virtual chassis is one host named after its master.
  - Requires campusnet importable by the Python that runs Ansible (the project's virtualenv).
extends_documentation_fragment:
  - constructed
options:
  plugin:
    description: Marks this file as a campusnet_inventory source.
    required: true
    choices: ['campusnet_inventory']
  snapshot:
    description: A snapshot JSON file to load instead of reading NetBox.
    type: path
    env:
      - name: CAMPUSNET_SNAPSHOT
  limit:
    description: campusnet C(--limit) text (C(site=jinpenling,role=access-switch)).
    type: str
    env:
      - name: CAMPUSNET_LIMIT
  branch:
    description: A NetBox branch schema id to read instead of main.
    type: str
    env:
      - name: CAMPUSNET_BRANCH
"""

EXAMPLES = r"""
plugin: campusnet_inventory
# snapshot: out/snapshot.json
keyed_groups:
  - key: campusnet.status
    prefix: status
"""


class InventoryModule(BaseInventoryPlugin, Constructable):  # type: ignore[misc]
    NAME = "campusnet_inventory"

    def verify_file(self, path: str) -> bool:
        return bool(super().verify_file(path) and path.endswith(("campusnet.yml", "campusnet.yaml")))

    def parse(self, inventory: Any, loader: Any, path: str, cache: bool = True) -> None:
        super().parse(inventory, loader, path, cache)
        self._read_config_data(path)
        try:
            from campusnet.errors import CampusnetError
            from campusnet.nornir_inventory import (
                connection_platforms,
                host_groups,
                host_vars,
                managed_devices,
            )
            from campusnet.pipeline import read_snapshot
            from campusnet.platforms import get_platform
            from campusnet.sot.limit import Limit
        except ImportError as exc:
            raise AnsibleParserError(f"campusnet is not importable by this Python ({exc}): run Ansible from "
                                     "the project's virtualenv") from exc
        try:
            # the whole snapshot: `limit` selects hosts, as `campusnet render --limit` selects devices
            snap = read_snapshot(self.get_option("snapshot"), branch=self.get_option("branch"))
            limit = Limit.parse(self.get_option("limit"))
            strict = self.get_option("strict")
            for device in managed_devices(snap, limit):
                name = self.inventory.add_host(device.name)
                facts = host_vars(snap, device)
                self.inventory.set_variable(name, "campusnet", facts)
                if facts["oob_ip"]:
                    self.inventory.set_variable(name, "ansible_host", facts["oob_ip"])
                network_os = get_platform(device.platform, obj=device.name).ansible
                if network_os:
                    self.inventory.set_variable(name, "ansible_network_os", network_os)
                for conn, platform in connection_platforms(device.platform or "", obj=device.name).items():
                    self.inventory.set_variable(name, f"campusnet_{conn}_platform", platform)
                for group in host_groups(device):
                    self.inventory.add_group(group)
                    self.inventory.add_child(group, name)
                hv = self.inventory.get_host(name).get_vars()
                self._set_composite_vars(self.get_option("compose"), hv, name, strict=strict)
                self._add_host_to_composed_groups(self.get_option("groups"), hv, name, strict=strict)
                self._add_host_to_keyed_groups(self.get_option("keyed_groups"), hv, name, strict=strict)
        except CampusnetError as exc:
            raise AnsibleParserError(str(exc)) from exc
