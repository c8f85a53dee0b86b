"""FakeRequest routes PTB's HTTP calls into the world: envelopes, faults, uploads, downloads."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from telegram import Bot
from telegram.error import BadRequest, InvalidToken, NetworkError, RetryAfter, TimedOut

from bot.clock import FakeClock
from bot.fake import FakeTelegram

ALICE = 1001
BOB = 1002


@pytest.fixture
def world() -> FakeTelegram:
    w = FakeTelegram(FakeClock(datetime(2026, 1, 5, 9, 0, tzinfo=UTC)))
    w.add_user(ALICE, "alice")
    w.add_user(BOB, "bob")
    return w


async def test_429_fault_raises_retry_after_with_its_delay(
    bot: Bot, world: FakeTelegram, monkeypatch: pytest.MonkeyPatch
) -> None:
    # PTB 22 warns on RetryAfter.retry_after unless opted in to timedelta values
    monkeypatch.setenv("PTB_TIMEDELTA", "1")
    world.fault("sendMessage", code=429, retry_after=3)
    with pytest.raises(RetryAfter) as info:
        await bot.send_message(ALICE, "hi")
    assert info.value.retry_after == timedelta(seconds=3)
    await bot.send_message(ALICE, "hi")  # a single fault by default
    assert [c.error_code for c in world.calls("sendMessage")] == [429, None]


async def test_fault_repeats_n_times_then_succeeds(bot: Bot, world: FakeTelegram) -> None:
    world.fault("sendMessage", code=502, times=2)
    for _ in range(2):
        with pytest.raises(NetworkError, match="Bad Gateway"):
            await bot.send_message(ALICE, "hi")
    await bot.send_message(ALICE, "hi")
    assert len(world.bot_messages(ALICE)) == 1


async def test_fault_can_target_one_chat(bot: Bot, world: FakeTelegram) -> None:
    world.fault("sendMessage", code=400, description="Bad Request: boom", chat_id=BOB)
    await bot.send_message(ALICE, "fine")
    with pytest.raises(BadRequest, match="Boom"):
        await bot.send_message(BOB, "fails")


async def test_timeout_fault_raises_timed_out_and_may_still_deliver(
    bot: Bot, world: FakeTelegram
) -> None:
    world.fault("sendMessage", timeout=True)
    with pytest.raises(TimedOut):
        await bot.send_message(ALICE, "lost")
    assert world.bot_messages(ALICE) == []
    world.fault("sendMessage", timeout=True, delivered=True)
    with pytest.raises(TimedOut):
        await bot.send_message(ALICE, "sent but answer lost")
    assert [m.text for m in world.bot_messages(ALICE)] == ["sent but answer lost"]


async def test_unknown_method_is_a_404_and_is_recorded(bot: Bot, world: FakeTelegram) -> None:
    with pytest.raises(InvalidToken, match="Not Found: method sendPoll"):
        await bot.send_poll(ALICE, "q?", ["a", "b"])
    assert world.unknown_methods() == ["sendPoll"]


async def test_uploaded_photo_round_trips_through_get_file_and_download(
    bot: Bot, world: FakeTelegram
) -> None:
    sent = await bot.send_photo(ALICE, b"\x89PNG-bytes", caption="evidence")
    assert sent.caption == "evidence"
    assert len(sent.photo) == 3
    file = await bot.get_file(sent.photo[-1].file_id)
    assert file.file_size == len(b"\x89PNG-bytes")
    assert bytes(await file.download_as_bytearray()) == b"\x89PNG-bytes"


async def test_user_document_bytes_can_be_downloaded_by_the_bot(
    bot: Bot, world: FakeTelegram
) -> None:
    doc = world.user_document(ALICE, data=b"%PDF-1.7", file_name="chat.pdf")
    file = await bot.get_file(doc["message"]["document"]["file_id"])
    assert bytes(await file.download_as_bytearray()) == b"%PDF-1.7"


async def test_get_file_over_20_mb_is_too_big(bot: Bot, world: FakeTelegram) -> None:
    video = world.user_video(ALICE, size=20 * 1024 * 1024 + 1)
    with pytest.raises(BadRequest, match="File is too big"):
        await bot.get_file(video["message"]["video"]["file_id"])
    exact = world.user_video(ALICE, size=20 * 1024 * 1024)
    await bot.get_file(exact["message"]["video"]["file_id"])


async def test_resending_a_users_photo_by_file_id_keeps_its_ids(
    bot: Bot, world: FakeTelegram
) -> None:
    photo = world.user_photo(ALICE, data=b"pixels")["message"]["photo"]
    sent = await bot.send_photo(BOB, photo[-1]["file_id"])
    assert sent.photo[-1].file_unique_id == photo[-1]["file_unique_id"]
    with pytest.raises(BadRequest, match="Wrong file identifier"):
        await bot.send_photo(BOB, "no-such-file")
    with pytest.raises(BadRequest, match="Can't use file of type photo as document"):
        await bot.send_document(BOB, photo[-1]["file_id"])


async def test_document_and_video_uploads_keep_names(bot: Bot, world: FakeTelegram) -> None:
    doc = await bot.send_document(ALICE, b"data", filename="report.pdf")
    assert doc.document is not None
    assert doc.document.file_name == "report.pdf"
    video = await bot.send_video(ALICE, b"mp4", filename="clip.mp4")
    assert video.video is not None
    assert video.video.file_size == 3


async def test_media_group_is_sent_as_one_album(bot: Bot, world: FakeTelegram) -> None:
    from telegram import InputMediaPhoto

    sent = await bot.send_media_group(
        ALICE, [InputMediaPhoto(b"one", caption="1"), InputMediaPhoto(b"two")]
    )
    assert len(sent) == 2
    assert sent[0].media_group_id == sent[1].media_group_id


def test_handle_decodes_json_text_parameters_as_an_http_form_would(world: FakeTelegram) -> None:
    status, body = world.handle(
        "sendMessage",
        {
            "chat_id": str(ALICE),
            "text": "pick",
            "reply_markup": '{"inline_keyboard": [[{"text": "A", "callback_data": "a"}]]}',
        },
    )
    assert status == 200
    assert body["ok"] is True
    assert body["result"]["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "a"
    status, body = world.handle("sendmessage", {"chat_id": ALICE, "text": "case-insensitive"})
    assert status == 200
