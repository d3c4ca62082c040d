"""Ingest into a real Chroma store: incremental, atomic per document, resumable."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from qa import ModelMismatchError, StoreError
from qa.commit import TITLE_START, remove
from qa.embeddings import EmbeddingModel
from qa.ingest import ingest_paths
from qa.records import pack, unpack
from qa.retrieve import candidates, search
from qa.store import IndexInfo, Store

from .conftest import write_jsonl

ARTICLES = {
    f"a{i}": f"Article {i} about topic{i}. It has a second sentence on subject{i}. "
    f"And a third one mentioning place{i} and person{i}."
    for i in range(6)
}


def write_articles(path: Path, articles: dict[str, str]) -> None:
    write_jsonl(path, ({"id": k, "title": k.upper(), "text": v} for k, v in articles.items()))


def news(isolated: Path) -> tuple[Path, Store]:
    """ARTICLES as a JSONL file, and a store for a new index."""
    src = isolated / "news.jsonl"
    write_articles(src, ARTICLES)
    return src, Store(isolated / "index")


def run(store: Store, model: EmbeddingModel, *paths: Path, batch: int = 2) -> Any:
    return ingest_paths(list(paths), store, model, IndexInfo(model.name, 12), batch)


def counts(store: Store) -> tuple[int, int]:
    docs = store.documents()
    return len(docs), store.chunk_count()


def test_reingest_unchanged_does_nothing_and_changed_replaces(
    isolated: Path, words_model: Any
) -> None:
    src, store = news(isolated)
    first = run(store, words_model, src)
    assert (first.added, first.updated, first.skipped, first.failed) == (6, 0, 0, 0)
    n_docs, n_chunks = counts(store)
    assert n_docs == 6 and n_chunks == first.chunks == sum(d.chunks for d in store.documents())

    again = run(Store(isolated / "index"), words_model, src)
    assert (again.added, again.updated, again.skipped, again.chunks) == (0, 0, 6, 0)
    assert counts(store) == (6, n_chunks)

    changed = dict(ARTICLES, a2="A short replacement text for the second article.")
    write_articles(src, changed)
    third = run(Store(isolated / "index"), words_model, src)
    assert (third.added, third.updated, third.skipped) == (0, 1, 5)
    per_doc = {d.doc_id: d.chunks for d in store.documents()}
    assert per_doc["a2"] == 1 and store.chunk_count() == sum(per_doc.values())
    texts = [p.text for p in store.document_text("a2")]
    assert texts == ["A short replacement text for the second article."]


def test_remove_deletes_document_and_chunks(isolated: Path, words_model: Any) -> None:
    src, store = news(isolated)
    run(store, words_model, src)
    before = store.chunk_count()
    removed_chunks = {d.doc_id: d.chunks for d in store.documents()}["a0"]
    assert remove(store, "a0") is True
    assert remove(store, "a0") is False
    assert counts(store) == (5, before - removed_chunks)


class Interrupting:
    """The real fake model, interrupted (as by Ctrl-C) on a given embedding call."""

    def __init__(self, model: EmbeddingModel, fail_on_call: int):
        self.model, self.calls, self.fail_on_call = model, 0, fail_on_call
        self.name, self.min_score = model.name, model.min_score

    def passages(self, texts: list[str]) -> list[list[float]]:
        self.calls += 1
        if self.calls == self.fail_on_call:
            raise KeyboardInterrupt
        return self.model.passages(texts)

    def query(self, text: str) -> list[float]:
        return self.model.query(text)


def test_an_interrupted_ingest_is_finished_by_running_it_again(
    isolated: Path, words_model: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("qa.ingest._WRITE_BATCH", 1)  # write each embedding batch at once
    src, store = news(isolated)
    with pytest.raises(KeyboardInterrupt):
        run(store, Interrupting(words_model, fail_on_call=3), src)  # type: ignore[arg-type]
    partial = store.documents()
    assert 0 < len(partial) < 6
    # Chunks of a document whose record was never written are invisible to search.
    hits = search(store, words_model.query("topic5 subject5 place5"), 20)[0]
    assert {h.doc_id for h in hits} <= {d.doc_id for d in partial}

    report = run(Store(isolated / "index"), words_model, src)
    assert report.added == 6 - len(partial) and report.skipped == len(partial)
    docs = store.documents()
    assert sorted(d.doc_id for d in docs) == sorted(ARTICLES)
    assert store.chunk_count() == sum(d.chunks for d in docs)


def test_an_index_refuses_another_embedding_model(isolated: Path, words_model: Any) -> None:
    src, store = news(isolated)
    run(store, words_model, src)
    other = EmbeddingModel("e5", words_model.model, 0.5)
    with pytest.raises(ModelMismatchError) as e:
        run(Store(isolated / "index"), other, src)
    assert "built with the embedding 'words'" in str(e.value) and "--embed words" in str(e.value)
    assert counts(store)[0] == 6


def test_bad_inputs_are_reported_and_the_rest_ingested(isolated: Path, words_model: Any) -> None:
    folder = isolated / "in"
    folder.mkdir()
    write_articles(folder / "good.jsonl", {"g1": ARTICLES["a1"]})
    (folder / "bad.jsonl").write_text('{"id": "b1", "text": "Fine line here."}\n{broken\n')
    (folder / "empty.txt").write_text("")
    (folder / "binary.txt").write_bytes(b"\x00\x00\x00")
    write_jsonl(folder / "dup.jsonl", [{"id": "g1", "text": "Same id again."}])
    store = Store(isolated / "index")
    report = run(store, words_model, folder)
    assert report.added == 2
    assert sorted(str(f).replace(str(folder) + "/", "") for f in report.failures) == [
        "bad.jsonl:2: invalid JSON (Expecting property name enclosed in double quotes at column 2)",
        "binary.txt: binary file, not text",
        "empty.txt: empty: no text to ingest",
        # Files are read in name order: dup.jsonl claims g1 first.
        "good.jsonl:1: duplicate id 'g1' (first at dup.jsonl:1)",
    ]
    assert sorted(d.doc_id for d in store.documents()) == ["b1", "g1"]
    assert [p.text for p in store.document_text("g1")] == ["Same id again."]


def test_search_filters_by_date_and_source(isolated: Path, words_model: Any) -> None:
    from qa.types import Filters

    src = isolated / "dated.jsonl"
    rows = [
        {
            "id": "old",
            "title": "Summit",
            "text": "Kim meets Putin at the summit.",
            "date": "2019-04-25",
            "source": "lemonde.fr",
        },
        {
            "id": "new",
            "title": "Summit",
            "text": "Kim meets Putin at the summit.",
            "date": "2023-09-13",
            "source": "nos.nl",
        },
        {"id": "undated", "title": "Summit", "text": "Kim meets Putin at the summit."},
    ]
    write_jsonl(src, rows)
    store = Store(isolated / "index")
    run(store, words_model, src)
    q = words_model.query("Kim Putin summit")

    def ids(**f: str) -> list[str]:
        return sorted(p.doc_id for p in search(store, q, 5, Filters(**f))[0])

    assert ids() == ["new", "old", "undated"]
    assert ids(since="2020") == ["new"]
    assert ids(until="2019-04") == ["old"]
    assert ids(since="2019-04-25", until="2023-09-13") == ["new", "old"]
    assert ids(source="LEMONDE") == ["old"]
    with pytest.raises(Exception, match="--since takes a date like 2020"):
        Filters(since="last week")


def test_a_large_input_splits_sentences_in_a_worker_process_with_the_same_result(
    isolated: Path, words_model: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import qa.ingest

    articles = {f"w{i}": f"{ARTICLES[f'a{i % 6}']} Extra line {i}." for i in range(40)}
    src = isolated / "big.jsonl"
    write_articles(src, articles)
    serial = Store(isolated / "serial")
    one = run(serial, words_model, src, batch=5)
    monkeypatch.setattr(qa.ingest, "_PARALLEL_BYTES", 0)  # every input counts as large
    monkeypatch.setattr(qa.ingest, "_PARALLEL_GROUP", 3)
    worker = Store(isolated / "worker")
    two = run(worker, words_model, src, batch=5)
    assert (two.added, two.chunks, two.failures) == (one.added, one.chunks, one.failures)
    assert two.added == 40 and two.chunks > 40
    for doc_id in articles:
        spans = [(p.chunk_id, p.start, p.end) for p in serial.document_text(doc_id)]
        assert [(p.chunk_id, p.start, p.end) for p in worker.document_text(doc_id)] == spans


def test_chunks_written_with_their_text_as_chroma_documents_read_the_same(
    isolated: Path, words_model: Any
) -> None:
    """Indexes written before chunk text moved into the node record keep working."""
    src, store = news(isolated)
    run(store, words_model, src)
    question = "Where is place3 and who is person3?"
    vector = words_model.query(question)
    before = [
        (p.chunk_id, p.text) for p in search(store, vector, 3, question=question, lang="en")[0]
    ]
    texts = {p.chunk_id: p.text for d in ARTICLES for p in store.document_text(d)}
    assert before and all(text for _, text in before)

    # The earlier layout: text as the Chroma document, the node record's text empty.
    got = store.chunks.get(include=["metadatas", "embeddings"])
    old = []
    for meta in got["metadatas"]:
        node = json.loads(meta["_node_content"])
        node["text"] = ""
        old.append(dict(meta, _node_content=json.dumps(node)))
    store.chunks.update(
        ids=got["ids"],
        embeddings=got["embeddings"],
        metadatas=old,
        documents=[texts[i] for i in got["ids"]],
    )
    store.lexical.path.unlink()

    reopened = Store(isolated / "index")
    after = [
        (p.chunk_id, p.text) for p in search(reopened, vector, 3, question=question, lang="en")[0]
    ]
    assert after == before
    assert {p.chunk_id: p.text for d in ARTICLES for p in reopened.document_text(d)} == texts


def test_search_returns_the_stored_vectors_of_its_passages_sentences(
    isolated: Path, words_model: Any
) -> None:
    src, store = news(isolated)
    ingest_paths([src], store, words_model, IndexInfo(words_model.name, 12, sentences=True), 2)
    passages, vectors = search(store, words_model.query("place3 person3"), 2)
    spans = {(p.chunk_id, s, e) for p in passages for s, e in p.sentences}
    assert len(passages) == 2 and vectors and set(vectors) <= spans
    assert all(len(v) == len(words_model.query("x")) for v in vectors.values())


def test_a_headline_is_a_sentence_of_each_of_its_articles_passages(
    isolated: Path, words_model: Any
) -> None:
    # A question that restates a headline meets it, whichever passage it asks about; a
    # title qa took from the first line is not a headline; an update or a removal takes
    # its article's headline with it.
    src = write_jsonl(
        isolated / "news.jsonl",
        [
            {"id": "storm", "title": "Mareike floods Hamburg harbour", "text": ARTICLES["a1"]},
            {"id": "plain", "text": ARTICLES["a2"]},
        ],
    )
    store = Store(isolated / "index")
    layout = IndexInfo(words_model.name, 12, sentences=True)
    ingest_paths([src], store, words_model, layout, 2)

    def headlines() -> list[str]:
        rows = store.sentences.get(where={"start": TITLE_START}, include=["metadatas"])
        return sorted(str(m["doc_hash"]) for m in rows["metadatas"])

    assert len(headlines()) == 1
    question = "Mareike floods Hamburg harbour?"
    found, _ = candidates(store, words_model.query(question), 10)
    storm = [c for c in found if c.passage.doc_id == "storm"]
    assert len(storm) >= 2 and all(c.best_sentence is not None for c in storm)
    # The headline's cosine is the passage's best sentence signal, above any sentence.
    assert all(c.sentence > c.best_sentence + 0.3 for c in storm)
    assert all(c.sentence < 0.3 for c in found if c.passage.doc_id == "plain")

    before = headlines()
    write_jsonl(src, [{"id": "storm", "title": "Mareike: the damage", "text": ARTICLES["a1"]}])
    ingest_paths([src], Store(isolated / "index"), words_model, layout, 2)
    assert len(headlines()) == 1 and headlines() != before
    assert remove(store, "storm") and headlines() == []


def test_a_lexical_search_failing_in_its_thread_is_one_store_error(
    isolated: Path, words_model: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    src, store = news(isolated)
    run(store, words_model, src)

    def malformed(*_: Any) -> None:
        raise sqlite3.DatabaseError("database disk image is malformed")

    monkeypatch.setattr(store.lexical, "same_language", malformed)
    question = "Where is place3?"
    with pytest.raises(StoreError, match=r"lexical index .*: database disk image is malformed"):
        search(store, words_model.query(question), 3, question=question, lang="en")
    monkeypatch.undo()
    assert search(store, words_model.query(question), 3, question=question, lang="en")[0]


def test_a_stored_companion_vector_scores_as_the_original() -> None:
    rng = np.random.default_rng(7)
    vector, question = rng.normal(size=512), rng.normal(size=512)
    packed = pack([float(x) for x in vector])
    assert isinstance(packed, str) and len(packed) == 684  # 512 bytes in base64
    stored = unpack(packed)

    def cosine(a: Any, b: Any) -> float:
        return float(a @ b / np.linalg.norm(a) / np.linalg.norm(b))

    assert cosine(stored, question) == pytest.approx(cosine(vector, question), abs=0.005)
