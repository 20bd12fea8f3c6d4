"""What the `task` answer rules say on train episodes, against the gold answer.

    python benchmarks/answer_rules.py --data workspace/annotated/train.rules.jsonl.gz --play 5

- answer-circuit (3-3, 3-4): on each gold path, before its last action (the answer), whether a
  circuit through the thing showed it conducts, and whether the rule's pin is the gold answer.
- answer-timing (9-x): `--play N` train variations of each 9-x task played in the simulator by the
  rule's actions alone, after the block is put on the first plane the valid actions offer: how many
  end at 100 (the answer right), and in how many steps.
- paint-recipe (6-2, 6-3): `--play N` train variations of each played likewise, after going to the
  art studio.
- circuit-build (3-3, 3-4): likewise, after the thing is fetched from its room and focused on.
- power-build (3-1, 3-2): likewise, after going to the workshop and focusing on the thing.
- substance-recipe (6-1): likewise, from the start.
"""

from __future__ import annotations

import argparse
import copy
import re
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from subgoal.engine.episode import Episode, Step, load_episodes
from subgoal.engine.grounding import normalize
from subgoal.engine.rules import circuit, paint, power, recipe, timing
from subgoal.engine.subgoals import unlabelled

_BLOCK_ONTO_PLANE = re.compile(r"move (\w+ )*(block|brick) to inclined plane")


def circuit_verdicts(episodes: list[Episode]) -> Counter[str]:
    counts: Counter[str] = Counter()
    for episode in episodes:
        q = circuit.question(episode.task_description)
        if q is None:
            continue
        answer = episode.steps[-1].action
        before = copy.copy(episode)
        before.steps = episode.steps[:-1]
        conductive = normalize(answer).endswith(q.yes)
        shown = circuit.shown(before, q)
        pin = circuit.pinned(before, [answer])
        counts[f"gold {'conductive' if conductive else 'nonconductive'}, shown: {shown}"] += 1
        if shown:
            counts[f"pin is the gold answer: {pin is not None and pin[0] == answer}"] += 1
    return counts


def _act(session: Any, episode: Episode, action: str) -> Any:
    result = session.step(action)
    episode.steps.append(
        Step(action, result.observation, result.score, 0, session.look(), session.inventory())
    )
    return result


def _valid(session: Any) -> list[str]:
    return list(session.env.get_valid_action_object_combinations())


Pin = Callable[[Any, Episode], "tuple[str, str] | None"]


def play(
    task: str, variations: list[int], opening: Pin, pin: Pin, max_steps: int = 60
) -> list[tuple[int, int | None, int]]:
    """Each variation played by `opening`'s actions until it has none, then by `pin`'s alone: the
    score where the episode ended (None: the rule stopped first), and the steps taken."""
    from subgoal.engine.env import Session

    results = []
    with Session() as session:
        for variation in variations:
            session.load(task, variation)
            episode = Episode(task, task, variation, "train", session.task_description(), steps=[])
            episode.initial_look = session.look()
            while (first := opening(session, episode)) is not None:
                _act(session, episode, first[0])
            score = None
            for _ in range(max_steps):
                found = pin(session, episode)
                if found is None:
                    break
                result = _act(session, episode, found[0])
                if result.observation.startswith("Ambiguous request"):  # as the agents' which-one does
                    result = _act(session, episode, "0")
                if result.done:
                    score = result.score
                    break
            results.append((variation, score, len(episode.steps)))
    return results


def _timing_opening(session: Any, episode: Episode) -> tuple[str, str] | None:
    """To the workshop, then the block onto the first plane the valid actions offer."""
    if not episode.steps:
        return "teleport to workshop", ""
    if len(episode.steps) == 1:
        return next(a for a in _valid(session) if _BLOCK_ONTO_PLANE.match(a)), ""
    return None


def _paint_opening(session: Any, episode: Episode) -> tuple[str, str] | None:
    """To the art studio, where the paints are."""
    return None if episode.steps else ("teleport to art studio", "")


def _circuit_opening(session: Any, episode: Episode) -> tuple[str, str] | None:
    """To the room the thing is "located around", the thing picked up and focused on, then to the
    workshop, as the gold paths of 3-3, 3-4 do."""
    q = circuit.question(episode.task_description)
    thing = unlabelled(q.thing) if q else "nothing"
    room = re.search(r"located around the ([\w ]+?)\.", episode.task_description)
    where = room[1] if room else "workshop"
    opening = [f"teleport to {where}", f"pick up {thing}", f"focus on {thing}", "teleport to workshop"]
    return (opening[len(episode.steps)], "") if len(episode.steps) < len(opening) else None


def _circuit_pin(session: Any, episode: Episode) -> tuple[str, str] | None:
    return circuit.build(episode, _valid(session))


def _power_opening(session: Any, episode: Episode) -> tuple[str, str] | None:
    """To the workshop, and the thing to turn on focused on, as the gold paths of 3-1, 3-2 do."""
    g = power.goal(episode.task_description)
    opening = ["teleport to workshop", f"focus on {g.thing if g else 'nothing'}"]
    return (opening[len(episode.steps)], "") if len(episode.steps) < len(opening) else None


def _recipe_pin(session: Any, episode: Episode) -> tuple[str, str] | None:
    return recipe.pinned(episode, session.look(), session.inventory())


PLAYED: dict[str, tuple[tuple[str, ...], Pin, Pin]] = {
    "answer-timing": (("9-1", "9-2", "9-3"), _timing_opening, lambda s, e: timing.pinned(e, _valid(s))),
    "circuit-build": (("3-3", "3-4"), _circuit_opening, _circuit_pin),
    "power-build": (
        ("3-1", "3-2"),
        _power_opening,
        lambda s, e: power.pinned(e, s.look(), s.inventory()),
    ),
    "substance-recipe": (("6-1",), lambda s, e: None, _recipe_pin),
    "paint-recipe": (("6-2", "6-3"), _paint_opening, lambda s, e: paint.pinned(e, s.look(), _valid(s))),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument(
        "--play", type=int, default=5, help="train variations per task to play by the rule (0: none)"
    )
    args = parser.parse_args()
    episodes = load_episodes(args.data)
    conductivity = [e for e in episodes if e.task_id in ("3-3", "3-4")]
    print(f"answer-circuit on {len(conductivity)} gold paths of 3-3, 3-4:")
    for key, count in sorted(circuit_verdicts(conductivity).items()):
        print(f"  {key}: {count}")
    for rule, (tasks, opening, pin) in PLAYED.items() if args.play else ():
        print(f"{rule}, {args.play} train variations of each task played by its actions:")
        for task in tasks:
            variations = sorted({e.variation for e in episodes if e.task_id == task})[: args.play]
            results = play(task, variations, opening, pin)
            at_100 = sum(score == 100 for _, score, _ in results)
            steps = [n for _, _, n in results]
            print(f"  {task}: {at_100}/{len(results)} at 100, steps {min(steps)}-{max(steps)}")
            for variation, score, n in results:
                if score != 100:
                    print(f"    variation {variation}: {score} after {n} steps")


if __name__ == "__main__":
    main()
