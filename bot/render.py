"""Translate out: an `Outcome` becomes Telegram messages, edits and callback answers.

Runs only after the update's transaction committed. Texts come from the message catalogs in
the user's language, sent with parse_mode HTML (parameters are escaped by the translator).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from telegram import (
    Bot,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputMediaDocument,
    InputMediaPhoto,
    InputMediaVideo,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest

from bot.i18n import Markup, Translator, plain
from flows import callback
from flows.replies import Attachment, Button, Lines, Outcome, Ref, Reply

_MEDIA = {"photo": InputMediaPhoto, "video": InputMediaVideo, "document": InputMediaDocument}


class Renderer:
    def __init__(self, translator: Translator) -> None:
        self.tr = translator

    def text(self, language: str, key: str, params: Mapping[str, Any]) -> str:
        return self.tr.text(language, key, **self._params(language, params))

    def _params(self, language: str, params: Mapping[str, Any]) -> dict[str, Any]:
        return {name: self._param(language, value) for name, value in params.items()}

    def _param(self, language: str, value: Any) -> Any:
        if isinstance(value, Ref):
            return Markup(self.text(language, value.key, value.params))
        if isinstance(value, Lines):
            return Markup("\n".join(self._param(language, v) for v in value.items))
        if isinstance(value, tuple) and all(isinstance(v, Ref) for v in value):
            separator = self.tr.text(language, "list.separator")
            return Markup(separator.join(self._param(language, v) for v in value))
        return value

    def keyboard(
        self, rows: tuple[tuple[Button, ...], ...], language: str, nonce: int
    ) -> InlineKeyboardMarkup | None:
        if not rows:
            return None
        return InlineKeyboardMarkup(
            [
                [
                    InlineKeyboardButton(
                        plain(self.text(language, b.key, b.params)),
                        callback_data=callback.encode(b, nonce),
                    )
                    for b in row
                ]
                for row in rows
            ]
        )

    async def reply(
        self, bot: Bot, chat_id: int, outcome: Outcome, query: CallbackQuery | None = None
    ) -> None:
        """Answer the tap (always: Telegram shows a spinner until answered), then send replies."""
        lang = outcome.language
        if outcome.duplicate:  # handled before: its replies went out then; only stop a spinner
            if query is not None:
                await _ignore_bad_request(query.answer(), "query is too old")
            return
        if query is not None:
            notice = outcome.notice
            await query.answer(
                text=plain(self.text(lang, notice.key, notice.params)) if notice else None,
                show_alert=bool(notice and notice.alert),
            )
        edited = False
        for batch in _albums(outcome.replies):
            if len(batch) > 1:
                await self._album(bot, chat_id, batch, lang)
            else:
                edited |= await self._send(bot, chat_id, batch[0], outcome, query)
        if query is not None and outcome.replies and not edited and query.message is not None:
            # The tapped prompt is answered: drop its buttons so the chat reads cleanly.
            await _ignore_unmodified(query.edit_message_reply_markup(reply_markup=None))

    async def _send(
        self, bot: Bot, chat_id: int, reply: Reply, outcome: Outcome, query: CallbackQuery | None
    ) -> bool:
        text = self.text(outcome.language, reply.key, reply.params)
        markup = self.keyboard(reply.buttons, outcome.language, outcome.nonce)
        if reply.edit and query is not None and query.message is not None:
            await _ignore_unmodified(
                query.edit_message_text(text, parse_mode=ParseMode.HTML, reply_markup=markup)
            )
            return True
        file = reply.file or (Attachment("photo", reply.photo) if reply.photo else None)
        if file is not None:
            common: dict[str, Any] = {
                "caption": text or None,
                "parse_mode": ParseMode.HTML,
                "reply_markup": markup,
            }
            if file.kind == "photo":
                await bot.send_photo(chat_id, file.file_id, **common)
            elif file.kind == "video":
                await bot.send_video(chat_id, file.file_id, **common)
            else:
                await bot.send_document(chat_id, file.file_id, **common)
            return False
        await bot.send_message(chat_id, text, parse_mode=ParseMode.HTML, reply_markup=markup)
        return False

    async def _album(self, bot: Bot, chat_id: int, replies: list[Reply], language: str) -> None:
        media = [
            _MEDIA[r.file.kind](
                r.file.file_id,
                caption=self.text(language, r.key, r.params),
                parse_mode=ParseMode.HTML,
            )
            for r in replies
            if r.file is not None
        ]
        await bot.send_media_group(chat_id, media)


def _albums(replies: list[Reply]) -> list[list[Reply]]:
    """Replies in order; consecutive ones of one album (non-zero `album`) together."""
    out: list[list[Reply]] = []
    for reply in replies:
        if reply.album and out and out[-1][-1].album == reply.album:
            out[-1].append(reply)
        else:
            out.append([reply])
    return out


async def _ignore_unmodified(call: Any) -> None:
    await _ignore_bad_request(call, "not modified")


async def _ignore_bad_request(call: Any, reason: str) -> None:
    """Await a Bot API call, treating one expected BadRequest as success."""
    try:
        await call
    except BadRequest as exc:
        if reason not in exc.message.lower():
            raise
