"""`subgoal annotate` end to end through the CLI: files, resume, cache, dry run, bad input."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest
from typer.testing import CliRunner

from subgoal.cli import app
from subgoal.engine.episode import Episode, Step, load_episodes, write_episodes
from subgoal.engine.teachers.rules import segment
from subgoal.engine.teachers.spans import check_spans
from tests.fake_openai_server import FakeOpenAI, answer_in
from tests.test_rules_teacher import BOIL, GROW, INCLINE

KEY = "sk-cli-secret-key-42"


def _episode(task_id: str, variation: int, actions: list[str]) -> Episode:
    steps = [Step(action=a, observation="", score=0, reward=0) for a in actions]
    return Episode(task_id, "task", variation, "train", f"Task {task_id}.", steps=steps)


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    episodes = [_episode("1-1", 0, BOIL), _episode("5-1", 0, GROW), _episode("9-1", 0, INCLINE)]
    write_episodes(tmp_path / "oracle" / "train.jsonl.gz", episodes)
    return tmp_path


def _run(workspace: Path, *args: str, env: dict[str, str] | None = None):
    base = {"COLUMNS": "200", "OPENAI_API_KEY": KEY, "OPENAI_BASE_URL": "", "SUBGOAL_TEACHER": ""}
    return CliRunner().invoke(app, ["-w", str(workspace), "annotate", *args], env={**base, **(env or {})})


def _annotated(workspace: Path, teacher: str = "rules") -> list[Episode]:
    return load_episodes(workspace / "annotated" / f"train.{teacher}.jsonl.gz")


def test_rules_annotates_everything_and_resumes(workspace):
    result = _run(workspace)
    assert result.exit_code == 0, result.output
    episodes = _annotated(workspace)
    assert [e.key for e in episodes] == [("1-1", 0), ("5-1", 0), ("9-1", 0)]
    for ep in episodes:
        check_spans(ep.subgoals, len(ep.steps))
        assert ep.meta["teacher"] == "rules"
    assert "templates" in result.stdout and "9-1" in result.stdout

    again = _run(workspace)
    assert again.exit_code == 0 and len(_annotated(workspace)) == 3
    assert "│         0 │             3 │" in again.stdout  # nothing annotated, three already there


def test_interrupted_output_is_repaired_and_finished(workspace):
    assert _run(workspace, "--limit", "2").exit_code == 0
    target = workspace / "annotated" / "train.rules.jsonl.gz"
    data = target.read_bytes()
    target.write_bytes(data[:-7])  # a crash in the middle of writing the second episode
    result = _run(workspace)
    assert result.exit_code == 0, result.output
    assert [e.key for e in _annotated(workspace)] == [("1-1", 0), ("5-1", 0), ("9-1", 0)]


def test_limit_and_tasks(workspace):
    assert _run(workspace, "--limit", "1").exit_code == 0
    assert len(_annotated(workspace)) == 1
    assert _run(workspace, "--tasks", "9-*", "-o", str(workspace / "nine.gz")).exit_code == 0
    assert [e.task_id for e in load_episodes(workspace / "nine.gz")] == ["9-1"]


def test_openai_run_then_rerun_from_cache(workspace):
    with FakeOpenAI() as server:
        args = ("--teacher", "openai", "--model", "teacher-model", "--base-url", server.base_url)
        result = _run(workspace, *args, "--workers", "2")
        assert result.exit_code == 0, result.output
        assert len(server.requests) == 3
        episodes = _annotated(workspace, "openai")
        assert {e.meta["teacher"] for e in episodes} == {"openai:teacher-model"}
        assert "n/a (--price-per-1k)" in result.stdout

        # Same answers from the cache: a fresh output file, no new request.
        rerun = _run(workspace, *args, "-o", str(workspace / "again.gz"), "--price-per-1k", "0.5")
        assert rerun.exit_code == 0, rerun.output
        assert len(server.requests) == 3
        again = {e.key: e.subgoals for e in load_episodes(workspace / "again.gz")}
        assert again == {e.key: e.subgoals for e in episodes}
        assert "$0.0000" in rerun.stdout  # cache hits cost nothing
    cache = workspace / "cache" / "openai"
    assert all(KEY not in f.read_text() for f in cache.rglob("*.json"))
    for path in (workspace / "annotated").iterdir():
        with gzip.open(path) as fh:
            assert KEY not in fh.read().decode()


def test_dry_run_asks_nothing(workspace):
    with FakeOpenAI() as server:
        result = _run(
            workspace,
            "--teacher",
            "openai",
            "--model",
            "gpt-4o-mini",
            "--base-url",
            server.base_url,
            "--dry-run",
        )
        assert result.exit_code == 0, result.output
        assert server.requests == []
    assert "first prompt: 1-1 v0" in result.stdout and "pick up thermometer" in result.stdout
    assert "expected answer" in result.stdout and "1- navigate_to(kitchen) : {'open door" in result.stdout
    assert "no request made" in result.stdout and "$" in result.stdout  # gpt-4o-mini has a list price
    assert not (workspace / "annotated" / "train.openai.jsonl.gz").exists() or not _annotated(
        workspace, "openai"
    )

    rules = _run(workspace, "--dry-run")
    assert (
        rules.exit_code == 0
        and "navigate_to(kitchen)" in rules.stdout
        and "makes no requests" in rules.stdout
    )


def test_unusable_answers_fail_episodes_or_fall_back(workspace):
    with FakeOpenAI() as server:
        server.answer = lambda messages: "I would rather not."
        args = (
            "--teacher",
            "openai",
            "--model",
            "teacher-model",
            "--base-url",
            server.base_url,
            "--max-attempts",
            "2",
        )
        failed = _run(workspace, *args, "--limit", "1")
        assert failed.exit_code == 1
        assert "1-1 v0" in failed.stderr and "no usable answer in 2 attempts" in failed.stderr
        assert _annotated(workspace, "openai") == []

        fallback = _run(workspace, *args, "--on-failure", "rules")
        assert fallback.exit_code == 0, fallback.output
        episodes = _annotated(workspace, "openai")
        assert len(episodes) == 3 and all("teacher_fallback" in e.meta for e in episodes)


def test_a_run_that_failed_is_retried_by_running_it_again(workspace):
    """Rejected answers are not cached: the same command asks again, here answered in the paper's
    format (a set per sub-goal), and every episode gets the split it describes."""
    with FakeOpenAI() as server:
        args = ("--teacher", "openai", "--model", "teacher-model", "--base-url", server.base_url)
        server.answer = lambda messages: "1. fly(moon)\n- fly to the moon"
        failed = _run(workspace, *args, "--max-attempts", "2", "--workers", "1")
        assert failed.exit_code == 1 and "run the same command to retry them" in failed.stderr
        assert len(server.requests) == 6  # three episodes, two attempts each

        server.answer = answer_in("paper set")
        retried = _run(workspace, *args, "--max-attempts", "2", "--workers", "1")
        assert retried.exit_code == 0, retried.output
        assert len(server.requests) == 9
    episodes = _annotated(workspace, "openai")
    assert [e.key for e in episodes] == [("1-1", 0), ("5-1", 0), ("9-1", 0)]
    assert all(e.subgoals == segment(e.actions) for e in episodes)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--split", "valid"), "unknown split 'valid'"),
        (("--teacher", "gpt"), "unknown teacher 'gpt'"),
        (("--teacher", "openai", "--price-per-1k", "cheap"), "--price-per-1k"),
        (("--tasks", "boill"), "unknown task 'boill'"),
    ],
)
def test_bad_options_are_one_line(workspace, args, message):
    result = _run(workspace, *args)
    assert result.exit_code == 2
    assert message in result.stderr and "Traceback" not in result.output


def test_missing_oracle_file(tmp_path):
    result = _run(tmp_path)
    assert result.exit_code == 2 and "run `subgoal collect --split train` first" in result.stderr


def test_server_problems_stop_the_run_with_one_line(workspace):
    with FakeOpenAI(api_key="sk-another-key") as server:
        result = _run(
            workspace, "--teacher", "openai", "--model", "teacher-model", "--base-url", server.base_url
        )
    assert result.exit_code == 2
    assert "refused the API key (401)" in result.stderr and KEY not in result.output
    assert len(result.stderr.strip().splitlines()) <= 2

    result = _run(workspace, "--teacher", "openai", env={"OPENAI_API_KEY": ""})
    assert result.exit_code == 2 and "OPENAI_API_KEY is not set" in result.stderr


def test_output_of_another_teacher_is_not_mixed(workspace):
    target = workspace / "mixed.gz"
    assert _run(workspace, "-o", str(target), "--limit", "1").exit_code == 0
    with FakeOpenAI() as server:
        result = _run(
            workspace,
            "--teacher",
            "openai",
            "--model",
            "teacher-model",
            "--base-url",
            server.base_url,
            "-o",
            str(target),
        )
    assert result.exit_code == 2 and "annotated by rules" in result.stderr


@pytest.mark.jvm
def test_real_oracle_episodes(oracle_file, tmp_path):
    out = tmp_path / "annotated.gz"
    result = CliRunner().invoke(
        app, ["-w", str(tmp_path), "annotate", "-i", str(oracle_file), "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    for ep in load_episodes(out):
        check_spans(ep.subgoals, len(ep.steps))
