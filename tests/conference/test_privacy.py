"""A person's complete data export and the erasure of their account (docs/privacy.md)."""

import io
import json
import zipfile

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.db.models import Q
from django.test import Client

from accounts.models import BoardCertification, ProfessionalProfile, StateLicense, User
from accounts.privacy import ERASED_NAME, erasure_plan, export_user_data, personal_tables
from conference.models import (
    AgendaFeed,
    AgendaReminder,
    AttendanceEvent,
    BackstageMessage,
    Certificate,
    ChatMessage,
    Claim,
    ClaimCorrection,
    CmeAuditEntry,
    EvaluationResponse,
    FavouriteSession,
    HallRemoval,
    IssuedCredential,
    LiveItem,
    MembershipRole,
    OrganizerInvitation,
    OrganizerMembership,
    Poll,
    PollVote,
    PostTestAttempt,
    Question,
    QuestionVote,
    Registration,
    RegistrationStatus,
    WatchProgress,
    WatchSpan,
)
from conference.services import posttests
from conference.services.cme.certificates import issue_certificate
from conference.services.cme.claims import claim_credit
from tests.factories import MembershipFactory, RegistrationFactory, SpeakerFactory, UserFactory
from tests.support.cme import attend, evaluate, learner, make_event
from tests.support.posttest import answers, make_test, ready_recording

pytestmark = pytest.mark.django_db

SECRET_NPI = "1234567893"
PASSWORD = "correct-horse-battery-staple"


class Person:
    """A physician with a row in every table that can hold a person's data."""

    def __init__(self):
        event, session = make_event()
        self.event, self.session = event, session
        user = learner(
            legal_name="Grace Brewster Hopper",
            given_name="Grace Brewster",
            family_name="Hopper-Secret",
            npi=SECRET_NPI,
            birth_month=12,
            birth_day=9,
            consent_share_with_boards=True,
        )
        user.set_password(PASSWORD)
        user.display_name = "Dr Grace"
        user.save()
        self.user = user
        profile = ProfessionalProfile.objects.get(user=user)
        StateLicense.objects.create(profile=profile, state="NY", number="LIC-GRACE-1")
        BoardCertification.objects.create(profile=profile, board="ABIM", board_id="ABIM-GRACE")
        self.registration = RegistrationFactory(event=event, user=user)
        attend(user, session, minutes=60)
        evaluate(user, event)
        self.claim = claim_credit(user, event, "AMA_PRA_1", amount="1.00", attested=True)
        self.certificate = issue_certificate(self.claim.pk)
        recording = ready_recording(session)
        recording.created_by = user
        recording.save(update_fields=["created_by"])
        ClaimCorrection.objects.create(
            claim=self.claim, credit="0.75", reason="left early", created_by=user
        )
        LogEntry.objects.create(
            user=user, object_repr="Cardiology", action_flag=CHANGE, change_message="[]"
        )
        WatchProgress.objects.create(recording=recording, user=user, position_seconds=30)
        WatchSpan.objects.create(recording=recording, user=user, start_seconds=0, end_seconds=30)
        test = make_test(event)
        posttests.submit_attempt(user, test, answers(test), number=1)
        question = Question.objects.create(
            session=session,
            author=user,
            author_name="Dr Grace",
            text="Grace asks",
            status="approved",
        )
        other = UserFactory()
        QuestionVote.objects.create(question=question, user=other)
        QuestionVote.objects.create(
            question=Question.objects.create(
                session=session, author=other, author_name="Other", text="x", status="approved"
            ),
            user=user,
        )
        ChatMessage.objects.create(
            hall=session.hall, author=user, author_name="Dr Grace", text="Grace chats"
        )
        LiveItem.objects.create(
            hall=session.hall,
            seq=1,
            event="chat.message",
            actor=user,
            data={"author": "Dr Grace", "text": "Grace chats"},
        )
        poll = Poll.objects.create(session=session, question="Which?", created_by=user)
        option = poll.options.create(text="A", order=0)
        PollVote.objects.create(poll=poll, option=option, user=user)
        HallRemoval.objects.create(
            hall=session.hall, user=user, until=session.ends_at, removed_by=other
        )
        LiveItem.objects.create(  # the moderators' note of that removal (docs/moderation.md)
            hall=session.hall,
            seq=2,
            event="hall.removal",
            actor=other,
            audience="moderators",
            data={"id": 1, "user": user.pk, "name": "Dr Grace", "reason": "", "removed_by": "Mo"},
        )
        self.membership = MembershipFactory(
            organizer=event.organizer, user=user, role=MembershipRole.CME_COORDINATOR
        )
        OrganizerInvitation.objects.create(
            organizer=event.organizer,
            email=user.email,
            role="owner",
            invited_by=user,
            expires_at=session.ends_at,
        )
        SpeakerFactory(event=event, user=user, name="Dr Grace Hopper")
        FavouriteSession.objects.create(user=user, session=session)
        BackstageMessage.objects.create(
            session=session, author=user, author_name="Dr Grace", text="Grace backstage"
        )
        AgendaFeed.objects.create(user=user, token="grace-secret-feed-token")
        AgendaReminder.objects.create(
            user=user, starts_at=session.starts_at, session_ids=[session.pk]
        )
        self.other = other


@pytest.fixture
def person(media_root):
    return Person()


def test_export_has_every_row_of_every_table_with_a_key_to_the_user(person):
    data = export_user_data(person.user)

    for model, keys in personal_tables():
        query = Q()
        for key in keys:
            query |= Q(**{key: person.user})
        rows = data["tables"][model._meta.label]
        assert len(rows) == model._default_manager.filter(query).count(), model._meta.label


# the kinds of data the issue names, each present in the fixture so the export is not vacuous
NAMED_TABLES = [
    "accounts.ProfessionalProfile",
    "accounts.StateLicense",
    "accounts.BoardCertification",
    "conference.Registration",
    "conference.Claim",
    "conference.Certificate",
    "conference.EvaluationResponse",
    "conference.EvaluationAnswer",
    "conference.PostTestAttempt",
    "conference.WatchProgress",
    "conference.WatchSpan",
    "conference.Question",
    "conference.ChatMessage",
    "conference.QuestionVote",
    "conference.PollVote",
    "conference.AttendanceEvent",
    "conference.OrganizerMembership",
    "conference.FavouriteSession",
    "conference.AgendaFeed",
    "conference.BackstageMessage",
]


def test_export_holds_each_kind_of_personal_data(person):
    tables = export_user_data(person.user)["tables"]

    assert [label for label in NAMED_TABLES if not tables.get(label)] == []


def test_export_includes_rows_that_belong_to_the_persons_rows(person):
    tables = export_user_data(person.user)["tables"]

    assert [row["number"] for row in tables["accounts.StateLicense"]] == ["LIC-GRACE-1"]
    assert [row["code"] for row in tables["conference.Certificate"]] == [person.certificate.code]
    assert len(tables["conference.EvaluationAnswer"]) == (
        EvaluationResponse.objects.get(user=person.user).answers.count()
    )
    assert len(tables["conference.AttendanceEvent"]) == (
        AttendanceEvent.objects.filter(user=person.user).count()
    )


def test_export_leaves_out_other_peoples_keys(person):
    tables = export_user_data(person.user)["tables"]

    removal = tables["conference.HallRemoval"][0]
    votes_on_my_question = [
        row for row in tables["conference.QuestionVote"] if row.get("user_id") is None
    ]
    assert "removed_by_id" not in removal
    assert votes_on_my_question == []
    assert person.other.email not in json.dumps(tables)


def test_export_zip_holds_the_json_and_the_certificate_pdf(client, person):
    client.force_login(person.user)

    response = client.get("/accounts/my-data/export.zip")

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    name = f"certificates/{person.certificate.code}-v{person.certificate.version}.pdf"
    credential = f"credentials/{person.certificate.code}-v{person.certificate.version}.jwt"
    assert sorted(archive.namelist()) == sorted(["my-data.json", name, credential])
    assert archive.read(name).startswith(b"%PDF")
    token = IssuedCredential.objects.get(certificate=person.certificate).token
    assert archive.read(credential).decode() == token
    data = json.loads(archive.read("my-data.json"))
    assert data["files"] == [name, credential]
    assert data["profile"]["npi"] == SECRET_NPI


def test_erase_page_shows_what_is_deleted_and_kept_with_reason_and_period(client, person):
    client.force_login(person.user)

    body = client.get("/accounts/my-data/erase/").content.decode()

    for item in erasure_plan()["retained"]:
        assert item.reason in body
        assert item.period in body
    assert "Certificates" in body
    assert "6 years after the activity" in body


def test_erase_with_wrong_password_changes_nothing(client, person):
    client.force_login(person.user)

    response = client.post("/accounts/my-data/erase/", {"password": "wrong", "confirm": "on"})

    assert response.status_code == 200
    assert "This is not your password." in response.content.decode()
    person.user.refresh_from_db()
    assert (person.user.is_active, person.user.display_name) == (True, "Dr Grace")


def test_erase_pseudonymises_keeps_accreditation_records_and_ends_sessions(client, person):
    other_device = Client()
    other_device.force_login(person.user)
    email = person.user.email
    client.force_login(person.user)
    claims_before = Claim.objects.filter(user=person.user).count()
    attendance_before = AttendanceEvent.objects.filter(user=person.user).count()

    response = client.post("/accounts/my-data/erase/", {"password": PASSWORD, "confirm": "on"})

    assert response.status_code == 200
    user = User.objects.get(pk=person.user.pk)
    profile = ProfessionalProfile.objects.get(user=user)
    assert (user.is_active, user.display_name, user.has_usable_password()) == (
        False,
        ERASED_NAME,
        False,
    )
    assert user.email == f"erased-{user.pk}@erased.invalid"
    assert (
        profile.legal_name,
        profile.given_name,
        profile.family_name,
        profile.npi,
        profile.birth_month,
        profile.birth_day,
    ) == (ERASED_NAME, "", "", "", None, None)
    assert not StateLicense.objects.filter(profile=profile).exists()
    assert not BoardCertification.objects.filter(profile=profile).exists()
    assert not OrganizerMembership.objects.filter(user=user).exists()
    assert not OrganizerInvitation.objects.filter(email__iexact=email).exists()
    assert not WatchProgress.objects.filter(user=user).exists()
    assert not FavouriteSession.objects.filter(user=user).exists()
    assert not AgendaFeed.objects.filter(user=user).exists()
    assert not AgendaReminder.objects.filter(user=user).exists()
    assert Registration.objects.get(pk=person.registration.pk).status == (
        RegistrationStatus.CANCELLED
    )
    assert list(
        Question.objects.filter(text="Grace asks").values_list("author", "author_name")
    ) == [(None, ERASED_NAME)]
    assert LiveItem.objects.get(event="chat.message").data["author"] == ERASED_NAME
    assert LiveItem.objects.get(event="hall.removal").data["name"] == ERASED_NAME
    assert list(BackstageMessage.objects.values_list("author", "author_name")) == [
        (None, ERASED_NAME)
    ]
    # kept for accreditation
    assert Claim.objects.filter(user=user).count() == claims_before == 1
    assert AttendanceEvent.objects.filter(user=user).count() == attendance_before
    assert Certificate.objects.filter(claim__user=user).count() == 1
    assert PostTestAttempt.objects.filter(user=user).count() == 1
    assert WatchSpan.objects.filter(user=user).count() == 1
    assert CmeAuditEntry.objects.filter(event=person.event).exists()
    # signed out everywhere, and no sign-in
    assert other_device.get("/accounts/profile/").status_code == 302
    assert client.get("/accounts/profile/").status_code == 302
    assert not Client().login(email=email, password=PASSWORD)
    tables = export_user_data(user)["tables"]
    for secret in (SECRET_NPI, "LIC-GRACE-1", "ABIM-GRACE", "Hopper-Secret", email):
        assert secret not in json.dumps(tables)
    # the name stays only where it was printed: on the certificate
    named = [label for label, rows in tables.items() if "Grace Brewster Hopper" in json.dumps(rows)]
    assert named == ["conference.Certificate"]


def test_certificate_stays_verifiable_after_erasure(client, person):
    client.force_login(person.user)
    client.post("/accounts/my-data/erase/", {"password": PASSWORD, "confirm": "on"})

    response = Client().get(f"/verify/{person.certificate.code}/?format=json")

    assert response.status_code == 200
    assert response.json()["status"] == "valid"


def test_organizer_sees_an_erased_learner(client, person):
    person_client = Client()
    person_client.force_login(person.user)
    person_client.post("/accounts/my-data/erase/", {"password": PASSWORD, "confirm": "on"})
    owner = MembershipFactory(organizer=person.event.organizer, role=MembershipRole.OWNER).user
    client.force_login(owner)

    claims = client.get("/admin/conference/claim/").content.decode()
    registrations = client.get("/admin/conference/registration/").content.decode()

    assert ERASED_NAME in registrations
    assert f"erased-{person.user.pk}@erased.invalid" in claims
    for page in (claims, registrations):
        assert "Grace Brewster Hopper" not in page
        assert "Dr Grace" not in page
