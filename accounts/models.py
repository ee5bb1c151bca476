from typing import ClassVar

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from accounts.validators import validate_birth_month_day, validate_nabp_eprofile_id, validate_npi


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def _create(self, email: str, password: str | None, **extra) -> "User":
        if not email:
            raise ValueError("An e-mail address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra) -> "User":
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra) -> "User":
        extra.update(is_staff=True, is_superuser=True)
        return self._create(email, password, **extra)

    def get_by_natural_key(self, username: str | None) -> "User":
        return self.get(email__iexact=username)


class User(AbstractBaseUser, PermissionsMixin):
    """A person who signs in with an e-mail address."""

    email = models.EmailField("e-mail address", unique=True)
    display_name = models.CharField(
        max_length=80, blank=True, help_text="Shown to other attendees in the venue."
    )
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(
        default=False, help_text="May log in to the admin (organizer staff and superusers)."
    )
    agenda_reminder_emails = models.BooleanField(
        "e-mail me before sessions in my agenda",
        default=True,
        help_text="A reminder e-mail before sessions you added to your agenda start.",
    )
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    class Meta:
        ordering = ["email"]

    def __str__(self) -> str:
        return self.email

    def clean(self) -> None:
        super().clean()
        self.email = self.__class__.objects.normalize_email(self.email).lower()

    @property
    def public_name(self) -> str:
        profile = getattr(self, "profile", None)
        if self.display_name:
            return self.display_name
        if profile and profile.legal_name:
            return profile.legal_name
        # Never derived from the e-mail address: others must not learn it from a name.
        return "Attendee"


class Degree(models.TextChoices):
    MD = "MD", "MD (Doctor of Medicine)"
    DO = "DO", "DO (Doctor of Osteopathic Medicine)"
    RN = "RN", "RN (Registered Nurse)"
    NP = "NP", "NP (Nurse Practitioner)"
    PA = "PA", "PA (Physician Assistant)"
    PHARMD = "PharmD", "PharmD (Pharmacist)"
    OTHER = "other", "Other health professional"


class ProfessionalProfile(models.Model):
    """What accreditors and certificates need to know about a learner.

    The birth year is never stored: ACPE and the boards ask for month and day only.
    """

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="profile")
    legal_name = models.CharField(
        max_length=200, blank=True, help_text="Your name as it must appear on certificates."
    )
    given_name = models.CharField(
        "given name(s)",
        max_length=100,
        blank=True,
        help_text="First and middle names, as your licensing board and certifying board "
        "know them (reported to accreditors).",
    )
    family_name = models.CharField(
        "family name",
        max_length=100,
        blank=True,
        help_text="Your surname as a whole, e.g. “García Márquez” or “van der Berg”.",
    )
    name_needs_review = models.BooleanField(
        "names to be confirmed",
        default=False,
        help_text="Set when the given and family names were split automatically from the legal "
        "name; cleared when the learner saves them.",
    )
    degree = models.CharField(max_length=10, choices=Degree.choices, default=Degree.OTHER)
    specialty = models.CharField(max_length=120, blank=True)
    npi = models.CharField(
        "NPI",
        max_length=10,
        blank=True,
        validators=[validate_npi],
        help_text="US National Provider Identifier, 10 digits.",
    )
    nabp_eprofile_id = models.CharField(
        "NABP e-Profile ID", max_length=7, blank=True, validators=[validate_nabp_eprofile_id]
    )
    birth_month = models.PositiveSmallIntegerField(null=True, blank=True)
    birth_day = models.PositiveSmallIntegerField(null=True, blank=True)
    consent_share_with_boards = models.BooleanField(
        "share my credit with my boards and accreditors", default=False
    )
    consent_share_with_exhibitors = models.BooleanField(
        "share my contact details with exhibitors I visit", default=False
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(birth_month__isnull=True) | models.Q(birth_month__range=(1, 12)),
                name="profile_birth_month_range",
            ),
            models.CheckConstraint(
                condition=models.Q(birth_day__isnull=True) | models.Q(birth_day__range=(1, 31)),
                name="profile_birth_day_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.legal_name or self.user.email} ({self.degree})"

    def clean(self) -> None:
        super().clean()
        try:
            validate_birth_month_day(self.birth_month, self.birth_day)
        except ValidationError as error:
            raise ValidationError({"birth_day": error.messages}) from None


class USState(models.TextChoices):
    AL = "AL", "Alabama"
    AK = "AK", "Alaska"
    AZ = "AZ", "Arizona"
    AR = "AR", "Arkansas"
    CA = "CA", "California"
    CO = "CO", "Colorado"
    CT = "CT", "Connecticut"
    DE = "DE", "Delaware"
    DC = "DC", "District of Columbia"
    FL = "FL", "Florida"
    GA = "GA", "Georgia"
    HI = "HI", "Hawaii"
    ID = "ID", "Idaho"
    IL = "IL", "Illinois"
    IN = "IN", "Indiana"
    IA = "IA", "Iowa"
    KS = "KS", "Kansas"
    KY = "KY", "Kentucky"
    LA = "LA", "Louisiana"
    ME = "ME", "Maine"
    MD = "MD", "Maryland"
    MA = "MA", "Massachusetts"
    MI = "MI", "Michigan"
    MN = "MN", "Minnesota"
    MS = "MS", "Mississippi"
    MO = "MO", "Missouri"
    MT = "MT", "Montana"
    NE = "NE", "Nebraska"
    NV = "NV", "Nevada"
    NH = "NH", "New Hampshire"
    NJ = "NJ", "New Jersey"
    NM = "NM", "New Mexico"
    NY = "NY", "New York"
    NC = "NC", "North Carolina"
    ND = "ND", "North Dakota"
    OH = "OH", "Ohio"
    OK = "OK", "Oklahoma"
    OR = "OR", "Oregon"
    PA = "PA", "Pennsylvania"
    PR = "PR", "Puerto Rico"
    RI = "RI", "Rhode Island"
    SC = "SC", "South Carolina"
    SD = "SD", "South Dakota"
    TN = "TN", "Tennessee"
    TX = "TX", "Texas"
    UT = "UT", "Utah"
    VT = "VT", "Vermont"
    VA = "VA", "Virginia"
    WA = "WA", "Washington"
    WV = "WV", "West Virginia"
    WI = "WI", "Wisconsin"
    WY = "WY", "Wyoming"


class StateLicense(models.Model):
    profile = models.ForeignKey(
        ProfessionalProfile, on_delete=models.CASCADE, related_name="licenses"
    )
    state = models.CharField(max_length=2, choices=USState.choices)
    number = models.CharField("license number", max_length=40)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["profile", "state"], name="unique_license_per_state")
        ]
        ordering = ["state"]

    def __str__(self) -> str:
        return f"{self.state} {self.number}"


class CertifyingBoard(models.TextChoices):
    ABIM = "ABIM", "American Board of Internal Medicine"
    ABP = "ABP", "American Board of Pediatrics"
    ABS = "ABS", "American Board of Surgery"
    ABA = "ABA", "American Board of Anesthesiology"
    ABPath = "ABPath", "American Board of Pathology"
    ABO = "ABO", "American Board of Ophthalmology"
    ABOto = "ABOto", "American Board of Otolaryngology"


class BoardCertification(models.Model):
    profile = models.ForeignKey(
        ProfessionalProfile, on_delete=models.CASCADE, related_name="boards"
    )
    board = models.CharField(max_length=10, choices=CertifyingBoard.choices)
    board_id = models.CharField("board ID", max_length=40)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["profile", "board"], name="unique_board_per_profile")
        ]
        ordering = ["board"]

    def __str__(self) -> str:
        return f"{self.board} {self.board_id}"
