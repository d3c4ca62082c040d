"""Labelled questions → retrieval figures, for qa and for the plain llama-index pipeline
it must beat (the anchor: SentenceSplitter defaults, VectorStoreIndex over Chroma, the
same embedding model, top-k), on the same data in one run.

A set is a folder in the layout of ../shared/eval: `corpus.jsonl` (or `.jsonl.gz`) of
`{"id", "title", "text", "lang"}` and `questions.jsonl` of `{"question", "positive_ids",
"lang"}`. A question is answered by any passage of a document in `positive_ids`; its rank
is that of the first such document among the documents of the retrieved passages.
"""

from __future__ import annotations

import gzip
import json
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qa.errors import ConfigError
from qa.language import detect_language
from qa.types import Evaluation, Method, Scores

if TYPE_CHECKING:
    from qa.assistant import Assistant
    from qa.embeddings import EmbeddingModel
    from qa.types import IngestReport

# (stage, done, total): "ingesting" in bytes, then "qa" and "anchor" in questions.
Progress = Callable[[str, int, int], None]
DEPTH = 20


def _corpus_file(set_dir: Path, corpus: Path | None) -> Path:
    if corpus is not None:
        if not corpus.is_file():
            raise ConfigError(f"{corpus}: no such corpus file.")
        return corpus
    for name in ("corpus.jsonl", "corpus.jsonl.gz"):
        if (set_dir / name).is_file():
            return set_dir / name
    raise ConfigError(f"{set_dir}: no corpus.jsonl or corpus.jsonl.gz in this folder.")


def _lines(path: Path) -> Iterator[str]:
    opener: Any = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as f:
        yield from f


def _questions(set_dir: Path, limit: int | None) -> list[dict[str, Any]]:
    path = set_dir / "questions.jsonl"
    if not path.is_file():
        raise ConfigError(f"{set_dir}: no questions.jsonl in this folder.")
    out = []
    for n, line in enumerate(_lines(path), 1):
        if not line.strip():
            continue
        try:
            q = json.loads(line)
            if not isinstance(q["question"], str) or not isinstance(q["positive_ids"], list):
                raise TypeError
        except (ValueError, KeyError, TypeError):
            raise ConfigError(
                f'{path}:{n}: not a labelled question (needs "question" and a "positive_ids" list).'
            ) from None
        out.append(q)
    return out[:limit] if limit else out


def first_positive(doc_ids: list[str], positives: set[str]) -> int | None:
    """1-based rank of the first positive document among those of `doc_ids`, in order."""
    docs = list(dict.fromkeys(doc_ids))
    return next((i + 1 for i, d in enumerate(docs) if d in positives), None)


def _measure(
    name: str,
    asked: list[dict[str, Any]],
    retrieve: Callable[[str], list[str]],
    on_progress: Progress | None,
    chunks: int | None = None,
    rate: float | None = None,
) -> Method:
    ranks: list[int | None] = []
    latencies: list[float] = []
    langs: list[str] = []
    for i, q in enumerate(asked):
        t = time.perf_counter()
        found = retrieve(q["question"])
        latencies.append((time.perf_counter() - t) * 1000)
        ranks.append(first_positive(found, set(q["positive_ids"])))
        langs.append(str(q.get("lang") or detect_language(q["question"])))
        if on_progress is not None:
            on_progress(name, i + 1, len(asked))
    by_language = {
        lang: Scores.of(
            [r for r, x in zip(ranks, langs, strict=True) if x == lang],
            [t for t, x in zip(latencies, langs, strict=True) if x == lang],
        )
        for lang in sorted(set(langs))
    }
    return Method(name, Scores.of(ranks, latencies), by_language, chunks, rate)


def evaluate_retrieval(
    assistant: Assistant,
    set_dir: str | Path,
    *,
    corpus: str | Path | None = None,
    use_index: bool = False,
    anchor: bool = False,
    limit: int | None = None,
    on_progress: Progress | None = None,
) -> Evaluation:
    """Recall@1/5/20, MRR and search latency of `assistant` on a labelled set (corpus.jsonl
    + questions.jsonl with positive_ids), ingested into a temporary index unless
    `use_index`; with `anchor`, the plain llama-index pipeline beside it."""
    set_dir = Path(set_dir)
    corpus_file = _corpus_file(set_dir, Path(corpus) if corpus is not None else None)
    questions = _questions(set_dir, limit)
    with tempfile.TemporaryDirectory(prefix="qa-eval-") as tmp:
        methods: list[Method] = []
        chunks: int | None = None
        rate: float | None = None
        if use_index:
            qa = assistant
        else:
            qa, report = private_index(assistant, corpus_file, Path(tmp), on_progress, "none")
            chunks = report.chunks
            rate = round(report.chunks / max(report.seconds, 1e-9), 2)
        ids = {d.doc_id for d in qa.documents()}
        asked = [q for q in questions if set(q["positive_ids"]) & ids]
        k = max(DEPTH, qa.settings.k)
        methods.append(
            _measure(
                "qa",
                asked,
                lambda q: [p.doc_id for p in qa.search(q, k)],
                on_progress,
                chunks,
                rate,
            )
        )
        if anchor:
            methods.append(
                _anchor(qa.models.embedding(), corpus_file, ids, Path(tmp), asked, on_progress)
            )
        return Evaluation(
            set_name=set_dir.name,
            embed=qa.embed_name,
            documents=len(ids),
            skipped_questions=len(questions) - len(asked),
            methods=tuple(methods),
        )


def private_index(
    assistant: Assistant,
    corpus_file: Path,
    tmp: Path,
    on_progress: Progress | None,
    llm: str | None = None,
) -> tuple[Assistant, IngestReport]:
    """An embedded index in `tmp`, whatever the user's store is, holding the corpus;
    the same embedding model and settings as `assistant` (and generator `llm`)."""
    from qa.assistant import Assistant

    settings = replace(assistant.settings, index_dir=tmp / "index", chroma_url=None)
    qa = Assistant(embed=assistant.embed_name, llm=llm, settings=settings)
    report = qa.ingest(
        [_plain_corpus(corpus_file, tmp)],
        None if on_progress is None else lambda done, total: on_progress("ingesting", done, total),
    )
    return qa, report


def _plain_corpus(corpus_file: Path, tmp: Path) -> Path:
    """The corpus as a plain .jsonl file qa can ingest (decompressed when gzipped)."""
    if corpus_file.suffix != ".gz":
        return corpus_file
    out = tmp / "corpus.jsonl"
    with gzip.open(corpus_file, "rb") as src, out.open("wb") as dst:
        shutil.copyfileobj(src, dst)
    return out


def _anchor(
    model: EmbeddingModel,
    corpus_file: Path,
    ids: set[str],
    tmp: Path,
    asked: list[dict[str, Any]],
    on_progress: Progress | None,
) -> Method:
    """The thirty-line llama-index pipeline a user would build first, same model."""
    import chromadb
    from llama_index.core import Document, StorageContext, VectorStoreIndex
    from llama_index.core.node_parser import SentenceSplitter
    from llama_index.vector_stores.chroma import ChromaVectorStore

    client = chromadb.PersistentClient(
        path=str(tmp / "anchor"), settings=chromadb.Settings(anonymized_telemetry=False)
    )
    store = ChromaVectorStore(chroma_collection=client.get_or_create_collection("anchor"))
    documents = []
    for line in _lines(corpus_file):
        if not line.strip():
            continue
        record = json.loads(line)
        if str(record.get("id")) in ids:  # the same documents qa holds
            documents.append(
                Document(
                    id_=str(record["id"]),
                    text=str(record.get("text") or ""),
                    metadata={"title": str(record.get("title") or "")},
                )
            )
    started = time.perf_counter()
    index = VectorStoreIndex.from_documents(
        documents,
        storage_context=StorageContext.from_defaults(vector_store=store),
        embed_model=model.model,
        transformations=[SentenceSplitter()],
    )
    seconds = time.perf_counter() - started
    chunks = int(client.get_collection("anchor").count())
    retriever = index.as_retriever(similarity_top_k=DEPTH)
    return _measure(
        "anchor",
        asked,
        lambda q: [str(n.node.ref_doc_id) for n in retriever.retrieve(q)],
        on_progress,
        chunks,
        round(chunks / max(seconds, 1e-9), 2),
    )
