"""The task vocabulary: what each task's train plans use, and the bound agents keep to with it."""

from __future__ import annotations

from subgoal.engine.episode import Episode, Step, SubgoalSpan
from subgoal.engine.vocabulary import action_fits, action_verb, subgoal_fits, task_vocabulary


def episode(task: str, variation: int, spans: list[tuple[str, list[str]]]) -> Episode:
    steps, subgoals = [], []
    for name, actions in spans:
        start = len(steps)
        steps += [Step(a, "ok", 0, 0, "This room is called the hallway.", "") for a in actions]
        subgoals.append(SubgoalSpan(name, start, len(steps)))
    return Episode(task, "t", variation, "train", "Your task is ...", steps=steps, subgoals=subgoals)


EPISODES = [
    episode("3-1", 0, [("navigate_to(workshop)", ["teleport to workshop"]), ("wait(1)", ["wait1"])]),
    episode(
        "3-1",
        1,
        [("navigate_to(workshop)", ["teleport to workshop"]), ("focus_on(motor)", ["focus on motor"])],
    ),
    episode("1-1", 0, [("navigate_to(kitchen)", ["teleport to kitchen"]), ("pick_up(pot)", ["pick up pot"])]),
    episode(
        "1-1",
        1,
        [
            ("navigate_to(foundry)", ["teleport to foundry"]),
            ("heat(pot, blast furnace)", ["move pot to blast furnace"]),
        ],
    ),
]


def test_the_planners_vocabulary_is_its_plans_verbs_and_the_one_room_of_a_one_room_task():
    vocabulary = task_vocabulary(EPISODES, "planner")
    assert vocabulary["3-1"] == {"verbs": ["focus_on", "navigate_to", "wait"], "rooms": ["workshop"]}
    # 1-1's plans go to two rooms (where the substance is varies): every room stays open.
    assert vocabulary["1-1"] == {"verbs": ["heat", "navigate_to", "pick_up"]}
    assert not subgoal_fits(vocabulary, "3-1", "heat(metal pot, stove)")
    assert not subgoal_fits(vocabulary, "3-1", "navigate_to(kitchen)")
    assert subgoal_fits(vocabulary, "3-1", "navigate_to(Workshop)")
    assert subgoal_fits(vocabulary, "1-1", "navigate_to(bathroom)")
    assert subgoal_fits(vocabulary, "9-9", "heat(pot, stove)")  # a task training never saw
    assert subgoal_fits(None, "3-1", "heat(pot, stove)")  # a checkpoint without one


def test_the_flat_vocabulary_is_its_gold_paths_action_verbs():
    vocabulary = task_vocabulary(EPISODES, "flat")
    assert vocabulary["3-1"] == {"verbs": ["focus", "teleport to", "wait"], "rooms": ["workshop"]}
    assert action_verb("pick up metal pot") == "pick" and action_verb("teleport to kitchen") == "teleport to"
    assert action_fits(vocabulary, "3-1", "teleport to workshop")
    assert not action_fits(vocabulary, "3-1", "teleport to kitchen")
    assert not action_fits(vocabulary, "3-1", "pick up thermometer")
    assert action_fits(vocabulary, "1-1", "move pot to stove")
