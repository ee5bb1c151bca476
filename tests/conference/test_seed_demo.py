"""`manage.py seed_demo`: idempotent, an event on now in the machine's zone, working logins."""

import datetime as dt
import io
import os
import subprocess
import sys
import zoneinfo
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest
from django.core import serializers
from django.core.management import CommandError, call_command
from django.test import override_settings
from django.utils import timezone

from accounts.models import ProfessionalProfile, StateLicense, User
from conference.management.commands.seed_demo import LOGINS
from conference.models import (
    Disclosure,
    Event,
    MembershipRole,
    Organizer,
    OrganizerMembership,
    Registration,
    Session,
    SessionKind,
    Speaker,
    Track,
)
from conference.services.cme.designation import attainable_credit
from conference.services.schedule import session_conflicts
from venues.models import Hall, Placement, Venue, Zone

ROOT = Path(__file__).resolve().parents[2]
SEEDED_MODELS = [
    User,
    ProfessionalProfile,
    StateLicense,
    Organizer,
    OrganizerMembership,
    Venue,
    Hall,
    Placement,
    Zone,
    Event,
    Track,
    Speaker,
    Disclosure,
    Session,
    Registration,
]
EMAILS = [login.email for login in LOGINS]


def seed(*args: str) -> str:
    out = io.StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


def dump() -> dict[str, str]:
    return {
        model.__name__: serializers.serialize("json", model.objects.order_by("pk"))
        for model in SEEDED_MODELS
    }


@pytest.fixture
def machine_zone(settings):
    settings.MACHINE_TIME_ZONE = "America/Chicago"
    return zoneinfo.ZoneInfo("America/Chicago")


@pytest.mark.django_db
def test_seed_demo_run_twice_gives_same_rows(machine_zone):
    at = timezone.now().isoformat()
    seed("--at", at)
    first = dump()
    seed("--at", at)

    assert dump() == first
    empty = [model.__name__ for model in SEEDED_MODELS if not model.objects.exists()]
    assert empty == []
    assert Session.objects.count() == 7
    assert User.objects.count() == 8


@pytest.mark.django_db
def test_seed_demo_again_hours_later_moves_the_programme(machine_zone):
    earlier = timezone.now()
    seed("--at", earlier.isoformat())
    before = dict(Session.objects.values_list("title", "starts_at"))
    seed("--at", (earlier + dt.timedelta(hours=3)).isoformat())

    after = dict(Session.objects.values_list("title", "starts_at"))
    assert sorted(after) == sorted(before)
    assert {after[title] - before[title] for title in before} == {dt.timedelta(hours=3)}


@pytest.mark.django_db
def test_seed_demo_a_session_is_on_now(machine_zone):
    seed()
    now = timezone.now()
    event = Event.objects.get()
    today = timezone.localtime(now, machine_zone).date()

    on_now = Session.objects.filter(starts_at__lte=now, ends_at__gt=now)
    assert on_now.exclude(kind=SessionKind.BREAK).count() >= 1
    assert event.start_date <= today <= event.end_date
    assert event.timezone == "America/Chicago"
    assert event.is_published is True
    assert event.moderation_keywords.splitlines() == ["casino", "crypto", "buy now"]
    for session in Session.objects.all():
        assert session_conflicts(session, speakers=list(session.speakers.all())) == {}


@pytest.mark.django_db
def test_seed_demo_schedule_anchored_on_local_hour_minus_one(machine_zone):
    at = datetime(2031, 7, 14, 10, 42, tzinfo=machine_zone)
    seed("--at", at.isoformat())

    first = Session.objects.order_by("starts_at").first()
    assert first.starts_at == datetime(2031, 7, 14, 9, 0, tzinfo=machine_zone)
    event = Event.objects.get()
    assert (event.start_date.isoformat(), event.end_date.isoformat()) == (
        "2031-07-14",
        "2031-07-14",
    )


@pytest.mark.django_db
def test_seed_demo_just_after_midnight_starts_the_day_before(machine_zone):
    at = datetime(2031, 7, 15, 0, 20, tzinfo=machine_zone)
    seed("--at", at.isoformat())

    event = Event.objects.get()
    assert (event.start_date.isoformat(), event.end_date.isoformat()) == (
        "2031-07-14",
        "2031-07-15",
    )
    first = Session.objects.order_by("starts_at").first()
    assert timezone.localtime(first.starts_at, machine_zone) == datetime(
        2031, 7, 14, 23, 0, tzinfo=machine_zone
    )


@pytest.mark.django_db
def test_seed_demo_logins_work_with_printed_password(client, machine_zone):
    output = seed("--password", "rehearsal-pass-42")

    for email in EMAILS:
        assert email in output
        assert client.login(email=email, password="rehearsal-pass-42"), email
        client.logout()
    assert "Password for every login: rehearsal-pass-42" in output


@pytest.mark.django_db
def test_seed_demo_new_password_replaces_old(client, machine_zone):
    seed()
    seed("--password", "another-demo-pass")

    assert client.login(email="nurse@medvenue.test", password="another-demo-pass")
    assert not User.objects.get(email="nurse@medvenue.test").check_password("medvenue-demo")


@pytest.mark.django_db
def test_seed_demo_roles_and_memberships(machine_zone):
    seed()
    users = {user.email: user for user in User.objects.all()}
    memberships = {
        (m.user.email, m.role) for m in OrganizerMembership.objects.select_related("user")
    }

    assert users["admin@medvenue.test"].is_superuser is True
    assert users["staff@medvenue.test"].is_staff is True
    assert users["staff@medvenue.test"].is_superuser is False
    assert memberships == {
        ("staff@medvenue.test", MembershipRole.OWNER),
        ("cme@medvenue.test", MembershipRole.CME_COORDINATOR),
        ("content@medvenue.test", MembershipRole.CONTENT_MANAGER),
        ("moderator@medvenue.test", MembershipRole.MODERATOR),
    }
    assert [
        users[f"{name}@medvenue.test"].is_staff for name in ("cme", "content", "moderator")
    ] == [
        True,
        True,
        False,
    ]
    organizer = Organizer.objects.get()
    event = Event.objects.get()
    assert list(organizer.venues.all()) == [event.venue]
    assert event.organizer == organizer


@pytest.mark.django_db
def test_seed_demo_attendee_profiles_and_registrations(machine_zone):
    seed()
    physician = ProfessionalProfile.objects.get(user__email="physician@medvenue.test")
    nurse = ProfessionalProfile.objects.get(user__email="nurse@medvenue.test")
    physician.full_clean()
    nurse.full_clean()

    assert (physician.degree, physician.npi, physician.birth_month, physician.birth_day) == (
        "MD",
        "1245319599",
        4,
        17,
    )
    assert [str(lic) for lic in physician.licenses.all()] == ["MA MD-284113"]
    assert nurse.degree == "RN"
    registered = set(
        Registration.objects.active().values_list("user__email", "role").order_by("user__email")
    )
    assert registered == {
        ("moderator@medvenue.test", "moderator"),
        ("nurse@medvenue.test", "attendee"),
        ("physician@medvenue.test", "attendee"),
        ("speaker@medvenue.test", "speaker"),
    }


@pytest.mark.django_db
def test_seed_demo_programme_has_cme_and_disclosures(machine_zone):
    seed()
    sessions = Session.objects.select_related("hall")
    cme = sessions.filter(is_cme_eligible=True)

    assert {s.kind for s in sessions} == {"plenary", "seminar", "break", "workshop"}
    assert {s.hall.slug for s in sessions.exclude(kind=SessionKind.BREAK)} == {
        "auditorium",
        "seminar",
    }
    assert sorted(s.designated_minutes for s in cme) == [45, 60, 60, 60, 60, 90]
    assert sessions.get(kind=SessionKind.BREAK).designated_minutes is None
    assert all(s.speakers.exists() for s in cme)
    assert Speaker.objects.filter(has_nothing_to_disclose=True).count() == 2
    assert Disclosure.objects.count() == 3
    assert not Speaker.objects.filter(has_nothing_to_disclose=True, disclosures__isnull=False)
    assert all(speaker.credentials and speaker.affiliation for speaker in Speaker.objects.all())


@pytest.mark.django_db
def test_seed_demo_designates_the_attainable_maximum_not_the_sum(machine_zone):
    seed()
    event = Event.objects.get()

    # 60+45+60+60+90+60 designated minutes in two tracks: one learner attends at most
    # 60 + 60 + 90 = 210 minutes (3.50), not 375 (6.25)
    assert dict(event.credits.values_list("credit_type", "designated_max")) == {
        "AMA_PRA_1": Decimal("3.50"),
        "ANCC": Decimal("3.50"),
        "PARTICIPATION": Decimal("3.50"),
    }
    assert attainable_credit(event).seconds == 210 * 60


@pytest.mark.django_db
def test_seed_demo_production_refused_without_force(machine_zone):
    with override_settings(PRODUCTION=True), pytest.raises(CommandError, match="--force"):
        seed()
    assert User.objects.count() == 0

    with override_settings(PRODUCTION=True):
        seed("--force")
    assert User.objects.count() == 8


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--password", "short"], "at least 8 characters"),
        (["--at", "yesterday-ish"], "ISO date and time"),
    ],
)
def test_seed_demo_bad_option_fails_clearly(args, message, machine_zone):
    with pytest.raises(CommandError, match=message):
        seed(*args)
    assert Event.objects.count() == 0


def test_seed_demo_command_line_uses_tz_variable(tmp_path):
    env = {
        **{k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}},
        "DJANGO_SETTINGS_MODULE": "conference.settings",
        "MEDVENUE_DATA_DIR": str(tmp_path),
        "TZ": "Asia/Kolkata",
    }

    def manage(*args):
        return subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )

    manage("migrate", "-v0")
    output = manage("seed_demo").stdout

    assert "Event time zone: Asia/Kolkata" in output
    assert "admin@medvenue.test" in output
    assert "Password for every login: medvenue-demo" in output
    assert (tmp_path / "medvenue.sqlite3").exists()


@pytest.mark.django_db
def test_seed_demo_if_empty_keeps_an_existing_demo(machine_zone):
    earlier = timezone.now()
    seed("--at", earlier.isoformat())
    Session.objects.filter(title__startswith="Opening plenary").update(title="Edited in admin")
    before = dump()

    output = seed("--if-empty", "--at", (earlier + dt.timedelta(hours=3)).isoformat())

    assert dump() == before
    assert "seed_demo --reset" in output


@pytest.mark.django_db
def test_seed_demo_if_empty_seeds_an_empty_database(machine_zone):
    seed("--if-empty")
    assert Session.objects.count() == 7


@pytest.mark.django_db(transaction=True)
def test_seed_demo_reset_starts_over(machine_zone):
    seed()
    Session.objects.filter(title__startswith="Opening plenary").update(title="Edited in admin")
    User.objects.create_user(email="someone@example.org", password="x" * 12)

    seed("--reset")

    assert not Session.objects.filter(title="Edited in admin").exists()
    assert Session.objects.filter(title__startswith="Opening plenary").count() == 1
    assert sorted(User.objects.values_list("email", flat=True)) == sorted(EMAILS)


@pytest.mark.django_db
def test_seed_demo_reset_refused_in_production(machine_zone, settings):
    seed()
    settings.PRODUCTION = True
    with pytest.raises(CommandError, match="Refusing to erase"):
        seed("--reset", "--force")
    assert Session.objects.count() == 7


@pytest.mark.django_db
def test_seed_demo_speaker_login_may_open_the_studio_of_the_session_on_now(machine_zone):
    from conference.services.media.stage import SPEAKER, studio_access

    seed("--at", timezone.now().isoformat())
    speaker = User.objects.get(email="speaker@medvenue.test")
    session = Session.objects.get(title="Lipid management: the guideline update in practice")
    assert list(session.speakers.values_list("user__email", flat=True)) == [speaker.email]
    assert studio_access(speaker, session).role == SPEAKER
