"""Progress where stderr is not a terminal: plain lines a log file shows while the job runs."""

from __future__ import annotations

from subgoal import console


def test_without_a_terminal_progress_is_a_line_every_few_seconds_and_one_at_the_end(capsys):
    now = [0.0]
    bar = console.LineProgress(every=30, clock=lambda: now[0])
    with bar:
        task = bar.add_task("eval hierarchical", total=4, score="")
        bar.update(task, completed=1, score="mean 50.0")
        assert capsys.readouterr().err == ""  # not yet 30 s
        now[0] = 31.0
        bar.update(task, completed=2, score="mean 40.0")
        assert (
            capsys.readouterr().err == "eval hierarchical 2/4 · mean 40.0 · elapsed 0:00:31 · eta 0:00:31\n"
        )
        now[0] = 40.0
        bar.advance(task, 2)
    assert capsys.readouterr().err == "eval hierarchical 4/4 · mean 40.0 · elapsed 0:00:40 · eta 0:00:00\n"
    bar.update(task, completed=4)  # stopped: silent
    assert capsys.readouterr().err == ""


def test_progress_is_a_bar_on_a_terminal_and_lines_elsewhere(monkeypatch):
    monkeypatch.setattr(console.err, "_force_terminal", False)
    assert isinstance(console.progress(), console.LineProgress)
    monkeypatch.setattr(console.err, "_force_terminal", True)
    assert not isinstance(console.progress(), console.LineProgress)
