"""What ended the episodes of eval runs, counted: read trajectories, not only scores.

    python benchmarks/trajectories.py workspace/runs/cpu-dev-general-hierarchical workspace/runs/cpu-dev-general-flat

Point it at dev runs (`subgoal protocol --split dev`): every design choice is made there. A run on
the test split is refused unless `--report` says the numbers are only being reported.

For each run: its rules level, episodes by end reason (completed, a wrong focus at -100, stalled, the step limit,
the agent ending it), how each action was chosen (read off a sub-goal, scored candidates, exact
beam, fuzzy, answer, fallback), and for the hierarchical agent how its sub-goals ended (done by the
simulator's check, failed on their allowance), and how often each rule acted. Then, with
--episodes, the failed episodes of each task, one line each.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from subgoal.engine.episode import read_episodes
from subgoal.engine.events import end_reason
from subgoal.engine.rules import acted_in


def why(episode) -> str:  # type: ignore[no-untyped-def]
    reason = end_reason(episode)
    if reason == "failed" and episode.steps and episode.steps[-1].action.startswith("focus on"):
        return "wrong focus"
    return reason


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", type=Path)
    parser.add_argument("--episodes", action="store_true", help="One line per failed episode.")
    parser.add_argument(
        "--report", action="store_true", help="Allow test-split runs (to report, not decide)."
    )
    args = parser.parse_args()
    for run in args.runs:
        config = json.loads((run / "config.json").read_text())
        if config.get("split") == "test" and not args.report:
            sys.exit(f"{run.name} played test episodes: decide on dev runs, or pass --report to report")
        level = (config.get("spec") or {}).get("rules") or "task"
        episodes = list(read_episodes(run / "episodes.jsonl.gz"))
        reasons = Counter(why(ep) for ep in episodes)
        methods = Counter(s.grounding or "?" for ep in episodes for s in ep.steps)
        steps = sum(len(ep.steps) for ep in episodes)
        print(
            f"== {run.name} ({config.get('split')} split, {level} rules): {len(episodes)} episodes, {steps} steps"
        )
        print("  ended:", ", ".join(f"{k} {v}" for k, v in reasons.most_common()))
        print(
            "  actions chosen by:",
            ", ".join(f"{k} {v / max(steps, 1):.0%}" for k, v in methods.most_common()),
        )
        endings = Counter(
            e for ep in episodes for note in ep.meta.get("notes", []) for e in note.get("endings", [])
        )
        if endings:
            print("  sub-goals ended:", ", ".join(f"{k} {v}" for k, v in endings.most_common()))
        acted = acted_in(episodes)
        if acted:
            print("  rules acted (decisions):", ", ".join(f"{k} {v}" for k, v in acted.most_common()))
        failed = [ep for ep in episodes if not ep.solved]
        if args.episodes:
            for ep in failed:
                last = ep.steps[-1].action if ep.steps else "-"
                spans = ", ".join(s.name for s in ep.subgoals[-3:])
                print(
                    f"  {ep.task_id} v{ep.variation}: {why(ep)} at step {len(ep.steps)}, score {ep.final_score}, "
                    f"last {last!r}" + (f"; last sub-goals {spans}" if spans else "")
                )


if __name__ == "__main__":
    main()
