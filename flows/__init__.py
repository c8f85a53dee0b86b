"""The complaint desk's domain: pure, synchronous, free of I/O.

Nothing here imports telegram, aiosqlite, asyncio or reads the wall clock
(`tests/test_dependency_rule.py` enforces it). Time arrives as an argument.
"""
