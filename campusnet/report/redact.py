"""One redaction function for everything the report and the exports write.

:func:`redact` takes any value the report prints — a config line, a whole backup, a diff, a config
context, a change-log record — and returns it with secrets replaced by :data:`REDACTED`:

* **structured data** (dicts/lists, e.g. config contexts, change-log pre/post data): every value under a
  secret-looking key (``password``, ``secret``, ``community``, ``*key``, ``token``, ``psk`` ...) is replaced,
  whatever its shape. A ``{"secret_ref": NAME}`` placeholder is kept: it names a secret, it is not one.
* **text** (configs, backups, diffs, free text): the value after a secret keyword is replaced, with the
  usual qualifiers in between (``snmp-agent community read cipher X``, ``hwtacacs-server shared-key cipher
  X``, ``local-user u password irreversible-cipher X``, ``neighbor 10.0.0.1 password X``,
  ``ip ospf message-digest-key 1 md5 X``, ``key 7 X``, ``"community": "X"``); and anything after
  ``cipher`` / ``simple`` / ``irreversible-cipher`` (VRP and Comware print secrets only there).

A :class:`Redactor` also remembers the literals it removed so that the report can prove afterwards that
none of them reached a file (:meth:`Redactor.leaks`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

REDACTED = "«redacted»"

# keys whose value is a secret (structured data); "secret_ref" placeholders are references, not secrets
_SECRET_KEY = re.compile(
    r"(?i)^(?!.*_ref$)(?:.*(?:password|passwd|passphrase|secret|community|token|psk).*"
    r"|(?:.*[_-])?(?:key|keys|authkey|psk))$"
)

_WORD = r"[A-Za-z0-9_.-]"
_QUALIFIERS = (r"(?:\d{1,2}|cipher|simple|irreversible-cipher|plain|plaintext|clear|hash|encrypted|md5|sha|sha1|"
               r"sha256|sha-256|hmac-sha256|hmac-md5|read|write|ro|rw|sha512|\$\d)")
# keyword [qualifiers...] VALUE  (config text; also "key = value" / "key: value" / JSON "key": "value")
_TEXT_RULES: tuple[re.Pattern[str], ...] = (
    re.compile(
        r"(?i)(?<![A-Za-z0-9_-])"
        r"((?:[A-Za-z0-9_-]*(?:password|passwd|passphrase|secret|community|psk)[A-Za-z0-9_-]*"
        r"|[A-Za-z0-9_-]*key(?:-string)?)"
        r"[\"']?)"  # optional closing quote of a JSON/YAML key
        r"((?:\s*[:=]\s*|\s+)(?:" + _QUALIFIERS + r"\s+)*)"
        r"(\"[^\"\n]*\"|'[^'\n]*'|[^\s,;}\]\"']+)"
    ),
    re.compile(r"(?i)(?<![A-Za-z0-9_-])((?:irreversible-cipher|cipher|simple))(\s+)([^\s\"']+)"),
)
# words after which the next token is not a secret (keeps "... key-chain NAME", "password-policy" readable)
_NOT_SECRET_VALUE = re.compile(r"(?i)^(?:«redacted»|enable|disable|none|true|false|null|\{|\[)$")
# keywords strong enough that the value is certainly a secret: only these feed the leak check
_STRONG_KEYWORD = re.compile(r"(?i)(password|passwd|passphrase|secret|community|shared-key|psk|cipher|simple)")
_EXEMPT_KEYWORD = re.compile(r"(?i)^(?:secret_ref|[\w-]*_ref|keepalive|monkey|keys?-?chain|public-key|"
                             r"peer-public-key|rsa|local-key-pair|keyword|keyboard|key-pair)$")


class Redactor:
    """Redacts secrets from text and data; remembers the literals it removed (for :meth:`leaks`)."""

    def __init__(self) -> None:
        self.removed: set[str] = set()

    # -- text --------------------------------------------------------------------------------------------
    def text(self, s: str) -> str:
        for pat in _TEXT_RULES:
            s = pat.sub(self._sub, s)
        return s

    def _sub(self, m: re.Match[str]) -> str:
        keyword, sep, value = m.group(1), m.group(2), m.group(3)
        bare_kw = keyword.strip("\"'")
        if _EXEMPT_KEYWORD.match(bare_kw):
            return m.group(0)
        if bare_kw.lower() == "key" and not sep.strip():
            return m.group(0)  # prose ("key server"); "key 7 X", "key: X" still match
        stripped = value.strip("\"'")
        if _NOT_SECRET_VALUE.match(stripped) or not stripped:
            return m.group(0)
        if _STRONG_KEYWORD.search(bare_kw):
            self._remember(stripped)
        quote = value[0] if value[:1] in ("'", '"') else ""
        return f"{keyword}{sep}{quote}{REDACTED}{quote}"

    # -- data --------------------------------------------------------------------------------------------
    def data(self, obj: Any, *, _under_secret: bool = False) -> Any:
        if isinstance(obj, dict):
            if set(obj) == {"secret_ref"} and isinstance(obj["secret_ref"], str):
                return {"secret_ref": obj["secret_ref"]}
            out: dict[Any, Any] = {}
            for k, v in obj.items():
                secret = _under_secret or (isinstance(k, str) and bool(_SECRET_KEY.match(k)))
                out[k] = self.data(v, _under_secret=secret)
            return out
        if isinstance(obj, (list, tuple)):
            return [self.data(v, _under_secret=_under_secret) for v in obj]
        if _under_secret:
            if obj is None or isinstance(obj, bool) or obj == "":
                return obj
            if isinstance(obj, str):
                self._remember(obj)
            return REDACTED
        if isinstance(obj, str):
            return self.text(obj)
        return obj

    def __call__(self, obj: Any) -> Any:
        """Redact any value: text (str) or data (dict/list); other scalars pass through."""
        if isinstance(obj, str):
            return self.text(obj)
        if isinstance(obj, (dict, list, tuple)):
            return self.data(obj)
        return obj

    def _remember(self, literal: str) -> None:
        if len(literal) >= 6 and literal != REDACTED:
            self.removed.add(literal)

    # -- proof ---------------------------------------------------------------------------------------------
    def leaks(self, files: Iterable[Path]) -> list[Path]:
        """Files that contain any literal this redactor removed (as a whole token)."""
        if not self.removed:
            return []
        pat = re.compile("|".join(f"(?<![A-Za-z0-9_-]){re.escape(s)}(?![A-Za-z0-9_-])"
                                  for s in sorted(self.removed, key=len, reverse=True)))
        found = []
        for f in files:
            try:
                if pat.search(f.read_text(encoding="utf-8", errors="replace")):
                    found.append(f)
            except OSError:
                continue
        return found


def redact(obj: Any) -> Any:
    """Redact secrets from text or data (a fresh :class:`Redactor`; use one per report to prove no leaks)."""
    return Redactor()(obj)


def redact_text(s: str) -> str:
    return Redactor().text(s)
