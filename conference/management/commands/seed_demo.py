"""`manage.py seed_demo`: a demo society, venue, event happening now, and people to log in as.

Idempotent: every row is matched on a natural key and written only when a value differs, so a
second run changes nothing (except to move the schedule when the clock has moved on). The
schedule is anchored on the current local hour minus one, so a session is on whenever the demo
is seeded.

`make run` passes `--if-empty`: a database that already has people in it is left as it is, so
edits made in the demo survive a restart (the programme stays where the first seed put it; an
organizer's "Start now" puts a session on again). `--reset` erases the whole database and
seeds it afresh.
"""

import zoneinfo
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import models, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from accounts.models import Degree, ProfessionalProfile, StateLicense, User
from conference.credit.rules import PRESETS
from conference.models import (
    Disclosure,
    EnduringActivity,
    EnduringCredit,
    Event,
    MeetingRoom,
    MembershipRole,
    Organizer,
    OrganizerMembership,
    PostTest,
    PostTestQuestion,
    Registration,
    RegistrationRole,
    RelationshipKind,
    RoomHostSlot,
    Session,
    SessionKind,
    Speaker,
    Track,
)
from conference.services.cme.designation import attainable_credit, designate_credits
from conference.services.refusals import Refused
from conference.services.registrations import register_attendee
from conference.services.schedule import session_conflicts
from venues.demo import build_demo_venue
from venues.models import Hall, Placement, Venue

DEFAULT_PASSWORD = "medvenue-demo"  # noqa: S105 - the documented demo login, never production
EVENT_SLUG = "cardio-update-live"


@dataclass(frozen=True)
class Login:
    role: str
    email: str
    note: str


LOGINS = [
    Login("admin", "admin@medvenue.test", "superuser: /admin/"),
    Login("organizer", "staff@medvenue.test", "owner of the society's events: /admin/"),
    Login("cme", "cme@medvenue.test", "CME coordinator: credit, claims, certificates, PARS"),
    Login("content", "content@medvenue.test", "content manager: sessions, speakers, recordings"),
    Login("moderator", "moderator@medvenue.test", "moderates Q&A in the halls (no admin)"),
    Login(
        "speaker", "speaker@medvenue.test", "Dr. Rafael Moreno, speaker: the studio of his talks"
    ),
    Login("physician", "physician@medvenue.test", "MD attendee, registered"),
    Login("nurse", "nurse@medvenue.test", "RN attendee, registered"),
]

SPEAKER_LOGIN_NAME = "Rafael Moreno"

TRACKS = [
    ("Heart Failure", "#dc2626"),
    ("Prevention & Lipids", "#16a34a"),
    ("Rhythm & Imaging", "#2563eb"),
]

# name, credentials, affiliation, email, disclosures (company, relationship, details)
SPEAKERS = [
    (
        "Amelia Hart",
        "MD, FACC",
        "Department of Cardiology, Lakeside University Hospital",
        "a.hart@lakeside-hospital.example",
        [("Corvexa Pharmaceuticals", RelationshipKind.CONSULTANT, "Heart failure advisory work")],
    ),
    (
        "Rafael Moreno",
        "MD, PhD",
        "Institute for Preventive Cardiology, Riverside Medical School",
        "r.moreno@riverside-med.example",
        [
            ("Lipidyne Therapeutics", RelationshipKind.RESEARCH_GRANT, "PCSK9 outcomes trial"),
            ("Statix Labs", RelationshipKind.ADVISORY_BOARD, ""),
        ],
    ),
    (
        "Priya Natarajan",
        "MD, FHRS",
        "Heart Rhythm Center, St. Clare Medical Center",
        "p.natarajan@stclare.example",
        [],
    ),
    (
        "Daniel Okoye",
        "RDCS, MSc",
        "Echocardiography Laboratory, Lakeside University Hospital",
        "d.okoye@lakeside-hospital.example",
        [],
    ),
]

# offset (minutes from the anchor), duration, hall slug, kind, title, track, speakers, CME minutes
PROGRAMME = [
    (
        0,
        60,
        "auditorium",
        SessionKind.PLENARY,
        "Opening plenary: heart failure in 2026, what changed",
        "Heart Failure",
        ["Amelia Hart"],
        60,
    ),
    (
        0,
        50,
        "seminar",
        SessionKind.SEMINAR,
        "ECG pitfalls every clinician should know",
        "Rhythm & Imaging",
        ["Priya Natarajan"],
        45,
    ),
    (
        60,
        60,
        "auditorium",
        SessionKind.PLENARY,
        "Lipid management: the guideline update in practice",
        "Prevention & Lipids",
        ["Rafael Moreno"],
        60,
    ),
    (
        60,
        60,
        "seminar",
        SessionKind.SEMINAR,
        "Atrial fibrillation: anticoagulation case clinic",
        "Rhythm & Imaging",
        ["Priya Natarajan", "Amelia Hart"],
        60,
    ),
    (120, 30, "lobby", SessionKind.BREAK, "Coffee break and exhibits", "", [], None),
    (
        150,
        90,
        "seminar",
        SessionKind.WORKSHOP,
        "Hands-on workshop: focused echocardiography",
        "Rhythm & Imaging",
        ["Daniel Okoye", "Amelia Hart"],
        90,
    ),
    (
        150,
        60,
        "auditorium",
        SessionKind.PLENARY,
        "Panel: prevention after a first myocardial infarction",
        "Prevention & Lipids",
        ["Rafael Moreno", "Priya Natarajan"],
        60,
    ),
]

# The on-demand recording offered as enduring material: a session that is over at seed time
# (the programme starts an hour before the current hour; this one ends 10 minutes before it).
DEMO_CREDIT_TYPES = ("AMA_PRA_1", "ANCC", "PARTICIPATION")
ENDURING_SESSION = "ECG pitfalls every clinician should know"
ENDURING_CREDIT = Decimal("0.75")
POST_TEST_TITLE = "Post-test: ECG pitfalls every clinician should know"
POST_TEST_QUESTIONS = [
    (
        "A regular wide-complex tachycardia in a patient with a prior myocardial infarction is "
        "most likely:",
        [
            "Ventricular tachycardia",
            "Supraventricular tachycardia with aberrancy",
            "Sinus tachycardia",
        ],
        "Ventricular tachycardia",
    ),
    (
        "Reversed left and right arm electrodes are suggested by:",
        [
            "ST elevation in V1 to V3",
            "Negative P wave and QRS complex in lead I",
            "A short PR interval",
        ],
        "Negative P wave and QRS complex in lead I",
    ),
    (
        "The QT interval is corrected for heart rate because:",
        [
            "It lengthens as the heart rate rises",
            "It does not depend on the heart rate",
            "It shortens as the heart rate rises",
        ],
        "It shortens as the heart rate rises",
    ),
    (
        "ST elevation in aVR with widespread ST depression in a patient with chest pain suggests:",
        ["Early repolarisation", "Left main or multivessel ischaemia", "Hyperkalaemia"],
        "Left main or multivessel ischaemia",
    ),
]

# The designation statement is printed from the credit type's template; this is the
# accreditation statement alone.
ACCREDITATION_STATEMENT = (
    "The Society for Cardiovascular Practice is accredited by the Accreditation Council for "
    "Continuing Medical Education (ACCME) to provide continuing medical education for "
    "physicians."
)


def local_timezone_name() -> str:
    """The machine's time zone: $TZ, else /etc/timezone, else /etc/localtime's link, else UTC."""
    known = zoneinfo.available_timezones()
    candidates = [settings.MACHINE_TIME_ZONE]
    timezone_file = Path("/etc/timezone")
    if timezone_file.exists():
        candidates.append(timezone_file.read_text().strip())
    localtime = Path("/etc/localtime")
    if localtime.is_symlink():
        candidates.append(str(localtime.resolve()).partition("/zoneinfo/")[2])
    return next((name for name in candidates if name in known), "UTC")


def schedule_anchor(now: datetime, tz: zoneinfo.ZoneInfo) -> datetime:
    """The start of the programme: the current local hour minus one."""
    local_hour = timezone.localtime(now, tz).replace(minute=0, second=0, microsecond=0)
    return local_hour - timedelta(hours=1)


_M = TypeVar("_M", bound=models.Model)


def upsert(
    model: type[_M],
    lookup: dict[str, Any],
    values: dict[str, Any],
    *,
    on_create: dict[str, Any] | None = None,
) -> _M:
    """Get the row matching `lookup` and set `values` on it, saving only when something differs.

    `on_create` holds values written only when the row is new (timestamps, password hashes).
    Every model seeded here has a single manager, `objects`: its default manager.
    """
    row = model._default_manager.filter(**lookup).first()
    if row is None:
        return model._default_manager.create(**lookup, **values, **(on_create or {}))
    changed = [name for name, value in values.items() if getattr(row, name) != value]
    for name in changed:
        setattr(row, name, values[name])
    if changed:
        row.save(update_fields=changed)
    return row


class Command(BaseCommand):
    help = "Create or refresh the demo: a society, its venue, an event on now, and demo logins."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--password", default=DEFAULT_PASSWORD, help="The password of every demo login."
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="Run even when MEDVENUE_PRODUCTION=1 (it creates a known superuser login).",
        )
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="Seed only a database without any people yet; otherwise change nothing.",
        )
        parser.add_argument(
            "--reset",
            action="store_true",
            help="Erase every row of the database (all events, people, credit records) first "
            "and seed afresh. Refused with MEDVENUE_PRODUCTION=1.",
        )
        parser.add_argument(
            "--at",
            metavar="ISO_DATETIME",
            help="Seed as if it were this moment (e.g. 2026-03-02T09:30+01:00); default: now.",
        )

    def handle(
        self,
        *args,
        password: str,
        force: bool,
        at: str | None,
        if_empty: bool,
        reset: bool,
        **options,
    ) -> None:
        if reset and settings.PRODUCTION:
            raise CommandError("Refusing to erase a production database (MEDVENUE_PRODUCTION=1).")
        if reset and if_empty:
            raise CommandError("Choose either --reset or --if-empty.")
        if settings.PRODUCTION and not force:
            raise CommandError(
                "Refusing to seed demo logins into a production database "
                "(MEDVENUE_PRODUCTION=1). Pass --force if this really is a demo server."
            )
        if len(password) < 8:
            raise CommandError("--password must have at least 8 characters.")
        now = self._parse_at(at)
        tz_name = local_timezone_name()
        if if_empty and User.objects.exists():
            self.stdout.write(
                "The database already has data: the demo is kept as it is (your edits too). "
                "`manage.py seed_demo --reset` erases it and starts over."
            )
            return
        if reset:
            call_command("flush", interactive=False, verbosity=0)
            self.stdout.write("Erased every row of the database.")
        with transaction.atomic():
            event = self._seed(password=password, now=now, tz_name=tz_name)
        self._print_logins(event, password)

    def _parse_at(self, at: str | None) -> datetime:
        if not at:
            return timezone.now()
        moment = parse_datetime(at)
        if moment is None:
            raise CommandError(f"--at must be an ISO date and time, got {at!r}.")
        if timezone.is_naive(moment):
            moment = moment.replace(tzinfo=zoneinfo.ZoneInfo(local_timezone_name()))
        return moment

    def _seed(self, *, password: str, now: datetime, tz_name: str) -> Event:
        users = self._seed_users(password)
        organizer = self._seed_organizer(users)
        venue = build_demo_venue()
        organizer.venues.add(venue)
        event = self._seed_event(organizer, venue, now=now, tz_name=tz_name)
        speakers = self._seed_speakers(event, now=now)
        # The speaker login is Rafael Moreno: his sessions' studio is theirs (docs/media.md).
        speaker = speakers[SPEAKER_LOGIN_NAME]
        if speaker.user_id != users["speaker"].pk:
            speaker.user = users["speaker"]
            speaker.save(update_fields=["user"])
        self._seed_sessions(event, venue, speakers, now=now)
        self._seed_credits(event)
        self._seed_enduring(event, now=now)
        self._seed_registrations(event, users)
        self._seed_room_hosts(venue, users, now=now)
        return event

    def _seed_room_hosts(self, venue, users: dict[str, User], *, now: datetime) -> None:
        """Dr. Rafael Moreno (the speaker login) is the expert of "Ask the expert", and at
        poster P-01 for the coming hour and again two hours later (docs/rooms.md, "Host
        times")."""
        placement = Placement.objects.get(hall__venue=venue, label="Ask the expert")
        room, _ = MeetingRoom.objects.get_or_create(placement=placement)
        room.hosts.add(users["speaker"])
        poster = Placement.objects.get(hall__venue=venue, label="At poster P-01")
        room, _ = MeetingRoom.objects.get_or_create(placement=poster)
        room.hosts.add(users["speaker"])
        start = now.replace(minute=0, second=0, microsecond=0)
        RoomHostSlot.objects.filter(room=room, host=users["speaker"]).delete()  # a re-run
        for hours in (0, 2):
            RoomHostSlot.objects.create(
                room=room,
                host=users["speaker"],
                starts_at=start + timedelta(hours=hours),
                ends_at=start + timedelta(hours=hours + 1),
            )

    def _seed_credits(self, event: Event) -> None:
        """Designate credit for the demo event: the most one learner can attend (the best path
        through its parallel tracks, `cme.designation.attainable_credit`), in quarter hours: 3.50."""
        limit = attainable_credit(event)
        designate_credits(
            event,
            {code: limit.max_credit(PRESETS[code]) for code in DEMO_CREDIT_TYPES},
            signatory_name="Dr. Helen Marsh",
            signatory_title="Chair, CME Committee",
        )

    def _seed_enduring(self, event: Event, *, now: datetime) -> None:
        """A post-test (pass score 70%, 3 attempts) and the recording of a session that is
        already over released as enduring material today, valid one year. The live credits
        require no post-test. Watching needs a READY recording (an organizer uploads one)."""
        test = upsert(
            PostTest,
            {"event": event, "title": POST_TEST_TITLE},
            {
                "instructions": "Four questions on the session. Choose one answer each.",
                "pass_percent": 70,
                "max_attempts": 3,
            },
        )
        for order, (text, choices, correct) in enumerate(POST_TEST_QUESTIONS):
            upsert(
                PostTestQuestion,
                {"test": test, "order": order},
                {"text": text, "choices": "\n".join(choices), "correct_answer": correct},
            )
        PostTestQuestion.objects.filter(test=test, order__gte=len(POST_TEST_QUESTIONS)).delete()
        today = timezone.localdate(now, event.tzinfo)
        session = Session.objects.get(event=event, title=ENDURING_SESSION)
        activity = upsert(
            EnduringActivity,
            {"session": session},
            {
                "title": f"{ENDURING_SESSION} (on demand)",
                "release_date": today,
                "review_date": today,
                "expiry_date": date(today.year + 1, today.month, today.day)
                if (today.month, today.day) != (2, 29)
                else date(today.year + 1, 2, 28),
                "post_test": test,
                "is_published": True,
            },
        )
        for code in ("AMA_PRA_1", "ANCC", "PARTICIPATION"):
            upsert(
                EnduringCredit,
                {"activity": activity, "credit_type": code},
                {"designated_max": ENDURING_CREDIT},
            )

    def _seed_users(self, password: str) -> dict[str, User]:
        flags = {
            "admin": {"is_staff": True, "is_superuser": True},
            "organizer": {"is_staff": True, "is_superuser": False},
            "cme": {"is_staff": True, "is_superuser": False},
            "content": {"is_staff": True, "is_superuser": False},
        }
        names = {
            "admin": "Demo Admin",
            "organizer": "Olivia Grant",
            "cme": "Priya Natarajan",
            "content": "Tomas Berg",
            "moderator": "Marcus Lee",
            "speaker": "Dr. Rafael Moreno",
            "physician": "Dr. Sofia Alvarez",
            "nurse": "Jamal Carter",
        }
        users = {}
        for login in LOGINS:
            values = {
                "display_name": names[login.role],
                "is_active": True,
                "is_staff": False,
                "is_superuser": False,
                **flags.get(login.role, {}),
            }
            user = upsert(User, {"email": login.email}, values)
            if not user.check_password(password):
                user.set_password(password)
                user.save(update_fields=["password"])
            users[login.role] = user
        self._seed_profiles(users)
        return users

    def _seed_profiles(self, users: dict[str, User]) -> None:
        physician = upsert(
            ProfessionalProfile,
            {"user": users["physician"]},
            {
                "legal_name": "Sofia Maria Alvarez",
                "given_name": "Sofia Maria",
                "family_name": "Alvarez",
                "degree": Degree.MD,
                "specialty": "Internal Medicine",
                "npi": "1245319599",
                "birth_month": 4,
                "birth_day": 17,
                "consent_share_with_boards": True,
            },
        )
        upsert(StateLicense, {"profile": physician, "state": "MA"}, {"number": "MD-284113"})
        nurse = upsert(
            ProfessionalProfile,
            {"user": users["nurse"]},
            {
                "legal_name": "Jamal Carter",
                "given_name": "Jamal",
                "family_name": "Carter",
                "degree": Degree.RN,
                "specialty": "Cardiac Nursing",
                "birth_month": 9,
                "birth_day": 3,
            },
        )
        upsert(StateLicense, {"profile": nurse, "state": "NY"}, {"number": "RN-771203"})

    def _seed_organizer(self, users: dict[str, User]) -> Organizer:
        organizer = upsert(
            Organizer,
            {"slug": "society-cardiovascular-practice"},
            {
                "name": "Society for Cardiovascular Practice",
                "website": "https://cardiopractice.example",
                "contact_email": "education@cardiopractice.example",
            },
        )
        for role, membership_role in (
            ("organizer", MembershipRole.OWNER),
            ("cme", MembershipRole.CME_COORDINATOR),
            ("content", MembershipRole.CONTENT_MANAGER),
            ("moderator", MembershipRole.MODERATOR),
        ):
            upsert(
                OrganizerMembership,
                {"organizer": organizer, "user": users[role]},
                {"role": membership_role},
            )
        return organizer

    def _seed_event(
        self, organizer: Organizer, venue: Venue, *, now: datetime, tz_name: str
    ) -> Event:
        tz = zoneinfo.ZoneInfo(tz_name)
        anchor = schedule_anchor(now, tz)
        last_end = anchor + timedelta(
            minutes=max(start + length for start, length, *_ in PROGRAMME)
        )
        first_day: date = timezone.localtime(anchor, tz).date()
        last_day: date = timezone.localtime(last_end - timedelta(microseconds=1), tz).date()
        return upsert(
            Event,
            {"slug": EVENT_SLUG},
            {
                "organizer": organizer,
                "title": "Cardiology Update Live",
                "description": (
                    "A one-day live update for cardiologists, internists and cardiac nurses: "
                    "heart failure, lipids, rhythm and imaging, with a hands-on echo workshop."
                ),
                "timezone": tz_name,
                "start_date": first_day,
                "end_date": last_day,
                "venue": venue,
                "is_published": True,
                "registration_opens_at": None,
                "registration_closes_at": None,
                "capacity": None,
                "cme_provider": organizer.name,
                "accreditation_statement": ACCREDITATION_STATEMENT,
                # The keyword filter in use (docs/moderation.md): a chat message or question
                # naming one is held for the moderator's review.
                "moderation_keywords": "casino\ncrypto\nbuy now",
            },
        )

    def _seed_speakers(self, event: Event, *, now: datetime) -> dict[str, Speaker]:
        speakers = {}
        for name, credentials, affiliation, email, disclosures in SPEAKERS:
            speaker = upsert(
                Speaker,
                {"event": event, "name": name},
                {
                    "credentials": credentials,
                    "affiliation": affiliation,
                    "email": email,
                    "bio": f"{name}, {credentials}, {affiliation}.",
                    "has_nothing_to_disclose": not disclosures,
                },
                on_create={"disclosure_signed_at": now},
            )
            for company, relationship, details in disclosures:
                upsert(
                    Disclosure,
                    {"speaker": speaker, "company": company},
                    {"relationship": relationship, "details": details, "mitigated": True},
                )
            speakers[name] = speaker
        return speakers

    def _seed_sessions(
        self, event: Event, venue: Venue, speakers: dict[str, Speaker], *, now: datetime
    ) -> None:
        halls = {hall.slug: hall for hall in Hall.objects.filter(venue=venue)}
        tracks = {
            name: upsert(Track, {"event": event, "name": name}, {"color": color, "order": order})
            for order, (name, color) in enumerate(TRACKS)
        }
        anchor = schedule_anchor(now, event.tzinfo)
        seeded = []
        for start, length, hall, kind, title, track, names, minutes in PROGRAMME:
            session = upsert(
                Session,
                {"event": event, "title": title},
                {
                    "hall": halls[hall],
                    "track": tracks.get(track),
                    "kind": kind,
                    "abstract": f"{title}. Live in {halls[hall].name}, with moderated Q&A.",
                    "starts_at": anchor + timedelta(minutes=start),
                    "ends_at": anchor + timedelta(minutes=start + length),
                    "is_cme_eligible": minutes is not None,
                    "designated_minutes": minutes,
                    "qa_moderation_required": kind == SessionKind.PLENARY,
                },
            )
            chosen = [speakers[name] for name in names]
            session.speakers.set(chosen)
            seeded.append((session, chosen))
        # Checked once every session has moved: seeding again later shifts the whole programme,
        # and a session checked halfway would clash with its neighbours' old times.
        for session, chosen in seeded:
            problems = session_conflicts(session, speakers=chosen)
            if problems:
                raise CommandError(f"The demo schedule is inconsistent: {problems}")

    def _seed_registrations(self, event: Event, users: dict[str, User]) -> None:
        roles = {
            "physician": RegistrationRole.ATTENDEE,
            "nurse": RegistrationRole.ATTENDEE,
            "moderator": RegistrationRole.MODERATOR,
            "speaker": RegistrationRole.SPEAKER,
        }
        for key, role in roles.items():
            existing = Registration.objects.filter(event=event, user=users[key]).first()
            if existing is None or not existing.is_active:
                try:
                    register_attendee(event, users[key], role=role)
                except Refused as error:
                    raise CommandError(f"Cannot register {users[key]}: {error.message}") from None

    def _print_logins(self, event: Event, password: str) -> None:
        write = self.stdout.write
        write(self.style.SUCCESS(f"Demo ready: “{event.title}” ({event.get_absolute_url()})"))
        write(f"Event time zone: {event.timezone}; sessions start at the current hour minus one.")
        write("Later starts keep this data; an organizer's “Start now” puts a session on again.")
        write("Logins:")
        for login in LOGINS:
            write(f"  {login.role:<10} {login.email:<26} {login.note}")
        write(f"Password for every login: {password}")
