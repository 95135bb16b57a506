"""Benchmark: `logvigil ingest` with and without the embedding backfill beside it, side by
side (issue 16: the backfill never slows ingest by more than 5%).

The same JSONL input (N lines from T templates, default 1,000,000 and 10,000, as
bench_ingest.py makes them) is ingested by the real CLI in a subprocess into a fresh
SQLite store, alternately:

- A: the ingest alone;
- B: the ingest while this process runs the daemon's embedding job on the same store:
  `logvigil.search.vectors.backfill`, the function `Daemon.embed_templates` calls, with
  the daemon's `EMBED_PER_RUN`, in a loop: every `--every` seconds, or by default back to
  back (pessimistic: the daemon runs it once a minute), a run that found nothing to embed
  waiting 1 s before the next;
- C (with `--control`): the same backfill loop on another store that holds the same
  templates (ingested from the same input first, its vectors deleted before each run):
  the backfill's CPU beside the ingest without any contention on the ingest's store.

The vectors come from a local server of this bench speaking the OpenAI `/v1/embeddings`
protocol, answering a deterministic vector per text (from a hash of it, dimension 384) at
once: what B measures is the store's contention, not a model's CPU. Each store is
migrated before the clock starts, and the children compile the project's modules once
(a warm-up run), into a cache in the bench's temporary directory rather than once per run
where PYTHONDONTWRITEBYTECODE is set. Rounds alternate which side goes first, so a drift
of the machine hits every side; the figures are the median and the best of each side and
the ratio B / A.

Where the ingest's time went is reported too, from the kernel (`/proc/PID/schedstat` of
the child, read before it is reaped): its CPU, the time it was ready to run but waited
for a core (the machine's load, this process's backfill included), and the rest, off a
core for another reason (I/O, or the busy wait for SQLite's write lock while the
backfill holds it): the store's contention shows in that rest, not in the waits for a
core. The backfill's writes are timed from this side: how long each of its INSERTs took
(a long one waited for the lock the ingest holds) and its whole write transaction, with
the CPU of this process (backfill and server) and of the backfill's thread alone.
`--trace` runs the child through `traced_child`, which times each of the ingest's
flushes (one write transaction each), their first statement (which waits for the lock)
and their commit (which runs SQLite's automatic checkpoint).

    uv run python bench/bench_embed_backfill.py [--lines 1000000] [--templates 10000]
        [--rounds 3] [--every 0] [--dim 384] [--control] [--trace]

Target: B at most 5% slower than A (B / A >= 0.95 in lines/s).
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import Engine, event, func, select

sys.path.insert(0, str(Path(__file__).parent))
from bench_ingest import generate

from logvigil.app.daemon import EMBED_PER_RUN
from logvigil.search.embed import Embedder, EmbeddingsConfig
from logvigil.search.vectors import backfill
from logvigil.store.database import create_store_engine
from logvigil.store.schema import Template, TemplateEmbedding
from migrations.apply import open_engine

TARGET = 0.95
MODEL = "bench-hash"
#: Seconds a run that found nothing to embed waits before the next (with `--every 0`).
IDLE_S = 1.0


def vector(text: str, dim: int) -> list[float]:
    """A deterministic vector for `text`: normal draws seeded by its hash."""
    seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little")
    return np.random.default_rng(seed).standard_normal(dim).astype(np.float32).tolist()


class VectorServer:
    """`POST /v1/embeddings` (OpenAI): one hashed vector per input text, at once."""

    def __init__(self, dim: int) -> None:
        self.requests = 0
        self.texts = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                req = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                texts = req["input"] if isinstance(req["input"], list) else [req["input"]]
                outer.requests += 1
                outer.texts += len(texts)
                data = [
                    {"object": "embedding", "index": i, "embedding": vector(t, dim)}
                    for i, t in enumerate(texts)
                ]
                body = json.dumps({"object": "list", "data": data, "model": req["model"]})
                raw = body.encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@dataclass
class BackfillStats:
    """What the backfill loop did during one B run."""

    runs: int = 0
    embedded: int = 0
    errors: list[str] = field(default_factory=list)
    run_s: list[float] = field(default_factory=list)
    #: Seconds each INSERT of a batch of vectors took (lock wait included).
    insert_s: list[float] = field(default_factory=list)
    #: Seconds from each INSERT's start to the end of its transaction (the write lock held,
    #: once acquired, plus the wait for it).
    txn_s: list[float] = field(default_factory=list)
    #: CPU seconds of this whole process (backfill, server) while the ingest ran.
    cpu_s: float = 0.0
    #: CPU seconds of the backfill's own thread (the product's code: the client's JSON,
    #: hashing every template each run, the writes).
    thread_cpu_s: float = 0.0


def instrument(engine: Engine, stats: BackfillStats) -> None:
    """Time the backfill's INSERTs and its write transactions on `engine`."""
    started: dict[int, float] = {}

    @event.listens_for(engine, "before_cursor_execute")
    def _before(conn, cursor, statement, parameters, context, executemany) -> None:
        if statement.lstrip().upper().startswith("INSERT"):
            conn.info["insert_at"] = time.perf_counter()

    @event.listens_for(engine, "after_cursor_execute")
    def _after(conn, cursor, statement, parameters, context, executemany) -> None:
        at = conn.info.pop("insert_at", None)
        if at is not None:
            stats.insert_s.append(time.perf_counter() - at)
            started[id(conn.connection.dbapi_connection)] = at

    @event.listens_for(engine, "checkin")
    def _checkin(dbapi_conn, record) -> None:
        at = started.pop(id(dbapi_conn), None)
        if at is not None:
            stats.txn_s.append(time.perf_counter() - at)


def backfill_loop(
    db: str, url: str, stop: threading.Event, every: float, stats: BackfillStats
) -> None:
    """The daemon's `embed` job against `db`, run after run, until `stop` is set."""
    engine = create_store_engine(db)
    instrument(engine, stats)
    embedder = Embedder(EmbeddingsConfig(provider="openai", model=MODEL, base_url=url))
    cpu = time.thread_time()
    while not stop.is_set():
        t = time.perf_counter()
        done = 0
        try:
            done = backfill(engine, embedder, datetime.now(UTC), EMBED_PER_RUN)
        except Exception as e:  # the daemon logs it and retries: so does this loop
            stats.errors.append(f"{type(e).__name__}: {e}"[:200])
        stats.run_s.append(time.perf_counter() - t)
        stats.runs += 1
        stats.embedded += done
        if every > 0:
            stop.wait(every)
        elif not done:
            stop.wait(IDLE_S)
    stats.thread_cpu_s = time.thread_time() - cpu
    engine.dispose()


@dataclass(frozen=True)
class Run:
    side: str
    rate: float
    elapsed: float
    child_cpu: float
    templates: int
    vectors: int
    wal_mb: float
    runqueue_s: float | None
    stats: BackfillStats | None
    trace: dict[str, list[float]] | None = None


def traced_child(out: str, argv: list[str]) -> None:
    """`logvigil ARGV` in this process with the ingest's store time measured (`--trace`):
    each flush (one write transaction), the first statement of each (it waits for the
    write lock when another connection holds it) and its commit (which runs SQLite's
    automatic checkpoint); written as JSON to `out` at exit."""
    import atexit

    from sqlalchemy import Engine as EngineClass

    from logvigil.cli import main as cli_main
    from logvigil.ingest.ingestor import Ingestor

    trace: dict[str, list[float]] = {"flush": [], "first": [], "commit": []}
    flush = Ingestor.flush

    def timed_flush(self: Ingestor) -> None:
        self.engine.__dict__.pop("_bench_commit_at", None)  # another transaction's
        t = time.perf_counter()
        flush(self)
        end = time.perf_counter()
        trace["flush"].append(end - t)
        at = self.engine.__dict__.pop("_bench_commit_at", None)
        if at is not None:
            trace["commit"].append(end - at)

    Ingestor.flush = timed_flush  # type: ignore[method-assign]

    @event.listens_for(EngineClass, "begin")
    def _begin(conn) -> None:
        conn.info["bench_first"] = True

    @event.listens_for(EngineClass, "before_cursor_execute")
    def _before(conn, cursor, statement, parameters, context, executemany) -> None:
        if conn.info.pop("bench_first", False) and not statement.lstrip().startswith("SELECT"):
            conn.info["bench_first_at"] = time.perf_counter()

    @event.listens_for(EngineClass, "after_cursor_execute")
    def _after(conn, cursor, statement, parameters, context, executemany) -> None:
        at = conn.info.pop("bench_first_at", None)
        if at is not None:
            trace["first"].append(time.perf_counter() - at)

    @event.listens_for(EngineClass, "commit")
    def _commit(conn) -> None:
        conn.engine.__dict__["_bench_commit_at"] = time.perf_counter()

    def write() -> None:
        Path(out).write_text(json.dumps(trace))

    atexit.register(write)
    sys.argv = ["logvigil", *argv]
    cli_main()


def children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def self_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def child_env(tmp: Path) -> dict[str, str]:
    """The children's environment: byte code cached under `tmp`, not in the checkout."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(tmp / "pycache")
    return env


@dataclass(frozen=True)
class Child:
    """How an ingest subprocess ended and spent its time (its main thread, which does
    all the work): on a core, and ready to run but waiting for one (from the kernel's
    `/proc/PID/schedstat`; None where there is none)."""

    returncode: int
    output: str
    on_cpu_s: float | None
    runqueue_s: float | None


def ingest(src: Path, db: str, env: dict[str, str], trace: Path | None = None) -> Child:
    """`logvigil ingest SRC --format jsonl --db DB` in a subprocess (with `trace`, through
    `traced_child`, which writes its measures there)."""
    cmd = [sys.executable, "-m", "logvigil.cli"]
    if trace is not None:
        cmd = [sys.executable, __file__, "--traced-child", str(trace)]
    args = ["ingest", str(src), "--format", "jsonl", "--db", db]
    with tempfile.TemporaryFile("w+") as out:
        proc = subprocess.Popen([*cmd, *args], stdout=out, stderr=subprocess.STDOUT, env=env)
        # Wait for its end without reaping it, so its schedstat can still be read.
        os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOWAIT)
        on_cpu = runqueue = None
        with contextlib.suppress(OSError, ValueError):
            fields = Path(f"/proc/{proc.pid}/schedstat").read_text().split()
            on_cpu, runqueue = int(fields[0]) / 1e9, int(fields[1]) / 1e9
        returncode = proc.wait()
        out.seek(0)
        return Child(returncode, out.read(), on_cpu, runqueue)


def wal_sampler(wal: Path, stop: threading.Event, peak: list[int]) -> None:
    """The largest size of `wal` seen, every 0.1 s until `stop`."""
    while not stop.wait(0.1):
        with contextlib.suppress(FileNotFoundError):
            peak[0] = max(peak[0], wal.stat().st_size)


def run_once(
    side: str,
    src: Path,
    lines: int,
    tmp: Path,
    n: int,
    server: VectorServer,
    every: float,
    control_db: str,
    traced: bool = False,
) -> Run:
    """One ingest into a fresh store: alone (A), with the backfill on the same store (B),
    or with the backfill on another store holding the same templates (C)."""
    path = tmp / f"{side}{n}.db"
    db = f"sqlite:///{path}"
    open_engine(db).dispose()  # migrated before the clock starts, on every side
    stats, stop = BackfillStats(), threading.Event()
    threads = [
        threading.Thread(
            target=wal_sampler, args=(Path(f"{path}-wal"), stop, peak := [0]), daemon=True
        )
    ]
    if side != "A":
        if side == "C":  # the same templates, none embedded yet
            engine = create_store_engine(control_db)
            with engine.begin() as conn:
                conn.execute(TemplateEmbedding.__table__.delete())
            engine.dispose()
        target = db if side == "B" else control_db
        threads.append(
            threading.Thread(
                target=backfill_loop, args=(target, server.url, stop, every, stats), daemon=True
            )
        )
    cpu = self_cpu_s()
    for thread in threads:
        thread.start()
    before = children_cpu_s()
    t = time.perf_counter()
    trace_file = tmp / f"{side}{n}.trace.json" if traced else None
    proc = ingest(src, db, child_env(tmp), trace_file)
    elapsed = time.perf_counter() - t
    child_cpu = children_cpu_s() - before
    stats.cpu_s = self_cpu_s() - cpu
    stop.set()
    for thread in threads:
        thread.join()
    if proc.returncode != 0:
        raise SystemExit(f"ingest failed ({side}):\n{proc.output}")
    engine = create_store_engine(db)
    with engine.connect() as conn:
        templates = conn.execute(select(func.count()).select_from(Template)).scalar_one()
        vectors = conn.execute(select(func.count()).select_from(TemplateEmbedding)).scalar_one()
    engine.dispose()
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    return Run(
        side,
        lines / elapsed,
        elapsed,
        child_cpu,
        templates,
        vectors,
        peak[0] / 2**20,
        proc.runqueue_s,
        stats if side != "A" else None,
        json.loads(trace_file.read_text()) if trace_file is not None else None,
    )


def ms(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    return float(np.quantile(values, q)) * 1000


def describe(run: Run, r: int) -> str:
    line = (
        f"round {r + 1} {run.side}: {run.elapsed:6.1f} s, {run.rate:8,.0f} lines/s, "
        f"ingest CPU {run.child_cpu:5.1f} s, {run.templates:,} templates, "
        f"WAL peak {run.wal_mb:.0f} MB"
    )
    if run.runqueue_s is not None:
        # Neither on a core nor waiting for one: asleep (a lock's busy wait, I/O).
        off = run.elapsed - run.child_cpu - run.runqueue_s
        line += f", waited for a core {run.runqueue_s:.1f} s, otherwise off-core {off:.1f} s"
    if run.trace is not None:
        tr = run.trace
        line += (
            f"; ingest: {len(tr['flush'])} flushes, {sum(tr['flush']):.1f} s in them "
            f"(first statement {sum(tr['first']):.1f} s, max {ms(tr['first'], 1.0):.0f} ms; "
            f"commit {sum(tr['commit']):.1f} s, max {ms(tr['commit'], 1.0):.0f} ms), "
            f"{run.elapsed - sum(tr['flush']):.1f} s outside"
        )
    s = run.stats
    if s is not None:
        waits = sum(1 for x in s.insert_s if x > 0.010)
        line += (
            f"; backfill: {s.runs} runs, {s.embedded:,} templates embedded"
            + (f" ({run.vectors:,} vectors stored)" if run.side == "B" else "")
            + f", {len(s.errors)} errors, CPU of this process {s.cpu_s:.1f} s "
            f"(the backfill's thread {s.thread_cpu_s:.1f} s); "
            f"{len(s.insert_s)} INSERTs: median {ms(s.insert_s, 0.5):.1f} ms, "
            f"max {ms(s.insert_s, 1.0):.0f} ms, {waits} over 10 ms "
            f"(together {sum(s.insert_s):.1f} s); write transaction median "
            f"{ms(s.txn_s, 0.5):.1f} ms, max {ms(s.txn_s, 1.0):.0f} ms"
        )
    return line


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lines", type=int, default=1_000_000)
    ap.add_argument("--templates", type=int, default=10_000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument(
        "--every", type=float, default=0.0, help="seconds between backfill runs (0: back to back)"
    )
    ap.add_argument("--dim", type=int, default=384)
    ap.add_argument(
        "--control",
        action="store_true",
        help="also run C: the backfill on another store during the ingest (its CPU, no "
        "contention on the ingest's store)",
    )
    ap.add_argument(
        "--trace",
        action="store_true",
        help="time the ingest's flushes, their first statement and commit (in the child)",
    )
    args = ap.parse_args()
    if args.rounds < 1:
        ap.error(f"--rounds: give 1 or more, got {args.rounds}")
    server = VectorServer(args.dim)
    runs: list[Run] = []
    sides = ["A", "B", "C"] if args.control else ["A", "B"]
    with tempfile.TemporaryDirectory(prefix="logvigil-bench-") as name:
        tmp = Path(name)
        src = tmp / "events.jsonl"
        generate(src, args.lines, args.templates)
        warm = tmp / "warm.jsonl"
        generate(warm, 1000, 100)
        startup = 0.0
        for attempt in range(2):  # the first compiles, the second shows the start-up
            t = time.perf_counter()
            if ingest(warm, f"sqlite:///{tmp / f'warm{attempt}.db'}", child_env(tmp)).returncode:
                raise SystemExit("the warm-up ingest failed")
            startup = time.perf_counter() - t
        control_db = f"sqlite:///{tmp / 'control.db'}"
        # C's store: the templates the ingest makes, from the same input.
        if args.control and ingest(src, control_db, child_env(tmp)).returncode:
            raise SystemExit("the control store's ingest failed")
        print(
            f"input: {args.lines:,} lines from {args.templates:,} templates; backfill: "
            f"{EMBED_PER_RUN} templates a run, "
            + (f"every {args.every:g} s" if args.every > 0 else "back to back")
            + f", vectors of {args.dim} from a local /v1/embeddings server; "
            f"an ingest of 1,000 lines (start-up): {startup:.1f} s",
            flush=True,
        )
        for r in range(args.rounds):
            # Alternate the order, so a drift of the machine hits every side.
            order = sides if r % 2 == 0 else sides[::-1]
            for side in order:
                run = run_once(
                    side, src, args.lines, tmp, r, server, args.every, control_db, args.trace
                )
                runs.append(run)
                print(describe(run, r), flush=True)
                for err in dict.fromkeys(run.stats.errors if run.stats else []):
                    print(f"  backfill error: {err}")
    server.close()
    by_side = {side: [r for r in runs if r.side == side] for side in sides}
    median = {side: statistics.median(r.rate for r in rs) for side, rs in by_side.items()}
    best = {side: max(r.rate for r in rs) for side, rs in by_side.items()}
    cpu = {side: statistics.median(r.child_cpu for r in rs) for side, rs in by_side.items()}
    label = {
        "A": "A (ingest alone)",
        "B": "B (backfill, same store)",
        "C": "C (backfill, other store)",
    }
    for side in sides:
        line = (
            f"{label[side]:26s} median {median[side]:,.0f} lines/s, best {best[side]:,.0f}; "
            f"ingest CPU median {cpu[side]:.1f} s"
        )
        waits = [r.runqueue_s for r in by_side[side] if r.runqueue_s is not None]
        if waits:
            off = [r.elapsed - r.child_cpu - (r.runqueue_s or 0) for r in by_side[side]]
            line += (
                f", waiting for a core {statistics.median(waits):.1f} s, "
                f"otherwise off-core {statistics.median(off):.1f} s"
            )
        if side == "B":
            embedded = [r.stats.embedded for r in by_side["B"] if r.stats is not None]
            line += "; templates embedded during B: " + ", ".join(f"{e:,}" for e in embedded)
        print(line)
    # The ingest's own time: on a core, or off it for another reason than waiting for one
    # (a lock's busy wait, I/O). The store's contention shows here; the machine's does not.
    own = {
        side: statistics.median(r.elapsed - r.runqueue_s for r in rs if r.runqueue_s is not None)
        for side, rs in by_side.items()
        if all(r.runqueue_s is not None for r in rs)
    }
    ratio = median["B"] / median["A"]
    verdict = "OK" if ratio >= TARGET else "MISSED"
    print(
        f"B / A: median {ratio:.3f}, best {best['B'] / best['A']:.3f}, "
        f"ingest CPU {cpu['B'] / cpu['A']:.3f} [target >= {TARGET}: {verdict}]"
    )
    if "A" in own and "B" in own:
        print(
            f"the ingest's own time (elapsed less its waits for a core), median: A "
            f"{own['A']:.1f} s, B {own['B']:.1f} s: B / A {own['B'] / own['A']:.3f} in time, "
            f"{own['A'] / own['B']:.3f} in lines/s"
        )
    if args.control:
        print(
            f"C / A: median {median['C'] / median['A']:.3f}, best {best['C'] / best['A']:.3f}, "
            f"ingest CPU {cpu['C'] / cpu['A']:.3f}; B / C: median "
            f"{median['B'] / median['C']:.3f} (the store's contention alone)"
        )
    return 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["--traced-child"]:
        traced_child(sys.argv[2], sys.argv[3:])
    raise SystemExit(main())
