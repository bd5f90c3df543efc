"""Errors of the intent stage: what NetBox lacks for a device's role, named by device and field."""

from __future__ import annotations

from collections.abc import Sequence

from campusnet.errors import CampusnetError, DataError


class IntentError(DataError):
    """One device cannot be built: ``device`` names it, ``field`` the NetBox field at fault."""

    def __init__(self, message: str, *, device: str, field: str | None = None, code: str = "E210"):
        self.device = device
        super().__init__(message, obj=device, field=field, code=code)


class IntentErrors(CampusnetError):
    """Several devices could not be built; :attr:`errors` lists every one."""

    def __init__(self, errors: Sequence[IntentError]):
        self.errors = list(errors)
        shown = "; ".join(str(e) for e in self.errors[:5])
        more = f" (and {len(self.errors) - 5} more)" if len(self.errors) > 5 else ""
        super().__init__("E211", f"{len(self.errors)} device(s) cannot be built: {shown}{more}")
