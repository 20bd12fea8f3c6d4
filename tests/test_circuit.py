"""Whether a thing conducts, as a circuit through it shows (rules/circuit.py): the question read from
the task, the evidence, the boxes held back and the answer given."""

from __future__ import annotations

from subgoal.engine.episode import Episode, Step
from subgoal.engine.rules.circuit import Question, build, circuit_for, held_back, pinned, question, shown

CONDUCTIVE = (
    "Your task is to determine if unknown substance O is electrically conductive. The unknown substance O "
    "is located around the workshop. First, focus on the unknown substance O. If it is electrically "
    "conductive, place it in the red box. If it is electrically nonconductive, place it in the green box."
)
LIT = "This room is called the workshop. In it, you see: \n\ta red light bulb, which is on\n"
DARK = LIT.replace("which is on", "which is off")


def step(action: str, observation: str = "", look: str = DARK) -> Step:
    return Step(action, observation, 0, 0, look, "")


def wired(terminal: int, look: str = DARK) -> Step:
    return step(
        f"connect unknown substance terminal {terminal} to red wire terminal {terminal}",
        f"terminal {terminal} on unknown substance O is now connected to terminal {terminal} on red wire",
        look,
    )


def played(*steps: Step) -> Episode:
    return Episode("3-4", "conductivity", 0, "test", CONDUCTIVE, steps=list(steps))


def test_the_question_names_the_thing_and_a_box_for_each_answer() -> None:
    assert question(CONDUCTIVE) == Question("unknown substance o", "red box", "green box")
    assert question("Your task is to turn on the red light bulb.") is None


def test_a_circuit_shows_conduction_once_both_terminals_are_wired_and_something_is_on() -> None:
    q = question(CONDUCTIVE)
    assert not shown(played(wired(1), step("wait1", look=LIT)), q)  # one terminal: not through it
    assert shown(played(wired(1), wired(2), step("wait1", look=LIT)), q)
    assert not shown(played(wired(1), wired(2), step("wait1")), q)  # off: nothing said
    moved = step("move unknown substance to table", "(disconnecting unknown substance O)You move ...", LIT)
    assert not shown(played(wired(1), wired(2), moved), q)


def test_the_answer_boxes_wait_for_the_circuit_then_the_conductive_one_is_taken_at_once() -> None:
    valid = ["move unknown substance to red box", "move unknown substance to green box", "wait1"]
    dark = played(wired(1), wired(2), step("wait1"))
    assert held_back(dark, "red box") and held_back(dark, "green box") and not held_back(dark, "blue box")
    assert pinned(dark, valid) is None
    lit = played(wired(1), wired(2), step("wait1", look=LIT))
    assert not held_back(lit, "red box") and held_back(lit, "green box")  # never the nonconductive one
    assert pinned(lit, valid) == (valid[0], "move(unknown substance, red box)")


def test_the_answer_rules_benchmark_counts_the_verdicts_on_gold_paths() -> None:
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    from answer_rules import circuit_verdicts

    answered = step("move unknown substance to red box", "You move the unknown substance O to the red box.")
    episode = played(wired(1), wired(2), step("wait1", look=LIT), answered)
    assert circuit_verdicts([episode]) == {
        "gold conductive, shown: True": 1,
        "pin is the gold answer: True": 1,
    }
    guessed = played(wired(1), step("move unknown substance to green box"))
    assert circuit_verdicts([guessed]) == {"gold nonconductive, shown: False": 1}


# -- circuit-build -------------------------------------------------------------------------------
WORKSHOP = (
    "This room is called the workshop. In it, you see: \n\tthe agent\n\ta red box (containing nothing)\n"
    "\ta green box (containing nothing)\n\ta table. On the table is: a battery, a black wire, a green "
    "light bulb, which is {bulb}, a orange wire, a yellow wire.\n"
)
IN_HAND = "In your inventory, you see:\n\tan unknown substance O\n"


def focused(*steps: Step) -> Episode:
    first = Step(
        "focus on unknown substance",
        "You focus on the unknown substance O.",
        0,
        0,
        WORKSHOP.format(bulb="off"),
        IN_HAND,
    )
    return played(first, *steps)


def built(bulb: str, waits: int) -> Episode:
    """Every connection of the circuit made, then `waits` ticks with the bulb `bulb`."""
    plan = circuit_for(question(CONDUCTIVE), WORKSHOP.format(bulb="off"))
    steps = [Step("drop unknown substance", "You move", 0, 0, WORKSHOP.format(bulb="off"), "")]
    steps += [
        Step(c, "... is now connected to ...", 0, 0, WORKSHOP.format(bulb="off"), "")
        for c in plan.connections
    ]
    steps += [Step("wait1", "You decide to wait", 0, 0, WORKSHOP.format(bulb=bulb), "")] * waits
    return focused(*steps)


def test_the_circuit_is_the_gold_paths_from_the_parts_in_view() -> None:
    plan = circuit_for(question(CONDUCTIVE), WORKSHOP.format(bulb="off"))
    assert plan.bulb == "green light bulb"
    assert plan.connections == (
        "connect battery anode to black wire terminal 1",
        "connect battery cathode to orange wire terminal 1",
        "connect black wire terminal 2 to cathode in green light bulb",
        "connect yellow wire terminal 2 to anode in green light bulb",
        "connect unknown substance o terminal 1 to orange wire terminal 2",
        "connect unknown substance o terminal 2 to yellow wire terminal 1",
    )
    assert circuit_for(question(CONDUCTIVE), LIT) is None  # no battery, no wires


def test_the_build_puts_the_thing_down_wires_it_waits_and_answers_either_way() -> None:
    valid = ["move unknown substance to red box", "move unknown substance to green box", "wait1"]
    assert build(played(), valid) is None  # not focused on yet, not in view
    in_view = Episode(
        "3-4",
        "conductivity",
        0,
        "test",
        CONDUCTIVE,
        steps=[step("teleport to workshop", look=DARK + "\ta unknown substance O\n")],
    )
    assert build(in_view, valid) == ("focus on unknown substance", "focus_on(unknown substance)")
    assert build(focused(), valid) == ("drop unknown substance", "drop(unknown substance)")
    undone = built("off", 0)
    undone.steps.append(
        Step(
            "pick up black wire", "(disconnecting black wire)You move", 0, 0, WORKSHOP.format(bulb="off"), ""
        )
    )
    assert build(undone, valid)[0] == "connect battery anode to black wire terminal 1"
    assert build(built("off", 1), valid)[0] == "wait1"
    assert build(built("on", 2), valid)[0] == "move unknown substance to red box"
    assert build(built("off", 2), valid)[0] == "move unknown substance to green box"  # nonconductive


def test_a_built_circuit_lets_only_its_answer_through() -> None:
    off = built("off", 2)
    assert held_back(off, "red box", built=True) and not held_back(off, "green box", built=True)
    assert held_back(off, "green box")  # answer-circuit alone never says nonconductive
    waiting = built("off", 1)
    assert held_back(waiting, "green box", built=True)
