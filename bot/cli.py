"""`complaint-desk`: run the bot, open the console, draw the flows, check a catalog file."""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import datetime
from pathlib import Path

from bot import logs
from bot.config import Settings
from flows.catalog import CatalogError, load_catalog
from storage.factory import database_setting


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="complaint-desk", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("run", help="the real bot with TELEGRAM_BOT_TOKEN, else the console")
    sub.add_parser("serve", help="the bot behind a webhook (WEBHOOK_URL, WEBHOOK_SECRET)")
    sub.add_parser("migrate", help="apply the database migrations")
    backup = sub.add_parser("backup", help="copy the SQLite database while the bot runs")
    backup.add_argument("path", type=Path, help="the new file")
    console = sub.add_parser("console", help="chat with the bot in this terminal")
    console.add_argument(
        "--db",
        type=database_setting,
        help="SQLite file or postgresql://... (default: a fresh temporary SQLite file)",
    )
    console.add_argument("--user", type=int, default=1001, help="your Telegram user id")
    console.add_argument(
        "--lang", help="a language of the catalog (default: DEFAULT_LANGUAGE, else its first)"
    )
    console.add_argument(
        "--start-time", type=datetime.fromisoformat, help="ISO 8601 (naive = Asia/Shanghai)"
    )
    console.add_argument("--json", action="store_true", help="one JSON object per line")
    diagram = sub.add_parser("diagram", help="print each flow as Mermaid stateDiagram-v2")
    diagram.add_argument("flow", nargs="?", help="one flow (default: all)")
    diagram.add_argument(
        "--coverage",
        type=Path,
        metavar="FILE",
        help="draw what a test run walked (FILE from `pytest --desk-coverage=FILE`)",
    )
    bench = sub.add_parser("bench", help="the desk against reference PTB bots, interleaved")
    bench.add_argument("--rounds", type=int, default=7, help="interleaved rounds")
    bench.add_argument("--users", type=int, default=40, help="conversations per arm and round")
    bench.add_argument("--concurrency", type=int, default=1, help="users in flight")
    bench.add_argument(
        "--scale", type=int, nargs="+", metavar="N", help="with N users stored (e.g. 1000 100000)"
    )
    bench.add_argument("--broadcast", type=int, metavar="N", help="a broadcast to N users")
    catalog = sub.add_parser("catalog", help="rules catalog tools")
    catalog_sub = catalog.add_subparsers(dest="catalog_command", required=True)
    check = catalog_sub.add_parser("check", help="validate a catalog file")
    check.add_argument("file", type=Path)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "diagram" and args.coverage is not None:
        from bot.convo.coverage import draw

        return draw(args.coverage, args.flow)
    if args.command == "diagram":
        from bot.diagram import FLOWS, mermaid

        for name in [args.flow] if args.flow else list(FLOWS):
            print(mermaid(name))
        return 0
    if args.command == "bench":
        from bot import bench

        return bench.main(args)
    if args.command == "catalog":
        try:
            catalog = load_catalog(args.file)
        except CatalogError as exc:
            print(exc, file=sys.stderr)
            return 1
        print(f"{args.file}: OK ({len(catalog.types)} complaint types)")
        return 0
    try:
        settings = Settings()
        catalog = load_catalog(settings.catalog)  # an invalid catalog stops start-up
        catalog.default_language(settings.default_language)  # so does a language it lacks
        if args.command == "console" and args.lang not in (None, *catalog.languages):
            raise ValueError(f"--lang must be one of {', '.join(catalog.codes)}")
    except (CatalogError, ValueError) as exc:
        print(f"complaint-desk: {exc}", file=sys.stderr)
        return 2
    token = settings.telegram_bot_token
    logs.configure(settings.log_level, [token.get_secret_value()] if token else [])
    if args.command in ("migrate", "backup"):
        from bot import maintenance

        if args.command == "migrate":
            return asyncio.run(maintenance.migrate(settings))
        return maintenance.backup(settings, args.path)
    if args.command in ("run", "serve") and not settings.migrate_on_start:
        from bot import maintenance  # the database must be migrated already (exit 2 if not)

        if code := asyncio.run(maintenance.check_migrated(settings)):
            return code
    if args.command == "serve":
        return _run_telegram(settings, webhook=True)
    if args.command == "run" and settings.telegram_bot_token is not None:
        return _run_telegram(settings)
    from bot.console import run_console

    if args.command == "run":  # no token: the console, on the same SQLite file the bot uses
        return asyncio.run(run_console(settings, sys.stdin, sys.stdout, db=settings.database))
    return asyncio.run(
        run_console(
            settings,
            sys.stdin,
            sys.stdout,
            db=args.db,
            user_id=args.user,
            language=args.lang,
            start=args.start_time,
            as_json=args.json,
        )
    )


def _run_telegram(settings: Settings, *, webhook: bool = False) -> int:
    """Polling (bot/polling.py) or the webhook (bot/serve.py): confirmed after commit."""
    from bot.app import build_application
    from bot.clock import SystemClock
    from bot.polling import poll
    from bot.serve import serve
    from storage.writer_lock import DatabaseInUse

    try:
        if webhook:
            return serve(settings)
        asyncio.run(poll(build_application(settings, clock=SystemClock()), settings))
    except DatabaseInUse as exc:  # another bot runs on this SQLite file
        print(f"complaint-desk: {exc}", file=sys.stderr)
        return 1
    except ValueError as exc:  # serve without its settings
        print(f"complaint-desk: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
