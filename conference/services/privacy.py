"""The conference side of a person's export and erasure (`accounts.privacy`).

Erasure keeps what accreditation requires (CME.md "Reporting and records"): claims and their
corrections, certificates (the name as printed, credits, dates, code and PDF, so the public
verification page keeps answering) and their signed credentials, attendance events, watched spans of recordings, the
evaluations and post-test attempts a claim depended on, and the CME audit trail. Everything
else the person wrote or that names them is removed or pseudonymised.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import User
from accounts.privacy import ERASED_NAME, Retained, register_contributor
from conference.models import (
    AgendaFeed,
    AgendaReminder,
    BackstageMessage,
    Certificate,
    ChatMessage,
    FavouriteSession,
    HallRemoval,
    IssuedCredential,
    LiveItem,
    OrganizerInvitation,
    OrganizerMembership,
    Question,
    Registration,
    RegistrationStatus,
    Speaker,
    WatchProgress,
)
from conference.services import hall_events
from conference.services.cme.certificates import certificate_file

RETENTION_YEARS = 6
RETENTION = f"{RETENTION_YEARS} years after the activity"
RETAINED = [
    Retained(
        "CME claims and their corrections (credit, dates, degree, attestation)",
        "Accreditors (ACCME and the boards) audit the credit a provider awarded; the provider "
        "must be able to show who claimed what and why.",
        RETENTION,
    ),
    Retained(
        "Certificates: the name as printed, degree, credit, dates, verification code and PDF, "
        "and their signed Open Badges credentials (the same name, credit and dates)",
        "A certificate you handed to a board or employer must stay verifiable on its public "
        "verification page, and a credential you handed on must keep verifying against the "
        "keys and status lists the organizer publishes.",
        RETENTION,
    ),
    Retained(
        "Attendance (joins, heartbeats, leaves) and watched parts of recordings",
        "Credit is computed from attendance; the totals behind each claim must be reproducible "
        "in an audit.",
        RETENTION,
    ),
    Retained(
        "The CME audit trail (claims, corrections, reviews and certificates, append-only)",
        "Accreditation requires an append-only record of every change to awarded credit.",
        RETENTION,
    ),
    Retained(
        "Evaluations and post-test attempts that a claim depended on",
        "Completing the evaluation (and passing the post-test for recordings) is a condition "
        "of the credit awarded.",
        RETENTION,
    ),
]
ERASED = [
    "your registrations are cancelled; organizers see you as “Erased learner”",
    "your organizer memberships and invitations sent to your address",
    "your name on questions, chat and backstage messages (the text stays in the record, unnamed)",
    "where you stopped in recordings, removals from halls, and the link to any speaker entry",
    "your agenda (starred sessions), its calendar feed address and reminder e-mails",
]


class ConferencePrivacy:
    def files(self, user: User) -> Iterable[tuple[str, Path | bytes]]:
        certificates = Certificate.objects.filter(claim__user=user).order_by("pk")
        for certificate in certificates:
            path = certificate_file(certificate)
            if path is not None:
                yield f"certificates/{certificate.code}-v{certificate.version}.pdf", path
        credentials = IssuedCredential.objects.filter(certificate__claim__user=user).order_by(
            "certificate_id"
        )
        for record in credentials.select_related("certificate"):
            certificate = record.certificate
            name = f"credentials/{certificate.code}-v{certificate.version}.jwt"
            yield name, record.token.encode()

    def retained(self) -> list[Retained]:
        return RETAINED

    def erased(self) -> list[str]:
        return ERASED

    def erase(self, user: User) -> None:
        Registration.objects.filter(user=user, status=RegistrationStatus.ACTIVE).update(
            status=RegistrationStatus.CANCELLED, cancelled_at=timezone.now()
        )
        OrganizerMembership.objects.filter(user=user).delete()
        OrganizerInvitation.objects.filter(email__iexact=user.email).delete()
        WatchProgress.objects.filter(user=user).delete()
        FavouriteSession.objects.filter(user=user).delete()
        AgendaFeed.objects.filter(user=user).delete()
        AgendaReminder.objects.filter(user=user).delete()
        HallRemoval.objects.filter(user=user).delete()
        Speaker.objects.filter(user=user).update(user=None)
        Question.objects.filter(author=user).update(author=None, author_name=ERASED_NAME)
        ChatMessage.objects.filter(author=user).update(author=None, author_name=ERASED_NAME)
        BackstageMessage.objects.filter(author=user).update(author=None, author_name=ERASED_NAME)
        for item in LiveItem.objects.filter(actor=user).only("pk", "data"):
            if isinstance(item.data, dict) and "author" in item.data:
                item.data = {**item.data, "author": ERASED_NAME}
                item.save(update_fields=["data"])
        # The hall moderators' notes of removals name the removed person and the moderators.
        public_name = user.public_name
        for item in LiveItem.objects.filter(event="hall.removal").filter(
            Q(data__user=user.pk) | Q(actor=user)
        ):
            data = dict(item.data)
            if data.get("user") == user.pk:
                data["name"] = ERASED_NAME
            for key in ("removed_by", "lifted_by"):
                if item.actor_id == user.pk and data.get(key) == public_name:
                    data[key] = ERASED_NAME
            item.data = data
            item.save(update_fields=["data"])
        LiveItem.objects.filter(actor=user).update(actor=None)
        user_id = user.pk
        transaction.on_commit(lambda: hall_events.close_user_sockets(user_id))


def register() -> None:
    register_contributor(ConferencePrivacy())
