"""The staff role matrix (docs/roles.md): every cell that says "no", through admin change
lists, change, add and delete pages, actions, exports and the API. The websocket cells are in
tests/live/test_member_roles.py.

One organizer holds a learner with every kind of personal and CME record, so that each "no"
below is checked against data that exists and that a "yes" role does see.
"""

import pytest

from accounts.models import BoardCertification, ProfessionalProfile, StateLicense
from conference.models import (
    Certificate,
    CmeAuditEntry,
    EvaluationForm,
    EventCredit,
    MembershipRole,
    Registration,
    RegistrationStatus,
)
from conference.services import posttests
from conference.services.cme.certificates import issue_certificate
from conference.services.cme.claims import claim_credit
from tests.factories import MembershipFactory, RegistrationFactory, SpeakerFactory, TrackFactory
from tests.support.cme import attend, evaluate, learner, make_event
from tests.support.posttest import answers, make_enduring, make_test, ready_recording

pytestmark = pytest.mark.django_db

SECRET_NPI = "1234567893"
SECRET_LICENSE = "LIC-SECRET-77"
ROLES = ["owner", "cme", "content", "moderator"]

# admin model -> (roles that view it, roles that change it)
CONTENT = ({"owner", "cme", "content"}, {"owner", "content"})
CME = ({"owner", "cme"}, {"owner", "cme"})
MATRIX = {
    "conference/organizer": ({"owner", "cme", "content"}, {"owner"}),
    "conference/event": CONTENT,
    "conference/track": CONTENT,
    "conference/session": CONTENT,
    "conference/speaker": CONTENT,
    "conference/recording": CONTENT,
    "venues/venue": CONTENT,
    "venues/hall": CONTENT,
    "conference/eventcredit": CME,
    "conference/evaluationform": CME,
    "conference/posttest": CME,
    "conference/enduringactivity": CME,
    "conference/claim": CME,
    "conference/certificate": ({"owner", "cme"}, set()),
    "conference/cmeauditentry": ({"owner", "cme"}, set()),
    "conference/posttestattempt": ({"owner", "cme"}, set()),
    "conference/registration": ({"owner", "cme"}, {"owner"}),
    "accounts/user": ({"owner", "cme"}, set()),
    "accounts/professionalprofile": ({"owner", "cme"}, set()),
}
# read-only record admins and the people admins have no add page for anyone but superusers
NO_ADD = {
    "conference/certificate",
    "conference/cmeauditentry",
    "conference/posttestattempt",
    "conference/registration",
    "conference/claim",
    "accounts/user",
    "accounts/professionalprofile",
    "conference/organizer",
}


class World:
    """Organizer A with an event that has everything, its members in each role, and a learner
    with identifiers that must not reach the roles that need no personal data."""

    def __init__(self):
        event, session = make_event()
        EventCredit.objects.filter(event=event).update(activity_number="202512345")
        self.event, self.session = event, session
        self.organizer = event.organizer
        self.hall = session.hall
        self.venue = self.hall.venue
        self.organizer.venues.add(self.venue)
        event.venue = self.venue
        event.save()
        self.track = TrackFactory(event=event)
        user = learner(
            legal_name="Grace Secret-Hopper",
            given_name="Grace",
            family_name="Secret-Hopper",
            npi=SECRET_NPI,
            birth_month=2,
            birth_day=29,
            consent_share_with_boards=True,
        )
        self.learner = user
        self.profile = ProfessionalProfile.objects.get(user=user)
        StateLicense.objects.create(profile=self.profile, state="CA", number=SECRET_LICENSE)
        BoardCertification.objects.create(profile=self.profile, board="ABIM", board_id="B-42")
        self.registration = RegistrationFactory(event=event, user=user)
        attend(user, session, minutes=60)
        evaluate(user, event)
        self.claim = claim_credit(user, event, "AMA_PRA_1", amount="1.00", attested=True)
        self.certificate = issue_certificate(self.claim.pk)
        self.speaker = SpeakerFactory(event=event, name="Dr Linked Speaker", user=user)
        self.recording = ready_recording(session)
        self.posttest = make_test(event)
        self.enduring = make_enduring(session, test=self.posttest)
        self.attempt, _ = posttests.submit_attempt(
            user, self.posttest, answers(self.posttest), number=1
        )
        self.members = {
            name: MembershipFactory(
                organizer=self.organizer, role=role, user__email=f"{name}@a.example"
            ).user
            for name, role in (
                ("owner", MembershipRole.OWNER),
                ("cme", MembershipRole.CME_COORDINATOR),
                ("content", MembershipRole.CONTENT_MANAGER),
                ("moderator", MembershipRole.MODERATOR),
            )
        }
        self.objects = {
            "conference/organizer": self.organizer,
            "conference/event": event,
            "conference/track": self.track,
            "conference/session": session,
            "conference/speaker": self.speaker,
            "conference/recording": self.recording,
            "venues/venue": self.venue,
            "venues/hall": self.hall,
            "conference/eventcredit": EventCredit.objects.get(event=event, credit_type="AMA_PRA_1"),
            "conference/evaluationform": EvaluationForm.objects.get(event=event),
            "conference/posttest": self.posttest,
            "conference/enduringactivity": self.enduring,
            "conference/claim": self.claim,
            "conference/certificate": Certificate.objects.get(claim=self.claim),
            "conference/cmeauditentry": CmeAuditEntry.objects.filter(event=event).first(),
            "conference/posttestattempt": self.attempt,
            "conference/registration": self.registration,
            "accounts/user": user,
            "accounts/professionalprofile": self.profile,
        }
        assert all(obj is not None for obj in self.objects.values())


@pytest.fixture
def world(media_root):
    return World()


def url(model: str, action: str = "changelist", pk=None) -> str:
    base = f"/admin/{model}/"
    if action in ("changelist", "add"):
        return base if action == "changelist" else f"{base}add/"
    return f"{base}{pk}/{action}/"


CELLS = [(model, role) for model in MATRIX for role in ROLES]


@pytest.mark.parametrize(("model", "role"), CELLS)
def test_changelist_and_change_page_follow_the_matrix(client, world, model, role):
    viewers, editors = MATRIX[model]
    obj = world.objects[model]
    client.force_login(world.members[role])

    listing = client.get(url(model))
    change = client.get(url(model, "change", obj.pk))

    if role in viewers:
        assert (listing.status_code, change.status_code) == (200, 200)
        assert list(listing.context["cl"].result_list) == [obj] or model in (
            "conference/cmeauditentry",
            "accounts/user",
            "conference/eventcredit",
        )
        assert change.context["has_change_permission"] is (role in editors)
    else:
        history = client.get(url(model, "history", obj.pk))
        assert listing.status_code == 403
        assert (change.status_code in (302, 403), history.status_code in (302, 403)) == (
            True,
            True,
        )
        assert str(obj).encode() not in change.content
        assert str(obj).encode() not in history.content


@pytest.mark.parametrize(("model", "role"), CELLS)
def test_add_and_delete_follow_the_matrix(client, world, model, role):
    _viewers, editors = MATRIX[model]
    obj = world.objects[model]
    model_class = type(obj)
    client.force_login(world.members[role])

    add = client.get(url(model, "add"))
    delete = client.post(url(model, "delete", obj.pk), {"post": "yes"})

    if role in editors and model not in NO_ADD:
        assert add.status_code == 200
    else:
        assert add.status_code == 403
    if role not in editors:
        assert delete.status_code in (302, 403)
        assert model_class.objects.filter(pk=obj.pk).exists()


def test_admin_index_of_moderator_lists_nothing(client, world):
    client.force_login(world.members["moderator"])

    response = client.get("/admin/")

    assert response.status_code == 200
    assert response.context["app_list"] == []


def test_admin_index_of_content_manager_lists_no_people_cme_or_registrations(client, world):
    client.force_login(world.members["content"])

    response = client.get("/admin/")

    names = {m["object_name"] for app in response.context["app_list"] for m in app["models"]}
    assert names == {
        "Event",
        "Hall",
        "MeetingRoom",  # the hosts of the layout's meeting rooms (docs/rooms.md)
        "Organizer",
        "Recording",
        "Session",
        "Speaker",
        "Track",
        "Venue",
    }


# Personal data: seen where the role needs it, nowhere else -----------------------------------


def test_cme_coordinator_sees_learner_cme_fields_but_not_account_internals(client, world):
    client.force_login(world.members["cme"])

    profile = client.get(url("accounts/professionalprofile", "change", world.profile.pk))
    account = client.get(url("accounts/user", "change", world.learner.pk))

    assert SECRET_NPI in profile.content.decode()
    shown = [
        field for fieldset in account.context["adminform"] for line in fieldset for field in line
    ]
    assert [field.field["name"] for field in shown] == [
        "email",
        "display_name",
        "is_active",
        "date_joined",
    ]


@pytest.mark.parametrize("role", ["content", "moderator"])
def test_roles_without_people_never_see_learner_identifiers(client, world, role):
    client.force_login(world.members[role])
    pages = [
        url(model)
        for model, (viewers, _editors) in MATRIX.items()
        if role in viewers or model.startswith("accounts/")
    ]
    pages += [url("conference/speaker", "change", world.speaker.pk), "/admin/"]

    for page in pages:
        body = client.get(page).content.decode()
        for secret in (SECRET_NPI, SECRET_LICENSE, world.learner.email, "Secret-Hopper"):
            assert secret not in body, (page, secret)


def test_owner_sees_the_learner_so_the_refusals_above_are_meaningful(client, world):
    client.force_login(world.members["owner"])

    listing = client.get(url("accounts/user")).content.decode()
    profile = client.get(url("accounts/professionalprofile", "change", world.profile.pk))
    speaker = client.get(url("conference/speaker", "change", world.speaker.pk)).content.decode()

    assert world.learner.email in listing
    assert SECRET_NPI in profile.content.decode()
    assert world.learner.email in speaker


def test_content_manager_saves_a_speaker_without_seeing_or_losing_its_account(client, world):
    client.force_login(world.members["content"])
    speaker = world.speaker
    data = {
        "event": speaker.event_id,
        "name": "Dr Renamed Speaker",
        "disclosures-TOTAL_FORMS": "0",
        "disclosures-INITIAL_FORMS": "0",
    }

    response = client.post(url("conference/speaker", "change", speaker.pk), data)

    assert response.status_code == 302
    speaker.refresh_from_db()
    assert (speaker.name, speaker.user_id) == ("Dr Renamed Speaker", world.learner.pk)


# Exports ------------------------------------------------------------------------------------

EXPORTS = ["pars", "pars_csv", "audit-pack", "attendance"]


def export_url(world, export: str) -> str:
    credit = world.objects["conference/eventcredit"]
    if export == "pars_csv":
        return url("conference/eventcredit", "pars", credit.pk) + "?download=csv"
    return url("conference/eventcredit", export, credit.pk)


@pytest.mark.parametrize("export", EXPORTS)
@pytest.mark.parametrize("role", ROLES)
def test_cme_exports_only_for_owner_and_cme_coordinator(client, world, role, export):
    client.force_login(world.members[role])

    response = client.get(export_url(world, export))

    if role in ("owner", "cme"):
        assert response.status_code == 200
        if export == "pars_csv":
            assert SECRET_NPI in response.content.decode()
    else:
        assert response.status_code in (302, 403)
        assert SECRET_NPI.encode() not in response.content
        assert b"PK\x03\x04" not in response.content[:4]


@pytest.mark.parametrize("role", ROLES)
def test_certificate_download_only_for_owner_and_cme_coordinator(client, world, role):
    client.force_login(world.members[role])

    response = client.get(f"/cme/certificates/{world.certificate.pk}/download/")

    assert response.status_code == (200 if role in ("owner", "cme") else 404)


@pytest.mark.parametrize("role", ["content", "moderator"])
def test_registrant_list_and_cancel_action_refused(client, world, role):
    client.force_login(world.members[role])

    listing = client.get(url("conference/registration"))
    action = client.post(
        url("conference/registration"),
        {"action": "cancel_selected", "_selected_action": [world.registration.pk]},
    )

    assert (listing.status_code, action.status_code) == (403, 403)
    world.registration.refresh_from_db()
    assert world.registration.status == RegistrationStatus.ACTIVE


def test_cme_coordinator_views_registrants_but_cannot_cancel_them(client, world):
    client.force_login(world.members["cme"])

    listing = client.get(url("conference/registration"))
    client.post(
        url("conference/registration"),
        {"action": "cancel_selected", "_selected_action": [world.registration.pk]},
    )

    assert world.learner.email in listing.content.decode()
    assert "cancel_selected" not in listing.content.decode()
    assert Registration.objects.get(pk=world.registration.pk).status == RegistrationStatus.ACTIVE


@pytest.mark.parametrize("role", ROLES)
def test_transcript_is_only_ever_the_callers_own(client, world, role):
    client.force_login(world.members[role])

    body = client.get("/cme/transcript.csv").content.decode()

    assert world.event.title not in body


# API ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_api_never_lists_another_persons_registrations(client, world, role):
    client.force_login(world.members[role])

    response = client.get("/api/me/registrations/")

    assert response.status_code == 200
    assert response.json()["results"] == []
