"""Errors that campusnet reports to a person, each with a code documented in docs/errors.md.

A :class:`CampusnetError` is never shown as a traceback: the CLI prints ``code: message`` and exits 2.
Messages name the object and the field at fault wherever there is one.
"""

from __future__ import annotations


class CampusnetError(Exception):
    """An error with a stable code (``E1xx`` NetBox, ``E2xx`` data, ``E3xx`` render, ``E4xx`` lab/deploy)."""

    def __init__(self, code: str, message: str, *, obj: str | None = None, field: str | None = None):
        self.code = code
        self.message = message
        self.obj = obj
        self.field = field
        super().__init__(str(self))

    def __str__(self) -> str:
        where = ""
        if self.obj:
            where = f"{self.obj}"
            if self.field:
                where += f" field '{self.field}'"
            where += ": "
        return f"{self.code}: {where}{self.message}"


class DataError(CampusnetError):
    """Bad input data (design YAML or NetBox content)."""

    def __init__(self, message: str, *, obj: str | None = None, field: str | None = None, code: str = "E201"):
        super().__init__(code, message, obj=obj, field=field)
