"""One-on-one help (一对一帮扶): who helps whom, from when to when."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords


class HelperAssignmentQuerySet(models.QuerySet["HelperAssignment"]):
    def active(self) -> "HelperAssignmentQuerySet":
        return self.filter(ended_on__isnull=True, is_primary=True)


class HelperAssignment(models.Model):
    """A named helper (帮扶责任人) for a student over a period. At most one active primary helper per student."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    student = models.ForeignKey("students.Student", on_delete=models.CASCADE, related_name="helper_assignments")
    helper = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="assignments",
        verbose_name=_("helper"),
        db_index=False,  # the (helper, ended_on) index below serves every look-up by helper
    )
    is_primary = models.BooleanField(default=True)
    started_on = models.DateField(_("start"))
    planned_end = models.DateField(_("planned end"), null=True, blank=True)
    ended_on = models.DateField(_("ended on"), null=True, blank=True)
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    handover_note = models.TextField(_("hand-over note"), blank=True)
    end_reason = models.CharField(_("reason for ending"), max_length=300, blank=True)
    assigned_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    version = models.PositiveIntegerField(default=1, editable=False)
    history = HistoricalRecords(no_db_index=["public_id", "assigned_by", "helper"])

    objects = HelperAssignmentQuerySet.as_manager()

    class Meta:
        ordering = ["-started_on"]
        verbose_name = _("helper assignment")
        verbose_name_plural = _("helper assignments")
        constraints = [
            models.UniqueConstraint(
                fields=["student"],
                condition=Q(ended_on__isnull=True, is_primary=True),
                name="one_active_primary_helper",
            ),
            models.CheckConstraint(
                condition=Q(ended_on__isnull=True) | Q(ended_on__gte=models.F("started_on")),
                name="assignment_ends_after_start",
            ),
        ]
        indexes = [models.Index(fields=["helper", "ended_on"])]

    def __str__(self) -> str:
        return f"{self.helper} → {self.student}"


# --- Policy: stages and minimum standards, per school and versioned ------------------------------------------


class Stage(models.TextChoices):
    ENROLMENT = "enrolment", _("Enrolment")
    STUDY = "study", _("Study")
    JOB_SEARCH = "job_search", _("Job search")
    AFTER_LEAVING = "after_leaving", _("After leaving")
    CLOSED = "closed", _("Help completed")


class ActivityKind(models.TextChoices):
    TALK = "talk", _("Heart-to-heart talk")
    CHECK_IN = "check_in", _("Check-in")
    RESUME_REVISION = "resume_revision", _("Résumé revision")
    EVENT_TOGETHER = "event_together", _("Recruitment event together")
    JOB_RECOMMENDATION = "job_recommendation", _("Job recommendation")
    WORK_STUDY_RECOMMENDATION = "work_study_recommendation", _("Work-study recommendation")
    ORDER_CLASS_RECOMMENDATION = "order_class_recommendation", _("Order-class recommendation")
    INTERNSHIP_ARRANGED = "internship_arranged", _("Internship arranged")
    CAREER_GUIDANCE = "career_guidance", _("Career guidance")
    SKILLS_GUIDANCE = "skills_guidance", _("Skills guidance")
    PSYCHOLOGICAL_GUIDANCE = "psychological_guidance", _("Psychological guidance")
    SUBSIDY_HELP = "subsidy_help", _("Help with a subsidy")
    FOLLOW_UP = "follow_up", _("Follow-up after leaving")
    OTHER = "other", _("Other help")


class Metric(models.TextChoices):
    """What a standard counts: activities of one kind, or only the effective job recommendations."""

    TALK = "talk", _("Heart-to-heart talks")
    CHECK_IN = "check_in", _("Check-ins")
    RESUME_REVISION = "resume_revision", _("Résumé revisions")
    EVENT_TOGETHER = "event_together", _("Recruitment events together")
    EFFECTIVE_RECOMMENDATION = "effective_recommendation", _("Effective job recommendations")
    WORK_STUDY_RECOMMENDATION = "work_study_recommendation", _("Work-study recommendations")
    ORDER_CLASS_RECOMMENDATION = "order_class_recommendation", _("Order-class recommendations")
    FOLLOW_UP = "follow_up", _("Follow-ups")


class Period(models.TextChoices):
    STAGE = "stage", _("during the stage")
    MONTH = "month", _("every calendar month")
    DAYS = "days", _("every N days")
    MILESTONES = "milestones", _("at months after leaving")


class Policy(models.Model):
    """A school's rules for help, in force from `valid_from` until the next version starts."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    school = models.ForeignKey("organisation.OrgUnit", on_delete=models.CASCADE, related_name="policies")
    valid_from = models.DateField(_("in force from"))
    enrolment_semesters = models.PositiveSmallIntegerField(_("semesters in the enrolment stage"), default=1)
    job_search_semesters = models.PositiveSmallIntegerField(_("semesters in the job-search stage"), default=2)
    follow_up_months = models.PositiveSmallIntegerField(_("months of follow-up after leaving"), default=12)
    close_day = models.PositiveSmallIntegerField(
        _("day of the next month after which a month's activities are closed"), default=10
    )
    effective_needs_fit = models.BooleanField(
        _("an effective recommendation fits the major or intention"), default=True
    )
    effective_needs_action = models.BooleanField(_("an effective recommendation was acted on"), default=True)
    risk_no_contact_days = models.PositiveSmallIntegerField(_("risk: days without contact"), default=60)
    risk_min_share = models.PositiveSmallIntegerField(_("risk: share of job-search standards met (%)"), default=50)
    risk_months_before_graduation = models.PositiveSmallIntegerField(
        _("risk: months before graduation when the share is checked"), default=2
    )
    risk_declines = models.PositiveSmallIntegerField(_("risk: recommendations declined"), default=3)
    note = models.CharField(_("note"), max_length=300, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["school", "-valid_from"]
        verbose_name = _("policy")
        verbose_name_plural = _("policies")
        constraints = [models.UniqueConstraint(fields=["school", "valid_from"], name="one_policy_per_start")]

    def __str__(self) -> str:
        return f"{self.school} · {self.valid_from}"


class Standard(models.Model):
    """A minimum standard: at least `min_count` of `metric` in `stage`, counted per `period`."""

    policy = models.ForeignKey(Policy, on_delete=models.CASCADE, related_name="standards")
    stage = models.CharField(_("stage"), max_length=16, choices=Stage.choices)
    metric = models.CharField(_("what is counted"), max_length=32, choices=Metric.choices)
    min_count = models.PositiveSmallIntegerField(_("at least"), default=1)
    period = models.CharField(_("counted"), max_length=16, choices=Period.choices, default=Period.STAGE)
    every_days = models.PositiveSmallIntegerField(_("every N days"), null=True, blank=True)
    milestones = models.CharField(_("months after leaving"), max_length=50, blank=True)

    class Meta:
        ordering = ["policy", "stage", "id"]
        verbose_name = _("standard")
        verbose_name_plural = _("standards")
        constraints = [
            models.UniqueConstraint(fields=["policy", "stage", "metric"], name="one_standard_per_metric"),
            models.CheckConstraint(
                condition=~Q(period="days") | Q(every_days__gte=1), name="standard_days_need_a_number"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_stage_display()}: {self.get_metric_display()} ≥ {self.min_count}"

    def milestone_months(self) -> list[int]:
        return sorted({int(m) for m in self.milestones.replace("，", ",").split(",") if m.strip().isdigit()})


# --- The plan per student (一生一策) ---------------------------------------------------------------------------


class Direction(models.TextChoices):
    JOB = "job", _("Job")
    PUBLIC_EXAM = "public_exam", _("Public-service exam")
    GRASSROOTS = "grassroots", _("Grassroots project")
    FURTHER_STUDY = "further_study", _("Further study")
    ARMY = "army", _("Enlist in the army")
    ENTREPRENEURSHIP = "entrepreneurship", _("Start a business")


class Plan(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    student = models.OneToOneField("students.Student", on_delete=models.CASCADE, related_name="plan")
    direction = models.CharField(_("direction"), max_length=20, choices=Direction.choices, default=Direction.JOB)
    industries = models.CharField(_("industries wanted"), max_length=200, blank=True)
    places = models.CharField(_("places wanted"), max_length=200, blank=True)
    near_home = models.BooleanField(_("wants to work near home"), default=False)
    salary_expectation = models.PositiveIntegerField(_("monthly salary expected (yuan)"), null=True, blank=True)
    strengths = models.TextField(_("strengths"), blank=True)
    needs = models.TextField(_("needs"), blank=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)
    version = models.PositiveIntegerField(default=1, editable=False)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("plan")
        verbose_name_plural = _("plans")

    def __str__(self) -> str:
        return f"{self.student} · {self.get_direction_display()}"


class PlanReview(models.Model):
    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="reviews")
    reviewed_on = models.DateField(_("reviewed on"))
    semester = models.PositiveSmallIntegerField(_("semester"))
    notes = models.TextField(_("notes"))
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["-reviewed_on"]
        verbose_name = _("plan review")
        verbose_name_plural = _("plan reviews")
        constraints = [models.UniqueConstraint(fields=["plan", "semester"], name="one_review_per_semester")]

    def __str__(self) -> str:
        return f"{self.plan} · {self.semester}"


# --- The work ledger (帮扶工作台账) -----------------------------------------------------------------------------


class Response(models.TextChoices):
    """What the student did with a recommendation (until positions are linked to real records)."""

    NONE = "", _("No answer yet")
    APPLIED = "applied", _("Applied")
    INTERVIEWED = "interviewed", _("Interviewed")
    EMPLOYER_ANSWERED = "employer_answered", _("Employer answered")
    DECLINED = "declined", _("Declined")


class Activity(models.Model):
    """One act of help. Immutable once its month is closed: a correction is a new record pointing at it."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    student = models.ForeignKey("students.Student", on_delete=models.CASCADE, related_name="activities")
    helper = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="activities", verbose_name=_("helper")
    )
    kind = models.CharField(_("kind"), max_length=32, choices=ActivityKind.choices)
    occurred_on = models.DateField(_("date"))
    # The stage under the policy in force on `occurred_on`, fixed when recorded.
    stage = models.CharField(_("stage"), max_length=16, choices=Stage.choices, editable=False)
    notes = models.TextField(_("notes"), blank=True)
    internal = models.BooleanField(_("internal note (not shown to the student)"), default=False)
    attachment = models.FileField(_("attachment"), upload_to="activities/%Y/%m/", blank=True)
    event_name = models.CharField(_("recruitment event"), max_length=200, blank=True)
    employer_name = models.CharField(_("employer"), max_length=200, blank=True)
    position_title = models.CharField(_("position"), max_length=200, blank=True)
    fits_student = models.BooleanField(_("fits the student's major or intention"), default=False)
    response = models.CharField(_("student's response"), max_length=20, choices=Response.choices, blank=True)
    effective = models.BooleanField(_("effective recommendation"), default=False, editable=False)
    corrects = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="corrections", verbose_name=_("corrects")
    )
    voided = models.BooleanField(default=False, editable=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    version = models.PositiveIntegerField(default=1, editable=False)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-occurred_on", "-id"]
        verbose_name = _("activity")
        verbose_name_plural = _("activities")
        indexes = [
            models.Index(fields=["student", "stage", "kind"]),
            models.Index(fields=["helper", "occurred_on"]),
        ]

    def __str__(self) -> str:
        return f"{self.occurred_on} {self.get_kind_display()} · {self.student}"


class RiskLevel(models.IntegerChoices):
    NONE = 0, _("None")
    WATCH = 1, _("Watch")
    AT_RISK = 2, _("At risk")


class StudentProgress(models.Model):
    """Where a ledger student stands against the standards, kept current by the services that change it.

    Lists and dashboards read this row; they never scan activities.
    """

    student = models.OneToOneField("students.Student", on_delete=models.CASCADE, related_name="progress")
    computed_on = models.DateField()
    stage = models.CharField(_("stage"), max_length=16, choices=Stage.choices)
    # [{"metric": "talk", "done": 2, "required": 3, "period": "stage", "overdue": 0, "due_on": "2024-06-30"}, ...]
    meters = models.JSONField(default=list)
    standards_met = models.PositiveSmallIntegerField(default=0)
    standards_total = models.PositiveSmallIntegerField(default=0)
    overdue_count = models.PositiveSmallIntegerField(default=0)
    next_due_on = models.DateField(null=True, blank=True)
    next_due_metric = models.CharField(max_length=32, blank=True)
    last_contact_on = models.DateField(null=True, blank=True)
    last_check_in_on = models.DateField(null=True, blank=True)
    declined_count = models.PositiveSmallIntegerField(default=0)
    risk = models.PositiveSmallIntegerField(choices=RiskLevel.choices, default=RiskLevel.NONE, db_index=True)
    risk_reasons = models.JSONField(default=list)
    # Where the student stands on the boards, copied from the student, their active helper and their destination
    # in force by the same refresh as the figures above: a board counts these rows alone, with no join (a province
    # holds 200,000 of them). The student's own columns stay the truth; `rebuild_progress` copies them again.
    school = models.ForeignKey("organisation.OrgUnit", on_delete=models.PROTECT, related_name="+", db_index=False)
    department = models.ForeignKey("organisation.OrgUnit", on_delete=models.PROTECT, related_name="+", db_index=False)
    class_unit = models.ForeignKey("organisation.OrgUnit", on_delete=models.PROTECT, related_name="+", db_index=False)
    graduates_in = models.PositiveSmallIntegerField(null=True)  # expected graduation year; none once withdrawn
    helper = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    destination_group = models.CharField(max_length=16, blank=True)  # of the destination in force; "" for none
    placed_since = models.DateField(null=True)  # struck off the unplaced list (the destination's `placed_since`)

    class Meta:
        verbose_name = _("progress")
        verbose_name_plural = _("progress")
        indexes = [
            models.Index(fields=["risk", "next_due_on"]),
            # The province board reads every figure of its schools from this index alone (an index-only scan).
            models.Index(
                fields=["school", "graduates_in", "destination_group", "standards_met", "standards_total", "helper"],
                name="progress_school_figures",
            ),
            models.Index(fields=["department", "graduates_in"]),
        ]

    def __str__(self) -> str:
        return f"{self.student} · {self.stage}"
