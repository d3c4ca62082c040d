"""The same commands against a real `chroma run` server on 127.0.0.1, over HttpClient."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from qa import Assistant, StoreError
from qa.cli import app

from .conftest import KIM, SEEDS

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_chroma(port: int, path: Path, log_path: Path) -> subprocess.Popen[bytes]:
    """A real `chroma run` on 127.0.0.1, once it answers its heartbeat."""
    chroma = shutil.which("chroma") or str(Path(sys.executable).parent / "chroma")
    log = log_path.open("w")
    proc = subprocess.Popen(
        [chroma, "run", "--host", "127.0.0.1", "--port", str(port), "--path", str(path)],
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "ANONYMIZED_TELEMETRY": "False"},
    )
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=1)
            return proc
        except OSError:
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                pytest.fail(f"chroma run did not start: {log_path.read_text()[-500:]}")
            time.sleep(0.2)


@pytest.fixture
def chroma_url(tmp_path: Path) -> Iterator[str]:
    port = free_port()
    proc = start_chroma(port, tmp_path / "srv", tmp_path / "chroma.log")
    yield f"http://127.0.0.1:{port}"
    proc.terminate()
    proc.wait(timeout=20)


def test_ingest_ask_and_list_through_a_chroma_server(
    chroma_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    qa = Assistant(chroma_url=chroma_url)
    report = qa.ingest([SEEDS])
    assert (report.added, report.chunks) == (1, 9)
    assert qa.ingest([SEEDS]).skipped == 1
    answer = qa.ask(KIM)
    assert not answer.abstained and answer.citations
    monkeypatch.setenv("QA_CHROMA_URL", chroma_url)
    listed = CliRunner().invoke(app, ["sources", "--json"])
    assert [d["chunks"] for d in json.loads(listed.stdout)] == [9]


def test_an_unreachable_server_is_one_clear_error() -> None:
    qa = Assistant(chroma_url=f"http://127.0.0.1:{free_port()}")
    t = time.monotonic()
    with pytest.raises(StoreError) as e:
        qa.search(KIM)
    assert str(e.value).startswith("Cannot open the Chroma store at http://127.0.0.1:")
    assert time.monotonic() - t < 30
