"""Translate out: an `Outcome` becomes Telegram messages, edits and callback answers.

Runs only after the update's transaction committed. Texts come from the message catalogs in
the user's language, sent with parse_mode HTML (parameters are escaped by the translator).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from telegram import Bot, CallbackQuery
from telegram.constants import ParseMode
from telegram.error import BadRequest

from bot.i18n import Markup, Translator, plain
from bot.transport import Keyboard, call, inline_keyboard
from flows import callback
from flows.replies import Button, Lines, Outcome, Ref, Reply


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
    ) -> Keyboard | None:
        """The inline keyboard's payload (no PTB objects: the payload is all that is sent)."""
        return inline_keyboard(
            [(plain(self.text(language, b.key, b.params)), callback.encode(b, nonce)) for b in row]
            for row in rows
        )

    async def deliver(
        self, bot: Bot, chat_id: int, outcome: Outcome, query: CallbackQuery | None = None
    ) -> None:
        """Answer the tap (always: Telegram shows a spinner until answered), then send replies.

        Every call goes through bot/transport.py: nothing here reads Telegram's answers.
        """
        lang = outcome.language
        if outcome.duplicate:  # handled before: its replies went out then; only stop a spinner
            if query is not None:
                answer = call(bot, "answerCallbackQuery", {"callback_query_id": query.id})
                await _ignore_bad_request(answer, "query is too old")
            return
        if query is not None:
            notice = outcome.notice
            text = plain(self.text(lang, notice.key, notice.params)) if notice else None
            await call(
                bot,
                "answerCallbackQuery",
                {
                    "callback_query_id": query.id,
                    "text": text,
                    "show_alert": bool(notice and notice.alert),
                },
            )
        edited = False
        for reply in outcome.replies:
            edited |= await self._send(bot, chat_id, reply, outcome, query)
        if query is not None and outcome.replies and not edited and query.message is not None:
            # The tapped prompt is answered: drop its buttons so the chat reads cleanly.
            remove = {"chat_id": chat_id, "message_id": query.message.message_id}
            await _ignore_unmodified(call(bot, "editMessageReplyMarkup", remove))

    async def _send(
        self, bot: Bot, chat_id: int, reply: Reply, outcome: Outcome, query: CallbackQuery | None
    ) -> bool:
        text = self.text(outcome.language, reply.key, reply.params)
        markup = self.keyboard(reply.buttons, outcome.language, outcome.nonce)
        html = {"parse_mode": ParseMode.HTML, "reply_markup": markup}
        if reply.edit and query is not None and query.message is not None:
            where = {"chat_id": chat_id, "message_id": query.message.message_id}
            await _ignore_unmodified(call(bot, "editMessageText", {**where, "text": text, **html}))
            return True
        if reply.photo is not None:
            photo = {"chat_id": chat_id, "photo": reply.photo, "caption": text or None}
            await call(bot, "sendPhoto", {**photo, **html})
            return False
        await call(bot, "sendMessage", {"chat_id": chat_id, "text": text, **html})
        return False


async def _ignore_unmodified(call: Any) -> None:
    await _ignore_bad_request(call, "not modified")


async def _ignore_bad_request(call: Any, reason: str) -> None:
    """Await a Bot API call, treating one expected BadRequest as success."""
    try:
        await call
    except BadRequest as exc:
        if reason not in exc.message.lower():
            raise
