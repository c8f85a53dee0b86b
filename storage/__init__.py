"""Storage: the SQLite (aiosqlite) implementation of `flows.ports`, migrations, an in-memory twin."""
