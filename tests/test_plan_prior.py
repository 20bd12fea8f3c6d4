"""The plan prior: counts of the train plans, kept beside a planner, and the reordering of its beams."""

from __future__ import annotations

import math

import pytest
from test_agents import gold_episode

from subgoal.engine.rules.plan_prior import PLANS, PlanPrior, in_task_terms, plans_of, rerank, write_plans
from subgoal.errors import CheckpointError

HEAT = ["pick_up(pot)", "heat(pot, stove)", "focus_on(water)"]
COOL = ["pick_up(pot)", "cool(pot, freezer)", "focus_on(water)"]


def test_what_followed_more_often_is_more_likely_and_an_unseen_history_falls_back():
    prior = PlanPrior([(HEAT, 3), (COOL, 1)])
    after = ["pick_up(pot)"]
    assert prior.logp(after, "heat(pot, stove)") > prior.logp(after, "cool(pot, freezer)")
    assert prior.logp(after, "cool(pot, freezer)") > prior.logp(after, "mix(pot)")
    # The verb is counted apart from its names: a heat of a thing never named still beats a new verb.
    assert prior.logp(after, "heat(kettle, stove)") > prior.logp(after, "mix(kettle)")
    # A history never seen: the shorter ones decide, so a first sub-goal is still the likely one.
    assert prior.logp(["wait(1)"], "focus_on(water)") > prior.logp(["wait(1)"], "mix(pot)")
    assert all(math.isfinite(prior.logp(h, "mix(pot)")) for h in ([], after, ["x"] * 9))


def test_the_plans_round_trip_through_the_checkpoint_folder(tmp_path):
    episode = gold_episode()
    table = plans_of([episode, episode, gold_episode()])
    assert table["names"] == ["navigate_to(kitchen)", "pick_up(thermometer)", "focus_on(thermometer)"]
    assert table["plans"] == [[3, 0, 1, 2]]
    write_plans(tmp_path, [episode])
    prior = PlanPrior.load(tmp_path)
    assert prior is not None
    assert prior.names.table[("navigate_to(kitchen)",)] == {"pick_up(thermometer)": 1}


def test_a_folder_without_plans_has_no_prior_and_a_damaged_file_is_one_clear_error(tmp_path):
    assert PlanPrior.load(None) is None and PlanPrior.load(tmp_path) is None
    (tmp_path / PLANS).write_text('{"names": ["a"], "plans": [[1, 7]]}')
    with pytest.raises(CheckpointError, match="unreadable train plans"):
        PlanPrior.load(tmp_path)


def test_rerank_adds_the_prior_to_the_planner_score():
    prior = PlanPrior([(HEAT, 5)])
    beams = ["cool(pot, freezer)", "heat(pot, stove)"]
    # Close planner scores: the prior decides. Far apart: the planner does.
    assert rerank(prior, ["pick_up(pot)"], beams, [-1.0, -1.5], "") == beams[::-1]
    assert rerank(prior, ["pick_up(pot)"], beams, [-1.0, -30.0], "") == beams


def test_names_are_counted_in_the_terms_of_their_task():
    assert (
        in_task_terms("move(ice cream, metal pot)", "Your task is to boil ice cream.")
        == "move(<task>, metal pot)"
    )
    assert (
        in_task_terms("focus_on(cream cheese)", "Your task is to boil ice cream.") == "focus_on(cream cheese)"
    )
    assert in_task_terms("wait(5)", "") == "wait(5)"
    # Train plans: two focus on the thing their task names, one on the pot's substance (water).
    plans = [
        (ep, ["navigate_to(kitchen)", focus])
        for ep, focus in (
            ("Your task is to boil chocolate.", "focus_on(chocolate)"),
            ("Your task is to boil marshmallow.", "focus_on(marshmallow)"),
            ("Your task is to boil water.", "focus_on(substance in metal pot)"),
        )
    ]
    prior = PlanPrior([([in_task_terms(n, task) for n in plan], 1) for task, plan in plans])
    task, done = "Your task is to boil soap.", ["navigate_to(kitchen)"]
    assert prior.logp(done, "focus_on(soap)", task) > prior.logp(
        done, "focus_on(substance in metal pot)", task
    )
    assert prior.logp(done, "focus_on(chocolate)", task) < prior.logp(done, "focus_on(soap)", task)
