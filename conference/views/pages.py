from django.shortcuts import get_object_or_404, render

from conference.models import Event, Session


def event_list(request):
    return render(request, "conference/event_list.html", {"events": Event.objects.published()})


def event_detail(request, event_slug):
    event = get_object_or_404(Event.objects.published(), slug=event_slug)
    return render(request, "conference/event_detail.html", {"event": event})


def session_detail(request, event_slug, session_id):
    session = get_object_or_404(
        Session, pk=session_id, event__slug=event_slug, event__is_published=True
    )
    return render(request, "conference/session_detail.html", {"session": session})
