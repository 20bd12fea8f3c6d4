"""Which number format a training run computes in: bf16 autocast or fp32.

T5 runs in bf16 or fp32, never fp16 (its activations overflow fp16). On a GPU bf16 is the norm;
on a CPU it pays only where the CPU multiplies bf16 natively (AMX or AVX-512 BF16, through
oneDNN): on this project's 2-core Xeon the `mini` executor trains 1.29x the examples/s of fp32 and
`tiny` 1.43x, at the same loss (docs/RESULTS.md §15; wider models gain more). Elsewhere bf16 is
emulated and slower, so `auto` falls back to fp32 and says so. Weights stay fp32 either way (autocast computes in bf16,
the optimizer updates fp32 masters), so checkpoints load anywhere.
"""

from __future__ import annotations

from pathlib import Path

PRECISIONS = ("auto", "bf16", "fp32")
CPU_BF16_FLAGS = frozenset({"amx_bf16", "avx512_bf16"})


def cpu_flags(cpuinfo: Path = Path("/proc/cpuinfo")) -> set[str]:
    """The CPU's feature flags (Linux); empty where they cannot be read."""
    try:
        text = cpuinfo.read_text()
    except OSError:
        return set()
    for line in text.splitlines():
        if line.startswith("flags"):
            return set(line.split(":", 1)[1].split())
    return set()


def cpu_has_bf16() -> bool:
    return bool(CPU_BF16_FLAGS & cpu_flags())


def choose(precision: str, device_type: str, cuda_bf16: bool = False) -> tuple[str, str | None]:
    """The mixed-precision mode for Accelerate ("bf16" or "no") and a note to show, or None.

    auto: bf16 on a GPU that supports it and on a CPU with AMX / AVX-512 BF16, fp32 elsewhere
    (with a note); bf16: asked for (a note where the hardware emulates it); fp32: as asked."""
    from subgoal.errors import TrainingError

    if precision not in PRECISIONS:
        raise TrainingError(f"unknown precision {precision!r}; choose {', '.join(PRECISIONS)}")
    if precision == "fp32":
        return "no", None
    native = cuda_bf16 if device_type == "cuda" else cpu_has_bf16()
    where = "this GPU" if device_type == "cuda" else "this CPU (no AMX or AVX-512 BF16)"
    if native:
        return "bf16", None
    if precision == "bf16":
        return "bf16", f"bf16 asked for: {where} emulates it, slower than fp32"
    return "no", f"training in fp32: {where} has no native bf16"


def attention(device_type: str, mode: str) -> str | None:
    """The attention implementation a training run sets, or None for the model's own (SDPA).

    T5's learned position bias reaches SDPA as an attn_mask that needs a gradient, which the CPU's
    fused kernels cannot give: SDPA falls back to a math path that multiplies in fp32 whatever
    autocast asked. Eager attention keeps autocast's bf16 products (AMX): 1.6x a `mini` step at
    300-token inputs, 1.16x over bf16 SDPA on the planner's mixed lengths (docs/RESULTS.md §18).
    In fp32, SDPA is as fast or faster."""
    return "eager" if device_type == "cpu" and mode == "bf16" else None
