"""Translate out: an `Outcome` becomes Telegram messages, edits and callback answers.

Runs only after the update's transaction committed. Texts come from the message catalogs in
the user's language, sent with parse_mode HTML (parameters are escaped by the translator).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from functools import partial
from typing import Any

from telegram import Bot, CallbackQuery, InputMediaDocument, InputMediaPhoto, InputMediaVideo
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden

from bot import limits
from bot.clock import Clock, SystemClock
from bot.i18n import Markup, Translator, plain
from bot.sending import Persist
from bot.transport import Keyboard, call, inline_keyboard
from flows import callback
from flows.replies import Attachment, Button, Lines, Outcome, Ref, Reply

_SEND = {"photo": "sendPhoto", "video": "sendVideo", "document": "sendDocument"}
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
    ) -> Keyboard | None:
        """The inline keyboard's payload (no PTB objects: the payload is all that is sent)."""
        return inline_keyboard(
            [(plain(self.text(language, b.key, b.params)), callback.encode(b, nonce)) for b in row]
            for row in rows
        )

    async def reply(
        self, bot: Bot, chat_id: int, outcome: Outcome, query: CallbackQuery | None = None
    ) -> None:
        """Answer the tap (once: Telegram shows a spinner until answered), then send replies.

        A tap costs two calls: the answer and the next question. The tapped prompt keeps its
        buttons (no third call to remove them): they carry the prompt's nonce, so a later tap
        on them gets the "older message" answer and changes nothing (flows/engine.py).

        Every call is retried until it is done (bot/sending.py). One reply that still fails does
        not stop the ones after it; the first such failure is raised at the end, so the error
        handler's apology comes after everything that could be delivered.
        """
        lang = outcome.language
        if outcome.duplicate and not outcome.replies and outcome.notice is None:
            # Handled before and its answer sent then: only stop a spinner. (A duplicate that
            # carries replies is a kept answer that may not have arrived: sent again below.)
            if query is not None:
                await self._answer(bot, query, None, False)
            return
        if query is not None:
            notice = outcome.notice
            shown = plain(self.text(lang, notice.key, notice.params)) if notice else None
            text = limits.clip_plain(shown, limits.ALERT) if shown else None
            await self._answer(bot, query, text, bool(notice and notice.alert))
        failed: Exception | None = None
        for batch in _albums(outcome.replies):
            try:
                if len(batch) > 1:
                    await self._album(bot, chat_id, batch, lang)
                else:
                    await self._send(bot, chat_id, batch[0], outcome, query)
            except Forbidden:
                raise  # they blocked the bot: nothing after this can arrive either
            except Exception as error:
                log.error("reply %s to %s failed: %s", batch[0].key, chat_id, type(error).__name__)
                failed = failed or error
        if failed is not None:
            raise failed

    async def _answer(self, bot: Bot, query: CallbackQuery, text: str | None, alert: bool) -> None:
        # A retry after an answer that did arrive gets "query is too old": it is answered.
        params = {"callback_query_id": query.id, "text": text, "show_alert": alert}
        await self.persist(
            lambda: _ignore_bad_request(
                call(bot, "answerCallbackQuery", params), "query is too old"
            ),
            "answerCallbackQuery",
        )

    async def _send(
        self, bot: Bot, chat_id: int, reply: Reply, outcome: Outcome, query: CallbackQuery | None
    ) -> None:
        text = self.text(outcome.language, reply.key, reply.params)
        markup = self.keyboard(reply.buttons, outcome.language, outcome.nonce)
        html = {"parse_mode": ParseMode.HTML, "reply_markup": markup}
        file = reply.file or (Attachment("photo", reply.photo) if reply.photo else None)
        if file is not None:
            caption = limits.shorten(text, limits.CAPTION) or None
            params = {"chat_id": chat_id, file.kind: file.file_id, "caption": caption, **html}
            await self.persist(partial(call, bot, _SEND[file.kind], params), file.kind)
            return
        # Longer than a message (limits.MESSAGE): in parts cut at lines, buttons under the last.
        parts = limits.split(text)
        message_id = query.message.message_id if query and query.message else None
        for number, part in enumerate(parts):
            extra = html if number == len(parts) - 1 else {"parse_mode": ParseMode.HTML}
            if reply.edit and message_id is not None and number == 0:
                edit = {"chat_id": chat_id, "message_id": message_id, "text": part, **extra}
                await self.persist(partial(_edit_text, bot, edit), "editMessageText")
                continue
            message = {"chat_id": chat_id, "text": part, **extra}
            await self.persist(partial(call, bot, "sendMessage", message), "sendMessage")

    async def _album(self, bot: Bot, chat_id: int, replies: list[Reply], language: str) -> None:
        # PTB's InputMedia objects here: Bot._post prepares a `media` list of them (parse mode
        # defaults), so this one call keeps them; its answer is still not parsed.
        media = [
            _MEDIA[r.file.kind](
                r.file.file_id,
                caption=limits.shorten(self.text(language, r.key, r.params), limits.CAPTION),
                parse_mode=ParseMode.HTML,
            )
            for r in replies
            if r.file is not None
        ]
        params = {"chat_id": chat_id, "media": media}
        await self.persist(partial(call, bot, "sendMediaGroup", params), "sendMediaGroup")


def _albums(replies: list[Reply]) -> list[list[Reply]]:
    """Replies in order; consecutive ones of one album (non-zero `album`) together."""
    out: list[list[Reply]] = []
    for reply in replies:
        if reply.album and out and out[-1][-1].album == reply.album:
            out[-1].append(reply)
        else:
            out.append([reply])
    return out


async def _edit_text(bot: Bot, params: dict[str, Any]) -> None:
    await _ignore_unmodified(call(bot, "editMessageText", params))


async def _ignore_unmodified(request: Any) -> None:
    await _ignore_bad_request(request, "not modified")


async def _ignore_bad_request(request: Any, reason: str) -> None:
    """Await a Bot API call, treating one expected BadRequest as success."""
    try:
        await request
    except BadRequest as exc:
        if reason not in exc.message.lower():
            raise
