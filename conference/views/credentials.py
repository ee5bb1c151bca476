"""Verifiable credentials: the learner's download and the organizer's public keys and status
lists (docs/cme-claims.md, "Verifiable credential"). The public endpoints show public keys and
status bits only."""

from typing import TypeVar

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_GET

from conference.models import Certificate, IssuedCredential, IssuerKey, Organizer
from conference.services.cme import credentials
from conference.services.cme.certificates import may_download
from conference.services.cme.site import site_url

_Response = TypeVar("_Response", bound=HttpResponse)


def _public(response: _Response, *, max_age: int = 300) -> _Response:
    """Anyone may fetch keys and status lists, also from a verifier running in a browser."""
    response["Access-Control-Allow-Origin"] = "*"
    response["Cache-Control"] = f"public, max-age={max_age}"
    return response


def _organizer(slug: str) -> Organizer:
    return get_object_or_404(Organizer, slug=slug)


@require_GET
def download_credential(request: HttpRequest, certificate_id: int) -> HttpResponse:
    """The certificate version's Open Badges 3.0 credential (VC-JWT); only the learner and
    the organizer's CME staff, like the PDF; anyone else gets "not found"."""
    certificate = (
        Certificate.objects.select_related("claim__event__organizer", "claim__user")
        .filter(pk=certificate_id)
        .first()
    )
    if certificate is None or not may_download(request.user, certificate):
        raise Http404("No such certificate.")
    try:
        record = credentials.credential_for(certificate)
    except credentials.CredentialUnavailable as error:
        raise Http404(str(error)) from error
    response = HttpResponse(record.token, content_type="application/jwt; charset=utf-8")
    name = f"credential-{certificate.code}-v{certificate.version}.jwt"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "private, no-store"
    return response


@require_GET
def jwks(request: HttpRequest, organizer_slug: str) -> JsonResponse:
    organizer = _organizer(organizer_slug)
    return _public(JsonResponse(credentials.jwks(site_url(), organizer)))


@require_GET
def key(request: HttpRequest, organizer_slug: str, thumbprint: str) -> JsonResponse:
    organizer = _organizer(organizer_slug)
    found = get_object_or_404(IssuerKey, organizer=organizer, thumbprint=thumbprint[:64])
    found.organizer = organizer
    return _public(JsonResponse(credentials.public_jwk(site_url(), found)))


@require_GET
def did_document(request: HttpRequest, organizer_slug: str) -> JsonResponse:
    organizer = _organizer(organizer_slug)
    response = JsonResponse(credentials.did_document(site_url(), organizer))
    response["Content-Type"] = "application/did+json"
    return _public(response)


@require_GET
def status_list(request: HttpRequest, organizer_slug: str, purpose: str, number: int):
    """A signed BitstringStatusListCredential (VC-JWT), current as of the request."""
    organizer = _organizer(organizer_slug)
    if purpose not in credentials.STATUS_LISTS or number > credentials.MAX_LISTS:
        raise Http404("No such status list.")
    first = number * credentials.LIST_SIZE
    if not IssuedCredential.objects.filter(organizer=organizer, status_index__gte=first).exists():
        raise Http404("No such status list.")
    token = credentials.status_list_token(site_url(), organizer, purpose, number)
    return _public(HttpResponse(token, content_type="application/jwt; charset=utf-8"), max_age=60)
