# mypy: ignore-errors
"""Runs INSIDE NetBox (``netbox shell --no-imports``), never imported by campusnet.

campusnet.scale.loader prepends ``PLAN = '<path of the plan JSON>'`` and ``PHASES = [...]``, then
pipes this file to the shell. Phases:

- ``insert``: every row of the plan with ``bulk_create`` in one transaction (ids pre-assigned, foreign
  keys checked by PostgreSQL at commit), cached fields set the way the models' save() would (component
  ``_site/_location/_rack``, prefix scope caches, cable terminations' ``_device/_rack/_location/_site``,
  the terminating objects' ``cable``/``cable_end``), tags, many-to-many rows; then the id sequences reset;
- ``paths``: NetBox's ``trace_paths`` (``create_cablepaths`` for every cabled endpoint without a path);
- ``counters``: ``calculate_cached_counts``; ``prefixes``: ``rebuild_prefixes``;
- ``contexts``: ``rebuild_config_context_cache``; ``search``: ``reindex``.

Prints one line ``CAMPUSNET-SCALE <json>`` with seconds per phase and the row counts.
"""

import io
import json
import time

from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.core.management.color import no_style
from django.db import connection, transaction
from extras.models import TaggedItem

T0 = time.monotonic()
report = {"phases": {}, "counts": {}}


def _ct(label):
    app, model = label.split(".")
    return ContentType.objects.get_by_natural_key(app, model).pk


CT_CACHE = {}


def ct(label):
    if label not in CT_CACHE:
        CT_CACHE[label] = _ct(label)
    return CT_CACHE[label]


def fail(msg):
    print("CAMPUSNET-SCALE-ERROR " + msg)
    raise SystemExit(3)


def insert(plan):
    created_models = []
    tagged = []
    m2m_rows = {}
    device_places = {}
    site_region = {}
    late_terms = []  # (model, pk, cable_id, end)
    for entry in plan["kinds"]:
        kind, label, rows = entry["kind"], entry["model"], entry["rows"]
        Model = apps.get_model(label)
        if Model.objects.exists():
            fail(f"{label} already has objects: the scale loader fills an empty NetBox (campusnet netbox reset)")
        created_models.append(Model)
        objs = []
        m2m_later = []
        for row in rows:
            kw = {}
            for key, value in row.items():
                if key == "tags":
                    for tag_id in value:
                        tagged.append((label, row["id"], tag_id))
                    continue
                if key == "custom_fields":
                    kw["custom_field_data"] = value
                    continue
                if key in ("a_terminations", "b_terminations"):
                    continue
                try:
                    f = Model._meta.get_field(key)
                except Exception:  # noqa: BLE001
                    fail(f"{kind} id {row['id']}: NetBox model {label} has no field {key!r}")
                if f.many_to_many:
                    if value:
                        m2m_later.append((row["id"], f, value))
                    continue
                if f.is_relation and f.many_to_one:
                    if f.related_model is ContentType or f.related_model._meta.label == "core.ObjectType":
                        value = ct(value) if isinstance(value, str) else value
                    kw[f.attname] = value
                    continue
                kw[f.attname] = value
            objs.append((row, Model(**kw)))
            for pk, f, values in m2m_later:
                m2m_rows.setdefault((label, f.name), []).append((pk, f, values))
            m2m_later = []
        # cached fields the models' save() would set
        if label == "dcim.Device":
            for _row, o in objs:
                device_places[o.pk] = (o.site_id, o.location_id, o.rack_id)
        if label == "dcim.Site":
            for _row, o in objs:
                site_region[o.pk] = o.region_id
        fields = {f.name for f in Model._meta.get_fields()}
        if "_site" in fields and "device" in fields:
            for _row, o in objs:
                o._site_id, o._location_id, o._rack_id = device_places[o.device_id]
        if label == "ipam.Prefix":
            site_ct = ct("dcim.site")
            for _row, o in objs:
                if o.scope_type_id == site_ct:
                    o._site_id = o.scope_id
                    o._region_id = site_region.get(o.scope_id)
        if label == "dcim.Cable":
            CableTermination = apps.get_model("dcim.CableTermination")
            cts = []
            for cable_row, o in objs:
                for side, end in (("a_terminations", "A"), ("b_terminations", "B")):
                    for t in cable_row.get(side, []):
                        cts.append((o.pk, end, t["object_type"], t["object_id"]))
        if entry["save"]:
            for _row, o in objs:
                o.save()
        else:
            Model.objects.bulk_create([o for _, o in objs], batch_size=2000)
        report["counts"][label] = len(objs)
        if label == "dcim.Cable":
            term_rows = []
            for cable_id, end, otype, oid in cts:
                tm = apps.get_model(otype)
                places = (None, None, None, None)
                if otype.startswith("dcim.") and otype != "dcim.powerfeed":
                    dev_id = tm.objects.filter(pk=oid).values_list("device_id", flat=True).first() \
                        if tm not in _component_device else _component_device[tm].get(oid)
                    s, loc, r = device_places[dev_id]
                    places = (dev_id, r, loc, s)
                elif otype == "circuits.circuittermination":
                    c = tm.objects.get(pk=oid)
                    places = (None, None, c._location_id, c._site_id)
                term_rows.append(CableTermination(
                    cable_id=cable_id, cable_end=end, termination_type_id=ct(otype), termination_id=oid,
                    _device_id=places[0], _rack_id=places[1], _location_id=places[2], _site_id=places[3]))
                late_terms.append((tm, oid, cable_id, end))
            CableTermination.objects.bulk_create(term_rows, batch_size=2000)
            created_models.append(CableTermination)
            report["counts"]["dcim.CableTermination"] = len(term_rows)
        if "device" in fields and "_site" in fields:
            _component_device[Model] = {o.pk: o.device_id for _, o in objs}
    # terminating objects: cable + cable_end (what CableTermination.save() sets)
    by_model = {}
    for tm, oid, cable_id, end in late_terms:
        by_model.setdefault(tm, []).append((oid, cable_id, end))
    for tm, items in by_model.items():
        objs = []
        for oid, cable_id, end in items:
            o = tm(pk=oid)
            o.cable_id, o.cable_end = cable_id, end
            objs.append(o)
        tm.objects.bulk_update(objs, ["cable", "cable_end"], batch_size=2000)
    # tags
    TaggedItem.objects.bulk_create([
        TaggedItem(content_type_id=ct(label.lower()), object_id=pk, tag_id=tag_id) for label, pk, tag_id in tagged
    ], batch_size=5000)
    report["counts"]["extras.TaggedItem"] = len(tagged)
    # many-to-many
    for (label, name), items in m2m_rows.items():
        f = items[0][1]
        through = f.remote_field.through
        src, dst = f.m2m_field_name(), f.m2m_reverse_field_name()
        rows = []
        for pk, _f, values in items:
            for v in values:
                if isinstance(v, str):
                    v = ct(v)
                rows.append(through(**{f"{src}_id": pk, f"{dst}_id": v}))
        through.objects.bulk_create(rows, batch_size=5000)
        report["counts"][f"{label}.{name}"] = len(rows)
    # id sequences after explicit ids
    with connection.cursor() as cursor:
        for sql in connection.ops.sequence_reset_sql(no_style(), created_models):
            cursor.execute(sql)


_component_device = {}


def phase(name, fn):
    t = time.monotonic()
    fn()
    report["phases"][name] = round(time.monotonic() - t, 2)


def reindex():
    """What ``netbox reindex`` does, through the same indexers (``SearchIndex.to_cache``) and the same
    ``CachedValue`` rows, without its per-object ObjectType/CustomField look-ups (~5 ms per object)."""
    from core.models import ObjectType
    from extras.models import CachedValue, CustomField
    from netbox.registry import registry
    from netbox.search.backends import search_backend

    search_backend.clear()
    total = 0
    for idx in registry["search"].values():
        model = idx.model
        object_type = ObjectType.objects.get_for_model(model)
        cfs = [cf for cf in CustomField.objects.get_for_model(model) if cf.search_weight > 0]
        buffer = []
        for instance in model.objects.iterator(chunk_size=2000):
            for fv in idx.to_cache(instance, custom_fields=cfs):
                buffer.append(CachedValue(object_type=object_type, object_id=instance.pk, field=fv.name,
                                          type=fv.type, weight=fv.weight, value=fv.value))
            if len(buffer) >= 5000:
                total += len(CachedValue.objects.bulk_create(buffer))
                buffer = []
        if buffer:
            total += len(CachedValue.objects.bulk_create(buffer))
    report["counts"]["extras.CachedValue"] = total


def quiet(*args, **kw):
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=out, **kw)
    return out.getvalue()


def run():
    with open(PLAN, encoding="utf-8") as fh:  # noqa: F821 - PLAN is prepended by the loader
        plan = json.load(fh)
    for name in PHASES:  # noqa: F821 - PHASES is prepended by the loader
        if name == "insert":
            def do():
                with transaction.atomic():
                    insert(plan)
            phase("insert", do)
        elif name == "paths":
            phase("paths", lambda: quiet("trace_paths", no_input=True))
        elif name == "counters":
            phase("counters", lambda: quiet("calculate_cached_counts"))
        elif name == "prefixes":
            phase("prefixes", lambda: quiet("rebuild_prefixes"))
        elif name == "contexts":
            phase("contexts", lambda: quiet("rebuild_config_context_cache", force=True))
        elif name == "search":
            phase("search", reindex)
    report["seconds"] = round(time.monotonic() - T0, 2)
    print("CAMPUSNET-SCALE " + json.dumps(report))


run()
