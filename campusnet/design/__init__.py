"""The campus design as data: typed YAML (``inventory/campus/*.yml``) and its idempotent seed into NetBox.

- :mod:`campusnet.design.models` — one frozen pydantic model per NetBox object type ("kind"), referencing
  other objects by natural key (names, slugs);
- :mod:`campusnet.design.expand` — small, pure expansion constructs (buildings, rack rooms, fabrics,
  links, server VLANs) that produce those models, so repetition is written once;
- :mod:`campusnet.design.load` — reads the YAML files into a :class:`~campusnet.design.load.Design`
  (errors name file, object and field), checks every reference;
- :mod:`campusnet.design.diff` — pure comparison of a desired payload with what NetBox returned;
- :mod:`campusnet.design.seed` — the REST seed: bulk reads, bulk creates/updates in dependency order.
"""
