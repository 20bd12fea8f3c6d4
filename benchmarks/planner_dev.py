"""Where the planner goes wrong: its beams on the dev planner examples, error kinds counted.

    python benchmarks/planner_dev.py --checkpoint workspace/checkpoints/planner-s4 \
        --data workspace/annotated/dev.rules.jsonl.gz --beams 16

For each dev planner example (the context at a sub-goal's first step, the gold next sub-goal as its
label) the planner generates `--beams` beams as the agent asks it (with `--plan-prior`, reordered by
the checkpoint's train plans after the gold sub-goals before it, as the rule does; with
`--stand-ins`, reading train names for the task's new ones, as that rule does; with `--neighbours`,
joined and reordered by the nearest train plans, as plan-neighbours does). Counted: the first beam exactly the
gold sub-goal; the gold among the beams; the first beam's verb right but its arguments wrong; the
verb wrong. Per task family too. One torch thread unless `--threads`.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> None:
    import torch

    from subgoal.engine.agents import PLANNER_BEAMS, target_limit
    from subgoal.engine.episode import load_episodes
    from subgoal.engine.examples import examples_from_episode, input_format_of, trainable_spans
    from subgoal.engine.models import Policy
    from subgoal.engine.rules import neighbours
    from subgoal.engine.rules.neighbours import NEIGHBOURS, PlanNeighbours
    from subgoal.engine.rules.plan_prior import PLANS, PlanPrior, best_first
    from subgoal.engine.rules.stand_in import TASKS, StandIns, SwappedPolicy
    from subgoal.engine.rules.vocabulary import renamed
    from subgoal.engine.subgoals import parse_subgoal

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", type=Path, required=True)
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument(
        "--beams", type=int, default=PLANNER_BEAMS, help="as the agent asks (agents.PLANNER_BEAMS)"
    )
    parser.add_argument("--limit", type=int, default=0, help="examples at most (0: all)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--show", type=int, default=0, help="print this many wrong first beams")
    parser.add_argument("--tasks", default="", help="comma-separated task ids (default: all)")
    parser.add_argument(
        "--renamed", action="store_true", help="beams renamed as the agents do (vocabulary.renamed)"
    )
    parser.add_argument(
        "--plan-prior",
        action="store_true",
        help="beams reordered as plan-prior does, by the checkpoint's plans.json (rules/plan_prior.py)",
    )
    parser.add_argument(
        "--neighbours",
        action="store_true",
        help="the nearest train plans' next sub-goals joined and voting, as plan-neighbours does (rules/neighbours.py)",
    )
    parser.add_argument(
        "--stand-ins",
        action="store_true",
        help="new names read as train ones, as stand-ins does, by the checkpoint's tasks.json (rules/stand_in.py)",
    )
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    policy = Policy.load(args.checkpoint, device="cpu")
    table = StandIns.load(args.checkpoint) if args.stand_ins else None
    if args.stand_ins and table is None:
        parser.error(f"{args.checkpoint} has no {TASKS} (a checkpoint trained before stand-ins)")
    if table is not None:
        policy = SwappedPolicy(policy)
    prior = PlanPrior.load(args.checkpoint) if args.plan_prior else None
    if args.plan_prior and prior is None:
        parser.error(f"{args.checkpoint} has no {PLANS} (a planner trained before plan-prior)")
    table_of_plans = PlanNeighbours.load(args.checkpoint) if args.neighbours else None
    if args.neighbours and table_of_plans is None:
        parser.error(f"{args.checkpoint} has no {NEIGHBOURS} (a planner trained before plan-neighbours)")
    episodes = load_episodes(args.data)
    descriptions = {(e.task_id, e.variation): e.task_description for e in episodes}
    fmt = input_format_of(policy.manifest)
    examples, done = [], []  # each example, and the gold sub-goals completed before it
    for episode in episodes:
        if episode.subgoals:
            plan = [span.name for span in trainable_spans(episode)]
            examples += examples_from_episode("planner", episode, policy.fits, fmt)
            done += [plan[:i] for i in range(len(plan))]
    pairs = list(zip(examples, done, strict=True))
    if args.tasks:
        pairs = [(e, d) for e, d in pairs if e.task_id in args.tasks.split(",")]
    if args.limit:
        pairs = pairs[: args.limit]
    counts: Counter[str] = Counter()
    by_family: dict[str, Counter[str]] = {}
    t0 = time.perf_counter()
    for ex, completed in pairs:
        if table is not None:
            policy.swap = table.swap(descriptions[ex.task_id, ex.variation])
        beams = policy.generate(
            [ex.source], num_beams=args.beams, num_return=args.beams, max_new_tokens=target_limit(policy)
        )[0]
        task = descriptions[ex.task_id, ex.variation]
        votes = table_of_plans.votes(task, completed) if table_of_plans is not None else None
        if votes:
            beams = neighbours.joined(beams, votes)
        if (prior is not None or votes) and len(beams) > 1:  # ranked as the agent ranks (agents._reranked)
            by_prior = [prior.logp(completed, name, task) if prior is not None else 0.0 for name in beams]
            by_votes = [neighbours.logp(votes, name, len(beams)) if votes else 0.0 for name in beams]
            beams = best_first(beams, policy.score(ex.source, beams), by_prior, by_votes)
        if args.renamed:
            vocabulary, description = (
                policy.manifest.get("task_vocabulary"),
                descriptions[ex.task_id, ex.variation],
            )
            beams = list(dict.fromkeys(renamed(vocabulary, ex.task_id, description, b) for b in beams))
        top = beams[0] if beams else ""
        gold, guess = parse_subgoal(ex.target), parse_subgoal(top)
        if top == ex.target:
            kind = "exact"
        elif gold and guess and gold.verb == guess.verb:
            kind = "verb right, args wrong"
        else:
            kind = "verb wrong"
        if kind != "exact" and args.show > counts["shown"]:
            counts["shown"] += 1
            print(f"{ex.task_id} v{ex.variation} step {ex.step}: gold {ex.target} | beams {beams[:4]}")
        family = by_family.setdefault(ex.task_id.split("-")[0], Counter())
        for c in (counts, family):
            c[kind] += 1
            c["gold in beams"] += ex.target in beams
            c["all"] += 1
    seconds = time.perf_counter() - t0
    print(f"{counts['all']} dev planner examples, {args.beams} beams, {seconds:.0f} s")
    for kind in ("exact", "gold in beams", "verb right, args wrong", "verb wrong"):
        print(f"  {kind:24} {counts[kind]:5d}  {100 * counts[kind] / max(1, counts['all']):5.1f} %")
    print("per task family: exact / gold in beams / verb wrong (% of its examples)")
    for family, c in sorted(by_family.items(), key=lambda kv: int(kv[0])):
        n = max(1, c["all"])
        print(
            f"  {family:>3}  n={c['all']:4d}  {100 * c['exact'] / n:5.1f}  "
            f"{100 * c['gold in beams'] / n:5.1f}  {100 * c['verb wrong'] / n:5.1f}"
        )


if __name__ == "__main__":
    main()
