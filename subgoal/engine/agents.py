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

import functools
import queue
import re
import threading
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from subgoal.engine import stages
from subgoal.engine.episode import Episode
from subgoal.engine.examples import (
    COMPLETE_TASK,
    END_SUBGOAL,
    Context,
    context_at,
    render,
    room_of,
    visited_rooms,
)
from subgoal.engine.grounding import Grounder, normalize
from subgoal.engine.subgoals import (
    KNOWN_VERBS,
    Subgoal,
    candidates,
    focus_allowed,
    focus_head,
    grounded,
    in_view,
    is_ambiguous,
    is_answer,
    is_done,
    parse_subgoal,
    proposable,
    search_target,
)
from subgoal.engine.vocabulary import (
    NAVIGATION,
    action_parts,
    action_verb,
    answer_ready,
    delivered,
    delivery,
    fits,
    in_order,
    navigation_allowed,
    navigations_in_a_row,
    reads_the_task_object,
    renamed,
    subgoal_fits,
    task_object,
)
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

    def __init__(self, planner: Policy | None = None) -> None:
        self._inbox: queue.Queue[Any] = queue.Queue()
        self.waiting = threading.Event()
        self.turn: Turn | None = None
        self._current: str | None = None
        # With a planner, each turn also proposes the next sub-goal as a hint; a proposal that
        # changes counts the old one as done (the planner's context lists it as completed).
        self.planner = planner
        self.completed: list[str] = []
        self.last_hint: str | None = None
        # Called on the rollout's thread before each action is awaited: (valid actions, hint).
        self.announce: Callable[[list[str], str | None], None] | None = None

    def submit(self, action: str, subgoal: str | None = None) -> None:
        """Take `action` next; a `subgoal` different from the current one starts a new sub-goal."""
        self._inbox.put((action, subgoal))

    def finish(self) -> None:
        self._inbox.put(None)

    def interrupt(self) -> None:
        self._inbox.put(_STOP)

    def reset(self, episode: Episode, gold: list[str] | None = None) -> None:
        self._current = None
        self.completed, self.last_hint = [], None
        while not self._inbox.empty():  # actions typed for a previous episode do not carry over
            self._inbox.get_nowait()

    def hint(self, turn: Turn) -> str | None:
        """The planner's proposal for the next sub-goal, if there is a planner."""
        if self.planner is None:
            return None
        ctx = agent_context(turn.episode, turn.index, self.completed, policy=self.planner)
        beams = self.planner.generate(
            [render("planner", ctx, budget=self.planner.fits)], num_beams=3, num_return=1
        )
        hint = (beams[0] or [None])[0] if beams else None
        if self.last_hint and hint != self.last_hint:
            self.completed = [*self.completed, self.last_hint]
        self.last_hint = hint
        return hint

    def act(self, turn: Turn) -> Decision:
        if self.announce is not None:
            self.announce(turn.valid_actions(), self.hint(turn))
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
        self,
        inputs: list[str],
        num_beams: int = 5,
        num_return: int = 5,
        max_new_tokens: int = 32,
        allowed: list[list[str]] | None = None,
    ) -> list[list[str]]: ...

    def score(self, source: str, candidates: list[str]) -> list[float]: ...

    def fits(self, text: str) -> bool: ...


WAIT_ACTIONS = re.compile(r"^wait\d*$")


def agent_context(
    episode: Episode,
    index: int,
    completed: Sequence[str] = (),
    current: str | None = None,
    since: int = 0,
    policy: Policy | None = None,
) -> Context:
    """The Context before step `index`, built by the very function training examples come from
    (examples.context_at), so a model sees at play time exactly the format it learned. A checkpoint
    whose manifest says `"task_name_in_input": false` was trained before inputs named the task."""
    ctx = context_at(episode, index, history_from=since, completed=list(completed))
    ctx.current = current
    if policy is not None and (policy.manifest or {}).get("task_name_in_input") is False:
        ctx.task_name = ""
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


FOCUS = re.compile(r"^focus on (.+)$")
FOCUS_VERBS = frozenset({"focus_on", "focus"})  # a sub-goal's verb, an action's
MAX_SCORED = 16  # candidates scored per decision at most (scoring cost grows with their number)
FUZZY_FLOOR = 0.6  # a fuzzy grounding below this similarity is no grounding at all
DEFAULT_ALLOWANCE = 8  # steps a sub-goal may take when the executor's manifest has no table


class _LearnedAgent(Agent):
    def __init__(
        self,
        grounder: Grounder | None,
        settings: GenerationSettings | None,
        max_repeats: int,
        chooser: Policy,
    ):
        self.grounder = grounder or Grounder()
        self.settings = settings or GenerationSettings()
        self.guard = LoopGuard(max_repeats)
        # task id -> kinds of focus training saw, from the manifest of the model that picks focuses
        self.focus_heads: dict[str, list[str]] = dict((chooser.manifest or {}).get("focus_heads") or {})
        # task id -> those kinds by place: the first focus's, the second's ... (tasks focusing twice)
        self.focus_order: dict[str, list[list[str]]] = dict(
            (chooser.manifest or {}).get("focus_heads_in_order") or {}
        )
        # task id -> the verbs (and the one room) its train plans use (vocabulary.py); None: unbounded
        self.vocabulary = (chooser.manifest or {}).get("task_vocabulary")

    def _focus_by_kind(self, episode: Episode) -> bool:
        """Whether the task names its focus only by a kind training pinned down ("the animal with
        the shortest life span", "a living thing", "the substance"), or by an order of life stages
        the look resolves (stages.py): there the focus guard is tight enough to choose a focus
        among the valid ones by the model's score. Elsewhere a focus is only ever spelled out (a
        pilot without this bound ended 18 of 30 episodes on a focus the constraint offered)."""
        return (
            bool(self.focus_heads.get(episode.task_id))
            or stages.organism(episode.task_description) is not None
        )

    def _pinned(self, turn: Turn, done: Callable[[], list[tuple[str, str]]]) -> tuple[str, str] | None:
        """An action the task's own words pin down and the simulator offers now, and the sub-goal
        it serves, or None. It is taken at once, before any model call: a focus (`_pinned_focus`)
        or the delivery the task asks for once the agent holds its thing (`_pinned_delivery`).
        The same action just taken is not pinned again: it did not do what it should."""
        focus = self._pinned_focus(turn, done)
        pinned = (focus, f"focus_on({_focus_of(focus)})") if focus else _pinned_delivery(turn)
        steps = turn.episode.steps
        if pinned is None or (steps and normalize(steps[-1].action) == normalize(pinned[0])):
            return None
        return pinned

    def _pinned_focus(self, turn: Turn, done: Callable[[], list[tuple[str, str]]]) -> str | None:
        """A valid focus the task pins down and the look shows, which the focus guard passes, or
        None:
        - where the task asks for life stages in order (stages.py), the next one: stages pass
          with time, and the s5 agents that waited or planned first found the seed grown into a
          tree (every 8-2 test plant reached its reproducing stage within 15 steps);
        - where it says "First, focus on the substance" and names it ("change the state of matter
          of tin"), the thing by that name, before any other focus: the s5 planner, trained on
          water and ice, never proposed tin in 1-4 (3.00, where the flat agent scored 39.89).
          Not water: water runs from fixtures, and every water train plan focuses on the water it
          poured into its pot."""
        episode = turn.episode
        task = episode.task_description
        thing: str | None = None  # the one name a first focus may take; None: the stage guard decides
        if stages.organism(task) is None:
            focused = any(FOCUS.match(normalize(s.action)) for s in episode.steps)
            thing = task_object(task) if _FIRST_FOCUS.search(task) and not focused else None
            if thing is None or thing in _WATER:
                return None
        for action in turn.valid_actions():
            target = _focus_of(action)
            if target is not None and thing in (None, target) and self._focus_fits(episode, target, done):
                return action
        return None

    def _focus_fits(self, episode: Episode, target: str, done: Callable[[], list[tuple[str, str]]]) -> bool:
        return self._focus_refusal(episode, target, done) is None

    def _focus_refusal(
        self, episode: Episode, target: str, done: Callable[[], list[tuple[str, str]]]
    ) -> str | None:
        """Why `focus on TARGET` may not be taken now, or None: "focus" where it is not what the
        task asks for; "answer" where it is the task's answer and what its train plans do before
        the answer is not `done()` yet ((verb, object) pairs)."""
        heads = self.focus_heads.get(episode.task_id)
        order = self.focus_order.get(episode.task_id) or []
        if order:  # the kinds training focused on at this place (7-3: the longest-lived first)
            place = sum(verb in FOCUS_VERBS for verb, _ in done())
            heads = order[place] if place < len(order) else heads
        # Where the task asks for life stages in order, the look says what a name is (the stage
        # guard below): `living thing in self watering flower pot 9` shares no word with "the
        # orange plant" and is its seedling.
        ordered = stages.organism(episode.task_description) is not None
        if not ordered and not focus_allowed(episode.task_description, target, heads):
            return "focus"
        if not _holds_the_task_object(episode, target):
            return "focus"
        if not _in_stage_order(episode, target):
            return "order"
        if is_answer(episode.task_description, target) and not answer_ready(
            self.vocabulary, episode.task_id, episode.task_description, done()
        ):
            return "answer"
        return None

    def _generate(
        self, policy: Policy, text: str, beams: int | None = None, episode: Episode | None = None
    ) -> list[str]:
        """The model's beams, best first; with `episode`, a thing its train variations were about
        renamed to this variation's (vocabulary.renamed) and the task's box and room put in
        (vocabulary.delivered), duplicates after that dropped."""
        n = beams or self.settings.num_beams
        out = policy.generate(
            [text],
            num_beams=n,
            num_return=n,
            max_new_tokens=self.settings.max_new_tokens or target_limit(policy),
        )[0]
        if episode is None:
            return out
        carrying = _carries_its_focus(episode)
        task = episode.task_description
        names = (delivered(task, renamed(self.vocabulary, episode.task_id, task, b), carrying) for b in out)
        return list(dict.fromkeys(names))

    def _allowed(self, turn: Turn, actions: Sequence[str], strict: bool = False) -> list[str]:
        """`actions` minus those the loop guard avoids in this state; if none is left, all of them
        (or none, when `strict`)."""
        self.guard.observe(turn.episode)
        avoid = {normalize(a) for a in self.guard.avoid(turn.episode.state_before(turn.index))}
        kept = [a for a in actions if normalize(a) not in avoid]
        return kept if kept or strict else list(actions)

    def _best(self, policy: Policy, text: str, candidates: list[str]) -> tuple[str, list[list[Any]]]:
        """The candidate the model scores highest, and every [candidate, log-likelihood], best first
        (kept in the decision's why for the viewer)."""
        scores = policy.score(text, candidates)
        best = max(range(len(candidates)), key=scores.__getitem__)
        order = sorted(range(len(candidates)), key=lambda i: (i != best, -scores[i]))
        return candidates[best], [[candidates[i], round(float(scores[i]), 3)] for i in order]

    def _from_beams(
        self,
        policy: Policy,
        text: str,
        beams: list[str],
        turn: Turn,
        focus_ok: Callable[[str], bool],
        on_task: Callable[[str], bool] = lambda action: True,
        score_focus: bool = False,
    ) -> tuple[str, str, dict[str, Any]]:
        """An action from generated beams, never an episode-ending mistake: an exact valid beam
        first; else the valid actions of the beams' own verbs, scored by the model; else the most
        similar valid action above FUZZY_FLOOR; else the model's score among the valid actions
        nearest its first beam; `look around` where nothing is left. A `focus on` is taken only
        where `focus_ok` accepts it (a wrong focus ends the episode at -100): from an exact beam,
        or, with `score_focus`, among the scored candidates; never by similarity.
        The third value says why, for the viewer: each beam's verdict (taken, valid, invalid,
        avoided by the loop guard, a focus the guard refused, off the task's vocabulary), the scored
        candidates, the similarity. `on_task` bounds the actions by what the task's plans use."""
        valid = self._allowed(turn, turn.valid_actions())
        valid = [a for a in valid if on_task(a)] or valid
        by_key = {normalize(a): a for a in valid}
        every = {normalize(a) for a in turn.valid_actions()}
        verdicts: list[list[str]] = []
        why: dict[str, Any] = {"beams": verdicts}
        taken: str | None = None
        for beam in beams:
            key = normalize(beam)
            hit = by_key.get(key)
            if hit is None:
                off = key in every and not on_task(beam)
                verdicts.append([beam, "off-task" if off else "avoided" if key in every else "invalid"])
            elif FOCUS.match(normalize(hit)) and not focus_ok(hit):
                verdicts.append([beam, "focus"])
            elif taken is None:
                taken = hit
                verdicts.append([beam, "taken"])
            else:
                verdicts.append([beam, "valid"])
        if taken is not None:
            return taken, "exact", why
        safe = [a for a in valid if not FOCUS.match(normalize(a))]
        verbs = {action_verb(b) for b in beams if b.strip()}
        focusable = [a for a in valid if FOCUS.match(normalize(a)) and focus_ok(a)] if score_focus else []
        pointed = [a for a in safe + focusable if action_verb(a) in verbs]
        if pointed and beams:
            ranked = _closest(beams[0], pointed, MAX_SCORED)
            action, why["scored"] = self._best(policy, text, ranked)
            return action, "scored", why
        if safe and beams and beams[0].strip():
            grounded = self.grounder.ground(beams[:1], safe)
            if grounded is not None:
                why["similarity"] = round(float(grounded.similarity), 3)
            if grounded is not None and grounded.similarity >= FUZZY_FLOOR:
                return grounded.action, grounded.method, why
            # Nothing close enough: the model's own choice among the valid actions nearest its
            # first beam. `look around` here was 37 % of the s3 flat agent's steps, and a look
            # changes nothing, so the next step asked the model the same again until the stall.
            action, why["scored"] = self._best(policy, text, _closest(beams[0], safe, MAX_SCORED))
            return action, "scored", why
        return "look around", "fallback", why


def _closest(query: str, choices: list[str], limit: int) -> list[str]:
    if len(choices) <= limit:
        return choices
    from rapidfuzz import fuzz, process

    found = process.extract(query, choices, scorer=fuzz.token_sort_ratio, limit=limit)
    return [choices[index] for _, _, index in found]


def _check_role(policy: Policy, role: str, slot: str) -> None:
    if policy.role != role:
        where = policy.manifest.get("path") or policy.manifest.get("name") or "the checkpoint"
        raise AgentError(f"{where} is a {policy.role} checkpoint, given as the {slot} (needs a {role})")


def _last_observation(turn: Turn) -> str:
    return turn.episode.steps[-1].observation if turn.episode.steps else ""


class FlatAgent(_LearnedAgent):
    """The Swift-only baseline: one model maps the context straight to the next action, with the
    same mechanics as the hierarchical agent's executor (candidate scoring, loop guard, focus guard,
    answering the simulator's "which one?" question) so that the comparison is about sub-goals."""

    name = "flat"

    def __init__(
        self,
        policy: Policy,
        grounder: Grounder | None = None,
        settings: GenerationSettings | None = None,
        max_repeats: int = 3,
    ):
        _check_role(policy, "flat", "flat policy")
        super().__init__(grounder, settings, max_repeats, chooser=policy)
        self.policy = policy

    def reset(self, episode: Episode, gold: list[str] | None = None) -> None:
        self.guard.reset()

    def act(self, turn: Turn) -> Decision:
        if is_ambiguous(_last_observation(turn)):
            return Decision("0", grounding="answer")
        acted = _acted_on(turn.episode)  # the flat agent's plan so far
        pinned = self._pinned(turn, lambda: acted)
        if pinned is not None:
            return Decision(pinned[0], grounding="pinned")
        text = render(
            "flat", agent_context(turn.episode, turn.index, policy=self.policy), budget=self.policy.fits
        )
        beams = self._generate(self.policy, text, episode=turn.episode)
        task = turn.episode.task_id
        navigation = navigation_allowed(self.vocabulary, task, navigations_in_a_row([v for v, _ in acted]))
        done = {verb for verb, _ in acted}
        action, method, why = self._from_beams(
            self.policy,
            text,
            beams,
            turn,
            focus_ok=lambda a: self._focus_fits(turn.episode, _focus_of(a) or "", lambda: acted),
            on_task=lambda a: self._on_task(turn.episode, a, navigation, done),
            score_focus=self._focus_by_kind(turn.episode),
        )
        return Decision(action, generated=beams, grounding=method, info={"why": why})

    def _on_task(self, episode: Episode, action: str, navigation: bool, done: set[str]) -> bool:
        """Whether `action` is one the task's train plans make (its vocabulary), here and now: a
        navigation only while one more in a row is allowed, a verb only after the verbs every
        train plan uses before it, a reading only of the task's thing (one parse: this runs on
        every valid action, every step)."""
        verb, room = action_parts(action)
        task = episode.task_id
        return (
            fits(self.vocabulary, task, verb, room)
            and (navigation or verb not in NAVIGATION)
            and in_order(self.vocabulary, task, verb, done)
            and (verb != "measure" or _reads_the_task_object(episode, action.rsplit(" on ", 1)[-1]))
        )

    def info(self) -> dict[str, Any]:
        return {"agent": self.name, "flat": _describe(self.policy)}


class HierarchicalAgent(_LearnedAgent):
    """Planner + executor, with the simulator as the judge of sub-goals (subgoals.py).

    The planner names a sub-goal (its best beam that is well formed, names things the agent can act
    on, and has not failed `max_failures` times). Each step the agent first asks the observations
    whether the sub-goal is done; if so it is recorded as completed and the planner chooses again.
    A sub-goal that runs past its allowance (its verb's span lengths in the training data) is
    failed: not completed, listed as failed in the planner's context. Otherwise the executor acts:
    where the sub-goal leaves one valid action, that action (no model call); where it leaves a few,
    the one the executor scores highest (`end subgoal` among them for verbs with no check); where
    it leaves none, the executor's beams, grounded with the flat agent's guards. A `focus on` is
    only ever the one the current `focus_on(X)` names; a `focus_on` the task's answer depends on
    waits for what its train plans do first (vocabulary.answer_ready), and navigations in a row,
    waits while the score stands still and repeats of one sub-goal are capped (`_refusal`).
    """

    name = "hierarchical"

    def __init__(
        self,
        planner: Policy,
        executor: Policy,
        grounder: Grounder | None = None,
        settings: GenerationSettings | None = None,
        max_repeats: int = 3,
        max_failures: int = 2,
        planner_beams: int = 8,
    ):
        _check_role(planner, "planner", "planner")
        _check_role(executor, "executor", "executor")
        super().__init__(grounder, settings, max_repeats, chooser=planner)
        self.planner, self.executor = planner, executor
        self.max_failures = max_failures
        self.planner_beams = planner_beams
        table = (executor.manifest or {}).get("subgoal_allowance") or {}
        self.allowance: dict[str, int] = {str(k): int(v) for k, v in table.items()}
        self.reset(Episode("", "", 0, "", ""))

    def reset(self, episode: Episode, gold: list[str] | None = None) -> None:
        self.guard.reset()
        self.completed: list[str] = []
        self.completed_verbs: set[str] = set()  # their verbs, for the order check of every beam
        self.failed: list[str] = []
        self.failures: dict[str, int] = {}
        self.current: str | None = None
        self.parsed: Subgoal | None = None
        self.started = 0  # step where the current attempt at the current sub-goal began
        self.first_seen: dict[str, int] = {}  # sub-goal -> step it was first pursued (its history)
        self._endings: list[str] = []
        self._episode = episode
        self._progress = (0, Counter())  # (score, sub-goals completed since the score last changed)
        self.navigations = 0  # navigate_to sub-goals acted on in a row (one found done needs no act)
        self._refused: dict[str, str] = {}  # this decision's planner beams not pursued, and why
        self.searched: set[int] = set()  # steps that teleported to look for a sub-goal's object
        self.hunted_in: set[str] = set()  # rooms where the agent looked for one (opened what is closed)

    def act(self, turn: Turn) -> Decision:
        self._episode = turn.episode
        self._refused = {}
        self._planned: dict[str, list[str]] = {}  # this decision's planner inputs -> beams
        if turn.score != self._progress[0]:
            self._progress = (turn.score, Counter())
        closed: list[str] = []
        plans: list[list[str]] = []
        instant: set[str] = set()  # sub-goals found done as soon as proposed, in this call
        episode = turn.episode
        look, inventory = turn.look, turn.inventory
        pinned = self._pinned(turn, self._completed_on)
        if pinned is not None:
            action, name = pinned
            if self.current is not None and self.current != name:
                self._close(closed, completed=False, status="preempted")
            self.current, self.parsed, self.started = name, parse_subgoal(name), turn.index
            self.first_seen.setdefault(name, turn.index)
            return self._decide(action, "pinned", closed, plans)
        for _ in range(2 * self.max_failures + 6):
            if self.current is None:
                beams = self._propose(turn, instant)
                plans.append(beams)
                if self.current is None and beams and all(normalize(b) == COMPLETE_TASK for b in beams):
                    # Only a planner trained with that label says it (ours no longer learn it).
                    return self._decide(None, None, closed, plans, generated=beams)
                if self.current is None:
                    break
            assert self.parsed is not None
            name, parsed = self.current, self.parsed
            attempt = [(s.action, s.observation) for s in episode.steps[self.started :]]
            if is_done(parsed, attempt, look, inventory, room_of(look)):
                if not attempt:
                    instant.add(name)
                self._close(closed, completed=True, status="done", acted=bool(attempt))
                continue
            searched = sum(self.started <= i < turn.index for i in self.searched)
            if len(attempt) - searched >= self.allowance.get(parsed.verb, DEFAULT_ALLOWANCE):
                self._close(closed, completed=False, status="failed")
                continue
            decision = self._pursue(turn, name, parsed, attempt, closed, plans)
            if decision is not None:
                return decision
        return self._without_subgoal(turn, closed, plans)

    def _pursue(
        self,
        turn: Turn,
        name: str,
        parsed: Subgoal,
        attempt: list[tuple[str, str]],
        closed: list[str],
        plans: list[list[str]],
    ) -> Decision | None:
        """The next action for the current sub-goal, neither done nor over its allowance: the one
        that serves it, the executor's best scored, or its grounded beams. None once the sub-goal
        is closed here (exhausted in place, or ended by the executor): the planner chooses again."""
        episode, look = turn.episode, turn.look
        if attempt and is_ambiguous(attempt[-1][1]):
            return self._decide("0", "answer", closed, plans)
        text = render(
            "executor",
            agent_context(episode, turn.index, self.completed, name, self.first_seen[name], self.executor),
            budget=self.executor.fits,
        )
        # A focus also passes what the task's thing says (`_holds_the_task_object`): the
        # planner's `focus_on(substance)` is the task's own word, and the simulator's
        # `focus on substance in inventory` was wood (s5: seven 1-x episodes ended at -100).
        served = [
            a
            for a in candidates(parsed, turn.valid_actions(), [a for a, _ in attempt])
            if not FOCUS.match(normalize(a))
            or (
                _holds_the_task_object(episode, _focus_of(a) or "")
                and _in_stage_order(episode, _focus_of(a) or "")
            )
        ]
        options = self._allowed(turn, served, strict=True)
        why: dict[str, Any] = {"served": served[:MAX_SCORED]}  # valid actions serving the sub-goal
        if len(options) < len(served):
            why["avoided"] = [a for a in served if a not in options][:MAX_SCORED]
        hunted = self._hunted(turn, parsed)
        if hunted is not None:  # what it acts on is not in view: open what is here, then look on
            why["search"] = hunted
            self.hunted_in.add((room_of(look) or "").lower())
            room = None if options else self._unseen_room(turn)
            if options or room is not None:
                self.searched.add(turn.index)  # a search step, not one of the allowance
            if room is not None:
                return self._decide(room, "search", closed, plans, why=why)
        if served and not options:
            # Every action serving it would repeat a no-op here: a measurement was seen looking
            # at the same pot for 30 steps. Over, not retried in place: done if the executor
            # may end it, else failed.
            self._close(closed, completed=not parsed.checked and bool(attempt), status="exhausted")
            return None
        if not parsed.checked and attempt:
            options.append(END_SUBGOAL)
        if len(options) == 1 and options[0] != END_SUBGOAL:
            return self._decide(options[0], "subgoal", closed, plans, why=why)
        if options:
            ranked = _closest(name, options, MAX_SCORED)
            if END_SUBGOAL in options and END_SUBGOAL not in ranked:
                ranked[-1] = END_SUBGOAL
            action, why["scored"] = self._best(self.executor, text, ranked)
            if action == END_SUBGOAL:
                self._close(closed, completed=True, status="ended")
                return None
            return self._decide(action, "scored", closed, plans, why=why)
        beams = self._generate(self.executor, text, episode=episode)
        real = [b for b in beams if normalize(b) != END_SUBGOAL]
        target = parsed.args[0] if parsed.verb == "focus_on" and parsed.args else None
        action, method, why = self._from_beams(
            self.executor,
            text,
            real,
            turn,
            focus_ok=lambda a, t=target: t is not None and _focus_of(a) == t,
        )
        return self._decide(action, method, closed, plans, generated=beams, why=why)

    def _without_subgoal(self, turn: Turn, closed: list[str], plans: list[list[str]]) -> Decision:
        """Nothing left to pursue: the executor acts without a sub-goal rather than stop early."""
        episode = turn.episode
        text = render(
            "executor",
            agent_context(episode, turn.index, self.completed, policy=self.executor),
            budget=self.executor.fits,
        )
        beams = [
            b for b in self._generate(self.executor, text, episode=episode) if normalize(b) != END_SUBGOAL
        ]
        action, method, why = self._from_beams(self.executor, text, beams, turn, focus_ok=lambda a: False)
        return self._decide(action, method, closed, plans, generated=beams, why=why)

    def _hunted(self, turn: Turn, parsed: Subgoal) -> str | None:
        """The thing the sub-goal acts on, where the task names its kind and nothing in view or in
        the inventory is of that kind (subgoals.search_target): 1-x asks to boil rubber wherever it
        lies, and a planner trained on variations where it lay elsewhere sends the agent to the
        kitchen (s3: "it picks up the thermometer and the metal pot, then wanders"). None otherwise."""
        target = search_target(parsed, turn.episode.task_description)
        if target is None or in_view(target, turn.valid_actions(), turn.inventory):
            return None
        return target

    def _unseen_room(self, turn: Turn) -> str | None:
        """A teleport to a room not seen yet in this episode, the rooms the task names first ("...
        located around the kitchen": searched, its containers opened, even if the agent passed
        through it before), else the simulator's order; only the one room of a task played in one
        room (its vocabulary). Each room is searched once, so a search ends."""
        seen = {room.lower() for room in visited_rooms(turn.episode, turn.index)}
        task = turn.episode.task_description.lower()
        here = (room_of(turn.look) or "").lower()
        only = ((self.vocabulary or {}).get(turn.episode.task_id) or {}).get("rooms")

        def worth(room: str) -> bool:
            unseen = room not in seen or (room in task and room not in self.hunted_in)
            return unseen and room != here and (not only or room in only)

        rooms = []  # (not named by the task, teleport), in the simulator's order
        for action in turn.valid_actions():
            verb, name = action_parts(action)
            room = (name or "").lower()
            if verb == "teleport to" and worth(room):
                rooms.append((room not in task, action))
        return min(rooms, key=lambda r: r[0])[1] if rooms else None  # min keeps the first of equals

    def _decide(
        self,
        action: str | None,
        method: str | None,
        closed: list[str],
        plans: list[list[str]],
        generated: list[str] | None = None,
        why: dict[str, Any] | None = None,
    ) -> Decision:
        info: dict[str, Any] = {"plans": plans} if plans else {}
        beams = {b for call in plans for b in call}
        refused = {b: r for b, r in self._refused.items() if b in beams}
        if refused:  # the planner's beams this decision would not pursue, and why (the why pane)
            why = {**(why or {}), "refused": refused}
        if why:  # how the action was chosen among its candidates (the viewer's why pane)
            info["why"] = why
        if (
            self._endings
        ):  # how the sub-goals closed in this decision ended: done / failed / ended / exhausted
            info["endings"], self._endings = self._endings, []
        return Decision(
            action,
            generated=generated,
            grounding=method,
            subgoal=self.current,
            closed=tuple(closed),
            info=info,
        )

    def _close(self, closed: list[str], completed: bool, status: str, acted: bool = True) -> None:
        assert self.current is not None
        if acted:
            self.navigations = self.navigations + 1 if self.parsed and self.parsed.verb in NAVIGATION else 0
        closed.append(self.current)
        self._endings.append(status)
        if completed:
            if acted or self.current not in self.completed:  # a held thing re-proposed: no repeat
                self.completed.append(self.current)
                if self.parsed is not None:
                    self.completed_verbs.add(self.parsed.verb)
            if acted:  # found done before any action: not a repeat of the work
                self._progress[1][self.current] += 1
        elif status != "preempted":  # set aside for a stage in view: not the sub-goal's fault
            self.failures[self.current] = self.failures.get(self.current, 0) + 1
            if self.current not in self.failed:
                self.failed.append(self.current)
        self.current, self.parsed = None, None

    def _propose(self, turn: Turn, instant: set[str]) -> list[str]:
        """Ask the planner; pursue its best acceptable beam. Returns the beams (all planner calls').

        Preference: a beam that names exactly a sub-goal the valid actions offer now (subgoals.
        proposable), or one of a verb proposable does not know; else the planner's choice among those, by beam search constrained to them;
        else a beam whose names at least appear in view, the task or the inventory; else any
        well-formed beam (the executor then falls back to generation)."""
        ctx = agent_context(turn.episode, turn.index, self.completed, policy=self.planner)
        ctx.failed = list(self.failed)
        text = render("planner", ctx, budget=self.planner.fits)
        width = max(self.planner_beams, self.settings.num_beams)
        if text not in self._planned:  # asked again within one decision, the same input: the same beams
            self._planned[text] = self._generate(self.planner, text, width, episode=turn.episode)
        beams = list(self._planned[text])
        if beams and all(normalize(b) == COMPLETE_TASK for b in beams):
            return beams  # an old planner ending the episode: act() decides
        valid = turn.valid_actions()
        offered = dict.fromkeys(proposable(valid))  # ordered: the same choice on every run
        usable = [u for u in beams if self._acceptable(u, instant)]
        # A verb this module does not know (an LLM teacher's) cannot be checked against the offer.
        # A thing the task names that is not in view yet is looked for (`_hunted`), not given up,
        # while a room is left to look in (asked once: it is the same for every beam).
        search_left = functools.cache(lambda: self._unseen_room(turn) is not None)
        exact = [
            b
            for b in usable
            if b in offered
            or (parsed := parse_subgoal(b)).verb not in KNOWN_VERBS
            or (self._hunted(turn, parsed) and search_left())
        ]
        if not exact:
            # A focus by constraint only where the task names its focus by a kind (_focus_by_kind):
            # a wrong focus ends the episode at -100.
            by_kind = self._focus_by_kind(turn.episode)
            options = [
                name
                for name in offered
                if self._acceptable(name, instant) and (by_kind or not name.startswith("focus_on("))
            ]
            if options:
                limit = self.settings.max_new_tokens or target_limit(self.planner)
                constrained = self.planner.generate(
                    [text], num_beams=width, num_return=width, max_new_tokens=limit, allowed=[options]
                )[0]
                beams = beams + constrained
                exact = [b for b in constrained if b in offered and self._acceptable(b, instant)]
        loose = [
            b
            for b in usable
            if grounded(parse_subgoal(b), valid, turn.episode.task_description, turn.inventory)
        ]
        choice = (exact or loose or usable or [None])[0]
        if choice is not None:
            self.current, self.parsed = choice, parse_subgoal(choice)
            self.started = turn.index
            self.first_seen.setdefault(choice, turn.index)
        return beams

    def _acceptable(self, name: str, instant: set[str]) -> bool:
        reason = self._refusal(name, instant)
        if reason is not None:
            self._refused.setdefault(name, reason)
        return reason is None

    def _refusal(self, name: str, instant: set[str]) -> str | None:
        """Why the agent will not pursue sub-goal `name` now (a REFUSALS key), or None."""
        parsed = parse_subgoal(name)
        if parsed is None or normalize(name) == COMPLETE_TASK:
            return "malformed"
        if name in instant:
            return "done"
        if self.failures.get(name, 0) >= self.max_failures:
            return "failed"
        if parsed.verb == "focus_on":
            refused = self._focus_refusal(
                self._episode, parsed.args[0] if parsed.args else "", self._completed_on
            )
            if refused:
                return refused
        if parsed.verb == "measure_temperature" and not _reads_the_task_object(
            self._episode, ", ".join(parsed.args)
        ):
            return "measure"
        if parsed.verb in NAVIGATION and not navigation_allowed(
            self.vocabulary, self._episode.task_id, self.navigations
        ):
            return "navigation"
        if parsed.verb in ONCE and name in self.completed:
            return "once"
        if not subgoal_fits(self.vocabulary, self._episode.task_id, name):
            return "off-task"
        if not in_order(self.vocabulary, self._episode.task_id, parsed.verb, self.completed_verbs):
            return "early"
        idle = self._progress[1]  # sub-goals completed since the score last changed
        if parsed.verb == "wait" and sum(n for s, n in idle.items() if s.startswith("wait(")) >= IDLE_WAITS:
            return "idle"
        if idle[name] >= REPEATS_WITHOUT_PROGRESS.get(parsed.verb, REPEATS_DEFAULT):
            return "repeated"
        return None

    def _completed_on(self) -> list[tuple[str, str]]:
        """Each completed sub-goal's verb and what it was done to. A temperature counts as measured
        where the thermometer was used on it: the executor may end `measure_temperature(X)` without
        a reading (a 2-3 episode looked at the substance, ended it and chose a box)."""
        pairs = []
        for name in self.completed:
            parsed = parse_subgoal(name)
            if parsed is not None and parsed.verb != "measure_temperature":
                pairs.append((parsed.verb, ", ".join(parsed.args)))
        read = [what for verb, what in _acted_on(self._episode) if verb == "measure"]
        return pairs + [("measure_temperature", what) for what in read]

    def info(self) -> dict[str, Any]:
        return {"agent": self.name, "planner": _describe(self.planner), "executor": _describe(self.executor)}


# "First, focus on the substance.": the 1-x tasks' first instruction.
_FIRST_FOCUS = re.compile(r"\bfirst, focus on the substance\b", re.I)
_WATER = frozenset({"water", "ice", "steam"})

# Sub-goals that are never worth pursuing twice in one episode (a second focus ends it at -100).
# Not pick_up: every 1-x train plan picks the metal pot up again after it stood on the stove, and
# a pick-up of a thing already held is found done instead (subgoals.is_done).
ONCE = frozenset({"focus_on"})
# How often a sub-goal may be completed while the score stands still. A from-scratch planner was
# seen sending the agent between two rooms until the stall limit (143 of 271 test episodes
# repeated a teleport 3+ times without a score change): the next repeat waits until the score
# moves, so the planner's next-best sub-goal gets its turn. Train plans complete a fill three times
# without a score change between, a heat or a measurement once: the default is one more than that.
REPEATS_WITHOUT_PROGRESS = {"navigate_to": 2}
REPEATS_DEFAULT = 4
# Waits of any length while the score stands still. No train plan of any task waits twice without
# a score change between; the planner proposed `wait(2)` 23 times in a row, and a 3-1 episode
# waited 37 steps in five waits of different lengths.
IDLE_WAITS = 2


def _acted_on(episode: Episode) -> list[tuple[str, str]]:
    """Each action's verb and what it was done to (`use thermometer on tin` -> measure, tin)."""
    return [(action_verb(s.action), s.action.rsplit(" on ", 1)[-1]) for s in episode.steps]


def _holds_the_task_object(episode: Episode, target: str) -> bool:
    """For `substance in X`, the simulator's name for what X holds, whether X holds the thing the
    task is about ("a metal pot (containing water)" for "boil water"). Train plans focus so only
    on water they poured into the pot; a 1-1 "boil tin" episode focused on `substance in
    fountain` (water) and ended at -100. True for every other target, and where the task names
    no thing (vocabulary.task_object)."""
    match = re.fullmatch(r"substance in (.+)", normalize(target))
    thing = task_object(episode.task_description)
    if match is None or thing is None:
        return True
    look, inventory = episode.state_before(len(episode.steps))
    where = re.escape(match.group(1))
    return bool(
        re.search(rf"\b{where} \(containing [^)]*\b{re.escape(thing)}\b", f"{look}\n{inventory}".lower())
    )


def _in_stage_order(episode: Episode, target: str) -> bool:
    """Whether `focus on TARGET` keeps the order of life stages the task asks for (stages.py),
    each earlier focus judged by the look before it."""
    focused = [
        (m.group(1), episode.state_before(i)[0])
        for i, s in enumerate(episode.steps)
        if (m := FOCUS.match(normalize(s.action)))
    ]
    look = episode.state_before(len(episode.steps))[0]
    return stages.in_order(episode.task_description, target, look, focused)


def _pinned_delivery(turn: Turn) -> tuple[str, str] | None:
    """Where the task says where its thing goes ("move it to the yellow box in the living room")
    and the agent holds what it focused on: the move into that box where the box is in view, else
    the teleport to that room. The s5 planner, holding the turtle egg in the living room beside
    the yellow box, went on to the workshop: 4-1 episodes stalled at 83 of 100."""
    found = delivery(turn.episode.task_description)
    if found is None or not _carries_its_focus(turn.episode):
        return None
    box, room = found
    focused = [m.group(1) for s in turn.episode.steps if (m := FOCUS.match(normalize(s.action)))]
    # Its name, stage words aside (`adult apple tree` is `apple tree in flower pot 1`), not only
    # its head: holding a banana tree, the agent had focused on an apple tree.
    name = set(re.findall(r"[a-z0-9]+", focused[-1].lower())) - stages.STAGE_WORDS
    valid = turn.valid_actions()
    for action in valid:
        move = re.fullmatch(rf"move (.+?)(?: in inventory)? to {re.escape(box)}", normalize(action))
        if move and name <= set(re.findall(r"[a-z0-9]+", move.group(1))):
            return action, f"move({move.group(1)}, {box})"
    if (room_of(turn.look) or "").lower() != room and f"teleport to {room}" in valid:
        return f"teleport to {room}", f"navigate_to({room})"
    return None


def _carries_its_focus(episode: Episode) -> bool:
    """Whether the inventory holds the kind of thing the agent last focused on."""
    focused = [m.group(1) for s in episode.steps if (m := FOCUS.match(normalize(s.action)))]
    if not focused:
        return False
    inventory = episode.state_before(len(episode.steps))[1].lower()
    return focus_head(focused[-1]) in re.findall(r"[a-z0-9-]+", inventory)


def _reads_the_task_object(episode: Episode, target: str) -> bool:
    """Whether a temperature reading of `target` reads the task's thing (vocabulary), the look and
    inventory saying what a container holds."""
    return reads_the_task_object(
        episode.task_description,
        target,
        lambda where: _holds_the_task_object(episode, f"substance in {where}"),
    )


def _focus_of(action: str) -> str | None:
    match = FOCUS.match(normalize(action))
    return match.group(1) if match else None


def _describe(policy: Policy) -> dict[str, Any]:
    manifest = policy.manifest or {}
    keys = ("name", "path", "role", "preset", "data_hash", "seed")
    return {k: manifest[k] for k in keys if k in manifest}
