"""Faults with real processes: two writers and a reader, a Chroma server killed mid-ingest,
a server that never answers, an interrupted ingest repaired by `qa doctor --fix`."""

from __future__ import annotations

import fcntl
import json
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from .conftest import clean_env, free_port, qa_subprocess, start_chroma, write_jsonl

pytestmark = pytest.mark.slow

READER = """
import json, sys, time
from qa import Assistant, QAError
qa = Assistant(index_dir=sys.argv[1], llm="none")
errors, searches, counts = [], 0, set()
deadline = time.time() + float(sys.argv[2])
while time.time() < deadline:
    try:
        hits = qa.search("sommet de Vladivostok", 5)
        docs = qa.documents()
        # A document is seen whole or not at all: its record names exactly its chunks.
        assert all(h.doc_id in {d.doc_id for d in docs} for h in hits)
        searches += 1
        counts.add(len(docs))
    except Exception as e:
        errors.append(f"{type(e).__name__}: {e}")
print(json.dumps({"searches": searches, "errors": errors, "counts": sorted(counts)}))
"""


def articles(path: Path, prefix: str, n: int) -> Path:
    return write_jsonl(
        path,
        (
            {
                "id": f"{prefix}{i}",
                "title": f"Sommet {prefix}{i}",
                "text": f"Le sommet {prefix}{i} a eu lieu à Vladivostok. Kim et Poutine ont "
                f"parlé du sujet {prefix}{i} pendant deux jours.",
            }
            for i in range(n)
        ),
    )


def qa_env(**extra: str) -> dict[str, str]:
    return clean_env(QA_LLM="none", QA_EMBED="use-m3", QA_BATCH_SIZE="8", **extra)


def qa_proc(*args: str, env: dict[str, str], worker: bool = False) -> subprocess.Popen[str]:
    # The real CLI, writing every 32 chunks so that documents are committed all along the
    # run and a kill lands mid-way (by default the first write of these small inputs would
    # be their last); `worker`: every input counted as large, so sentences are split in
    # the worker process.
    # SIGINT as a terminal's foreground process has it: a shell starts background jobs
    # (`pytest &`) with SIGINT ignored, and children inherit that.
    prelude = (
        "import signal; signal.signal(signal.SIGINT, signal.default_int_handler); "
        "import qa.ingest, qa.cli; qa.ingest._WRITE_BATCH = 32"
    )
    if worker:
        prelude += "; qa.ingest._PARALLEL_BYTES = 0"
    return subprocess.Popen(
        [sys.executable, "-c", f"{prelude}; qa.cli.main()", *args],
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def locked(index: Path) -> bool:
    lock = index / "write.lock"
    if not lock.exists():
        return False
    with lock.open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(handle, fcntl.LOCK_UN)
        return False


def wait_for_commits(ingest: subprocess.Popen[str], probe: Any, n: int) -> None:
    """Until the running ingest has committed `n` documents (it must not have ended)."""
    deadline = time.monotonic() + 120
    while not (probe.store.exists() and len(probe.store.committed_hashes()) >= n):
        assert ingest.poll() is None and time.monotonic() < deadline, ingest.communicate()
        time.sleep(0.05)


def counts(index: Path | None = None, url: str | None = None) -> tuple[int, int, int]:
    from qa import Assistant

    qa = Assistant(index_dir=index, chroma_url=url, embed="use-m3", llm="none")
    docs = qa.documents()
    return len(docs), sum(d.chunks for d in docs), qa.store.chunk_count()


def test_two_writers_and_a_reader_share_an_embedded_index(isolated: Path) -> None:
    index = isolated / "index"
    env = qa_env(QA_INDEX_DIR=str(index))
    seeded = qa_subprocess("ingest", str(articles(isolated / "s.jsonl", "s", 2)), env=env)
    assert seeded.returncode == 0, seeded.stderr
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, str(index), "25"],
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    first = qa_proc("ingest", str(articles(isolated / "a.jsonl", "a", 400)), env=env)
    deadline = time.monotonic() + 120
    while not locked(index):
        assert first.poll() is None and time.monotonic() < deadline, first.communicate()
        time.sleep(0.05)
    second = qa_proc("ingest", str(articles(isolated / "b.jsonl", "b", 30)), env=env)
    out1, err1 = first.communicate(timeout=600)
    out2, err2 = second.communicate(timeout=600)
    seen = json.loads(reader.communicate(timeout=600)[0])
    assert first.returncode == 0 and second.returncode == 0, (err1, err2)
    assert "another qa process is writing to" in err2 and "Traceback" not in err1 + err2
    assert "400 added" in out1 and "30 added" in out2
    assert seen["errors"] == [] and seen["searches"] > 0
    assert counts(index) == (432, 432, 432)


def test_a_server_killed_mid_ingest_then_rerun_gives_every_document_once(isolated: Path) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    data = isolated / "srv"
    server = start_chroma(port, data, isolated / "chroma.log")
    env = qa_env(QA_CHROMA_URL=url, QA_SERVER_TIMEOUT="5")
    src = articles(isolated / "a.jsonl", "a", 600)
    ingest = qa_proc("ingest", str(src), env=env)
    from qa import Assistant

    wait_for_commits(ingest, Assistant(chroma_url=url, embed="use-m3", llm="none"), 20)
    server.send_signal(signal.SIGKILL)
    server.wait()
    killed_at = time.monotonic()
    _, err = ingest.communicate(timeout=120)
    assert ingest.returncode == 6 and time.monotonic() - killed_at < 60
    assert err.startswith("qa: error: Cannot ") and url in err and err.count("\n") == 1

    server = start_chroma(port, data, isolated / "chroma2.log")
    try:
        rerun = qa_subprocess("ingest", str(src), env=env)
        assert rerun.returncode == 0, rerun.stderr
        assert counts(url=url) == (600, 600, 600)
    finally:
        server.terminate()
        server.wait(timeout=20)


@pytest.mark.parametrize("worker", [False, True], ids=["in-process", "worker"])
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGINT])
def test_an_ingest_killed_mid_way_is_finished_by_running_it_again(
    isolated: Path, sig: signal.Signals, worker: bool
) -> None:
    from qa import Assistant

    index = isolated / "index"
    env = qa_env(QA_INDEX_DIR=str(index))
    src = articles(isolated / "a.jsonl", "a", 300)
    ingest = qa_proc("ingest", str(src), env=env, worker=worker)
    wait_for_commits(ingest, Assistant(index_dir=index, embed="use-m3", llm="none"), 16)
    ingest.send_signal(sig)
    _, err = ingest.communicate(timeout=60)
    assert ingest.returncode != 0 and "Traceback" not in err, err
    assert counts(index)[0] < 300, "the ingest ended before the signal: nothing was tested"
    if sig == signal.SIGINT:
        assert err.endswith("qa: interrupted; run the same command again to finish.\n")
    rerun = qa_subprocess("ingest", str(src), env=env)
    assert rerun.returncode == 0, rerun.stderr
    assert counts(index) == (300, 300, 300)


def test_a_server_that_never_answers_is_a_clear_error_in_bounded_time(isolated: Path) -> None:
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)
    url = f"http://127.0.0.1:{silent.getsockname()[1]}"
    started = time.monotonic()
    proc = qa_subprocess("search", "Kim", env=qa_env(QA_CHROMA_URL=url, QA_SERVER_TIMEOUT="2"))
    silent.close()
    assert proc.returncode == 6 and time.monotonic() - started < 60
    assert proc.stderr.startswith(f"qa: error: Cannot open the Chroma store at {url}")
    assert proc.stderr.count("\n") == 1


def test_doctor_finds_and_repairs_what_an_interrupted_ingest_left(
    isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from qa import Assistant, diagnose, load_settings
    from qa.commit import commit

    # One document a batch and a write, so the interruption falls between two documents.
    monkeypatch.setattr("qa.ingest._WRITE_BATCH", 1)
    settings = load_settings({"batch_size": 1})
    qa = Assistant(index_dir=isolated / "index", embed="use-m3", llm="none", settings=settings)
    src = articles(isolated / "a.jsonl", "a", 40)
    calls = []

    def dies_on_the_20th(store: Any, batch: Any) -> None:
        calls.append(batch)
        if len(calls) == 20:  # its chunks are written, its record is not: Ctrl-C lands here
            raise KeyboardInterrupt
        commit(store, batch)

    monkeypatch.setattr("qa.commit.commit", dies_on_the_20th)
    with pytest.raises(KeyboardInterrupt):
        qa.ingest([src])
    monkeypatch.setattr("qa.commit.commit", commit)
    health = diagnose(qa)
    assert not health.ok
    orphans = next(c for c in health.checks if c.name == "orphan chunks")
    assert not orphans.ok and orphans.detail.startswith("1 chunks belong to no committed document")
    assert qa.search("sommet a19", 3)[0].doc_id != "a19"  # invisible before the repair too
    stray = next(c for c in health.checks if c.name == "orphan sentences")
    # Its two sentences and its headline.
    assert not stray.ok and stray.detail.startswith("3 sentence vectors")
    fixed = diagnose(qa, fix=True)
    assert fixed.ok
    assert fixed.repaired == ("deleted 1 orphan chunks", "deleted 3 orphan sentence vectors")
    assert counts(isolated / "index") == (19, 19, 19)
    assert qa.ingest([src]).added == 21
    assert counts(isolated / "index") == (40, 40, 40)
    # The lexical index is derived data: lost, doctor sees it and --fix rebuilds it.
    qa.store.lexical.close()
    for path in qa.store.lexical.path.parent.glob(qa.store.lexical.path.name + "*"):
        path.unlink()
    lexical = next(c for c in diagnose(qa).checks if c.name == "lexical index")
    assert not lexical.ok and lexical.detail.startswith("40 documents missing or outdated")
    assert diagnose(qa, fix=True).repaired == (
        "rebuilt the lexical rows of 40 documents, dropped 0",
    )
    assert diagnose(qa).ok


def test_doctor_cli_reports_each_check(isolated: Path) -> None:
    env = qa_env(QA_INDEX_DIR=str(isolated / "none"))
    missing = qa_subprocess("doctor", "--json", env=env)
    report: dict[str, Any] = json.loads(missing.stdout)
    assert missing.returncode == 1 and report["ok"] is False
    assert report["checks"][0]["detail"].startswith("no index at")
    assert {c["name"] for c in report["checks"]} >= {"index", "embedding model", "network"}


def test_processes_opening_a_new_index_at_once_all_succeed(isolated: Path) -> None:
    # Chroma runs its migrations when a process first opens a folder; two at once used to
    # fail one of them ("table collections already exists"), seen in CI when a reader
    # opened the store while `qa ingest` was creating it.
    code = (
        "import sys; from pathlib import Path; from qa.store import Store; "
        f"Store(Path({str(isolated / 'index')!r}))._connect(); print('ok')"
    )
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", code], env=qa_env(), text=True,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )
        for _ in range(6)
    ]  # fmt: skip
    outcomes = [p.communicate(timeout=120) for p in procs]
    assert [(p.returncode, out, err) for p, (out, err) in zip(procs, outcomes, strict=True)] == [
        (0, "ok\n", "")
    ] * 6
