"""Helpers for whole conversations on the simulator, shared by the conversation tests: filing a
complaint step by step, reading what was stored, opening a complaint's detail, and the
operator's side (the card, a result, a revocation request and its decision)."""

from __future__ import annotations

import re
from typing import Any

from bot.app import runtime
from bot.simulator import Actor, Simulator
from flows.catalog import load_catalog
from flows.records import AuditEntry, ComplaintRecord, RevocationRequest
from tests.conftest import OPERATOR

CATALOG = load_catalog()
NUMBER = re.compile(r"\d{6}-[0-9A-Z]{4}-[0-9A-Z]{4}")
TARGETS = {
    "friend_report": "wxid_scammer88",
    "payment": "4200001234202611230001",
    "mini_program": "wx1234567890abcdef",
    "intellectual_property": "https://example.com/copied-article",
    "judicial": "Case 2026-117",
    "account_security": "@my_old_account",
    "inappropriate_content": "A post with violent pictures",
    "merchant_service": "Happy Noodles Shop",
    "other": "Something odd",
}
DESCRIPTION = "On 20 Nov they asked me to transfer money and then blocked me."


def type_button(type_id: str) -> dict[str, Any]:
    ctype = CATALOG.type(type_id)
    assert ctype is not None
    return {"title": ctype.title.as_dict()}


async def send_evidence(actor: Actor, type_id: str, count: int | None = None) -> None:
    """Send `count` (default: the minimum) items of a kind this type accepts."""
    ctype = CATALOG.type(type_id)
    assert ctype is not None
    kinds = {k.value for k in ctype.evidence.kinds}
    for i in range(count if count is not None else ctype.evidence.min_count):
        if "photo" in kinds:
            await actor.send_photo(data=f"photo-{type_id}-{i}".encode())
        elif "document" in kinds:
            await actor.send_document(data=f"doc-{type_id}-{i}".encode())
        else:
            await actor.forward("Scammer", f"message {i}")


async def file_to_review(
    actor: Actor, type_id: str = "friend_report", target: str | None = None
) -> None:
    """From anywhere: /start, pick the type, continue, target, evidence, description."""
    await actor.send("/start")
    await actor.tap_key("menu.button.file")
    await actor.tap_key("filing.button.type", **type_button(type_id))
    actor.assert_last("filing.guidance")
    await actor.tap_key("filing.button.proceed")
    actor.assert_last("filing.ask_target")
    await actor.send(target or TARGETS[type_id])
    actor.assert_last("filing.evidence_status")
    await send_evidence(actor, type_id)
    await actor.tap_key("filing.button.done")
    actor.assert_last("filing.ask_description")
    await actor.send(DESCRIPTION)
    actor.assert_last("filing.review")


async def submit(actor: Actor) -> str:
    """Submit from the review through the second confirmation; returns the complaint number."""
    await actor.tap_key("filing.button.submit")
    actor.assert_last("filing.confirm_warning")
    await actor.tap_key("filing.button.confirm")
    submitted = actor.assert_got("filing.submitted")
    actor.assert_last("menu.welcome")
    found = NUMBER.search(submitted.text)
    assert found, submitted.text
    return found.group()


async def file(actor: Actor, type_id: str = "friend_report", target: str | None = None) -> str:
    """File a complaint of `type_id` (against `target`, or the type's sample) and submit it."""
    await file_to_review(actor, type_id, target)
    return await submit(actor)


async def stored(sim: Simulator, number: str) -> ComplaintRecord:
    """The complaint as the database has it now."""
    complaint = await runtime(sim.app).store.read(lambda tx: tx.get_complaint(number))
    assert complaint is not None
    return complaint


async def stored_request(sim: Simulator, number: str) -> RevocationRequest:
    """The revocation request as the database has it now."""
    request = await runtime(sim.app).store.read(lambda tx: tx.get_request(number))
    assert request is not None
    return request


async def open_detail(actor: Actor, number: str) -> None:
    """/mycomplaints, then the complaint's detail."""
    await actor.send("/mycomplaints")
    actor.assert_last("follow.list")
    await actor.tap(data=f"c:open:{number}")
    actor.assert_last("follow.detail")


# -- the operator's side -------------------------------------------------------------------------

RESULT = "We checked the transfer records: the account was warned and restricted."


async def audit(sim: Simulator, subject: str | None = None) -> list[AuditEntry]:
    """The audit log, oldest first."""
    entries = await runtime(sim.app).store.read(lambda tx: tx.audit_log(subject, 200))
    return entries[::-1]


async def operator(sim: Simulator) -> Actor:
    """The operator, English-speaking, who has started the bot (so notifications reach them)."""
    op = sim.user(OPERATOR, "Olga", language_code="en")
    await op.send("/start")
    return op


async def request_withdrawal(sim: Simulator, user: Actor, number: str) -> str:
    """The user asks an operator to withdraw a payment complaint (misoperation, personal
    account: identity photo + screen recording); returns the request number."""
    await open_detail(user, number)
    await user.tap_key("follow.button.request")
    user.assert_last("revoke.ask_reason")
    await user.tap_key("revoke.reason.misoperation")
    await user.tap_key("revoke.account.personal")
    user.assert_last("revoke.ask_material")
    await user.send_photo(data=b"id-card-front", file_name="id-front.jpg")
    await user.send_photo(data=b"id-card-back", file_name="id-back.jpg")
    await user.send_video(data=b"screen-recording", file_name="recording.mp4")
    user.assert_last("revoke.confirm")
    await user.tap_key("revoke.button.send")
    user.assert_got("revoke.submitted")
    request = await runtime(sim.app).store.read(lambda tx: tx.open_request_for(number))
    assert request is not None
    return request.number


async def open_card(op: Actor, number: str) -> None:
    await op.send(f"/open {number}")
    op.assert_last("operator.card")


async def give_result(op: Actor, number: str, text: str = RESULT) -> None:
    """From the card: give result, type it, send."""
    await op.tap(data=f"o:result:{number}")
    op.assert_last("operator.ask_result")
    await op.send(text)
    op.assert_last("operator.confirm_result")
    await op.tap_key("operator.button.send")
    op.assert_got("operator.result_sent")
    op.assert_last("operator.card")


async def report_loss(op: Actor, number: str) -> None:
    """From the card: report a loss, and confirm it with the second tap."""
    await open_card(op, number)
    await op.tap(data=f"o:loss:{number}")
    await op.tap(data=f"o:loss_yes:{number}")
    op.assert_last("operator.card")


async def move_to_investigating(op: Actor, number: str) -> None:
    await open_card(op, number)
    for action in ("pick", "accept", "investigate"):
        await op.tap(data=f"o:{action}:{number}")
        op.assert_last("operator.card")


async def decide(op: Actor, request: str, verdict: str, message: str) -> None:
    """/requests -> the request card -> approve/reject -> message -> send."""
    await op.send("/requests")
    op.assert_last("operator.requests")
    await op.tap(data=f"o:request:{request}")
    op.assert_last("operator.request_card")
    await op.tap_key(f"operator.button.{verdict}")
    op.assert_last("operator.ask_decision")
    await op.send(message)
    op.assert_last("operator.confirm_decision")
    await op.tap_key("operator.button.send")
