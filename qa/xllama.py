"""The local model through xllamacpp, a prebuilt llama.cpp binding, as a llama-index LLM.

llama-cpp-python compiles llama.cpp when it is installed: 10 to 20 minutes on two cores
before a new user sees an answer. xllamacpp ships llama.cpp built (a 34 MB wheel,
installed in seconds), so it is the default install's runtime; llama-cpp-python, when
installed (`pip install 'qa[native]'`), is preferred: built for the machine it runs on,
it reads prompts faster on CPUs past AVX2 (docs/benchmarks.md, "The local runtime").

xllamacpp runs llama.cpp's server code in-process: it applies the GGUF's own chat
template, keeps the last prompt's state for the next one with the same prefix, and
returns the next token's log-probabilities, which is all the judge reads.
"""

from __future__ import annotations

import math
import queue
import threading
from collections.abc import Iterator, Sequence
from typing import Any

from llama_index.core.base.llms.types import (
    ChatMessage,
    ChatResponse,
    ChatResponseGen,
    CompletionResponse,
    CompletionResponseGen,
    LLMMetadata,
)
from llama_index.core.llms import CustomLLM
from llama_index.core.llms.callbacks import llm_chat_callback, llm_completion_callback
from pydantic import PrivateAttr


class XLlamaCPP(CustomLLM):
    """Greedy chat with the GGUF's template, streamed; `next_token(messages)` for the judge."""

    model_path: str
    max_new_tokens: int = 200
    context_window: int = 2048
    threads: int = 1
    stop: list[str] = []
    sampling: dict[str, float] = {}  # temperature, top_p, repeat_penalty (qa.llm's)
    _server: Any = PrivateAttr()

    def __init__(self, **data: Any):
        super().__init__(**data)
        import xllamacpp

        params = xllamacpp.CommonParams()
        params.model.path = self.model_path
        params.n_ctx = self.context_window
        params.n_parallel = 1
        params.cpuparams.n_threads = self.threads
        params.cpuparams_batch.n_threads = self.threads
        params.verbosity = -1  # its server logs every request otherwise
        params.warmup = False
        self._server = xllamacpp.Server(params)

    @property
    def metadata(self) -> LLMMetadata:
        return LLMMetadata(
            context_window=self.context_window,
            num_output=self.max_new_tokens,
            is_chat_model=True,
            model_name=self.model_path.rsplit("/", 1)[-1],
        )

    def _request(self, messages: Sequence[ChatMessage], **extra: Any) -> dict[str, Any]:
        return {
            "messages": [{"role": m.role.value, "content": m.content or ""} for m in messages],
            "max_tokens": self.max_new_tokens,
            **self.sampling,
            "stop": self.stop,
            **extra,
        }

    def _call(self, request: dict[str, Any]) -> dict[str, Any]:
        reply = self._server.handle_chat_completions(request)
        if not isinstance(reply, dict) or "error" in reply or not reply.get("choices"):
            raise RuntimeError(f"the local model failed: {_error(reply)}")
        return reply

    def _tokens(self, request: dict[str, Any]) -> Iterator[str]:
        """The streamed pieces of a reply. The binding blocks its caller until the reply
        ends, and an exception raised in its callback is lost: it runs in a worker
        thread, so Ctrl-C reaches the main one, and stopping (Ctrl-C, or a caller that
        stops reading) tells the callback to end the generation, which llama.cpp does at
        its next call back: the next token, or once the prompt is read."""
        pieces: queue.Queue[Any] = queue.Queue()
        stop = threading.Event()
        done = object()

        def on_chunk(chunk: Any) -> bool:
            if isinstance(chunk, dict):
                if "error" in chunk:
                    pieces.put(RuntimeError(f"the local model failed: {_error(chunk)}"))
                for choice in chunk.get("choices") or ():
                    text = (choice.get("delta") or {}).get("content")
                    if text:
                        pieces.put(text)
            return stop.is_set()

        def run() -> None:
            try:
                self._server.handle_chat_completions({**request, "stream": True}, on_chunk)
            except Exception as e:  # noqa: BLE001 - handed to the reading thread
                pieces.put(e)
            finally:
                pieces.put(done)

        worker = threading.Thread(target=run, name="qa-xllamacpp", daemon=True)
        worker.start()
        try:
            while (item := pieces.get()) is not done:
                if isinstance(item, BaseException):
                    raise item
                yield str(item)
        finally:
            stop.set()
            worker.join()

    @llm_chat_callback()
    def chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponse:
        reply = self._call(self._request(messages))
        text = str(reply["choices"][0]["message"].get("content") or "")
        return ChatResponse(message=ChatMessage(role="assistant", content=text), raw=reply)

    @llm_chat_callback()
    def stream_chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponseGen:
        def gen() -> ChatResponseGen:
            text = ""
            for piece in self._tokens(self._request(messages)):
                text += piece
                yield ChatResponse(message=ChatMessage(role="assistant", content=text), delta=piece)

        return gen()

    @llm_completion_callback()
    def complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponse:
        reply = self.chat([ChatMessage(role="user", content=prompt)])
        return CompletionResponse(text=reply.message.content or "", raw=reply.raw)

    @llm_completion_callback()
    def stream_complete(
        self, prompt: str, formatted: bool = False, **kwargs: Any
    ) -> CompletionResponseGen:
        def gen() -> CompletionResponseGen:
            text = ""
            for piece in self._tokens(self._request([ChatMessage(role="user", content=prompt)])):
                text += piece
                yield CompletionResponse(text=text, delta=piece)

        return gen()

    def next_token(self, messages: Sequence[ChatMessage], top: int = 20) -> dict[str, float]:
        """The `top` likeliest first tokens of the reply, with their probabilities before
        any sampling setting (greedy, penalties) applies."""
        reply = self._call(self._request(messages, max_tokens=1, logprobs=True, top_logprobs=top))
        content = reply["choices"][0].get("logprobs", {}).get("content") or [{}]
        return {
            str(t["token"]): math.exp(float(t["logprob"]))
            for t in content[0].get("top_logprobs", ())
        }


def _error(reply: Any) -> str:
    if isinstance(reply, dict) and isinstance(reply.get("error"), dict):
        return str(reply["error"].get("message", reply["error"]))
    return str(reply)[:200]
