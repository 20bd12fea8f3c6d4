"""Estimated cost of teacher requests: list prices of a few known models, or the user's own."""

from __future__ import annotations

from subgoal.engine.teachers import Usage

# USD per 1,000 tokens (prompt, completion), the providers' list prices in 2025. Anything else, and
# any local server, needs --price-per-1k.
KNOWN_PRICES: dict[str, tuple[float, float]] = {
    "gpt-4o-mini": (0.00015, 0.0006),
    "gpt-4o": (0.0025, 0.01),
    "gpt-4.1": (0.002, 0.008),
    "gpt-4.1-mini": (0.0004, 0.0016),
    "gpt-4.1-nano": (0.0001, 0.0004),
    "gpt-4-turbo": (0.01, 0.03),
    "gpt-4": (0.03, 0.06),
    "gpt-3.5-turbo": (0.0005, 0.0015),
}


def parse_price(text: str) -> tuple[float, float]:
    """ "0.5" (same price both ways) or "0.15,0.6" (prompt, completion), USD per 1k tokens."""
    parts = [p.strip() for p in text.split(",")]
    try:
        values = [float(p) for p in parts]
    except ValueError:
        raise ValueError(f"price {text!r} is not a number or two numbers separated by a comma") from None
    if len(values) not in (1, 2) or any(v < 0 for v in values):
        raise ValueError(f"price {text!r}: give PROMPT[,COMPLETION] USD per 1k tokens, not negative")
    return (values[0], values[-1])


def price_of(model: str, override: str | None = None) -> tuple[float, float] | None:
    if override:
        return parse_price(override)
    return KNOWN_PRICES.get(model) or KNOWN_PRICES.get(model.split("/")[-1])


def cost(usage: Usage, price: tuple[float, float] | None) -> float | None:
    if price is None:
        return None
    return usage.prompt_tokens / 1000 * price[0] + usage.completion_tokens / 1000 * price[1]
