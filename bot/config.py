"""Configuration: one typed object read from the environment and validated at start-up."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from storage.factory import database_setting


class Settings(BaseSettings):
    """Every setting, from environment variables (names in capitals) or keyword arguments.

    TELEGRAM_BOT_TOKEN   the bot's token; without it `complaint-desk run` opens the console
    COMPLAINT_DESK_DB    the SQLite file (default: data/complaint-desk.sqlite3), or a
                         postgresql://... DSN for the PostgreSQL store
    COMPLAINT_DESK_CATALOG  a rules catalog replacing the shipped one
    OPERATOR_IDS         comma-separated Telegram user ids of the operators
    COMPLAINT_DESK_LOCALES  a folder of message catalogs replacing bot/locales
    MIGRATE_ON_START     apply pending migrations on start (default true); false: run
                         `complaint-desk migrate` first
    DEFAULT_LANGUAGE     one of the catalog's languages, for people whose Telegram language
                         the catalog does not list (default: the catalog's first language)
    TELEGRAM_API_BASE_URL / TELEGRAM_API_FILE_URL  the Bot API's address (a self-hosted server)
    WEBHOOK_*            `complaint-desk serve` (bot/serve.py)

    A `.env` file in the working directory is read too (the environment wins); every setting
    with its default is listed in bot/deploy/env.example.
    """

    model_config = SettingsConfigDict(
        extra="ignore", populate_by_name=True, env_file=".env", env_file_encoding="utf-8"
    )

    telegram_bot_token: SecretStr | None = None
    database: Path | str = Field(
        default=Path("data/complaint-desk.sqlite3"),
        validation_alias=AliasChoices("COMPLAINT_DESK_DB", "database"),
    )
    catalog: Path | None = Field(
        default=None, validation_alias=AliasChoices("COMPLAINT_DESK_CATALOG", "catalog")
    )
    locales: Path | None = Field(
        default=None, validation_alias=AliasChoices("COMPLAINT_DESK_LOCALES", "locales")
    )
    operator_ids: Annotated[frozenset[int], NoDecode] = frozenset()  # "1,2" (not JSON)
    default_language: str = ""  # checked against the catalog's languages at start-up
    log_level: str = "INFO"
    # Apply pending migrations whenever the store opens (`make run` stays one command). False:
    # `run` and `serve` refuse to start on a database behind the code (exit 2) until
    # `complaint-desk migrate` is run, e.g. as its own deployment step.
    migrate_on_start: bool = True
    # Personal data of a complaint closed (result given or withdrawn) longer ago than this is
    # erased by the sweeper; number, type, stage and times stay (flows/privacy.py).
    retention_days: int = Field(default=180, ge=1)
    # The longest the deadline sweeper sleeps. It wakes exactly at the next stored deadline anyway;
    # this bounds how late it notices deadlines created while it slept (all are >= ~1 h ahead).
    sweep_seconds: float = Field(default=300.0, gt=0)
    # Broadcasts (bot/pacer.py, bot/broadcaster.py): messages a second overall, kept under
    # Telegram's ~30/s so replies keep headroom; recipients claimed per batch.
    broadcast_rate: float = Field(default=25.0, gt=0, le=30)
    broadcast_batch: int = Field(default=20, ge=1, le=100)

    # The Bot API's address: PTB appends the token (or replaces `{token}`).
    telegram_api_base_url: str = "https://api.telegram.org/bot"
    telegram_api_file_url: str = "https://api.telegram.org/file/bot"
    # `complaint-desk serve`: where Telegram posts (WEBHOOK_URL, the public https base; the
    # secret path is added), the secret it sends back in a header, what the server binds to.
    webhook_url: str | None = None
    webhook_secret: SecretStr | None = None
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = Field(default=8080, ge=0, le=65535)
    webhook_max_connections: int = Field(default=40, ge=1, le=100)
    allowed_updates: Annotated[tuple[str, ...], NoDecode] = ("message", "callback_query")
    # Polling (`complaint-desk run`): the long poll's length in seconds.
    poll_timeout: int = Field(default=30, ge=0, le=50)

    @field_validator("database", mode="before")
    @classmethod
    def _database(cls, value: object) -> object:
        return database_setting(value) if isinstance(value, str | Path) else value

    @field_validator("operator_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        if isinstance(value, str):
            return frozenset(int(part) for part in value.replace(" ", "").split(",") if part)
        if isinstance(value, int):
            return frozenset({value})
        return value

    @field_validator("allowed_updates", mode="before")
    @classmethod
    def _split_names(cls, value: object) -> object:
        if isinstance(value, str) and value.lstrip().startswith("["):
            return tuple(json.loads(value))
        if isinstance(value, str):
            return tuple(part for part in value.replace(" ", "").split(",") if part)
        return value
