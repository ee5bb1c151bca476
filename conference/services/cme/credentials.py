"""Open Badges 3.0 verifiable credentials for CME certificates (docs/cme-claims.md,
"Verifiable credential").

Every issued certificate version gets an `OpenBadgeCredential` (W3C VC Data Model 2.0 with the
Open Badges 3.0 context) secured as a VC-JWT: a compact JWS, `alg` EdDSA over Ed25519, signed
with its organizer's key (joserfc, over `cryptography`). The organizer's public keys are
published as a JWKS, one JWK per key URL (the `kid` of the JOSE header) and a did:web document;
revocation and supersession are two W3C Bitstring Status Lists per organizer, served signed.

Private keys are generated on demand per organizer, stored encrypted (Fernet, key derived from
`CME_CREDENTIAL_KEY_SECRET`, default `SECRET_KEY`) and never leave this module. A rotated key
is retired, not deleted: it stays in the JWKS and the DID document.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import hmac
import json
import uuid
import warnings
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import Any
from urllib.parse import quote, urlsplit

from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.urls import reverse
from django.utils import timezone
from joserfc import jws
from joserfc.jwk import OKPKey

from accounts.models import User
from conference.credit.rules import PRESETS
from conference.models import (
    Certificate,
    CertificateStatus,
    CmeAuditEntry,
    EventCredit,
    IssuedCredential,
    IssuerKey,
    Organizer,
)
from conference.services.cme.printed import certificate_data
from conference.services.cme.site import site_url

CONTEXT = [
    "https://www.w3.org/ns/credentials/v2",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
]
ALGORITHM = "EdDSA"
# A status list holds 131,072 entries (16 KiB uncompressed), the minimum the Bitstring Status
# List recommendation sets for group privacy; index N lives in list N // LIST_SIZE.
LIST_SIZE = 131_072
MAX_LISTS = 10_000  # list numbers above this are refused (404) before any query
# URL segment -> statusPurpose of the list.
STATUS_LISTS = {"revocation": "revocation", "supersession": "message"}
SUPERSESSION_MESSAGES = [
    {"status": "0x0", "message": "current version of the certificate"},
    {"status": "0x1", "message": "superseded by a newer version of the certificate"},
]
STATUS_LIST_VALIDITY = timedelta(hours=1)
CREDENTIAL_STATUSES = (
    CertificateStatus.ISSUED,
    CertificateStatus.SUPERSEDED,
    CertificateStatus.REVOKED,
)


class CredentialUnavailable(Exception):
    """The certificate version has no credential and none may be issued (not issued yet)."""


# Keys ----------------------------------------------------------------------------------------


def _fernet() -> Fernet:
    secret = getattr(settings, "CME_CREDENTIAL_KEY_SECRET", "") or settings.SECRET_KEY
    derived = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"medvenue credential signing keys"
    ).derive(secret.encode())
    return Fernet(base64.urlsafe_b64encode(derived))


def _new_key(organizer: Organizer) -> IssuerKey:
    private = OKPKey.generate_key("Ed25519")
    public = private.as_dict(private=False)
    return IssuerKey.objects.create(
        organizer=organizer,
        thumbprint=private.thumbprint(),
        public_x=str(public["x"]),
        private_encrypted=_fernet().encrypt(private.as_pem(private=True)),
    )


def active_key(organizer: Organizer) -> IssuerKey:
    """The organizer's signing key, generated on first use (one active key per organizer: two
    first uses at once keep the one that committed first)."""
    key = IssuerKey.objects.filter(organizer=organizer, retired_at__isnull=True).first()
    if key is not None:
        return key
    try:
        with transaction.atomic():
            return _new_key(organizer)
    except IntegrityError:
        return IssuerKey.objects.get(organizer=organizer, retired_at__isnull=True)


def rotate_key(organizer: Organizer, *, actor: User | None = None) -> IssuerKey:
    """Retire the active key (it stays published, its credentials keep verifying) and make a
    new one for the credentials issued from now on."""
    with transaction.atomic():
        Organizer.objects.select_for_update().get(pk=organizer.pk)
        retired = list(
            IssuerKey.objects.filter(organizer=organizer, retired_at__isnull=True).values_list(
                "thumbprint", flat=True
            )
        )
        IssuerKey.objects.filter(organizer=organizer, retired_at__isnull=True).update(
            retired_at=timezone.now()
        )
        key = _new_key(organizer)
        CmeAuditEntry.objects.create(
            actor=actor if getattr(actor, "is_authenticated", False) else None,
            action="credential.key_rotated",
            object_type="Organizer",
            object_id=organizer.pk,
            detail={"retired": retired, "new": key.thumbprint},
        )
    return key


def _private_key(key: IssuerKey) -> OKPKey:
    return OKPKey.import_key(_fernet().decrypt(bytes(key.private_encrypted)))


# Addresses -----------------------------------------------------------------------------------


@lru_cache(maxsize=4096)
def _absolute(base: str, name: str, **kwargs: str) -> str:
    return base.rstrip("/") + reverse(name, kwargs=kwargs)


def issuer_did(base: str, organizer: Organizer) -> str:
    """did:web of the organizer: resolves to <base>/issuers/<slug>/did.json (did:web encodes
    a port's colon as %3A)."""
    host = quote(urlsplit(base).netloc, safe="")
    return f"did:web:{host}:issuers:{organizer.slug}"


def key_url(base: str, key: IssuerKey) -> str:
    """The JOSE `kid`: an HTTP URL that dereferences to the key's public JWK."""
    return _absolute(
        base, "credential-key", organizer_slug=key.organizer.slug, thumbprint=key.thumbprint
    )


def status_list_url(base: str, organizer: Organizer, segment: str, number: int) -> str:
    return _absolute(
        base, "credential-status", organizer_slug=organizer.slug, purpose=segment, number=number
    )


def public_jwk(base: str, key: IssuerKey) -> dict[str, Any]:
    return {
        "kty": "OKP",
        "crv": "Ed25519",
        "x": key.public_x,
        "kid": key_url(base, key),
        "use": "sig",
        "alg": ALGORITHM,
    }


def published_keys(organizer: Organizer) -> list[IssuerKey]:
    """Every key of the organizer, retired ones included (their credentials stay valid)."""
    return list(IssuerKey.objects.filter(organizer=organizer).select_related("organizer"))


def jwks(base: str, organizer: Organizer) -> dict[str, Any]:
    return {"keys": [public_jwk(base, key) for key in published_keys(organizer)]}


def did_document(base: str, organizer: Organizer) -> dict[str, Any]:
    did = issuer_did(base, organizer)
    methods = []
    for key in published_keys(organizer):
        jwk = public_jwk(base, key)
        jwk.pop("kid")
        methods.append(
            {
                "id": f"{did}#{key.thumbprint}",
                "type": "JsonWebKey",
                "controller": did,
                "publicKeyJwk": jwk,
            }
        )
    return {
        "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/jwk/v1"],
        "id": did,
        "alsoKnownAs": [_absolute(base, "credential-jwks", organizer_slug=organizer.slug)],
        "verificationMethod": methods,
        "assertionMethod": [method["id"] for method in methods],
    }


# Signing -------------------------------------------------------------------------------------


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _timestamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _sign(base: str, key: IssuerKey, payload: dict[str, Any], private: OKPKey | None = None) -> str:
    """A compact JWS whose JOSE header has exactly alg, kid and typ (OB 3.0, 8.2.4.1)."""
    header = {"alg": ALGORITHM, "kid": key_url(base, key), "typ": "JWT"}
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
    with warnings.catch_warnings():
        # RFC 9864 prefers the fully specified "Ed25519"; OB 3.0 verifiers know "EdDSA".
        warnings.filterwarnings("ignore", message="EdDSA is deprecated")
        return jws.serialize_compact(
            header, body, private or _private_key(key), algorithms=[ALGORITHM]
        )


def _subject_id(organizer: Organizer, user_id: int) -> str:
    """A stable, opaque id of the learner at this organizer (the same in all its credentials,
    not derivable from MedVenue's user id without the server's secret)."""
    digest = hmac.new(
        settings.SECRET_KEY.encode(), f"learner:{organizer.pk}:{user_id}".encode(), hashlib.sha256
    ).digest()
    return uuid.UUID(bytes=digest[:16], version=4).urn


def _achievement_id(certificate: Certificate) -> str:
    claim = certificate.claim
    scope = f"enduring:{claim.enduring_id}" if claim.enduring_id else f"event:{claim.event_id}"
    return uuid.uuid5(uuid.NAMESPACE_URL, f"medvenue:{scope}:{claim.credit_type}").urn


def _float(value: Decimal) -> float:
    return float(format(value, ".2f"))


def credential_payload(
    certificate: Certificate,
    record: IssuedCredential,
    base: str,
    *,
    credits: dict[str, EventCredit] | None = None,
) -> dict[str, Any]:
    """The OpenBadgeCredential of a certificate version with the JWT claims (iss, jti, nbf,
    sub) that OB 3.0 requires of a VC-JWT. `credits` (type code -> EventCredit of the event)
    saves the queries when the caller has them."""
    claim = certificate.claim
    if credits is None and not claim.enduring_id:
        credits = {c.credit_type: c for c in claim.event.credits.all()}
    data = certificate_data(certificate, credits=None if claim.enduring_id else credits)
    organizer = claim.event.organizer
    did = issuer_did(base, organizer)
    valid_from = record.issued_at.replace(microsecond=0)
    subject_id = _subject_id(organizer, claim.user_id)
    rule = PRESETS[claim.credit_type]
    activity = "enduring material" if data.enduring else "live activity"
    dates = f"{data.start_date.isoformat()} to {data.end_date.isoformat()}"
    degree = f", {data.degree}" if data.degree else ""
    status: list[dict[str, object]] = []
    for segment, purpose in STATUS_LISTS.items():
        number = record.status_index // LIST_SIZE
        entry: dict[str, object] = {
            "id": f"{status_list_url(base, organizer, segment, number)}#{record.status_index}",
            "type": "BitstringStatusListEntry",
            "statusPurpose": purpose,
            "statusListIndex": str(record.status_index),
            "statusListCredential": status_list_url(base, organizer, segment, number),
        }
        if purpose == "message":
            entry.update(statusSize=1, statusMessage=SUPERSESSION_MESSAGES)
        status.append(entry)
    credential: dict[str, Any] = {
        "@context": CONTEXT,
        "id": record.uuid.urn,
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": f"{rule.name}: {data.activity_title}",
        "issuer": {
            "id": did,
            "type": ["Profile"],
            "name": data.provider,
            "url": organizer.website or base.rstrip("/") + "/",
        },
        "validFrom": _timestamp(valid_from),
        "credentialSubject": {
            "id": subject_id,
            "type": ["AchievementSubject"],
            "identifier": [
                {
                    "type": "IdentityObject",
                    "identityType": "name",
                    "hashed": False,
                    "identityHash": data.learner_name,
                }
            ],
            "creditsEarned": _float(certificate.credit),
            "narrative": (
                f"{data.learner_name}{degree} claimed {certificate.credit:.2f} {rule.name} "
                f"for the {activity} “{data.activity_title}” ({dates}). Certificate "
                f"{certificate.code}, version {certificate.version}."
            ),
            "achievement": {
                "id": _achievement_id(certificate),
                "type": ["Achievement"],
                "achievementType": "CertificateOfCompletion",
                "name": f"{rule.name}: {data.activity_title}",
                "description": data.designation_statement,
                "criteria": {
                    "narrative": (
                        "Participation in the accredited activity, verified by attendance "
                        "records, the completed evaluation and the learner's attestation; "
                        "credit commensurate with the extent of participation. "
                        + data.accreditation_statement
                    )
                },
                "creditsAvailable": _float(data.designated_max),
                "fieldOfStudy": "Continuing medical education",
                "creator": {"id": did, "type": ["Profile"], "name": data.provider},
            },
        },
        "evidence": [
            {
                "id": certificate.verify_url,
                "type": ["Evidence"],
                "name": f"Certificate {certificate.code}, version {certificate.version}",
                "description": "The certificate's public verification page.",
            }
        ],
        "credentialStatus": status,
    }
    number_text = _activity_number(certificate, credits)
    if number_text:
        credential["credentialSubject"]["achievement"]["humanCode"] = number_text
    return {
        **credential,
        "iss": did,
        "jti": credential["id"],
        "nbf": int(valid_from.timestamp()),
        "sub": subject_id,
    }


def _activity_number(certificate: Certificate, credits: dict[str, Any] | None) -> str:
    claim = certificate.claim
    if claim.enduring is not None:
        credit = claim.enduring.credits.filter(credit_type=claim.credit_type).first()
    else:
        credit = (credits or {}).get(claim.credit_type)
    return credit.activity_number if credit else ""


def ensure_credentials(certificates: Iterable[Certificate]) -> list[IssuedCredential]:
    """Issue the credential of each issued certificate version that has none yet; returns the
    credentials of the given versions. Status list positions are allocated per organizer under
    a lock on the organizer row."""
    wanted = [c for c in certificates if c.status in CREDENTIAL_STATUSES and c.issued_at]
    existing = {
        r.certificate_id: r
        for r in IssuedCredential.objects.filter(certificate__in=[c.pk for c in wanted])
    }
    missing = [c for c in wanted if c.pk not in existing]
    by_organizer: dict[int, list[Certificate]] = {}
    for certificate in missing:
        by_organizer.setdefault(certificate.claim.event.organizer_id, []).append(certificate)
    credits: dict[int, dict[str, EventCredit]] = {}
    for credit in EventCredit.objects.filter(event_id__in={c.claim.event_id for c in missing}):
        credits.setdefault(credit.event_id, {})[credit.credit_type] = credit
    for organizer_id, group in by_organizer.items():
        with transaction.atomic():
            organizer = Organizer.objects.select_for_update().get(pk=organizer_id)
            taken = set(
                IssuedCredential.objects.filter(certificate__in=[c.pk for c in group]).values_list(
                    "certificate_id", flat=True
                )
            )
            key = active_key(organizer)
            key.organizer = organizer
            top = IssuedCredential.objects.filter(organizer=organizer).aggregate(
                top=Max("status_index")
            )["top"]
            index = -1 if top is None else top
            private = _private_key(key)
            records = []
            base = site_url()
            for certificate in group:
                issued_at = certificate.issued_at
                if certificate.pk in taken or issued_at is None:
                    continue
                index += 1
                record = IssuedCredential(
                    certificate=certificate,
                    organizer=organizer,
                    key=key,
                    status_index=index,
                    issued_at=issued_at,
                )
                payload = credential_payload(
                    certificate, record, base, credits=credits.get(certificate.claim.event_id, {})
                )
                record.token = _sign(base, key, payload, private)
                records.append(record)
                existing[certificate.pk] = record
            IssuedCredential.objects.bulk_create(records)
    return [existing[c.pk] for c in wanted if c.pk in existing]


def credential_for(certificate: Certificate) -> IssuedCredential:
    """The certificate version's credential, issued on first request when the version was
    issued before credentials existed."""
    records = ensure_credentials([certificate])
    if not records:
        raise CredentialUnavailable("This certificate is not issued yet.")
    return records[0]


# Status lists --------------------------------------------------------------------------------


def encode_bits(positions: Iterable[int], size: int = LIST_SIZE) -> str:
    """Bitstring Status List `encodedList`: bit 0 is the most significant bit of the first
    byte; GZIP, then multibase base64url without padding ("u" prefix)."""
    bits = bytearray(size // 8)
    for position in positions:
        bits[position // 8] |= 0x80 >> (position % 8)
    return "u" + _b64(gzip.compress(bytes(bits), mtime=0))


def decode_bits(encoded: str) -> bytes:
    if not encoded.startswith("u"):
        raise ValueError("encodedList must be multibase base64url (prefix 'u')")
    data = encoded[1:]
    return gzip.decompress(base64.urlsafe_b64decode(data + "=" * (-len(data) % 4)))


def bit_at(bits: bytes, position: int) -> bool:
    return bool(bits[position // 8] & (0x80 >> (position % 8)))


def status_list_token(base: str, organizer: Organizer, segment: str, number: int) -> str:
    """The signed BitstringStatusListCredential (VC-JWT) of one list, as of now."""
    purpose = STATUS_LISTS[segment]
    flagged = CertificateStatus.REVOKED if segment == "revocation" else CertificateStatus.SUPERSEDED
    first = number * LIST_SIZE
    positions = [
        index - first
        for index in IssuedCredential.objects.filter(
            organizer=organizer,
            status_index__gte=first,
            status_index__lt=first + LIST_SIZE,
            certificate__status=flagged,
        ).values_list("status_index", flat=True)
    ]
    url = status_list_url(base, organizer, segment, number)
    did = issuer_did(base, organizer)
    now = timezone.now().replace(microsecond=0)
    until = now + STATUS_LIST_VALIDITY
    credential: dict[str, Any] = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "id": url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": did,
        "validFrom": _timestamp(now),
        "validUntil": _timestamp(until),
        "credentialSubject": {
            "id": f"{url}#list",
            "type": "BitstringStatusList",
            "statusPurpose": purpose,
            "encodedList": encode_bits(positions),
        },
    }
    key = active_key(organizer)
    key.organizer = organizer
    payload = {
        **credential,
        "iss": did,
        "jti": url,
        "nbf": int(now.timestamp()),
        "exp": int(until.timestamp()),
        "sub": credential["credentialSubject"]["id"],
    }
    return _sign(base, key, payload)
