"""Plots drawn in the terminal with plotext: a checkpoint's training curves from its log.

plotext is imported only when a plot is drawn (it stays out of `subgoal --help`)."""

from __future__ import annotations

from typing import Any

NOT_METRICS = {"time", "kind", "step", "best", "dev_loss", "epoch"}


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def training_curves(
    log: list[dict[str, Any]], width: int = 100, height: int = 16, colour: bool = True
) -> str | None:
    """Loss (train, and dev at each evaluation) and the dev metrics over the steps, side by side;
    None when the log holds neither."""
    train = [(r["step"], r["loss"]) for r in log if r.get("kind") == "train" and _number(r.get("loss"))]
    evals = [r for r in log if r.get("kind") == "eval" and _number(r.get("step"))]
    dev_loss = [(r["step"], r["dev_loss"]) for r in evals if _number(r.get("dev_loss"))]
    metrics = sorted({k for r in evals for k, v in r.items() if k not in NOT_METRICS and _number(v)})
    if not (train or dev_loss or metrics):
        return None
    import plotext as plt

    plt.clf()
    plt.theme("clear")
    plt.plotsize(width, height)  # the whole figure; the subplots share it
    if metrics:
        plt.subplots(1, 2)
        plt.subplot(1, 1)
    plt.title("loss")
    plt.xlabel("step")
    for points, label in ((train, "train"), (dev_loss, "dev")):
        if points:
            plt.plot([s for s, _ in points], [v for _, v in points], label=label, marker="braille")
    if metrics:
        plt.subplot(1, 2)
        plt.title("dev metrics")
        plt.xlabel("step")
        for name in metrics:
            points = [(r["step"], r[name]) for r in evals if _number(r.get(name))]
            plt.plot(
                [s for s, _ in points],
                [v for _, v in points],
                label=name.removeprefix("dev_"),
                marker="braille",
            )
    text = plt.build()
    plt.clf()
    return text if colour else plt.uncolorize(text)
