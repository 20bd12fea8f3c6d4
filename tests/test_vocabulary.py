"""The task vocabulary: what each task's train plans use, and the bound agents keep to with it."""

from __future__ import annotations

from subgoal.engine.episode import Episode, Step, SubgoalSpan
from subgoal.engine.rules.vocabulary import (
    action_fits,
    action_verb,
    answer_ready,
    in_order,
    navigation_allowed,
    navigations_in_a_row,
    renamed,
    subgoal_fits,
    task_vocabulary,
)


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
    assert vocabulary["3-1"] == {
        "verbs": ["focus_on", "navigate_to", "wait"],
        "navigation_run": 1,
        "rooms": ["workshop"],
    }
    # 1-1's plans go to two rooms (where the substance is varies): every room stays open.
    assert vocabulary["1-1"] == {"verbs": ["heat", "navigate_to", "pick_up"], "navigation_run": 1}
    assert not subgoal_fits(vocabulary, "3-1", "heat(metal pot, stove)")
    assert not subgoal_fits(vocabulary, "3-1", "navigate_to(kitchen)")
    assert subgoal_fits(vocabulary, "3-1", "navigate_to(Workshop)")
    assert subgoal_fits(vocabulary, "1-1", "navigate_to(bathroom)")
    assert subgoal_fits(vocabulary, "9-9", "heat(pot, stove)")  # a task training never saw
    assert subgoal_fits(None, "3-1", "heat(pot, stove)")  # a checkpoint without one


def test_the_flat_vocabulary_is_its_gold_paths_action_verbs():
    vocabulary = task_vocabulary(EPISODES, "flat")
    assert vocabulary["3-1"] == {
        "verbs": ["focus", "teleport to", "wait"],
        "navigation_run": 1,
        "rooms": ["workshop"],
    }
    assert action_verb("pick up metal pot") == "pick" and action_verb("teleport to kitchen") == "teleport to"
    assert action_fits(vocabulary, "3-1", "teleport to workshop")
    assert not action_fits(vocabulary, "3-1", "teleport to kitchen")
    assert not action_fits(vocabulary, "3-1", "pick up thermometer")
    assert action_fits(vocabulary, "1-1", "move pot to stove")


MELT = (
    "Your task is to measure the melting point of tin. First, focus on the thermometer. If the melting "
    "point of tin is above 50.0 degrees celsius, focus on the red box. If the melting point of tin is "
    "below 50.0 degrees celsius, focus on the green box."
)


def melt(variation: int, spans: list[tuple[str, list[str]]]) -> Episode:
    made = episode("2-2", variation, spans)
    made.task_description = MELT
    return made


def test_an_answer_focus_waits_for_what_every_plan_does_before_it():
    plans = [
        melt(
            0,
            [
                ("navigate_to(kitchen)", ["teleport to kitchen"]),
                ("focus_on(thermometer)", ["focus on thermometer"]),
                ("heat(metal pot, stove)", ["move metal pot to stove"]),
                ("measure_temperature(tin)", ["use thermometer on tin"]),
                ("focus_on(red box)", ["focus on red box"]),
            ],
        ),
        melt(
            1,
            [
                ("focus_on(thermometer)", ["focus on thermometer"]),
                ("cool(metal pot, freezer)", ["move metal pot to freezer"]),
                ("measure_temperature(tin)", ["use thermometer on tin"]),
                ("focus_on(green box)", ["focus on green box"]),
            ],
        ),
    ]
    vocabulary = task_vocabulary(plans, "planner")
    # heat in one plan, cool in the other: only what both do before the answer is required.
    assert vocabulary["2-2"]["answer_after"] == ["focus_on", "measure_temperature"]
    ready = lambda *done: answer_ready(vocabulary, "2-2", MELT, done)  # noqa: E731
    assert not ready(("focus_on", "thermometer"), ("navigate_to", "kitchen"), ("heat", "metal pot, stove"))
    assert ready(("focus_on", "thermometer"), ("measure_temperature", "tin"))
    # a measurement counts only of something the task names
    assert not ready(("focus_on", "thermometer"), ("measure_temperature", "drawing"))
    assert not ready(("focus_on", "thermometer"), ("measure_temperature", "thermometer"))
    assert answer_ready(vocabulary, "3-1", "", [])  # no answer focus: nothing to wait for
    assert answer_ready(None, "2-2", MELT, [])
    flat = task_vocabulary(plans, "flat")
    assert flat["2-2"]["answer_after"] == ["focus", "measure", "move"]


def test_a_navigation_may_follow_one_more_navigation_than_the_plans_ever_make():
    vocabulary = task_vocabulary(EPISODES, "planner")  # never two navigations in a row
    assert navigations_in_a_row(["navigate_to", "pick_up"]) == 0
    assert navigations_in_a_row(["pick_up", "teleport to", "go to"]) == 2
    assert navigation_allowed(vocabulary, "3-1", 0) and navigation_allowed(vocabulary, "3-1", 1)
    assert not navigation_allowed(vocabulary, "3-1", 2)
    assert navigation_allowed(vocabulary, "9-9", 5)  # a task training never saw
    assert navigation_allowed(None, "3-1", 5)


def test_each_verb_waits_for_what_every_train_plan_does_before_it():
    plans = [
        episode(
            "5-1",
            0,
            [
                ("navigate_to(kitchen)", ["teleport to kitchen"]),
                ("pick_up(seed jar)", ["pick up seed jar"]),
                ("plant(seed, pot)", ["move seed to pot"]),
                ("water(pot)", ["pour jug into pot"]),
            ],
        ),
        episode(
            "5-1",
            1,
            [
                ("pick_up(seed jar)", ["pick up seed jar"]),
                ("navigate_to(greenhouse)", ["teleport to greenhouse"]),
                ("plant(seed, pot)", ["move seed to pot"]),
                ("wait(1)", ["wait1"]),
                ("water(pot)", ["pour jug into pot"]),
            ],
        ),
    ]
    after = task_vocabulary(plans, "planner")["5-1"]["after"]
    # Navigation is never a prerequisite (a plan starting in the right room never navigates); the
    # wait comes before the water in one plan only, so it is not one.
    assert after == {"plant": ["pick_up"], "water": ["pick_up", "plant"], "wait": ["pick_up", "plant"]}
    vocabulary = {"5-1": {"after": after}}
    assert not in_order(vocabulary, "5-1", "water", ["pick_up"])
    assert in_order(vocabulary, "5-1", "water", ["pick_up", "plant", "focus_on"])
    assert in_order(vocabulary, "5-1", "pick_up", [])
    assert in_order(None, "5-1", "water", [])  # a checkpoint without a vocabulary


def test_a_thing_train_variations_were_about_is_renamed_to_this_variations():
    from subgoal.engine.rules.vocabulary import task_object

    boil = "Your task is to boil ice cream. For compounds without a boiling point, combusting ..."
    assert task_object(boil) == "ice cream"
    assert task_object("Your task is to measure the melting point of tin, which is located ...") == "tin"
    assert task_object("Your task is to determine if paper clip is electrically conductive.") == "paper clip"
    assert task_object("Your task is to grow a cherry plant from seed. Seeds can be found ...") == "cherry"
    assert (
        task_object("Your task is to turn on the electric motor by powering it using a ...")
        == "electric motor"
    )
    assert task_object("Your task is to turn on the red light bulb. First, focus on ...") == "red light bulb"
    assert task_object("Your task is to find a(n) animal. First, focus on the thing.") is None
    assert task_object("Your task is to focus on the 4 life stages of the moth, starting from ...") == "moth"
    assert task_object("Your task is to focus on the life stages of the apple plant, starting ...") == "apple"
    plans = [
        Episode(
            **{
                **episode("1-1", v, [("pick_up(pot)", ["pick up pot"])]).__dict__,
                "task_description": f"Your task is to boil {thing}.",
            }
        )
        for v, thing in enumerate(["water", "chocolate", "ice"])
    ]
    vocabulary = {"1-1": {"objects": task_vocabulary(plans, "flat")["1-1"]["objects"]}}
    assert vocabulary["1-1"]["objects"] == ["chocolate", "ice", "water"]
    assert (
        renamed(vocabulary, "1-1", boil, "measure_temperature(chocolate)") == "measure_temperature(ice cream)"
    )
    assert renamed(vocabulary, "1-1", boil, "focus_on(ice)") == "focus_on(ice cream)"  # not "ice cream cream"
    assert renamed(vocabulary, "1-1", boil, "move ice cream to metal pot") == "move ice cream to metal pot"
    assert renamed(vocabulary, "1-1", boil, "pick_up(metal pot)") == "pick_up(metal pot)"
    assert renamed(vocabulary, "2-2", boil, "focus_on(chocolate)") == "focus_on(chocolate)"  # another task's
    assert renamed(None, "1-1", boil, "focus_on(chocolate)") == "focus_on(chocolate)"


def test_things_of_the_same_kind_are_renamed_across_tasks():
    """One planner learns every task: for 1-1's "boil tin" it may spell 2-2's lead."""
    base = episode("1-1", 0, [("pick_up(pot)", ["pick up pot"])]).__dict__
    plans = [
        Episode(**{**base, "task_description": "Your task is to boil water."}),
        Episode(
            **{
                **base,
                "task_id": "2-2",
                "task_description": "Your task is to measure the melting point of lead, which is ...",
            }
        ),
        Episode(
            **{
                **base,
                "task_id": "3-3",
                "task_description": "Your task is to determine if metal pot is electrically conductive.",
            }
        ),
    ]
    vocabulary = task_vocabulary(plans, "planner")
    assert vocabulary["1-1"]["objects"] == vocabulary["2-2"]["objects"] == ["lead", "water"]
    assert vocabulary["3-3"]["objects"] == ["metal pot"]  # a conductor is not a substance to boil
    boil_tin = "Your task is to boil tin. First, focus on the substance."
    assert renamed(vocabulary, "1-1", boil_tin, "focus_on(lead)") == "focus_on(tin)"
    assert renamed(vocabulary, "1-1", boil_tin, "pick_up(metal pot)") == "pick_up(metal pot)"


def test_a_reading_of_the_tasks_thing_in_any_state_or_container():
    from subgoal.engine.rules.vocabulary import reads_the_task_object

    boil = "Your task is to boil ice cream. First, focus on the substance."
    holds = {"metal pot": True, "jug": False}.get
    assert reads_the_task_object(boil, "ice cream", holds)
    assert reads_the_task_object(boil, "liquid ice cream", holds)
    assert reads_the_task_object(boil, "substance in metal pot", holds)
    assert not reads_the_task_object(boil, "substance in jug", holds)
    assert not reads_the_task_object(boil, "hallway", holds)
    assert not reads_the_task_object(boil, "cupboard", holds)
    melting = "Your task is to measure the melting point of solid unknown substance O, which is located around the kitchen."
    assert reads_the_task_object(melting, "liquid unknown substance O", holds)
    assert not reads_the_task_object(melting, "unknown substance B", holds)
    water = "Your task is to freeze water. First, focus on the substance."
    assert reads_the_task_object(water, "steam", holds) and reads_the_task_object(water, "ice", holds)
    # A task that names no thing leaves every reading to the model.
    assert reads_the_task_object("Your task is to find a living thing.", "hallway", holds)


def test_the_tasks_box_and_room_put_in_while_carrying_what_it_focused_on():
    from subgoal.engine.rules.vocabulary import delivered, delivery

    task = "Your task is to find a(n) living thing. First, focus on the thing. Then, move it to the red box in the kitchen."
    assert delivery(task) == ("red box", "kitchen")
    assert delivered(task, "move(egg butterfly egg, orange box)", False) == "move(egg butterfly egg, red box)"
    assert delivered(task, "move egg parrot egg to green box", True) == "move egg parrot egg to red box"
    # Navigation goes to the task's room only once the thing is held: finding it comes first.
    assert delivered(task, "navigate_to(workshop)", False) == "navigate_to(workshop)"
    assert delivered(task, "navigate_to(workshop)", True) == "navigate_to(kitchen)"
    assert delivered(task, "teleport to bathroom", True) == "teleport to kitchen"
    assert delivered(task, "pick_up(egg parrot)", True) == "pick_up(egg parrot)"
    other = "Your task is to boil water. First, focus on the substance."
    assert delivered(other, "navigate_to(workshop)", True) == "navigate_to(workshop)"
    assert delivered(other, "move(metal pot, blue box)", True) == "move(metal pot, blue box)"


def test_the_tasks_word_substance_becomes_its_substance():
    from subgoal.engine.rules.vocabulary import renamed

    task = "Your task is to change the state of matter of tin. First, focus on the substance."
    assert renamed(None, "1-4", task, "focus_on(substance)") == "focus_on(tin)"
    assert renamed(None, "1-4", task, "move(substance, metal pot)") == "move(tin, metal pot)"
    assert (
        renamed(None, "1-4", task, "focus_on(substance in metal pot)") == "focus_on(substance in metal pot)"
    )
    # Only where the task is about a substance.
    other = "Your task is to find a(n) living thing. First, focus on the thing."
    assert renamed(None, "4-1", other, "focus_on(substance)") == "focus_on(substance)"
