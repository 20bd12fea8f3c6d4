"""The house plan's numbers (issue 14): largest functions, lines of cli.py, import circles, and in how
many places each command-line option is declared. Run by hand: `python benchmarks/house_plan.py`.

Import circles are counted twice: over module-level imports (those that can break a start-up) and
over every import, those inside functions too (a circle of knowledge, if not of loading); a
package's `__init__` counts as the package.
"""

from __future__ import annotations

import ast
import re
import sys
from collections import Counter, defaultdict
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "subgoal"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def largest_functions(paths: list[Path], top: int = 5, body: bool = False) -> list[tuple[int, str]]:
    """The `top` longest functions, in lines from `def` to the end, or with `body` from the first
    statement after the docstring (a command's option declarations are its signature, not its work)."""
    sizes = []
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                first = node.lineno
                if body:
                    statements = node.body
                    head = statements[0]
                    if (
                        len(statements) > 1
                        and isinstance(head, ast.Expr)
                        and isinstance(head.value, ast.Constant)
                    ):
                        statements = statements[1:]
                    first = statements[0].lineno
                sizes.append((node.end_lineno - first + 1, f"{module_name(path)}.{node.name}"))
    return sorted(sizes, reverse=True)[:top]


def module_imports(path: Path, modules: set[str], everywhere: bool = False) -> set[str]:
    """The package's modules `path` imports at module level (`everywhere`: inside functions too)."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree) if everywhere else tree.body:
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1] + ([base] if base else []))
            found |= {base} | {f"{base}.{a.name}" for a in node.names}
    return {m for m in found if m in modules and m != name}


def circles(paths: list[Path], everywhere: bool = False) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    modules = {module_name(p) for p in paths}
    graph = {module_name(p): module_imports(p, modules, everywhere) for p in paths}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    sys.setrecursionlimit(10_000)
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def option_places(paths: list[Path]) -> Counter[str]:
    """How many times each `--flag` is spelled in a typer.Option(...) declaration."""
    counts: Counter[str] = Counter()
    for path in paths:
        for match in re.finditer(r"typer\.Option\(([^)]*)", path.read_text()):
            flags = re.findall(r'"(--[a-z][a-z0-9-]*)', match.group(1))
            for flag in set(flags):
                counts[flag] += 1
    return counts


def main() -> None:
    paths = sorted(PACKAGE.rglob("*.py"))
    for body, what in ((False, "def to end"), (True, "body, after signature and docstring")):
        print(f"largest functions ({what}):")
        for size, name in largest_functions(paths, body=body):
            print(f"  {size:4d}  {name}")
    print(f"cli.py: {len((PACKAGE / 'cli.py').read_text().splitlines())} lines")
    for everywhere, what in ((False, "module level"), (True, "any import, in functions too")):
        found = circles(paths, everywhere)
        print(f"import circles ({what}): {len(found)}")
        for component in found:
            print("  " + " <-> ".join(component))
    places = option_places(paths)
    repeated = {flag: n for flag, n in places.items() if n > 1}
    print(f"options declared: {len(places)} flags, {sum(places.values())} declarations")
    by_count = defaultdict(list)
    for flag, n in sorted(repeated.items()):
        by_count[n].append(flag)
    for n in sorted(by_count, reverse=True):
        print(f"  declared {n}x: {' '.join(by_count[n])}")


if __name__ == "__main__":
    main()
