"""Typed intent: what each device should be configured with, computed from the Snapshot.

>>> from campusnet.intent import build_intents   # Snapshot -> {device name: DeviceIntent}
"""

from __future__ import annotations

from campusnet.intent.build import build_intents, build_intents_collect, configured_devices, vlan_ranges
from campusnet.intent.emulation import build_emulations_collect
from campusnet.intent.errors import IntentError, IntentErrors
from campusnet.intent.models import DeviceIntent, SecretRef

__all__ = ["DeviceIntent", "IntentError", "IntentErrors", "SecretRef", "build_emulations_collect", "build_intents",
           "build_intents_collect", "configured_devices", "vlan_ranges"]
