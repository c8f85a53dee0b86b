"""Everything a person filed is reachable: /mycomplaints pages through all of it (open first),
`/mycomplaints NUMBER` and the deep link `/start c_NUMBER` open one (another person's number gets
the answer a missing one gets), and the menu, welcome, success message, /help and the unknown
command reply all lead there. The bot's descriptions are published per language."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.app import runtime
from bot.simulator import Actor, Simulator
from flows.catalog import load_catalog
from flows.complaints import target_key, with_deadlines
from flows.records import ComplaintRecord, Stage
from tests.flows.conversations import file, file_to_review, open_detail

CATALOG = load_catalog()
LANGUAGES = pytest.mark.parametrize("language", ["en", "zh-CN"])
LABEL_MAX = 45


async def seed(sim: Simulator, user_id: int, count: int, revoked: int = 0) -> list[str]:
    """`count` complaints of `user_id`, one a minute apart, oldest first; the `revoked` newest
    are withdrawn (closed). Returns their numbers, oldest first."""
    now = sim.clock.now()
    numbers = [f"261123-AAAA-{i:04d}" for i in range(count)]

    def insert(tx: object) -> None:
        for i, number in enumerate(numbers):
            target = f"wxid_target_{i:02d}_long_name"
            record = ComplaintRecord(
                number=number,
                user_id=user_id,
                type_id=CATALOG.types[i % len(CATALOG.types)].id,
                target=target,
                target_key=target_key(target),
                description="Seeded for the paging test.",
                language="en",
                submitted_at=now - timedelta(minutes=count - i),
            )
            record = with_deadlines(record, CATALOG)
            if i >= count - revoked:
                record = record.model_copy(update={"stage": Stage.REVOKED, "revoked_at": now})
            tx.insert_complaint(record)  # type: ignore[attr-defined]

    await runtime(sim.app).store.transact(insert)
    return numbers


def item_buttons(user: Actor) -> list[tuple[str, str]]:
    """(label, callback data) of the complaint buttons on the newest list page."""
    buttons = [b for row in user.last.buttons for b in row]
    return [(b.label, b.data) for b in buttons if b.data is not None and ":open:" in b.data]


@LANGUAGES
async def test_25_complaints_page_through_open_first_to_the_oldest(
    sim: Simulator, language: str
) -> None:
    user = sim.user(1001, language_code=language)
    numbers = await seed(sim, 1001, 25, revoked=3)
    await user.send("/mycomplaints")
    user.assert_last("follow.list")
    seen: list[str] = []
    pages = 0
    while True:
        pages += 1
        for label, data in item_buttons(user):
            assert len(label) <= LABEL_MAX, label
            number = data.rsplit(":", 1)[-1]
            assert number in label
            seen.append(number)
        if user.label("follow.button.next") not in user.last.labels:
            break
        await user.tap_key("follow.button.next")
        user.assert_last("follow.list")
    assert pages == 4
    open_ones = numbers[:22][::-1]  # newest first
    assert seen == open_ones + numbers[22:][::-1]
    oldest = numbers[0]
    assert oldest in seen
    await user.send("/mycomplaints")
    for _ in range(2):
        await user.tap_key("follow.button.next")
    await user.tap(data=f"c:open:{oldest}")
    detail = user.assert_last("follow.detail")
    assert oldest in detail.text
    assert user.label("follow.button.revoke") in detail.labels  # still in its window: reachable


@LANGUAGES
async def test_a_complaint_opens_by_number_and_by_deep_link(sim: Simulator, language: str) -> None:
    alice = sim.user(1001, language_code=language)
    mallory = sim.user(1002, language_code=language)
    numbers = await seed(sim, 1001, 12)
    await alice.send(f"/mycomplaints {numbers[0].lower()}")
    assert numbers[0] in alice.assert_last("follow.detail").text
    await alice.send(f"/start c_{numbers[1]}")
    assert numbers[1] in alice.assert_last("follow.detail").text
    await mallory.send(f"/start c_{numbers[1]}")
    refused = mallory.assert_last("follow.no_such_number")
    await mallory.send("/start c_261123-ZZZZ-ZZZZ")
    missing = mallory.assert_last("follow.no_such_number")
    assert refused.text.replace(numbers[1], "N") == missing.text.replace("261123-ZZZZ-ZZZZ", "N")
    await mallory.send(f"/mycomplaints {numbers[1]}")
    assert mallory.last.text == refused.text


async def test_a_deep_link_in_the_middle_of_a_draft_opens_the_complaint_and_keeps_the_draft(
    sim: Simulator,
) -> None:
    user = sim.user(1001, language_code="en")
    number = await file(user)
    await file_to_review(user, "payment")
    await user.send(f"/start c_{number}")
    user.assert_last("follow.detail")
    await user.send("/start")
    user.assert_last("filing.resume_offer")


@LANGUAGES
async def test_my_complaints_is_one_tap_from_everywhere(sim: Simulator, language: str) -> None:
    user = sim.user(1001, language_code=language)
    mine = user.label("menu.button.mycomplaints")
    await user.send("/start")
    assert "/help" in user.last.text
    assert mine in user.last.labels
    number = await file(user)
    submitted = user.assert_got("filing.submitted")
    assert "/mycomplaints" in submitted.text
    assert mine in user.last.labels  # the menu after the success message
    await user.tap(label=mine)
    page = user.assert_last("follow.list")
    assert number in page.text
    await user.send("/help")
    help_page = user.assert_last("help.body")
    assert "/mycomplaints" in help_page.text
    assert user.label("menu.button.guide") in help_page.labels
    await user.tap_key("menu.button.guide")
    user.assert_last("guide.index")
    await user.send("/nonsense")
    unknown = user.assert_last("errors.unknown_command")
    assert "/mycomplaints" in unknown.text
    assert "/help" in unknown.text
    await open_detail(user, number)


async def test_descriptions_are_published_in_both_languages(sim: Simulator) -> None:
    """The default language's (zh-CN) is the one without a language code: Telegram shows it
    to everyone whose language has no text of its own; English is under "en"."""
    world = sim.world
    for kind, limit in (("description", 512), ("short_description", 120)):
        en = world.descriptions[(kind, "en")]
        zh = world.descriptions[(kind, "")]
        assert 0 < len(en) <= limit
        assert 0 < len(zh) <= limit
        assert "official" in en
        assert "官方" in zh
