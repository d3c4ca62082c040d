"""`qa serve`: a warm process that runs `ask` and `search` for the commands typed after
it, on their own terminal, with their exit codes; real subprocesses, the real index."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .conftest import KIM

pytestmark = pytest.mark.slow


def qa(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "qa.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )


def test_a_server_runs_the_commands_typed_after_it(kim_index: Path, tmp_path: Path) -> None:
    env = {**os.environ, "QA_SERVER": "on", "QA_LLM": "none"}
    server = subprocess.Popen(
        [sys.executable, "-m", "qa.cli", "serve", "--idle", "300"],
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        from qa.serve import socket_path

        deadline = time.monotonic() + 120
        while not socket_path().exists() and server.poll() is None:
            assert time.monotonic() < deadline, "the server never listened"
            time.sleep(0.1)
        alone = qa(
            "search", KIM, "--index", str(kim_index), "--json", env={**env, "QA_SERVER": "off"}
        )
        served = qa("search", KIM, "--index", str(kim_index), "--json", env=env)
        assert served.returncode == 0, served.stderr
        assert json.loads(served.stdout) == json.loads(alone.stdout)

        # An error: its line on the client's stderr, its exit code from the client.
        empty = qa("ask", " ", "--index", str(kim_index), env=env)
        assert (empty.returncode, empty.stderr) == (2, "qa: error: The question is empty.\n")

        # Another process adds an article; the server's next search sees it.
        article = tmp_path / "ferry.md"
        article.write_text(
            "---\ntitle: Ferry crews end their strike\ndate: 2026-11-20\n---\n\n"
            "The ferry crews of Calmac accepted a 4.5 percent pay rise on Tuesday and "
            "the ferries will sail again on Thursday morning.\n",
            encoding="utf-8",
        )
        added = qa("ingest", str(article), "--index", str(kim_index), env=env)
        assert added.returncode == 0, added.stderr
        ferry = qa(
            "search",
            "When will the ferries sail again?",
            "--index",
            str(kim_index),
            "--json",
            "-k",
            "1",
            env=env,
        )
        assert ferry.returncode == 0, ferry.stderr
        assert json.loads(ferry.stdout)["passages"][0]["title"] == "Ferry crews end their strike"

        assert qa("serve", "--stop", env=env).returncode == 0
        server.wait(timeout=60)
    finally:
        if server.poll() is None:
            server.kill()
        log = server.communicate()[1]
    # Each served command left its line in the server's log (ingest is not served).
    assert [line.split()[2] for line in log.splitlines() if line.startswith("qa serve:")] == [
        "search",
        "ask",
        "search",
    ]


def test_the_socket_folder_is_private(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from qa.serve import socket_path

    monkeypatch.setenv("TMPDIR", str(tmp_path))
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)
    path = socket_path()
    assert path.parent.stat().st_mode & 0o777 == 0o700
    path.parent.chmod(0o755)
    with pytest.raises(PermissionError):
        socket_path()


def test_a_servers_assistants_share_their_models(
    words_index: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`qa ask`, `qa ask -k 8` and `qa search --index /abs/path` are three assistants of
    one server: one embedding model and one generator between them, not three."""
    from dataclasses import replace

    from qa.config import Settings
    from qa.serve import Assistants

    monkeypatch.chdir(words_index.parent)
    remote = {"llm": "openai-like", "llm_base_url": "http://127.0.0.1:9/v1", "llm_model": "m"}
    base = Settings(index_dir=Path("index"), embed="words", **remote)
    served = Assistants()
    one = served.get(base)
    two = served.get(replace(base, k=8))
    three = served.get(replace(base, index_dir=words_index))
    assert len({id(one), id(two), id(three)}) == 3
    assert one.models.embedding() is two.models.embedding() is three.models.embedding()
    assert one.llm is not None and one.llm is two.llm is three.llm
    # A generator loaded otherwise is another one.
    assert served.get(replace(base, max_tokens=50)).llm is not one.llm
    # Outside a server, each assistant loads its own.
    from qa.assistant import Assistant

    assert Assistant(settings=base).llm is not one.llm
