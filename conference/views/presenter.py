"""The presenter view: the hall's questions on a big screen, sorted by votes, live."""

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_safe

from conference.models import Event
from conference.services import live
from conference.services.refusals import Refused
from venues.models import Hall


@require_safe
@login_required
def presenter(request, event_slug: str, hall_slug: str):
    event = get_object_or_404(Event, slug=event_slug, venue__isnull=False)
    hall = get_object_or_404(Hall, venue_id=event.venue_id, slug=hall_slug)
    try:
        access = live.resolve_hall_access(request.user, hall.pk)
    except Refused:
        raise Http404("No such hall for you.") from None
    if not access.sees_pending:
        return render(
            request, "live/presenter_forbidden.html", {"event": event, "hall": hall}, status=403
        )
    return render(request, "live/presenter.html", {"event": event, "hall": hall})
