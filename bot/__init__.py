"""Adapters and wiring: Telegram (python-telegram-bot), the fake Telegram, the simulator, the console."""
