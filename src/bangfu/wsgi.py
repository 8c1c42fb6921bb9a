import gc
import os

from django.core.signals import request_finished
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bangfu.settings")
application = get_wsgi_application()

# What a process loads and keeps (Django, the app, then each page's templates, URL patterns and translations as it
# first serves it) is kept out of the collector's full passes, which otherwise walk it all every few requests and
# add 100–150 ms to one request in five of a list page (docs/benchmarks.md). Frozen at start-up, then after the
# 1st, 2nd, 4th, … 1,024th request, by which time every page has been served: gunicorn sends the response before
# `request_finished`, so the collection there costs no one a wait (the request then in hand is frozen with the rest:
# at most eleven requests' objects per process, which gunicorn recycles). Each worker imports this module itself.
_served = 0


def _freeze_what_is_loaded(**_kwargs: object) -> None:
    global _served
    _served += 1
    if _served & (_served - 1) == 0:  # a power of two
        gc.collect()
        gc.freeze()
    if _served >= 1024:
        request_finished.disconnect(_freeze_what_is_loaded)


gc.collect()
gc.freeze()
request_finished.connect(_freeze_what_is_loaded)
