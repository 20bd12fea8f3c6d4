"""The LLM teacher against a real HTTP server on 127.0.0.1 that speaks the chat-completions API."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest

from subgoal.engine.annotation import annotate
from subgoal.engine.episode import Episode, Step
from subgoal.engine.teachers import prompt
from subgoal.engine.teachers.answers import AnswerError, parse_answer
from subgoal.engine.teachers.cache import RequestCache
from subgoal.engine.teachers.openai import OpenAITeacher, Settings
from subgoal.engine.teachers.prompt import format_plan
from subgoal.engine.teachers.rules import segment
from subgoal.engine.teachers.spans import check_spans
from subgoal.errors import TeacherError, TeacherUnavailable
from tests.fake_openai_server import SHAPES, FakeOpenAI, Reply, answer_in
from tests.test_rules_teacher import BOIL, BOOK, SEED

KEY = "sk-test-0123456789-secret"
FAST = {"retry-after-ms": "5"}  # servers may say how long to back off; the client obeys


@pytest.fixture
def server():
    with FakeOpenAI() as srv:
        yield srv


# Gold paths as the train split has them: 1-1's reads the thermometer ten times (36 actions), 4-2's
# and 10-2's names hold brackets and pass 120 characters.
PATHS = {
    "boil": [*BOIL[:16], *BOIL[16:18] * 10],
    "names": [*BOOK, f"move {SEED} to ceramic cup", "0"],
}


def _episode(actions: list[str]) -> Episode:
    steps = [Step(action=a, observation="", score=0, reward=0) for a in actions]
    return Episode("1-1", "boil", 0, "train", "Your task is to boil water.", steps=steps)


@pytest.fixture
def episode() -> Episode:
    return _episode(BOIL)


def _teacher(server, tmp_path: Path, **settings) -> OpenAITeacher:
    options = {"model": "teacher-model", "base_url": server.base_url, "max_retries": 2, **settings}
    return OpenAITeacher(Settings(**options), RequestCache(tmp_path / "cache"), api_key=KEY)


def _user_messages(request) -> list[str]:
    return [m["content"] for m in request["messages"] if m["role"] == "user"]


def test_paper_format_answer_becomes_spans_and_is_cached(server, episode, tmp_path):
    annotation = _teacher(server, tmp_path).annotate(episode)
    check_spans(annotation.spans, len(BOIL))
    assert [s.name for s in annotation.spans] == [s.name for s in segment(BOIL)]
    assert annotation.teacher == "openai:teacher-model"
    assert annotation.usage.requests == 1 and annotation.usage.prompt_tokens > 0
    # A new teacher (a re-run) over the same cache asks the server nothing.
    again = _teacher(server, tmp_path).annotate(episode)
    assert len(server.requests) == 1
    assert again.usage.cache_hits == 1 and again.usage.requests == 0
    assert again.spans == annotation.spans


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("shape", SHAPES)
def test_every_shape_models_write_is_read_in_one_request(server, shape, path, tmp_path):
    """The paper's sets (a repeated action listed once), lists, markdown, bold headers, JSON: each
    gives the split it describes, with no re-ask and no question about unclaimed actions."""
    actions = PATHS[path]
    server.answer = answer_in(shape)
    spans = _teacher(server, tmp_path).annotate(_episode(actions)).spans
    assert [(s.name, s.start, s.end) for s in spans] == [(s.name, s.start, s.end) for s in segment(actions)]
    assert len(server.requests) == 1


def test_a_rejected_answer_is_not_kept_so_the_second_run_asks_again(server, episode, tmp_path):
    server.answer = lambda messages: "1. fly(moon)\n- fly to the moon"
    with pytest.raises(TeacherError, match="no usable answer in 2 attempts"):
        _teacher(server, tmp_path, max_attempts=2).annotate(episode)
    assert len(server.requests) == 2 and not list((tmp_path / "cache").rglob("*.json"))

    server.answer = answer_in("paper set")
    annotation = _teacher(server, tmp_path, max_attempts=2).annotate(episode)
    check_spans(annotation.spans, len(BOIL))
    assert annotation.usage.requests == 1 and annotation.usage.cache_hits == 0
    assert len(server.requests) == 3


def test_a_kept_answer_that_no_longer_passes_is_asked_again(server, episode, tmp_path):
    """An older version's cache may hold answers this one rejects: they are dropped, not served."""
    teacher = _teacher(server, tmp_path)
    request = teacher.settings.request(prompt.messages(episode.task_description, episode.actions))
    teacher.cache.put(request, {"content": "Sure! Go to the kitchen, then boil.", "finish_reason": "stop"})
    annotation = teacher.annotate(episode)
    check_spans(annotation.spans, len(BOIL))
    assert annotation.usage.cache_hits == 1 and annotation.usage.requests == 1
    assert "navigate_to(kitchen)" in teacher.cache.get(request)["content"]


def test_key_is_sent_but_never_written(server, episode, tmp_path):
    _teacher(server, tmp_path).annotate(episode)
    files = list((tmp_path / "cache").rglob("*.json"))
    assert files and all(KEY not in f.read_text() for f in files)


def test_malformed_answer_is_re_asked_with_the_error(server, episode, tmp_path):
    server.script.append(Reply(content="Sure! First the agent goes to the kitchen, then it boils the water."))
    annotation = _teacher(server, tmp_path).annotate(episode)
    check_spans(annotation.spans, len(BOIL))
    assert len(server.requests) == 2
    assert "could not be used: no sub-goals found" in _user_messages(server.requests[1])[-1]


def test_unassigned_actions_are_asked_about(server, episode, tmp_path):
    plan = [(s.name, BOIL[s.start : s.end]) for s in segment(BOIL)]
    del plan[3]  # drop fill(metal pot, water): its three actions belong to no sub-goal
    server.script.append(Reply(content=format_plan(plan)))
    spans = _teacher(server, tmp_path).annotate(episode).spans
    check_spans(spans, len(BOIL))
    assert "are not in any of your sub-goals" in _user_messages(server.requests[1])[-1]
    assert ("fill(metal pot, water)", 7, 10) in [(s.name, s.start, s.end) for s in spans]


def test_answer_about_another_path_is_rejected(server, episode, tmp_path):
    server.answer = lambda messages: "1. fly(moon)\n- fly to the moon\n- land on the moon"
    with pytest.raises(TeacherError, match=r"1-1 v0: .*3 attempts.*only 0 of the 24 given actions"):
        _teacher(server, tmp_path).annotate(episode)
    assert len(server.requests) == 3


def test_failure_can_fall_back_to_rules(server, episode, tmp_path):
    server.answer = lambda messages: "no idea"
    annotation = _teacher(server, tmp_path, on_failure="rules", max_attempts=2).annotate(episode)
    assert annotation.teacher == "rules" and "no usable answer in 2 attempts" in annotation.note
    assert annotation.spans == segment(BOIL) and annotation.usage.requests == 2


def test_empty_and_truncated_answers_are_asked_again(server, episode, tmp_path):
    server.script += [
        Reply(content=""),
        Reply(content="1. navigate_to(kitchen)\n- open door", finish_reason="length"),
    ]
    annotation = _teacher(server, tmp_path).annotate(episode)
    check_spans(annotation.spans, len(BOIL))
    assert len(server.requests) == 3
    assert "cut off at 2048 tokens" in _user_messages(server.requests[2])[-1]


def test_rate_limit_then_success(server, episode, tmp_path):
    server.script += [Reply(429, raw='{"error": {"message": "slow down"}}', headers=dict(FAST))] * 2
    started = time.perf_counter()
    annotation = _teacher(server, tmp_path).annotate(episode)
    assert time.perf_counter() - started < 5
    assert len(server.requests) == 3 and annotation.usage.requests == 1


def test_server_errors_are_retried_then_fail_the_episode(server, episode, tmp_path):
    server.script += [Reply(500, raw='{"error": {"message": "boom"}}', headers=dict(FAST))] * 2
    assert _teacher(server, tmp_path).annotate(episode).usage.requests == 1  # third try answers
    server.script += [Reply(503, raw='{"error": {"message": "down"}}', headers=dict(FAST))] * 3
    with pytest.raises(TeacherError, match="answered 503") as error:
        _teacher(server, tmp_path / "fresh").annotate(episode)
    assert not isinstance(error.value, TeacherUnavailable)


def test_wrong_key_stops_everything_and_never_shows_the_key(episode, tmp_path):
    with (
        FakeOpenAI(api_key="sk-the-right-one") as srv,
        pytest.raises(TeacherUnavailable, match="401") as error,
    ):
        _teacher(srv, tmp_path).annotate(episode)
    assert KEY not in str(error.value)


def test_unknown_model(server, episode, tmp_path):
    with pytest.raises(TeacherUnavailable, match="no model 'gpt-9'"):
        _teacher(server, tmp_path, model="gpt-9").annotate(episode)


def test_garbage_server(server, episode, tmp_path):
    server.script.append(Reply(raw="<html>It works!</html>", headers={"content-type": "text/html"}))
    with pytest.raises(TeacherUnavailable, match="does not speak the chat-completions API"):
        _teacher(server, tmp_path).annotate(episode)


def test_unreachable_server(episode, tmp_path):
    with socket.socket() as sock:  # a port that nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings = Settings("teacher-model", base_url=f"http://127.0.0.1:{port}/v1", max_retries=0)
    with pytest.raises(TeacherUnavailable, match="cannot reach"):
        OpenAITeacher(settings, RequestCache(None), api_key=KEY).annotate(episode)


def test_openai_without_a_key_is_refused_up_front(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    with pytest.raises(TeacherUnavailable, match="OPENAI_API_KEY is not set"):
        OpenAITeacher(Settings("gpt-4o-mini"), RequestCache(None))


@pytest.mark.parametrize(
    "answer",
    [
        "1. navigate_to(kitchen)\n- open door to kitchen\n- go to kitchen",
        "Here is the plan:\n\n**1. navigate_to(kitchen)**\n   * `open door to kitchen`\n   * `go to kitchen`",
        "Sub-goal 1: Navigate_To( kitchen ): open door to kitchen; go to kitchen",
        "```\n1) navigate_to(kitchen)\nActions: open door to kitchen, go to kitchen\n```",
        "1. navigate_to(kitchen)\n   1. open door to kitchen\n   2. go to kitchen",
        "1- navigate_to(kitchen) : {'open door to kitchen', 'go to kitchen'}",
        '1. navigate_to(kitchen): ["open door to kitchen", "go to kitchen"]',
        "Sub-goals:\n1- navigate_to(kitchen) : {\n    'open door to kitchen',\n    'go to kitchen'\n}",
        "- **navigate_to(kitchen)**\n  - open door to kitchen\n  - go to kitchen",
        "**1. navigate_to(kitchen)**: `open door to kitchen`, `go to kitchen`",
        "### Step 1: `navigate_to(kitchen)`\n* open door to kitchen\n* go to kitchen",
        '{"subgoals": [{"name": "navigate_to(kitchen)", "actions": ["open door to kitchen", "go to kitchen"]}]}',
        '```json\n[["navigate_to(kitchen)", "open door to kitchen; go to kitchen"]]\n```',
    ],
)
def test_parser_reads_what_models_write(answer):
    groups = parse_answer(answer)
    assert [(g.name, g.actions) for g in groups] == [
        ("navigate_to(kitchen)", ("open door to kitchen", "go to kitchen"))
    ]


def test_parser_keeps_brackets_and_apostrophes_inside_names_and_actions():
    answer = "1- focus_on(book (sherlock holmes)) : {'focus on book (sherlock holmes)', 'look at bee's nest'}"
    [group] = parse_answer(answer)
    assert group.name == "focus_on(book (sherlock holmes))"
    assert group.actions == ("focus on book (sherlock holmes)", "look at bee's nest")


@pytest.mark.parametrize(
    "answer", ["", "I cannot help with that.", "1. navigate_to(kitchen)\n2. pick_up(pot)"]
)
def test_parser_rejects_answers_without_sub_goals_or_actions(answer):
    with pytest.raises(AnswerError):
        parse_answer(answer)


def test_a_cache_that_cannot_be_written_stops_the_run_with_one_line(server, episode, tmp_path):
    blocked = tmp_path / "cache"
    blocked.write_text("a file where the cache folder should be")
    with pytest.raises(TeacherUnavailable, match=r"cannot write the answer cache in .*--no-cache"):
        _teacher(server, tmp_path).annotate(episode)


def test_what_a_failed_episode_cost_is_reported(server, episode, tmp_path):
    server.answer = lambda messages: "no idea"
    report = annotate([episode], tmp_path / "out.jsonl.gz", _teacher(server, tmp_path, max_attempts=2))
    assert len(report.failures) == 1 and report.annotated == 0
    assert report.usage.requests == 2 and report.usage.completion_tokens > 0
