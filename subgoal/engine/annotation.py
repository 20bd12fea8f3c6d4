"""Annotate an oracle episode file with a teacher, resumably.

Episodes already in the output are skipped (after `repair` drops a tail cut by a crash); each newly
annotated episode is appended and flushed, so an interrupted run loses at most the episodes in
flight. One output file holds one teacher's work: resuming with another teacher is refused.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field, replace
from pathlib import Path
from statistics import mean

from subgoal.engine.episode import Episode, EpisodeWriter, read_episodes, repair
from subgoal.engine.tasks import Task
from subgoal.engine.teachers import Annotation, AnnotationFailed, Teacher, Usage
from subgoal.errors import TeacherError, TeacherUnavailable


@dataclass
class AnnotateReport:
    annotated: int = 0
    skipped: int = 0  # already in the output
    fallbacks: int = 0  # annotated by the rules teacher after the LLM teacher failed
    failures: list[str] = field(default_factory=list)  # one line per episode left out
    usage: Usage = field(default_factory=Usage)


def select(source: Path, tasks: Iterable[Task] | None = None, limit: int | None = None) -> list[Episode]:
    """The oracle episodes to annotate: those of `tasks` (all when None), the first `limit` of them."""
    wanted = {t.id for t in tasks} if tasks is not None else None
    chosen = [ep for ep in read_episodes(source) if wanted is None or ep.task_id in wanted]
    return chosen[:limit] if limit is not None else chosen


def pending(episodes: list[Episode], target: Path, identity: str) -> tuple[list[Episode], int]:
    """The episodes not yet in `target`, and how many are; refuses a file made by another teacher."""
    done = repair(target)
    others = {ep.meta.get("teacher") for ep in done} - {identity}
    if others:
        raise TeacherError(
            f"{target} holds episodes annotated by {', '.join(sorted(map(str, others)))}, not {identity}; "
            "choose another --output or remove it"
        )
    keys = {ep.key for ep in done}
    todo = [ep for ep in episodes if ep.key not in keys]
    return todo, len(episodes) - len(todo)


def annotated(episode: Episode, annotation: Annotation, identity: str) -> Episode:
    meta = {**episode.meta, "teacher": identity}
    if annotation.note:
        meta["teacher_fallback"] = {"by": annotation.teacher, "reason": annotation.note}
    return replace(episode, subgoals=annotation.spans, meta=meta)


def annotate(
    todo: list[Episode],
    target: Path,
    teacher: Teacher,
    workers: int = 1,
    on_done: Callable[[Episode, Annotation | None, str | None], None] | None = None,
) -> AnnotateReport:
    """Annotate `todo` into `target` with at most `workers` episodes in flight.

    An episode the teacher cannot annotate is reported and left out (a re-run retries it); a server
    that cannot be used at all stops the run, keeping what was written.
    """
    report = AnnotateReport()
    identity = teacher.identity
    queue = iter(enumerate(todo))
    # Results are written in input order (the same input gives the same file), so a finished episode
    # may wait for an earlier one; `ready` holds those, and bounds how far ahead work may run.
    ready: dict[int, tuple[Episode, Annotation | None, str | None]] = {}
    next_to_write = 0
    with EpisodeWriter(target) as writer, ThreadPoolExecutor(max_workers=workers) as pool:
        running: dict[Future[Annotation], tuple[int, Episode]] = {}

        def refill() -> None:
            while len(running) + len(ready) < 2 * workers and (item := next(queue, None)) is not None:
                running[pool.submit(teacher.annotate, item[1])] = item

        def write(episode: Episode, annotation: Annotation | None, problem: str | None) -> None:
            if annotation is None:
                report.failures.append(problem or "unknown failure")
            else:
                writer.append(annotated(episode, annotation, identity))
                report.annotated += 1
                report.fallbacks += annotation.note is not None
                report.usage.add(annotation.usage)
            if on_done:
                on_done(episode, annotation, problem)

        refill()
        try:
            while running:
                finished, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in finished:
                    index, episode = running.pop(future)
                    try:
                        annotation = future.result()
                        ready[index] = (episode, annotation, annotation.note)
                    except TeacherUnavailable:
                        raise
                    except TeacherError as exc:
                        ready[index] = (episode, None, str(exc))
                        if isinstance(exc, AnnotationFailed):  # its requests were paid for too
                            report.usage.add(exc.usage)
                while next_to_write in ready:
                    write(*ready.pop(next_to_write))
                    next_to_write += 1
                refill()
        except BaseException:
            for future in running:
                future.cancel()
            raise
    return report


@dataclass
class TaskVocabulary:
    task_id: str
    episodes: int
    subgoals: int
    templates: int  # distinct sub-goal verbs: navigate_to, pick_up, heat...
    distinct: int  # distinct sub-goals with their arguments
    steps_per_subgoal: float
    top: list[str]  # the most frequent verbs


def vocabulary(episodes: Iterable[Episode]) -> list[TaskVocabulary]:
    """Per task: how many distinct sub-goal templates the annotation uses, and their mean length."""
    by_task: dict[str, list[Episode]] = defaultdict(list)
    for ep in episodes:
        by_task[ep.task_id].append(ep)
    rows = []
    for task_id, eps in by_task.items():
        spans = [s for ep in eps for s in ep.subgoals]
        verbs = [s.name.split("(", 1)[0] for s in spans]
        counts: dict[str, int] = defaultdict(int)
        for verb in verbs:
            counts[verb] += 1
        rows.append(
            TaskVocabulary(
                task_id=task_id,
                episodes=len(eps),
                subgoals=len(spans),
                templates=len(counts),
                distinct=len({s.name for s in spans}),
                steps_per_subgoal=mean(len(s) for s in spans) if spans else 0.0,
                top=sorted(counts, key=lambda v: (-counts[v], v))[:3],
            )
        )
    order = {tid: k for k, tid in enumerate(_task_order())}
    return sorted(rows, key=lambda r: order.get(r.task_id, len(order)))


def _task_order() -> list[str]:
    from subgoal.engine.tasks import TASKS

    return [t.id for t in TASKS]
