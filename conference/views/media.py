"""The studio page and the JSON endpoints of live media (docs/media.md).

Every endpoint re-checks access through the media services (the same checks as the hall socket);
a refusal is a JSON error with a message the page shows as it is.
"""

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpResponse, HttpResponseBase, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST, require_safe

from conference.models import Session, Stage
from conference.services.media import captions as live_captions
from conference.services.media import encoder, live_hls, recorder
from conference.services.media import stage as media
from conference.services.media.config import INSTALL_HINT, media_enabled
from conference.views.refusals import http_status, json_body, json_refusals

MAX_BODY_BYTES = 4096
# The refusals the studio page answers with their own status; any other is a 403 there.
PAGE_REFUSALS = {"unauthenticated", "forbidden", "not_found"}


def _session(event_slug: str, session_id: int) -> Session:
    return get_object_or_404(
        Session.objects.select_related("event", "hall"),
        pk=session_id,
        event__slug=event_slug,
    )


def _body(request) -> dict:
    return json_body(request, max_bytes=MAX_BODY_BYTES)


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
            "caption_url": base + "caption/",
            "encoder_url": base + "encoder/",
            "time_zone": session.event.timezone,
            "renew_url": base + "renew/",
            "media": media_enabled(),
        },
    }
    return render(request, "media/studio.html", context)


@require_POST
@never_cache
@json_refusals
def studio_grant(request, event_slug: str, session_id: int):
    return JsonResponse(media.studio_grant(request.user, _session(event_slug, session_id)))


@require_POST
@never_cache
@json_refusals
def renew(request, event_slug: str, session_id: int):
    purpose = _body(request).get("purpose")
    if purpose not in ("studio", "stage"):
        raise media.MediaRefused("`purpose` is studio or stage.", code="invalid")
    session = _session(event_slug, session_id)
    return JsonResponse(media.renew_token(request.user, session, purpose=purpose))


@require_safe
@never_cache
@json_refusals
def studio_state(request, event_slug: str, session_id: int):
    session = _session(event_slug, session_id)
    access = media.studio_access(request.user, session)
    since = request.GET.get("since", "0")
    since_id = int(since) if since.isdigit() else 0
    return JsonResponse(
        {
            **media.studio_state(access, session, since=since_id),
            "encoder": encoder.encoder_state(access, session),
        }
    )


@require_POST
@never_cache
@json_refusals
def studio_stage(request, event_slug: str, session_id: int):
    session = _session(event_slug, session_id)
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


@require_POST
@never_cache
@json_refusals
def studio_chat(request, event_slug: str, session_id: int):
    session = _session(event_slug, session_id)
    access = media.studio_access(request.user, session)
    message = media.post_backstage(access, session, text=str(_body(request).get("text", "")))
    return JsonResponse({"id": message.pk}, status=201)


@require_POST
@never_cache
@json_refusals
def studio_encoder(request, event_slug: str, session_id: int):
    """A producer turns the external encoder on, gives it a new stream key, or turns it off."""
    session = _session(event_slug, session_id)
    access = media.studio_access(request.user, session)
    action = _body(request).get("action")
    if not isinstance(action, str):
        raise media.MediaRefused("`action` is on, new_key or off.", code="invalid")
    return JsonResponse(encoder.change_encoder(access, session, action=action))


@require_POST
@never_cache
@json_refusals
def stage_grant(request, event_slug: str, session_id: int):
    return JsonResponse(media.stage_grant(request.user, _session(event_slug, session_id)))


@require_POST
@never_cache
@json_refusals
def studio_caption(request, event_slug: str, session_id: int):
    """A live caption cue typed in the studio (captioners, speakers, producers)."""
    session = _session(event_slug, session_id)
    access = media.studio_access(request.user, session)
    data = _body(request)
    cue = live_captions.post_caption(
        session,
        text=str(data.get("text", "")),
        seconds=live_captions.cue_seconds(data.get("seconds")),
        source="typed",
        author_id=access.user_id,
        author_name=access.name,
    )
    return JsonResponse(live_captions.caption_data(cue), status=201)


@require_safe
@never_cache
def stage_hls(request, event_slug: str, session_id: int, token: str, name: str):
    """The live stage as HLS (beyond WebRTC capacity): the playlist re-checks the viewer's
    access and signs every segment; segments need a valid token of this viewer."""
    session = _session(event_slug, session_id)
    stage = Stage.objects.filter(session=session, on_air=True).first()
    if stage is None or stage.recording_id is None or not request.user.is_authenticated:
        raise Http404("The stage is not broadcasting.")
    if not live_hls.NAME.match(name):
        raise Http404("No such file.")
    try:
        live_hls.check_token(token, recording_id=stage.recording_id, user_id=request.user.pk)
    except live_hls.HlsRefused as error:
        return JsonResponse({"error": str(error)}, status=403)
    path = recorder.live_folder(stage.recording_id) / name
    response: HttpResponseBase
    if name.endswith(".m3u8"):
        check = lambda: media.audience_access(request.user, session)  # noqa: E731
        if not live_hls.may_watch(request.user, session, check):
            return JsonResponse({"error": "You may not watch this stage."}, status=403)
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            # On air, but the recorder has not written its first playlist yet: a player retries
            # a 503 (hls.js gives up at once on a 4xx).
            starting = JsonResponse({"error": "The live stage is starting; retry."}, status=503)
            starting["Retry-After"] = "1"
            starting["Cache-Control"] = "private, no-store"
            return starting
        try:
            fresh = live_hls.make_token(stage.recording_id, request.user.pk)
            body = live_hls.rewrite_playlist(text, session, fresh)
        except live_hls.HlsRefused:
            raise Http404("The live playlist names a file it may not.") from None
        response = HttpResponse(body, content_type=live_hls.CONTENT_TYPES["m3u8"])
    else:
        try:
            response = FileResponse(path.open("rb"), content_type=live_hls.CONTENT_TYPES["ts"])
        except OSError:
            raise Http404("No such segment (it may have rolled off the live playlist).") from None
    response["Cache-Control"] = "private, no-store"
    return response
