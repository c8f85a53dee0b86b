"""Operators see what they judge: a complaint's evidence and a request's materials, opened
from the cards, every file received exactly once (albums of at most 10), forwards with their
author; the materials step takes what the rules ask for and refuses the rest by name."""

from __future__ import annotations

from collections import Counter

from bot.app import runtime
from bot.fake.models import FakeMessage
from bot.simulator import Actor, Simulator
from flows.records import EvidenceKind, RequestStatus, Stage
from tests.flows.conversations import (
    DESCRIPTION,
    TARGETS,
    audit,
    decide,
    open_card,
    open_detail,
    operator,
    stored,
    stored_request,
    submit,
    type_button,
)


async def start_filing(actor: Actor, type_id: str) -> None:
    await actor.send("/start")
    await actor.tap_key("menu.button.file")
    await actor.tap_key("filing.button.type", **type_button(type_id))
    await actor.tap_key("filing.button.proceed")
    await actor.send(TARGETS[type_id])
    actor.assert_last("filing.evidence_status")


async def finish_filing(actor: Actor) -> str:
    await actor.tap_key("filing.button.done")
    await actor.send(DESCRIPTION)
    actor.assert_last("filing.review")
    return await submit(actor)


def files_received(messages: list[FakeMessage]) -> Counter[str]:
    return Counter(m.file.file_unique_id for m in messages if m.file is not None)


async def test_an_operator_opens_every_kind_of_evidence_once(sim: Simulator) -> None:
    """Photos in an album, a video, a document, a forward and a text record: the card lists
    each with kind, size and time; opening the evidence re-sends every file exactly once
    (photos and videos together as an album, the document on its own) and quotes the
    forward with its author and the text record in full."""
    user = sim.user(1001, "Lin", language_code="en")
    await start_filing(user, "other")
    await user.send_album(
        [{"data": b"front-photo", "file_name": "evidence.png"}, {"data": b"second-photo"}]
    )
    await user.send_video(data=b"v" * 5000, file_name="call.mp4")
    await user.send_document(data=b"%PDF receipt", file_name="receipt.pdf")
    await user.forward("Scammer", "Pay 500 now or lose your account")
    await user.send("He called me at 9pm from +86 138 0000 0000")
    number = await finish_filing(user)
    complaint = await stored(sim, number)
    assert len(complaint.evidence) == 6

    op = await operator(sim)
    await open_card(op, number)
    card = op.last.text
    assert "call.mp4" in card
    assert "receipt.pdf" in card
    assert "Scammer" in card
    assert "4 KB" in card  # the video's size (5000 bytes)
    mark = op.mark()
    await op.tap(data=f"o:evidence:{number}")
    got = op.since(mark)
    op.assert_got("exhibit.evidence", since=mark)
    wanted = Counter(e.file_unique_id for e in complaint.evidence if e.file_unique_id)
    assert files_received(got) == wanted  # every file once, nothing else
    album = [m for m in got if m.media_group_id is not None]
    assert [m.kind for m in album] == ["photo", "photo", "video"]
    document = next(m for m in got if m.kind == "document")
    assert document.media_group_id is None
    assert "receipt.pdf" in document.caption
    forward = next(m for m in got if op.shows(m, "exhibit.forward"))
    assert "Scammer" in forward.text
    assert "Pay 500 now" in forward.text
    assert any("+86 138 0000 0000" in m.text for m in got if op.shows(m, "exhibit.text"))
    op.assert_last("exhibit.end")
    assert [e.action for e in await audit(sim, number)][-1] == "open_evidence"


async def test_evidence_goes_in_albums_of_at_most_ten(sim: Simulator) -> None:
    user = sim.user(1001, language_code="zh-CN")
    await start_filing(user, "other")
    await user.send_album(10)
    number = await finish_filing(user)
    op = await operator(sim)
    await open_card(op, number)
    mark = op.mark()
    await op.tap(data=f"o:evidence:{number}")
    got = op.since(mark)
    assert len({m.media_group_id for m in got if m.file is not None}) == 1
    assert sum(1 for m in got if m.file is not None) == 10


async def test_materials_as_the_rules_state_them_then_reviewed(sim: Simulator) -> None:
    """A text complaint withdrawn for misoperation needs identity, a screen recording and a
    PDF statement: the ID card as an image file and a photo (both sides), the recording as a
    video file, a .txt statement refused by name, then the PDF. The operator opens the
    materials (each received once, captioned with its material) and approves."""
    op = await operator(sim)
    user = sim.user(1001, "Lin", language_code="en")
    await start_filing(user, "payment")
    await user.send("I paid 500 yuan by mistake to the wrong shop")
    await user.send_photo(data=b"receipt")
    number = await finish_filing(user)
    await open_detail(user, number)
    await user.tap_key("follow.button.request")
    await user.tap_key("revoke.reason.misoperation")
    await user.tap_key("revoke.account.personal")
    asked = user.assert_last("revoke.ask_material")
    assert user.label("material.option", count=2, kinds=_kinds(user, "photo", "image_file")) in (
        asked.text
    )
    await user.send_document(data=b"front", file_name="id-front.png", mime_type="image/png")
    user.assert_last("revoke.material_more")
    await user.send_video(data=b"no")  # the first side picked "two pictures": no video now
    user.assert_last("revoke.material_refused")
    await user.send_photo(data=b"back", file_name="id-back.jpg")
    asked = user.assert_last("revoke.ask_material")
    assert user.label("material.screen_recording") in asked.text
    await user.send_document(data=b"rec" * 100, file_name="screen.mp4", mime_type="video/mp4")
    asked = user.assert_last("revoke.ask_material")
    assert user.label("material.statement") in asked.text
    await user.send_document(data=b"hello", file_name="notes.txt", mime_type="text/plain")
    refused = user.assert_last("revoke.material_refused")
    assert user.label("material.kind.pdf") in refused.text
    await user.send_document(data=b"%PDF-1.4 x", file_name="notes.pdf", mime_type="text/plain")
    user.assert_last("revoke.material_refused")  # a .pdf name is not enough: the MIME type too
    await user.send_document(data=b"%PDF-1.4 signed", file_name="statement.pdf")
    user.assert_last("revoke.confirm")
    await user.tap_key("revoke.button.send")
    user.assert_got("revoke.submitted")
    request = await runtime(sim.app).store.read(lambda tx: tx.open_request_for(number))
    assert request is not None
    assert [(m.kind, m.file_name) for m in request.materials] == [
        (EvidenceKind.DOCUMENT, "id-front.png"),
        (EvidenceKind.PHOTO, None),  # Telegram keeps no name for a photo
        (EvidenceKind.DOCUMENT, "screen.mp4"),
        (EvidenceKind.DOCUMENT, "statement.pdf"),
    ]

    await op.send("/requests")
    await op.tap(data=f"o:request:{request.number}")
    card = op.assert_last("operator.request_card")
    assert card.text.count(op.label("material.identity")) == 2
    mark = op.mark()
    await op.tap(data=f"o:materials:{request.number}")
    got = op.since(mark)
    assert files_received(got) == Counter(m.file_unique_id for m in request.materials)
    captions = [m.caption for m in got if m.file is not None]
    for key in ("material.identity", "material.screen_recording", "material.statement"):
        assert any(op.label(key) in c for c in captions), key
    await decide(op, request.number, "approve", "Identity checked against the complainant.")
    assert (await stored_request(sim, request.number)).status is RequestStatus.APPROVED
    assert (await stored(sim, number)).stage is Stage.REVOKED


async def test_other_reason_explanation_travels_with_the_request(sim: Simulator) -> None:
    op = await operator(sim)
    user = sim.user(1001, language_code="en")
    await start_filing(user, "payment")
    await user.send_photo(data=b"receipt")
    await user.send_photo(data=b"chat")
    number = await finish_filing(user)
    await open_detail(user, number)
    await user.tap_key("follow.button.request")
    await user.tap_key("revoke.reason.other")
    await user.send("x" * 301)
    user.assert_last("revoke.explanation_length")
    await user.send("The shop refunded me in person.")
    await user.tap_key("revoke.account.personal")
    await user.send_video(data=b"holding my ID card")
    user.assert_last("revoke.confirm")
    await user.tap_key("revoke.button.send")
    request = await runtime(sim.app).store.read(lambda tx: tx.open_request_for(number))
    assert request is not None
    assert next((m.kind, m.text) for m in request.materials) == (
        EvidenceKind.TEXT,
        "The shop refunded me in person.",
    )
    await op.send("/requests")
    await op.tap(data=f"o:request:{request.number}")
    mark = op.mark()
    await op.tap(data=f"o:materials:{request.number}")
    assert any("refunded me in person" in m.text for m in op.since(mark))


async def test_a_non_operator_cannot_open_evidence(sim: Simulator) -> None:
    user = sim.user(1001, language_code="en")
    await start_filing(user, "other")
    await user.send_photo(data=b"secret")
    number = await finish_filing(user)
    mallory = sim.user(1002, language_code="en")
    await mallory.send("/start")
    mark = mallory.mark()
    await mallory.tap_raw(mallory.last.message_id, f"o:evidence:{number}")
    mallory.assert_last("errors.not_operator")
    assert not any(m.file is not None for m in mallory.since(mark))
    refusals = await runtime(sim.app).store.read(lambda tx: tx.audit_log(None, 10))
    assert (refusals[0].actor, refusals[0].action) == (1002, "refused")


def _kinds(actor: Actor, *kinds: str) -> str:
    separator = actor.label("list.separator")
    return separator.join(actor.label(f"material.kind.{k}") for k in kinds)
