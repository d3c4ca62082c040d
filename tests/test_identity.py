"""One article is one document: ids that do not depend on the working folder, duplicates
and moved files recognised, and indexes written by qa 0.1 kept as they are."""

from __future__ import annotations

import json
import shutil
import sqlite3
import tarfile
from pathlib import Path

import pytest

from qa.documents import Document, doc_id_for
from qa.identity import Identity, duplicate_groups

from .conftest import qa_cli, qa_json

LEGACY = Path(__file__).parent / "data" / "legacy-index-0.1.tar.gz"


def doc(doc_id: str, text: str = "Le tram F mesure 12 km.", source: str = "") -> Document:
    return Document(doc_id, "Le tram F", text, source or doc_id, "fr")


def test_a_file_has_one_id_whatever_the_working_folder(
    isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    f = isolated / "articles" / "a.txt"
    f.parent.mkdir()
    f.write_text("x")
    from_parent = doc_id_for(Path("articles/a.txt"))
    monkeypatch.chdir(f.parent)
    assert doc_id_for(Path("a.txt")) == doc_id_for(Path("./a.txt")) == from_parent
    assert from_parent == f.resolve().as_posix()
    monkeypatch.setenv("HOME", str(isolated))  # under the home folder: written from ~
    assert doc_id_for(Path("a.txt")) == "~/articles/a.txt"


def test_identity_tells_new_unchanged_updated_duplicate_and_moved(isolated: Path) -> None:
    gone = (isolated / "old" / "a.txt").as_posix()
    here = isolated / "new" / "a.txt"
    here.parent.mkdir()
    here.write_text("x")
    kept = isolated / "kept.txt"
    kept.write_text("x")
    a, other = doc(str(here)), doc(str(kept), "Autre chose.")
    identity = Identity({gone: (a.hash, gone), str(kept): (other.hash, str(kept))})
    # The same content whose old file is gone: the file moved.
    assert identity.place(a, here).action == "moved"
    assert identity.place(a, here).other == gone
    assert identity.place(other, kept).action == "unchanged"
    assert identity.place(doc(str(kept), "Changé."), kept).action == "update"
    copy = doc(str(isolated / "copy.txt"), "Autre chose.")
    placed = identity.place(copy, isolated / "copy.txt")
    assert (placed.action, placed.other) == ("duplicate", str(kept))
    assert (
        Identity({str(kept): (other.hash, "")}, keep_duplicates=True)
        .place(copy, isolated / "copy.txt")
        .action
        == "new"
    )
    # JSONL ids are the user's: never taken for a moved file.
    record = doc("/gone/a.txt", "Autre chose.")
    assert identity.place(record, isolated / "feed.jsonl").action == "duplicate"


def test_qa_0_1_ids_are_recognised_by_their_tail_and_their_hash(isolated: Path) -> None:
    f = isolated / "articles" / "tram.txt"
    f.parent.mkdir()
    f.write_text("x")
    new = doc(doc_id_for(f))
    # qa 0.1 hashed the source in, and keyed the file by its path from the working folder.
    identity = Identity(
        {"articles/tram.txt": (new.legacy_hash("articles/tram.txt"), "articles/tram.txt")}
    )
    placed = identity.place(new, Path("tram.txt"))
    assert (placed.doc.doc_id, placed.action) == ("articles/tram.txt", "unchanged")
    assert identity.place(doc(doc_id_for(f), "Changé."), f).doc.doc_id == "articles/tram.txt"
    elsewhere = Identity({"other/tram.txt": (new.legacy_hash("other/tram.txt"), "other/tram.txt")})
    assert elsewhere.place(new, f).doc.doc_id == new.doc_id


def test_duplicate_groups_keep_a_file_that_is_still_there(isolated: Path) -> None:
    there = isolated / "b.txt"
    there.write_text("x")
    groups = duplicate_groups(
        {"/nowhere/a.txt": "h1", str(there): "h1", "jsonl-id": "h1", "alone": "h2"}
    )
    assert groups == [[str(there), "/nowhere/a.txt", "jsonl-id"]]


def ingest(*args: str) -> dict:
    result = qa_cli("ingest", *args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def ids(index: str) -> list[str]:
    return sorted(d["doc_id"] for d in qa_json("sources", "--index", index))


def test_one_copy_of_each_article_from_any_folder_and_under_any_name(
    isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The issue's scenario through the CLI and real Chroma (the words fake embeds)."""
    articles = isolated / "articles"
    (articles / "weather").mkdir(parents=True)
    (articles / "tram.txt").write_text("Le tram F\n\nLa ligne F mesure 12 km.\n")
    (articles / "weather" / "storm.md").write_text("# Storm\n\nStorm Mareike hit Hamburg.\n")
    index = str(isolated / "index")
    assert ingest("articles", "--index", index, "--embed", "words")["added"] == 2
    monkeypatch.chdir(articles)
    again = ingest(".", "--index", index)
    assert (again["added"], again["updated"], again["skipped"]) == (0, 0, 2)
    assert ids(index) == sorted(doc_id_for(p) for p in articles.rglob("*.*"))

    shutil.copy(articles / "tram.txt", articles / "tram-copy.txt")
    copied = qa_cli("ingest", ".", "--index", index)
    assert copied.exit_code == 0
    assert "0 added, 0 updated, 2 unchanged, 1 duplicates" in copied.stdout
    assert "not stored " in copied.stderr and "tram-copy.txt" in copied.stderr
    assert f"in the index as {doc_id_for(articles / 'tram.txt')}" in copied.stderr
    assert len(ids(index)) == 2

    # A moved file is the same document under its new path, not a second one.
    (articles / "weather").rename(articles / "meteo")
    moved = ingest(".", "--index", index)
    assert (moved["added"], moved["updated"]) == (0, 1)
    assert doc_id_for(articles / "meteo" / "storm.md") in ids(index)
    assert len(ids(index)) == 2

    # Asked for, a duplicate is kept; doctor reports it and --fix keeps one.
    assert ingest(".", "--index", index, "--keep-duplicates")["added"] == 1
    doctor = qa_cli("doctor", "--index", index)
    assert "FAIL duplicates: 1 articles stored under several ids" in doctor.stdout
    fixed = qa_cli("doctor", "--index", index, "--fix")
    assert "removed 1 duplicate documents" in fixed.stdout
    assert "ok   duplicates" in fixed.stdout and len(ids(index)) == 2
    # A file is removed by its path too.
    gone = qa_cli("remove", "tram.txt", "--index", index)
    assert gone.exit_code == 0 and len(ids(index)) == 1


@pytest.mark.slow
def test_an_index_written_by_qa_0_1_keeps_working(
    isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The archive holds an index made by qa 0.1 (`qa ingest articles` from the folder
    above them) and its articles: re-ingested from there or from inside, nothing is
    added; an edited article is updated in place and found by its new words."""
    with tarfile.open(LEGACY) as tar:
        tar.extractall(isolated, filter="data")
    before = ids("legacy-index")
    assert before == ["articles/storm.md", "articles/tram.txt"]
    first = ingest("articles", "--index", "legacy-index")
    assert (first["added"], first["updated"], first["skipped"]) == (0, 0, 2)
    monkeypatch.chdir(isolated / "articles")
    assert ingest(".", "--index", "../legacy-index")["skipped"] == 2
    with open("tram.txt", "a") as f:
        f.write("La ligne F transporte 40 000 voyageurs par jour.\n")
    edited = ingest(".", "--index", "../legacy-index")
    assert (edited["added"], edited["updated"], edited["skipped"]) == (0, 1, 1)
    assert ids("../legacy-index") == before
    found = qa_json("search", "voyageurs par jour", "--index", "../legacy-index")
    assert found["passages"][0]["doc_id"] == "articles/tram.txt"
    doctor = qa_cli("doctor", "--index", "../legacy-index")
    assert "FAIL" not in doctor.stdout.split("embedding model")[0]


def test_keyword_search_catches_up_an_updated_document_from_another_writer(
    isolated: Path,
) -> None:
    """A Chroma server's other clients keep their own lexical index: one that missed an
    update (same document count) catches up on its next search, by the store's version."""
    (isolated / "a.txt").write_text("Le tram\n\nLa ligne F mesure 12 km.\n")
    (isolated / "b.txt").write_text("Storm\n\nStorm Mareike hit Hamburg.\n")
    ingest("a.txt", "b.txt", "--index", "idx", "--embed", "words")
    lexical = isolated / "idx" / "qa-lexical.sqlite3"
    stale = isolated / "stale.sqlite3"
    with sqlite3.connect(lexical) as src, sqlite3.connect(stale) as dst:
        src.backup(dst)
    (isolated / "a.txt").write_text("Le tram\n\nLa ligne F transporte 40 000 voyageurs.\n")
    assert ingest("a.txt", "--index", "idx")["updated"] == 1
    for suffix in ("", "-wal", "-shm"):
        Path(f"{lexical}{suffix}").unlink(missing_ok=True)
    shutil.copy(stale, lexical)
    lag = qa_cli("doctor", "--index", "idx").stdout
    assert "1 documents missing or outdated" in lag
    qa_cli("search", "voyageurs", "--index", "idx")
    assert "lexical index: " in (ok := qa_cli("doctor", "--index", "idx").stdout)
    assert "in step with the vectors" in ok


def test_a_refused_file_leaves_no_index_behind(isolated: Path) -> None:
    (isolated / "blob.txt").write_bytes(b"\x00\x01binary")
    result = qa_cli("ingest", "blob.txt", "--index", "fresh", "--embed", "words")
    assert result.exit_code == 8 and "binary file, not text" in result.output
    assert not (isolated / "fresh").exists()
