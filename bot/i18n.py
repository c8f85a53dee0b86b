"""The message catalogs: every user-facing string, by key, in every language the desk speaks.

Layout: `bot/locales/<folder>/*.po`, one folder per language of the rules catalog's `languages`
(the code with `_` for `-`: `zh_CN` -> "zh-CN", `en` -> "en"; COMPLAINT_DESK_LOCALES replaces it),
several GNU gettext files per language, one per area (`core.po`, `filing.po`, `guide.po`, ...).
In each entry `msgid` is the KEY (e.g. "guide.why.body") and `msgstr` the text. The files are
read directly with babel's `read_po` (no compile step); all files of one language are merged,
and a key defined twice (in two files, or twice in one file) is an error naming both places.
An entry with an empty `msgstr` counts as untranslated, i.e. missing.

Texts are Telegram HTML (`<b>`, `<i>`, `<code>`, `<a href>`) with Python brace placeholders
`{name}`. The template is trusted; every parameter value is HTML-escaped when rendered, so user
input can never inject markup. A parameter that is a mapping keyed by language (a catalog text,
`{"zh-CN": "...", "en": "..."}`, or a `flows.catalog.Localized`) is first resolved to the
language being rendered. Numbers are passed through unchanged so format specs such as
`{count:d}` keep working.

Plural forms (gettext's `msgid_plural` / `msgstr[N]`, read by babel): the form is chosen by the
parameter `n` (else `count`) with the file's `Plural-Forms` header (en: `nplurals=2;
plural=(n != 1);`, zh-CN: `nplurals=1; plural=0;`), so "1 photo" / "2 photos" and "1 张图片" /
"2 张图片" are one key.

`pattern()` / `matches()` recognise a bot message by its key. Telegram delivers a message's text
to clients (and to our tests and the simulator) WITHOUT the HTML tags and with entities decoded,
so the pattern is built from what the user sees: tags are stripped from the template, entities
(`&lt;`, `&amp;`...) unescaped, literal parts regex-escaped, and each `{param}` becomes a lazy
named group `(?P<param>.*?)` (a parameter used twice must repeat the same value). Matching is
DOTALL, full-match, and tolerant of leading/trailing whitespace (Telegram trims it).
"""

from __future__ import annotations

import gettext
import html
import re
import string
from collections.abc import Callable, Iterable, Mapping
from numbers import Number
from pathlib import Path

from babel.messages.pofile import read_po

from flows.catalog import Localized

DEFAULT_LOCALES = Path(__file__).with_name("locales")

_TAG = re.compile(r"<[^<>]*>")
_MSGID = re.compile(r'^msgid\s+"(.+)"\s*$', re.MULTILINE)
_FORMATTER = string.Formatter()


class I18nError(Exception):
    """The message catalogs are invalid (duplicate key, bad placeholder, unreadable file)."""


class MissingMessage(KeyError):
    """A key (or one of its parameters) is missing for a language."""

    def __init__(self, key: str, language: str, param: str | None = None) -> None:
        super().__init__(key, language, param)
        self.key = key
        self.language = language
        self.param = param

    def __str__(self) -> str:
        if self.param is not None:
            return (
                f"message {self.key!r} ({self.language}) needs parameter {self.param!r}, "
                "which was not given"
            )
        return f"no message {self.key!r} in language {self.language!r}"


def _language_of(folder: str) -> str:
    return folder.replace("_", "-")


def _folder_of(language: str) -> str:
    return language.replace("-", "_")


def _fields(template: str, where: str) -> list[tuple[str, str | None, str | None]]:
    """Split a template into (literal, field name, format spec); validate the placeholders."""
    try:
        parts = list(_FORMATTER.parse(template))
    except ValueError as exc:
        raise I18nError(f"{where}: bad placeholder syntax: {exc}") from None
    out: list[tuple[str, str | None, str | None]] = []
    for literal, name, spec, _conversion in parts:
        if name is not None and not name.isidentifier():
            raise I18nError(f"{where}: placeholder {{{name}}} must be a plain {{name}}")
        out.append((literal, name, spec))
    return out


PluralRule = Callable[[int], int]
Text = str | tuple[str, ...]  # one text, or the plural forms of one


def _read_file(path: Path) -> tuple[dict[str, Text], PluralRule | None]:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise I18nError(f"{path}: cannot read: {exc.strerror}") from None
    seen: set[str] = set()
    for match in _MSGID.finditer(raw.decode("utf-8", errors="replace")):
        key = match.group(1)
        if key in seen:
            raise I18nError(f"duplicate key {key!r} in {path} (defined twice in the same file)")
        seen.add(key)
    try:
        catalog = read_po(raw.splitlines(keepends=True), charset="utf-8", abort_invalid=True)
    except Exception as exc:  # babel raises its own PoFileError and plain ValueErrors
        raise I18nError(f"{path}: not a valid .po file: {exc}") from None
    messages: dict[str, Text] = {}
    for message in catalog:
        if not message.id:
            continue  # the header
        if not isinstance(message.id, str):  # plural forms: the key is the singular msgid
            strings = message.string
            forms = tuple(strings) if isinstance(strings, tuple | list) else ()
            if forms and all(forms):
                for form in forms:
                    _fields(form, f"{path}: {message.id[0]}")
                messages[message.id[0]] = forms
            continue
        if isinstance(message.string, str) and message.string:
            _fields(message.string, f"{path}: {message.id}")
            messages[message.id] = message.string
    rule: PluralRule | None = None
    if "Plural-Forms" in raw.decode("utf-8", errors="replace"):
        rule = gettext.c2py(catalog.plural_expr)
    return messages, rule


def plain(text: str) -> str:
    """What Telegram shows for HTML text: tags dropped, entities unescaped (labels, pop-ups)."""
    return html.unescape(_TAG.sub("", text))


class Markup(str):
    """Text that is already Telegram HTML (a rendered message): inserted without escaping."""


class Translator:
    """All message catalogs, loaded once at start-up. Immutable after `load`."""

    def __init__(
        self,
        messages: Mapping[str, Mapping[str, Text]],
        plural_rules: Mapping[str, PluralRule] | None = None,
    ) -> None:
        self.languages: tuple[str, ...] = tuple(sorted(messages))
        self._messages = {lang: dict(messages[lang]) for lang in self.languages}
        self._plural_rules = dict(plural_rules or {})
        self._patterns: dict[tuple[str, str, int], re.Pattern[str]] = {}

    @classmethod
    def load(cls, directory: Path | None = None) -> Translator:
        """Read every `<directory>/<language>/*.po` (default: `bot/locales`)."""
        root = directory or DEFAULT_LOCALES
        if not root.is_dir():
            raise I18nError(f"{root}: no such locales directory")
        messages: dict[str, dict[str, Text]] = {}
        rules: dict[str, PluralRule] = {}
        for folder in sorted(p for p in root.iterdir() if p.is_dir()):
            files = sorted(folder.glob("*.po"))
            if not files:
                continue
            merged: dict[str, Text] = {}
            origin: dict[str, Path] = {}
            for path in files:
                texts, rule = _read_file(path)
                for key, text in texts.items():
                    if key in merged:
                        raise I18nError(f"duplicate key {key!r} in {origin[key]} and {path}")
                    merged[key] = text
                    origin[key] = path
                    if isinstance(text, tuple) and rule is None:
                        raise I18nError(f"{path}: {key} has plural forms but no Plural-Forms")
                if rule is not None:
                    rules[_language_of(folder.name)] = rule
            messages[_language_of(folder.name)] = merged
        if not messages:
            raise I18nError(f"{root}: no message catalogs (*.po) found")
        return cls(messages, rules)

    def require(self, languages: Iterable[str]) -> None:
        """Fail unless every one of `languages` (the catalog's) has its message catalogs."""
        missing = [language for language in languages if language not in self._messages]
        if missing:
            raise I18nError(
                f"no message catalogs for {', '.join(missing)} "
                f"(a folder of *.po files per language, e.g. locales/{_folder_of(missing[0])}/)"
            )

    def keys(self, language: str) -> frozenset[str]:
        return frozenset(self._messages.get(language, {}))

    def has(self, language: str, key: str) -> bool:
        return key in self._messages.get(language, {})

    def forms(self, language: str, key: str) -> tuple[str, ...]:
        """Every form of a message: one, or its plural forms (in the file's order)."""
        try:
            text = self._messages[language][key]
        except KeyError:
            raise MissingMessage(key, language) from None
        return text if isinstance(text, tuple) else (text,)

    def template(self, language: str, key: str, n: object = None) -> str:
        """The raw template (Telegram HTML with `{param}` placeholders); for a message with
        plural forms, the form for the count `n` (the last form when `n` is not a number)."""
        forms = self.forms(language, key)
        if len(forms) == 1:
            return forms[0]
        if not isinstance(n, int) or isinstance(n, bool):
            return forms[-1]
        return forms[min(self._plural_rules[language](abs(n)), len(forms) - 1)]

    def text(self, language: str, key: str, **params: object) -> str:
        """Render `key` in `language`: Telegram HTML, every parameter value HTML-escaped.
        A message with plural forms takes the form for the parameter `n` (else `count`)."""
        template = self.template(language, key, params.get("n", params.get("count")))
        values = {name: self._value(language, value) for name, value in params.items()}
        try:
            return template.format_map(values)
        except KeyError as exc:
            raise MissingMessage(key, language, str(exc.args[0])) from None

    @staticmethod
    def _value(language: str, value: object) -> object:
        if isinstance(value, Markup):
            return value
        if isinstance(value, Localized):
            value = value.get(language)
        elif isinstance(value, Mapping):
            value = value.get(language, "")
        if isinstance(value, Number) and not isinstance(value, bool):
            return value  # cannot contain markup; keeps `{n:d}` working
        return html.escape(str(value))

    def pattern(self, language: str, key: str, form: int = -1) -> re.Pattern[str]:
        """A regex matching any rendering of `key` as the user sees it (tags stripped); for a
        message with plural forms, of one form (default: the last)."""
        forms = self.forms(language, key)
        form = form % len(forms)
        cached = self._patterns.get((language, key, form))
        if cached is not None:
            return cached
        visible = _TAG.sub("", forms[form])
        regex = [r"\s*"]
        named: set[str] = set()
        for literal, name, _spec in _fields(visible, f"{language}: {key}"):
            regex.append(re.escape(html.unescape(literal)))
            if name is None:
                continue
            if name in named:
                regex.append(f"(?P={name})")
            else:
                named.add(name)
                regex.append(f"(?P<{name}>.*?)")
        regex.append(r"\s*")
        compiled = re.compile("".join(regex), re.DOTALL)
        self._patterns[(language, key, form)] = compiled
        return compiled

    def fullmatch(self, language: str, key: str, text: str) -> re.Match[str] | None:
        """`text` (as Telegram delivers it, without tags) matched against every form of `key`:
        the match of the first form that renders it, with its parameters as named groups."""
        for form in range(len(self.forms(language, key))):
            found = self.pattern(language, key, form).fullmatch(text)
            if found is not None:
                return found
        return None

    def matches(self, language: str, key: str, text: str) -> bool:
        """Whether `text` (as Telegram delivers it, without tags) is a rendering of `key`."""
        return self.fullmatch(language, key, text) is not None

    def missing(self) -> dict[str, set[str]]:
        """Language -> keys some other language has but this one lacks (only non-empty sets)."""
        every = set().union(*(set(m) for m in self._messages.values()))
        out: dict[str, set[str]] = {}
        for language, messages in self._messages.items():
            absent = every - set(messages)
            if absent:
                out[language] = absent
        return out
