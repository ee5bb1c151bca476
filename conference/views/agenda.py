"""The personal agenda: star a session, the secret calendar feed, reminder unsubscribe, and
the venue's poll for favourites starting soon."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST, require_safe

from conference.models import Session
from conference.services import agenda
from conference.services.ical import build_calendar, calendar_filename


def _next_url(request, fallback: str) -> str:
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback


@require_POST
@login_required
def favourite(request, event_slug, session_id):
    session = get_object_or_404(
        Session.objects.select_related("event"),
        pk=session_id,
        event__slug=event_slug,
        event__is_published=True,
    )
    if request.POST.get("action") == "remove":
        agenda.remove_favourite(request.user, session)
        messages.success(request, f"“{session.title}” is no longer in your agenda.")
    else:
        try:
            agenda.add_favourite(request.user, session)
        except agenda.AgendaError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, f"“{session.title}” is in your agenda.")
    return HttpResponseRedirect(_next_url(request, session.get_absolute_url()))


@require_POST
@login_required
def feed(request):
    action = request.POST.get("action")
    if action == "revoke":
        agenda.revoke_agenda_feed(request.user)
        messages.success(request, "Your agenda's calendar address no longer works.")
    elif action == "renew":
        agenda.renew_agenda_feed(request.user)
        messages.success(
            request, "Your agenda has a new calendar address; the old one no longer works."
        )
    else:
        agenda.agenda_feed(request.user, create=True)
        messages.success(request, "Your agenda has a calendar address to subscribe to.")
    return redirect("conference:my-events")


@never_cache
@require_safe
def feed_ics(request, token):
    user = agenda.user_for_feed_token(token)
    if user is None:
        raise Http404("This calendar address is not valid (it may have been revoked).")
    body = build_calendar(
        agenda.favourite_sessions(user),
        name="My MedVenue agenda",
        url_for=lambda session: request.build_absolute_uri(session.get_absolute_url()),
        alarm_minutes=agenda.REMINDER_MINUTES,
    )
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'inline; filename="{calendar_filename("my-agenda")}"'
    response["X-Robots-Tag"] = "noindex"
    return response


@csrf_exempt  # the signed token is the credential; mail clients' one-click POST has no cookie
def unsubscribe(request, token):
    user = agenda.user_for_unsubscribe_token(token)
    if user is None:
        raise Http404("This unsubscribe link is not valid.")
    if request.method == "POST":
        agenda.set_reminder_emails(user, enabled=False)
        return render(request, "conference/agenda_unsubscribe.html", {"done": True})
    return render(request, "conference/agenda_unsubscribe.html", {"done": False, "token": token})


@never_cache
@require_safe
@login_required
def upcoming(request):
    items = agenda.upcoming_favourites(request.user)
    return JsonResponse({"upcoming": [item.as_json() for item in items]})
