"""Verify a MedVenue Open Badges 3.0 credential (VC-JWT) with third-party code only.

Needs Python 3.11+ and jwcrypto (`pip install jwcrypto`); nothing from MedVenue. Usage:

    python3 verify_credential.py credential-ABCDEFGHJK-v2.jwt
    python3 verify_credential.py credential.jwt --jwks jwks.json --status revocation.jwt \
        --status supersession.jwt        # offline: keys and status lists saved beforehand

Online, the keys come from the JWKS next to the header's `kid` and the status lists from each
`credentialStatus.statusListCredential`. Exit status 0: valid and current; 1: not valid
(bad signature, claims that do not match, revoked); 2: valid but superseded by a newer version.
"""

import argparse
import base64
import gzip
import json
import sys
import urllib.request
from datetime import UTC, datetime

from jwcrypto import jwk, jws


def b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def fetch(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - the issuer's URL
        return response.read().decode()


def verify(token: str, keys: jwk.JWKSet) -> dict:
    header = json.loads(b64decode(token.split(".")[0]))
    key = keys.get_key(header["kid"])
    if key is None:
        raise ValueError(f"key {header['kid']} is not published by the issuer")
    signed = jws.JWS()
    signed.deserialize(token)
    signed.verify(key, alg="EdDSA")  # raises on a bad signature
    return json.loads(signed.payload)


def check_claims(credential: dict) -> None:
    """OB 3.0, 8.2.6: iss, sub, jti and nbf must match the credential."""
    valid_from = datetime.fromisoformat(credential["validFrom"].replace("Z", "+00:00"))
    if credential["iss"] != credential["issuer"]["id"]:
        raise ValueError("iss does not match issuer.id")
    if credential["sub"] != credential["credentialSubject"]["id"]:
        raise ValueError("sub does not match credentialSubject.id")
    if credential["jti"] != credential["id"]:
        raise ValueError("jti does not match id")
    if credential["nbf"] != int(valid_from.timestamp()):
        raise ValueError("nbf does not match validFrom")
    if valid_from > datetime.now(UTC):
        raise ValueError("not valid yet")
    if "OpenBadgeCredential" not in credential["type"]:
        raise ValueError("not an OpenBadgeCredential")


def bit(encoded: str, index: int) -> bool:
    data = gzip.decompress(b64decode(encoded[1:]))  # multibase "u" + base64url(GZIP(bits))
    return bool(data[index // 8] >> (7 - index % 8) & 1)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("credential")
    parser.add_argument("--jwks", help="the issuer's JWKS saved as a file (offline)")
    parser.add_argument("--status", action="append", default=[], help="a saved status list")
    args = parser.parse_args()
    with open(args.credential) as stream:
        token = stream.read().strip()
    header = json.loads(b64decode(token.split(".")[0]))
    if args.jwks:
        with open(args.jwks) as stream:
            keys = jwk.JWKSet.from_json(stream.read())
    else:
        keys = jwk.JWKSet.from_json(fetch(header["kid"].rsplit("/keys/", 1)[0] + "/jwks.json"))
    credential = verify(token, keys)
    check_claims(credential)
    saved = {}
    for path in args.status:
        with open(path) as stream:
            status_token = stream.read().strip()
        saved[json.loads(b64decode(status_token.split(".")[1]))["id"]] = status_token
    result = 0
    for entry in credential.get("credentialStatus", []):
        url = entry["statusListCredential"]
        status = verify(saved.get(url) or fetch(url), keys)
        if status["iss"] != credential["iss"]:
            raise ValueError("status list of another issuer")
        until = datetime.fromisoformat(status["validUntil"].replace("Z", "+00:00"))
        if until < datetime.now(UTC):
            print(f"warning: status list {url} expired at {status['validUntil']}")
        subject = status["credentialSubject"]
        if bit(subject["encodedList"], int(entry["statusListIndex"])):
            if entry["statusPurpose"] == "revocation":
                print("REVOKED")
                return 1
            print("SUPERSEDED: " + entry["statusMessage"][1]["message"])
            result = 2
    subject = credential["credentialSubject"]
    print(
        "VALID" if result == 0 else "VALID SIGNATURE",
        json.dumps(
            {
                "issuer": credential["issuer"]["name"],
                "learner": subject["identifier"][0]["identityHash"],
                "achievement": subject["achievement"]["name"],
                "credits": subject["creditsEarned"],
                "validFrom": credential["validFrom"],
            },
            ensure_ascii=False,
        ),
    )
    return result


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Exception as error:  # a clear line, never a traceback, for a non-developer
        print(f"NOT VALID: {type(error).__name__}: {error}")
        sys.exit(1)
