"""What a user waits for: each command run from the shell, in a fresh process, on an
existing index, as a terminal shows it.

    python bench/latency.py --index index [--runs 3] [--busy [one|multi]] [--out FILE]
        [--commands help,search,nollm,ask,chat,ctrlc,warm] [--versions new=.,old=/path/to/checkout]

Each command runs in a new interpreter whose output is a pseudo-terminal (so the
spinner and the draft are drawn as for a user), `--runs` times, the commands taking
turns so that a change in the machine's load spreads over all of them. Reported per
command, p50 and p95 of:
- `wall`: from starting the process to its exit;
- `visible`: to the first byte on the terminal (a spinner, a table, help);
- `first_token`: to the first token of the draft on screen (`ask`, `chat`);
and for `ask`, the stages inside the process from `qa ask --json` runs of the same
question (the answer's `timings`: model loads, embedding, retrieval, the judge, first
token, verification), beside the interpreter's start and imports (`python -c "import
qa.cli"`). `chat` is one session of three turns typed into its input; its turns are
reported apart (`turn1`..`turn3`: from the prompt to the first stage line, `stage`,
and to the first token). `ctrlc` presses Ctrl-C while the model reads the prompt and
reports `interrupt`, the seconds until the shell has its prompt back.

`warm` is a search in a process that has the models loaded and the index open (what
`qa serve` and `qa chat` do): one process, three searches to warm it, then 20 timed,
reported as `wall` per search.

`--busy` runs a CPU-bound process pinned to one core beside every measurement (a
user's machine is never idle); `--busy multi`, two programs of two threads each doing
matrix products instead (the case where parallel kernels waiting for a descheduled
sibling turned a 40 ms search into seconds). Commands run in their own process (`QA_SERVER=off`)
unless `--server`: then each version's `qa serve` is started first and warmed by one
search and one answer of another question (not counted; use `--runs 1`: a served
question asked again is read from the states the server kept; the stages come from a
third question), and the commands are
handed to it, as a user's are once a first command has started one. `--versions
name=checkout,...` runs each checkout's `qa` in alternation (PYTHONPATH), for ratios
between commits measured side by side.
"""

from __future__ import annotations

import argparse
import json
import os
import pty
import select
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from common import ROOT

QUESTION = "Why would Kim meet Putin in person?"
WARMUP_QUESTION = "What does Breuker think of the meeting?"
# Through a server, the stages come from a question it has not read yet either (asked
# again, `QUESTION` would be read from the states its first asking left).
SERVED_STAGES_QUESTION = "How far is Vladivostok from Pyongyang?"
FOLLOW_UPS = ["Why would Kim meet Putin in person?", "And what does Breuker think?", "Why?"]
COMMANDS: dict[str, list[str]] = {
    "help": ["--help"],
    "search": ["search", QUESTION],
    "nollm": ["ask", QUESTION, "--no-llm"],
    "ask": ["ask", QUESTION],
    # Ctrl-C while the model reads the prompt (the spinner says "writing…"): reported as
    # `interrupt`, the seconds from the signal to the process's exit.
    "ctrlc": ["ask", QUESTION],
}
SPINNER_WRITING = "writing…"
DRAFT = "─ writing…"  # the top of the draft's box: drawn with the first token (the spinner
# says "⠋ writing…" before it)


def run_in_terminal(
    argv: list[str], env: dict[str, str], stdin: str | None = None, interrupt: str | None = None
) -> Any:
    """Run `argv` with a pseudo-terminal as its output; the times of what it shows.
    With `interrupt`, Ctrl-C (SIGINT) is sent when that text first shows."""
    master, slave = pty.openpty()
    os.set_blocking(master, False)
    started = time.perf_counter()
    proc = subprocess.Popen(
        argv,
        stdout=slave,
        stderr=slave,
        stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
        env=env,
        cwd=env["PYTHONPATH"],  # `python -m` puts the working folder first on the path
        # Ctrl-C as at a terminal: a shell starts background jobs with SIGINT ignored,
        # and a benchmark run in the background would pass that on.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),  # noqa: PLW1509
    )
    os.close(slave)
    if stdin is not None:
        assert proc.stdin is not None
        proc.stdin.write(stdin.encode())
        proc.stdin.close()
    events: list[tuple[float, bytes]] = []
    while True:
        ready, _, _ = select.select([master], [], [], 0.05)
        data = b""
        if ready:
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: the process and its terminal are gone
                data = b""
            if data:
                events.append((time.perf_counter() - started, data))
                if interrupt and interrupt.encode() in data:
                    proc.send_signal(signal.SIGINT)
                    events.append((time.perf_counter() - started, b"<SIGINT>"))
                    interrupt = None
        if not data and proc.poll() is not None:
            break
    wall = time.perf_counter() - started
    os.close(master)
    return proc.returncode, wall, events


def first(events: list[tuple[float, bytes]], text: str, after: float = 0.0) -> float | None:
    """When `text` first appeared after `after` seconds (in one read of the terminal)."""
    needle = text.encode()
    for t, data in events:
        if t >= after and needle in data:
            return t
    return None


def chat_turns(events: list[tuple[float, bytes]]) -> list[dict[str, float | None]]:
    prompts = [t for t, data in events if b"you> " in data][: len(FOLLOW_UPS)]
    turns = []
    for start in prompts:
        stage = next((t for t, data in events if t > start and "…".encode() in data), None)
        token = first(events, DRAFT, start)
        turns.append(
            {
                "stage": round(stage - start, 3) if stage else None,
                "first_token": round(token - start, 3) if token else None,
            }
        )
    return turns


def percentiles(values: list[float]) -> dict[str, float] | None:
    values = sorted(v for v in values if v is not None)
    if not values:
        return None
    p95 = values[min(len(values) - 1, round(0.95 * (len(values) - 1)))]
    return {"p50": round(statistics.median(values), 3), "p95": round(p95, 3), "n": len(values)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--index", type=Path, default=ROOT / "index")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--commands", default="help,search,nollm,ask,chat,ctrlc")
    ap.add_argument("--versions", default=f"new={ROOT}")
    ap.add_argument(
        "--busy",
        nargs="?",
        const="one",
        choices=["one", "multi"],
        help="one: a CPU-bound process on one core beside; multi: two 2-thread programs",
    )
    ap.add_argument("--server", action="store_true", help="through a warm `qa serve`")
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()
    if not (args.index / "chroma.sqlite3").exists():
        raise SystemExit(f"{args.index}: no index (run `qa ingest seeds/ --index {args.index}`)")
    versions = dict(v.split("=", 1) for v in args.versions.split(","))
    commands = args.commands.split(",")
    neighbours = []
    if args.busy == "one":
        spin = ["taskset", "-c", "0", sys.executable, "-c", "while 1: pass"]
        neighbours = [subprocess.Popen(spin)]
    elif args.busy == "multi":
        blas = "import numpy as np\na = np.random.rand(700, 700)\nwhile 1: a @ a"
        threads = {**os.environ, "OPENBLAS_NUM_THREADS": "2", "OMP_NUM_THREADS": "2"}
        neighbours = [subprocess.Popen([sys.executable, "-c", blas], env=threads) for _ in range(2)]
    results: dict[str, dict[str, Any]] = {
        name: {
            c: {"wall": [], "visible": [], "first_token": [], "interrupt": [], "turns": []}
            for c in commands
        }
        for name in versions
    }
    stages: dict[str, dict[str, list[float]]] = {name: {} for name in versions}
    envs = {
        name: {
            **os.environ,
            "PYTHONPATH": str(Path(checkout).resolve()),
            "COLUMNS": "100",
            "LINES": "40",
            "QA_SERVER": "on" if args.server else "off",
        }
        for name, checkout in versions.items()
    }
    base = [sys.executable, "-m", "qa"]
    servers = [start_server(env, args.index) for env in envs.values()] if args.server else []
    try:
        for run in range(args.runs):
            for name, env in envs.items():
                for command in commands:
                    if command == "warm":
                        results[name]["warm"]["wall"] += warm_searches(env, args.index)
                        continue
                    argv = base + (["chat"] if command == "chat" else COMMANDS[command])
                    if command != "help":
                        argv += ["--index", str(args.index.resolve())]
                    stdin = "\n".join(FOLLOW_UPS) + "\n" if command == "chat" else None
                    interrupt = SPINNER_WRITING if command == "ctrlc" else None
                    code, wall, events = run_in_terminal(argv, env, stdin, interrupt)
                    row = results[name][command]
                    if command == "ctrlc":
                        sent = next(t for t, data in events if data == b"<SIGINT>")
                        row["interrupt"].append(wall - sent)
                        continue
                    if code != 0:
                        text = b"".join(d for _, d in events).decode(errors="replace")
                        raise SystemExit(f"{name} {command}: exit {code}\n{text[-2000:]}")
                    row["wall"].append(wall)
                    row["visible"].append(events[0][0] if events else None)
                    if command in ("ask", "chat"):
                        row["first_token"].append(first(events, DRAFT))
                    if command == "chat":
                        row["turns"].append(chat_turns(events))
                    print(f"run {run + 1} {name} {command}: {wall:.2f} s", file=sys.stderr)
                if "ask" in commands:
                    out = subprocess.run(
                        base
                        + ["ask", SERVED_STAGES_QUESTION if args.server else QUESTION]
                        + ["--json", "--index", str(args.index.resolve())],
                        env=env,
                        cwd=env["PYTHONPATH"],
                        capture_output=True,
                        text=True,
                        check=True,
                    )
                    for key, ms in json.loads(out.stdout)["timings"].items():
                        if ms is not None:  # a step that did not run (a model loaded)
                            stages[name].setdefault(key, []).append(ms / 1000)
                    started = time.perf_counter()
                    subprocess.run(
                        [sys.executable, "-c", "import qa.cli"],
                        env=env,
                        cwd=env["PYTHONPATH"],
                        check=True,
                    )
                    stages[name].setdefault("interpreter_and_imports", []).append(
                        time.perf_counter() - started
                    )
    finally:
        for neighbour in neighbours:
            neighbour.kill()
        for env in envs.values() if args.server else ():
            subprocess.run([*base, "serve", "--stop"], env=env, check=False)
        for server in servers:
            server.wait(timeout=60)
    report: dict[str, Any] = {
        "date": time.strftime("%Y-%m-%d"),
        "index": str(args.index),
        "runs": args.runs,
        "busy": args.busy,
        "server": args.server,
        "load_before": os.getloadavg()[0],
        "versions": {},
    }
    for name in versions:
        figures: dict[str, Any] = {}
        for command in commands:
            row = results[name][command]
            figures[command] = {
                k: percentiles(row[k])
                for k in ("wall", "visible", "first_token", "interrupt")
                if row[k]
            }
            if row["turns"]:
                for i in range(len(FOLLOW_UPS)):
                    for k in ("stage", "first_token"):
                        values = [t[i][k] for t in row["turns"] if len(t) > i]
                        figures[command][f"turn{i + 1}_{k}"] = percentiles(values)
        figures["ask_stages"] = {k: percentiles(v) for k, v in stages[name].items()}
        report["versions"][name] = figures
    print_table(report)
    if args.out:
        args.out.write_text(json.dumps(report, indent=2))


WARM = """
import json, sys, time
from qa import Assistant
qa = Assistant(index_dir=sys.argv[1], llm="none")
for _ in range(3):
    qa.search(sys.argv[2])
times = []
for _ in range(20):
    started = time.perf_counter()
    qa.search(sys.argv[2])
    times.append(time.perf_counter() - started)
print(json.dumps(times))
"""


def warm_searches(env: dict[str, str], index: Path) -> list[float]:
    """Seconds of each of 20 searches in one warm process."""
    out = subprocess.run(
        [sys.executable, "-c", WARM, str(index.resolve()), QUESTION],
        env=env,
        cwd=env["PYTHONPATH"],
        capture_output=True,
        text=True,
        check=True,
    )
    return [float(t) for t in json.loads(out.stdout.strip().splitlines()[-1])]


def start_server(env: dict[str, str], index: Path) -> subprocess.Popen[bytes]:
    """A version's `qa serve`, warmed by one search and one answer on `index`, of
    another question than the one measured."""
    server = subprocess.Popen([sys.executable, "-m", "qa", "serve"], env=env)
    where = subprocess.run(
        [sys.executable, "-c", "from qa.serve import socket_path; print(socket_path())"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    while not Path(where).exists():  # a command sent before it listens runs alone
        if server.poll() is not None:
            raise SystemExit(f"qa serve stopped (exit {server.returncode})")
        time.sleep(0.1)
    # Warmed on another question: the server keeps the states of the prompts it read
    # (qa.native), and the measured question would otherwise be read from them.
    for command in ("search", "ask"):
        argv = [command, WARMUP_QUESTION, "--index", str(index.resolve())]
        run_in_terminal([sys.executable, "-m", "qa", *argv], env)
    return server


def print_table(report: dict[str, Any]) -> None:
    mode = {
        None: "idle",
        "one": "with a CPU-bound neighbour",
        "multi": "with two 2-thread neighbours",
    }[report["busy"]]
    if report.get("server"):
        mode += ", through `qa serve`"
    print(f"\nlatency from the shell, {report['runs']} runs, {mode} (p50 / p95, seconds)")
    for name, figures in report["versions"].items():
        print(f"\n[{name}]")
        for command, row in figures.items():
            cells = ", ".join(
                f"{k} {v['p50']:.2f} / {v['p95']:.2f}" for k, v in row.items() if v is not None
            )
            print(f"  {command:10s} {cells}")


if __name__ == "__main__":
    main()
