"""Answers kept for redelivery: an `Outcome`'s replies as JSON, stored with the update's claim.

Telegram delivers an update again when it did not hear that the last delivery was handled (a
webhook answer that never came, a poll offset not confirmed): the process may have died after
the commit but before the replies went out. The claim stops the update from running twice;
the kept answer lets the redelivery send what the person may never have seen (at least once:
a repeated confirmation beats a missing one). Once the replies are known to have been sent,
the adapter asks for the kept answer to be forgotten, in a later transaction it makes anyway,
so a redelivery after that sends nothing.

Only what is sent is kept: replies (with their buttons), the tap's pop-up notice, the language
and nonce they were drawn with. Events and outbox kicks happened with the first run.
"""

from __future__ import annotations

import json
from typing import Any

from flows.replies import (
    Attachment,
    Button,
    Notice,
    Outcome,
    Reply,
    params_from_json,
    params_to_json,
)


def outcome_to_json(out: Outcome) -> str | None:
    """The kept answer, or None when there is nothing to send again."""
    if not out.replies and out.notice is None:
        return None
    data: dict[str, Any] = {
        "language": out.language,
        "nonce": out.nonce,
        "replies": [_reply(r) for r in out.replies],
    }
    if out.notice is not None:
        n = out.notice
        data["notice"] = {"key": n.key, "params": params_to_json(n.params), "alert": n.alert}
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def outcome_from_json(text: str) -> Outcome:
    """The kept answer as a duplicate's `Outcome`: to be sent again, nothing else."""
    data = json.loads(text)
    notice = data.get("notice")
    return Outcome(
        language=data["language"],
        nonce=data["nonce"],
        replies=[_reply_back(r) for r in data["replies"]],
        notice=None
        if notice is None
        else Notice(notice["key"], params_from_json(notice["params"]), notice["alert"]),
        duplicate=True,
    )


def _reply(r: Reply) -> dict[str, Any]:
    return {
        "key": r.key,
        "params": params_to_json(r.params),
        "buttons": [[_button(b) for b in row] for row in r.buttons],
        "edit": r.edit,
        "photo": r.photo,
        "file": None if r.file is None else [r.file.kind, r.file.file_id],
        "album": r.album,
    }


def _reply_back(d: dict[str, Any]) -> Reply:
    return Reply(
        d["key"],
        params_from_json(d["params"]),
        tuple(tuple(_button_back(b) for b in row) for row in d["buttons"]),
        edit=d["edit"],
        photo=d["photo"],
        file=None if d["file"] is None else Attachment(*d["file"]),
        album=d["album"],
    )


def _button(b: Button) -> list[Any]:
    return [b.key, b.action, b.arg, params_to_json(b.params), b.scope]


def _button_back(b: list[Any]) -> Button:
    key, action, arg, params, scope = b
    return Button(key, action, arg, params_from_json(params), scope)
