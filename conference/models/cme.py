"""CME records: what an event designates, evaluations, claims, corrections, certificates, audit.

Credit records are append-only: a claim's amounts are written once; a staff correction is a new
`ClaimCorrection` row with a reason, and a change of name or credit is a new `Certificate`
version that supersedes the old one (same code, same first-issued date). Business rules live in
`conference.services.cme`.
"""

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from conference.credit.rules import (
    ID_KINDS,
    KNOWN_DEGREES,
    PRESETS,
    ROUNDING_MODES,
    parse_codes,
)

CREDIT_TYPE_CHOICES = [(code, rule.name) for code, rule in PRESETS.items()]


class CreditType:
    """The credit type codes the code names (every type: `CREDIT_TYPE_CHOICES`)."""

    AMA_PRA_1 = "AMA_PRA_1"
    PARTICIPATION = "PARTICIPATION"


ROUNDING_CHOICES = [(mode, f"{mode} (to the increment)") for mode in ROUNDING_MODES]


def validate_degree_list(value: str) -> None:
    try:
        parse_codes(value, KNOWN_DEGREES, "degrees")
    except ValueError as error:
        raise ValidationError(str(error)) from error


def validate_learner_id_list(value: str) -> None:
    try:
        parse_codes(value, ID_KINDS, "learner IDs")
    except ValueError as error:
        raise ValidationError(str(error)) from error


class EventCredit(models.Model):
    """A credit type an event offers, with the maximum it designates and its claim window."""

    event = models.ForeignKey("conference.Event", on_delete=models.CASCADE, related_name="credits")
    credit_type = models.CharField(max_length=20, choices=CREDIT_TYPE_CHOICES)
    designated_max = models.DecimalField(
        "designated maximum",
        max_digits=6,
        decimal_places=2,
        validators=[MinValueValidator(0)],
        help_text="The most credit the activity designates for this type (e.g. 6.50).",
    )
    activity_number = models.CharField(
        max_length=60, blank=True, help_text="Accreditor's activity number (ACPE UAN, PARS ID)."
    )
    statement_override = models.TextField(
        "designation statement",
        blank=True,
        help_text="The accreditor's exact wording; empty uses the credit type's template "
        "({provider}, {max_credits}, {activity_number}). Printed verbatim.",
    )
    claim_opens_at = models.DateTimeField(
        null=True, blank=True, help_text="Empty: claims open when each session ends."
    )
    claim_closes_at = models.DateTimeField(null=True, blank=True, help_text="Empty: never closes.")
    evaluation_required = models.BooleanField(default=True)
    # The credit type's rule for this activity: empty fields keep the preset's value.
    increment = models.DecimalField(
        max_digits=4,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0.01"))],
        help_text="Credit is counted in steps of this size (e.g. 0.25). Empty: the type's default.",
    )
    minimum = models.DecimalField(
        max_digits=4,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
        help_text="Less credit than this counts as 0. Empty: the type's default.",
    )
    rounding = models.CharField(
        max_length=8,
        blank=True,
        choices=ROUNDING_CHOICES,
        help_text="How the total is rounded to the increment. Empty: the type's default.",
    )
    eligible_degrees = models.CharField(
        max_length=100,
        blank=True,
        validators=[validate_degree_list],
        help_text="Comma-separated degrees that may earn this credit (e.g. MD, DO). "
        "Empty: the type's default.",
    )
    required_ids = models.CharField(
        "required learner IDs",
        max_length=100,
        blank=True,
        validators=[validate_learner_id_list],
        help_text="Comma-separated: npi, nabp_eprofile_id, birth_mmdd, board_id. "
        "Empty: the type's default.",
    )
    reporting_deadline_days = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        help_text="Days after the activity by which credit must be reported. "
        "Empty: the type's default.",
    )
    post_test = models.ForeignKey(
        "conference.PostTest",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="A post-test the learner must pass before claiming this credit; empty for none.",
    )
    signatory_name = models.CharField(max_length=120, blank=True)
    signatory_title = models.CharField(
        max_length=120, blank=True, help_text="e.g. Director of Continuing Medical Education"
    )

    class Meta:
        ordering = ["event", "credit_type"]
        constraints = [
            models.UniqueConstraint(
                fields=["event", "credit_type"], name="unique_event_credit_type"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_credit_type_display()} — max {self.designated_max}"


class EvaluationForm(models.Model):
    event = models.OneToOneField(
        "conference.Event", on_delete=models.CASCADE, related_name="evaluation_form"
    )
    title = models.CharField(max_length=200, default="Activity evaluation")
    introduction = models.TextField(blank=True)

    def __str__(self) -> str:
        return f"{self.title} ({self.event})"


class QuestionKind(models.TextChoices):
    LIKERT = "likert", "Agreement (1 to 5)"
    CHOICE = "choice", "Multiple choice"
    TEXT = "text", "Free text"


LIKERT_CHOICES = [
    ("1", "Strongly disagree"),
    ("2", "Disagree"),
    ("3", "Neutral"),
    ("4", "Agree"),
    ("5", "Strongly agree"),
]


class EvaluationQuestion(models.Model):
    form = models.ForeignKey(EvaluationForm, on_delete=models.CASCADE, related_name="questions")
    order = models.PositiveSmallIntegerField(default=0)
    kind = models.CharField(max_length=8, choices=QuestionKind.choices)
    text = models.CharField(max_length=400)
    choices = models.TextField(blank=True, help_text="Multiple choice: one option per line.")
    required = models.BooleanField(default=True)

    class Meta:
        ordering = ["form", "order", "id"]

    def __str__(self) -> str:
        return self.text

    def choice_list(self) -> list[tuple[str, str]]:
        if self.kind == QuestionKind.LIKERT:
            return LIKERT_CHOICES
        options = [line.strip() for line in self.choices.splitlines() if line.strip()]
        return [(option, option) for option in options]


class EvaluationResponse(models.Model):
    form = models.ForeignKey(EvaluationForm, on_delete=models.CASCADE, related_name="responses")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="cme_evaluations"
    )
    submitted_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["form", "user"], name="unique_evaluation_response")
        ]

    def __str__(self) -> str:
        return f"evaluation of {self.user_id} for form {self.form_id}"


class EvaluationAnswer(models.Model):
    response = models.ForeignKey(
        EvaluationResponse, on_delete=models.CASCADE, related_name="answers"
    )
    question = models.ForeignKey(EvaluationQuestion, on_delete=models.PROTECT, related_name="+")
    value = models.TextField(blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["response", "question"], name="unique_answer")
        ]

    def __str__(self) -> str:
        return self.value[:60]


class PostTest(models.Model):
    """A knowledge test with a pass score announced in advance and a limited number of attempts."""

    event = models.ForeignKey(
        "conference.Event", on_delete=models.CASCADE, related_name="post_tests"
    )
    title = models.CharField(max_length=200, default="Post-test")
    instructions = models.TextField(blank=True)
    pass_percent = models.PositiveSmallIntegerField(
        "pass score (%)",
        default=70,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
        help_text="Announced to learners before they start.",
    )
    max_attempts = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        default=3,
        validators=[MinValueValidator(1)],
        help_text="Empty for unlimited attempts.",
    )
    questions_per_attempt = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text="Draw this many questions from the pool for each attempt; empty: every "
        "question. Options are shuffled for each attempt either way.",
    )

    class Meta:
        ordering = ["event", "title"]

    def __str__(self) -> str:
        return f"{self.title} ({self.event})"


class PostTestQuestion(models.Model):
    test = models.ForeignKey(PostTest, on_delete=models.CASCADE, related_name="questions")
    order = models.PositiveSmallIntegerField(default=0)
    text = models.CharField(max_length=500)
    choices = models.TextField(help_text="One answer option per line (at least two).")
    correct_answer = models.CharField(
        max_length=300, help_text="The correct option, exactly as written above."
    )

    class Meta:
        ordering = ["test", "order", "id"]

    def __str__(self) -> str:
        return self.text

    def choice_list(self) -> list[str]:
        return [line.strip() for line in self.choices.splitlines() if line.strip()]


class PostTestAttempt(models.Model):
    """One submitted attempt (append-only): the answers given and the score."""

    test = models.ForeignKey(PostTest, on_delete=models.PROTECT, related_name="attempts")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="post_test_attempts"
    )
    number = models.PositiveSmallIntegerField()
    answers = models.JSONField(default=dict)
    layout = models.JSONField(
        default=list,
        blank=True,
        help_text="The questions drawn and each one's options in the order shown.",
    )
    score_percent = models.DecimalField(max_digits=5, decimal_places=2)
    passed = models.BooleanField()
    submitted_at = models.DateTimeField()

    class Meta:
        ordering = ["test", "user", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["test", "user", "number"], name="unique_post_test_attempt"
            ),
        ]

    def __str__(self) -> str:
        return f"attempt {self.number} of {self.user_id}: {self.score_percent}%"


class PostTestDraw(models.Model):
    """The questions and option order drawn for one attempt before it is answered (kept when
    the page is reloaded, so reloading draws nothing new); the attempt copies it."""

    test = models.ForeignKey(PostTest, on_delete=models.CASCADE, related_name="draws")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="post_test_draws"
    )
    number = models.PositiveSmallIntegerField()
    layout = models.JSONField(default=list)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["test", "user", "number"], name="unique_post_test_draw"
            ),
        ]

    def __str__(self) -> str:
        return f"draw {self.number} of {self.user_id} for test {self.test_id}"


class EnduringActivity(models.Model):
    """A session's recording released as enduring material: an activity of its own."""

    session = models.OneToOneField(
        "conference.Session", on_delete=models.PROTECT, related_name="enduring"
    )
    title = models.CharField(max_length=300, blank=True, help_text="Empty: the session's title.")
    release_date = models.DateField()
    review_date = models.DateField(help_text="When the content was last reviewed.")
    expiry_date = models.DateField(help_text="Credit cannot be claimed after this date.")
    post_test = models.ForeignKey(
        PostTest,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Credit is given once this test is passed.",
    )
    is_published = models.BooleanField(default=False)

    class Meta:
        ordering = ["-release_date"]
        verbose_name_plural = "enduring activities"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(expiry_date__gt=models.F("release_date")),
                name="enduring_expires_after_release",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title or self.session.title} (enduring)"


class EnduringCredit(models.Model):
    """A credit type an enduring activity designates, and its amount."""

    activity = models.ForeignKey(EnduringActivity, on_delete=models.CASCADE, related_name="credits")
    credit_type = models.CharField(max_length=20, choices=CREDIT_TYPE_CHOICES)
    designated_max = models.DecimalField(
        "designated amount",
        max_digits=6,
        decimal_places=2,
        validators=[MinValueValidator(0)],
    )
    activity_number = models.CharField(max_length=60, blank=True)
    statement_override = models.TextField("designation statement", blank=True)

    class Meta:
        ordering = ["activity", "credit_type"]
        constraints = [
            models.UniqueConstraint(
                fields=["activity", "credit_type"], name="unique_enduring_credit_type"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_credit_type_display()} — {self.designated_max}"


class ClaimStatus(models.TextChoices):
    SUBMITTED = "submitted", "Submitted"
    NEEDS_REVIEW = "needs_review", "Waiting for staff review"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"


class Claim(models.Model):
    """A learner's claim of one credit type for one activity (once per learner, event, type)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="cme_claims"
    )
    event = models.ForeignKey("conference.Event", on_delete=models.PROTECT, related_name="claims")
    # Set for a claim of enduring material (the recording); empty for the live activity.
    enduring = models.ForeignKey(
        EnduringActivity,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="claims",
    )
    credit_type = models.CharField(max_length=20, choices=CREDIT_TYPE_CHOICES)
    degree = models.CharField(max_length=10)
    credited_seconds = models.PositiveIntegerField()
    computed_credit = models.DecimalField(max_digits=6, decimal_places=2)
    claimed_credit = models.DecimalField(max_digits=6, decimal_places=2)
    designated_max = models.DecimalField(max_digits=6, decimal_places=2)
    status = models.CharField(max_length=12, choices=ClaimStatus.choices)
    attestation = models.TextField()
    attested_at = models.DateTimeField()
    inputs_hash = models.CharField(max_length=80)
    engine_version = models.CharField(max_length=20)
    rule_version = models.CharField(max_length=20)
    review_note = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "event", "credit_type"],
                condition=models.Q(enduring__isnull=True),
                name="unique_claim_per_learner_type",
            ),
            models.UniqueConstraint(
                fields=["user", "enduring", "credit_type"],
                condition=models.Q(enduring__isnull=False),
                name="unique_enduring_claim_per_learner_type",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} — {self.credit_type} {self.claimed_credit} ({self.event})"


class ClaimAddition(models.Model):
    """Sessions that ended after a claim, added to it by the learner: the new total, computed
    again over every ended session and rounded once (append-only; CME.md "Claiming")."""

    claim = models.ForeignKey(Claim, on_delete=models.PROTECT, related_name="additions")
    credited_seconds = models.PositiveIntegerField()
    computed_credit = models.DecimalField(max_digits=6, decimal_places=2)
    claimed_credit = models.DecimalField(
        "new total claimed", max_digits=6, decimal_places=2, validators=[MinValueValidator(0)]
    )
    sessions = models.JSONField(
        default=list, help_text="Titles of the sessions counted in the new total."
    )
    attestation = models.TextField()
    attested_at = models.DateTimeField()
    inputs_hash = models.CharField(max_length=80)
    engine_version = models.CharField(max_length=20)
    rule_version = models.CharField(max_length=20)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["claim", "created_at", "id"]

    def __str__(self) -> str:
        return f"addition to claim {self.claim_id}: total {self.claimed_credit}"


class ClaimCorrection(models.Model):
    """A staff correction of a claim's credit: a new row with a reason, never an edit."""

    claim = models.ForeignKey(Claim, on_delete=models.PROTECT, related_name="corrections")
    credit = models.DecimalField(max_digits=6, decimal_places=2, validators=[MinValueValidator(0)])
    reason = models.TextField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["claim", "created_at", "id"]

    def __str__(self) -> str:
        return f"correction of claim {self.claim_id} to {self.credit}"


class CertificateStatus(models.TextChoices):
    QUEUED = "queued", "Being prepared"
    ISSUED = "issued", "Issued"
    SUPERSEDED = "superseded", "Superseded by a newer version"
    REVOKED = "revoked", "Revoked"
    FAILED = "failed", "Failed (will be retried)"


class Certificate(models.Model):
    """One version of a claim's certificate. Every version of a claim shares its `code`."""

    claim = models.ForeignKey(Claim, on_delete=models.PROTECT, related_name="certificates")
    version = models.PositiveSmallIntegerField()
    code = models.CharField(max_length=16, db_index=True)
    status = models.CharField(
        max_length=10, choices=CertificateStatus.choices, default=CertificateStatus.QUEUED
    )
    learner_name = models.CharField(max_length=200)
    degree = models.CharField(max_length=10)
    credit = models.DecimalField(max_digits=6, decimal_places=2)
    verify_url = models.URLField(max_length=300)
    file_path = models.CharField(max_length=300, blank=True)
    first_issued_at = models.DateTimeField(null=True, blank=True)
    issued_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_reason = models.TextField(blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["claim", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["claim", "version"], name="unique_certificate_version"),
            models.UniqueConstraint(fields=["code", "version"], name="unique_certificate_code"),
        ]

    def __str__(self) -> str:
        return f"certificate {self.code} v{self.version} ({self.status})"


class CmeAuditEntry(models.Model):
    """Who did what to which CME record, and when (append-only)."""

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    event = models.ForeignKey(
        "conference.Event", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    action = models.CharField(max_length=40)
    object_type = models.CharField(max_length=40)
    object_id = models.PositiveBigIntegerField()
    detail = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "CME audit entries"

    def __str__(self) -> str:
        return f"{self.action} {self.object_type} #{self.object_id}"
