"""Give a checkpoint the task vocabulary today's code computes, from the very train split it learnt.

    python benchmarks/refresh_vocabulary.py workspace/checkpoints/planner-s4 workspace/checkpoints/flat-s4

A checkpoint's manifest stores what the agents read besides the weights (`task_vocabulary`,
`focus_heads` ...), computed when its training ended. When that computation grows a field (the
`after` order of verbs), a checkpoint trained before keeps the old one. This rewrites those fields
from the train files its manifest names, after checking their hash is the one it was trained on,
with its own teleport setting and tasks: the weights and everything else stay as they are. Used on
the s4 protocol's planner and flat checkpoints, whose training had started before `after` existed
(docs/RESULTS.md §10).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> None:
    from subgoal.engine.files import write_atomic
    from subgoal.engine.rules.vocabulary import task_vocabulary
    from subgoal.engine.subgoals import focus_heads, focus_heads_in_order
    from subgoal.engine.train_data import load_episodes_for, prepare

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoints", nargs="+", type=Path)
    args = parser.parse_args()
    for checkpoint in args.checkpoints:
        path = checkpoint / "manifest.json"
        manifest = json.loads(path.read_text())
        data = manifest["data"]
        episodes, digest = load_episodes_for([Path(f) for f in data["train_files"]], "train", data["tasks"])
        if digest != data["train_hash"]:
            sys.exit(f"{checkpoint}: its train files changed since it was trained (hash {digest})")
        episodes = prepare(episodes, bool(manifest.get("teleport")))
        before = json.dumps(manifest["task_vocabulary"], sort_keys=True)
        manifest["task_vocabulary"] = task_vocabulary(episodes, manifest["role"])
        manifest["focus_heads"] = focus_heads(episodes)
        manifest["focus_heads_in_order"] = focus_heads_in_order(episodes)
        write_atomic(path, json.dumps(manifest, indent=2))
        changed = before != json.dumps(manifest["task_vocabulary"], sort_keys=True)
        print(
            f"{checkpoint}: task vocabulary {'rewritten' if changed else 'unchanged'} from {len(episodes)} episodes"
        )


if __name__ == "__main__":
    main()
