"""Pages for one-on-one help: assign, hand over, end, bulk-assign, caseloads; and the work ledger: the helper's
board ("my students") with quick entry, the activity forms, a student's timeline and plan."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.middleware import HtmxDetails

from bangfu.assistance import queries
from bangfu.assistance.forms import (
    ALL_KIND_FIELDS,
    ActivityEditForm,
    ActivityForm,
    AssignForm,
    BulkAssignForm,
    EndForm,
    HandOverForm,
    PlanForm,
    PlanReviewForm,
    QuickLogForm,
    add_service_errors,
    kind_of,
)
from bangfu.assistance.labels import (
    MeterView,
    meter_views,
    next_due_text,
    progress_context,
    risk_reason_text,
    stage_label,
)
from bangfu.assistance.models import (
    Activity,
    ActivityKind,
    HelperAssignment,
    Plan,
    RiskLevel,
    Stage,
    StudentProgress,
)
from bangfu.assistance.rules import versions_for_schools
from bangfu.assistance.services import (
    assign_helper,
    bulk_assign,
    end_assignment,
    hand_over,
    is_month_closed,
    record_activity,
    review_plan,
    save_plan,
    update_activity,
)
from bangfu.audit.models import AccessAction
from bangfu.audit.services import log_access
from bangfu.dates import semester_of
from bangfu.organisation.models import User
from bangfu.organisation.permissions import Perm, is_staff_member, require_student_perm, units_with
from bangfu.students.models import Student
from bangfu.students.queries import StudentAccess, student_access


class AuthedRequest(HttpRequest):
    """Every page here needs a login (LoginRequiredMiddleware), so `user` is a real user."""

    user: User
    htmx: HtmxDetails


def _require_assigner(user: User) -> None:
    if not (user.is_superuser or units_with(user, Perm.ASSIGN_HELPER)):
        raise PermissionDenied


def _to_student_page(student: Student) -> HttpResponse:
    return redirect("students:detail", student.public_id)


@require_http_methods(["GET", "POST"])
def assign(request: AuthedRequest, student_public_id: UUID) -> HttpResponse:
    student = queries.get_student_to_assign(request.user, student_public_id)
    current = queries.current_assignment(student)
    form = AssignForm(
        request.POST if request.method == "POST" else None,
        helpers=queries.helper_candidates(request.user, student.school),
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            assign_helper(
                actor=request.user,
                student=student,
                helper=data["helper"],
                start=data["start"],
                planned_end=data["planned_end"],
                reason=data["reason"],
            )
        except ValidationError as e:
            add_service_errors(form, e)
        else:
            messages.success(
                request, _("%(helper)s now helps %(student)s.") % {"helper": data["helper"], "student": student.name}
            )
            return _to_student_page(student)
    return render(request, "assistance/assign.html", {"student": student, "current": current, "form": form})


@require_http_methods(["GET", "POST"])
def hand_over_view(request: AuthedRequest, student_public_id: UUID) -> HttpResponse:
    student = queries.get_student_to_assign(request.user, student_public_id)
    current = queries.current_assignment(student)
    if current is None:
        messages.info(request, _("%(name)s has no helper yet; assign one.") % {"name": student.name})
        return redirect("assistance:assign", student_public_id=student.public_id)
    form = HandOverForm(
        request.POST if request.method == "POST" else None,
        helpers=queries.helper_candidates(request.user, student.school).exclude(pk=current.helper_id),
        initial={"assignment": current.public_id, "version": current.version},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        seen = HelperAssignment.objects.filter(student=student, public_id=data["assignment"]).first()
        try:
            if seen is None:
                raise ValidationError(_("This assignment does not belong to this student."))
            hand_over(
                actor=request.user,
                student=student,
                new_helper=data["helper"],
                on=data["on"],
                note=data["note"],
                expected_version=data["version"],
                expected_assignment=seen,
            )
        except ValidationError as e:
            add_service_errors(form, e, {"ended_on": "on", "start": "on"})
        else:
            messages.success(
                request,
                _("%(student)s was handed over to %(helper)s.") % {"student": student.name, "helper": data["helper"]},
            )
            return _to_student_page(student)
    return render(request, "assistance/hand_over.html", {"student": student, "current": current, "form": form})


@require_http_methods(["GET", "POST"])
def end(request: AuthedRequest, student_public_id: UUID) -> HttpResponse:
    student = queries.get_student_to_assign(request.user, student_public_id)
    current = queries.current_assignment(student)
    if current is None and request.method == "GET":
        messages.info(request, _("%(name)s has no helper yet; assign one.") % {"name": student.name})
        return redirect("assistance:assign", student_public_id=student.public_id)
    initial = {"assignment": current.public_id, "version": current.version} if current else {}
    form = EndForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        assignment = (
            HelperAssignment.objects.filter(student=student, public_id=data["assignment"])
            .select_related("student", "helper")
            .first()
        )
        if assignment is None:
            form.add_error(None, _("This assignment does not belong to this student."))
        else:
            try:
                end_assignment(
                    actor=request.user,
                    assignment=assignment,
                    ended_on=data["ended_on"],
                    reason=data["reason"],
                    expected_version=data["version"],
                )
            except ValidationError as e:
                add_service_errors(form, e)
            else:
                messages.success(
                    request,
                    _("%(helper)s no longer helps %(student)s.")
                    % {"helper": assignment.helper, "student": student.name},
                )
                return _to_student_page(student)
    return render(request, "assistance/end.html", {"student": student, "current": current, "form": form})


def _back_to_list(request: AuthedRequest, target: str) -> HttpResponse:
    if not target or not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = reverse("students:list")
    return redirect(target)


@require_POST
def bulk_assign_view(request: AuthedRequest) -> HttpResponse:
    _require_assigner(request.user)
    form = BulkAssignForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, str(error))
        return _back_to_list(request, request.POST.get("next", ""))
    data = form.cleaned_data
    students = queries.students_to_assign(request.user, data["students"])
    helper = queries.staff_in_scope(request.user).filter(public_id=data["helper"]).first()
    if helper is None:
        messages.error(request, _("Choose a helper from the list."))
        return _back_to_list(request, data["next"])
    try:
        done = bulk_assign(
            actor=request.user, students=students, helper=helper, start=data["start"], reason=data["reason"]
        )
    except ValidationError as e:
        messages.error(request, " ".join(e.messages))
    else:
        messages.success(
            request,
            ngettext(
                "%(count)d student is now helped by %(helper)s.",
                "%(count)d students are now helped by %(helper)s.",
                len(done),
            )
            % {"count": len(done), "helper": helper},
        )
    return _back_to_list(request, data["next"])


def caseload(request: AuthedRequest) -> HttpResponse:
    _require_assigner(request.user)
    unassigned = Paginator(queries.unassigned_ledger_students(request.user), 50).get_page(request.GET.get("page"))
    if request.htmx and request.htmx.target == "unassigned":
        return render(request, "assistance/caseload.html#unassigned", {"unassigned": unassigned})
    helpers = queries.caseloads(request.user)
    return render(request, "assistance/caseload.html", {"helpers": helpers, "unassigned": unassigned})


# --- The work ledger -----------------------------------------------------------------------------------------


@dataclass
class Card:
    """One student on the helper's board: the progress row turned into words, and the quick-entry form."""

    assignment: HelperAssignment
    student: Student
    progress: StudentProgress | None
    meters: list[MeterView]
    reasons: list[str]
    next_due: str
    form: QuickLogForm
    saved: Activity | None = None

    @property
    def risk(self) -> int:
        return self.progress.risk if self.progress else RiskLevel.NONE

    @property
    def stage(self) -> str:
        return stage_label(self.progress.stage) if self.progress else ""


def _auto_id(student: Student) -> str:
    # Several quick-entry forms share the board: their ids must differ, their field names need not.
    return f"id_%s_{student.public_id.hex[:8]}"


def _quick_form(student: Student, progress: StudentProgress | None, kind: str = "") -> QuickLogForm:
    """An empty quick-entry form; while studying the standard is the monthly check-in, otherwise talks."""
    if not kind:
        kind = ActivityKind.CHECK_IN if progress is not None and progress.stage == Stage.STUDY else ActivityKind.TALK
    return QuickLogForm(auto_id=_auto_id(student), initial={"kind": kind})


def _card(assignment: HelperAssignment, form: QuickLogForm | None = None, saved: Activity | None = None) -> Card:
    student = assignment.student
    try:
        progress: StudentProgress | None = student.progress
    except StudentProgress.DoesNotExist:
        progress = None  # not in the ledger: no standards apply
    return Card(
        assignment=assignment,
        student=student,
        progress=progress,
        meters=meter_views(progress.meters) if progress else [],
        reasons=[risk_reason_text(r) for r in progress.risk_reasons] if progress else [],
        next_due=next_due_text(progress.next_due_metric, progress.next_due_on) if progress else "",
        form=form or _quick_form(student, progress, kind=saved.kind if saved else ""),
        saved=saved,
    )


def _board(request: AuthedRequest, bound: dict[int, QuickLogForm] | None = None) -> HttpResponse:
    cards = [_card(a, form=(bound or {}).get(a.student_id)) for a in queries.my_board(request.user)]
    context = {
        "cards": cards,
        "at_risk": sum(1 for c in cards if c.risk >= RiskLevel.AT_RISK),
        "overdue": sum(1 for c in cards if c.progress and c.progress.overdue_count),
        "today": timezone.localdate(),
    }
    return render(request, "assistance/my_students.html", context)


@require_GET
def my_students(request: AuthedRequest) -> HttpResponse:
    if not is_staff_member(request.user):
        raise PermissionDenied
    return _board(request)


@require_POST
def quick_log(request: AuthedRequest, student_public_id: UUID) -> HttpResponse:
    """Log a check-in or a talk from the board; with htmx the card is swapped, without it the board reloads."""
    student = queries.get_student(request.user, student_public_id, Perm.LOG_ACTIVITY)
    form = QuickLogForm(request.POST, auto_id=_auto_id(student))
    saved: Activity | None = None
    if form.is_valid():
        data = form.cleaned_data
        try:
            saved = record_activity(
                actor=request.user,
                student=student,
                kind=data["kind"],
                occurred_on=data["occurred_on"],
                today=timezone.localdate(),
                notes=data["notes"],
            )
        except ValidationError as e:
            add_service_errors(form, e)
    assignment = queries.my_board(request.user).filter(student=student).first()
    if assignment is None:
        # Not on this user's board (a leader logging for a student): show the outcome on the timeline.
        if saved is None:
            for error in form.errors.values():
                messages.error(request, " ".join(str(e) for e in error))
        else:
            messages.success(request, _saved_message(saved))
        return redirect("assistance:timeline", student_public_id=student.public_id)
    if request.htmx:
        card = _card(assignment, form=None if saved else form, saved=saved)
        return render(request, "assistance/my_students.html#card", {"card": card})
    if saved is None:
        return _board(request, bound={student.pk: form})
    messages.success(request, _saved_message(saved))
    return redirect(reverse("assistance:my_students") + f"#card-{student.public_id}")


def _saved_message(activity: Activity) -> str:
    return _("%(kind)s on %(date)s recorded for %(student)s.") % {
        "kind": activity.get_kind_display(),
        "date": activity.occurred_on.isoformat(),
        "student": activity.student.name,
    }


def _copy_of(stored: Any) -> UploadedFile | None:
    """The original's attachment as an upload, so a correction keeps the evidence unless a new file is given."""
    if not stored:
        return None
    try:
        handle = stored.open("rb")
    except FileNotFoundError:
        return None
    return UploadedFile(file=handle, name=os.path.basename(stored.name), size=stored.size)


def _initial_from(activity: Activity) -> dict[str, Any]:
    names = ("kind", "occurred_on", "notes", "internal", *ALL_KIND_FIELDS)
    return {n: getattr(activity, n) for n in names}


def _activity_page(request: AuthedRequest, student: Student, original: Activity | None) -> HttpResponse:
    """The full activity form: a new activity, or a correction that replaces `original`."""
    source = request.POST if request.method == "POST" else request.GET
    kind = kind_of(source.get("kind"), original.kind if original else ActivityKind.TALK)
    # Picking another kind reloads the form with that kind's fields (htmx GET, or the no-script button's POST),
    # keeping what was typed; nothing is saved then.
    picking = request.method == "GET" or "pick_kind" in request.POST
    initial = _initial_from(original) if original else {}
    if picking:
        initial.update({k: v for k, v in source.items() if k in ("occurred_on", "notes", *ALL_KIND_FIELDS)})
        if original is None or "kind" in source:
            initial["internal"] = kind == ActivityKind.PSYCHOLOGICAL_GUIDANCE
    initial["kind"] = kind
    form = ActivityForm(*(_posted(request) if not picking else (None, None)), kind=kind, initial=initial)
    if not picking and form.is_valid():
        data = form.cleaned_data
        attachment = data.get("attachment") or (_copy_of(original.attachment) if original else None)
        try:
            activity = record_activity(
                actor=request.user,
                student=student,
                kind=kind,
                occurred_on=data["occurred_on"],
                today=timezone.localdate(),
                attachment=attachment,
                corrects=original,
                **form.details(),
            )
        except ValidationError as e:
            add_service_errors(form, e)
        else:
            messages.success(request, _saved_message(activity))
            return redirect("assistance:timeline", student_public_id=student.public_id)
        finally:
            if attachment is not None and attachment is not data.get("attachment"):
                attachment.close()
    context = {"student": student, "form": form, "original": original, "kind": kind}
    if request.htmx and request.method == "GET":
        return render(request, "assistance/activity_form.html#fields", context)
    return render(request, "assistance/activity_form.html", context)


def _posted(request: AuthedRequest) -> tuple[Any, Any]:
    return (request.POST, request.FILES) if request.method == "POST" else (None, None)


@require_http_methods(["GET", "POST"])
def activity_new(request: AuthedRequest, student_public_id: UUID) -> HttpResponse:
    student = queries.get_student(request.user, student_public_id, Perm.LOG_ACTIVITY)
    return _activity_page(request, student, None)


@require_http_methods(["GET", "POST"])
def activity_correct(request: AuthedRequest, student_public_id: UUID, activity_public_id: UUID) -> HttpResponse:
    student = queries.get_student(request.user, student_public_id, Perm.LOG_ACTIVITY)
    original = queries.get_activity(student, activity_public_id)
    if original.voided:
        messages.info(request, _("This activity has already been corrected."))
        return redirect("assistance:timeline", student_public_id=student.public_id)
    return _activity_page(request, student, original)


@require_http_methods(["GET", "POST"])
def activity_edit(request: AuthedRequest, student_public_id: UUID, activity_public_id: UUID) -> HttpResponse:
    student = queries.get_student(request.user, student_public_id, Perm.LOG_ACTIVITY)
    activity = queries.get_activity(student, activity_public_id)
    if activity.voided:
        messages.info(request, _("This activity has been corrected; edit the correction instead."))
        return redirect("assistance:timeline", student_public_id=student.public_id)
    today = timezone.localdate()
    rules = versions_for_schools({student.school_id})[student.school_id].on(activity.occurred_on)
    closed = is_month_closed(activity.occurred_on, today, rules)
    initial = {**_initial_from(activity), "version": activity.version}
    form = ActivityEditForm(request.POST if request.method == "POST" else None, kind=activity.kind, initial=initial)
    if request.method == "POST" and not closed and form.is_valid():
        data = form.cleaned_data
        try:
            update_activity(
                actor=request.user,
                activity=activity,
                expected_version=data["version"],
                today=today,
                occurred_on=data["occurred_on"],
                **form.details(),
            )
        except ValidationError as e:
            if getattr(e, "code", None) == "closed":
                closed = True  # the new date falls in a closed month
            else:
                add_service_errors(form, e)
        else:
            messages.success(request, _("The activity was saved."))
            return redirect("assistance:timeline", student_public_id=student.public_id)
    context = {"student": student, "activity": activity, "form": form, "closed": closed}
    return render(request, "assistance/activity_edit.html", context)


@require_GET
def activity_attachment(request: AuthedRequest, student_public_id: UUID, activity_public_id: UUID) -> FileResponse:
    student = queries.get_student(request.user, student_public_id)
    activity = queries.get_activity(student, activity_public_id)
    access = student_access(request.user, student)
    if activity.internal and not _sees_internal(access):
        raise PermissionDenied
    if not activity.attachment:
        raise Http404
    try:
        handle = activity.attachment.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    log_access(
        actor=request.user,
        action=AccessAction.DOWNLOAD_EVIDENCE,
        student=student,
        fields=activity.kind,
        detail=activity.attachment.name or "",
        ip_address=request.META.get("REMOTE_ADDR") or None,
    )
    response = FileResponse(handle, as_attachment=True, filename=os.path.basename(activity.attachment.name or ""))
    add_never_cache_headers(response)
    return response


def _sees_internal(access: StudentAccess) -> bool:
    """Internal notes are for those who log help for the student and for leaders, never for the student."""
    return access.can(Perm.LOG_ACTIVITY) or access.is_leader


@require_GET
def timeline(request: AuthedRequest, student_public_id: UUID) -> HttpResponse:
    student = queries.get_student(request.user, student_public_id)
    access = student_access(request.user, student)
    groups = queries.student_timeline(student)
    for group in groups:
        for item in group.items:
            if item.what == "helper_started":
                # A hand-over note is for the helper it was written for, and for the leaders who assign helpers.
                item.obj.note_visible = bool(item.obj.handover_note) and (
                    access.is_leader or item.obj.helper_id == request.user.pk
                )
    context = {
        **progress_context(StudentProgress.objects.filter(student=student).first()),
        "student": student,
        "groups": groups,
        "sees_internal": _sees_internal(access),
        "can_log": access.can(Perm.LOG_ACTIVITY),
        "show_reasons": access.can(Perm.VIEW_SENSITIVE),
        "is_student": student.user_id == request.user.pk,
    }
    response = render(request, "assistance/timeline.html", context)
    add_never_cache_headers(response)
    return response


def _plan_initial(plan: Plan | None) -> dict[str, Any]:
    if plan is None:
        return {"version": 0}
    names = ("direction", "industries", "places", "near_home", "salary_expectation", "strengths", "needs")
    return {**{n: getattr(plan, n) for n in names}, "version": plan.version}


def _plan_page(
    request: AuthedRequest,
    student: Student,
    plan: Plan | None,
    form: PlanForm | None = None,
    review_form: PlanReviewForm | None = None,
) -> HttpResponse:
    access = student_access(request.user, student)
    today = timezone.localdate()
    semester = semester_of(student.cohort, today)
    reviews = list(plan.reviews.select_related("reviewer")) if plan else []
    this_review = next((r for r in reviews if r.semester == semester), None)
    context = {
        "student": student,
        "plan": plan,
        "can_edit": access.can(Perm.MANAGE_PLAN),
        "form": form or PlanForm(initial=_plan_initial(plan)),
        "review_form": review_form or PlanReviewForm(initial={"notes": this_review.notes} if this_review else None),
        "reviews": reviews,
        "semester": semester,
        "this_review": this_review,
        "is_student": student.user_id == request.user.pk,
    }
    return render(request, "assistance/plan.html", context)


def _plan_of(student: Student) -> Plan | None:
    return Plan.objects.filter(student=student).select_related("updated_by").first()


@require_http_methods(["GET", "POST"])
def plan(request: AuthedRequest, student_public_id: UUID) -> HttpResponse:
    student = queries.get_student(request.user, student_public_id)
    current = _plan_of(student)
    if request.method == "GET":
        return _plan_page(request, student, current)
    require_student_perm(request.user, Perm.MANAGE_PLAN, student)
    form = PlanForm(request.POST, initial=_plan_initial(current))
    if form.is_valid():
        try:
            save_plan(
                actor=request.user,
                student=student,
                expected_version=form.cleaned_data["version"],
                today=timezone.localdate(),
                **form.fields_for_service(),
            )
        except ValidationError as e:
            add_service_errors(form, e)
        else:
            messages.success(request, _("The plan was saved."))
            return redirect("assistance:plan", student_public_id=student.public_id)
    return _plan_page(request, student, current, form=form)


@require_POST
def plan_review(request: AuthedRequest, student_public_id: UUID) -> HttpResponse:
    student = queries.get_student(request.user, student_public_id, Perm.MANAGE_PLAN)
    current = _plan_of(student)
    form = PlanReviewForm(request.POST)
    if current is None:
        form.add_error(None, _("Save the plan before reviewing it."))
    elif form.is_valid():
        try:
            review_plan(actor=request.user, plan=current, notes=form.cleaned_data["notes"], today=timezone.localdate())
        except ValidationError as e:
            add_service_errors(form, e)
        else:
            messages.success(request, _("This semester's review was saved."))
            return redirect("assistance:plan", student_public_id=student.public_id)
    return _plan_page(request, student, current, review_form=form)
