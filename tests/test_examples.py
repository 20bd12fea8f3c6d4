"""Training examples: what the planner, executor and flat baseline learn from one annotated episode."""

from __future__ import annotations

import re

import pytest

from subgoal.engine.episode import Episode, Step, SubgoalSpan
from subgoal.engine.examples import (
    COMPLETE_TASK,
    END_SUBGOAL,
    INPUT_FORMAT,
    PLANNER_RECENT,
    ROLES,
    context_at,
    examples_from_episode,
    examples_from_episodes,
    input_format_of,
    is_training_target,
    percentiles,
    render,
    room_of,
    stats,
    visited_rooms,
)
from subgoal.errors import TrainingError

HALL = (
    "This room is called the hallway. In it, you see: \n\tthe agent\n\tA door to the kitchen (that is open)"
)
KITCHEN = "This room is called the kitchen. In it, you see: \n\tthe agent\n\ta banana\n\ta red box"
OUTSIDE = "This outside location is called the outside. Here you see: \n\tthe agent\n\ta dove egg"


def _episode(subgoals: bool = True) -> Episode:
    steps = [
        Step("open door to kitchen", "The door is already open.", 0, 0, look=HALL),  # 0: no-op, dropped
        Step("go to kitchen", "You move to the kitchen.", 8, 8, look=KITCHEN),  # 1
        Step("look around", KITCHEN, 8, 0, look=KITCHEN),  # 2: dropped
        Step("focus on banana", "You focus on the banana.", 58, 50, look=KITCHEN),  # 3
        Step(
            "pick up banana",
            "You move the banana to the inventory.",
            66,
            8,
            look=KITCHEN,
            inventory="a banana",
        ),
        Step(
            "open door to outside", "The door is now open.", 66, 0, look=KITCHEN, inventory="a banana"
        ),  # 5: kept
        Step("go to outside", "You move to the outside.", 70, 4, look=OUTSIDE, inventory="a banana"),  # 6
        Step(
            "close door to kitchen", "The door is now closed.", 70, 0, look=OUTSIDE, inventory="a banana"
        ),  # 7
        Step(
            "move banana to red box", "You move the banana to the red box.", 100, 30, look=OUTSIDE, done=True
        ),
    ]
    spans = [
        SubgoalSpan("navigate_to(kitchen)", 0, 3),
        SubgoalSpan("focus_on(banana)", 3, 4),
        SubgoalSpan("pick_up(banana)", 4, 5),
        SubgoalSpan("navigate_to(outside)", 5, 8),
        SubgoalSpan("move(banana, red box)", 8, 9),
    ]
    return Episode(
        task_id="4-1",
        task_name="find-living-thing",
        variation=3,
        split="train",
        task_description="Your task is to find a(n) living thing. First, focus on the thing.",
        initial_look=HALL,
        initial_inventory="nothing",
        steps=steps,
        subgoals=spans if subgoals else [],
    )


def test_dropped_steps_are_never_targets():
    ep = _episode()
    kept = [s.action for s in ep.steps if is_training_target(s)]
    assert "look around" not in kept
    assert "close door to kitchen" not in kept
    assert "open door to kitchen" not in kept  # "The door is already open."
    assert "open door to outside" in kept  # a real door opening is kept
    for role in ROLES:
        targets = {e.target for e in examples_from_episode(role, ep)}
        assert not targets & {"look around", "close door to kitchen", "open door to kitchen"}


def test_flat_examples_one_per_kept_step_with_recent_history():
    ep = _episode()
    examples = examples_from_episode("flat", ep)
    assert [e.target for e in examples] == [s.action for s in ep.steps if is_training_target(s)]
    last = examples[-1]
    assert last.step == 8 and last.task_id == "4-1" and last.variation == 3
    # Time and score count the steps an agent can take: three of the eight before were dropped.
    assert "time: 5; score: 70" in last.source
    assert "completed subgoals" not in last.source and "subgoal:" not in last.source
    assert "go to kitchen -> You move to the kitchen. (+8)" in last.source
    assert "look around ->" not in last.source  # dropped steps stay out of the history too
    assert "visited: hallway, kitchen, outside" in last.source


def test_executor_examples_put_the_subgoal_first_and_end_only_unchecked_subgoals():
    ep = _episode()
    examples = examples_from_episode("executor", ep)
    # Six kept steps; every sub-goal here has a check, so no `end subgoal` (the old shortcut).
    assert [e.target for e in examples] == [s.action for s in ep.steps if is_training_target(s)]
    focus = examples[1]
    assert focus.source.startswith("subgoal: focus_on(banana) </s> task:")
    assert focus.subgoal == "focus_on(banana)"
    assert "history: none" in focus.source  # the history starts with the sub-goal
    ep.subgoals[-1] = SubgoalSpan("measure_temperature(banana)", 8, 9)  # no check: the executor ends it
    examples = examples_from_episode("executor", ep)
    assert [e.target for e in examples[-2:]] == ["move banana to red box", END_SUBGOAL]
    assert "move banana to red box -> You move the banana" in examples[-1].source


def test_planner_one_example_per_subgoal_and_no_complete_task():
    ep = _episode()
    examples = examples_from_episode("planner", ep)
    assert [e.target for e in examples] == [s.name for s in ep.subgoals]
    assert "subgoals done: 0; latest first: none </s>" in examples[0].source
    assert "time: 0; score: 0" in examples[0].source
    final = examples[-1]
    assert final.step == 8
    assert (
        "subgoals done: 4; latest first: 1. navigate_to(outside) 2. pick_up(banana) 3. focus_on(banana)"
        " 4. navigate_to(kitchen) </s>" in final.source
    )


def test_a_span_of_only_dropped_steps_teaches_nothing():
    ep = _episode()
    ep.subgoals = [SubgoalSpan("look_around()", 0, 1), SubgoalSpan("rest", 1, 9)]
    planner = examples_from_episode("planner", ep)
    assert [e.target for e in planner] == ["rest"]


def test_unannotated_episode_is_an_error_for_planner_and_executor_but_not_flat():
    ep = _episode(subgoals=False)
    with pytest.raises(TrainingError, match="no sub-goals"):
        examples_from_episode("planner", ep)
    with pytest.raises(TrainingError, match="annotate"):
        examples_from_episode("executor", ep)
    assert examples_from_episode("flat", ep)


def test_rooms_are_parsed_from_looks():
    assert room_of(OUTSIDE) == "outside"
    assert room_of("You move to the kitchen.") is None
    assert visited_rooms(_episode(), 0) == ["hallway"]
    assert visited_rooms(_episode(), 9) == ["hallway", "kitchen", "outside"]


def test_budget_shortens_history_and_look_but_keeps_the_task():
    ep = _episode()
    budget = 260
    examples = examples_from_episode("planner", ep, budget=lambda text: len(text) <= budget)
    for e in examples:
        assert ep.task_description in e.source
        assert "subgoals done:" in e.source
    assert max(len(e.source) for e in examples) <= budget + 200  # sub-goals are never cut
    assert examples_from_episode("planner", ep) != examples  # something was shortened


def test_examples_are_deterministic_and_stats_count_them():
    eps = [_episode(), _episode()]
    a = examples_from_episodes("executor", eps)
    assert a == examples_from_episodes("executor", eps)
    s = stats(a, lambda text: len(text.split()))
    assert s["examples"] == len(a) and s["episodes"] == 1
    assert s["source_tokens"]["p50"] <= s["source_tokens"]["p100"]


def test_percentiles_nearest_rank():
    assert percentiles(list(range(1, 101)), (50, 90, 100)) == {"p50": 50, "p90": 90, "p100": 100}
    assert percentiles([], (50,)) == {"p50": 0}


@pytest.mark.jvm
def test_real_oracle_episodes_make_examples(oracle_episodes):
    import copy

    for ep in copy.deepcopy(oracle_episodes):
        n = len(ep.steps)
        ep.subgoals = [SubgoalSpan(f"do_part({k})", s, min(s + 3, n)) for k, s in enumerate(range(0, n, 3))]
        kept = sum(is_training_target(s) for s in ep.steps)
        flat = examples_from_episode("flat", ep)
        assert len(flat) == kept
        executor = examples_from_episode("executor", ep)
        assert len(executor) == kept + sum(e.target == END_SUBGOAL for e in executor)
        planner = examples_from_episode("planner", ep)
        assert COMPLETE_TASK not in [e.target for e in planner]
        for e in flat + executor + planner:
            assert " ".join(ep.task_description.split()) in e.source
            assert e.target not in ("look around",) and not e.target.startswith("close door")


def test_planner_lists_only_its_latest_subgoals_and_counts_them_all():
    ep = _episode()
    names = [f"navigate_to(room {i})" for i in range(PLANNER_RECENT + 3)]
    ctx = context_at(ep, 8, completed=names)
    text = render("planner", ctx)
    assert f"subgoals done: {len(names)}; latest first: 1. {names[-1]} 2. {names[-2]}" in text
    assert f"{PLANNER_RECENT}. {names[-PLANNER_RECENT]} </s>" in text
    listed = re.findall(r"\d+\. (navigate_to\(room \d+\))", text)
    assert listed == names[::-1][:PLANNER_RECENT]  # the older ones are counted, not listed


def test_older_layouts_render_as_their_checkpoints_learned_them():
    ep = _episode()
    done = ["navigate_to(kitchen)", "focus_on(banana)"]
    one = render("planner", context_at(ep, 8, completed=done, input_format=1))
    assert "completed subgoals: navigate_to(kitchen), focus_on(banana) </s>" in one
    assert one.startswith(f"task: {ep.task_name}. ")
    zero = render("planner", context_at(ep, 8, completed=done, input_format=0))
    assert zero.startswith("task: Your task") and "completed subgoals:" in zero
    # Every field but the planner's sub-goals reads the same in layouts 1 and 2.
    assert render("executor", context_at(ep, 8, input_format=1)) == render("executor", context_at(ep, 8))


@pytest.mark.parametrize(
    ("manifest", "layout"),
    [
        ({"input_format": 2}, 2),
        ({"input_format": 1, "task_name_in_input": True}, 1),
        ({"task_name_in_input": True}, 1),
        ({"task_name_in_input": False}, 0),
        ({}, 1),
        (None, 1),
    ],
)
def test_a_checkpoint_is_asked_in_the_layout_its_manifest_names(manifest, layout):
    assert input_format_of(manifest) == layout
    assert INPUT_FORMAT == 2  # what a new training writes (train_state.manifest)
