"""qa: answers with cited passages from a collection of news articles.

from qa import Assistant
qa = Assistant()
qa.ingest(["seeds/"])
answer = qa.ask("Why would Kim meet Putin in person?")
"""

from __future__ import annotations

import os

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

from qa.assistant import AnswerStream, Assistant, Chat  # noqa: E402
from qa.config import Settings, load_settings  # noqa: E402
from qa.embeddings import EmbeddingModel, register_embedding  # noqa: E402
from qa.errors import (  # noqa: E402
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
from qa.evaluate import evaluate_retrieval  # noqa: E402
from qa.health import diagnose  # noqa: E402
from qa.llm import LLMUnavailable  # noqa: E402
from qa.types import (  # noqa: E402
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
