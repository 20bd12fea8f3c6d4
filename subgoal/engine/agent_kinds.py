"""The kinds of agent, keyed by the name `--agent` takes, and the one way to build one.

Each kind declares once its checkpoint slots (the role each must have, the option that names it),
a line of help and how it is made from loaded policies. Eval, quickstart and live play all build
agents here, from an `AgentSpec`, so every checkpoint gets the same checks on the way: its role,
the tokenizer it was trained with, whole weights.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from subgoal.engine.rules.layer import LEGACY_LEVEL, check_rules
from subgoal.errors import AgentError, CheckpointError
from subgoal.workspace import Workspace

if TYPE_CHECKING:
    from subgoal.engine.agents import Agent

PolicyFor = Callable[[str, str], Any]  # (checkpoint folder, role) -> a loaded policy


@dataclass(frozen=True)
class Slot:
    """A checkpoint an agent kind takes: its role (the AgentSpec field that holds it) and its flag."""

    role: str
    flag: str
    required: bool = True  # an optional slot is filled only when named (no newest-checkpoint default)


@dataclass(frozen=True)
class AgentKind:
    name: str
    help: str
    slots: tuple[Slot, ...]
    make: Callable[[AgentSpec, PolicyFor], Agent]
    benchmarked: bool = True  # False: plays only live (a person at the keyboard)


# -- what to play with ---------------------------------------------------------------------------
@dataclass(frozen=True)
class AgentSpec:
    """Everything needed to build an agent in any process (picklable, hashable: the worker cache key;
    saved in a run's config.json). Checkpoint fields hold resolved folder paths."""

    kind: str
    planner: str | None = None
    executor: str | None = None
    flat: str | None = None
    oracle_file: str | None = None  # oracle/annotated episodes to replay; None: the live gold path
    num_beams: int = 5
    grounding: str = "fuzzy"
    subgoal_steps: int = 25  # unused since sub-goals are checked (allowances per verb): old run configs
    device: str | None = None
    rules: str = LEGACY_LEVEL  # the rules level (rules/layer.py); configs from before levels had them all

    def __post_init__(self) -> None:
        object.__setattr__(self, "rules", check_rules(self.rules))
        for slot in kind_of(self.kind).slots:
            if slot.required and not getattr(self, slot.role):
                raise AgentError(f"the {self.kind} agent needs a {slot.role} checkpoint ({slot.flag} NAME)")

    @property
    def checkpoints(self) -> dict[str, str]:
        """role -> checkpoint folder, for the slots that are filled."""
        return {s.role: v for s in kind_of(self.kind).slots if (v := getattr(self, s.role))}

    def check(self) -> None:
        """Fail fast, before any JVM starts or weights load: each checkpoint has the right role
        and the tokenizer it was trained with, then whole weights."""
        from subgoal.checkpoints import check_weights

        for role, path in self.checkpoints.items():
            check_checkpoint(path, role)
        for path in self.checkpoints.values():
            check_weights(path)

    def build(self, policy_for: PolicyFor | None = None) -> Agent:
        """A fresh agent. `policy_for(path, role)` supplies its models (default: load them here,
        after `check()`, which the callers run once before any JVM starts)."""
        load = policy_for or (lambda path, _role: load_policy(path, self.device))
        return kind_of(self.kind).make(self, load)


# -- the kinds -----------------------------------------------------------------------------------
def _planner_and_executor(
    spec: AgentSpec, load: PolicyFor, make: Callable[..., Agent], **extra: Any
) -> Agent:
    """A hierarchical agent (or a subclass, `make`) over the spec's planner and executor."""
    from subgoal.engine.agents import GenerationSettings
    from subgoal.engine.grounding import Grounder
    from subgoal.engine.rules import RuleSet

    planner, executor = load(spec.planner, "planner"), load(spec.executor, "executor")  # type: ignore[arg-type]
    settings = GenerationSettings(spec.num_beams)
    return make(planner, executor, Grounder(spec.grounding), settings, rules=RuleSet(spec.rules), **extra)


def _hierarchical(spec: AgentSpec, load: PolicyFor) -> Agent:
    from subgoal.engine.agents import HierarchicalAgent
    from subgoal.engine.rules.neighbours import PlanNeighbours
    from subgoal.engine.rules.plan_prior import PlanPrior
    from subgoal.engine.rules.stand_in import StandIns

    prior = PlanPrior.load(spec.planner)  # None for a planner saved before plans.json
    stand_ins = StandIns.load(spec.planner)  # None for a planner saved before tasks.json
    neighbours = PlanNeighbours.load(spec.planner)  # None for a planner saved before neighbours.json
    return _planner_and_executor(
        spec, load, HierarchicalAgent, plan_prior=prior, stand_ins=stand_ins, plan_neighbours=neighbours
    )


def gold_plan_file(workspace: Workspace, split: str) -> Path:
    """Where the gold-plan agent takes its plans by default: the split's annotated episodes."""
    return workspace.annotated_file(split, "rules")


def _gold_plan(spec: AgentSpec, load: PolicyFor) -> Agent:
    from subgoal.engine.episode import load_episodes
    from subgoal.engine.gold_plan import GoldPlanAgent, gold_plans

    if not spec.oracle_file:
        raise AgentError("the gold-plan agent needs annotated episodes of the split it plays (--oracle-file)")
    plans = gold_plans(load_episodes(spec.oracle_file))
    return _planner_and_executor(spec, load, GoldPlanAgent, plans=plans)


def _flat(spec: AgentSpec, load: PolicyFor) -> Agent:
    from subgoal.engine.agents import FlatAgent, GenerationSettings
    from subgoal.engine.grounding import Grounder
    from subgoal.engine.rules import RuleSet
    from subgoal.engine.rules.neighbours import PlanNeighbours
    from subgoal.engine.rules.stand_in import StandIns

    settings = GenerationSettings(spec.num_beams)
    policy = load(spec.flat, "flat")
    rules, stand_ins = RuleSet(spec.rules), StandIns.load(spec.flat)  # None before tasks.json
    neighbours = PlanNeighbours.load(spec.flat)  # None before neighbours.json
    return FlatAgent(
        policy,  # type: ignore[arg-type]
        Grounder(spec.grounding),
        settings,
        rules=rules,
        stand_ins=stand_ins,
        plan_neighbours=neighbours,
    )


def _oracle(spec: AgentSpec, load: PolicyFor) -> Agent:
    from subgoal.engine.agents import OracleAgent
    from subgoal.engine.episode import load_episodes

    return OracleAgent(load_episodes(spec.oracle_file) if spec.oracle_file else [])


def _human(spec: AgentSpec, load: PolicyFor) -> Agent:
    from subgoal.engine.agents import HumanAgent

    return HumanAgent(load(spec.planner, "planner") if spec.planner else None)


PLANNER, EXECUTOR = Slot("planner", "--planner"), Slot("executor", "--executor")
KINDS: dict[str, AgentKind] = {
    kind.name: kind
    for kind in (
        AgentKind(
            "hierarchical",
            "a planner names sub-goals, an executor acts on them",
            (PLANNER, EXECUTOR),
            _hierarchical,
        ),
        AgentKind(
            "gold-plan",
            "the hierarchical agent with the annotated gold plan for planner: what a perfect planner is worth",
            (PLANNER, EXECUTOR),
            _gold_plan,
        ),
        AgentKind(
            "flat",
            "one model from the context straight to the action (the baseline)",
            (Slot("flat", "--checkpoint"),),
            _flat,
        ),
        AgentKind("oracle", "the gold path (with its sub-goals when annotated)", (), _oracle),
        AgentKind(
            "human",
            "you, at the keyboard (a --planner checkpoint adds hints)",
            (Slot("planner", "--planner", required=False),),
            _human,
            benchmarked=False,
        ),
    )
}


def kind_names(benchmarked: bool = False) -> list[str]:
    return [k.name for k in KINDS.values() if k.benchmarked or not benchmarked]


def kind_of(name: str, benchmarked: bool = False) -> AgentKind:
    """The kind called `name`; an unknown one (or, for a benchmark, a live-only one) is one line."""
    names = kind_names(benchmarked)
    if name not in names:
        raise AgentError(f"unknown agent {name!r}; choose one of {', '.join(names)}")
    return KINDS[name]


def resolve_spec(
    kind: str,
    workspace: Workspace,
    checkpoints: Mapping[str, str | None] | None = None,
    benchmarked: bool = False,
    **options: Any,
) -> AgentSpec:
    """An AgentSpec from checkpoint names or paths by role; a required slot left empty takes the
    newest checkpoint of that role in the workspace (what `subgoal train` just made)."""
    from subgoal.checkpoints import resolve

    given = checkpoints or {}
    paths = {}
    for slot in kind_of(kind, benchmarked).slots:
        name = given.get(slot.role) or (newest_checkpoint(workspace, slot) if slot.required else None)
        if name:
            paths[slot.role] = str(resolve(name, workspace).resolve())
    return AgentSpec(kind, **paths, **options)


def newest_checkpoint(workspace: Workspace, slot: Slot) -> str:
    """The name of the newest checkpoint for `slot`. A broken newest one is an error, not skipped:
    the user meant that one, and an older model must not be played in its place unannounced."""
    from subgoal.checkpoints import MANIFEST, list_checkpoints

    role, flag = slot.role, slot.flag
    found = [c for c in list_checkpoints(workspace) if c.role == role]
    if not found:
        raise CheckpointError(
            f"no {role} checkpoint in {workspace.checkpoints}: train one (`subgoal train {role}`) "
            f"or name one with {flag}"
        )
    found.sort(key=lambda c: (c.path / MANIFEST).stat().st_mtime, reverse=True)
    newest = found[0]
    if newest.broken:
        sound = next((c.name for c in found if not c.broken), None)
        other = f" (the newest sound one is {sound})" if sound else ""
        raise CheckpointError(
            f"the newest {role} checkpoint, {newest.name}, is broken: {newest.problem}; remove it "
            f"(`subgoal checkpoints rm {newest.name}`) or name another with {flag}{other}"
        )
    return newest.name


# -- checkpoints on the way in -------------------------------------------------------------------
def check_checkpoint(path: str, role: str) -> dict[str, Any]:
    """The manifest of checkpoint `path` once it is known to be a `role` with its own tokenizer
    (no torch needed: this runs before anything heavy)."""
    from subgoal.checkpoints import file_hash, read_manifest

    manifest = read_manifest(path)
    if manifest.get("role") != role:
        raise CheckpointError(f"{path} is a {manifest.get('role')} checkpoint, given as the {role}")
    expected, tokenizer = manifest.get("tokenizer_hash"), Path(path) / "tokenizer.json"
    if expected and tokenizer.exists() and file_hash([tokenizer]) != expected:
        raise CheckpointError(
            f"{path}: its tokenizer.json is not the one the model was trained with "
            "(the manifest's tokenizer_hash differs): copy the checkpoint folder whole"
        )
    return manifest


def load_policy(path: str, device: str | None = None):  # type: ignore[no-untyped-def]
    """The policy of checkpoint `path`, once `AgentSpec.check` has passed its files (the agent checks
    the role again on the policy it is given). What only loading shows is one clear line too:
    weights damaged past their header, a tokenizer larger than the model's vocabulary."""
    from safetensors import SafetensorError

    from subgoal.engine.models import Policy

    try:
        policy = Policy.load(path, device=device)
    except SafetensorError as exc:  # damage the header check cannot see
        raise CheckpointError(f"{path}: cannot load the model ({str(exc).splitlines()[0]})") from None
    vocab = int(getattr(policy.model.config, "vocab_size", 0) or 0)
    if vocab and len(policy.tokenizer) > vocab:
        raise CheckpointError(
            f"{path}: its tokenizer has {len(policy.tokenizer)} tokens but the model only {vocab}: "
            "the checkpoint was trained with another tokenizer"
        )
    policy.manifest = {**policy.manifest, "path": str(path), "name": Path(path).name}
    return policy
