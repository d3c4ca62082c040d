"""Property-based tests: whatever the bytes or the question, a clear result or a clear error."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qa.chunking import chunk_document
from qa.documents import Document, doc_id_for, printable_path, read
from qa.language import detect_language
from qa.types import IngestFailure
from qa.verify import split_claims

from .conftest import qa_cli

SUFFIXES = [".txt", ".md", ".html", ".jsonl"]


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(content=st.binary(max_size=3000), suffix=st.sampled_from(SUFFIXES))
def test_any_file_content_reads_as_documents_or_failures(
    isolated: Path, content: bytes, suffix: str
) -> None:
    path = isolated / f"f{suffix}"
    path.write_bytes(content)
    total = 0
    for item in read(path):
        total += item.nbytes
        assert item.result is None or isinstance(item.result, Document | IngestFailure)
        if isinstance(item.result, Document):
            for chunk in chunk_document(item.result, 20):
                assert item.result.text[chunk.start : chunk.end] == chunk.text
        if isinstance(item.result, IngestFailure):
            assert str(item.result).startswith(str(path)) and "\n" not in item.result.reason
    assert total <= len(content)


@settings(max_examples=200, deadline=None)
@given(text=st.text(max_size=2000), lang=st.sampled_from(["fr", "en", "de", "xx"]))
def test_chunks_cover_whole_sentences_of_any_text(text: str, lang: str) -> None:
    doc = Document("d", "t", text, "s", lang)
    chunks = chunk_document(doc, 15)
    for c in chunks:
        assert text[c.start : c.end] == c.text and c.text.strip() == c.text
        assert all(c.start <= s < e <= c.end for s, e in c.sentences)
    assert [c.position for c in chunks] == list(range(len(chunks)))


@settings(max_examples=200, deadline=None)
@given(answer=st.text(max_size=500))
def test_split_claims_never_fails(answer: str) -> None:
    for claim in split_claims(answer, "en"):
        assert claim.text and all(n >= 0 for n in claim.markers)


def test_file_names_with_spaces_quotes_and_bad_bytes(isolated: Path) -> None:
    odd = isolated / 'l\'été "chaud" 2023.txt'
    odd.write_text("Titre\n\nUn été très chaud à Paris.", encoding="utf-8")
    raw = Path(bytes(isolated).decode() + "/caf\udce9.txt")  # a Latin-1 byte in the name
    raw.write_text("Café\n\nLe café est fermé.", encoding="utf-8")
    ids = sorted(doc_id_for(p).rsplit("/", 1)[1] for p in (odd, raw))
    assert ids == ["caf\\xe9.txt", 'l\'été "chaud" 2023.txt']
    assert printable_path(raw).endswith("caf\\xe9.txt")
    json.dumps(ids)  # valid text everywhere it goes


def test_unexpected_questions_get_an_answer_or_one_clear_line(words_index: Path) -> None:
    questions = [
        "",
        "   ",
        "?!…",
        "x" * 100_000,
        "\x00\x01\x02",
        "Kim 金正恩 Путин ?",
        "¿¡",
        "🙂🙂",
    ]
    for question in questions:
        result = qa_cli("ask", question, "--index", words_index, "--no-llm", "--json")
        if result.exit_code == 0:
            data = json.loads(result.stdout)
            assert data["abstained"] or data["citations"]
        else:
            assert result.exit_code == 2 and result.stderr.count("\n") == 1, result.stderr
    assert qa_cli("sources", "--index", words_index, "--json").exit_code == 0


@pytest.mark.slow
def test_a_large_jsonl_is_streamed_in_constant_memory(isolated: Path) -> None:
    import tracemalloc

    path = isolated / "big.jsonl"
    line = json.dumps({"id": "x", "title": "t", "text": "Un article. " * 400}) + "\n"
    with path.open("w", encoding="utf-8") as f:
        for i in range(4000):
            f.write(line.replace('"x"', f'"a{i}"', 1))
    size = path.stat().st_size
    assert size > 17_000_000
    detect_language("Un article.")  # the language model's own memory is not the reader's
    tracemalloc.start()
    seen = 0
    for item in read(path):
        seen += isinstance(item.result, Document)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert seen == 4000 and peak < size / 20
