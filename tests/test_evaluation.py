"""The benchmark's arithmetic on fixed results, and a real (JVM) eval run that is interrupted,
loses an episode to a dying JVM, and resumes."""

from __future__ import annotations

import json

import pytest

from subgoal.engine.episode import Episode, Step
from subgoal.engine.report import PAPER, compare_table, markdown, results_table, summarize


def episode(task_id: str, variation: int, score: int, steps: int = 3, reason: str = "stalled") -> Episode:
    from subgoal.engine.tasks import get_task

    ep = Episode(task_id, get_task(task_id).name, variation, "test", "task")
    for i in range(steps):
        ep.steps.append(Step(f"a{i}", "o", score if i == steps - 1 else 0, 0))
    ep.meta.update(end_reason=reason, gen_seconds=1.0, env_seconds=2.0, seconds=3.0)
    return ep


FIXED = [
    # 4-2 (short): 100, 50, -100 (a failure counts as 0) -> 50
    episode("4-2", 0, 100, reason="completed"),
    episode("4-2", 1, 50),
    episode("4-2", 2, -100, reason="failed"),
    # 7-1 (short): 100 -> 100
    episode("7-1", 0, 100, reason="completed"),
    # 1-1 (long): 10 and 30 -> 20
    episode("1-1", 0, 10),
    episode("1-1", 1, 30),
]


def test_overall_is_the_mean_of_task_means_with_negatives_clamped():
    s = summarize(FIXED)
    by_task = {r.task_id: r for r in s.tasks}
    assert by_task["4-2"].score == pytest.approx(50.0)
    assert by_task["7-1"].score == pytest.approx(100.0)
    assert by_task["1-1"].score == pytest.approx(20.0)
    # The mean of task means, not of the 6 episodes (which would be 290/6 = 48.33).
    assert s.overall == pytest.approx((50 + 100 + 20) / 3)
    # A bucket is the mean of its tasks' scores (buckets come from the tasks table).
    from statistics import fmean

    from subgoal.engine.tasks import BUCKETS, get_task

    task_scores = {"4-2": 50.0, "7-1": 100.0, "1-1": 20.0}
    for bucket in BUCKETS:
        members = [v for t, v in task_scores.items() if get_task(t).bucket == bucket]
        assert s.buckets[bucket] == (pytest.approx(fmean(members)) if members else None)
    assert [r.task_id for r in s.tasks] == ["1-1", "4-2", "7-1"]  # benchmark order
    assert by_task["4-2"].solved == 1
    assert s.steps == 18 and s.gen_seconds == 6.0 and s.env_seconds == 12.0
    assert s.steps_per_second == pytest.approx(1.0)
    assert s.end_reasons == {"completed": 2, "failed": 1, "stalled": 3}
    assert not s.complete_benchmark


def test_unplayable_episodes_count_as_zero():
    s = summarize(FIXED, errors=[("7-1", 1)])
    row = next(r for r in s.tasks if r.task_id == "7-1")
    assert row.episodes == 2 and row.errors == 1 and row.score == pytest.approx(50.0)
    assert s.errors == 1 and s.episodes == 7


def test_tables_render_with_paper_numbers(tmp_path):
    from rich.console import Console

    console = Console(record=True, width=140)
    s = summarize(FIXED)
    console.print(results_table(s, "t", "hierarchical"))
    console.print(compare_table(s, summarize(FIXED[:3]), "a", "b"))
    text = console.export_text()
    assert "65.43" in text and "56.67" in text and "3 of 30 tasks" in text
    assert "different tasks" in text
    md = markdown(s, "run", "flat", {"agent": "flat", "tasks": ["1-1"]})
    assert f"{PAPER['flat']:.2f}" in md and "| **overall** | 3 | **56.67** |" in md


@pytest.mark.jvm
def test_interrupted_eval_resumes_and_a_dying_jvm_is_recorded(tmp_path, monkeypatch):
    from subgoal.engine import evaluation
    from subgoal.engine.agent_kinds import AgentSpec
    from subgoal.engine.evaluation import evaluate
    from subgoal.engine.runs import EvalProtocol, Run
    from subgoal.engine.tasks import resolve_tasks
    from subgoal.errors import EnvironmentCrashed

    protocol = EvalProtocol("test", max_variations=2)
    run = Run.create(tmp_path / "runs", AgentSpec("oracle"), resolve_tasks("4-2,7-1"), protocol)
    assert len(run.jobs) == 4

    real_play = evaluation.play

    def crashing_play(session, job):  # type: ignore[no-untyped-def]
        if job.task_id == "7-1" and job.variation == run.jobs[3][1]:
            raise EnvironmentCrashed("the ScienceWorld JVM stopped answering: test")
        return real_play(session, job)

    monkeypatch.setattr(evaluation, "play", crashing_play)

    def interrupt_after_two(progress, outcome):  # type: ignore[no-untyped-def]
        if progress.done == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        evaluate(run, on_episode=interrupt_after_two)
    assert len(run.episodes()) == 2
    partial = json.loads((run.path / "results.json").read_text())
    assert partial["complete"] is False and partial["episodes"] == 2

    starts = []
    summary = evaluate(Run.open(run.path), on_start=starts.append)
    assert starts[0].skipped == 2
    assert summary.episodes == 4 and summary.errors == 1  # 7-1's second variation died twice
    by_task = {r.task_id: r.score for r in summary.tasks}
    assert by_task == {"4-2": 100.0, "7-1": 50.0}

    monkeypatch.setattr(evaluation, "play", real_play)  # the JVM is healthy again: retry it
    summary = evaluate(Run.open(run.path))
    assert summary.errors == 0 and summary.overall == 100.0
    final = json.loads((run.path / "results.json").read_text())
    assert final["complete"] is True and final["overall"] == 100.0
    assert (run.path / "report.md").read_text().count("| 4-2 |") == 1
