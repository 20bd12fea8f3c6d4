"""`subgoal --help` must answer at once: it imports no Textual, torch, transformers or openai
(DESIGN.md). Checked in a fresh interpreter, by looking at sys.modules after the help is printed."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("textual", "torch", "transformers", "openai", "scienceworld", "py4j")

PROBE = f"""
import json, sys
from subgoal.cli import main
sys.argv = ["subgoal", *json.loads(sys.argv[1])]
try:
    main()
except SystemExit:
    pass
heavy = sorted({{name.split(".")[0] for name in sys.modules}} & set({list(HEAVY)!r}))
print("HEAVY=" + json.dumps(heavy))
"""


def loaded_after(*args: str) -> list[str]:
    result = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(list(args))], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    line = next(x for x in result.stdout.splitlines() if x.startswith("HEAVY="))
    return json.loads(line.removeprefix("HEAVY="))


def test_help_imports_nothing_heavy() -> None:
    assert loaded_after("--help") == []


def test_play_help_imports_nothing_heavy() -> None:
    assert loaded_after("play", "--help") == []
