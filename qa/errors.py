"""Errors qa raises, written for the person at the keyboard.

    QAError                      anything qa can explain; the CLI prints one line, exits 1
    ├── ConfigError              a bad flag, QA_* variable or qa.toml value          (exit 2)
    ├── IndexNotFoundError       no index where one was expected                    (exit 3)
    ├── ModelMismatchError       the index was built with another embedding model   (exit 4)
    ├── EmbeddingError           the embedding model cannot be loaded or run         (exit 5)
    ├── StoreError               Chroma cannot be opened, reached or written         (exit 6)
    ├── PromptError              a template in prompts/ is missing or malformed      (exit 7)
    ├── IngestError              nothing at all could be ingested                    (exit 8)
    └── GenerationError          the generator failed mid-answer (server down...)    (exit 9)

Problems with single files during an ingest are not raised: they are collected as
`IngestFailure` records so the rest of the work goes on.
"""

from __future__ import annotations


class QAError(Exception):
    """Base class: the message is a complete sentence a user can act on."""

    exit_code = 1


class ConfigError(QAError):
    exit_code = 2


class IndexNotFoundError(QAError):
    exit_code = 3


class ModelMismatchError(QAError):
    exit_code = 4


class EmbeddingError(QAError):
    exit_code = 5


class StoreError(QAError):
    exit_code = 6


class PromptError(QAError):
    exit_code = 7


class IngestError(QAError):
    exit_code = 8


class GenerationError(QAError):
    exit_code = 9
