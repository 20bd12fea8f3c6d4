"""A thing turned on by a circuit the rule wires (rules/power.py): the goal read from the task, the
parts from the look, carried outside for a renewable source, wired, a generator activated."""

from __future__ import annotations

from subgoal.engine.episode import Episode, Step
from subgoal.engine.rules.power import Goal, goal, pinned

TASK = (
    "Your task is to turn on the red light bulb by powering it using a {kind} power source. First, focus "
    "on the red light bulb. Then, create an electrical circuit that powers it on."
)
WORKSHOP = (
    "This room is called the workshop. In it, you see: \n\tthe agent\n\ta nuclear generator, which is off\n"
    "\ta solar panel, which is off\n\ta table. On the table is: a battery, a black wire, a red light bulb, "
    "which is off, a yellow wire.\n"
)
OUTSIDE = "This room is called the outside. In it, you see: \n\tthe agent\n"
FOCUSED = Step("focus on red light bulb", "You focus on the red light bulb.", 0, 0, WORKSHOP, "")


def played(kind: str, *steps: Step) -> Episode:
    return Episode("3-2", "power", 0, "dev", TASK.format(kind=kind), steps=[FOCUSED, *steps])


def wired(*connections: str, look: str = WORKSHOP) -> list[Step]:
    return [Step(c, "... is now connected to ...", 0, 0, look, "") for c in connections]


def test_the_goal_names_the_thing_and_the_kind_of_source() -> None:
    assert goal(TASK.format(kind="renewable")) == Goal("red light bulb", "renewable")
    plain = "Your task is to turn on the electric motor. First, focus on the electric motor. Then, create ..."
    assert goal(plain) == Goal("electric motor", None)
    assert goal("Your task is to boil water.") is None


def test_a_nonrenewable_source_is_wired_where_it_stands_then_activated_then_waited_on() -> None:
    episode = Episode("3-2", "power", 0, "dev", TASK.format(kind="nonrenewable"), steps=[])
    assert pinned(episode, OUTSIDE, "") is None  # not focused on, not in view
    assert pinned(episode, WORKSHOP, "") == ("focus on red light bulb", "focus_on(red light bulb)")
    first = pinned(played("nonrenewable"), WORKSHOP, "")
    assert first == (
        "connect nuclear generator anode to black wire terminal 1",
        "connect(nuclear generator anode, black wire terminal 1)",
    )
    done = wired(
        "connect nuclear generator anode to black wire terminal 1",
        "connect nuclear generator cathode to yellow wire terminal 1",
        "connect black wire terminal 2 to cathode in red light bulb",
    )
    assert pinned(played("nonrenewable", *done), WORKSHOP, "")[0] == (
        "connect yellow wire terminal 2 to anode in red light bulb"
    )
    done += wired("connect yellow wire terminal 2 to anode in red light bulb")
    assert pinned(played("nonrenewable", *done), WORKSHOP, "")[0] == "activate nuclear generator"
    done.append(
        Step("activate nuclear generator", "The nuclear generator is now activated.", 0, 0, WORKSHOP, "")
    )
    assert pinned(played("nonrenewable", *done), WORKSHOP, "")[0] == "wait1"


def test_a_renewable_source_and_the_parts_go_outside_first() -> None:
    assert pinned(played("renewable"), WORKSHOP, "")[0] == "pick up red light bulb"
    held = "In your inventory, you see:\n\ta red light bulb\n\ta solar panel\n\ta black wireits terminal 1 is ...\n"
    assert pinned(played("renewable"), WORKSHOP, held)[0] == "pick up yellow wire"
    held += "\ta yellow wireits terminal 1 is ...\n"
    assert pinned(played("renewable"), WORKSHOP, held)[0] == "teleport to outside"
    assert pinned(played("renewable"), OUTSIDE, held)[0] == "drop red light bulb"
    assert pinned(played("renewable"), OUTSIDE, "")[0] == "connect solar panel anode to black wire terminal 1"
