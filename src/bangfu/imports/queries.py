"""Reads for the import pages: a user's own jobs."""

from __future__ import annotations

import uuid

from django.db.models import QuerySet
from django.http import Http404

from bangfu.imports.models import ImportJob
from bangfu.organisation.models import User


def jobs_of(user: User) -> QuerySet[ImportJob]:
    """The imports a user started (a superuser sees every one), newest first."""
    jobs = ImportJob.objects.select_related("school", "created_by")
    return jobs if user.is_superuser else jobs.filter(created_by=user)


def get_job_for_user(user: User, public_id: uuid.UUID | str) -> ImportJob:
    """A job its uploader may act on; anyone else's is invisible (404)."""
    job = jobs_of(user).filter(public_id=public_id).first()
    if job is None:
        raise Http404
    return job
