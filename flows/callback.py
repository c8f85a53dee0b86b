"""Callback data: short, explicit, at most 64 bytes.

Conversation buttons carry the prompt nonce they were drawn for: `f:<nonce>:<action>[:<arg>]`.
Stateless buttons are `<scope>:<action>[:<arg>]`, the scope one letter. Anything else is forged
or damaged and decodes to None. Decoding checks the format only: which scopes exist is the
registry's (`flows.features`), which action a state takes is the flow's.
"""

from __future__ import annotations

import re

from flows.events import Tap
from flows.replies import Button

MAX_BYTES = 64
_SCOPE = re.compile(r"^[a-z]$")
_PART = re.compile(r"^[a-z_]{1,16}$")
_ARG = re.compile(r"^[A-Za-z0-9_.\-]{0,40}$")


def encode(button: Button, nonce: int) -> str:
    head = f"f:{nonce}" if button.scope == "f" else button.scope
    data = f"{head}:{button.action}" + (f":{button.arg}" if button.arg else "")
    if len(data.encode()) > MAX_BYTES:
        raise ValueError(f"callback data over {MAX_BYTES} bytes: {data!r}")
    return data


def decode(data: str) -> Tap | None:
    parts = data.split(":")
    scope = parts[0]
    if not _SCOPE.match(scope) or len(data.encode()) > MAX_BYTES:
        return None
    nonce: int | None = None
    if scope == "f":
        if len(parts) < 3 or not parts[1].isdigit():
            return None
        nonce, parts = int(parts[1]), [scope, *parts[2:]]
    if len(parts) not in (2, 3) or not _PART.match(parts[1]):
        return None
    arg = parts[2] if len(parts) == 3 else ""
    if not _ARG.match(arg):
        return None
    return Tap(scope=scope, action=parts[1], arg=arg, nonce=nonce, raw=data)
