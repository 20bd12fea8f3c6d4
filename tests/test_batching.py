"""Batched generation: episode threads each get their own answers, in fewer model calls."""

from __future__ import annotations

import threading
import time

import pytest

from subgoal.engine.batching import BatcherClosed, GenerationBatcher
from subgoal.engine.models import Policy, train_tokenizer


class EchoPolicy:
    """Answers each input with beams derived from it, and records the batches it was given."""

    role = "executor"
    max_input_tokens = 1024

    def __init__(self, tokenizer=None, delay: float = 0.0):  # type: ignore[no-untyped-def]
        self.manifest = {"role": "executor"}
        self.tokenizer = tokenizer or train_tokenizer(["go to kitchen", "open door"], vocab_size=300)
        self.delay = delay
        self.batches: list[list[str]] = []
        self.lock = threading.Lock()

    def generate(self, inputs, num_beams=5, num_return=5, max_new_tokens=32):  # type: ignore[no-untyped-def]
        with self.lock:
            self.batches.append(list(inputs))
        time.sleep(self.delay)
        return [[f"{text}#{i}" for i in range(num_return)] for text in inputs]


def run_clients(batcher: GenerationBatcher, policy, clients: int, calls: int) -> dict[int, list]:  # type: ignore[no-untyped-def]
    wrapped = batcher.wrap(policy)
    answers: dict[int, list] = {}
    start = threading.Barrier(clients)

    def client(n: int) -> None:
        with batcher.client():
            start.wait()
            answers[n] = [wrapped.generate([f"c{n} q{k}"], num_beams=2, num_return=2) for k in range(calls)]

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    return answers


def test_every_thread_gets_its_own_beams_in_fewer_calls():
    policy = EchoPolicy(delay=0.01)
    with GenerationBatcher(max_batch=64, max_wait=30.0) as batcher:
        answers = run_clients(batcher, policy, clients=8, calls=5)
    assert answers == {n: [[[f"c{n} q{k}#0", f"c{n} q{k}#1"]] for k in range(5)] for n in range(8)}
    assert sum(len(b) for b in policy.batches) == 40
    # All 8 clients wait on the model together, so (max_wait being long) they go out as one batch.
    assert len(policy.batches) == 5 and batcher.stats.mean_batch == 8.0


def test_max_batch_caps_a_call():
    policy = EchoPolicy(delay=0.01)
    with GenerationBatcher(max_batch=3, max_wait=1.0) as batcher:
        run_clients(batcher, policy, clients=8, calls=2)
    assert max(len(b) for b in policy.batches) <= 3 and sum(len(b) for b in policy.batches) == 16


def test_a_lone_caller_is_served_without_waiting():
    policy = EchoPolicy()
    with GenerationBatcher(max_wait=10.0) as batcher:
        started = time.monotonic()
        assert batcher.wrap(policy).generate(["x"], num_beams=1, num_return=1) == [["x#0"]]
    assert time.monotonic() - started < 5.0  # one client, so no wait for company


def test_a_model_error_reaches_every_waiting_caller():
    class Broken(EchoPolicy):
        def generate(self, inputs, **kwargs):  # type: ignore[no-untyped-def]
            raise RuntimeError("CUDA out of memory")

    with GenerationBatcher() as batcher, pytest.raises(RuntimeError, match="out of memory"):
        batcher.wrap(Broken()).generate(["x"])


def test_closing_wakes_callers_and_refuses_new_ones():
    policy = EchoPolicy()
    batcher = GenerationBatcher(max_wait=60.0)
    errors: list[BaseException] = []

    def waiter() -> None:
        with batcher.client(), batcher.client():  # two clients registered, one asks: it waits
            try:
                batcher.wrap(policy).generate(["x"])
            except BatcherClosed as exc:
                errors.append(exc)

    thread = threading.Thread(target=waiter)
    thread.start()
    time.sleep(0.3)
    batcher.close()
    thread.join(timeout=10)
    assert not thread.is_alive()
    # Either the close flushed the pending batch (served) or failed it: never a hang.
    assert policy.batches == [["x"]] or len(errors) == 1
    with pytest.raises(BatcherClosed):
        batcher.wrap(policy).generate(["y"])


def test_fits_counts_tokens_like_the_policy():
    tokenizer = train_tokenizer(["go to the kitchen </s> open the door to the hallway"] * 5, vocab_size=300)
    policy = Policy(None, tokenizer, {"role": "planner", "max_input_tokens": 12}, device=None)
    with GenerationBatcher() as batcher:
        wrapped = batcher.wrap(policy)
        for text in ["go", "go to the kitchen", "open the door to the hallway </s> go to the kitchen now"]:
            assert wrapped.fits(text) == policy.fits(text), text
        assert wrapped.role == "planner"
