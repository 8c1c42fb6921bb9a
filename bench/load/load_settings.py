"""The app's settings for the load test (DJANGO_SETTINGS_MODULE=load_settings, bench/load on the path).

Only one thing differs: exports of more than 20 rows become background jobs, so that the office's export of the
demo university's ledger (a few hundred students) goes through the worker as a province's exports would.
"""

from bangfu.settings import *  # noqa: F403

EXPORT_INLINE_ROWS = 20
