"""Open Badges 3.0 verifiable credentials: a downloaded credential verifies with an independent
JOSE library (jwcrypto) against the organizer's JWKS fetched over HTTP from the running server;
a tampered one does not; revocation and supersession show in the signed status lists; rotated
keys stay published."""

import base64
import gzip
import json
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from jwcrypto import jwk, jws
from jwcrypto.common import JWException

from accounts.models import ProfessionalProfile
from conference.models import CertificateStatus, IssuedCredential, IssuerKey
from conference.services.cme import credentials
from conference.services.cme.certificates import (
    issue_certificate,
    queue_certificate,
    revoke_certificate,
)
from conference.services.cme.claims import claim_credit
from tests.support.cme import attend, evaluate, learner, make_event

OB3_CONTEXT = [
    "https://www.w3.org/ns/credentials/v2",
    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
]


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _parts(token: str) -> tuple[dict, dict]:
    header, payload, _ = token.split(".")
    return json.loads(_b64decode(header)), json.loads(_b64decode(payload))


def _fetch_keys(url: str) -> jwk.JWKSet:
    response = requests.get(url, timeout=10)
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    for key in response.json()["keys"]:
        assert "d" not in key  # never the private key
    return jwk.JWKSet.from_json(response.text)


def _verify(token: str, keys: jwk.JWKSet) -> dict:
    """Verify as a third party would: pick the key by the header's kid, check the EdDSA
    signature with jwcrypto (not the library that signed it)."""
    header, _ = _parts(token)
    key = keys.get_key(header["kid"])
    assert key is not None, f"kid {header['kid']} is not in the published JWKS"
    signed = jws.JWS()
    signed.deserialize(token)
    signed.verify(key, alg="EdDSA")
    return json.loads(signed.payload)


def _bit(encoded: str, index: int) -> bool:
    """Bitstring Status List decoding written independently of the service."""
    assert encoded[0] == "u"
    bits = gzip.decompress(_b64decode(encoded[1:]))
    assert len(bits) * 8 >= 131_072
    return bool(bits[index // 8] >> (7 - index % 8) & 1)


def _claim(live_server, settings, legal_name="Grace Hopper"):
    settings.MEDVENUE_SITE_URL = live_server.url
    event, session = make_event()
    user = learner(legal_name=legal_name)
    attend(user, session, minutes=60)
    evaluate(user, event)
    claim = claim_credit(user, event, "AMA_PRA_1", amount="1.00", attested=True)
    certificate = issue_certificate(claim.pk)
    assert certificate.status == CertificateStatus.ISSUED
    return claim, certificate


def _download(client, user, certificate) -> str:
    client.force_login(user)
    response = client.get(f"/cme/certificates/{certificate.pk}/credential.jwt")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/jwt")
    assert (
        f"credential-{certificate.code}-v{certificate.version}.jwt"
        in (response["Content-Disposition"])
    )
    return response.content.decode()


def _status(url: str, keys: jwk.JWKSet) -> dict:
    response = requests.get(url, timeout=10)
    assert response.status_code == 200
    payload = _verify(response.text, keys)
    assert payload["type"] == ["VerifiableCredential", "BitstringStatusListCredential"]
    return payload


@pytest.mark.django_db(transaction=True)
def test_downloaded_credential_verifies_against_the_published_jwks(
    live_server, settings, client, media_root
):
    claim, certificate = _claim(live_server, settings)
    organizer = claim.event.organizer

    token = _download(client, claim.user, certificate)
    header, _ = _parts(token)
    assert set(header) == {"alg", "kid", "typ"}  # OB 3.0: no other JOSE headers
    assert header["alg"] == "EdDSA" and header["typ"] == "JWT"
    assert header["kid"].startswith(f"{live_server.url}/issuers/{organizer.slug}/keys/")

    keys = _fetch_keys(f"{live_server.url}/issuers/{organizer.slug}/jwks.json")
    credential = _verify(token, keys)

    # The kid itself dereferences to the same public JWK.
    single = requests.get(header["kid"], timeout=10).json()
    assert single["x"] == keys.get_key(header["kid"]).export_public(as_dict=True)["x"]
    # Open Badges 3.0 required structure and the VC-JWT claims that mirror it.
    assert credential["@context"] == OB3_CONTEXT
    assert credential["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    assert credential["issuer"]["type"] == ["Profile"]
    assert credential["issuer"]["name"] == "Society of Test Medicine"
    assert credential["iss"] == credential["issuer"]["id"]
    assert credential["iss"].startswith("did:web:")
    assert credential["jti"] == credential["id"] and credential["id"].startswith("urn:uuid:")
    subject = credential["credentialSubject"]
    assert credential["sub"] == subject["id"]
    assert subject["type"] == ["AchievementSubject"]
    assert subject["identifier"][0]["identityHash"] == "Grace Hopper"
    assert subject["creditsEarned"] == 1.0
    achievement = subject["achievement"]
    assert achievement["type"] == ["Achievement"]
    assert achievement["creditsAvailable"] == 1.0
    assert "designates this live activity for a maximum of 1.00" in achievement["description"]
    assert achievement["criteria"]["narrative"]
    valid_from = credential["validFrom"]
    assert valid_from.endswith("Z")
    assert credential["nbf"] == int(certificate.issued_at.replace(microsecond=0).timestamp())
    assert credential["evidence"][0]["id"] == certificate.verify_url
    purposes = {entry["statusPurpose"] for entry in credential["credentialStatus"]}
    assert purposes == {"revocation", "message"}

    # The did:web document publishes the same key.
    did = credential["iss"]
    assert did.endswith(f":issuers:{organizer.slug}")
    document = requests.get(f"{live_server.url}/issuers/{organizer.slug}/did.json", timeout=10)
    assert document.json()["id"] == did
    method = document.json()["verificationMethod"][0]
    assert method["publicKeyJwk"]["x"] == single["x"]
    assert "d" not in method["publicKeyJwk"]

    # Downloading again gives the same signed credential (stored, not re-signed).
    assert _download(client, claim.user, certificate) == token


@pytest.mark.django_db(transaction=True)
def test_tampered_credential_fails_verification(live_server, settings, client, media_root):
    claim, certificate = _claim(live_server, settings)
    token = _download(client, claim.user, certificate)
    keys = _fetch_keys(f"{live_server.url}/issuers/{claim.event.organizer.slug}/jwks.json")
    header, payload, signature = token.split(".")
    body = json.loads(_b64decode(payload))
    body["credentialSubject"]["creditsEarned"] = 25.0
    forged = base64.urlsafe_b64encode(json.dumps(body).encode()).rstrip(b"=").decode()

    with pytest.raises(JWException):
        _verify(f"{header}.{forged}.{signature}", keys)
    # A signature by another key under this kid fails too.
    other = jwk.JWK.generate(kty="OKP", crv="Ed25519")
    resigned = jws.JWS(_b64decode(payload))
    resigned.add_signature(other, protected=json.loads(_b64decode(header)))
    with pytest.raises(JWException):
        _verify(resigned.serialize(compact=True), keys)


@pytest.mark.django_db(transaction=True)
def test_supersession_and_revocation_show_in_the_status_lists(
    live_server, settings, client, media_root
):
    claim, first = _claim(live_server, settings)
    organizer = claim.event.organizer
    first_token = _download(client, claim.user, first)

    # A new version (the learner's name changed): version 1 is superseded.
    ProfessionalProfile.objects.filter(user=claim.user).update(legal_name="Grace B. Hopper")
    queue_certificate(claim)
    second = issue_certificate(claim.pk)
    first.refresh_from_db()
    assert (first.status, second.version) == (CertificateStatus.SUPERSEDED, 2)
    second_token = _download(client, claim.user, second)

    keys = _fetch_keys(f"{live_server.url}/issuers/{organizer.slug}/jwks.json")
    old, new = _verify(first_token, keys), _verify(second_token, keys)
    assert new["credentialSubject"]["identifier"][0]["identityHash"] == "Grace B. Hopper"

    def flags(credential) -> dict[str, bool]:
        result = {}
        for entry in credential["credentialStatus"]:
            assert entry["type"] == "BitstringStatusListEntry"
            status = _status(entry["statusListCredential"], keys)
            assert status["credentialSubject"]["statusPurpose"] == entry["statusPurpose"]
            assert status["iss"] == credential["iss"]
            encoded = status["credentialSubject"]["encodedList"]
            result[entry["statusPurpose"]] = _bit(encoded, int(entry["statusListIndex"]))
        return result

    assert flags(old) == {"revocation": False, "message": True}  # superseded
    assert flags(new) == {"revocation": False, "message": False}

    revoke_certificate(claim, reason="Attendance records were falsified.", actor=None)
    assert flags(new) == {"revocation": True, "message": False}
    assert flags(old) == {"revocation": False, "message": True}


@pytest.mark.django_db(transaction=True)
def test_rotation_keeps_old_keys_published(live_server, settings, client, media_root):
    claim, certificate = _claim(live_server, settings)
    organizer = claim.event.organizer
    old_token = _download(client, claim.user, certificate)
    old_key = IssuerKey.objects.get(organizer=organizer)

    new_key = credentials.rotate_key(organizer)
    ProfessionalProfile.objects.filter(user=claim.user).update(legal_name="Grace M. Hopper")
    queue_certificate(claim)
    second = issue_certificate(claim.pk)
    new_token = _download(client, claim.user, second)

    keys = _fetch_keys(f"{live_server.url}/issuers/{organizer.slug}/jwks.json")
    assert len(keys["keys"]) == 2
    _verify(old_token, keys)
    _verify(new_token, keys)
    assert _parts(old_token)[0]["kid"].endswith(old_key.thumbprint)
    assert _parts(new_token)[0]["kid"].endswith(new_key.thumbprint)
    old_key.refresh_from_db()
    assert old_key.retired_at is not None


@pytest.mark.django_db
def test_credential_only_for_the_learner_and_private_key_encrypted(client, media_root):
    event, session = make_event()
    user = learner()
    attend(user, session, minutes=60)
    evaluate(user, event)
    claim = claim_credit(user, event, "AMA_PRA_1", amount="1.00", attested=True)
    certificate = issue_certificate(claim.pk)
    assert IssuedCredential.objects.filter(certificate=certificate).exists()  # issued with it

    client.force_login(learner(legal_name="Mallory"))
    url = f"/cme/certificates/{certificate.pk}/credential.jwt"
    assert client.get(url).status_code == 404
    client.logout()
    assert client.get(url).status_code in (302, 404)

    key = IssuerKey.objects.get(organizer=event.organizer)
    stored = bytes(key.private_encrypted)
    assert b"PRIVATE KEY" not in stored  # encrypted at rest
    assert client.get(f"/issuers/{event.organizer.slug}/status/nonsense/0").status_code == 404
    assert client.get(f"/issuers/{event.organizer.slug}/status/revocation/9").status_code == 404
    assert client.get("/issuers/no-such-organizer/jwks.json").status_code == 404
    huge = f"/issuers/{event.organizer.slug}/status/revocation/{10**30}"
    assert client.get(huge).status_code == 404
    assert client.get(f"/issuers/{event.organizer.slug}/keys/{'x' * 500}").status_code == 404


@pytest.mark.django_db
def test_admin_rotates_own_organizers_key_only(client):
    from tests.factories import MembershipFactory

    mine, _ = make_event()
    theirs, _ = make_event()
    my_key = credentials.active_key(mine.organizer)
    their_key = credentials.active_key(theirs.organizer)
    client.force_login(MembershipFactory(organizer=mine.organizer).user)

    listing = client.get("/admin/conference/issuerkey/").content.decode()
    assert my_key.thumbprint in listing
    assert their_key.thumbprint not in listing
    assert "private" not in listing.lower()

    response = client.post(
        "/admin/conference/issuerkey/",
        {"action": "rotate", "_selected_action": [my_key.pk, their_key.pk]},
        follow=True,
    )
    assert response.status_code == 200
    assert IssuerKey.objects.filter(organizer=mine.organizer).count() == 2
    assert IssuerKey.objects.filter(organizer=theirs.organizer).count() == 1  # not theirs
    my_key.refresh_from_db()
    assert my_key.retired_at is not None


VERIFIER = Path(__file__).resolve().parents[2] / "docs" / "credentials" / "verify_credential.py"


def _run_verifier(*args) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(VERIFIER), *map(str, args)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.django_db(transaction=True)
def test_documented_verifier_online_and_offline(
    live_server, settings, client, media_root, tmp_path
):
    """The commands of docs/cme-claims.md: the standalone verifier (jwcrypto only) online,
    offline with saved keys and lists, on a tampered, a superseded and a revoked credential."""
    claim, first = _claim(live_server, settings, legal_name="Nguyễn Thị Minh Khai")
    slug = claim.event.organizer.slug
    first_file = tmp_path / "first.jwt"
    first_file.write_text(_download(client, claim.user, first))

    online = _run_verifier(first_file)
    assert online.returncode == 0, online.stdout + online.stderr
    assert online.stdout.startswith("VALID ")
    assert "Nguyễn Thị Minh Khai" in online.stdout

    header, payload, signature = first_file.read_text().split(".")
    body = json.loads(_b64decode(payload))
    body["credentialSubject"]["creditsEarned"] = 9.0
    forged = base64.urlsafe_b64encode(json.dumps(body).encode()).rstrip(b"=").decode()
    tampered = tmp_path / "tampered.jwt"
    tampered.write_text(f"{header}.{forged}.{signature}")
    result = _run_verifier(tampered)
    assert result.returncode == 1 and result.stdout.startswith("NOT VALID"), result.stdout

    ProfessionalProfile.objects.filter(user=claim.user).update(legal_name="Minh Khai Nguyễn")
    queue_certificate(claim)
    second = issue_certificate(claim.pk)
    second_file = tmp_path / "second.jwt"
    second_file.write_text(_download(client, claim.user, second))
    superseded = _run_verifier(first_file)
    assert superseded.returncode == 2, superseded.stdout
    assert "SUPERSEDED" in superseded.stdout

    # Offline: the keys and both status lists saved beforehand, then no server needed.
    (tmp_path / "jwks.json").write_text(
        requests.get(f"{live_server.url}/issuers/{slug}/jwks.json", timeout=10).text
    )
    saved = []
    for purpose in ("revocation", "supersession"):
        path = tmp_path / f"{purpose}.jwt"
        path.write_text(
            requests.get(f"{live_server.url}/issuers/{slug}/status/{purpose}/0", timeout=10).text
        )
        saved += ["--status", path]
    offline = _run_verifier(second_file, "--jwks", tmp_path / "jwks.json", *saved)
    assert offline.returncode == 0, offline.stdout

    revoke_certificate(claim, reason="Issued in error.", actor=None)
    revoked = _run_verifier(second_file)
    assert revoked.returncode == 1 and "REVOKED" in revoked.stdout
