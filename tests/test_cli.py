"""The command line on the words fake: exit codes and one-line errors, JSON as
documented, ingest reports, sources and remove, the chat's commands. Real Chroma and the
real CLI through CliRunner, no real model (test_e2e.py runs the seed article with e5)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from .conftest import KIM, assert_schema, markers, qa_cli, qa_json

# These tests pin the extractive path: no generator to load.
pytestmark = pytest.mark.usefixtures("extractive")


def test_cli_ask_json_carries_the_documented_fields(words_index: Path) -> None:
    result = qa_cli("ask", KIM, "--index", words_index, "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["question"] == KIM and data["abstained"] is False
    assert_schema(data, "ask")  # every field documented, every timing present
    assert data["timings"]["retrieve_ms"] > 0 and data["timings"]["total_ms"] > 0
    for c in data["citations"]:
        assert {
            "n",
            "doc_id",
            "chunk_id",
            "title",
            "date",
            "source",
            "text",
            "start",
            "end",
            "score",
        } <= set(c)
    assert markers(data["answer"]) == {c["n"] for c in data["citations"]}


def test_cli_errors_are_one_line_with_exit_codes(words_index: Path, isolated: Path) -> None:
    missing = qa_cli("search", "x", "--index", isolated / "none", "--embed", "words")
    assert missing.exit_code == 3
    assert (
        missing.stderr
        == f"qa: error: No index at {isolated / 'none'}. Ingest your articles first: "
        "`qa ingest FOLDER` (the sample article: `qa ingest --sample`).\n"
    )
    other = qa_cli("search", "x", "--index", words_index, "--embed", "use-m3")
    assert other.exit_code == 4 and other.stderr.count("\n") == 1
    assert "built with the embedding 'words'" in other.stderr
    bad = qa_cli("ask", "x", "--embed", "word2vec")
    assert bad.exit_code == 2 and "Unknown embedding 'word2vec'" in bad.stderr
    empty = qa_cli("ask", "   ", "--index", words_index)
    assert empty.exit_code == 2 and empty.stderr == "qa: error: The question is empty.\n"


def test_cli_ingest_reports_bad_files_and_keeps_going(words_index: Path, isolated: Path) -> None:
    (isolated / "ok.md").write_text("# Nouvelle\n\nLe sommet a eu lieu à Vostotchny en septembre.")
    (isolated / "bad.txt").write_bytes(b"\x00binary")
    result = qa_cli("ingest", isolated, "--index", words_index)
    assert result.exit_code == 0
    assert f"skipped {isolated / 'bad.txt'}: binary file, not text" in result.stderr
    assert "1 added, 0 updated, 0 unchanged, 1 failed" in result.stdout


def test_chat_transcript(words_index: Path) -> None:
    script = "\n".join(
        [KIM, "/sources", "/open 1", "/open 99", "/bogus", "/reset", "/help", "/quit"]
    )
    result = qa_cli("chat", "--index", words_index, input=script + "\n")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert out.count("you> ") == 8
    assert "[1]" in out and "sources: [1]" in out
    assert "Usage: /open N, where N is one of" in out
    assert "Unknown command /bogus" in out and "Conversation forgotten." in out
    assert "/sources   the sources of the last answer" in out


def test_a_folder_with_no_article_is_an_error_that_says_so(isolated: Path) -> None:
    pictures = isolated / "pictures"
    pictures.mkdir()
    for name in ("a.png", "b.png"):
        (pictures / name).write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(64))
    result = qa_cli("ingest", pictures, "--index", isolated / "i", "--embed", "words")
    assert result.exit_code == 8
    assert f"Nothing to ingest in {pictures}" in result.output


def test_qa_debug_shows_the_traceback_behind_a_clear_error(isolated: Path) -> None:
    store = isolated / "index"
    store.mkdir()
    (store / "chroma.sqlite3").write_bytes(b"not a database, but it says it is")
    plain = qa_cli("sources", "--index", store)
    assert plain.exit_code == 6 and "Traceback" not in plain.stderr
    debug = qa_cli("sources", "--index", store, env={"QA_DEBUG": "1"})
    assert debug.exit_code == 6
    # The cause qa's message hides (`from None`), then the message itself, last.
    assert debug.stderr.count("Traceback") >= 2
    assert debug.stderr.splitlines()[-1] == plain.stderr.strip()


def test_sources_shows_whole_ids_and_remove_takes_several_or_a_prefix(isolated: Path) -> None:
    folder = isolated / "articles" / "weather" / "a-rather-long-folder-name-for-the-region"
    folder.mkdir(parents=True)
    for name in ("storm-over-brittany.md", "heatwave-in-the-south.md", "rain.md"):
        (folder / name).write_text(f"# {name}\n\nLe temps qu'il fait, selon {name}.\n")
    index = isolated / "index"
    assert (
        qa_cli("ingest", isolated / "articles", "--index", index, "--embed", "words").exit_code == 0
    )
    ids = [d["doc_id"] for d in qa_json("sources", "--index", index)]
    # "list" and "ls", which a newcomer tries first, are `sources` (not a hint to "ingest").
    assert [d["doc_id"] for d in qa_json("list", "--index", index)] == ids
    assert qa_cli("ls", "--index", index).stdout == qa_cli("sources", "--index", index).stdout
    table = qa_cli("sources", "--index", index, env={"COLUMNS": "60"}).stdout
    # The id column, its wrapped pieces joined: every id whole, none cut short.
    first = "".join(line.split("│")[1].strip() for line in table.splitlines() if "│" in line)
    assert first == "".join(ids) and "…" not in first
    storm = next(i for i in ids if "storm" in i)
    heat = next(i for i in ids if "heatwave" in i)
    both = qa_cli("remove", storm, heat, "nope", "--index", index)
    assert both.exit_code == 1 and "no document 'nope'" in both.stderr
    assert both.stdout.count("removed ") == 2
    prefix = storm[: storm.index("weather") + len("weather")]
    rest = qa_cli("remove", "--prefix", prefix, "--index", index)
    assert rest.exit_code == 0 and rest.stdout.count("removed ") == 1
    assert qa_json("sources", "--index", index) == []


def test_a_client_hears_the_end_when_the_server_gives_up_on_its_command() -> None:
    # A command that fails inside the server without an exit code (an OSError on the way)
    # must still end the client's wait: the connection is shut down, not just closed,
    # which a thread blocked reading it for Ctrl-C would otherwise keep open for ever.
    import socket
    import threading

    from qa import serve

    def gives_up(argv: list[str]) -> int:
        raise OSError("the client's terminal went away")

    server, client = socket.socketpair()
    fds = [os.open(os.devnull, os.O_RDWR) for _ in range(3)]
    try:
        request = {"argv": ["search", "x"], "cwd": os.getcwd(), "env": dict(os.environ)}
        socket.send_fds(client, [json.dumps(request).encode() + b"\n"], fds)
        handling = threading.Thread(target=serve._handle, args=(server, gives_up), daemon=True)
        handling.start()
        handling.join(10)
        server.close()
        client.settimeout(5)
        assert client.recv(64) == b""  # EOF, not a wait without end
    finally:
        client.close()
        for fd in fds:
            os.close(fd)
