"""Storage: the SQLite (aiosqlite) implementation of `flows.ports`, migrations, a memory twin."""
