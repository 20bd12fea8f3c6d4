"""Agents: what chooses the next action. The rollout (rollout.py) is the only caller.

An agent sees a `Turn` (the episode so far and a lazy list of valid actions) and answers with a
`Decision`: the action, how it was chosen, the sub-goal it serves, and the sub-goals that ended
since its last decision. It never touches the simulator itself, so the same agent runs in the eval
pool, in a test, or behind the TUI.

- `OracleAgent` replays a gold path (with its sub-goal spans when the episode is annotated).
- `HumanAgent` waits for actions supplied from another thread (the TUI's input box).
- `FlatAgent` and `HierarchicalAgent` run trained policies (models.py); their inputs are rendered
  with examples.render from the same `Context` training used, so they see the training format.
"""

from __future__ import annotations

import queue
import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from subgoal.engine.episode import Episode
from subgoal.engine.examples import COMPLETE_TASK, END_SUBGOAL, Context, context_at, render
from subgoal.engine.grounding import Grounder, normalize
from subgoal.errors import AgentError


@dataclass
class Turn:
    """What the agent knows before step `index`: the episode so far (its last step's look and
    inventory are the current state), and the valid actions, fetched only when asked for (each
    costs 50-270 ms of simulator time that a replaying agent never needs)."""

    episode: Episode
    valid_actions: Callable[[], list[str]]

    @property
    def index(self) -> int:
        return len(self.episode.steps)

    @property
    def look(self) -> str:
        return self.episode.state_before(self.index)[0]

    @property
    def inventory(self) -> str:
        return self.episode.state_before(self.index)[1]

    @property
    def score(self) -> int:
        return self.episode.final_score


@dataclass
class Decision:
    action: str | None  # None: the agent ends the episode
    generated: list[str] | None = None  # the model's beams, best first
    grounding: str | None = None  # "exact" | "fuzzy" | "embedding" | "oracle" | "human"
    subgoal: str | None = None  # the sub-goal this action serves
    closed: tuple[str, ...] = ()  # sub-goals that ended since the previous decision, in order
    info: dict[str, Any] = field(default_factory=dict)  # extra to record (Episode.meta["notes"])


class Agent:
    """Base class. `reset` starts an episode; `act` is called once per step until it returns a
    Decision whose action is None or the rollout ends the episode."""

    name = "agent"

    def reset(self, episode: Episode, gold: list[str] | None = None) -> None:
        pass

    def wants_gold(self, task_id: str, variation: int) -> bool:
        """Whether the rollout should load this variation with its gold path and pass it to reset."""
        return False

    def act(self, turn: Turn) -> Decision:
        raise NotImplementedError

    def interrupt(self) -> None:
        """Unblock an `act` that is waiting (called from another thread when a rollout stops)."""

    def info(self) -> dict[str, Any]:
        """What EpisodeStarted.info and the episode's meta record about this agent."""
        return {"agent": self.name}


# -- oracle --------------------------------------------------------------------------------------
class OracleAgent(Agent):
    """Plays gold paths. Given episodes (oracle or annotated), it replays the one for the variation
    being played, sub-goal spans included; for a variation it has no episode for, it asks the
    simulator for the gold path (no sub-goals then)."""

    name = "oracle"

    def __init__(self, episodes: Sequence[Episode] = ()):
        self.episodes = {ep.key: ep for ep in episodes}
        self._actions: list[str] = []
        self._closing: dict[int, list[str]] = {}  # step index -> names of spans ending there
        self._spans: list[tuple[int, int, str]] = []

    def wants_gold(self, task_id: str, variation: int) -> bool:
        return (task_id, variation) not in self.episodes

    def reset(self, episode: Episode, gold: list[str] | None = None) -> None:
        known = self.episodes.get(episode.key)
        if known is not None:
            self._actions = known.actions
            spans = known.subgoals
        elif gold is not None:
            self._actions, spans = list(gold), []
        else:
            raise AgentError(
                f"the oracle has no gold path for {episode.task_id} v{episode.variation}: "
                "collect it first (`subgoal collect`) or let the oracle read it from the simulator"
            )
        self._spans = [(s.start, s.end, s.name) for s in spans]
        self._closing = {}
        for _start, end, name in sorted(self._spans, key=lambda s: (s[1], s[0])):
            self._closing.setdefault(end, []).append(name)

    def act(self, turn: Turn) -> Decision:
        i = turn.index
        closed = tuple(self._closing.get(i, ()))
        if i >= len(self._actions):
            # Any span still open (or starting at the very end) closes with the episode.
            late = tuple(name for start, end, name in self._spans if end > i)
            return Decision(None, grounding="oracle", closed=closed + late)
        current = next((name for start, end, name in self._spans if start <= i < end), None)
        return Decision(self._actions[i], grounding="oracle", subgoal=current, closed=closed)


# -- human ---------------------------------------------------------------------------------------
_STOP = object()


class HumanAgent(Agent):
    """A person at the keyboard. The TUI calls `submit` from its own thread; `act` (on the rollout's
    thread) waits for it. `finish()` ends the episode; `interrupt()` unblocks a stopping rollout.
    While `waiting` is set, `turn` is the state the person is looking at (its valid_actions may
    be called for completion)."""

    name = "human"

    def __init__(self) -> None:
        self._inbox: queue.Queue[Any] = queue.Queue()
        self.waiting = threading.Event()
        self.turn: Turn | None = None
        self._current: str | None = None

    def submit(self, action: str, subgoal: str | None = None) -> None:
        """Take `action` next; a `subgoal` different from the current one starts a new sub-goal."""
        self._inbox.put((action, subgoal))

    def finish(self) -> None:
        self._inbox.put(None)

    def interrupt(self) -> None:
        self._inbox.put(_STOP)

    def reset(self, episode: Episode, gold: list[str] | None = None) -> None:
        self._current = None
        while not self._inbox.empty():  # actions typed for a previous episode do not carry over
            self._inbox.get_nowait()

    def act(self, turn: Turn) -> Decision:
        self.turn = turn
        self.waiting.set()
        try:
            item = self._inbox.get()
        finally:
            self.waiting.clear()
        if item is None or item is _STOP:
            closed = (self._current,) if self._current else ()
            return Decision(None, grounding="human", closed=closed)
        action, subgoal = item
        closed: tuple[str, ...] = ()
        if subgoal and subgoal != self._current:
            closed = (self._current,) if self._current else ()
            self._current = subgoal
        return Decision(action.strip(), grounding="human", subgoal=self._current, closed=closed)


# -- learned agents ------------------------------------------------------------------------------
class Policy(Protocol):
    """What agents need of a trained model (models.Policy implements it)."""

    role: str
    manifest: dict[str, Any]

    def generate(
        self, inputs: list[str], num_beams: int = 5, num_return: int = 5, max_new_tokens: int = 32
    ) -> list[list[str]]: ...

    def fits(self, text: str) -> bool: ...


WAIT_ACTIONS = re.compile(r"^wait\d*$")


def agent_context(
    episode: Episode, index: int, completed: Sequence[str] = (), current: str | None = None, since: int = 0
) -> Context:
    """The Context before step `index`, built by the very function training examples come from
    (examples.context_at), so a model sees at play time exactly the format it learned."""
    ctx = context_at(episode, index, history_from=since, completed=list(completed))
    ctx.current = current
    return ctx


class LoopGuard:
    """Remembers which actions changed nothing in which state, and how often each action was taken
    in each state, so grounding can skip them. A from-scratch CPU model was seen looping on doors
    until the step limit (DESIGN.md); waiting is exempt, since time passing is how some tasks
    progress without the room's description changing."""

    def __init__(self, max_repeats: int = 3):
        self.max_repeats = max_repeats
        self._noop: dict[tuple[str, str], set[str]] = {}
        self._count: dict[tuple[tuple[str, str], str], int] = {}
        self._seen = 0

    def observe(self, episode: Episode) -> None:
        for index in range(self._seen, len(episode.steps)):
            step = episode.steps[index]
            state = episode.state_before(index)
            action = normalize(step.action)
            if WAIT_ACTIONS.match(action.replace(" ", "")):
                continue
            self._count[(state, action)] = self._count.get((state, action), 0) + 1
            if step.reward == 0 and (step.look, step.inventory) == state:
                self._noop.setdefault(state, set()).add(action)
        self._seen = len(episode.steps)

    def avoid(self, state: tuple[str, str]) -> set[str]:
        repeated = {a for (s, a), n in self._count.items() if s == state and n >= self.max_repeats}
        return self._noop.get(state, set()) | repeated

    def reset(self) -> None:
        self._noop.clear()
        self._count.clear()
        self._seen = 0


@dataclass
class GenerationSettings:
    num_beams: int = 5
    max_new_tokens: int | None = None  # None: a little over the longest target seen in training


def target_limit(policy: Policy, default: int = 32, margin: int = 4) -> int:
    """Tokens worth generating for `policy`: its longest training target plus a margin. A model
    that has not learned to stop would otherwise run to 32 tokens on every beam, every step."""
    try:
        longest = int(policy.manifest["data"]["train"]["target_tokens"]["p100"])
    except (KeyError, TypeError, ValueError):
        return default
    return max(1, min(default, longest + margin))


class _LearnedAgent(Agent):
    def __init__(self, grounder: Grounder | None, settings: GenerationSettings | None, max_repeats: int):
        self.grounder = grounder or Grounder()
        self.settings = settings or GenerationSettings()
        self.guard = LoopGuard(max_repeats)

    def _generate(self, policy: Policy, role: str, ctx: Context) -> list[str]:
        text = render(role, ctx, budget=policy.fits)
        return policy.generate(
            [text],
            num_beams=self.settings.num_beams,
            num_return=self.settings.num_beams,
            max_new_tokens=self.settings.max_new_tokens or target_limit(policy),
        )[0]

    def _ground(self, beams: list[str], turn: Turn) -> tuple[str | None, str | None]:
        self.guard.observe(turn.episode)
        state = turn.episode.state_before(turn.index)
        valid = turn.valid_actions()
        grounded = self.grounder.ground(beams, valid, avoid=self.guard.avoid(state))
        if grounded is None:  # everything valid was avoided: repeat rather than stop
            grounded = self.grounder.ground(beams, valid)
        if grounded is None:
            return None, None
        return grounded.action, grounded.method


def _check_role(policy: Policy, role: str, slot: str) -> None:
    if policy.role != role:
        where = policy.manifest.get("path") or policy.manifest.get("name") or "the checkpoint"
        raise AgentError(f"{where} is a {policy.role} checkpoint, given as the {slot} (needs a {role})")


class FlatAgent(_LearnedAgent):
    """The Swift-only baseline: one model maps the context straight to the next action."""

    name = "flat"

    def __init__(
        self,
        policy: Policy,
        grounder: Grounder | None = None,
        settings: GenerationSettings | None = None,
        max_repeats: int = 3,
    ):
        _check_role(policy, "flat", "flat policy")
        super().__init__(grounder, settings, max_repeats)
        self.policy = policy

    def reset(self, episode: Episode, gold: list[str] | None = None) -> None:
        self.guard.reset()

    def act(self, turn: Turn) -> Decision:
        beams = self._generate(self.policy, "flat", agent_context(turn.episode, turn.index))
        action, method = self._ground(beams, turn)
        return Decision(action, generated=beams, grounding=method)

    def info(self) -> dict[str, Any]:
        return {"agent": self.name, "flat": _describe(self.policy)}


class HierarchicalAgent(_LearnedAgent):
    """Planner + executor. The planner names a sub-goal; the executor acts on it until it says
    `end subgoal` (or `subgoal_steps` actions pass); the planner then names the next one, with the
    finished ones in its context.

    Two rules keep a weak model moving. The executor may end at most `max_empty` sub-goals in a
    row before acting on any; after that its `end subgoal` is overruled and its best real action
    taken (else a planner that re-proposes the same sub-goal loops forever without a step). And
    `complete_task()` is only believed with `trust_complete`: the simulator ends a completed task
    by itself, so while the episode runs the label is premature, and the planner's best real
    sub-goal among its other beams is taken instead (a tiny planner was measured ending 6 of 6
    test episodes after one step this way).
    """

    name = "hierarchical"

    def __init__(
        self,
        planner: Policy,
        executor: Policy,
        grounder: Grounder | None = None,
        settings: GenerationSettings | None = None,
        subgoal_steps: int = 25,
        max_empty: int = 1,
        max_repeats: int = 3,
        trust_complete: bool = False,
    ):
        _check_role(planner, "planner", "planner")
        _check_role(executor, "executor", "executor")
        super().__init__(grounder, settings, max_repeats)
        self.planner, self.executor = planner, executor
        self.subgoal_steps = subgoal_steps
        self.max_empty = max_empty
        self.trust_complete = trust_complete
        self.completed: list[str] = []
        self.current: str | None = None
        self.since = 0  # step index where the current sub-goal started

    def reset(self, episode: Episode, gold: list[str] | None = None) -> None:
        self.guard.reset()
        self.completed, self.current, self.since = [], None, 0

    def act(self, turn: Turn) -> Decision:
        closed: list[str] = []
        plans: list[list[str]] = []
        empty = 0  # sub-goals ended in this call before an action was taken for them
        while True:
            if self.current is None:
                ctx = agent_context(turn.episode, turn.index, self.completed)
                beams = self._generate(self.planner, "planner", ctx)
                plans.append(beams)
                name = self._next_subgoal(beams)
                if name is None:
                    return Decision(None, generated=beams, closed=tuple(closed), info={"plans": plans})
                self.current, self.since = name, turn.index
            ctx = agent_context(turn.episode, turn.index, self.completed, self.current, self.since)
            beams = self._generate(self.executor, "executor", ctx)
            acted = turn.index > self.since
            wants_end = bool(beams) and normalize(beams[0]) == END_SUBGOAL
            over_cap = turn.index - self.since >= self.subgoal_steps
            if over_cap or (wants_end and (acted or empty < self.max_empty)):
                closed.append(self.current)
                self.completed.append(self.current)
                self.current = None
                empty += not acted
                continue
            real = [b for b in beams if normalize(b) != END_SUBGOAL]
            action, method = self._ground(real, turn)
            return Decision(
                action,
                generated=beams,
                grounding=method,
                subgoal=self.current,
                closed=tuple(closed),
                info={"plans": plans} if plans else {},
            )

    def _next_subgoal(self, beams: list[str]) -> str | None:
        """The sub-goal to pursue, or None when the planner ends the episode."""
        names = [b for b in beams if b]
        if not names or (self.trust_complete and normalize(names[0]) == COMPLETE_TASK):
            return None
        return next((n for n in names if normalize(n) != COMPLETE_TASK), None)

    def info(self) -> dict[str, Any]:
        return {"agent": self.name, "planner": _describe(self.planner), "executor": _describe(self.executor)}


def _describe(policy: Policy) -> dict[str, Any]:
    manifest = policy.manifest or {}
    keys = ("name", "path", "role", "preset", "data_hash", "seed")
    return {k: manifest[k] for k in keys if k in manifest}
