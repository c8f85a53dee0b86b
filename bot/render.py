"""Translate out: an `Outcome` becomes Telegram messages, edits and callback answers.

Runs only after the update's transaction committed. Texts come from the message catalogs in
the user's language, sent with parse_mode HTML (parameters are escaped by the translator).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from functools import partial
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
from telegram.error import BadRequest, Forbidden

from bot.clock import Clock, SystemClock
from bot.i18n import Markup, Translator, plain
from bot.sending import Persist
from flows import callback
from flows.replies import Attachment, Button, Lines, Outcome, Ref, Reply

_MEDIA = {"photo": InputMediaPhoto, "video": InputMediaVideo, "document": InputMediaDocument}

log = logging.getLogger("complaint_desk.render")


class Renderer:
    def __init__(self, translator: Translator, clock: Clock | None = None) -> None:
        self.tr = translator
        self.persist = Persist(clock or SystemClock())

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
        """Answer the tap (once: Telegram shows a spinner until answered), then send replies.

        Every call is retried until it is done (bot/sending.py). One reply that still fails does
        not stop the ones after it; the first such failure is raised at the end, so the error
        handler's apology comes after everything that could be delivered.
        """
        lang = outcome.language
        if outcome.duplicate:  # handled before: its replies went out then; only stop a spinner
            if query is not None:
                await self._answer(query, None, False)
            return
        if query is not None:
            notice = outcome.notice
            text = plain(self.text(lang, notice.key, notice.params)) if notice else None
            await self._answer(query, text, bool(notice and notice.alert))
        edited = False
        failed: Exception | None = None
        for batch in _albums(outcome.replies):
            try:
                if len(batch) > 1:
                    await self._album(bot, chat_id, batch, lang)
                else:
                    edited |= await self._send(bot, chat_id, batch[0], outcome, query)
            except Forbidden:
                raise  # they blocked the bot: nothing after this can arrive either
            except Exception as error:
                log.error("reply %s to %s failed: %s", batch[0].key, chat_id, type(error).__name__)
                failed = failed or error
        if query is not None and outcome.replies and not edited and query.message is not None:
            # The tapped prompt is answered: drop its buttons so the chat reads cleanly.
            await self.persist(
                lambda: _ignore_unmodified(query.edit_message_reply_markup(reply_markup=None)),
                "drop buttons",
            )
        if failed is not None:
            raise failed

    async def _answer(self, query: CallbackQuery, text: str | None, alert: bool) -> None:
        # A retry after an answer that did arrive gets "query is too old": it is answered.
        await self.persist(
            lambda: _ignore_bad_request(
                query.answer(text=text, show_alert=alert), "query is too old"
            ),
            "answerCallbackQuery",
        )

    async def _send(
        self, bot: Bot, chat_id: int, reply: Reply, outcome: Outcome, query: CallbackQuery | None
    ) -> bool:
        text = self.text(outcome.language, reply.key, reply.params)
        markup = self.keyboard(reply.buttons, outcome.language, outcome.nonce)
        if reply.edit and query is not None and query.message is not None:
            await self.persist(
                lambda: _ignore_unmodified(
                    query.edit_message_text(text, parse_mode=ParseMode.HTML, reply_markup=markup)
                ),
                "editMessageText",
            )
            return True
        file = reply.file or (Attachment("photo", reply.photo) if reply.photo else None)
        if file is not None:
            options: dict[str, Any] = {"caption": text or None, "parse_mode": ParseMode.HTML}
            options["reply_markup"] = markup
            if file.kind == "photo":
                call = partial(bot.send_photo, chat_id, file.file_id, **options)
            elif file.kind == "video":
                call = partial(bot.send_video, chat_id, file.file_id, **options)
            else:
                call = partial(bot.send_document, chat_id, file.file_id, **options)
            await self.persist(call, file.kind)
            return False
        send = partial(bot.send_message, chat_id, text, reply_markup=markup)
        await self.persist(partial(send, parse_mode=ParseMode.HTML), "sendMessage")
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
        await self.persist(partial(bot.send_media_group, chat_id, media), "sendMediaGroup")


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
