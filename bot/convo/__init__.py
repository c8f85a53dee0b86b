"""Conversation scripts: `*.convo.yaml` files run by pytest on the simulator.

- `schema.json`: the format (JSON Schema), also what every script is checked against;
- `model`: parse a script (includes expanded, lines kept); `runner`: run it; `expect`: match;
- `plugin`: the pytest plugin (entry point `pytest11`), `coverage`: flow coverage of a run;
- `recorder`: the console's `:record FILE` / `:stop`.
"""
