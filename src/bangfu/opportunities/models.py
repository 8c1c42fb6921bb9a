"""Employers, their positions and recruitment events; recommendations of positions to students; internships,
order classes and work-study posts held by students."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords


class Industry(models.TextChoices):
    """Sections of the national industry classification (GB/T 4754-2017)."""

    A = "A", _("Agriculture, forestry, animal husbandry and fishery")
    B = "B", _("Mining")
    C = "C", _("Manufacturing")
    D = "D", _("Electricity, heat, gas and water")
    E = "E", _("Construction")
    F = "F", _("Wholesale and retail")
    G = "G", _("Transport, storage and post")
    H = "H", _("Accommodation and catering")
    I = "I", _("Information transmission, software and IT services")  # noqa: E741
    J = "J", _("Finance")
    K = "K", _("Real estate")
    L = "L", _("Leasing and business services")
    M = "M", _("Scientific research and technical services")
    N = "N", _("Water, environment and public facilities")
    O = "O", _("Resident, repair and other services")  # noqa: E741
    P = "P", _("Education")
    Q = "Q", _("Health and social work")
    R = "R", _("Culture, sports and entertainment")
    S = "S", _("Public administration, social security and social organisations")
    T = "T", _("International organisations")


class EmployerType(models.TextChoices):
    STATE_OWNED = "state_owned", _("State-owned enterprise")
    PRIVATE = "private", _("Private enterprise")
    FOREIGN = "foreign", _("Foreign-funded enterprise")
    JOINT_VENTURE = "joint_venture", _("Joint venture")
    PUBLIC_INSTITUTION = "public_institution", _("Public institution")
    GOVERNMENT = "government", _("Government agency")
    MILITARY = "military", _("Armed forces")
    COLLECTIVE = "collective", _("Collective enterprise")
    SOCIAL_ORGANISATION = "social_organisation", _("Social organisation")
    OTHER = "other", _("Other")


class EmployerSize(models.TextChoices):
    MICRO = "micro", _("Micro (under 10 people)")
    SMALL = "small", _("Small (10–99)")
    MEDIUM = "medium", _("Medium (100–999)")
    LARGE = "large", _("Large (1,000 or more)")


class Employer(models.Model):
    """An employer known to a school. The credit code and the normalised name are each unique in the school."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    school = models.ForeignKey("organisation.OrgUnit", on_delete=models.PROTECT, related_name="employers")
    name = models.CharField(_("name"), max_length=200)
    name_key = models.CharField(max_length=200, editable=False)
    credit_code = models.CharField(_("unified social credit code"), max_length=18, blank=True)
    industry = models.CharField(_("industry"), max_length=1, choices=Industry.choices, blank=True)
    employer_type = models.CharField(
        _("type"), max_length=24, choices=EmployerType.choices, default=EmployerType.PRIVATE
    )
    size = models.CharField(_("size"), max_length=8, choices=EmployerSize.choices, blank=True)
    province = models.CharField(_("province"), max_length=32, blank=True)
    city = models.CharField(_("city"), max_length=32, blank=True)
    is_internship_base = models.BooleanField(_("internship base"), default=False)
    is_order_class_partner = models.BooleanField(_("order-class partner"), default=False)
    is_work_study_host = models.BooleanField(_("work-study host"), default=False)
    contact_name = models.CharField(_("contact person"), max_length=64, blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=32, blank=True)
    contact_email = models.EmailField(_("contact e-mail"), blank=True)
    notes = models.TextField(_("notes"), blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    version = models.PositiveIntegerField(default=1, editable=False)
    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]
        verbose_name = _("employer")
        verbose_name_plural = _("employers")
        constraints = [
            models.UniqueConstraint(
                fields=["school", "credit_code"], condition=~Q(credit_code=""), name="employer_credit_code_unique"
            ),
            models.UniqueConstraint(fields=["school", "name_key"], name="employer_name_unique"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_partner(self) -> bool:
        return self.is_internship_base or self.is_order_class_partner or self.is_work_study_host


class PositionKind(models.TextChoices):
    JOB = "job", _("Job")
    INTERNSHIP = "internship", _("Internship")
    WORK_STUDY = "work_study", _("Work-study post")
    ORDER_CLASS = "order_class", _("Order class")


class PositionStatus(models.TextChoices):
    OPEN = "open", _("Open")
    FILLED = "filled", _("Filled")
    CLOSED = "closed", _("Closed")


class PositionQuerySet(models.QuerySet["Position"]):
    def open_on(self, day: "object") -> "PositionQuerySet":
        return self.filter(status=PositionStatus.OPEN).filter(Q(deadline__isnull=True) | Q(deadline__gte=day))


class Position(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    employer = models.ForeignKey(Employer, on_delete=models.PROTECT, related_name="positions")
    kind = models.CharField(_("kind"), max_length=16, choices=PositionKind.choices, default=PositionKind.JOB)
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    # No majors: open to every major.
    majors = models.ManyToManyField(
        "organisation.OrgUnit", blank=True, related_name="+", verbose_name=_("majors wanted")
    )
    province = models.CharField(_("province"), max_length=32, blank=True)
    city = models.CharField(_("city"), max_length=32, blank=True)
    salary_min = models.PositiveIntegerField(_("salary from (yuan a month)"), null=True, blank=True)
    salary_max = models.PositiveIntegerField(_("salary up to (yuan a month)"), null=True, blank=True)
    openings = models.PositiveSmallIntegerField(_("openings"), default=1)
    deadline = models.DateField(_("deadline"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=8, choices=PositionStatus.choices, default=PositionStatus.OPEN)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    version = models.PositiveIntegerField(default=1, editable=False)
    history = HistoricalRecords(m2m_fields=[majors])

    objects = PositionQuerySet.as_manager()

    class Meta:
        ordering = ["deadline", "title"]
        verbose_name = _("position")
        verbose_name_plural = _("positions")
        constraints = [
            models.CheckConstraint(
                condition=Q(salary_min__isnull=True) | Q(salary_max__isnull=True) | Q(salary_max__gte=F("salary_min")),
                name="position_salary_range",
            ),
            models.CheckConstraint(condition=Q(openings__gte=1), name="position_has_openings"),
        ]
        indexes = [models.Index(fields=["status", "deadline"])]

    def __str__(self) -> str:
        return f"{self.employer} · {self.title}"


class EventKind(models.TextChoices):
    CAMPUS_FAIR = "campus_fair", _("Campus job fair")
    ONLINE = "online", _("Online recruitment")
    REGIONAL = "regional", _("Regional job fair")
    PRESENTATION = "presentation", _("Employer presentation")


class RecruitmentEvent(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    school = models.ForeignKey("organisation.OrgUnit", on_delete=models.PROTECT, related_name="recruitment_events")
    kind = models.CharField(_("kind"), max_length=16, choices=EventKind.choices, default=EventKind.CAMPUS_FAIR)
    title = models.CharField(_("title"), max_length=200)
    held_on = models.DateField(_("date"))
    place = models.CharField(_("place"), max_length=200, blank=True)
    employers = models.ManyToManyField(Employer, blank=True, related_name="events", verbose_name=_("employers"))
    notes = models.TextField(_("notes"), blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    version = models.PositiveIntegerField(default=1, editable=False)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-held_on", "title"]
        verbose_name = _("recruitment event")
        verbose_name_plural = _("recruitment events")

    def __str__(self) -> str:
        return f"{self.held_on} {self.title}"


class EventAttendance(models.Model):
    """A student attended an event together with their helper: the "event together" activity of the ledger."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    event = models.ForeignKey(RecruitmentEvent, on_delete=models.PROTECT, related_name="attendances")
    student = models.ForeignKey("students.Student", on_delete=models.CASCADE, related_name="event_attendances")
    helper = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    activity = models.OneToOneField(
        "assistance.Activity", on_delete=models.PROTECT, related_name="event_attendance", null=True
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("event attendance")
        verbose_name_plural = _("event attendances")
        constraints = [models.UniqueConstraint(fields=["event", "student"], name="attend_event_once")]

    def __str__(self) -> str:
        return f"{self.student} @ {self.event}"


# --- Recommendations: the loop that closes ----------------------------------------------------------------------


class RecommendationStatus(models.TextChoices):
    RECOMMENDED = "recommended", _("Recommended")
    INTERESTED = "interested", _("Student interested")
    APPLIED = "applied", _("Applied")
    INTERVIEWED = "interviewed", _("Interviewed")
    OFFER = "offer", _("Offer received")
    ACCEPTED = "accepted", _("Accepted")
    DECLINED = "declined", _("Declined")
    REJECTED = "rejected", _("Rejected by the employer")
    EXPIRED = "expired", _("Expired")


# The steps a recommendation may take from each status; anything else skips a step or reopens a closed one.
NEXT_STATUSES: dict[str, tuple[str, ...]] = {
    RecommendationStatus.RECOMMENDED: (
        RecommendationStatus.INTERESTED,
        RecommendationStatus.APPLIED,
        RecommendationStatus.DECLINED,
        RecommendationStatus.EXPIRED,
    ),
    RecommendationStatus.INTERESTED: (
        RecommendationStatus.APPLIED,
        RecommendationStatus.DECLINED,
        RecommendationStatus.EXPIRED,
    ),
    RecommendationStatus.APPLIED: (
        RecommendationStatus.INTERVIEWED,
        RecommendationStatus.OFFER,
        RecommendationStatus.REJECTED,
        RecommendationStatus.DECLINED,
        RecommendationStatus.EXPIRED,
    ),
    RecommendationStatus.INTERVIEWED: (
        RecommendationStatus.OFFER,
        RecommendationStatus.REJECTED,
        RecommendationStatus.DECLINED,
    ),
    RecommendationStatus.OFFER: (RecommendationStatus.ACCEPTED, RecommendationStatus.DECLINED),
    RecommendationStatus.ACCEPTED: (),
    RecommendationStatus.DECLINED: (),
    RecommendationStatus.REJECTED: (),
    RecommendationStatus.EXPIRED: (),
}
OPEN_STATUSES = tuple(s for s, nxt in NEXT_STATUSES.items() if nxt)
# The answers a student gives on their own recommendations (in the portal); the employer's answers (rejected) and
# expiry are recorded by staff or the daily job.
STUDENT_ANSWERS = (
    RecommendationStatus.INTERESTED,
    RecommendationStatus.APPLIED,
    RecommendationStatus.INTERVIEWED,
    RecommendationStatus.OFFER,
    RecommendationStatus.ACCEPTED,
    RecommendationStatus.DECLINED,
)


class DeclineReason(models.TextChoices):
    SALARY = "salary", _("Salary too low")
    LOCATION = "location", _("Place of work unsuitable")
    MAJOR = "major", _("Does not fit the major")
    FAMILY = "family", _("Family reasons")
    FURTHER_STUDY = "further_study", _("Chose further study")
    PUBLIC_EXAM = "public_exam", _("Preparing for a public-service exam")
    OTHER_OFFER = "other_offer", _("Took another offer")
    CONDITIONS = "conditions", _("Working conditions or hours")
    NOT_INTERESTED = "not_interested", _("Not interested in the work")
    OTHER = "other", _("Other (explained in the note)")


class Recommendation(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    position = models.ForeignKey(Position, on_delete=models.PROTECT, related_name="recommendations")
    student = models.ForeignKey("students.Student", on_delete=models.CASCADE, related_name="recommendations")
    recommended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("recommended by")
    )
    recommended_on = models.DateField(_("recommended on"))
    status = models.CharField(
        _("status"), max_length=16, choices=RecommendationStatus.choices, default=RecommendationStatus.RECOMMENDED
    )
    # Whether the position fits the student's major or stated intention, and why, as judged when recommended.
    fits_student = models.BooleanField(_("fits the student's major or intention"), default=False)
    fit_reasons = models.JSONField(default=list, blank=True)
    acted_on = models.DateField(_("student acted on"), null=True, blank=True)
    offered_on = models.DateField(_("offer on"), null=True, blank=True)
    decline_reason = models.CharField(_("reason"), max_length=16, choices=DeclineReason.choices, blank=True)
    note = models.TextField(_("note"), blank=True)
    # The work-ledger activity this recommendation is (it counts toward the standards).
    activity = models.OneToOneField(
        "assistance.Activity", on_delete=models.PROTECT, related_name="recommendation", null=True
    )
    updated_at = models.DateTimeField(auto_now=True)
    version = models.PositiveIntegerField(default=1, editable=False)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-recommended_on", "-id"]
        verbose_name = _("recommendation")
        verbose_name_plural = _("recommendations")
        constraints = [models.UniqueConstraint(fields=["position", "student"], name="recommend_position_once")]
        indexes = [
            models.Index(fields=["student", "status"]),
            models.Index(fields=["recommended_by", "recommended_on"]),
        ]

    def __str__(self) -> str:
        return f"{self.position} → {self.student}"

    @property
    def next_statuses(self) -> tuple[str, ...]:
        return NEXT_STATUSES[self.status]


class RecommendationStep(models.Model):
    """Who moved a recommendation to which status, when."""

    recommendation = models.ForeignKey(Recommendation, on_delete=models.CASCADE, related_name="steps")
    from_status = models.CharField(max_length=16, choices=RecommendationStatus.choices, blank=True)
    to_status = models.CharField(max_length=16, choices=RecommendationStatus.choices)
    on = models.DateField(_("date"))
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(auto_now_add=True)
    reason = models.CharField(max_length=16, choices=DeclineReason.choices, blank=True)
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["recommendation", "at", "id"]
        verbose_name = _("recommendation step")
        verbose_name_plural = _("recommendation steps")

    def __str__(self) -> str:
        return f"{self.from_status} → {self.to_status}"


# --- What students hold: internships, order classes, work-study -------------------------------------------------


class Evaluation(models.TextChoices):
    EXCELLENT = "excellent", _("Excellent")
    GOOD = "good", _("Good")
    PASS = "pass", _("Pass")
    FAIL = "fail", _("Fail")


class Internship(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    student = models.ForeignKey("students.Student", on_delete=models.CASCADE, related_name="internships")
    employer = models.ForeignKey(Employer, on_delete=models.PROTECT, related_name="internships")
    position = models.ForeignKey(Position, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    started_on = models.DateField(_("from"))
    ended_on = models.DateField(_("until"), null=True, blank=True)
    evaluation = models.CharField(_("evaluation"), max_length=16, choices=Evaluation.choices, blank=True)
    evaluation_note = models.TextField(_("evaluation notes"), blank=True)
    became_job = models.BooleanField(_("turned into a job"), default=False)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    version = models.PositiveIntegerField(default=1, editable=False)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-started_on"]
        verbose_name = _("internship")
        verbose_name_plural = _("internships")
        constraints = [
            models.CheckConstraint(
                condition=Q(ended_on__isnull=True) | Q(ended_on__gte=F("started_on")), name="internship_period"
            )
        ]

    def __str__(self) -> str:
        return f"{self.student} @ {self.employer}"


class OrderClassMembership(models.Model):
    """A student's place in an order class (订单班): trained for an employer that has promised to hire."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    student = models.ForeignKey("students.Student", on_delete=models.CASCADE, related_name="order_classes")
    position = models.ForeignKey(Position, on_delete=models.PROTECT, related_name="order_class_members")
    joined_on = models.DateField(_("joined on"))
    left_on = models.DateField(_("left on"), null=True, blank=True)
    left_reason = models.CharField(_("reason for leaving"), max_length=300, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    version = models.PositiveIntegerField(default=1, editable=False)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-joined_on"]
        verbose_name = _("order-class membership")
        verbose_name_plural = _("order-class memberships")
        constraints = [
            models.UniqueConstraint(
                fields=["student", "position"], condition=Q(left_on__isnull=True), name="one_open_order_class_place"
            ),
            models.CheckConstraint(
                condition=Q(left_on__isnull=True) | Q(left_on__gte=F("joined_on")), name="order_class_period"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.student} · {self.position}"


class WorkStudyAssignment(models.Model):
    """A student's work-study post (勤工助学岗位)."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    student = models.ForeignKey("students.Student", on_delete=models.CASCADE, related_name="work_study")
    position = models.ForeignKey(Position, on_delete=models.PROTECT, related_name="work_study_assignments")
    started_on = models.DateField(_("from"))
    ended_on = models.DateField(_("until"), null=True, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    version = models.PositiveIntegerField(default=1, editable=False)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-started_on"]
        verbose_name = _("work-study assignment")
        verbose_name_plural = _("work-study assignments")
        constraints = [
            models.CheckConstraint(
                condition=Q(ended_on__isnull=True) | Q(ended_on__gte=F("started_on")), name="work_study_period"
            )
        ]

    def __str__(self) -> str:
        return f"{self.student} · {self.position}"


class WorkStudyHours(models.Model):
    """Hours worked on one day. By national rule a student works at most 8 hours a week and 40 a month."""

    assignment = models.ForeignKey(WorkStudyAssignment, on_delete=models.CASCADE, related_name="hours")
    student = models.ForeignKey("students.Student", on_delete=models.CASCADE, related_name="+", editable=False)
    worked_on = models.DateField(_("date"))
    hours = models.DecimalField(_("hours"), max_digits=4, decimal_places=1)
    note = models.CharField(_("note"), max_length=200, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-worked_on", "-id"]
        verbose_name = _("work-study hours")
        verbose_name_plural = _("work-study hours")
        constraints = [models.CheckConstraint(condition=Q(hours__gt=0), name="work_study_hours_positive")]
        indexes = [models.Index(fields=["student", "worked_on"])]

    def __str__(self) -> str:
        return f"{self.worked_on} {self.hours} h"
