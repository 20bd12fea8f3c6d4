import gzip
import json

import pytest

from subgoal.engine.episode import (
    Episode,
    EpisodeWriter,
    Step,
    SubgoalSpan,
    load_episodes,
    repair,
    write_episodes,
)
from subgoal.errors import EpisodeFileError


def make_episode(variation: int = 0, steps: int = 3) -> Episode:
    return Episode(
        task_id="4-2",
        task_name="find-non-living-thing",
        variation=variation,
        split="train",
        task_description="Your task is to find a(n) non-living thing.",
        initial_look="This room is called the hallway.",
        initial_inventory="In your inventory, you see: an orange",
        steps=[
            Step(f"action {i}", f"obs {i} — ünïcode", score=10 * (i + 1), reward=10, look=f"look {i}")
            for i in range(steps)
        ],
        subgoals=[SubgoalSpan("navigate_to(kitchen)", 0, 1), SubgoalSpan("focus_on(x)", 1, steps)],
        meta={"scienceworld": "1.2.3"},
    )


def test_round_trip(tmp_path):
    path = tmp_path / "e.jsonl.gz"
    episodes = [make_episode(v) for v in range(3)]
    assert write_episodes(path, episodes) == 3
    assert load_episodes(path) == episodes


def test_every_line_is_versioned(tmp_path):
    path = tmp_path / "e.jsonl.gz"
    write_episodes(path, [make_episode()])
    record = json.loads(gzip.decompress(path.read_bytes()))
    assert record["format"] == "subgoal.episode" and record["version"] == 1


def test_state_before_and_scores():
    ep = make_episode(steps=3)
    assert ep.state_before(0) == (ep.initial_look, ep.initial_inventory)
    assert ep.state_before(2) == ("look 1", "")
    assert ep.final_score == 30 and ep.subgoal_at(2).name == "focus_on(x)"
    ep.steps[-1].score = -100
    assert ep.clamped_score == 0


def test_appends_are_readable_as_one_file(tmp_path):
    path = tmp_path / "e.jsonl.gz"
    for v in range(3):
        with EpisodeWriter(path) as writer:
            writer.append(make_episode(v))
    assert [e.variation for e in load_episodes(path)] == [0, 1, 2]


def test_truncated_tail_names_the_line_and_repair_keeps_complete_episodes(tmp_path):
    path = tmp_path / "e.jsonl.gz"
    with EpisodeWriter(path) as writer:
        for v in range(3):
            writer.append(make_episode(v))
    data = path.read_bytes()
    path.write_bytes(data[:-25])  # a crash in the middle of writing the third episode
    with pytest.raises(EpisodeFileError, match=r"e\.jsonl\.gz:3: truncated"):
        load_episodes(path)
    kept = repair(path)
    assert [e.variation for e in kept] == [0, 1]
    assert [e.variation for e in load_episodes(path)] == [0, 1]


def test_corrupt_line_names_file_and_line_and_is_not_repaired_away(tmp_path):
    path = tmp_path / "bad.jsonl.gz"
    good = json.dumps(make_episode().to_json())
    path.write_bytes(gzip.compress(f"{good}\n{{not json\n{good}\n".encode()))
    with pytest.raises(EpisodeFileError, match=r"bad\.jsonl\.gz:2: corrupt episode"):
        load_episodes(path)
    with pytest.raises(EpisodeFileError):
        repair(path)  # real corruption in the middle must reach the user


def test_repair_rewrites_only_what_a_crash_leaves(tmp_path):
    notes = tmp_path / "notes.jsonl.gz"
    notes.write_text("my notes\n")  # not gzip at all: someone else's file, given as an output
    with pytest.raises(EpisodeFileError, match=r"notes\.jsonl\.gz:1: truncated or corrupt file"):
        repair(notes)
    assert notes.read_text() == "my notes\n"
    first = tmp_path / "first.jsonl.gz"
    first.write_bytes(b"\x1f")  # killed one byte into its first episode
    assert repair(first) == [] and load_episodes(first) == []


def test_not_an_episode_record(tmp_path):
    path = tmp_path / "other.jsonl.gz"
    path.write_bytes(gzip.compress(b'{"hello": 1}\n'))
    with pytest.raises(EpisodeFileError, match=":1: corrupt"):
        load_episodes(path)


def test_newer_format_version_is_refused(tmp_path):
    path = tmp_path / "new.jsonl.gz"
    record = make_episode().to_json() | {"version": 99}
    path.write_bytes(gzip.compress((json.dumps(record) + "\n").encode()))
    with pytest.raises(EpisodeFileError, match="newer"):
        load_episodes(path)


def test_plain_text_file_is_reported(tmp_path):
    path = tmp_path / "plain.jsonl.gz"
    path.write_text("not gzip at all\n")
    with pytest.raises(EpisodeFileError, match=r"plain\.jsonl\.gz:1"):
        load_episodes(path)


def test_missing_file(tmp_path):
    with pytest.raises(EpisodeFileError, match="no such episode file"):
        load_episodes(tmp_path / "nope.jsonl.gz")


def test_atomic_write_keeps_old_file_on_failure(tmp_path):
    path = tmp_path / "e.jsonl.gz"
    write_episodes(path, [make_episode(0)])

    def broken():
        yield make_episode(1)
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        write_episodes(path, broken())
    assert [e.variation for e in load_episodes(path)] == [0]
    assert [p.name for p in tmp_path.iterdir()] == ["e.jsonl.gz"]  # no temp file left behind
