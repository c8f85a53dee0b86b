"""`python -m bot` is `complaint-desk`."""

import sys

from bot.cli import main

sys.exit(main())
