"""which-one (rules/which.py): the option answered when the simulator asks which thing was meant."""

from __future__ import annotations

from subgoal.engine.rules.which import CANCEL, answer

ASKED = (
    "Ambiguous request: Please enter the number for the action you intended (or blank to cancel):\n"
    "0:\tfocus on blue paint (in bowl, in table, in art studio)\n"
    "1:\tfocus on orange paint (in bowl, in table, in art studio)\n"
)


def test_a_focus_is_answered_with_the_first_thing_the_focus_rules_pass() -> None:
    assert answer(ASKED, lambda target: target == "orange paint") == "1"
    assert answer(ASKED, lambda target: True) == "0"
    assert answer(ASKED, lambda target: False) == CANCEL  # none passes: no focus at all


def test_any_other_action_is_answered_with_the_first_option() -> None:
    asked = "Ambiguous request: ...\n0:\tpick up wood cup (in table)\n1:\tpick up wood cup (in art studio)\n"
    assert answer(asked, lambda target: False) == "0"
    assert answer("Ambiguous request: ...", lambda target: False) == "0"  # no options listed
