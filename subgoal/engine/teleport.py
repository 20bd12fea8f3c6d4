"""Navigation as ScienceWorld's `easy` mode allows it: a gold path's walk through doors becomes one
`teleport to ROOM` step (a data option for training, applied to every role alike).

Gold paths walk door by door (`open door to hallway`, `go to hallway`, `go to kitchen`): 22 % of the
train split's steps, each a decision where a small model can go astray. Under `easy`, `teleport to
ROOM` is valid in every state, so a run of navigation steps that ends in another room is replaced by
one teleport that ends in the same state (look, inventory and score of the run's last step).
Sub-goal spans are mapped onto the shortened path; a span left with no step disappears.
"""

from __future__ import annotations

import copy

from subgoal.engine.actions import parse
from subgoal.engine.episode import Episode, Step, SubgoalSpan
from subgoal.engine.examples import room_of


def _is_walk(action: str) -> bool:
    act = parse(action)
    return act.verb == "nav" and not action.strip().lower().startswith("teleport")


def teleport_navigation(episode: Episode) -> Episode:
    """A copy of `episode` with each navigation run that changes room replaced by one teleport."""
    steps = episode.steps
    new_steps: list[Step] = []
    first_new: list[int] = []  # old index -> new index of the step it became part of
    i = 0
    while i < len(steps):
        j = i
        while j < len(steps) and _is_walk(steps[j].action):
            j += 1
        before = room_of(episode.state_before(i)[0]) if j > i else None
        after = room_of(steps[j - 1].look) if j > i else None
        if j > i and after and after != before and not any(s.done for s in steps[i : j - 1]):
            last = steps[j - 1]
            new_steps.append(
                Step(
                    action=f"teleport to {after}",
                    observation=f"You teleport to the {after}.",
                    score=last.score,
                    reward=sum(s.reward for s in steps[i:j]),
                    look=last.look,
                    inventory=last.inventory,
                    done=last.done,
                )
            )
            first_new.extend([len(new_steps) - 1] * (j - i))
            i = j
            continue
        new_steps.append(copy.deepcopy(steps[i]))
        first_new.append(len(new_steps) - 1)
        i += 1
    out = copy.copy(episode)
    out.steps = new_steps
    out.subgoals = _map_spans(episode.subgoals, first_new, len(new_steps))
    out.meta = {**episode.meta, "navigation": "teleport"}
    return out


def _map_spans(spans: list[SubgoalSpan], first_new: list[int], length: int) -> list[SubgoalSpan]:
    """Spans on the new path: each ends after the new step its last old step became; the next
    starts where it ends, so the spans still tile the path."""
    out: list[SubgoalSpan] = []
    cursor = 0
    for span in spans:
        end = first_new[span.end - 1] + 1 if span.end > 0 else 0
        if end > cursor:
            out.append(SubgoalSpan(span.name, cursor, end))
            cursor = end
    if out and cursor < length:
        out[-1].end = length
    return out
