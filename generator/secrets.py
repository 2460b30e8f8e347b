"""What counts as a secret, in one place: inventories refuse them and reports mask them.

Secrets (vSphere passwords, cloud credentials, private keys) never belong in a fleet repository:
the management cluster holds them in Secrets, and inventories reference those (``identityRef``).

>>> [is_secret_key(k) for k in ("password", "sshKeyName", "AZURE_CLIENT_SECRET", "privateKey")]
[True, False, True, True]
>>> scrub("export VSPHERE_PASSWORD=hunter2; x: <encoded:aHVudGVy>")
'export VSPHERE_PASSWORD=***; x: ***'
"""

from __future__ import annotations

import re
from typing import Any

MASK = "***"
_SECRET_KEY = re.compile(r"(password|passwd|secret|token|private[-_]?key|credential|"
                         r"access[-_]?key(?!name)|ssh[-_]?key(?!name))", re.IGNORECASE)
_PRIVATE_KEY = re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----")
SECRET_IN_TEXT = re.compile(rb"<encoded:|-----BEGIN [A-Z ]*PRIVATE KEY-----")
"""Bytes that must never be in a generated file (checked before anything is written)."""


def is_secret_key(key: str) -> bool:
    return bool(_SECRET_KEY.search(key))


def is_secret_value(value: Any) -> bool:
    """tanzu's ``<encoded:…>`` form (base64, not encryption) and PEM private keys."""
    return isinstance(value, str) and (value.startswith("<encoded:")
                                       or bool(_PRIVATE_KEY.search(value)))


def masked(value: Any, key: str = "") -> Any:
    """``value`` with everything under a secret-looking key, and every secret value, masked."""
    if is_secret_key(key) or is_secret_value(value):
        return MASK
    if isinstance(value, dict):
        return {k: masked(v, str(k)) for k, v in value.items()}
    if isinstance(value, list):
        return [masked(v, key) for v in value]
    return value


_ENCODED = re.compile(r"<encoded:[A-Za-z0-9+/=_-]+>?")  # not the "<encoded:…>" of a hint
_PEM_BLOCK = re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?"
                        r"(-----END [A-Z ]*PRIVATE KEY-----|\Z)", re.DOTALL)
_ASSIGNMENT = re.compile(r"""(?P<key>[A-Za-z0-9_.-]+)(?P<sep>["']?[ \t]*[:=][ \t]*)"""
                         r"""(?P<value>"[^"\n]*"|'[^'\n]*'|[^\s,;}\]]+)""")


def scrub(text: str) -> str:
    """Free text (a message, a line of a diff, an exception) with every secret-looking part
    masked: ``<encoded:…>`` values, PEM private keys and ``KEY=value`` / ``key: value`` pairs
    whose key looks like a secret."""
    text = _PEM_BLOCK.sub(MASK, _ENCODED.sub(MASK, text))

    def assignment(match: re.Match[str]) -> str:
        if not is_secret_key(match["key"]) or match["value"] == MASK:
            return match[0]
        return f"{match['key']}{match['sep']}{MASK}"

    return _ASSIGNMENT.sub(assignment, text)


_SECRET_WORDS = ("password", "passwd", "secret", "token", "private", "credential", "access", "ssh")


def may_hold_secret(text: str) -> bool:
    """A fast screen of a whole document as text (such as its JSON): False means that no key
    and no value in it can be a secret by the rules above, so it need not be walked. (Each
    alternative of the key pattern holds one of the words; outside ASCII, case-insensitive
    matching knows more equivalences than ``lower``, so the pattern itself is searched.)"""
    if "<encoded:" in text:
        return True
    if not text.isascii():
        return bool(_SECRET_KEY.search(text) or _PRIVATE_KEY.search(text))
    low = text.lower()
    return any(word in low for word in _SECRET_WORDS)
