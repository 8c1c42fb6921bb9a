"""The app process's start-up: what it loads, and what its first requests load, is kept out of the garbage
collector's full passes (bangfu/wsgi.py)."""

import os
import subprocess
import sys

SCRIPT = """
import gc
import bangfu.wsgi
from django.core.signals import request_finished
at_start = gc.get_freeze_count()
kept = [[n] for n in range(5000)]  # what a first request loads and keeps (templates, translations)
request_finished.send(sender=None)  # the 1st request: frozen after it
after_first = gc.get_freeze_count()
more = [[n] for n in range(5000)]
request_finished.send(sender=None)  # the 2nd: frozen again
after_second = gc.get_freeze_count()
even_more = [[n] for n in range(5000)]
request_finished.send(sender=None)  # the 3rd: not a power of two, nothing frozen
print(at_start, after_first, after_second, gc.get_freeze_count())
"""


def test_the_process_freezes_what_it_loaded_at_start_and_after_its_first_requests() -> None:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    done = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, check=True)
    at_start, after_first, after_second, after_third = map(int, done.stdout.split()[-4:])
    assert at_start > 50_000  # Django and the app: some 90,000 objects
    assert after_first >= at_start + 5000
    assert after_second >= after_first + 5000
    assert after_third == after_second
