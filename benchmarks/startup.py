"""How long `subgoal --help` takes, this tree against another revision (median of N runs each, the
two alternated so that a busy machine slows both alike). Run by hand:

    python benchmarks/startup.py --against 3615767 --runs 15
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HELP = "import sys; sys.path.insert(0, '.'); sys.argv = ['subgoal', '--help']; from subgoal.cli import main; main()"


def once(tree: Path) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", HELP], cwd=tree, stdout=subprocess.DEVNULL, check=True)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--against", required=True, help="a git revision to compare with")
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        other = Path(folder) / "tree"
        subprocess.run(
            ["git", "worktree", "add", "-q", "--detach", str(other), args.against], cwd=ROOT, check=True
        )
        try:
            times: dict[str, list[float]] = {"this tree": [], args.against: []}
            for _ in range(args.runs):
                times[args.against].append(once(other))
                times["this tree"].append(once(ROOT))
        finally:
            subprocess.run(["git", "worktree", "remove", "-f", str(other)], cwd=ROOT, check=True)
    medians = {name: statistics.median(values) for name, values in times.items()}
    for name, value in medians.items():
        print(f"{name:>12}: {value:.3f} s (median of {args.runs})")
    print(f"ratio this tree / {args.against}: {medians['this tree'] / medians[args.against]:.2f}")


if __name__ == "__main__":
    main()
