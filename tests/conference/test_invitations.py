"""Memberships by invitation: an owner invites an e-mail address, the person accepts while
signed in, and nothing before that gives access or tells the owner whether an account exists."""

import datetime as dt
import re

import pytest
from django.core import mail, signing
from django.template.defaultfilters import urlencode
from django.utils import timezone

from conference.models import MembershipRole, OrganizerInvitation, OrganizerMembership
from conference.services import memberships
from tests.factories import MembershipFactory, OrganizerFactory, ProfileFactory, UserFactory

pytestmark = pytest.mark.django_db


def inline_management(prefix: str, *, total: int, initial: int = 0) -> dict:
    return {
        f"{prefix}-TOTAL_FORMS": str(total),
        f"{prefix}-INITIAL_FORMS": str(initial),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }


def invite_through_admin(client, organizer, email: str, role: str = "cme"):
    members = list(organizer.memberships.order_by("pk"))
    data = {
        "name": organizer.name,
        "slug": organizer.slug,
        **inline_management("memberships", total=len(members), initial=len(members)),
        **inline_management("invitations", total=1),
        "invitations-0-email": email,
        "invitations-0-role": role,
        "invitations-0-organizer": organizer.pk,
    }
    for index, membership in enumerate(members):
        data[f"memberships-{index}-id"] = membership.pk
        data[f"memberships-{index}-organizer"] = organizer.pk
        data[f"memberships-{index}-role"] = membership.role
    return client.post(f"/admin/conference/organizer/{organizer.pk}/change/", data, follow=True)


@pytest.fixture
def organizer():
    return OrganizerFactory(name="Beta Society")


@pytest.fixture
def owner(organizer):
    return MembershipFactory(organizer=organizer, role=MembershipRole.OWNER).user


def link_in(message) -> str:
    return re.search(r"https?://\S+/invitations/\S+/", message.body).group(0)


def path_of(link: str) -> str:
    return "/" + link.split("/", 3)[3]


def test_owner_answer_is_the_same_whether_an_account_exists_or_not(
    client, organizer, owner, django_capture_on_commit_callbacks
):
    UserFactory(email="physician@example.org")
    client.force_login(owner)

    with django_capture_on_commit_callbacks(execute=True):
        known = invite_through_admin(client, organizer, "physician@example.org")
    with django_capture_on_commit_callbacks(execute=True):
        unknown = invite_through_admin(client, organizer, "nobody@example.org")

    def answer(response):
        return (response.status_code, [str(m) for m in response.context["messages"]])

    assert answer(known) == answer(unknown)
    assert answer(known)[0] == 200
    assert sorted(m.to[0] for m in mail.outbox) == ["nobody@example.org", "physician@example.org"]
    assert not OrganizerMembership.objects.filter(user__email="physician@example.org").exists()


def test_invited_person_has_no_access_until_they_accept(
    client, organizer, owner, django_capture_on_commit_callbacks
):
    invitee = UserFactory(email="physician@example.org", is_staff=True)
    ProfileFactory(user=invitee)
    client.force_login(owner)
    with django_capture_on_commit_callbacks(execute=True):
        invite_through_admin(client, organizer, "Physician@Example.org", role="content")
    link = link_in(mail.outbox[0])
    client.force_login(invitee)

    before = client.get("/admin/conference/organizer/")
    page = client.get(path_of(link))
    accepted = client.post(path_of(link))
    after = client.get("/admin/conference/organizer/")

    assert before.status_code == 403
    assert page.status_code == 200
    assert "Beta Society" in page.content.decode()
    assert accepted.status_code == 302
    assert after.status_code == 200
    membership = OrganizerMembership.objects.get(user=invitee)
    assert (membership.organizer, membership.role) == (organizer, MembershipRole.CONTENT_MANAGER)


def test_link_works_once(client, organizer, owner):
    invitee = UserFactory(email="nurse@example.org")
    invitation = memberships.invite_member(
        organizer, email=invitee.email, role="moderator", invited_by=owner, base_url="http://x"
    )
    path = memberships.invitation_path(invitation)
    client.force_login(invitee)

    first = client.post(path)
    second = client.post(path)

    assert first.status_code == 302
    assert second.status_code == 410
    assert "already been used" in second.content.decode()
    assert OrganizerMembership.objects.filter(user=invitee).count() == 1


def test_link_for_another_address_is_refused(client, organizer, owner):
    invitation = memberships.invite_member(
        organizer, email="someone@example.org", role="owner", invited_by=owner, base_url=""
    )
    intruder = UserFactory(email="intruder@example.org")
    client.force_login(intruder)

    response = client.post(memberships.invitation_path(invitation))

    assert response.status_code == 410
    assert "another e-mail address" in response.content.decode()
    assert not OrganizerMembership.objects.filter(user=intruder).exists()


def test_expired_link_is_refused(client, organizer, owner):
    invitee = UserFactory(email="late@example.org")
    invitation = memberships.invite_member(
        organizer, email=invitee.email, role="cme", invited_by=owner, base_url=""
    )
    OrganizerInvitation.objects.filter(pk=invitation.pk).update(
        expires_at=timezone.now() - dt.timedelta(seconds=1)
    )
    client.force_login(invitee)

    response = client.post(memberships.invitation_path(invitation))

    assert response.status_code == 410
    assert "expired" in response.content.decode()
    assert not OrganizerMembership.objects.filter(user=invitee).exists()


def test_forged_or_withdrawn_link_is_refused(client, organizer, owner):
    invitee = UserFactory(email="x@example.org")
    invitation = memberships.invite_member(
        organizer, email=invitee.email, role="owner", invited_by=owner, base_url=""
    )
    forged = signing.dumps(invitation.pk, salt="another-salt")
    path = memberships.invitation_path(invitation)
    memberships.withdraw_invitation(invitation)
    client.force_login(invitee)

    assert client.post(f"/invitations/{forged}/").status_code == 410
    assert client.post(path).status_code == 410
    assert not OrganizerMembership.objects.filter(user=invitee).exists()


def test_anonymous_visitor_is_sent_to_login(client, organizer, owner):
    invitation = memberships.invite_member(
        organizer, email="y@example.org", role="owner", invited_by=owner, base_url=""
    )
    path = memberships.invitation_path(invitation)

    response = client.get(path)

    assert response.status_code == 302
    assert response.url.startswith("/accounts/login/")


def test_email_is_sent_only_when_the_invitation_commits(
    organizer, owner, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        memberships.invite_member(
            organizer, email="z@example.org", role="owner", invited_by=owner, base_url=""
        )
    assert mail.outbox == []
    for callback in callbacks:
        callback()
    assert [m.to for m in mail.outbox] == [["z@example.org"]]


@pytest.mark.parametrize("role", ["cme", "content", "moderator"])
def test_only_owners_see_members_and_invitations(client, organizer, role):
    member = MembershipFactory(organizer=organizer, role=role).user
    memberships.invite_member(
        organizer, email="pending@example.org", role="owner", invited_by=None, base_url=""
    )
    client.force_login(member)

    response = client.get(f"/admin/conference/organizer/{organizer.pk}/change/")

    assert "pending@example.org" not in response.content.decode()
    if response.status_code == 200:
        assert response.context["inline_admin_formsets"] == []


def test_owner_sees_pending_invitation_and_withdraws_it(client, organizer, owner):
    memberships.invite_member(
        organizer, email="pending@example.org", role="cme", invited_by=owner, base_url=""
    )
    client.force_login(owner)

    page = client.get(f"/admin/conference/organizer/{organizer.pk}/change/")

    assert "pending@example.org" in page.content.decode()


def test_owner_changes_a_members_role(client, organizer, owner):
    member = MembershipFactory(organizer=organizer, role=MembershipRole.MODERATOR)
    client.force_login(owner)
    rows = list(organizer.memberships.order_by("pk"))
    data = {
        "name": organizer.name,
        "slug": organizer.slug,
        **inline_management("memberships", total=len(rows), initial=len(rows)),
        **inline_management("invitations", total=0),
    }
    for index, row in enumerate(rows):
        data[f"memberships-{index}-id"] = row.pk
        data[f"memberships-{index}-organizer"] = organizer.pk
        data[f"memberships-{index}-role"] = "cme" if row.pk == member.pk else row.role

    response = client.post(f"/admin/conference/organizer/{organizer.pk}/change/", data)

    assert response.status_code == 302
    member.refresh_from_db()
    assert member.role == MembershipRole.CME_COORDINATOR


def test_migration_turns_staff_into_owner():
    from importlib import import_module

    migration = import_module("conference.migrations.0011_membership_roles_invitations")
    organizer = OrganizerFactory()
    staff = MembershipFactory(organizer=organizer)
    moderator = MembershipFactory(organizer=organizer, role=MembershipRole.MODERATOR)
    OrganizerMembership.objects.filter(pk=staff.pk).update(role="staff")

    from django.apps import apps

    migration.staff_to_owner(apps, None)

    roles = dict(OrganizerMembership.objects.values_list("pk", "role"))
    assert roles == {staff.pk: "owner", moderator.pk: "moderator"}


def test_owner_cannot_remove_the_last_owner(client, organizer, owner):
    client.force_login(owner)
    membership = organizer.memberships.get()
    data = {
        "name": organizer.name,
        "slug": organizer.slug,
        **inline_management("memberships", total=1, initial=1),
        **inline_management("invitations", total=0),
        "memberships-0-id": membership.pk,
        "memberships-0-organizer": organizer.pk,
        "memberships-0-role": "moderator",
    }

    response = client.post(f"/admin/conference/organizer/{organizer.pk}/change/", data)

    formset = response.context["inline_admin_formsets"][0].formset
    assert formset.non_form_errors() == [
        "An organizer keeps at least one owner: invite the new owner first."
    ]
    membership.refresh_from_db()
    assert membership.role == MembershipRole.OWNER


def test_invited_person_without_account_signs_up_and_returns_to_the_link(client, organizer, owner):
    invitation = memberships.invite_member(
        organizer, email="new@example.org", role="content", invited_by=owner, base_url=""
    )
    path = memberships.invitation_path(invitation)
    login_page = client.get(client.get(path).url).content.decode()
    assert f"/accounts/signup/?next={urlencode(path)}" in login_page

    signed_up = client.post(
        f"/accounts/signup/?next={path}",
        {
            "email": "new@example.org",
            "legal_name": "New Person",
            "degree": "MD",
            "password1": "a-long-enough-passphrase-42",
            "password2": "a-long-enough-passphrase-42",
        },
    )
    accepted = client.post(path)

    assert signed_up.url == path
    assert accepted.status_code == 302
    assert OrganizerMembership.objects.get(user__email="new@example.org").role == "content"


def test_signup_ignores_a_next_address_on_another_site(client):
    response = client.post(
        "/accounts/signup/?next=https://evil.example/",
        {
            "email": "x2@example.org",
            "legal_name": "X",
            "degree": "MD",
            "password1": "a-long-enough-passphrase-42",
            "password2": "a-long-enough-passphrase-42",
        },
    )

    assert response.url == "/accounts/profile/"
