"""The studio page and the JSON endpoints of live media (docs/media.md).

Every endpoint re-checks access through the media services (the same checks as the hall socket);
a refusal is a JSON error with a message the page shows as it is.
"""

import json

from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST, require_safe

from conference.models import Session
from conference.services.media import stage as media
from conference.services.media.config import INSTALL_HINT, media_enabled
from conference.views.refusals import http_status

MAX_BODY_BYTES = 4096
# The refusals the studio page answers with their own status; any other is a 403 there.
PAGE_REFUSALS = {"unauthenticated", "forbidden", "not_found"}


def _session(event_slug: str, session_id: int) -> Session:
    return get_object_or_404(
        Session.objects.select_related("event", "hall"),
        pk=session_id,
        event__slug=event_slug,
    )


def _refused(error: media.MediaRefused) -> JsonResponse:
    return JsonResponse({"error": error.message}, status=http_status(error))


def _body(request) -> dict:
    if len(request.body) > MAX_BODY_BYTES:
        raise media.MediaRefused("The request is too large.", code="too_large")
    try:
        data = json.loads(request.body or b"{}")
    except ValueError:
        raise media.MediaRefused("The request is not valid JSON.", code="invalid") from None
    if not isinstance(data, dict):
        raise media.MediaRefused("The request must be a JSON object.", code="invalid")
    return data


@require_safe
@login_required
@never_cache
def studio(request, event_slug: str, session_id: int):
    session = _session(event_slug, session_id)
    try:
        access = media.studio_access(request.user, session)
    except media.MediaRefused as error:
        return render(
            request,
            "media/studio_forbidden.html",
            {"session": session, "event": session.event, "reason": error.message},
            status=http_status(error) if error.code in PAGE_REFUSALS else 403,
        )
    base = reverse("media:studio", kwargs={"event_slug": event_slug, "session_id": session.pk})
    context = {
        "session": session,
        "event": session.event,
        "access": access,
        "media_on": media_enabled(),
        "install_hint": INSTALL_HINT,
        "studio_config": {
            "session": session.pk,
            "title": session.title,
            "role": access.role,
            "name": access.name,
            "grant_url": base + "grant/",
            "state_url": base + "state/",
            "stage_url": base + "stage/",
            "chat_url": base + "chat/",
            "renew_url": base + "renew/",
            "media": media_enabled(),
        },
    }
    return render(request, "media/studio.html", context)


@require_POST
@never_cache
def studio_grant(request, event_slug: str, session_id: int):
    try:
        return JsonResponse(media.studio_grant(request.user, _session(event_slug, session_id)))
    except media.MediaRefused as error:
        return _refused(error)


@require_POST
@never_cache
def renew(request, event_slug: str, session_id: int):
    try:
        purpose = _body(request).get("purpose")
        if purpose not in ("studio", "stage"):
            raise media.MediaRefused("`purpose` is studio or stage.", code="invalid")
        session = _session(event_slug, session_id)
        return JsonResponse(media.renew_token(request.user, session, purpose=purpose))
    except media.MediaRefused as error:
        return _refused(error)


@require_safe
@never_cache
def studio_state(request, event_slug: str, session_id: int):
    session = _session(event_slug, session_id)
    try:
        access = media.studio_access(request.user, session)
        since = request.GET.get("since", "0")
        since_id = int(since) if since.isdigit() else 0
        return JsonResponse(media.studio_state(access, session, since=since_id))
    except media.MediaRefused as error:
        return _refused(error)


@require_POST
@never_cache
def studio_stage(request, event_slug: str, session_id: int):
    session = _session(event_slug, session_id)
    try:
        access = media.studio_access(request.user, session)
        data = _body(request)
        feeds = data.get("feeds", [])
        if not isinstance(feeds, list) or not all(
            isinstance(f, int) and not isinstance(f, bool) for f in feeds
        ):
            raise media.MediaRefused("`feeds` is a list of feed numbers.", code="invalid")
        countdown = data.get("countdown", 0)
        if isinstance(countdown, bool) or not isinstance(countdown, int):
            raise media.MediaRefused("`countdown` is a number of seconds.", code="invalid")
        stage = media.set_stage(
            access,
            session,
            layout=str(data.get("layout", "")),
            feeds=feeds,
            on_air=bool(data.get("on_air")),
            countdown_seconds=countdown,
        )
        return JsonResponse({**media.stage_data(session, stage), "feeds": stage.live_feeds})
    except media.MediaRefused as error:
        return _refused(error)


@require_POST
@never_cache
def studio_chat(request, event_slug: str, session_id: int):
    session = _session(event_slug, session_id)
    try:
        access = media.studio_access(request.user, session)
        message = media.post_backstage(access, session, text=str(_body(request).get("text", "")))
        return JsonResponse({"id": message.pk}, status=201)
    except media.MediaRefused as error:
        return _refused(error)


@require_POST
@never_cache
def stage_grant(request, event_slug: str, session_id: int):
    try:
        return JsonResponse(media.stage_grant(request.user, _session(event_slug, session_id)))
    except media.MediaRefused as error:
        return _refused(error)
