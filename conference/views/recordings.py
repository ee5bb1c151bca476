"""Watching recordings: the on-demand page, its signed media files and the player heartbeats.

Rules live in `conference.services.recordings.access` (who may watch, the tokens),
`.serving` (which files, as what, playlist rewriting) and `.watching` (heartbeats, chapters).
"""

import json

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    HttpResponseForbidden,
    JsonResponse,
    StreamingHttpResponse,
)
from django.shortcuts import get_object_or_404, render
from django.urls import NoReverseMatch, reverse
from django.views.decorators.http import require_POST, require_safe

from conference.models import EnduringActivity, Recording
from conference.services.recordings import access, serving, watching
from conference.services.refusals import Refused
from conference.views.refusals import http_status

CHUNK_BYTES = 64 * 1024
MAX_HEARTBEAT_BYTES = 2048


def _recording(recording_id: int) -> Recording:
    return get_object_or_404(
        Recording.objects.select_related("session__event__organizer", "session__hall"),
        pk=recording_id,
        session__event__is_published=True,
    )


# --- the on-demand page ----------------------------------------------------------------------


@require_safe
def detail(request: HttpRequest, recording_id: int) -> HttpResponse:
    recording = _recording(recording_id)
    if not access.is_playable(recording):
        raise Http404("This recording is not available.")
    if not access.may_watch(request.user, recording):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        raise PermissionDenied("Only registered attendees of this event may watch its recordings.")
    session = recording.session
    token = access.sign_watch_token(recording, user=request.user)
    progress = watching.progress_of(recording, request.user)
    resume = watching.resume_position(recording, request.user)
    context = {
        "recording": recording,
        "session": session,
        "event": session.event,
        "master_url": access.media_url(recording, token, "master.m3u8"),
        "poster_url": _poster_url(recording, token),
        "captions": [
            {
                "language": caption.language,
                "label": caption.label,
                "url": access.caption_url(recording, token, caption.language),
            }
            for caption in recording.captions.all()
        ],
        "chapters": watching.recording_chapters(recording),
        "resume_seconds": resume,
        "resume_label": watching.format_clock(resume),
        "progress": progress,
        "watched_label": watching.format_clock(float(progress.watched_seconds) if progress else 0),
        "duration_label": watching.format_clock(watching.duration_of(recording)),
        "heartbeat_url": (
            reverse("recordings:heartbeat", kwargs={"recording_id": recording.pk})
            if request.user.is_authenticated
            else ""
        ),
        "heartbeat_interval": watching.HEARTBEAT_INTERVAL_SECONDS,
        "session_url": reverse(
            "conference:session-detail",
            kwargs={"event_slug": session.event.slug, "session_id": session.pk},
        ),
        "enduring_url": _enduring_url(session),
    }
    response = render(request, "recordings/detail.html", context)
    response["Cache-Control"] = "private, no-store"
    return response


def _poster_url(recording: Recording, token: str) -> str:
    try:
        serving.published_file(recording, "poster.jpg")
    except serving.NotServable:
        return ""
    return access.media_url(recording, token, "poster.jpg")


def _enduring_url(session) -> str | None:
    """The post-test page of the session's published enduring-material activity, if any."""
    activity = EnduringActivity.objects.filter(session=session, is_published=True).first()
    if activity is None:
        return None
    try:
        return reverse("cme:enduring", kwargs={"activity_id": activity.pk})
    except NoReverseMatch:
        return None


# --- signed files ----------------------------------------------------------------------------


def _refused(message: str) -> HttpResponse:
    response = HttpResponseForbidden(message, content_type="text/plain; charset=utf-8")
    response["Cache-Control"] = "no-store"
    return response


def _checked_token(request, recording: Recording, token: str, *, fresh: bool):
    """The valid token for this request, or a 403 response saying why not."""
    try:
        watch = access.read_watch_token(token, recording)
    except Refused as refused:
        return None, _refused(refused.message)
    if not access.request_matches_viewer(request, watch):
        return None, _refused("This address belongs to another viewer.")
    if not access.token_may_watch(watch, recording, fresh=fresh):
        return None, _refused("You may no longer watch this recording.")
    return watch, None


@require_safe
def media(
    request: HttpRequest, recording_id: int, token: str, name: str, folder: str = ""
) -> HttpResponseBase:
    recording = _recording(recording_id)
    full_name = f"{folder}/{name}" if folder else name
    is_playlist = name.endswith(".m3u8")
    watch, denied = _checked_token(request, recording, token, fresh=is_playlist)
    if denied:
        return denied
    try:
        path = serving.published_file(recording, full_name)
    except serving.NotServable:
        raise Http404("No such file in this recording.") from None
    try:
        if is_playlist:
            return _playlist(recording, watch, full_name, path)
        return _file(request, path, serving.content_type(name))
    except OSError:  # an older generation removed while we were serving it
        raise Http404("No such file in this recording.") from None


def _playlist(recording: Recording, watch: access.WatchToken, name: str, path) -> HttpResponse:
    # Every URI gets a fresh token: a long viewing does not run past the first token's expiry,
    # and each reload has re-checked (uncached) that the viewer may still watch.
    token = access.sign_for_viewer(recording, viewer=watch.viewer)
    try:
        text = serving.rewrite_playlist(
            path.read_text(encoding="utf-8"),
            name,
            lambda target: access.media_url(recording, token, target),
        )
    except (serving.NotServable, UnicodeDecodeError):
        raise Http404("This playlist refers to files the recording does not serve.") from None
    response = HttpResponse(text, content_type=serving.content_type(name))
    response["Cache-Control"] = "private, no-cache"
    return response


@require_safe
def caption(request: HttpRequest, recording_id: int, token: str, language: str) -> HttpResponseBase:
    recording = _recording(recording_id)
    _, denied = _checked_token(request, recording, token, fresh=False)
    if denied:
        return denied
    try:
        path = serving.caption_file(recording, language)
    except serving.NotServable:
        raise Http404("This recording has no captions in that language.") from None
    try:
        return _file(request, path, serving.content_type("x.vtt"))
    except OSError:
        raise Http404("This recording has no captions in that language.") from None


def _file(request: HttpRequest, path, content_type: str) -> HttpResponseBase:
    """The file, whole (FileResponse) or one byte range of it (206)."""
    size = path.stat().st_size
    response: HttpResponseBase
    header = request.headers.get("Range")
    if header:
        span = serving.parse_range(header, size)
        if span is None:
            response = HttpResponse(status=416)
            response["Content-Range"] = f"bytes */{size}"
            return response
        first, last = span
        response = StreamingHttpResponse(
            _read_span(path, first, last), status=206, content_type=content_type
        )
        response["Content-Length"] = str(last - first + 1)
        response["Content-Range"] = f"bytes {first}-{last}/{size}"
    else:
        response = FileResponse(path.open("rb"), content_type=content_type)
    response["Accept-Ranges"] = "bytes"
    response["Cache-Control"] = "private, max-age=3600"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _read_span(path, first: int, last: int):
    with path.open("rb") as handle:
        handle.seek(first)
        remaining = last - first + 1
        while remaining > 0:
            chunk = handle.read(min(CHUNK_BYTES, remaining))
            if not chunk:
                break
            remaining -= len(chunk)
            yield chunk


# --- heartbeats ------------------------------------------------------------------------------


def _error(message: str, status: int) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


def _heartbeat_data(request: HttpRequest) -> dict:
    if len(request.body) > MAX_HEARTBEAT_BYTES:
        raise Refused("invalid", "The heartbeat is too large.")
    if request.content_type == "application/json":
        try:
            data = json.loads(request.body or b"null")
        except (ValueError, UnicodeDecodeError):
            raise Refused("invalid", "The body is not valid JSON.") from None
        if not isinstance(data, dict):
            raise Refused("invalid", "Send an object with 'from', 'to' and 'position'.")
        return data
    # navigator.sendBeacon posts a form (it can carry the CSRF token but no header).
    return {key: request.POST.get(key) for key in ("from", "to", "position")}


@require_POST
def heartbeat(request: HttpRequest, recording_id: int) -> JsonResponse:
    if not request.user.is_authenticated:
        return _error("Log in to record your viewing.", 403)
    try:
        recording = _recording(recording_id)
    except Http404:
        return _error("No such recording.", 404)
    if not access.may_watch(request.user, recording):
        return _error("You may not watch this recording.", 403)
    try:
        progress = watching.record_heartbeat(
            recording, user=request.user, data=_heartbeat_data(request)
        )
    except Refused as rejected:
        return _error(rejected.message, http_status(rejected, default=400))
    return JsonResponse(
        {
            "position": float(progress.position_seconds),
            "watched_seconds": float(progress.watched_seconds),
            "ranges": progress.ranges,
        }
    )
