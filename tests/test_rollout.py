"""The rollout: protocol limits, sub-goal spans, stop from another thread, and the promise that a
live event stream and the replay of its saved episode are the same stream."""

from __future__ import annotations

import dataclasses
import threading

import pytest
from test_agents import Scripted

from subgoal.engine.agents import Agent, Decision, HierarchicalAgent, HumanAgent, OracleAgent, Turn
from subgoal.engine.env import StepResult
from subgoal.engine.episode import Episode, SubgoalSpan
from subgoal.engine.events import (
    EpisodeEnded,
    EpisodeStarted,
    StepTaken,
    SubgoalEnded,
    SubgoalProposed,
    SubgoalStarted,
    replay_events,
)
from subgoal.engine.examples import COMPLETE_TASK
from subgoal.engine.rollout import Rollout, run_episode
from subgoal.errors import EnvironmentCrashed


class FakeSession:
    """A tiny deterministic world: `score N` sets the score, `crash` kills the 'JVM', anything
    else changes nothing. Enough to test the rollout's bookkeeping without a JVM."""

    def __init__(self) -> None:
        self.score, self.moves, self.valid_calls, self.loaded = 0, 0, 0, None

    def load(self, task, variation, gold=False):  # type: ignore[no-untyped-def]
        self.loaded, self.score, self.moves = (task.id, variation, gold), 0, 0

    def gold_path(self) -> list[str]:
        return ["score 50", "score 100"]

    def task_description(self) -> str:
        return "Your task is to test."

    def look(self) -> str:
        return f"This room is called the lab. Score {self.score}."

    def inventory(self) -> str:
        return "In your inventory, you see: nothing"

    def valid_actions(self) -> list[str]:
        self.valid_calls += 1
        return ["look around", "score 50", "score 100", "wait1"]

    def step(self, action: str) -> StepResult:
        if action == "crash":
            raise EnvironmentCrashed("the ScienceWorld JVM stopped answering: test")
        self.moves += 1
        old = self.score
        if action.startswith("score "):
            self.score = int(action.split()[1])
        return StepResult("ok", self.score, self.score - old, self.score >= 100 or self.score < 0, self.moves)


class Script(Agent):
    name = "script"

    def __init__(self, decisions: list[Decision]):
        self.decisions = list(decisions)

    def act(self, turn: Turn) -> Decision:
        return self.decisions.pop(0) if self.decisions else Decision("look around")


def kinds(events):  # type: ignore[no-untyped-def]
    return [type(e).__name__ for e in events]


def test_oracle_gold_path_from_simulator_completes():
    session = FakeSession()
    rollout = Rollout(OracleAgent(), session, "4-2", 0)
    events = list(rollout)
    assert session.loaded == ("4-2", 0, True)  # the oracle asked for the gold path
    assert kinds(events) == ["EpisodeStarted", "StepTaken", "StepTaken", "EpisodeEnded"]
    end = events[-1]
    assert end.reason == "completed" and end.episode.final_score == 100
    assert session.valid_calls == 0  # replaying never pays for the valid actions
    assert end.episode.split == "train" and end.episode.meta["end_reason"] == "completed"


def test_step_limit_and_stall():
    ep = run_episode(Script([]), FakeSession(), "4-2", 0, step_limit=7, stall_limit=None)
    assert len(ep.steps) == 7 and ep.meta["end_reason"] == "step_limit"
    ep = run_episode(Script([Decision("score 10")]), FakeSession(), "4-2", 0, step_limit=100, stall_limit=5)
    assert len(ep.steps) == 6 and ep.meta["end_reason"] == "stalled"  # 1 scoring step + 5 quiet ones


def test_negative_score_is_failed_and_clamped():
    ep = run_episode(Script([Decision("score -100")]), FakeSession(), "4-2", 0)
    assert ep.meta["end_reason"] == "failed"
    assert ep.final_score == -100 and ep.clamped_score == 0


def test_subgoal_spans_including_empty_ones():
    script = Script(
        [
            Decision("look around", subgoal="a"),
            Decision("look around", subgoal="a"),
            Decision("score 50", subgoal="b", closed=("a", "empty")),
            Decision(None, closed=("b",)),
        ]
    )
    rollout = Rollout(script, FakeSession(), "4-2", 0)
    events = list(rollout)
    assert kinds(events) == [
        "EpisodeStarted",
        "SubgoalStarted",
        "StepTaken",
        "StepTaken",
        "SubgoalEnded",
        "SubgoalStarted",
        "SubgoalEnded",
        "SubgoalStarted",
        "StepTaken",
        "SubgoalEnded",
        "EpisodeEnded",
    ]
    ep = rollout.episode
    assert [(s.name, s.start, s.end) for s in ep.subgoals] == [("a", 0, 2), ("empty", 2, 2), ("b", 2, 3)]
    assert ep.meta["end_reason"] == "agent_done"
    assert [s.subgoal for s in ep.steps] == ["a", "a", "b"]


def _comparable(events):  # type: ignore[no-untyped-def]
    # EpisodeStarted.info is the meta known at the start; a file holds the final meta.
    return [dataclasses.replace(e, info={}) if isinstance(e, EpisodeStarted) else e for e in events]


def test_live_stream_equals_replay_of_saved_episode():
    script = Script(
        [
            Decision("look around", subgoal="a"),
            Decision("score 50", subgoal="b", closed=("a", "empty")),
            Decision("score 100", subgoal="b"),
        ]
    )
    rollout = Rollout(script, FakeSession(), "4-2", 0)
    live = list(rollout)
    saved = Episode.from_json(rollout.episode.to_json())
    assert _comparable(replay_events(saved)) == _comparable(live)


def test_planner_proposals_reach_the_stream_and_its_replay():
    # What a HierarchicalAgent decides: each planner call's beams in info["plans"], in order.
    script = Script(
        [
            Decision("look around", subgoal="a", info={"plans": [["a", "x", "y"]]}),
            Decision(
                "score 50",
                subgoal="b",
                closed=("a", "empty"),
                info={"plans": [["empty", "a"], [COMPLETE_TASK, "b", ""]]},
            ),
            Decision(None, closed=("b",), info={"plans": [[COMPLETE_TASK]]}),
        ]
    )
    rollout = Rollout(script, FakeSession(), "4-2", 0)
    live = list(rollout)
    assert kinds(live) == [
        "EpisodeStarted",
        "SubgoalProposed",
        "SubgoalStarted",
        "StepTaken",
        "SubgoalEnded",
        "SubgoalProposed",
        "SubgoalStarted",
        "SubgoalEnded",
        "SubgoalProposed",
        "SubgoalStarted",
        "StepTaken",
        "SubgoalEnded",
        "SubgoalProposed",  # the planner ended the episode: a proposal no sub-goal was taken from
        "EpisodeEnded",
    ]
    proposed = [e for e in live if isinstance(e, SubgoalProposed)]
    assert [(e.step, e.proposal) for e in proposed] == [
        (0, "a"),
        (1, "empty"),
        (1, COMPLETE_TASK),
        (2, COMPLETE_TASK),
    ]
    assert proposed[2].names == (COMPLETE_TASK, "b")  # the empty beam dropped
    started = [e.name for e in live if isinstance(e, SubgoalStarted)]
    assert started == ["a", "empty", "b"]
    # The notes in the saved file bring the same proposals back in a replay.
    saved = Episode.from_json(rollout.episode.to_json())
    assert _comparable(replay_events(saved)) == _comparable(live)


def test_hierarchical_agent_plans_reach_the_event_stream():
    planner = Scripted("planner", lambda text: ["reach(100)", "wait_for(score)", COMPLETE_TASK])
    executor = Scripted("executor", lambda text: ["score 100", "wait1"])
    events = list(Rollout(HierarchicalAgent(planner, executor), FakeSession(), "4-2", 0))
    assert kinds(events) == [
        "EpisodeStarted",
        "SubgoalProposed",
        "SubgoalStarted",
        "StepTaken",
        "SubgoalEnded",
        "EpisodeEnded",
    ]
    assert events[1] == SubgoalProposed(0, ("reach(100)", "wait_for(score)", COMPLETE_TASK))
    assert events[2].name == "reach(100)" and events[-1].reason == "completed"

    # A planner that only says complete_task() ends the episode; its proposal still comes through.
    done = Scripted("planner", lambda text: [COMPLETE_TASK])
    events = list(Rollout(HierarchicalAgent(done, executor), FakeSession(), "4-2", 0))
    assert kinds(events) == ["EpisodeStarted", "SubgoalProposed", "EpisodeEnded"]
    assert events[1].proposal == COMPLETE_TASK and events[-1].reason == "agent_done"
    replayed = replay_events(Episode.from_json(events[-1].episode.to_json()))
    assert _comparable(replayed) == _comparable(events)


def test_crash_raises_or_ends_with_error():
    with pytest.raises(EnvironmentCrashed):
        run_episode(Script([Decision("crash")]), FakeSession(), "4-2", 0)
    events = list(Rollout(Script([Decision("crash")]), FakeSession(), "4-2", 0, on_error="end"))
    assert isinstance(events[-1], EpisodeEnded) and events[-1].reason == "error"
    assert "stopped answering" in events[-1].error


def test_human_agent_driven_from_another_thread_and_stopped():
    human = HumanAgent()
    rollout = Rollout(human, FakeSession(), "4-2", 0)
    seen: list = []
    worker = threading.Thread(target=lambda: seen.extend(rollout))
    worker.start()
    assert human.waiting.wait(5)
    assert "score 50" in human.turn.valid_actions()
    human.submit("score 50", subgoal="try")
    for _ in range(200):  # until the agent waits for its second action
        if human.turn.index == 1 and human.waiting.is_set():
            break
        threading.Event().wait(0.02)
    rollout.stop()
    worker.join(5)
    assert not worker.is_alive()
    assert isinstance(seen[-1], EpisodeEnded) and seen[-1].reason == "stopped"
    ep = seen[-1].episode
    assert ep.actions == ["score 50"] and ep.steps[0].grounding == "human"
    assert [(s.name, s.start, s.end) for s in ep.subgoals] == [("try", 0, 1)]


@pytest.mark.jvm
def test_oracle_scores_100_through_the_real_rollout(oracle_episodes):
    """The whole chain on real gold paths: an annotated-looking episode (spans added) is replayed
    by the OracleAgent in a real JVM; it must reach 100 and record the same spans."""
    from subgoal.engine.env import Session

    episodes = []
    # Not 3-1: its circuit completes on the wire's connection or one `wait1` later, from one load
    # of the same variation to the next (measured 9 vs 16 of 25 loads), so a recorded 3-1 episode
    # need not replay to the same length.
    for ep in (ep for ep in oracle_episodes if ep.task_id != "3-1"):
        n = len(ep.steps)
        ep = dataclasses.replace(ep, subgoals=[SubgoalSpan("first", 0, 1), SubgoalSpan("rest", 1, n)])
        episodes.append(ep)
    agent = OracleAgent(episodes)
    with Session() as session:
        for gold in episodes:
            rollout = Rollout(agent, session, gold.task_id, gold.variation)
            events = list(rollout)
            played = rollout.episode
            assert played.final_score == 100, (gold.key, played.meta)
            assert played.actions == gold.actions
            assert [(s.name, s.start, s.end) for s in played.subgoals] == [
                (s.name, s.start, s.end) for s in gold.subgoals
            ]
            assert sum(isinstance(e, StepTaken) for e in events) == len(gold.steps)
            assert sum(isinstance(e, SubgoalStarted) for e in events) == 2
            assert sum(isinstance(e, SubgoalEnded) for e in events) == 2
            assert played.meta["env_seconds"] > 0


def test_why_and_endings_reach_the_stream_and_its_replay():
    # What a learned agent notes: each decision's candidates (info["why"]) and how the sub-goals it
    # closed ended (info["endings"], in the order of `closed`); the saved file brings both back.
    why = {"beams": [["go to hallway", "invalid"], ["score 50", "taken"]]}
    script = Script(
        [
            Decision("look around", subgoal="a"),
            Decision(
                "score 50",
                subgoal="b",
                closed=("a", "empty"),
                info={"endings": ["failed", "done"], "why": why},
            ),
            Decision(None, closed=("b",), info={"endings": ["exhausted"]}),
        ]
    )
    rollout = Rollout(script, FakeSession(), "4-2", 0)
    live = list(rollout)
    steps = [e for e in live if isinstance(e, StepTaken)]
    assert [e.why for e in steps] == [None, why]
    ended = [(e.name, e.ending) for e in live if isinstance(e, SubgoalEnded)]
    assert ended == [("a", "failed"), ("empty", "done"), ("b", "exhausted")]
    saved = Episode.from_json(rollout.episode.to_json())
    assert _comparable(replay_events(saved)) == _comparable(live)
