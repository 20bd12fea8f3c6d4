"""The layers of docs/ARCHITECTURE.md, enforced on every import (module level or inside a function):
the engine never reaches up into the UI, the commands or Typer; the TUI sees the engine only through
episodes and events; live play and the engine never import a command."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "subgoal"
UPPER = ("subgoal.tui", "subgoal.commands", "subgoal.cli", "subgoal.live")
UI = ("typer", "click", "textual")
HEAVY = ("torch", "transformers", "accelerate", "scienceworld", "openai")

# What each layer may not import: a module name or the prefix of one.
FORBIDDEN = {
    "engine": (*UPPER, *UI),
    "checkpoints": (*UPPER, *UI),
    "live.py": ("subgoal.commands", "subgoal.cli", *UI),
    "tui": ("subgoal.commands", "subgoal.cli", "subgoal.live", *HEAVY),
}
# Of the package, the TUI may import only these: it draws episodes and events, never builds an agent.
TUI_MAY_IMPORT = (
    "subgoal.tui",
    "subgoal.engine.episode",
    "subgoal.engine.events",
    "subgoal.errors",
    "subgoal.console",
    "subgoal.plots",
    "subgoal.checkpoints",  # reading a checkpoint's training log (the curves screen)
    "subgoal.engine.rules.layer",  # the rules' names, levels and summaries (the why pane)
    "subgoal.engine.rules.registry",
)


def imports_of(path: Path, source: str | None = None) -> list[tuple[int, str]]:
    """(line, module) for every import in a file, relative ones resolved against the package;
    `from subgoal.engine import agents` is the module subgoal.engine.agents."""
    tree = ast.parse(source if source is not None else path.read_text(), filename=str(path))
    package = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts[:-1])
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1] + ([base] if base else []))
            if (PACKAGE.parent / base.replace(".", "/")).is_dir():  # names in a package are modules
                found += [(node.lineno, f"{base}.{alias.name}") for alias in node.names]
            else:
                found.append((node.lineno, base))
    return found


def _matches(module: str, rules: tuple[str, ...]) -> bool:
    return any(module == rule or module.startswith(rule + ".") for rule in rules)


def _breaks(layer: str, module: str) -> bool:
    if _matches(module, FORBIDDEN[layer]):
        return True
    return layer == "tui" and _matches(module, ("subgoal",)) and not _matches(module, TUI_MAY_IMPORT)


def _files(layer: str) -> list[Path]:
    where = PACKAGE / layer
    return [where] if where.is_file() else sorted(where.rglob("*.py"))


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_each_layer_imports_only_what_it_may(layer: str) -> None:
    files = _files(layer)
    assert files and all(f.exists() for f in files), layer
    broken = [
        f"{path.relative_to(PACKAGE.parent)}:{line} imports {module}"
        for path in files
        for line, module in imports_of(path)
        if _breaks(layer, module)
    ]
    assert not broken, "\n".join(broken)


def test_the_rules_catch_what_they_forbid() -> None:
    """A rule that matches nothing would pass forever: the checker sees both import forms, in
    functions too, and each rule forbids what the document says."""
    probe = "def f():\n    from ..engine import agents\n    import torch\n    from subgoal.engine.episode import Episode\n"
    seen = [module for _, module in imports_of(PACKAGE / "tui" / "probe.py", probe)]
    assert seen == ["subgoal.engine.agents", "torch", "subgoal.engine.episode"], seen
    seen = {module for _, module in imports_of(PACKAGE / "tui" / "state.py")}
    assert "subgoal.engine.episode" in seen or "subgoal.engine.events" in seen
    for module in (
        "subgoal.engine.agents",
        "subgoal.engine.agent_kinds",
        "subgoal.engine.env",
        "subgoal.live",
    ):
        assert _breaks("tui", module), module
    assert _breaks("tui", "torch") and _breaks("engine", "textual.app") and _breaks("engine", "subgoal.cli")
    assert _breaks("live.py", "subgoal.commands.play")
    assert not _breaks("tui", "subgoal.engine.episode") and not _breaks("live.py", "subgoal.engine.agents")
