"""Each rule's dev evidence: the dev protocol with the rule switched off, against its level.

    python benchmarks/rules_ablation.py --base cpu-dev -n 1                  # every rule that acted
    python benchmarks/rules_ablation.py --base cpu-dev -n 1 --rules loop-guard --agents flat

The level runs (`subgoal protocol --split dev --rules general,task` made BASE-LEVEL-AGENT) are the
"with" arm; this plays `--rules 'LEVEL without RULE'` on the same checkpoints and dev episodes for
each rule of the level (general rules against general, task rules against task) and each agent
that consults it, and prints rule by rule what it is worth: with − without, overall on the same
episodes. A rule that never acted in the level's run is not played: without it every decision is
the same, so the score is too. A retired rule is measured the other way round, at its level and
each level above: the level run is its "without" arm, `--rules 'LEVEL with RULE'` its "with" arm,
so a rule retired on evidence at one level is measured at the others. Runs are named
BASE-LEVEL-with[out]-RULE-AGENT and resume like any eval run; `--dry-run` lists those left to
play. The table is also written as JSON (`--out`). Dev only: the test split is never played here.
"""

from __future__ import annotations

import argparse
import functools
import json
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from subgoal.engine.episode import read_episodes
from subgoal.engine.report import summarize
from subgoal.engine.rules import RULES, RuleSet, acted_in, rules_slug
from subgoal.engine.rules.layer import includes

AGENTS = ("hierarchical", "flat")
ABLATED_LEVELS = ("general", "task")  # paper rules are the paper's agent itself: ground, never guess a focus


@functools.cache  # a level run is read once for all of its rows (finished runs: they do not change)
def episodes_of(run: Path) -> dict[tuple[str, int], object]:
    return {ep.key: ep for ep in read_episodes(run / "episodes.jsonl.gz")}


def overall(episodes: dict[tuple[str, int], object], keys: set[tuple[str, int]]) -> float:
    """The overall score of the episodes among `keys`."""
    return summarize([ep for key, ep in episodes.items() if key in keys]).overall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default="cpu-dev", help="The level runs' prefix: BASE-LEVEL-AGENT.")
    parser.add_argument("--workspace", "-w", type=Path, default=Path("workspace"))
    parser.add_argument("-n", type=int, default=1, help="Dev variations per task for the ablated runs.")
    parser.add_argument("--rules", default="", help="Only these rules (comma-separated).")
    parser.add_argument("--agents", default=",".join(AGENTS))
    parser.add_argument("--workers", "-j", type=int, default=2)
    parser.add_argument("--dry-run", action="store_true", help="List the runs to play, play none.")
    parser.add_argument(
        "--out", type=Path, help="JSON table. Default: WORKSPACE/runs/BASE-rules-ablation.json"
    )
    args = parser.parse_args()
    runs = args.workspace / "runs"
    only = {r.strip() for r in args.rules.split(",") if r.strip()}
    rows = []
    for level in ABLATED_LEVELS:
        for agent in args.agents.split(","):
            base = runs / f"{args.base}-{level}-{agent}"
            if not (base / "config.json").exists():
                print(f"skip {level}/{agent}: no run {base}", file=sys.stderr)
                continue
            config = json.loads((base / "config.json").read_text())
            if config["split"] != "dev":
                sys.exit(f"{base.name} played {config['split']} episodes: ablations decide, on dev only")
            if config.get("active_rules") != RuleSet(level).active:
                print(
                    f"skip {level}/{agent}: {base.name} was played with other {level} rules", file=sys.stderr
                )
                continue
            counts = acted_in(episodes_of(base).values())
            for rule in RULES.values():
                if agent not in rule.agents or (only and rule.name not in only):
                    continue
                if rule.retired:  # measured by switching it back on, wherever its level reaches
                    if not includes(level, rule.level):
                        continue
                    setting, row = f"{level} with {rule.name}", {"acted": None}
                elif rule.level == level:
                    setting, row = f"{level} without {rule.name}", {"acted": counts[rule.name]}
                else:
                    continue
                row = {"rule": rule.name, "level": level, "agent": agent, "retired": bool(rule.retired)} | row
                if row["acted"] != 0:
                    row["run"] = f"{args.base}-{rules_slug(setting)}-{agent}"
                    if args.dry_run:
                        if not complete(runs / row["run"]):
                            print("would play", row["run"])
                    else:
                        play(runs / row["run"], config, setting, args.n, args.workers, args.workspace)
                rows.append((row, base))
    if args.dry_run:
        return
    table = [score(row, base, runs) for row, base in rows]
    out = args.out or runs / f"{args.base}-rules-ablation.json"
    out.write_text(json.dumps(table, indent=2) + "\n")
    print(
        f"{'rule':<20} {'level':<8} {'agent':<13} {'acted':>7} {'with':>7} {'without':>8} {'worth':>7}  episodes"
    )
    for row in table:
        without = f"{row['without']:.2f}" if "without" in row else "same"
        worth = f"{row['worth']:+.2f}" if "worth" in row else "0"
        retired = "  (retired: switched back on)" if row["retired"] else ""
        print(
            f"{row['rule']:<20} {row['level']:<8} {row['agent']:<13} {row['acted']:>7} {row['with']:>7.2f} "
            f"{without:>8} {worth:>7}  {row['episodes']}{retired}"
        )
    print(f"written: {out}")


def play(run: Path, config: dict, setting: str, n: int, workers: int, workspace: Path) -> None:
    """`subgoal eval` of the ablated setting on the base run's checkpoints (resumed when present)."""
    if complete(run):
        return
    spec = config["spec"]
    cmd = [sys.executable, "-m", "subgoal", "-w", str(workspace), "eval"]
    if (run / "config.json").exists():
        cmd += ["--resume", run.name, "--workers", str(workers)]
    else:
        cmd += ["--agent", spec["kind"], "--name", run.name, "--rules", setting, "--split", "dev"]
        cmd += ["-n", str(n), "--step-limit", str(config["step_limit"]), "--workers", str(workers)]
        for role, flag in (("planner", "--planner"), ("executor", "--executor"), ("flat", "--checkpoint")):
            if spec.get(role):
                cmd += [flag, spec[role]]
        cmd += ["--tasks", ",".join(config["tasks"])]
    print("playing", run.name, flush=True)
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)


def complete(run: Path) -> bool:
    return (run / "results.json").exists() and json.loads((run / "results.json").read_text()).get("complete")


def score(row: dict, base: Path, runs: Path) -> dict:
    """The row with the scores of the rule's two arms on the episodes of the run played for it (the
    level run is the "with" arm of an active rule, the "without" arm of a retired one)."""
    level_run = episodes_of(base)
    if "run" not in row:  # never acted: the same decisions on every episode of the base run
        row["with"], row["episodes"] = overall(level_run, set(level_run)), len(level_run)
        return row
    played = episodes_of(runs / row["run"])
    keys = set(played) & set(level_run)
    with_rule, without_rule = (played, level_run) if row["retired"] else (level_run, played)
    row["with"], row["without"] = overall(with_rule, keys), overall(without_rule, keys)
    row["episodes"] = len(keys)
    if row["retired"]:
        row["acted"] = acted_in(played[k] for k in keys)[row["rule"]]
    row["worth"] = round(row["with"] - row["without"], 2)
    return row


if __name__ == "__main__":
    main()
