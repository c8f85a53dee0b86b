"""`complaint-desk bench`: the desk against reference PTB bots, interleaved in one process.

Only ratios count (the machine is shared and noisy). Every arm runs whole conversations
through the same fake Telegram and the same per-user update processor, with the fake clock
moving; rounds interleave the arms, and each ratio is the median of per-round ratios with
their range (bot/bench/rounds.py). The arms (bot/bench/arms.py):

- A     a no-op PTB handler receiving the desk's 10 updates (parsing and dispatch only);
- B     a handler that replies once (plain text) to each of those 10 updates;
- D     ConversationHandler + PicklePersistence, 3 text updates, one plain send each;
- D10   ConversationHandler + PicklePersistence receiving the desk's 10 updates and making
        the desk's exact Bot API calls (recorded from the desk at start-up), through PTB's
        usual typed methods; nothing durable (PicklePersistence flushes every 60 s);
- D10s  D10 plus one SQLite commit per update (plain sqlite3 in the loop, WAL: the cheapest
        durable write there is, no thread hop);
- desk  whole filing conversations through the real Application, SQLite, each update
        committed before its reply.

`--scale N` loads N stored users first (bot/bench/scale.py); `--broadcast N` measures a
broadcast to N recipients on the fake with Telegram's limits on (bot/bench/broadcast.py).
"""

from __future__ import annotations

import argparse
import asyncio

from bot.bench import broadcast, scale
from bot.bench.arms import SETUP_CALLS
from bot.bench.rounds import Table, report, run

__all__ = ["SETUP_CALLS", "Table", "main", "report", "run"]


def main(args: argparse.Namespace) -> int:
    if args.broadcast:
        print(broadcast.report(asyncio.run(broadcast.run(args.broadcast))))
    elif args.scale:
        results = asyncio.run(scale.run(args.scale, args.rounds, args.users, args.concurrency))
        print(scale.report(results, args.concurrency))
    else:
        print(report(asyncio.run(run(args.rounds, args.users, args.concurrency))))
    return 0
