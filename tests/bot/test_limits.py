"""Every text within Telegram's limits, whatever the catalog allows (issue 10.4): long texts are
split at lines into valid HTML parts, captions and pop-ups shortened with an ellipsis; a card at
the catalog's extremes opens for the operator and the author in both languages."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot import limits
from bot.app import runtime
from bot.i18n import plain
from bot.simulator import Simulator
from flows.catalog import load_catalog
from flows.complaints import target_key, with_deadlines
from flows.records import ComplaintRecord, EvidenceItem, EvidenceKind
from tests.flows.conversations import open_detail, operator

CATALOG = load_catalog()
TAGS = re.compile(r"<(/?)([a-z]+)[^<>]*>")

line = st.text(
    alphabet=st.characters(exclude_categories=["Cs"], exclude_characters="\n<>&"),
    max_size=300,
)


@st.composite
def html_texts(draw: st.DrawFn) -> str:
    """Telegram HTML as the desk renders it: lines, some bold, some quoted blocks of lines."""
    parts: list[str] = []
    for _ in range(draw(st.integers(1, 40))):
        kind = draw(st.sampled_from(["plain", "bold", "quote"]))
        if kind == "plain":
            parts.append(html.escape(draw(line)))
        elif kind == "bold":
            parts.append(f"<b>{html.escape(draw(line))}</b>")
        else:
            body = "\n".join(html.escape(t) for t in draw(st.lists(line, min_size=1, max_size=5)))
            parts.append(f"<blockquote>{body}</blockquote>")
    return "\n".join(parts)


def balanced(text: str) -> bool:
    depth = 0
    for closing, _name in TAGS.findall(text):
        depth += -1 if closing else 1
        if depth < 0:
            return False
    return depth == 0


@settings(max_examples=150, deadline=None)
@given(html_texts(), st.sampled_from([limits.MESSAGE, 200, 50]))
def test_split_parts_fit_and_stay_valid_html(text: str, limit: int) -> None:
    parts = limits.split(text, limit)
    assert parts
    for part in parts:
        assert limits.visible_length(part) <= limit
        assert balanced(part)
    if limits.visible_length(text) <= limit:
        assert parts == [text]
    # nothing is lost but line breaks between parts
    squeeze = re.compile(r"\s+")
    assert squeeze.sub("", "".join(plain(p) for p in parts)) == squeeze.sub("", plain(text))


@settings(max_examples=150, deadline=None)
@given(html_texts(), st.sampled_from([limits.CAPTION, limits.ALERT]))
def test_captions_and_popups_are_shortened_with_an_ellipsis(text: str, limit: int) -> None:
    short = limits.shorten(text, limit)
    assert limits.visible_length(short) <= limit
    if limits.visible_length(text) > limit:
        assert plain(short).endswith(limits.ELLIPSIS)
    else:
        assert short == text
    assert len(limits.clip_plain(plain(text), limit).encode("utf-16-le")) // 2 <= limit


async def extreme_payment(sim: Simulator, user_id: int) -> str:
    """A payment dispute at the catalog's extremes: 20 documents with 80-character file names,
    a 2,000-character description, a 32-character transaction number, 1,000-character texts."""
    ctype = CATALOG.type("payment")
    assert ctype is not None
    now = sim.clock.now() - timedelta(minutes=5)
    items = tuple(
        EvidenceItem(
            kind=EvidenceKind.DOCUMENT,
            file_id=f"file-{i}",
            file_unique_id=f"unique-{i}",
            size=20 * 1024 * 1024,
            mime_type="application/pdf",
            file_name=("收据<&>" * 20)[:76] + f"{i:02d}.pdf",
            received_at=now,
        )
        for i in range(ctype.evidence.max_count)
    )
    target = "4" * 32
    description = ("转账记录显示 <b>&amp;</b> 重复扣款。" * 200)[: CATALOG.limits.description_max]
    record = ComplaintRecord(
        number="261123-EXTR-EME1",
        user_id=user_id,
        type_id="payment",
        target=target,
        target_key=target_key(target),
        description=description,
        evidence=items,
        language="zh-CN",
        submitted_at=now,
    )
    await runtime(sim.app).store.transact(
        lambda tx: tx.insert_complaint(with_deadlines(record, CATALOG))
    )
    return record.number


@pytest.mark.parametrize("language", ["en", "zh-CN"])
async def test_an_extreme_payment_dispute_opens_for_the_operator_and_the_author(
    sim: Simulator, language: str
) -> None:
    user = sim.user(1001, language_code=language)
    op = await operator(sim)
    number = await extreme_payment(sim, 1001)
    mark = op.mark()
    await op.send(f"/open {number}")  # the fake Telegram refuses a message over 4,096
    card = op.since(mark)
    assert op.shows(card[0], "operator.card") or card[0].text.startswith("🗂")
    assert len(card) >= 2, "this card is longer than one message: it comes in parts"
    assert card[-1].labels  # the card's buttons under its last part
    assert not any(m.labels for m in card[:-1])
    for message in op.messages:
        assert len(message.text) <= limits.MESSAGE
    await open_detail(user, number)
    for message in user.messages:
        assert len(message.text) <= limits.MESSAGE
