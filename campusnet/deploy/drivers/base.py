"""The driver contract: what deploy needs from a platform, and the typed state a device must show.

``connect`` → ``running`` → ``diff`` (running vs. intended; "" when in sync) → ``apply`` (with a confirm
timer) → ``post_checks`` → ``confirm`` (keep the change) or ``restore`` (to a backup; also cancels the timer).
``normalise`` strips what changes without a config change (timestamps,
banners) so that "restore took" can be proven by comparing text. ``expected`` turns an intent and its
rendered files into the :class:`ExpectedState` that ``diff``, ``apply`` and ``post_checks`` compare the
device against; each driver computes it next to the reader that produces the same canonical text from
the device (``expected_<section>`` beside ``canonical_<section>``), so the two cannot drift apart.

Commit-confirm: ``apply(..., confirm_timeout=T)`` with ``T > 0`` arms a revert *on the device*: unless
``confirm(conn)`` is called within ``T`` seconds, the device goes back by itself to its state before the
apply — also when the controller died or the session dropped. ``confirm_mechanism`` names how (docs and
run records). ``T == 0``: no timer, the change stays (the engine's own rollback is the only safety net).

The engine imports this module; this module imports neither the engine nor any driver.
Every driver passes ``tests/integration/test_driver_conformance.py``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from campusnet.errors import CampusnetError

if TYPE_CHECKING:
    from campusnet.deploy.transport import Credentials
    from campusnet.intent.models import DeviceIntent

#: the connection a driver's methods take: whatever its own :meth:`Driver.connect` returns (linux-frr: a
#: :class:`campusnet.deploy.transport.Connection`; a vendor driver: its CLI session). ``Any`` because each
#: driver narrows it to its own type; the engine only uses the :class:`DeviceConnection` part.
Conn = Any


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Session(_Frozen):
    """A routing session the intent implies on a device (the same set ``verify`` expects)."""

    proto: Literal["ospf", "bgp"]
    peer: str  # OSPF: the neighbour's router id; BGP: the neighbour's address
    node: str | None = None  # the peer's lab node (None: not in the lab, e.g. a provider outside it)
    direct: bool = False  # the peer is directly connected
    stub: bool = False  # the peer is a lab-made node (no intent: ``lab up`` configured it)
    hold: float = 0.0  # OSPF dead interval / BGP hold time: how long a broken session can still look up

    @property
    def key(self) -> str:
        """``"ospf <router-id>"`` / ``"bgp <address>"``: the key of :meth:`Driver.adjacencies`."""
        return f"{self.proto} {self.peer}"


class ExpectedState(_Frozen):
    """What a device must show after a deploy besides its configuration text, one field per section.

    The text sections (``ovs``, ``links``, ``addrs``, ``vpn``) are in the driver's canonical form: the
    exact text its reader makes of the device (sorted lines, compared as sets)."""

    ovs: str = ""  # Open vSwitch bridge, ports, LAGs (bonds)
    links: str = ""  # lab-made Linux devices: SVI veths, VNI bridges, VXLAN devices, VRRP macvlans
    addrs: str = ""  # IPv4 addresses per interface
    vpn: str = ""  # the VPN server: config lines, daemon, key material digest
    up: tuple[str, ...] = ()  # interfaces that must be up (cabled, enabled)
    daemons: tuple[str, ...] = ()  # routing daemons that must run
    sessions: tuple[Session, ...] = ()  # routing sessions; the engine decides which it waits for
    vpn_material: dict[str, str] = Field(default_factory=dict)  # remote file name → local path (never text)
    vpn_listen: str = ""  # ``ADDR:PORT/PROTO`` the VPN server must listen on
    vpn_address: str = ""  # ``DEV ADDR/LEN`` the VPN server's tunnel device must carry

    def section(self, name: str) -> str:
        """A text section by name (``ovs``, ``links``, ``addrs``, ``vpn``)."""
        value = getattr(self, name)
        assert isinstance(value, str), name
        return value


class DeployTarget(_Frozen):
    """What to push where: a device (lab node), how to reach it, which driver, its files, its expected state."""

    device: str
    host: str  # management address
    driver: str  # driver key, e.g. "linux-frr"
    files: dict[str, str]
    expected: ExpectedState = Field(default_factory=ExpectedState)

    @classmethod
    def load(cls, data: object, *, obj: str) -> DeployTarget:
        """A target read back from JSON (the Ansible path writes one file per node): a malformed one is E480,
        naming the file and the first bad field, never a traceback."""
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            err = exc.errors()[0]
            where = ".".join(str(x) for x in err["loc"]) or "(target)"
            raise CampusnetError("E480", f"not a deploy target: {where}: {err['msg']}", obj=obj,
                                 field=where) from None


class PushRefused(CampusnetError):
    """Raised by ``apply`` *before it writes anything* (e.g. a revert timer of an earlier push is still
    pending on the device): the engine records the device ``failed`` and does not roll it back (restoring
    would cancel that pending revert and keep an unconfirmed change)."""


class DeviceConnection(Protocol):
    """What the engine needs of any driver's connection (``transport.Connection`` is one)."""

    def open(self) -> None: ...

    def close(self) -> None: ...

    def alive(self) -> bool: ...


class Driver(Protocol):
    """One platform's configuration lifecycle (napalm's idea, reduced to what deploy needs)."""

    name: str
    #: how the device reverts by itself when a change is not confirmed, in one line (docs, run records)
    confirm_mechanism: str

    def connect(self, target: DeployTarget, creds: Credentials) -> DeviceConnection:
        """A new, *unopened* connection to the target (the engine opens it, and reconnects with it)."""
        ...

    def expected(self, intent: DeviceIntent, files: dict[str, str], sessions: Sequence[Session] = ()
                 ) -> ExpectedState: ...

    def running(self, conn: Conn) -> str: ...

    def diff(self, conn: Conn, files: dict[str, str], running: str, target: DeployTarget | None = None
             ) -> str: ...

    def apply(self, conn: Conn, files: dict[str, str], target: DeployTarget | None = None, *,
              confirm_timeout: int = 0) -> None:
        """Push the change. ``confirm_timeout > 0``: the device reverts by itself to its pre-apply state
        unless :meth:`confirm` is called within that many seconds (counted from the start of the apply at
        the latest). Raises when the push fails; the timer, once armed, stays armed."""
        ...

    def confirm(self, conn: Conn) -> None:
        """Keep the applied change: cancel the pending revert timer (a no-op when none is pending). Raises
        when the timer already fired (the change is being / has been reverted)."""
        ...

    def post_checks(self, conn: Conn, target: DeployTarget) -> list[str]: ...

    def restore(self, conn: Conn, backup: str) -> None:
        """Converge the device back to a backup; also cancels a pending revert timer."""
        ...

    def normalise(self, text: str) -> str: ...

    def adjacencies(self, conn: Conn) -> dict[str, str]: ...
