"""Storage: the implementations of `flows.ports.Tx`, their migrations and their row mapping.

- `storage.sql` (with `requests`, `broadcasts`, `sqlbase`): the port's SQL, written once in
  the subset SQLite and PostgreSQL share; `storage.rows`: one column list per table and the
  mapping derived from it.
- `storage.sqlite`: the embedded default (one aiosqlite connection, one thread hop per unit
  of work).

There is no in-memory twin. The former `storage/memory.py` and `memory_ledger.py` (552 lines)
served only tests and could drift from the SQL they imitated; they were retired. The
contract suite (tests/storage) and every test that needs a store run on a real SQLite file
in a temporary directory (the `store` fixture in tests/conftest.py, parametrized per
backend), which is fast enough and tests the migrations and SQL the product runs.
"""
