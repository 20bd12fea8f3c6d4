"""Grounding generated text to a valid action: exact among the beams first, then the most similar."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from subgoal.engine.grounding import Grounder, normalize
from subgoal.errors import AgentError

VALID = ["go to kitchen", "go to hallway", "pick up thermometer", "open cupboard", "focus on red apple"]


@pytest.fixture(scope="module")
def grounder() -> Grounder:
    return Grounder()


def test_exact_match_in_beam_order(grounder):
    got = grounder.ground(["go to door", "open cupboard", "go to kitchen"], VALID)
    assert (got.action, got.method, got.beam, got.similarity) == ("open cupboard", "exact", 1, 1.0)


def test_case_and_spaces_do_not_matter_and_the_valid_spelling_wins(grounder):
    got = grounder.ground(["  Go   TO kitchen "], VALID)
    assert got.action == "go to kitchen" and got.method == "exact"


def test_fuzzy_falls_back_to_the_most_similar_action_to_the_best_beam(grounder):
    got = grounder.ground(["pick up the thermometer", "go to kitchen x"], VALID)
    assert got.action == "pick up thermometer" and got.method == "fuzzy" and got.beam == 0
    assert 0.5 < got.similarity < 1.0


def test_avoided_actions_are_skipped(grounder):
    got = grounder.ground(["go to kitchen", "go to hallway"], VALID, avoid={"GO TO KITCHEN"})
    assert got.action == "go to hallway" and got.method == "exact"
    got = grounder.ground(["go to kitchen"], VALID, avoid={"go to kitchen"})
    assert got.action != "go to kitchen" and got.method == "fuzzy"


def test_nothing_to_choose(grounder):
    assert grounder.ground(["go to kitchen"], []) is None
    assert grounder.ground(["go to kitchen"], ["go to kitchen"], avoid=["go to kitchen"]) is None
    assert grounder.ground(["", "  "], VALID) is None


def test_unknown_backend_is_one_line():
    with pytest.raises(AgentError, match="unknown grounding backend"):
        Grounder("telepathy")


@given(st.lists(st.text(min_size=0, max_size=20), max_size=5), st.lists(st.sampled_from(VALID), min_size=1))
def test_always_a_valid_action_or_none(beams, valid):
    got = Grounder().ground(beams, valid)
    if got is None:
        assert not any(b.strip() for b in beams)
    else:
        assert got.action in valid
        if any(normalize(b) in {normalize(v) for v in valid} for b in beams):
            assert got.method == "exact"
