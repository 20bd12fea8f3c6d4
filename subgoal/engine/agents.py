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
import threading
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from subgoal.engine.episode import Episode
from subgoal.engine.examples import (
    COMPLETE_TASK,
    END_SUBGOAL,
    INPUT_FORMAT,
    Context,
    context_at,
    input_format_of,
    render,
    room_of,
)
from subgoal.engine.grounding import Grounder, normalize
from subgoal.engine.rules import RuleSet, caps, neighbours, rename, search, which
from subgoal.engine.rules import focus as focus_rules
from subgoal.engine.rules.answer import placed_in
from subgoal.engine.rules.focus import FOCUS, TaskStats, acted_on, focus_of
from subgoal.engine.rules.loop_guard import LoopGuard
from subgoal.engine.rules.neighbours import PlanNeighbours
from subgoal.engine.rules.pins import pinned
from subgoal.engine.rules.plan_prior import PlanPrior, best_first
from subgoal.engine.rules.stand_in import StandIns, Swap, SwappedPolicy
from subgoal.engine.rules.vocabulary import (
    NAVIGATION,
    action_parts,
    action_verb,
    fits,
    in_order,
    navigation_allowed,
    navigations_in_a_row,
    subgoal_fits,
)
from subgoal.engine.subgoals import (
    KNOWN_VERBS,
    Subgoal,
    candidates,
    grounded,
    is_ambiguous,
    is_done,
    parse_subgoal,
    proposable,
    unlabelled_key,
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


def agent_context(
    episode: Episode,
    index: int,
    completed: Sequence[str] = (),
    current: str | None = None,
    since: int = 0,
    policy: Policy | None = None,
) -> Context:
    """The Context before step `index`, built by the very function training examples come from
    (examples.context_at), in the layout the model learned (examples.input_format_of)."""
    layout = input_format_of(policy.manifest) if policy is not None else INPUT_FORMAT
    ctx = context_at(episode, index, history_from=since, completed=list(completed), input_format=layout)
    ctx.current = current
    return ctx


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


MAX_SCORED = 16  # candidates scored per decision at most (scoring cost grows with their number)
FUZZY_FLOOR = 0.6  # a fuzzy grounding below this similarity is no grounding at all
DEFAULT_ALLOWANCE = 8  # steps a sub-goal may take when the executor's manifest has no table
# The planner's beams per call. 16 rather than 8: the gold sub-goal is among them on 71.9 % of the
# dev planner examples against 60.7 %, and plan-prior ranks it first on 50.1 % against 44.8 %
# (RESULTS §24).
PLANNER_BEAMS = 16


class _LearnedAgent(Agent):
    """What the flat and hierarchical agents share: generation, grounding of beams, the loop guard
    and the focus rules, each consulted through `self.rules` (rules/: what a level switches on)."""

    def __init__(
        self,
        grounder: Grounder | None,
        settings: GenerationSettings | None,
        max_repeats: int,
        chooser: Policy,
        rules: RuleSet | None = None,
        stand_ins: StandIns | None = None,
    ):
        self.grounder = grounder or Grounder()
        self.settings = settings or GenerationSettings()
        self.guard = LoopGuard(max_repeats)
        self.rules = rules or RuleSet()
        self.stand_ins = stand_ins  # the train tasks' names (stand-ins), if the checkpoint has them
        self._swapped: list[SwappedPolicy] = []
        # What the train plans of each task say (focus kinds, vocabulary), from the manifest of the
        # model that picks focuses; read only by task-level rules.
        self.stats = TaskStats.from_manifest(chooser.manifest)

    @property
    def vocabulary(self) -> Any:
        return self.stats.vocabulary

    def _swapping(self, policy: Policy) -> Policy:
        """`policy`, reading stand-ins for the names of each episode's task no train task gave
        (stand-ins, rules/stand_in.py); the policy itself without a table of train tasks."""
        if self.stand_ins is None:
            return policy
        swapped = SwappedPolicy(policy, on_swap=lambda: self.rules.acted("stand-ins"))
        self._swapped.append(swapped)
        return swapped  # type: ignore[return-value]

    def _begin(self, episode: Episode) -> None:
        """Set this episode's stand-ins on the swapping policies."""
        swap = Swap()
        if self.stand_ins is not None and episode.task_description and self.rules.on("stand-ins"):
            swap = self.stand_ins.swap(episode.task_description)
        for policy in self._swapped:
            policy.swap = swap

    def _pinned(self, turn: Turn, done: focus_rules.Done) -> tuple[str, str] | None:
        """An action the task's own words pin down and the simulator offers now, and the sub-goal
        it serves, or None (rules/pins.py)."""
        return pinned(self.rules, self.stats, turn.episode, turn.look, turn.valid_actions, done)

    def _focus_fits(self, episode: Episode, target: str, done: focus_rules.Done) -> bool:
        return focus_rules.refusal(self.rules, self.stats, episode, target, done) is None

    def _generate(
        self, policy: Policy, text: str, beams: int | None = None, episode: Episode | None = None
    ) -> list[str]:
        """The model's beams, best first; with `episode` and rename-beams on, a thing its train
        variations were about renamed to this variation's (vocabulary.renamed) and the task's box
        and room put in (vocabulary.delivered), duplicates after that dropped."""
        n = beams or self.settings.num_beams
        out = policy.generate(
            [text],
            num_beams=n,
            num_return=n,
            max_new_tokens=self.settings.max_new_tokens or target_limit(policy),
        )[0]
        return out if episode is None else rename.rewrite(self.rules, self.vocabulary, episode, out)

    def _allowed(self, turn: Turn, actions: Sequence[str], strict: bool = False) -> list[str]:
        """`actions` minus those the loop guard avoids in this state; if none is left, all of them
        (or none, when `strict`)."""
        if not self.rules.on("loop-guard"):
            return list(actions)
        self.guard.observe(turn.episode)
        avoid = {normalize(a) for a in self.guard.avoid(turn.episode.state_before(turn.index))}
        kept = [a for a in actions if normalize(a) not in avoid]
        if len(kept) < len(actions):
            self.rules.acted("loop-guard")
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
        """An action from generated beams (ground-beams): an exact valid beam first; else, with
        score-candidates, the valid actions of the beams' own verbs scored by the model, else the
        model's score among the valid actions nearest its first beam where none is similar enough;
        else the most similar valid action; `look around` where nothing is left. A `focus on` is
        taken only from an exact beam that `focus_ok` accepts (focus-exact: a wrong focus ends the
        episode at -100), or with `score_focus` among the scored candidates; never by similarity.
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
        scoring = self.rules.on("score-candidates")
        if scoring:
            verbs = {action_verb(b) for b in beams if b.strip()}
            focusable = [a for a in valid if FOCUS.match(normalize(a)) and focus_ok(a)] if score_focus else []
            pointed = [a for a in safe + focusable if action_verb(a) in verbs]
            if pointed and beams:
                self.rules.acted("score-candidates")
                ranked = _closest(beams[0], pointed, MAX_SCORED)
                action, why["scored"] = self._best(policy, text, ranked)
                if action in focusable:
                    self.rules.acted("focus-by-kind")
                return action, "scored", why
        if safe and beams and beams[0].strip():
            grounded = self.grounder.ground(beams[:1], safe)
            if grounded is not None:
                why["similarity"] = round(float(grounded.similarity), 3)
            if grounded is not None and (grounded.similarity >= FUZZY_FLOOR or not scoring):
                return grounded.action, grounded.method, why
            # Nothing close enough: the model's own choice among the valid actions nearest its
            # first beam. `look around` here was 37 % of a flat agent's steps, and a look changes
            # nothing, so the next step asked the model the same again until the stall.
            self.rules.acted("score-candidates")
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
    same mechanics as the hierarchical agent's executor (candidate scoring, loop guard, focus rules,
    answering the simulator's "which one?" question) so that the comparison is about sub-goals."""

    name = "flat"

    def __init__(
        self,
        policy: Policy,
        grounder: Grounder | None = None,
        settings: GenerationSettings | None = None,
        max_repeats: int = 3,
        rules: RuleSet | None = None,
        stand_ins: StandIns | None = None,
        plan_neighbours: PlanNeighbours | None = None,
    ):
        _check_role(policy, "flat", "flat policy")
        super().__init__(grounder, settings, max_repeats, chooser=policy, rules=rules, stand_ins=stand_ins)
        self.policy = self._swapping(policy)
        self.plan_neighbours = plan_neighbours  # its train actions by description (plan-neighbours)

    def reset(self, episode: Episode, gold: list[str] | None = None) -> None:
        self.guard.reset()
        self.rules.take()
        self._begin(episode)

    def act(self, turn: Turn) -> Decision:
        decision = self._act(turn)
        acted = self.rules.take()
        if acted:  # the rules that made, refused or rewrote something in this decision (the why pane)
            decision.info.setdefault("why", {})["rules"] = acted
        return decision

    def _act(self, turn: Turn) -> Decision:
        if self.rules.on("which-one") and is_ambiguous(_last_observation(turn)):
            self.rules.acted("which-one")
            fits = functools.partial(self._focus_fits, turn.episode, done=lambda: acted_on(turn.episode))
            return Decision(which.answer(_last_observation(turn), fits), grounding="answer")
        acted = acted_on(turn.episode)  # the flat agent's plan so far
        pin = self._pinned(turn, lambda: acted)
        if pin is not None:
            return Decision(pin[0], grounding="pinned")
        text = render(
            "flat", agent_context(turn.episode, turn.index, policy=self.policy), budget=self.policy.fits
        )
        beams = self._reranked(text, self._generate(self.policy, text, episode=turn.episode), turn.episode)
        task = turn.episode.task_id
        navigation = navigation_allowed(self.vocabulary, task, navigations_in_a_row([v for v, _ in acted]))
        done = {verb for verb, _ in acted}
        action, method, why = self._from_beams(
            self.policy,
            text,
            beams,
            turn,
            focus_ok=lambda a: self._focus_fits(turn.episode, focus_of(a) or "", lambda: acted),
            on_task=lambda a: self._on_task(turn.episode, a, navigation, done),
            score_focus=focus_rules.by_kind(self.rules, self.stats, turn.episode),
        )
        return Decision(action, generated=beams, grounding=method, info={"why": why})

    def _reranked(self, text: str, beams: list[str], episode: Episode) -> list[str]:
        """plan-neighbours: the beams joined by the next actions of the nearest train episodes, and
        all best first by the model's score plus their votes (rules/neighbours.py)."""
        if self.plan_neighbours is None or not self.rules.on("plan-neighbours"):
            return beams
        done = neighbours.steps_of(episode, "flat")  # the agent's actions, as the train plans' are kept
        votes: Counter[str] = Counter()
        for action, weight in self.plan_neighbours.votes(episode.task_description, done).items():
            votes[normalize(action)] += weight
        if not votes:
            return beams
        joined = neighbours.joined(beams, votes)
        scores = self.policy.score(text, joined)
        order = best_first(joined, scores, [neighbours.logp(votes, n, len(joined)) for n in joined])
        if order[0] != (beams or [None])[0]:
            self.rules.acted("plan-neighbours")
        return order

    def _on_task(self, episode: Episode, action: str, navigation: bool, done: set[str]) -> bool:
        """Whether `action` is one the task's train plans make (task-vocabulary), here and now: a
        navigation only while one more in a row is allowed, a verb only after the verbs every
        train plan uses before it; a reading only of the task's thing (measure-guard). One parse:
        this runs on every valid action, every step."""
        verb, room = action_parts(action)
        if self.rules.on("task-vocabulary"):
            task = episode.task_id
            if not (
                fits(self.vocabulary, task, verb, room)
                and (navigation or verb not in NAVIGATION)
                and in_order(self.vocabulary, task, verb, done)
            ):
                self.rules.acted("task-vocabulary")
                return False
        if verb == "move":  # placing the task's thing in its answer box (answer-reading)
            box = placed_in(action)
            return box is None or not focus_rules.answer_held(self.rules, episode, box, "place")
        return verb != "measure" or not focus_rules.measure_refused(
            self.rules, episode, action.rsplit(" on ", 1)[-1]
        )

    def info(self) -> dict[str, Any]:
        return {"agent": self.name, "flat": _describe(self.policy), "rules": self.rules.setting}


class HierarchicalAgent(_LearnedAgent):
    """Planner + executor. The planner names a sub-goal (its best beam that is well formed); the
    executor acts on it until it says `end subgoal`; then the planner chooses again. The rules
    layer adds, by level (rules/registry.py): the simulator as the judge of sub-goals (done when
    the observations show it, failed past its verb's allowance: subgoal-done, subgoal-allowance),
    the executor choosing among the valid actions that serve its sub-goal (subgoal-candidates),
    the planner's beams preferred where the valid actions make them possible (planner-offer),
    caps on repeats (repeat-caps), a search for a thing not in view (search-rooms), and the
    task-level pins, focus rules and vocabulary."""

    name = "hierarchical"

    def __init__(
        self,
        planner: Policy,
        executor: Policy,
        grounder: Grounder | None = None,
        settings: GenerationSettings | None = None,
        max_repeats: int = 3,
        max_failures: int = caps.MAX_FAILURES,
        planner_beams: int = PLANNER_BEAMS,
        rules: RuleSet | None = None,
        plan_prior: PlanPrior | None = None,
        stand_ins: StandIns | None = None,
        plan_neighbours: PlanNeighbours | None = None,
    ):
        _check_role(planner, "planner", "planner")
        _check_role(executor, "executor", "executor")
        super().__init__(grounder, settings, max_repeats, chooser=planner, rules=rules, stand_ins=stand_ins)
        self.planner, self.executor = self._swapping(planner), self._swapping(executor)
        self.max_failures = max_failures
        self.planner_beams = planner_beams
        self.plan_prior = plan_prior  # counts of the planner's train plans (plan-prior), if it has them
        self.plan_neighbours = plan_neighbours  # its train plans by description (plan-neighbours), if kept
        table = (executor.manifest or {}).get("subgoal_allowance") or {}
        self.allowance: dict[str, int] = {str(k): int(v) for k, v in table.items()}
        self.reset(Episode("", "", 0, "", ""))

    def reset(self, episode: Episode, gold: list[str] | None = None) -> None:
        self.guard.reset()
        self.rules.take()
        self.completed: list[str] = []
        self.completed_verbs: set[str] = set()  # their verbs, for the order check of every beam
        self.failures: dict[str, int] = {}  # sub-goals given up on, in order, and how often
        self.current: str | None = None
        self.parsed: Subgoal | None = None
        self.started = 0  # step where the current attempt at the current sub-goal began
        self.first_seen: dict[str, int] = {}  # sub-goal -> step it was first pursued (its history)
        self._endings: list[str] = []
        self._episode = episode
        self._begin(episode)
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
        pin = self._pinned(turn, self._completed_on)
        if pin is not None:
            action, name = pin
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
            if self.rules.on("subgoal-done") and is_done(parsed, attempt, look, inventory, room_of(look)):
                self.rules.acted("subgoal-done")
                if not attempt:
                    instant.add(name)
                self._close(closed, completed=True, status="done", acted=bool(attempt))
                continue
            searched = sum(self.started <= i < turn.index for i in self.searched)
            if self.rules.on("subgoal-allowance") and len(attempt) - searched >= self.allowance.get(
                parsed.verb, DEFAULT_ALLOWANCE
            ):
                self.rules.acted("subgoal-allowance")
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
        """The next action for the current sub-goal: the one that serves it, the executor's best
        scored, or its grounded beams. None once the sub-goal is closed here (exhausted in place,
        or ended by the executor): the planner chooses again."""
        episode, look = turn.episode, turn.look
        if attempt and self.rules.on("which-one") and is_ambiguous(attempt[-1][1]):
            self.rules.acted("which-one")
            fits = functools.partial(self._focus_fits, episode, done=self._completed_on)
            return self._decide(which.answer(attempt[-1][1], fits), "answer", closed, plans)
        text = render(
            "executor",
            agent_context(episode, turn.index, self.completed, name, self.first_seen[name], self.executor),
            budget=self.executor.fits,
        )
        why: dict[str, Any] = {}
        if self.rules.on("search-rooms"):
            hunted = search.hunted(episode, parsed, turn.valid_actions(), turn.inventory)
        else:
            hunted = None
        candidates_on = self.rules.on("subgoal-candidates")
        if candidates_on:
            # A focus spelled from `focus_on(X)` also passes the task-level focus rules.
            served = [
                a
                for a in candidates(parsed, turn.valid_actions(), [a for a, _ in attempt])
                if not FOCUS.match(normalize(a)) or focus_rules.fits(self.rules, episode, focus_of(a) or "")
            ]
            options = self._allowed(turn, served, strict=True)
            why["served"] = served[:MAX_SCORED]  # valid actions serving the sub-goal
            if len(options) < len(served):
                why["avoided"] = [a for a in served if a not in options][:MAX_SCORED]
        else:
            served, options = [], []
        if hunted is not None:  # what it acts on is not in view: open what is here, then look on
            self.rules.acted("search-rooms")
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
        if candidates_on and not parsed.checked and attempt:  # even with none served: it may end
            options.append(END_SUBGOAL)
        if len(options) == 1 and options[0] != END_SUBGOAL:
            self.rules.acted("subgoal-candidates")
            return self._decide(options[0], "subgoal", closed, plans, why=why)
        if options:
            self.rules.acted("subgoal-candidates")
            ranked = _closest(name, options, MAX_SCORED)
            if END_SUBGOAL in options and END_SUBGOAL not in ranked:
                ranked[-1] = END_SUBGOAL
            action, why["scored"] = self._best(self.executor, text, ranked)
            if action == END_SUBGOAL:
                self._close(closed, completed=True, status="ended")
                return None
            return self._decide(action, "scored", closed, plans, why=why)
        beams = self._generate(self.executor, text, episode=episode)
        if not candidates_on and attempt and beams and normalize(beams[0]) == END_SUBGOAL:
            # The paper's executor ends its sub-goal by saying so (with subgoal-candidates,
            # `end subgoal` is one of the scored options instead).
            self._close(closed, completed=True, status="ended")
            return None
        real = [b for b in beams if normalize(b) != END_SUBGOAL]
        target = parsed.args[0] if parsed.verb == "focus_on" and parsed.args else None
        action, method, grounded_why = self._from_beams(
            self.executor,
            text,
            real,
            turn,
            focus_ok=lambda a: self._named_focus(a, target),
        )
        return self._decide(action, method, closed, plans, generated=beams, why={**why, **grounded_why})

    def _without_subgoal(self, turn: Turn, closed: list[str], plans: list[list[str]]) -> Decision:
        """Nothing left to pursue: the executor acts without a sub-goal rather than stop early
        (with focus-as-named on, it never focuses then)."""
        episode = turn.episode
        text = render(
            "executor",
            agent_context(episode, turn.index, self.completed, policy=self.executor),
            budget=self.executor.fits,
        )
        beams = [
            b for b in self._generate(self.executor, text, episode=episode) if normalize(b) != END_SUBGOAL
        ]
        action, method, why = self._from_beams(
            self.executor, text, beams, turn, focus_ok=lambda a: self._named_focus(a, None)
        )
        return self._decide(action, method, closed, plans, generated=beams, why=why)

    def _named_focus(self, action: str, target: str | None) -> bool:
        """focus-as-named: a `focus on` only of what the current `focus_on(X)` names (None: no
        sub-goal names one, so none)."""
        if not self.rules.on("focus-as-named"):
            return True
        if target is not None and focus_of(action) == target:
            return True
        self.rules.acted("focus-as-named")
        return False

    def _unseen_room(self, turn: Turn) -> str | None:
        return search.unseen_room(
            self.rules,
            self.vocabulary,
            turn.episode,
            turn.index,
            turn.look,
            turn.valid_actions(),
            self.hunted_in,
        )

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
        acted = self.rules.take()
        if acted:  # the rules that made, refused or rewrote something in this decision
            why = {**(why or {}), "rules": acted}
        if why:  # how the action was chosen among its candidates (the viewer's why pane)
            info["why"] = why
        if self._endings:  # how the sub-goals closed in this decision: done / failed / ended / exhausted
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
        self.current, self.parsed = None, None

    def _propose(self, turn: Turn, instant: set[str]) -> list[str]:
        """Ask the planner; pursue its best acceptable beam. Returns the beams (all planner calls').

        With planner-offer on, the preference: a beam that names exactly a sub-goal the valid
        actions offer now (subgoals.proposable), or one of a verb proposable does not know; else the
        planner's choice among those, by beam search constrained to them; else a beam whose names
        at least appear in view, the task or the inventory; else any well-formed beam (the executor
        then falls back to generation). Without it but with planner-grounded, the first well-formed
        beam whose names appear there, else the first well-formed beam; with neither, the first."""
        ctx = agent_context(turn.episode, turn.index, self.completed, policy=self.planner)
        # Not told what failed: no train example has failures, and a field never seen in training
        # cost 2.46 on dev (RESULTS §19); repeat-caps keeps a failed sub-goal from coming back.
        text = render("planner", ctx, budget=self.planner.fits)
        width = max(self.planner_beams, self.settings.num_beams)
        if text not in self._planned:  # asked again within one decision, the same input: the same beams
            generated = self._generate(self.planner, text, width, episode=turn.episode)
            self._planned[text] = self._reranked(text, generated)
        beams = list(self._planned[text])
        if beams and all(normalize(b) == COMPLETE_TASK for b in beams):
            return beams  # an old planner ending the episode: act() decides
        usable = [u for u in beams if self._acceptable(u, instant)]
        exact: list[str] = []
        loose: list[str] = []
        preferring = None  # the rule that may prefer another beam than the first usable one
        if self.rules.on("planner-offer"):
            preferring = "planner-offer"
            beams, exact, loose = self._offered(turn, text, width, beams, usable, instant)
        else:
            grounding, constraining = self.rules.on("planner-grounded"), self.rules.on("planner-constrained")
            grounded_beams = self._grounded(turn, usable) if grounding or constraining else []
            if grounding:
                preferring, loose = "planner-grounded", grounded_beams
            if constraining and not grounded_beams:
                exact = self._offered_alike(turn, text, usable or beams, instant)
                preferring = "planner-constrained" if exact else preferring
        choice = (exact or loose or usable or [None])[0]
        if choice is not None:
            if preferring and choice != (usable or [None])[0]:
                self.rules.acted(preferring)
            self.current, self.parsed = choice, parse_subgoal(choice)
            self.started = turn.index
            self.first_seen.setdefault(choice, turn.index)
        return beams

    def _reranked(self, text: str, beams: list[str]) -> list[str]:
        """plan-neighbours: the beams joined by the next sub-goals of the nearest train plans; then
        plan-prior and plan-neighbours: all best first by the planner's score plus the train plans'
        counts after the sub-goals completed and the nearest plans' votes (rules/plan_prior.py,
        rules/neighbours.py)."""
        task = self._episode.task_description
        prior = self.plan_prior if self.rules.on("plan-prior") else None
        table = self.plan_neighbours if self.rules.on("plan-neighbours") else None
        votes = table.votes(task, self.completed) if table is not None else None
        joined = neighbours.joined(beams, votes) if votes else list(beams)
        if (prior is None and not votes) or len(joined) < 2:
            return joined  # nothing to order (the beams, or the one step the nearest plans add)
        scores = self.planner.score(text, joined)
        by_prior = [prior.logp(self.completed, n, task) if prior is not None else 0.0 for n in joined]
        by_votes = [neighbours.logp(votes, n, len(joined)) if votes else 0.0 for n in joined]
        order = best_first(joined, scores, by_prior, by_votes)
        without_votes = best_first(beams, scores[: len(beams)], by_prior) or [None]
        if without_votes[0] != (beams or [None])[0]:
            self.rules.acted("plan-prior")
        if order[0] != without_votes[0]:
            self.rules.acted("plan-neighbours")
        return order

    def _offered(
        self, turn: Turn, text: str, width: int, beams: list[str], usable: list[str], instant: set[str]
    ) -> tuple[list[str], list[str], list[str]]:
        """planner-offer: (the beams, constrained ones added), the usable beams the valid actions
        offer exactly, and those whose names at least appear in view, the task or the inventory."""
        valid = turn.valid_actions()
        offered = dict.fromkeys(proposable(valid))  # ordered: the same choice on every run
        # A verb this module does not know (an LLM teacher's) cannot be checked against the offer.
        # With search-rooms, a thing the task names that is not in view yet is looked for, not
        # given up, while a room is left to look in (asked once: it is the same for every beam).
        search_left = functools.cache(lambda: self._unseen_room(turn) is not None)

        def looked_for(parsed: Subgoal | None) -> bool:
            if parsed is None or not self.rules.on("search-rooms"):
                return False
            return search.hunted(turn.episode, parsed, valid, turn.inventory) is not None and search_left()

        # Offered as the valid actions spell it, but for a label they leave out (`unknown substance B`).
        keys = functools.cache(lambda: {unlabelled_key(name) for name in offered})
        exact = [
            b
            for b in usable
            if b in offered
            or unlabelled_key(b) in keys()
            or (parsed := parse_subgoal(b)).verb not in KNOWN_VERBS
            or looked_for(parsed)
        ]
        if not exact:
            # A focus by constraint only where the task names its focus by a kind (focus-by-kind):
            # a wrong focus ends the episode at -100.
            by_kind = focus_rules.by_kind(self.rules, self.stats, turn.episode)
            beams, exact = self._constrained(offered, text, width, beams, instant, focus=by_kind)
            if exact and exact[0].startswith("focus_on("):
                self.rules.acted("focus-by-kind")
        return beams, exact, self._grounded(turn, usable)

    def _offered_alike(self, turn: Turn, text: str, beams: list[str], instant: set[str]) -> list[str]:
        """planner-constrained: the sub-goals the valid actions offer with the verb of the first beam
        that has any (no focus: a wrong one ends the episode), the MAX_SCORED most like that beam,
        best first by the planner's own score. Not a constrained beam search: forced off its spelling
        at one word (`egg giant tortoise egg`), the planner's likeliest sequence went elsewhere
        (dev, RESULTS §26)."""
        from rapidfuzz import fuzz

        by_verb: dict[str, list[str]] = {}
        for name in proposable(turn.valid_actions()):
            parsed = parse_subgoal(name)
            if parsed is not None and parsed.verb != "focus_on":
                by_verb.setdefault(parsed.verb, []).append(name)
        for beam in beams:
            parsed = parse_subgoal(beam)
            verb = parsed.verb if parsed else None
            options = [o for o in by_verb.get(verb or "", []) if self._acceptable(o, instant)]
            if options:
                alike = sorted(options, key=lambda o: -fuzz.token_sort_ratio(beam, o))[:MAX_SCORED]
                scores = self.planner.score(text, alike)
                return [o for _, o in sorted(zip(scores, alike, strict=True), key=lambda p: -p[0])]
        return []

    def _constrained(
        self,
        offered: dict[str, None],
        text: str,
        width: int,
        beams: list[str],
        instant: set[str],
        focus: bool,
    ) -> tuple[list[str], list[str]]:
        """The planner asked again, its beams constrained to the acceptable sub-goals `offered` by the
        valid actions now (a focus among them only if `focus`): (the beams with those added, the
        constrained beams it may pursue, best first)."""
        options = [
            name
            for name in offered
            if (focus or not name.startswith("focus_on(")) and self._acceptable(name, instant)
        ]
        if not options:
            return beams, []
        limit = self.settings.max_new_tokens or target_limit(self.planner)
        constrained = self.planner.generate(
            [text], num_beams=width, num_return=width, max_new_tokens=limit, allowed=[options]
        )[0]
        exact = [b for b in constrained if b in offered and self._acceptable(b, instant)]
        return beams + constrained, exact

    def _grounded(self, turn: Turn, usable: list[str]) -> list[str]:
        """The usable beams whose names appear in a valid action, the task or the inventory
        (planner-grounded, and planner-offer's second choice)."""
        valid, task = turn.valid_actions(), turn.episode.task_description
        return [b for b in usable if grounded(parse_subgoal(b), valid, task, turn.inventory)]

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
        rules, episode = self.rules, self._episode
        if name in instant:  # found done as soon as proposed (subgoal-done)
            return "done"
        if parsed.verb == "focus_on":
            target = parsed.args[0] if parsed.args else ""
            refused = focus_rules.refusal(rules, self.stats, episode, target, self._completed_on)
            if refused:
                return refused
        if (
            parsed.verb == "move"
            and len(parsed.args) == 2
            and focus_rules.answer_held(rules, episode, parsed.args[1], "place")
        ):
            return "unread"
        if parsed.verb == "measure_temperature" and focus_rules.measure_refused(
            rules, episode, ", ".join(parsed.args)
        ):
            return "measure"
        if rules.on("task-vocabulary"):
            task = episode.task_id
            reason = None
            if parsed.verb in NAVIGATION and not navigation_allowed(self.vocabulary, task, self.navigations):
                reason = "navigation"
            elif not subgoal_fits(self.vocabulary, task, name):
                reason = "off-task"
            elif not in_order(self.vocabulary, task, parsed.verb, self.completed_verbs):
                reason = "early"
            if reason:
                rules.acted("task-vocabulary")
                return reason
        if rules.on("repeat-caps"):
            failures = self.failures.get(name, 0)
            reason = caps.refusal(
                name, parsed.verb, self.completed, self._progress[1], failures, self.max_failures
            )
            if reason:
                rules.acted("repeat-caps")
                return reason
        return None

    def _completed_on(self) -> list[tuple[str, str]]:
        """Each completed sub-goal's verb and what it was done to. A temperature counts as measured
        where the thermometer was used on it: the executor may end `measure_temperature(X)` without
        a reading."""
        pairs = []
        for name in self.completed:
            parsed = parse_subgoal(name)
            if parsed is not None and parsed.verb != "measure_temperature":
                pairs.append((parsed.verb, ", ".join(parsed.args)))
        read = [what for verb, what in acted_on(self._episode) if verb == "measure"]
        return pairs + [("measure_temperature", what) for what in read]

    def info(self) -> dict[str, Any]:
        return {
            "agent": self.name,
            "planner": _describe(self.planner),
            "executor": _describe(self.executor),
            "rules": self.rules.setting,
        }


def _describe(policy: Policy) -> dict[str, Any]:
    manifest = policy.manifest or {}
    keys = ("name", "path", "role", "preset", "data_hash", "seed")
    return {k: manifest[k] for k in keys if k in manifest}
