"""The fake Telegram is strict where Telegram is strict, seen through a real PTB Bot."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden

from bot.clock import FakeClock
from bot.fake import FakeTelegram, render_transcript

ALICE = 1001
NOT_MODIFIED = (
    "Message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 1, 5, 9, 0, tzinfo=UTC))


@pytest.fixture
def world(clock: FakeClock) -> FakeTelegram:
    w = FakeTelegram(clock)
    w.add_user(ALICE, "alice", "en")
    return w


def keyboard(*pairs: tuple[str, str]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(label, callback_data=d)] for label, d in pairs]
    )


async def bad_request(coro: Any) -> str:
    with pytest.raises(BadRequest) as info:
        await coro
    return info.value.message


async def test_initialize_calls_get_me_and_the_bot_knows_its_name(bot: Bot) -> None:
    assert bot.username == "complaint_desk_bot"
    assert bot.id == 777000


async def test_sent_message_is_stored_with_its_keyboard_and_the_clock_date(
    bot: Bot, world: FakeTelegram, clock: FakeClock
) -> None:
    sent = await bot.send_message(ALICE, "Choose a type", reply_markup=keyboard(("Pay", "t:pay")))
    msg = world.last_bot_message(ALICE)
    assert msg is not None
    assert msg.message_id == sent.message_id == 1
    assert msg.text == "Choose a type"
    assert msg.labels == ["Pay"]
    assert msg.callback_data == ["t:pay"]
    assert sent.date == clock.now()
    assert sent.reply_markup is not None


async def test_user_and_bot_messages_share_the_chat_message_counter(
    bot: Bot, world: FakeTelegram
) -> None:
    world.user_text(ALICE, "/start")
    sent = await bot.send_message(ALICE, "hi")
    assert sent.message_id == 2
    assert [m.from_bot for m in world.messages(ALICE)] == [False, True]


async def test_text_over_4096_rendered_characters_is_too_long(bot: Bot) -> None:
    assert await bad_request(bot.send_message(ALICE, "x" * 4097)) == "Message is too long"
    # HTML tags do not count: 4096 visible characters are fine
    await bot.send_message(ALICE, "<b>" + "x" * 4096 + "</b>", parse_mode=ParseMode.HTML)


async def test_empty_text_is_refused(bot: Bot) -> None:
    assert await bad_request(bot.send_message(ALICE, "")) == "Message text is empty"
    assert "text is empty" in await bad_request(
        bot.send_message(ALICE, "<b> </b>", parse_mode=ParseMode.HTML)
    )


async def test_caption_over_1024_is_too_long(bot: Bot) -> None:
    result = await bad_request(bot.send_photo(ALICE, b"img", caption="c" * 1025))
    assert result == "Message caption is too long"


@pytest.mark.parametrize("data", ["x" * 65, "", "数" * 22])
async def test_callback_data_over_64_bytes_or_empty_is_invalid(bot: Bot, data: str) -> None:
    result = await bad_request(bot.send_message(ALICE, "pick", reply_markup=keyboard(("A", data))))
    assert result == "Button_data_invalid"


async def test_64_bytes_of_callback_data_is_accepted(bot: Bot, world: FakeTelegram) -> None:
    """Exactly 64 bytes is within the limit: the message is sent with its button intact."""
    sent = await bot.send_message(ALICE, "pick", reply_markup=keyboard(("A", "数" * 21 + "x")))
    assert isinstance(sent.reply_markup, InlineKeyboardMarkup)
    assert sent.reply_markup.inline_keyboard[0][0].callback_data == "数" * 21 + "x"
    assert [call.ok for call in world.calls("sendMessage")] == [True]


@pytest.mark.parametrize(
    "text", ["<b>bold", "<foo>x</foo>", "a < b", "Tom & Jerry", "</b>", "<b><i>x</b></i>"]
)
async def test_bad_html_cannot_be_parsed(bot: Bot, text: str) -> None:
    result = await bad_request(bot.send_message(ALICE, text, parse_mode=ParseMode.HTML))
    assert result.startswith("Can't parse entities: ")


async def test_good_html_is_rendered_without_tags(bot: Bot, world: FakeTelegram) -> None:
    await bot.send_message(
        ALICE,
        '<b>#12</b> &lt;ok&gt; &amp; <a href="https://x.y">link</a> <tg-spoiler>s</tg-spoiler>',
        parse_mode=ParseMode.HTML,
    )
    assert world.bot_messages(ALICE)[-1].text == "#12 <ok> & link s"


async def test_edit_changes_text_and_identical_edit_is_not_modified(
    bot: Bot, world: FakeTelegram
) -> None:
    sent = await bot.send_message(ALICE, "one", reply_markup=keyboard(("A", "a")))
    await bot.edit_message_text("two", ALICE, sent.message_id, reply_markup=keyboard(("A", "a")))
    msg = world.message(ALICE, sent.message_id)
    assert msg is not None
    assert msg.text == "two"
    assert msg.edited
    result = await bad_request(
        bot.edit_message_text("two", ALICE, sent.message_id, reply_markup=keyboard(("A", "a")))
    )
    assert result == NOT_MODIFIED


async def test_editing_text_without_markup_removes_the_keyboard(
    bot: Bot, world: FakeTelegram
) -> None:
    sent = await bot.send_message(ALICE, "one", reply_markup=keyboard(("A", "a")))
    await bot.edit_message_text("one", ALICE, sent.message_id)
    msg = world.message(ALICE, sent.message_id)
    assert msg is not None
    assert msg.buttons == []


async def test_edit_reply_markup_and_caption(bot: Bot, world: FakeTelegram) -> None:
    sent = await bot.send_message(ALICE, "one", reply_markup=keyboard(("A", "a")))
    await bot.edit_message_reply_markup(ALICE, sent.message_id, reply_markup=None)
    assert await bad_request(bot.edit_message_reply_markup(ALICE, sent.message_id)) == NOT_MODIFIED
    photo = await bot.send_photo(ALICE, b"img", caption="old")
    await bot.edit_message_caption(ALICE, photo.message_id, caption="new")
    msg = world.message(ALICE, photo.message_id)
    assert msg is not None
    assert msg.caption == "new"
    result = await bad_request(bot.edit_message_text("x", ALICE, photo.message_id))
    assert result == "There is no text in the message to edit"


async def test_editing_or_deleting_a_missing_message_is_not_found(bot: Bot) -> None:
    assert await bad_request(bot.edit_message_text("x", ALICE, 99)) == "Message to edit not found"
    assert await bad_request(bot.delete_message(ALICE, 99)) == "Message to delete not found"


async def test_delete_marks_deleted_and_second_delete_fails(bot: Bot, world: FakeTelegram) -> None:
    sent = await bot.send_message(ALICE, "bye")
    assert await bot.delete_message(ALICE, sent.message_id)
    assert world.bot_messages(ALICE) == []
    assert world.messages(ALICE)[0].deleted
    assert await bad_request(bot.delete_message(ALICE, sent.message_id)) == (
        "Message to delete not found"
    )
    assert "(deleted)" in render_transcript(world, ALICE)


async def test_message_older_than_48_hours_cannot_be_deleted(
    bot: Bot, world: FakeTelegram, clock: FakeClock
) -> None:
    sent = await bot.send_message(ALICE, "old")
    clock.advance(timedelta(hours=49))
    result = await bad_request(bot.delete_message(ALICE, sent.message_id))
    assert result == "Message can't be deleted for everyone"


async def test_callback_query_can_be_answered_once(bot: Bot, world: FakeTelegram) -> None:
    await bot.send_message(ALICE, "pick", reply_markup=keyboard(("Yes", "y"), ("No", "n")))
    query_id = world.user_tap(ALICE, label="No")["callback_query"]["id"]
    assert world.unanswered_callbacks() == [query_id]
    await bot.answer_callback_query(query_id, text="ok", show_alert=True)
    answer = world.callback_answer(query_id)
    assert answer is not None
    assert answer.text == "ok"
    assert answer.show_alert
    assert world.unanswered_callbacks() == []
    again = await bad_request(bot.answer_callback_query(query_id))
    assert again.startswith("Query is too old and response timeout expired")
    unknown = await bad_request(bot.answer_callback_query("nope"))
    assert unknown.startswith("Query is too old")


async def test_tap_finds_buttons_by_label_or_data_and_reports_what_exists(
    bot: Bot, world: FakeTelegram
) -> None:
    sent = await bot.send_message(ALICE, "pick", reply_markup=keyboard(("Yes", "y"), ("No", "n")))
    update = world.user_tap(ALICE, data="y")
    assert update["callback_query"]["message"]["message_id"] == sent.message_id
    assert update["callback_query"]["message"]["from"]["is_bot"] is True
    with pytest.raises(LookupError, match=r"available: \[Yes\] data='y', \[No\] data='n'"):
        world.user_tap(ALICE, label="Maybe")


async def test_blocked_user_gives_forbidden(bot: Bot, world: FakeTelegram) -> None:
    world.block(ALICE)
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await bot.send_message(ALICE, "hello?")
    world.block(ALICE, blocked=False)
    await bot.send_message(ALICE, "hello again")


async def test_unknown_chat_is_not_found(bot: Bot) -> None:
    assert await bad_request(bot.send_message(4242, "hi")) == "Chat not found"


async def test_get_chat_and_commands_and_webhook(bot: Bot) -> None:
    chat = await bot.get_chat(ALICE)
    assert chat.first_name == "alice"
    await bot.set_my_commands([("start", "Start"), ("revoke", "Revoke")], language_code="en")
    commands = await bot.get_my_commands(language_code="en")
    assert [c.command for c in commands] == ["start", "revoke"]
    assert await bot.get_my_commands() == ()
    assert await bot.delete_webhook()
    assert (await bot.get_webhook_info()).url == ""
    await bot.send_chat_action(ALICE, "typing")


async def test_user_photo_has_three_sizes_and_same_bytes_share_unique_id(
    world: FakeTelegram,
) -> None:
    first = world.user_photo(ALICE, data=b"pixels", file_name="a.jpg")["message"]["photo"]
    second = world.user_photo(ALICE, data=b"pixels")["message"]["photo"]
    other = world.user_photo(ALICE, data=b"other")["message"]["photo"]
    assert len(first) == 3
    assert first[-1]["width"] > first[0]["width"]
    assert first[-1]["file_unique_id"] == second[-1]["file_unique_id"]
    assert first[-1]["file_id"] != second[-1]["file_id"]
    assert other[-1]["file_unique_id"] != first[-1]["file_unique_id"]


async def test_user_text_command_gets_a_bot_command_entity(world: FakeTelegram) -> None:
    message = world.user_text(ALICE, "/revoke 12")["message"]
    assert message["entities"] == [{"type": "bot_command", "offset": 0, "length": 7}]
    assert "entities" not in world.user_text(ALICE, "hello")["message"]


async def test_forward_sticker_location_and_documents_are_shaped_like_telegram(
    world: FakeTelegram,
) -> None:
    fwd = world.user_forward(ALICE, "Bob", "pay me")["message"]
    assert fwd["forward_origin"]["type"] == "hidden_user"
    assert fwd["forward_origin"]["sender_user_name"] == "Bob"
    assert "sticker" in world.user_sticker(ALICE)["message"]
    assert "location" in world.user_location(ALICE)["message"]
    doc = world.user_document(ALICE, data=b"%PDF", size=25 * 1024 * 1024)["message"]["document"]
    assert doc["mime_type"] == "application/pdf"
    assert doc["file_size"] == 25 * 1024 * 1024
    video = world.user_video(ALICE, data=b"mp4", caption="look")["message"]
    assert video["video"]["mime_type"] == "video/mp4"
    assert video["caption"] == "look"


async def test_listeners_see_sent_edited_and_deleted_bot_messages(
    bot: Bot, world: FakeTelegram
) -> None:
    seen: list[tuple[str, int, int]] = []
    world.subscribe(lambda event, chat, msg: seen.append((event, chat, msg.message_id)))
    sent = await bot.send_message(ALICE, "one")
    await bot.edit_message_text("two", ALICE, sent.message_id)
    await bot.delete_message(ALICE, sent.message_id)
    assert seen == [("sent", ALICE, 1), ("edited", ALICE, 1), ("deleted", ALICE, 1)]


async def test_call_log_records_successes_and_failures(bot: Bot, world: FakeTelegram) -> None:
    await bot.send_message(ALICE, "hi")
    await bad_request(bot.send_message(ALICE, ""))
    calls = world.calls("sendMessage")
    assert [(c.ok, c.error_code) for c in calls] == [(True, None), (False, 400)]
    assert calls[1].description == "Bad Request: message text is empty"


async def test_transcript_shows_messages_buttons_media_and_taps(
    bot: Bot, world: FakeTelegram
) -> None:
    world.user_text(ALICE, "/start")
    await bot.send_message(ALICE, "Choose a type", reply_markup=keyboard(("Friend report", "f")))
    world.user_tap(ALICE, label="Friend report")
    world.user_photo(ALICE, data=b"x", file_name="file.jpg", size=1_258_291, caption="proof")
    text = render_transcript(world, ALICE)
    assert text.splitlines() == [
        "[1] alice: /start",
        "[2] bot: Choose a type",
        "    [Friend report]",
        "     alice tapped [Friend report] on [2]",
        "[3] alice: [photo file.jpg 1.2 MB] proof",
    ]
    assert render_transcript(world, ALICE, last=1) == "[3] alice: [photo file.jpg 1.2 MB] proof"
