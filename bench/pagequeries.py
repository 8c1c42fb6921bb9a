"""One province page, query by query: the page's median and best time and each query's best, slowest first.

    cd bench && ../.venv/bin/python pagequeries.py office /help/caseload/ --repeat 15

The page is requested `--repeat` times as the named login (bench/province.py's) through Django's test client, after
one warm-up request; each query's best time over the requests is kept. To compare two checkouts, run each one's own
copy of this script, alternately (it puts its own tree's `src/` first, bench/environment.py).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

import province
from environment import setup_django


def profile(role: str, url: str, repeat: int, out: Callable[[str], None] = print) -> list[float]:
    """Print the page's median and best and its queries' best times (ms); returns those query times."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    import bangfu.wsgi  # noqa: F401  # start up as an app process does
    from bangfu.organisation.models import User

    client = Client()
    client.force_login(User.objects.get(username=role), backend="django.contrib.auth.backends.ModelBackend")
    client.get(url)
    walls: list[float] = []
    best: list[float] = []
    sql: list[str] = []
    for _ in range(repeat):
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            if client.get(url).status_code != 200:
                raise SystemExit(f"GET {url} as {role} did not answer 200")
            walls.append((time.perf_counter() - started) * 1000)
        times = [float(q["time"]) * 1000 for q in queries.captured_queries]
        best = times if not best else [min(a, b) for a, b in zip(best, times, strict=False)]
        sql = [q["sql"] for q in queries.captured_queries]
    walls.sort()
    out(
        f"{url} as {role}: page median {walls[len(walls) // 2]:.1f} ms, best {walls[0]:.1f} ms; "
        f"{len(best)} queries, their best times add up to {sum(best):.1f} ms"
    )
    for ms, text in sorted(zip(best, sql, strict=False), key=lambda pair: -pair[0]):
        out(f"  {ms:7.1f} ms  {' '.join(text.split())[:200]}")
    return best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("role", help="a login of the province, e.g. office, leader, province, helper")
    parser.add_argument("url", help="the page's address, with its query string")
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--database-url", default=province.DEFAULT_URL)
    parser.add_argument("--var-dir", type=Path, default=province.DEFAULT_VAR_DIR)
    args = parser.parse_args(argv)
    if province.read_meta(args.database_url) is None:
        print(f"No province data set in {args.database_url}: run `bench/province.py generate` first.", file=sys.stderr)
        return 2
    setup_django(args.var_dir, args.database_url)
    profile(args.role, args.url, max(1, args.repeat))
    return 0


if __name__ == "__main__":
    sys.exit(main())
