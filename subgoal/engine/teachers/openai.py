"""The LLM teacher: any OpenAI-compatible chat-completions server (OpenAI, vLLM, llama.cpp, Ollama).

Per episode: ask with the few-shot prompt, read the sub-goals (answers.py), align their actions to the
gold path, ask again about actions no sub-goal claimed, validate; on a bad answer re-ask with the
error, at most `max_attempts` times; then fail the episode or fall back to the rules teacher. Only
the answers behind accepted spans are cached, so running the same command again re-asks the server
about every episode that failed.
Transport problems are the client's: it retries 429, 5xx and timeouts with backoff (and honours a
server's Retry-After). A server that cannot be used at all (unreachable, key refused, unknown
model, not speaking the API) raises TeacherUnavailable, which stops the whole run.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from subgoal.engine.alignment import Alignment, align, close_gaps
from subgoal.engine.episode import Episode, SubgoalSpan
from subgoal.engine.teachers import Annotation, AnnotationFailed, Usage, prompt
from subgoal.engine.teachers.answers import AnswerError, parse_answer
from subgoal.engine.teachers.cache import RequestCache
from subgoal.engine.teachers.rules import RulesTeacher
from subgoal.engine.teachers.spans import check_spans
from subgoal.errors import TeacherError, TeacherUnavailable

OPENAI_URL = "https://api.openai.com/v1"
# Local servers ignore the key, but the client insists on one.
PLACEHOLDER_KEY = "no-key"
# Fewer matched gold actions than this means the answer is about some other path.
MIN_COVERAGE = 0.5
MAX_GAP_QUESTIONS = 3  # per attempt; gaps left after that join the sub-goal before them
ON_FAILURE = ("fail", "rules")


@dataclass(frozen=True)
class Settings:
    model: str
    base_url: str | None = None  # None: OPENAI_BASE_URL, else OpenAI's own
    temperature: float = 0.0
    max_tokens: int = 2048
    max_attempts: int = 3  # answers per episode, re-asks included
    max_retries: int = 4  # the client's, per request, for 429/5xx/timeouts
    timeout: float = 120.0
    on_failure: str = "fail"  # or "rules"

    def request(self, messages: list[dict[str, str]]) -> dict[str, Any]:
        """Everything that shapes an answer, and so everything the cache key covers."""
        return {
            "model": self.model,
            "messages": messages,
            "temperature": self.temperature,
            "max_tokens": self.max_tokens,
        }


@dataclass(frozen=True)
class Reply:
    """One answer and the request it answers."""

    request: dict[str, Any]
    content: str
    finish_reason: str | None
    cached: bool  # read from the cache, not sent

    @property
    def record(self) -> dict[str, Any]:
        return {"content": self.content, "finish_reason": self.finish_reason}


class OpenAITeacher:
    name = "openai"

    def __init__(self, settings: Settings, cache: RequestCache, api_key: str | None = None):
        import openai  # heavy: only when this teacher is used

        if settings.on_failure not in ON_FAILURE:
            raise TeacherError(f"--on-failure must be one of {', '.join(ON_FAILURE)}")
        self.settings = settings
        self.cache = cache
        self.base_url = (settings.base_url or os.environ.get("OPENAI_BASE_URL") or OPENAI_URL).rstrip("/")
        key = api_key if api_key is not None else os.environ.get("OPENAI_API_KEY")
        if not key:
            if "api.openai.com" in self.base_url:
                raise TeacherUnavailable(
                    "OPENAI_API_KEY is not set; export it, or point --base-url at a local server"
                )
            key = PLACEHOLDER_KEY
        self._key = key
        self._client = openai.OpenAI(
            api_key=key, base_url=self.base_url, max_retries=settings.max_retries, timeout=settings.timeout
        )
        self._rules = RulesTeacher()

    @property
    def identity(self) -> str:
        return f"openai:{self.settings.model}"

    # -- one episode -------------------------------------------------------------------------
    def annotate(self, episode: Episode) -> Annotation:
        usage = Usage()
        where = f"{episode.task_id} v{episode.variation}"
        if not episode.steps:
            raise TeacherError(f"{where}: episode has no steps to annotate")
        try:
            spans = self._spans(episode, usage)
            return Annotation(spans=spans, teacher=self.identity, usage=usage)
        except (AnswerError, TeacherError) as exc:
            if isinstance(exc, TeacherUnavailable):
                raise
            reason = f"{where}: {exc}"
            if self.settings.on_failure == "rules":
                fallback = self._rules.annotate(episode)
                return Annotation(fallback.spans, fallback.teacher, usage, note=reason)
            raise AnnotationFailed(reason, usage) from None

    def _spans(self, episode: Episode, usage: Usage) -> list[SubgoalSpan]:
        gold = episode.actions
        conversation = prompt.messages(episode.task_description, gold)
        last_error = "no answer"
        attempts = 0
        while attempts < self.settings.max_attempts:
            reply = self._complete(conversation, usage)
            attempts += not reply.cached
            answered = conversation
            if reply.content.strip():  # an empty answer is simply asked for again
                answered = [*conversation, {"role": "assistant", "content": reply.content}]
            try:
                spans, used = self._accept(reply, gold, answered, usage)
            except (AnswerError, ValueError) as exc:
                if reply.cached:  # kept by an older version, rejected now: ask the server instead
                    self.cache.drop(reply.request)
                    continue
                last_error = str(exc)
                if reply.content.strip():
                    conversation = [*answered, {"role": "user", "content": prompt.retry_message(last_error)}]
                continue
            for kept in used:  # only what led to accepted spans, so a re-run re-asks the rest
                if not kept.cached:
                    self.cache.put(kept.request, kept.record)
            return spans
        raise AnswerError(
            f"{self.identity} gave no usable answer in {self.settings.max_attempts} attempts; last: {last_error}"
        )

    def _accept(
        self, reply: Reply, gold: Sequence[str], conversation: list[dict[str, str]], usage: Usage
    ) -> tuple[list[SubgoalSpan], list[Reply]]:
        """Spans from `reply`, and the replies they came from; AnswerError when it cannot be used."""
        if reply.finish_reason == "length":
            raise AnswerError(
                f"the answer was cut off at {self.settings.max_tokens} tokens; be brief (or raise --max-tokens)"
            )
        alignment = self._read(reply.content, gold)
        spans, gap_replies = self._fill_gaps(alignment, gold, conversation, usage)
        check_spans(spans, len(gold))
        return spans, [reply, *gap_replies]

    def _read(self, answer: str, gold: Sequence[str]) -> Alignment:
        if not answer.strip():
            raise AnswerError("the answer was empty")
        alignment = align(gold, parse_answer(answer))
        if alignment.coverage < MIN_COVERAGE:
            raise AnswerError(
                f"only {alignment.matched} of the {len(gold)} given actions appear in your sub-goals; "
                "copy every action exactly"
            )
        return alignment

    def _fill_gaps(
        self, alignment: Alignment, gold: Sequence[str], conversation: list[dict[str, str]], usage: Usage
    ) -> tuple[list[SubgoalSpan], list[Reply]]:
        """Ask about each run of actions no sub-goal claimed; what stays unclaimed joins its neighbour.
        Returns the spans and the replies asked for."""
        spans = list(alignment.spans)
        replies: list[Reply] = []
        for start, end in alignment.gaps[:MAX_GAP_QUESTIONS]:
            before = max((s for s in spans if s.end <= start), key=lambda s: s.end, default=None)
            after = min((s for s in spans if s.start >= end), key=lambda s: s.start, default=None)
            ask = prompt.gap_question(
                gold[start:end], start + 1, before.name if before else None, after.name if after else None
            )
            reply = self._complete([*conversation, {"role": "user", "content": ask}], usage)
            replies.append(reply)
            try:
                part = align(gold[start:end], parse_answer(reply.content))
            except AnswerError:
                continue  # the gap joins its neighbour below
            spans.extend(SubgoalSpan(s.name, s.start + start, s.end + start) for s in part.spans)
        spans.sort(key=lambda s: s.start)
        return close_gaps(Alignment(spans, [], alignment.matched, len(gold))), replies

    # -- one request ---------------------------------------------------------------------------
    def _complete(self, messages: list[dict[str, str]], usage: Usage) -> Reply:
        """The answer to `messages`, from the cache or the server; nothing is cached here."""
        request = self.settings.request(messages)
        cached = self.cache.get(request)
        if cached is not None:
            usage.cache_hits += 1
            return Reply(request, cached.get("content") or "", cached.get("finish_reason"), cached=True)
        response = self._send(request)
        usage.requests += 1
        if response.usage is not None:
            usage.prompt_tokens += response.usage.prompt_tokens or 0
            usage.completion_tokens += response.usage.completion_tokens or 0
        if not response.choices:
            return Reply(request, "", None, cached=False)
        choice = response.choices[0]
        content = (choice.message.content if choice.message else None) or ""
        return Reply(request, content, choice.finish_reason, cached=False)

    def _send(self, request: dict[str, Any]) -> Any:
        import openai

        model, url = self.settings.model, self.base_url
        try:
            response = self._client.chat.completions.create(**request)
        except openai.AuthenticationError:
            raise TeacherUnavailable(
                f"the server at {url} refused the API key (401); check OPENAI_API_KEY"
            ) from None
        except openai.PermissionDeniedError:
            raise TeacherUnavailable(f"the server at {url} denied access to {model} (403)") from None
        except openai.NotFoundError:
            raise TeacherUnavailable(
                f"the server at {url} has no model {model!r}, or no chat-completions API there (404); "
                "check --model and --base-url"
            ) from None
        except openai.APITimeoutError:
            raise TeacherError(
                f"the server at {url} did not answer within {self.settings.timeout:g} s, "
                f"{self.settings.max_retries + 1} times"
            ) from None
        except openai.APIConnectionError as exc:
            raise TeacherUnavailable(f"cannot reach the server at {url}: {self._redact(exc)}") from None
        except openai.RateLimitError:
            raise TeacherUnavailable(
                f"the server at {url} is still rate-limiting after {self.settings.max_retries} retries; "
                "lower --workers or try later"
            ) from None
        except openai.APIStatusError as exc:  # 5xx after the retries, 400, 422...
            raise TeacherError(
                f"the server at {url} answered {exc.status_code}: {self._redact(exc)}"
            ) from None
        except openai.APIResponseValidationError as exc:
            raise TeacherUnavailable(
                f"the server at {url} does not speak the chat-completions API: {self._redact(exc)}"
            ) from None
        if not hasattr(response, "choices"):
            raise TeacherUnavailable(f"the server at {url} does not speak the chat-completions API")
        return response

    def _redact(self, exc: BaseException) -> str:
        text = " ".join(str(exc).split()) or type(exc).__name__
        if self._key and self._key != PLACEHOLDER_KEY:
            text = text.replace(self._key, "***")
        return text if len(text) <= 200 else text[:197] + "..."
