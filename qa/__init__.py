"""qa: answers with cited passages from a collection of news articles.

from qa import Assistant
qa = Assistant()
qa.ingest(["seeds/"])
answer = qa.ask("Why would Kim meet Putin in person?")
"""

from __future__ import annotations

import importlib
import os
from typing import TYPE_CHECKING, Any

# Chroma and onnxruntime phone home and Hugging Face reaches for its hub unless told
# not to; qa is offline by default, so these are set before any of them is imported.
for _name, _value in {
    "ANONYMIZED_TELEMETRY": "False",
    "ORT_DISABLE_TELEMETRY": "1",
    "HF_HUB_OFFLINE": "1",
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",
    "TOKENIZERS_PARALLELISM": "false",
    # OpenBLAS threads spin for about 2^28 cycles after each call before they sleep.
    # use-m3's forward pass is many small products, so its second thread burnt about
    # 4 ms of CPU a chunk spinning (12 against 8 ms, 2 cores) for no speed (0-9% faster
    # without it); during an ingest the splitter and the writer need that CPU.
    "OPENBLAS_THREAD_TIMEOUT": "4",
}.items():
    os.environ.setdefault(_name, _value)

if TYPE_CHECKING:
    from qa.assistant import AnswerStream, Assistant, Chat
    from qa.config import Settings, load_settings
    from qa.embeddings import EmbeddingModel, register_embedding
    from qa.errors import (
        ConfigError,
        EmbeddingError,
        GenerationError,
        IndexNotFoundError,
        IngestError,
        ModelMismatchError,
        PromptError,
        QAError,
        StoreError,
    )
    from qa.evaluate import evaluate_retrieval
    from qa.health import diagnose
    from qa.llm import LLMUnavailable
    from qa.types import (
        Answer,
        AnswerSentence,
        Check,
        Citation,
        DocumentInfo,
        Evaluation,
        Explanation,
        Filters,
        Health,
        IngestFailure,
        IngestReport,
        Passage,
        Quote,
        Signal,
    )

# Where each public name lives, imported on first use: `qa --help`, and a command that
# hands its work to `qa serve`, need none of numpy, the models' code or llama-index
# (`import qa` took 0.5 s of the 0.5 s of `qa --help` on a 2-core AVX2 machine).
_HOMES = {
    "Answer": "qa.types",
    "AnswerSentence": "qa.types",
    "AnswerStream": "qa.assistant",
    "Assistant": "qa.assistant",
    "Chat": "qa.assistant",
    "Check": "qa.types",
    "Citation": "qa.types",
    "ConfigError": "qa.errors",
    "DocumentInfo": "qa.types",
    "EmbeddingError": "qa.errors",
    "EmbeddingModel": "qa.embeddings",
    "Evaluation": "qa.types",
    "Explanation": "qa.types",
    "Filters": "qa.types",
    "GenerationError": "qa.errors",
    "Health": "qa.types",
    "IndexNotFoundError": "qa.errors",
    "IngestError": "qa.errors",
    "IngestFailure": "qa.types",
    "IngestReport": "qa.types",
    "LLMUnavailable": "qa.llm",
    "ModelMismatchError": "qa.errors",
    "Passage": "qa.types",
    "PromptError": "qa.errors",
    "QAError": "qa.errors",
    "Quote": "qa.types",
    "Settings": "qa.config",
    "Signal": "qa.types",
    "StoreError": "qa.errors",
    "diagnose": "qa.health",
    "evaluate_retrieval": "qa.evaluate",
    "load_settings": "qa.config",
    "register_embedding": "qa.embeddings",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'qa' has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


__all__ = [
    "Answer",
    "AnswerSentence",
    "AnswerStream",
    "Assistant",
    "Chat",
    "Check",
    "Citation",
    "ConfigError",
    "DocumentInfo",
    "EmbeddingError",
    "EmbeddingModel",
    "Evaluation",
    "Explanation",
    "Filters",
    "GenerationError",
    "Health",
    "IndexNotFoundError",
    "IngestError",
    "IngestFailure",
    "IngestReport",
    "LLMUnavailable",
    "ModelMismatchError",
    "Passage",
    "PromptError",
    "QAError",
    "Quote",
    "Settings",
    "Signal",
    "StoreError",
    "diagnose",
    "evaluate_retrieval",
    "load_settings",
    "register_embedding",
]
