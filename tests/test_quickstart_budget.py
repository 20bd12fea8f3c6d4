"""The quickstart's training budget is counted in optimizer steps, so its table does not depend on
how fast the machine is that day."""

from __future__ import annotations

from subgoal.commands.quickstart import steps_of


def test_the_default_budget_is_the_steps_a_quiet_machine_made_in_it() -> None:
    # RESULTS §27: 151, 213 and 271 steps in the default 5 minutes on a quiet 2-core Xeon.
    assert [steps_of(role, 5.0) for role in ("planner", "executor", "flat")] == [150, 210, 270]
    assert steps_of("planner", 0.001) == 1  # never nothing
