"""University scale: the reference campus's shape at ≥ 2,000 devices, and a fast loader for it.

- :mod:`campusnet.scale.generate` — a deterministic generator (``seed``) that feeds the design's own
  expansion constructs (:mod:`campusnet.design.expand`: ``Campus``, ``Fabric``, ``ServerVlan``, ``Link``,
  ``HostLink``, ``addressing``, ``ownership``) with hundreds of buildings, and merges the result by natural key;
- :mod:`campusnet.scale.plan` — turns the merged design objects into ORM rows with pre-assigned ids
  (components instantiated from device-type templates, as NetBox would);
- :mod:`campusnet.scale.loader` — loads the plan into a (separate) local NetBox through NetBox's own ORM
  inside ``netbox shell`` (bulk inserts in one transaction), then lets NetBox's own commands make the
  derived data right: cable paths (``trace_paths``), counters (``calculate_cached_counts``), prefix
  hierarchy (``rebuild_prefixes``), config-context cache and the search index (``reindex``);
- :mod:`campusnet.scale.verify` — counts through REST, one cable path traced end to end, search.

``python -m campusnet.scale --help`` is the command line (``load``, ``verify``, ``stats``).
"""

from __future__ import annotations

SCALE_STATE = "scale"  # <repo>/.campusnet/scale: the scale NetBox's CAMPUSNET_STATE
