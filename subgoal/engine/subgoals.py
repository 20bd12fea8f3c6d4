"""What a sub-goal means to the simulator: which valid actions serve it, and when it is done.

A sub-goal is a call such as `navigate_to(kitchen)` or `heat(metal pot, stove)` (the rules teacher's
19 verbs). The hierarchical agent uses this module instead of trusting its executor's
`end subgoal`:

- `candidates(sub-goal, valid actions, taken)`: the few valid actions that fit the sub-goal (its
  verb's action forms with its arguments), so the executor ranks a handful instead of spelling an
  action, and needs no model call at all when one is left;
- `is_done(sub-goal, steps)`: completion read off the observations (the look names the room, the
  object is in the inventory, "You focus on ...", the verb's last action succeeded, enough ticks
  waited). Verbs with no such check (`measure_temperature`, `measure_time`, unknown verbs) end when
  the executor says `end subgoal`; only those keep that label in training (examples.py).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from subgoal.engine.actions import COOLERS, HEAT_SOURCES, WATER_SOURCES, Act, parse

# Verbs whose completion the observations show (the executor never learns `end subgoal` for these).
CHECKED = frozenset(
    [
        "navigate_to",
        "pick_up",
        "focus_on",
        "drop",
        "open",
        "close",
        "move",
        "pour",
        "mix",
        "activate",
        "deactivate",
        "use",
        "connect",
        "disconnect",
        "heat",
        "cool",
        "fill",
        "water",
        "plant",
        "wait",
    ]
)
# Sub-goals whose action the agent reads off the valid actions (`candidates` leaves one): the
# executor is rarely asked about them, so most of their training examples are near-duplicates it
# need not see; a few are kept so that free generation (the fallback) still knows them.
ROUTINE = CHECKED - {"heat", "cool", "fill", "water"}
# Every verb of the rules teacher (what `proposable` can offer).
KNOWN_VERBS = CHECKED | {"measure_temperature", "measure_time"}
# Observations that say an action did nothing (ScienceWorld's own wording).
_FAILED = re.compile(
    r"^(no known action|ambiguous request|it's not clear|you can't|that can't|that is not|"
    r"i'm not sure|you do not|there is nothing|the .* is not (?:open|moveable)|unknown action)",
    re.I,
)
AMBIGUOUS = "ambiguous request"


@dataclass(frozen=True)
class Subgoal:
    verb: str
    args: tuple[str, ...]

    @property
    def checked(self) -> bool:
        return self.verb in CHECKED


def format_name(verb: str, *args: str) -> str:
    """A sub-goal's name, the call `verb(a, b)` that parse_subgoal reads back."""
    return f"{verb}({', '.join(a.strip() for a in args)})"


def parse_subgoal(name: str) -> Subgoal | None:
    """`heat(metal pot, stove)` -> Subgoal("heat", ("metal pot", "stove")); None if not a call.
    Arguments may hold parentheses (`focus_on(book (sherlock holmes))`): only top-level commas split."""
    text = " ".join(name.split())
    head, paren, rest = text.partition("(")
    if not paren or not rest.endswith(")") or not re.fullmatch(r"[a-z][a-z0-9_]*", head.strip().lower()):
        return None
    args, depth, current = [], 0, ""
    for char in rest[:-1]:
        depth += (char == "(") - (char == ")")
        if char == "," and depth == 0:
            args.append(current.strip())
            current = ""
        else:
            current += char
    if current.strip():
        args.append(current.strip())
    return Subgoal(head.strip().lower(), tuple(a.lower() for a in args))


def unlabelled(name: str) -> str:
    """`name` without a one-letter label the task gives a thing ("unknown substance B"), which the
    simulator's valid actions leave out (`pick up unknown substance`) though it accepts either."""
    words = name.split()
    return " ".join(words[:-1]) if len(words) > 1 and len(words[-1]) == 1 and words[-1].isalpha() else name


def unlabelled_key(name: str) -> str | None:
    """A sub-goal as the valid actions would spell it, one-letter labels aside (`pick_up(unknown
    substance)` for `pick_up(unknown substance B)`): equal keys name the same sub-goal. None if
    `name` is no sub-goal."""
    parsed = parse_subgoal(name)
    if parsed is None:
        return None
    return format_name(parsed.verb, *(unlabelled(" ".join(a.lower().split())) for a in parsed.args))


def _same(a: str, b: str) -> bool:
    """The same name, or the same name but for a one-letter label (`unknown substance b`)."""
    a, b = " ".join(a.lower().split()), " ".join(b.lower().split())
    return a == b or unlabelled(a) == b or unlabelled(b) == a


def _is(obj: str, kinds: Sequence[str]) -> bool:
    return any(kind in obj.lower() for kind in kinds)


def _observe_target(action: str) -> str | None:
    match = re.fullmatch(r"(?:examine|look at|look in|read) (?:the )?(.+?)(?: in inventory)?", action.lower())
    return match.group(1) if match else None


# Sub-goals that are one action of the simulator's grammar, with the same objects: sub-goal verb ->
# the action's verb as rules.parse names it.
ONE_ACTION = {
    "pick_up": "pick",
    "focus_on": "focus",
    "drop": "drop",
    "open": "open",
    "close": "close",
    "mix": "mix",
    "activate": "activate",
    "deactivate": "deactivate",
    "disconnect": "disconnect",
    "move": "move",
    "pour": "pour",
    "use": "use",
}
_SUBGOAL_VERB = {action: verb for verb, action in ONE_ACTION.items()}


def _role(sg: Subgoal, action: str, act: Act) -> str | None:
    """How `action` serves `sg`: "final" (doing it completes the sub-goal), "step" (a part of it),
    or None (it does not serve it)."""
    v, a, o = sg.verb, sg.args, act.objects
    if v in ONE_ACTION:
        if (
            act.verb == ONE_ACTION[v]
            and len(o) == len(a)
            and all(_same(x, y) for x, y in zip(o, a, strict=True))
        ):
            return "final"
        return None
    if v == "navigate_to" and len(a) == 1:
        return "final" if act.verb == "nav" and _same(o[0], a[0]) else None
    if v == "connect" and len(a) == 2 and act.verb == "connect":
        return "final" if {o[0].lower(), o[1].lower()} == {a[0], a[1]} else None
    if v == "heat" and len(a) == 2:
        if act.verb == "activate" and _same(o[0], a[1]):
            return "final"
        if (act.verb == "move" and _same(o[0], a[0]) and _same(o[1], a[1])) or (
            act.verb == "open" and _same(o[0], a[1])
        ):
            return "step"
        return None
    if v == "cool" and len(a) == 2:
        if act.verb == "move" and _same(o[0], a[0]) and _same(o[1], a[1]):
            return "final"
        return "step" if act.verb == "open" and _same(o[0], a[1]) else None
    if v == "fill" and a:
        if act.verb == "activate" and _is(o[0], WATER_SOURCES):
            return "final"
        return "step" if act.verb == "move" and _same(o[0], a[0]) and _is(o[1], WATER_SOURCES) else None
    if v == "water" and len(a) == 1:
        if act.verb == "pour" and _same(o[1], a[0]):
            return "final"
        if act.verb == "activate" and _is(o[0], WATER_SOURCES):
            return "step"
        return "step" if act.verb == "move" and _is(o[1], WATER_SOURCES) else None
    if v == "plant" and len(a) == 2:
        ok = act.verb == "move" and o[0].lower().startswith(a[0]) and _same(o[1], a[1])
        return "final" if ok else None
    if v == "wait":
        return "final" if act.verb == "wait" else None
    if v == "measure_temperature" and a:
        if act.verb == "measure":  # a substance's name changes as it melts: any reading may serve
            return "step" if _same(o[1], a[0]) else "other"
        target = _observe_target(action)
        return "step" if target and _same(target, a[0]) else None
    if v == "measure_time" and len(a) == 2:
        if act.verb == "move" and _same(o[0], a[0]) and _same(o[1], a[1]):
            return "step"
        if act.verb in ("activate", "deactivate") and "stopwatch" in o[0]:
            return "step"
        target = _observe_target(action)
        return "step" if target and (_same(target, a[1]) or "stopwatch" in target) else None
    return None


def serves(sg: Subgoal, action: str) -> str | None:
    return _role(sg, action, parse(action))


def wait_ticks(action: str) -> int:
    act = parse(action)
    return act.ticks if act.verb == "wait" else 0


def candidates(sg: Subgoal, valid: Sequence[str], taken: Sequence[str] = ()) -> list[str]:
    """The valid actions that serve `sg`, minus the one-off steps already taken for it.

    Navigation is one `teleport to ROOM` where the simulator offers it (always, under `easy`);
    a wait takes the largest step that does not overshoot.
    """
    done = {" ".join(t.lower().split()) for t in taken}
    repeatable = sg.verb in ("measure_temperature", "measure_time", "wait")
    out, others, preparations = [], [], []
    for action in valid:
        act = parse(action)
        role = _role(sg, action, act)
        if not repeatable and " ".join(action.lower().split()) in done:
            continue
        if role in ("final", "step"):
            out.append(action)
        elif role == "other":
            others.append(action)
        elif act.verb == "open" and not act.objects[0].lower().startswith("door"):
            preparations.append(action)
    # What the sub-goal names is not in view: a reading of something else, or opening a container
    # it may be in (gold paths open the cupboard before `pick up metal pot`).
    out = out or others or (preparations if sg.checked and sg.verb != "navigate_to" else [])
    if sg.verb == "navigate_to":
        teleports = [a for a in out if a.lower().startswith("teleport")]
        return teleports or out
    if sg.verb == "wait" and out:
        left = _wanted_ticks(sg) - sum(wait_ticks(t) for t in taken)
        fitting = sorted((wait_ticks(a), a) for a in out if wait_ticks(a) <= max(1, left))
        return [fitting[-1][1]] if fitting else out[:1]
    return out


def _wanted_ticks(sg: Subgoal) -> int:
    try:
        return int(sg.args[0])
    except (IndexError, ValueError):
        return 1


def is_failure(observation: str) -> bool:
    return bool(_FAILED.match(observation.strip()))


def is_done(
    sg: Subgoal, history: Sequence[tuple[str, str]], look: str, inventory: str, room: str | None
) -> bool:
    """Whether `sg` is done, given the (action, observation) pairs taken for it and the current
    state. Always False for unchecked verbs: their executor says when."""
    v, a = sg.verb, sg.args
    if v == "navigate_to" and a:
        return room is not None and _same(room, a[0])
    if v == "pick_up" and a and held(a[0], inventory):
        return True
    if v == "focus_on":
        return any(obs.lower().startswith("you focus on") for _, obs in history)
    if v == "wait":
        return sum(wait_ticks(act) for act, _ in history) >= _wanted_ticks(sg)
    if v not in CHECKED:
        return False
    for i, (action, obs) in enumerate(history):
        if action.strip().isdigit() and i > 0:  # the answer to an ambiguous request
            action = history[i - 1][0]
        if serves(sg, action) == "final" and not is_failure(obs):
            return True
    return False


def held(thing: str, inventory: str) -> bool:
    """Whether the inventory lists `thing` (`metal pot` in "a metal pot (containing ice cream)")."""
    return bool(re.search(rf"\b{re.escape(names_in(thing))}\b", names_in(inventory)))


def is_ambiguous(observation: str) -> bool:
    return observation.strip().lower().startswith(AMBIGUOUS)


def names_in(text: str) -> str:
    return " ".join(text.lower().split())


def grounded(sg: Subgoal, valid: Sequence[str], task: str, inventory: str) -> bool:
    """Whether every argument of `sg` names something the agent can act on now: in a valid action,
    the task description or the inventory (a rough filter against a planner's invented names)."""
    if not sg.args:
        return sg.verb in ("wait",)
    if sg.verb == "wait":
        return True
    pool = names_in(" | ".join(valid) + " | " + task + " | " + inventory)
    skip = {"water"} if sg.verb == "fill" else set()
    return all(arg in skip or names_in(arg) in pool for arg in sg.args)


# Sub-goal verbs whose first argument is an object the agent must have in view to act on.
_ACTS_ON = frozenset({"pick_up", "focus_on", "move", "pour", "heat", "cool", "use", "mix"})


def search_target(sg: Subgoal, task_description: str) -> str | None:
    """The object `sg` acts on first, where the task itself names its kind ("boil rubber" and
    `pick_up(rubber)`; "... the thermometer" and `pick_up(thermometer)`): a thing that exists
    somewhere in the world, so worth looking for in the rooms not yet seen while it is not in view.
    None for anything else: a planner's invented name would send the agent on a tour, and "the
    substance" (`substance in metal pot`) exists only once the agent makes it."""
    if sg.verb not in _ACTS_ON or not sg.args:
        return None
    head = focus_head(sg.args[0])
    return sg.args[0] if head and head not in _GENERIC and head in _words(task_description) else None


def in_view(target: str, valid: Sequence[str], inventory: str) -> bool:
    """Whether the kind of thing `target` names appears in a valid action or the inventory (the
    valid actions name every object in the room, open containers' contents included)."""
    head = focus_head(target)
    return any(head in re.findall(r"[a-z0-9-]+", text.lower()) for text in [*valid, inventory])


# The share of a verb's training spans that fit its allowance. Not 95 %: measurements run up to 80
# readings in a few long 2-x paths, and an executor that never ends such a sub-goal then burns the
# stall limit (pilot runs: 6 of 30 episodes stalled inside one measure_temperature).
PERCENTILE = 0.75


def allowance_table(spans: Sequence[tuple[str, int]], margin: int = 2) -> dict[str, int]:
    """Steps a sub-goal of each verb may take before it counts as failed: the PERCENTILE of its
    kept span lengths in the training data, plus a margin (`spans`: (verb, kept steps))."""
    by_verb: dict[str, list[int]] = {}
    for verb, length in spans:
        by_verb.setdefault(verb, []).append(length)
    table = {}
    for verb, lengths in by_verb.items():
        ordered = sorted(lengths)
        table[verb] = ordered[min(len(ordered) - 1, int(PERCENTILE * len(ordered)))] + margin
    return table


WAITS = (1, 2, 3, 5, 10)  # the waits gold paths make (wait(5) and wait(2) are 90 % of them)


def proposable(valid: Sequence[str]) -> list[str]:
    """Every sub-goal the rules teacher could name from what the valid actions offer now: its
    verbs with the names of the rooms and objects in view, so a planner can choose among them
    (constrained decoding) instead of spelling names it may get wrong."""
    names: dict[str, None] = {}

    def add(verb: str, *args: str) -> None:
        names.setdefault(format_name(verb, *args))

    for action in valid:
        act = parse(action)
        o = act.objects
        if act.verb == "nav" and o:
            add("navigate_to", o[0])
        elif act.verb == "move" and len(o) == 2:
            add("move", *o)
            if _is(o[1], HEAT_SOURCES):
                add("heat", *o)
            elif _is(o[1], COOLERS):
                add("cool", *o)
            elif _is(o[1], WATER_SOURCES):
                add("fill", o[0], "water")
            if o[0].lower().endswith(" in seed jar") and "pot" in o[1]:
                add("plant", o[0][: -len(" in seed jar")], o[1])
            if "inclined plane" in o[1]:
                add("measure_time", *o)
        elif act.verb == "pour" and len(o) == 2:
            add("pour", *o)
            if "pot" in o[1]:
                add("water", o[1])
        elif act.verb == "measure" and len(o) == 2:
            add("measure_temperature", o[1])
        elif act.verb == "connect" and len(o) == 2:
            add("connect", *o)
        elif act.verb in _SUBGOAL_VERB and o:
            add(_SUBGOAL_VERB[act.verb], *o)
    for ticks in WAITS:
        add("wait", str(ticks))
    return list(names)


_FOCUS_PHRASE = re.compile(r"focus on (?:the |a |an )?([^.;]+)", re.I)
# A task that says what to focus on only by its kind ("the thing", "the substance", "the animal with the longest
# life span") leaves the choice to the agent; any other phrase names the object.
_GENERIC = frozenset({"thing", "animal", "plant", "organism", "substance"})
_STOP = frozenset({"the", "a", "an", "of", "in", "on", "with", "you", "and", "to", "that", "is"})
# Colours tell apart things that share every other word: "violet paint" is not "blue paint", the red
# light bulb not the green one (a 6-2 focus on blue paint for "focus on the violet paint" ended at -100).
_COLOURS = frozenset(
    {
        "red",
        "green",
        "blue",
        "yellow",
        "orange",
        "violet",
        "purple",
        "brown",
        "black",
        "white",
        "pink",
        "gray",
    }
)


def _words(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z0-9]+", text.lower()) if w not in _STOP}


# "Your task is to boil water." / "... change the state of matter of orange juice." -> the substance.
_TASK_OBJECT = re.compile(
    r"your task is to (?:change the state of matter of|\w+) (?:the |a |an )?([^.]+)\.", re.I
)


def focus_head(target: str) -> str:
    """The word that says what kind of thing a focus target is: `baby baby brown bear` -> bear,
    `soap in cupboard` -> soap, `book (sherlock holmes)` -> book."""
    name = re.split(r" in | on | \(", target.lower(), maxsplit=1)[0]
    words = re.findall(r"[a-z0-9-]+", unlabelled(name))
    return words[-1] if words else ""


def focus_heads(episodes: Iterable[Any]) -> dict[str, list[str]]:
    """Per task, the kinds of thing its gold paths focus on, for tasks whose description names the
    focus only by its kind ("the thing", "the animal with ..."): what training shows such a focus
    may be. Stored in a checkpoint's manifest; `focus_allowed` reads it."""
    heads: dict[str, set[str]] = {}
    for episode in episodes:
        if not _generic_only(episode.task_description):
            continue
        for step in episode.steps:
            match = re.match(r"focus on (.+)$", step.action.strip(), re.I)
            if match:
                heads.setdefault(episode.task_id, set()).add(focus_head(match.group(1)))
    return {task: sorted(kinds) for task, kinds in sorted(heads.items())}


def focus_heads_in_order(episodes: Iterable[Any]) -> dict[str, list[list[str]]]:
    """Per task of `focus_heads` whose gold paths focus more than once, the kinds focused on first,
    second, ...: 7-3 asks for the longest-lived animal, then the shortest-lived, and either kind
    passes `focus_heads` at either place (a flat run focused the short-lived one first)."""
    order: dict[str, list[set[str]]] = {}
    for episode in episodes:
        if not _generic_only(episode.task_description):
            continue
        focuses = [
            m.group(1) for s in episode.steps if (m := re.match(r"focus on (.+)$", s.action.strip(), re.I))
        ]
        places = order.setdefault(episode.task_id, [])
        for index, target in enumerate(focuses):
            if index == len(places):
                places.append(set())
            places[index].add(focus_head(target))
    return {
        task: [sorted(kinds) for kinds in places] for task, places in sorted(order.items()) if len(places) > 1
    }


def _phrases(task_description: str) -> list[str]:
    return _FOCUS_PHRASE.findall(task_description)


# "If the melting point of tin is above 50.0 degrees, focus on the red box." / "After completing your
# experiment, focus on the inclined plane with the most friction.": the focus that states the result.
_ANSWER_SENTENCE = re.compile(r"^(?:if|after completing)\b", re.I)


def is_answer(task_description: str, target: str) -> bool:
    """Whether `focus on TARGET` is the task's answer: a focus its description makes depend on a
    result ("If ... focus on the blue box"). Taken before the experiment, it is a coin flip that
    ends the episode at -100 when wrong, and every 2-x train plan measures before it answers. A target
    that shares more words with another focus phrase is that one ("orange juice" is the substance,
    not "the orange box")."""
    phrases = [(p, bool(_ANSWER_SENTENCE.match(s))) for s in sentences(task_description) for p in _phrases(s)]
    named = [(len(_words(target) & _words(p)), answer) for p, answer in phrases if _names(target, p)]
    return max(named)[1] if named else False  # on a tie, the answer: the guard errs on waiting


def sentences(text: str) -> list[str]:
    """The sentences of a task description."""
    return re.split(r"(?<=[.;])\s+", text)  # "50.0 degrees" is not a sentence end


def is_about(task_description: str, thing: str) -> bool:
    """Whether `thing` is what the task is about: it shares a word with the task's first sentence
    ("Your task is to measure the melting point of tin"), stop words aside, or is the simulator's
    name for it melted (`substance in metal pot`). The thermometer, named only later, is not."""
    return focus_head(thing) == "substance" or bool(_words(thing) & _words(sentences(task_description)[0]))


def _generic_only(task_description: str) -> bool:
    phrases = _phrases(task_description)
    return bool(phrases) and all(p.split()[0].lower() in _GENERIC for p in phrases)


def _names(target: str, phrase: str) -> bool:
    """Whether TARGET could be what PHRASE names: a shared word, and no colour PHRASE does not say."""
    words, named = _words(target), _words(phrase)
    return bool(words & named) and (not named & _COLOURS or words & _COLOURS <= named)


# "The life stages of the orange plant" names its foci by what they are to the plant: a stage's name
# (`living thing in self watering flower pot 9`) need not share a word with it (RESULTS §23).
_KINDS_TOLD = _GENERIC | {"life"}


def _told(task_description: str) -> list[str]:
    """What the task says to focus on by name (not by a kind: "the thing", "the substance", "the
    life stages of ...")."""

    def kind(phrase: str) -> str:  # its first word, a count aside ("the 4 life stages of ...")
        return next((w for w in phrase.lower().split() if not w.isdigit()), "")

    return [p for p in _phrases(task_description) if kind(p) not in _KINDS_TOLD]


def focus_told(task_description: str, target: str) -> bool:
    """Whether `focus on TARGET` fits what the task names as its focus, where it names one ("focus on
    the red light bulb"): the target shares a word with that name and names no other colour than it
    does, or is the simulator's name for a liquid in a container (`substance in jug` once the
    chocolate melted). True where the task names its focus only by a kind, or not at all."""
    named = _told(task_description)
    return not named or focus_head(target) == "substance" or any(_names(target, p) for p in named)


# Every location of the simulator's house and its outside: places to go, never a thing to focus on.
PLACES = frozenset(
    {
        "art studio",
        "bathroom",
        "bedroom",
        "foundry",
        "greenhouse",
        "hallway",
        "kitchen",
        "living room",
        "outside",
        "workshop",
    }
)


def is_place(target: str) -> bool:
    """Whether `target` names a location (`greenhouse`), not a thing in one."""
    return names_in(target).removeprefix("the ") in PLACES


def focus_allowed(task_description: str, target: str, heads: Sequence[str] | None = None) -> bool:
    """Whether `focus on TARGET` fits what the task says to focus on. ScienceWorld ends an episode
    at -100 on a wrong focus, so:
    - where the task names the object, `focus_told`;
    - "the substance" is the one the task is about ("boil orange juice"), or the substance itself
      where it sits in a container (`substance in metal pot`);
    - where it names only a kind ("the thing", "the animal with ..."), the target is of a kind the
      training data focuses on in this task (`heads`, from `focus_heads`), if known."""
    phrases = _phrases(task_description)
    if _told(task_description):
        return focus_told(task_description, target)
    if any(p.split()[0].lower() == "substance" for p in phrases):
        about = _TASK_OBJECT.search(task_description)
        return focus_head(target) in {"substance", focus_head(about.group(1)) if about else "substance"}
    if heads:
        return focus_head(target) in set(heads)
    return True
