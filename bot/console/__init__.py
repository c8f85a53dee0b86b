"""The console: chat with the real bot in a terminal, over the same fake Telegram the tests use.

    complaint-desk console [--db PATH] [--user ID] [--lang CODE] [--start-time ISO] [--json]
    complaint-desk run        # without TELEGRAM_BOT_TOKEN: the console with its defaults

It is the test simulator (`bot.simulator.Simulator`) with a person at the keyboard: the real
Application (production wiring, `bot.app.build_application`) talks to a `FakeTelegram` world on
a `FakeClock`. Input is read one line at a time (`lines.py`), so a file can be piped in as a
script; the console exits 0 at the end of the input or on `:quit`. Every line is one action of
the current user; `chat.HELP` (`:help`) lists the commands and `chat.py` carries them out.
What is printed, as text or as JSON lines, is `view.py`'s.

Operator: user id 9001 (`OPERATOR_ID`) is always added to the operators (`:as 9001`), on top of
any OPERATOR_IDS from the environment.

Database: `--db PATH` if given; otherwise COMPLAINT_DESK_DB when it is set (the settings'
`database`, if it was set explicitly rather than defaulted); otherwise a fresh temporary file,
removed at exit, so a scripted session always starts from nothing. `make run` (`complaint-desk
run` without a token) passes the bot's own database (default `data/complaint-desk.sqlite3`), so
drafts and complaints made there persist. The console's clock restarts at the real time in each
session while `:advance` moved the previous one forward: stored times can then lie ahead.

Clock: a FakeClock starting at `--start-time` (an aware ISO 8601 time; a naive one is read as
Asia/Shanghai) or else at the real current time; after that it moves only with `:advance`.

Logging goes to stderr at WARNING; errors the bot raised are reported there too; the bot's own
error handler apologises to the user as in production, and the console carries on.
"""

from bot.console.chat import HELP, OPERATOR_ID, Console, ConsoleError, parse_duration
from bot.console.main import run_console

__all__ = ["HELP", "OPERATOR_ID", "Console", "ConsoleError", "parse_duration", "run_console"]
