"""Organizer memberships by invitation.

An owner invites an e-mail address to a role; the e-mail (sent once the invitation is
committed) carries a signed link that expires after `INVITATION_DAYS` and works once. The
invited person opens it while signed in with that address and accepts; only then does a
membership exist. Inviting never looks up accounts, so the owner's answer is the same whether
an account uses the address or not.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from conference.models import MembershipRole, Organizer, OrganizerInvitation, OrganizerMembership
from conference.services.refusals import Refused

INVITATION_DAYS = 7
_SALT = "medvenue.organizer-invitation"
# roles that work in the admin (moderators only moderate in the halls)
ADMIN_ROLES = {
    MembershipRole.OWNER,
    MembershipRole.CME_COORDINATOR,
    MembershipRole.CONTENT_MANAGER,
}


class InvitationError(Refused):
    """An invitation link that cannot be used; the message is shown to the person. (code `invalid`)"""

    def __init__(self, message: str) -> None:
        super().__init__("invalid", message)


def invitation_token(invitation: OrganizerInvitation) -> str:
    return signing.dumps(invitation.pk, salt=_SALT, compress=False)


def invitation_path(invitation: OrganizerInvitation) -> str:
    return reverse("invitation", args=[invitation_token(invitation)])


def invite_member(
    organizer: Organizer, *, email: str, role: str, invited_by: User | None, base_url: str
) -> OrganizerInvitation:
    """Invite `email` to `role` at `organizer` and e-mail the link once committed.

    A pending invitation of the same address to the same organizer is replaced (its link stops
    working). Raises ValidationError for a malformed address or an unknown role."""
    email = email.strip().lower()
    validate_email(email)
    if role not in MembershipRole.values:
        raise ValidationError({"role": "Choose one of the roles."})
    with transaction.atomic():
        OrganizerInvitation.objects.filter(
            organizer=organizer, email=email, accepted_at__isnull=True
        ).delete()
        invitation = OrganizerInvitation.objects.create(
            organizer=organizer,
            email=email,
            role=role,
            invited_by=invited_by,
            expires_at=timezone.now() + timedelta(days=INVITATION_DAYS),
        )
        link = (settings.MEDVENUE_SITE_URL or base_url.rstrip("/")) + invitation_path(invitation)
        transaction.on_commit(lambda: send_invitation_email(invitation, link=link))
    return invitation


def withdraw_invitation(invitation: OrganizerInvitation) -> None:
    """A pending invitation's link stops working (accepted ones stay as the record)."""
    OrganizerInvitation.objects.filter(pk=invitation.pk, accepted_at__isnull=True).delete()


def send_invitation_email(invitation: OrganizerInvitation, *, link: str) -> None:
    context = {
        "organizer": invitation.organizer.name,
        "role": invitation.get_role_display(),
        "link": link,
        "days": INVITATION_DAYS,
    }
    send_mail(
        subject=f"You are invited to work for {invitation.organizer.name} on MedVenue",
        message=render_to_string("conference/invitation_email.txt", context),
        from_email=None,
        recipient_list=[invitation.email],
    )


def find_invitation(token: str) -> OrganizerInvitation:
    """The invitation a link names, if it can still be accepted; InvitationError otherwise."""
    try:
        pk = signing.loads(token, salt=_SALT, max_age=timedelta(days=INVITATION_DAYS))
    except signing.SignatureExpired:
        raise InvitationError("This invitation has expired; ask for a new one.") from None
    except signing.BadSignature:
        raise InvitationError("This invitation link is not valid.") from None
    invitation = (
        OrganizerInvitation.objects.select_related("organizer").filter(pk=pk).first()
        if isinstance(pk, int)
        else None
    )
    if invitation is None:
        raise InvitationError("This invitation was withdrawn or replaced by a newer one.")
    if invitation.accepted_at is not None:
        raise InvitationError("This invitation has already been used.")
    if invitation.expires_at <= timezone.now():
        raise InvitationError("This invitation has expired; ask for a new one.")
    return invitation


def check_addressee(invitation: OrganizerInvitation, user: User) -> None:
    if user.email.lower() != invitation.email.lower():
        raise InvitationError(
            "This invitation was sent to another e-mail address. Sign in with the account of "
            "the address that received it."
        )


def accept_invitation(token: str, user: User) -> OrganizerMembership:
    """Make `user` (signed in with the invited address) a member in the invited role."""
    with transaction.atomic():
        invitation = find_invitation(token)
        invitation = OrganizerInvitation.objects.select_for_update().get(pk=invitation.pk)
        if invitation.accepted_at is not None:
            raise InvitationError("This invitation has already been used.")
        check_addressee(invitation, user)
        membership, _ = OrganizerMembership.objects.update_or_create(
            organizer_id=invitation.organizer_id, user=user, defaults={"role": invitation.role}
        )
        invitation.accepted_at = timezone.now()
        invitation.accepted_by = user
        invitation.save(update_fields=["accepted_at", "accepted_by"])
        if invitation.role in ADMIN_ROLES and not user.is_staff:
            user.is_staff = True
            user.save(update_fields=["is_staff"])
    return membership
