"""Typed reading of a device's rendered config context (services, ospf, bgp, evpn, lab_timers, ...).

The keys this module reads are the contract with ``inventory/campus/config_contexts.yml``; they are
listed in ``docs/intent.md``. A value of the wrong shape is a named error (device + key path).
"""

from __future__ import annotations

from functools import lru_cache
from ipaddress import IPv4Address, IPv4Network, ip_address, ip_network
from typing import Any

from campusnet.intent.errors import IntentError
from campusnet.intent.models import (
    Aaa,
    BgpTimers,
    Ntp,
    OspfTimers,
    Secret,
    SecretRef,
    Services,
    Snmp,
    StaticRoute,
    Syslog,
)

_MISSING = object()


@lru_cache(maxsize=4096)
def _parse_addresses(raws: tuple[str, ...]) -> tuple[IPv4Address, ...]:
    out: list[IPv4Address] = []
    for raw in raws:
        addr = ip_address(raw.split("/")[0])
        if isinstance(addr, IPv4Address):  # IPv6 servers: not rendered (the campus is IPv4 today)
            out.append(addr)
    return tuple(out)


class Context:
    """Accessor over one device's config context that names the device and key path in errors."""

    def __init__(self, device: str, data: dict[str, Any]):
        self.device = device
        self.data = data

    def get(self, path: str, default: Any = None) -> Any:
        cur: Any = self.data
        for part in path.split("."):
            if not isinstance(cur, dict) or part not in cur:
                return default
            cur = cur[part]
        return cur

    def has(self, path: str) -> bool:
        return self.get(path, _MISSING) is not _MISSING

    def error(self, path: str, message: str) -> IntentError:
        return IntentError(message, device=self.device, field=f"config_context.{path}")

    # -- typed getters -----------------------------------------------------------------------------------
    def integer(self, path: str, default: int | None = None) -> int | None:
        value = self.get(path, default)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.error(path, f"expected an integer, got {value!r}")
        return value

    def string(self, path: str, default: str | None = None) -> str | None:
        value = self.get(path, default)
        if value is None:
            return None
        if not isinstance(value, str | int):
            raise self.error(path, f"expected a string, got {value!r}")
        return str(value)

    def addresses(self, path: str, value: Any = _MISSING) -> tuple[IPv4Address, ...]:
        """A list of IPv4 addresses (also accepts a single address, or dicts with `address`)."""
        if value is _MISSING:
            value = self.get(path, ())
        if value is None:
            return ()
        items = value if isinstance(value, list | tuple) else [value]
        raws = tuple(str(item.get("address", item.get("ip")) if isinstance(item, dict) else item) for item in items)
        try:
            return _parse_addresses(raws)
        except ValueError as exc:
            raise self.error(path, f"not an IP address: {exc}") from None

    def secret(self, path: str) -> Secret | None:
        value = self.get(path)
        if value is None:
            return None
        if isinstance(value, dict) and set(value) == {"secret_ref"} and isinstance(value["secret_ref"], str):
            return SecretRef(secret_ref=value["secret_ref"])
        raise self.error(path, 'secrets must be given as {"secret_ref": NAME}, never as values')

    # -- areas ---------------------------------------------------------------------------------------------
    def services(self, source_interface: str | None) -> Services:
        svc = "services"
        ntp_raw = self.get(f"{svc}.ntp")
        ntp_servers = self.addresses(f"{svc}.ntp", ntp_raw.get("servers") if isinstance(ntp_raw, dict) else ntp_raw)
        log_raw = self.get(f"{svc}.syslog")
        log_hosts = self.addresses(f"{svc}.syslog", log_raw.get("hosts", log_raw.get("servers"))
                                   if isinstance(log_raw, dict) else log_raw)
        level = self.string(f"{svc}.syslog.level", "informational") if isinstance(log_raw, dict) else "informational"
        facility = self.string(f"{svc}.syslog.facility") if isinstance(log_raw, dict) else None
        snmp: Snmp | None = None
        if isinstance(self.get(f"{svc}.snmp"), dict):
            community = self.secret(f"{svc}.snmp.community")
            if community is None:
                raise self.error(f"{svc}.snmp.community", "missing (SNMP needs a community secret_ref)")
            snmp = Snmp(community=community,
                        location=self.string(f"{svc}.snmp.location", "") or "",
                        contact=self.string(f"{svc}.snmp.contact", "") or "",
                        trap_hosts=self.addresses(f"{svc}.snmp.trap_targets", self.get(
                            f"{svc}.snmp.trap_targets", self.get(f"{svc}.snmp.trap_hosts", ()))),
                        source_interface=source_interface)
        aaa: Aaa | None = None
        aaa_path = next((p for p in (f"{svc}.aaa.tacacs", f"{svc}.tacacs", f"{svc}.aaa")
                         if isinstance(self.get(p), dict)), None)
        if aaa_path is not None:
            key = self.secret(f"{aaa_path}.key")
            if key is None:
                raise self.error(f"{aaa_path}.key", "missing (TACACS+ needs a key secret_ref)")
            servers = self.addresses(f"{aaa_path}.servers", self.get(f"{aaa_path}.servers", ()))
            if not servers:
                raise self.error(f"{aaa_path}.servers", "missing (no TACACS+ server)")
            aaa = Aaa(scheme=self.string(f"{aaa_path}.scheme", "campus") or "campus", servers=servers, key=key,
                      source_interface=source_interface)
        return Services(
            domain=self.string(f"{svc}.domain"),
            dns_servers=self.addresses(f"{svc}.dns"),
            ntp=Ntp(servers=ntp_servers, source_interface=source_interface) if ntp_servers else None,
            syslog=Syslog(hosts=log_hosts, level=level or "informational", facility=facility,
                          source_interface=source_interface)
            if log_hosts else None,
            snmp=snmp,
            aaa=aaa,
        )

    def dhcp_relay(self) -> tuple[tuple[IPv4Address, ...], frozenset[str] | None]:
        """Relay servers, and the VLAN roles that relay (None: every SVI with an address)."""
        raw = self.get("services.dhcp_relay")
        if isinstance(raw, dict):
            roles = raw.get("vlan_roles")
            servers = self.addresses("services.dhcp_relay.servers", raw.get("servers", ()))
            return servers, frozenset(roles) if isinstance(roles, list) else None
        return self.addresses("services.dhcp_relay", raw), None

    def static_routes(self) -> tuple[StaticRoute, ...]:
        raw = self.get("static_routes", ())
        if not isinstance(raw, list | tuple):
            raise self.error("static_routes", "expected a list of {prefix, next_hop}")
        out: list[StaticRoute] = []
        for n, item in enumerate(raw):
            path = f"static_routes[{n}]"
            if not isinstance(item, dict) or "prefix" not in item:
                raise self.error(path, "expected {prefix, next_hop, distance?, description?}")
            try:
                prefix = ip_network(str(item["prefix"]))
                nh = item.get("next_hop")
                next_hop = ip_address(str(nh)) if nh not in (None, "null0", "Null0", "blackhole") else None
            except ValueError as exc:
                raise self.error(path, str(exc)) from None
            if not isinstance(prefix, IPv4Network) or not (next_hop is None or isinstance(next_hop, IPv4Address)):
                continue
            out.append(StaticRoute(prefix=prefix, next_hop=next_hop, distance=item.get("distance"),
                                   description=str(item.get("description", ""))))
        return tuple(out)

    def networks(self, path: str) -> tuple[IPv4Network, ...]:
        raw = self.get(path, ())
        if not isinstance(raw, list | tuple):
            raise self.error(path, "expected a list of prefixes")
        out: list[IPv4Network] = []
        for item in raw:
            try:
                net = ip_network(str(item))
            except ValueError:
                raise self.error(path, f"not a prefix: {item!r}") from None
            if isinstance(net, IPv4Network):
                out.append(net)
        return tuple(out)

    # -- lab timers ----------------------------------------------------------------------------------------
    def ospf_lab_timers(self) -> tuple[int | None, int | None, OspfTimers | None]:
        """(hello, dead, process timers) from `lab_timers.ospf`, or Nones."""
        base = "lab_timers.ospf"
        if not isinstance(self.get(base), dict):
            return None, None, None
        hello = self.integer(f"{base}.hello", self.integer(f"{base}.hello_interval"))
        dead = self.integer(f"{base}.dead", self.integer(f"{base}.dead_interval"))
        spf = self.get(f"{base}.spf_throttle", self.get(f"{base}.spf"))
        timers: OspfTimers | None = None
        if spf is not None:
            if not (isinstance(spf, list) and len(spf) == 3 and all(isinstance(x, int) for x in spf)):
                raise self.error(f"{base}.spf_throttle", f"expected [delay, initial-hold, max-hold], got {spf!r}")
            timers = OspfTimers(spf_delay=spf[0], spf_initial_hold=spf[1], spf_max_hold=spf[2],
                                lsa_all=self.integer(f"{base}.lsa_throttle_all", self.integer(f"{base}.lsa_all", 0))
                                or 0,
                                lsa_min_arrival=self.integer(f"{base}.lsa_min_arrival", 0) or 0)
        return hello, dead, timers

    def bgp_lab_timers(self) -> tuple[BgpTimers | None, int | None, int | None]:
        """(keepalive/hold, connect, advertisement-interval) from `lab_timers.bgp`."""
        base = "lab_timers.bgp"
        if not isinstance(self.get(base), dict):
            return None, None, None
        keepalive = self.integer(f"{base}.keepalive")
        hold = self.integer(f"{base}.hold", self.integer(f"{base}.holdtime"))
        timers = BgpTimers(keepalive=keepalive, hold=hold) if keepalive is not None and hold is not None else None
        return (timers, self.integer(f"{base}.connect"),
                self.integer(f"{base}.advertisement_interval", self.integer(f"{base}.advertisement-interval")))
