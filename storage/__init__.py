"""Storage: the SQLite (aiosqlite) implementation of `flows.ports`, its migrations, and an in-memory twin."""
