"""The Monday-morning load test: the demo university on a fresh database, two gunicorn worker processes and one
task worker on 127.0.0.1, and a crowd of helpers, leaders, office staff and students driven by locust.

    .venv/bin/python bench/load/run.py                            # PostgreSQL, steps of 20 to 120 people
    .venv/bin/python bench/load/run.py --users 40,80 --run-time 90
    .venv/bin/python bench/load/run.py --sqlite                   # the same on SQLite (var/load/)
    .venv/bin/python bench/load/run.py --reuse --users 100        # keep the database of the last run

PostgreSQL is the server of DATABASE_URL (default postgres://postgres@127.0.0.1:5432/) with a scratch database
`bangfu_load` that is dropped and made again (`--database-url` to name another). The database is migrated, the
demo university seeded (`--students`, default 3,000), and the load accounts made by `setup_users.py`. Each step
runs locust headless with that many people, who arrive `--spawn-rate` a second (2: a campus logging in over a
few minutes) and then all stay for `--run-time` seconds (60). It prints, for the arrival and for the time when
everyone is in, per request type the requests, failures, throughput and median and 95th-percentile response
times, and the CPU time of the app processes. A step passes with no failure at all and a p95 of the HTTP
requests, everyone in, under `--p95-limit` ms (1,000); stepping stops at the first step that does not pass, and
the highest passing number of people is what two app processes on this machine sustain. `--json` writes every
figure. Nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
BIN = Path(sys.executable).parent
DEFAULT_STEPS = "20,30,40,50,60,70,80,100,120"


@dataclass
class Row:
    name: str
    requests: int
    failures: int
    rps: float
    median_ms: float
    p95_ms: float


@dataclass
class Phase:
    seconds: float
    total: Row  # the HTTP requests together (an export's start-to-file time is a row of its own)
    rows: list[Row] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


@dataclass
class Step:
    users: int
    ramp: Phase  # people arriving and logging in, `--spawn-rate` a second
    steady: Phase  # everyone in, for `--run-time` seconds
    passed: bool = False
    app_cpu_seconds: float = 0.0  # CPU time of the gunicorn workers during the step
    load_average: float = 0.0  # of the machine at the end of the step (other programs included)


def _database_url(args: argparse.Namespace) -> str:
    if args.database_url:
        return str(args.database_url)
    base = urlsplit(os.environ.get("DATABASE_URL") or "postgres://postgres@127.0.0.1:5432/")
    return urlunsplit(base._replace(path="/bangfu_load"))


def _fresh_postgres(url: str) -> None:
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    maintenance = urlunsplit(parts._replace(path="/postgres")).replace("postgres://", "postgresql://", 1)
    with psycopg.connect(maintenance, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def _env(args: argparse.Namespace, url: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DJANGO_SETTINGS_MODULE")}
    env.update(
        BANGFU_ENV="development",
        BANGFU_VAR_DIR=str(args.var_dir),
        DEBUG="0",  # what production runs: no debug pages, no collected queries
        LOG_LEVEL="WARNING",
        DJANGO_SETTINGS_MODULE="load_settings",
        PYTHONPATH=os.pathsep.join([str(HERE), str(REPO / "src")]),
    )
    if url:
        env["DATABASE_URL"] = url
    return env


def _run(command: list[str], env: dict[str, str], what: str) -> float:
    started = time.monotonic()
    done = subprocess.run(command, env=env, cwd=REPO, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{what} failed:\n{done.stdout}\n{done.stderr}")
    seconds = time.monotonic() - started
    print(f"  {what:<34} {seconds:6.1f} s")
    return seconds


def prepare(args: argparse.Namespace, env: dict[str, str], url: str | None) -> Path:
    """A migrated, seeded database with the load accounts; returns the accounts file."""
    accounts = args.var_dir / "load-users.json"
    if args.reuse and accounts.exists():
        print(f"reusing the database and accounts of the last run ({accounts})")
        return accounts
    print("preparing the database")
    if url:
        _fresh_postgres(url)
    elif args.var_dir.exists():
        for name in ("bangfu.sqlite3", "bangfu.sqlite3-wal", "bangfu.sqlite3-shm"):
            (args.var_dir / name).unlink(missing_ok=True)
    accounts.unlink(missing_ok=True)
    _run([str(BIN / "bangfu"), "migrate", "--no-input", "-v0"], env, "migrate")
    _run([str(BIN / "bangfu"), "seed_demo", "--students", str(args.students)], env, f"seed_demo ({args.students})")
    _run(
        [sys.executable, str(HERE / "setup_users.py"), str(accounts), "--helpers", str(args.helpers),
         "--per-helper", str(args.per_helper), "--leaders", str(args.leaders), "--office", str(args.office),
         "--students", str(args.student_accounts)],
        env, "load accounts (setup_users.py)",
    )  # fmt: skip
    return accounts


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_servers(args: argparse.Namespace, env: dict[str, str]) -> tuple[list[subprocess.Popen[bytes]], int]:
    """gunicorn (`--workers` processes, `--threads` threads each) and one task worker, logging to var_dir."""
    port = _free_port()
    log = (args.var_dir / "servers.log").open("ab")
    app = subprocess.Popen(
        [str(BIN / "gunicorn"), "bangfu.wsgi:application", "--bind", f"127.0.0.1:{port}",
         "--workers", str(args.workers), "--threads", str(args.threads), "--timeout", "60", "--keep-alive", "10",
         "--error-logfile", "-"],
        cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    worker = subprocess.Popen(
        [str(BIN / "bangfu"), "db_worker", "--no-reload", "--interval", "0.5", "-v0"],
        cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    processes = [app, worker]
    deadline = time.monotonic() + 90
    while True:
        if any(p.poll() is not None for p in processes):
            stop(processes)
            raise SystemExit(f"a server stopped at start; see {args.var_dir / 'servers.log'}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/accounts/login/", timeout=10) as answer:
                if answer.status == 200:
                    break
        except OSError:
            pass
        if time.monotonic() > deadline:
            stop(processes)
            raise SystemExit(f"the app did not answer in 90 s; see {args.var_dir / 'servers.log'}")
        time.sleep(0.3)
    return processes, port


def stop(processes: list[subprocess.Popen[bytes]]) -> None:
    for process in processes:
        process.terminate()
    for process in processes:
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _percentile(times: list[float], share: float) -> float:
    """The response time under which `share` of the requests answered (nearest rank)."""
    if not times:
        return 0.0
    ordered = sorted(times)
    return ordered[max(0, min(len(ordered) - 1, round(share * len(ordered) + 0.5) - 1))]


def _row(name: str, entries: list[dict[str, Any]], seconds: float) -> Row:
    times = [t for entry in entries for t in entry["times"]]
    return Row(
        name=name,
        requests=len(times),
        failures=sum(entry["failures"] for entry in entries),
        rps=len(times) / seconds if seconds else 0.0,
        median_ms=_percentile(times, 0.5),
        p95_ms=_percentile(times, 0.95),
    )


def _phase(result: dict[str, Any], phase: str) -> Phase:
    requests, seconds = result["requests"][phase], result["seconds"][phase]
    http = [entry for entry in requests.values() if entry["type"] != "JOB"]
    return Phase(
        seconds=round(seconds, 1),
        total=_row("all requests", http, seconds),
        rows=sorted((_row(name, [entry], seconds) for name, entry in requests.items()), key=lambda r: r.name),
        errors=[f"{count}× {error}" for error, count in result["failures"][phase].items()],
    )


def _app_cpu_seconds(master: int) -> float:
    """User and system CPU time of the gunicorn worker processes (the master's children), from /proc."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == master:  # fields[1] is the parent's pid
            total += int(fields[11]) + int(fields[12])
    return total / ticks


def run_step(args: argparse.Namespace, env: dict[str, str], port: int, accounts: Path, users: int, master: int) -> Step:
    result_file = args.var_dir / f"locust-{users}.json"
    result_file.unlink(missing_ok=True)
    ramp = users / args.spawn_rate  # and up to 10 s more for the last log-ins to finish
    cpu_before = _app_cpu_seconds(master)
    command = [
        str(BIN / "locust"), "-f", str(HERE / "locustfile.py"), "--headless", "--only-summary",
        "-u", str(users), "-r", f"{args.spawn_rate:g}", "--run-time", f"{round(ramp + args.run_time + 10)}s",
        "--stop-timeout", "10", "--host", f"http://127.0.0.1:{port}", "--loglevel", "WARNING",
    ]  # fmt: skip
    env = {**env, "BANGFU_LOAD_USERS": str(accounts), "BANGFU_LOAD_RESULT": str(result_file)}
    done = subprocess.run(command, env=env, cwd=REPO, capture_output=True, text=True, check=False)
    if done.returncode not in (0, 1) or not result_file.exists():  # 1: some requests failed, as the figures show
        raise SystemExit(f"locust failed:\n{done.stdout}\n{done.stderr}")
    result = json.loads(result_file.read_text())
    step = Step(users=users, ramp=_phase(result, "ramp"), steady=_phase(result, "steady"))
    step.app_cpu_seconds = _app_cpu_seconds(master) - cpu_before
    step.load_average = os.getloadavg()[0]
    failures = sum(row.failures for phase in (step.ramp, step.steady) for row in phase.rows)
    step.passed = failures == 0 and step.steady.total.requests > 0 and step.steady.total.p95_ms <= args.p95_limit
    return step


def _table(phase: Phase) -> None:
    print(f"  {'request':<44} {'requests':>8} {'failed':>7} {'req/s':>7} {'median':>8} {'p95':>8}")
    for row in [*phase.rows, phase.total]:
        print(
            f"  {row.name:<44} {row.requests:8d} {row.failures:7d} {row.rps:7.2f} "
            f"{row.median_ms:6.0f}ms {row.p95_ms:6.0f}ms"
        )
    for error in phase.errors[:10]:
        print(f"  error: {error}")


def report(step: Step) -> None:
    print(f"\n{step.users} users: " + ("PASS" if step.passed else "FAIL"))
    print(f" arriving and logging in ({step.ramp.seconds:.0f} s):")
    _table(step.ramp)
    print(f" everyone in ({step.steady.seconds:.0f} s):")
    _table(step.steady)
    requests = step.ramp.total.requests + step.steady.total.requests
    print(
        f"  app CPU {step.app_cpu_seconds:.1f} s, {1000 * step.app_cpu_seconds / max(1, requests):.0f} ms a request "
        f"(steadier than response times on a busy machine); load average {step.load_average:.1f} on "
        f"{os.cpu_count()} cores"
    )


def machine() -> dict[str, Any]:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if "model name" in line
        ),
        platform.processor(),
    )
    return {"cores": os.cpu_count(), "cpu": cpu, "python": platform.python_version(), "load": os.getloadavg()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sqlite", action="store_true", help="SQLite in --var-dir instead of PostgreSQL.")
    parser.add_argument("--database-url", default="", help="PostgreSQL database to drop and make again.")
    parser.add_argument("--var-dir", type=Path, default=REPO / "var" / "load")
    parser.add_argument("--reuse", action="store_true", help="Keep the database and accounts of the last run.")
    parser.add_argument("--students", type=int, default=3000, help="Size of the demo university.")
    parser.add_argument("--helpers", type=int, default=60)
    parser.add_argument("--per-helper", type=int, default=8)
    parser.add_argument("--leaders", type=int, default=14)
    parser.add_argument("--office", type=int, default=4)
    parser.add_argument("--student-accounts", type=int, default=60)
    parser.add_argument("--users", default=DEFAULT_STEPS, help=f"Steps of concurrent users (default {DEFAULT_STEPS}).")
    parser.add_argument("--run-time", type=int, default=60, help="Seconds per step once everyone is in.")
    parser.add_argument("--spawn-rate", type=float, default=2.0, help="People arriving (logging in) a second.")
    parser.add_argument("--p95-limit", type=float, default=1000.0, help="ms")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument(
        "--threads",
        type=int,
        default=4,
        help="threads per gunicorn worker (4: gthread; 1: sync, as deploy/gunicorn.conf.py)",
    )
    parser.add_argument("--all-steps", action="store_true", help="Run every step even after one fails.")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    args.var_dir = args.var_dir.resolve()
    args.var_dir.mkdir(parents=True, exist_ok=True)
    if shutil.which("locust", path=str(BIN)) is None:
        raise SystemExit("locust is not installed in the virtualenv (make install)")

    url = None if args.sqlite else _database_url(args)
    env = _env(args, url)
    started = time.monotonic()
    print(f"Bangfu load test · {time.strftime('%Y-%m-%d %H:%M')} · {' '.join(sys.argv[1:]) or 'defaults'}")
    print(f"database: {url or 'SQLite in ' + str(args.var_dir)}; machine: {machine()}")
    accounts = prepare(args, env, url)
    processes, port = start_servers(args, env)
    steps: list[Step] = []
    try:
        print(f"app: gunicorn {args.workers} workers × {args.threads} threads on 127.0.0.1:{port}; one task worker")
        for users in [int(u) for u in args.users.split(",")]:
            step = run_step(args, env, port, accounts, users, master=processes[0].pid)
            steps.append(step)
            report(step)
            if not step.passed and not args.all_steps:
                break
    finally:
        stop(processes)
    # The crowd below which every step passed (with --all-steps a later step may pass again by luck).
    sustained = 0
    for step in steps:
        if not step.passed:
            break
        sustained = step.users
    print(
        f"\nhighest concurrency with no error and p95 under {args.p95_limit:.0f} ms: {sustained} users "
        f"({args.workers} app processes); load average at the end {os.getloadavg()[0]:.1f}; "
        f"total {time.monotonic() - started:.0f} s"
    )
    if args.json:
        args.json.write_text(
            json.dumps(
                {"machine": machine(), "database": "sqlite" if args.sqlite else "postgresql", "sustained": sustained,
                 "workers": args.workers, "threads": args.threads, "steps": [asdict(s) for s in steps]},
                indent=2, ensure_ascii=False,
            ) + "\n"
        )  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
