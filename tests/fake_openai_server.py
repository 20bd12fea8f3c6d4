"""A real HTTP server on 127.0.0.1 that speaks the chat-completions API, for the teacher's tests.

By default it answers like a good teacher: it reads the numbered actions in the last question and
answers in the prompt's format (sub-goals from the rules teacher); `answer_in(shape)` answers the
same split in another of the shapes models write (the paper's sets, markdown, JSON...). Tests push scripted replies
(`server.script.append(Reply(...))`) for malformed answers, 429s, 500s, garbage; every request it
saw is kept in `server.requests`.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from subgoal.engine.teachers.prompt import format_plan
from subgoal.engine.teachers.rules import segment


@dataclass
class Reply:
    status: int = 200
    content: str | None = None  # the assistant's text; None: the default good answer
    raw: str | None = None  # a whole body instead of a chat completion (garbage)
    headers: dict[str, str] = field(default_factory=dict)
    finish_reason: str = "stop"


Plan = list[tuple[str, list[str]]]


def numbered_actions(text: str) -> list[str]:
    return re.findall(r"^\d+\. (.+)$", text, flags=re.M)


def _quote(actions: list[str], unique: bool = False) -> str:
    # A set lists a repeated action once, in the order a model writes it.
    return ", ".join(f"'{a}'" for a in (dict.fromkeys(actions) if unique else actions))


def _numbered(plan: Plan, line: Callable[[int, str, list[str]], str]) -> str:
    return "\n".join(line(k, name, actions) for k, (name, actions) in enumerate(plan, start=1))


# The same split in the shapes models write for this prompt.
SHAPES: dict[str, Callable[[Plan], str]] = {
    "prompt": format_plan,
    "paper set": lambda plan: _numbered(plan, lambda k, n, a: f"{k}- {n} : {{{_quote(a, unique=True)}}}"),
    "list": lambda plan: _numbered(plan, lambda k, n, a: f"{k}. {n}: [{_quote(a)}]"),
    "set over lines": lambda plan: (
        "Sub-goals:\n"
        + _numbered(
            plan,
            lambda k, n, a: (
                f"{k}- {n} : {{\n    " + ",\n    ".join(f"'{x}'" for x in dict.fromkeys(a)) + "\n}"
            ),
        )
    ),
    "markdown list": lambda plan: (
        "Here is the split:\n\n"
        + "\n".join(f"- **{n}**\n" + "\n".join(f"  - `{x}`" for x in a) for n, a in plan)
    ),
    "bold headers": lambda plan: "\n\n".join(
        f"**Sub-goal {k}: {n}**\n" + "\n".join(f"{j}. {x}" for j, x in enumerate(a, start=1))
        for k, (n, a) in enumerate(plan, start=1)
    ),
    "headings": lambda plan: _numbered(
        plan, lambda k, n, a: f"### {k}. `{n}`\n" + "\n".join(f"* {x}" for x in a)
    ),
    "json": lambda plan: (
        "```json\n" + json.dumps([{"subgoal": n, "actions": a} for n, a in plan], indent=2) + "\n```"
    ),
    "json by name": lambda plan: (
        "Sure:\n" + "{" + ", ".join(f"{json.dumps(n)}: {json.dumps(a)}" for n, a in plan) + "}"
    ),
}


def answer_in(shape: str) -> Callable[[list[dict[str, str]]], str]:
    """A good teacher that answers in `shape` (a key of SHAPES)."""

    def answer(messages: list[dict[str, str]]) -> str:
        for message in reversed(messages):
            actions = numbered_actions(message["content"]) if message["role"] == "user" else []
            if actions:
                return SHAPES[shape]([(s.name, actions[s.start : s.end]) for s in segment(actions)])
        return "I have no actions to split."

    return answer


paper_answer = answer_in("prompt")


class FakeOpenAI:
    def __init__(self, models: tuple[str, ...] = ("teacher-model",), api_key: str | None = None):
        self.models = models
        self.api_key = api_key  # None: any key, or none, is fine (like a local server)
        self.script: list[Reply] = []
        self.requests: list[dict[str, Any]] = []
        self.answer: Callable[[list[dict[str, str]]], str] = paper_answer
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/v1"

    def __enter__(self) -> FakeOpenAI:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def _reply(self, headers: dict[str, str], body: dict[str, Any]) -> Reply:
        with self._lock:
            self.requests.append(body)
            if self.api_key is not None and headers.get("authorization") != f"Bearer {self.api_key}":
                return Reply(401, raw=_error("Incorrect API key provided", "invalid_api_key"))
            if body.get("model") not in self.models:
                return Reply(
                    404, raw=_error(f"The model `{body.get('model')}` does not exist", "model_not_found")
                )
            return self.script.pop(0) if self.script else Reply()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                if self.path.rstrip("/") != "/v1/chat/completions":
                    self._send(404, _error(f"no route {self.path}", "not_found"), {})
                    return
                reply = fake._reply({k.lower(): v for k, v in self.headers.items()}, body)
                if reply.raw is not None:
                    self._send(reply.status, reply.raw, reply.headers)
                    return
                content = reply.content if reply.content is not None else fake.answer(body["messages"])
                self._send(
                    reply.status, json.dumps(_completion(body, content, reply.finish_reason)), reply.headers
                )

            def _send(self, status: int, text: str, headers: dict[str, str]) -> None:
                data = text.encode()
                self.send_response(status)
                self.send_header("content-type", headers.pop("content-type", "application/json"))
                self.send_header("content-length", str(len(data)))
                for key, value in headers.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:  # keep test output clean
                pass

        return Handler


def _completion(request: dict[str, Any], content: str, finish_reason: str) -> dict[str, Any]:
    prompt_tokens = sum(len(m["content"]) for m in request["messages"]) // 4
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": 0,
        "model": request["model"],
        "choices": [
            {"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": finish_reason}
        ],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": len(content) // 4,
            "total_tokens": prompt_tokens + len(content) // 4,
        },
    }


def _error(message: str, code: str) -> str:
    return json.dumps({"error": {"message": message, "type": "invalid_request_error", "code": code}})
