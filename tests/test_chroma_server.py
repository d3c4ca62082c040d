"""The same commands against a real `chroma run` server on 127.0.0.1, over HttpClient."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from qa import Assistant, StoreError

from .conftest import KIM, SEEDS, free_port, qa_json, start_chroma

pytestmark = pytest.mark.slow


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
    assert [d["chunks"] for d in qa_json("sources")] == [9]


def test_an_unreachable_server_is_one_clear_error() -> None:
    qa = Assistant(chroma_url=f"http://127.0.0.1:{free_port()}")
    t = time.monotonic()
    with pytest.raises(StoreError) as e:
        qa.search(KIM)
    assert str(e.value).startswith("Cannot open the Chroma store at http://127.0.0.1:")
    assert time.monotonic() - t < 30
