"""Polls in a hall's session: moderators open and close them; everyone votes once."""

from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from conference.models import Audience, LiveItem, Poll, PollOption, PollStatus, PollVote, Session
from conference.services.live import HallAccess, append_item, current_session, moderates_session
from conference.services.refusals import Refused

MAX_OPTIONS = 10
QUESTION_MAX_LENGTH = 300
OPTION_MAX_LENGTH = 200


def poll_data(poll: Poll, *, with_results: bool) -> dict[str, Any]:
    options = [{"id": o.pk, "text": o.text} for o in poll.options.all()]
    if with_results:
        for option, row in zip(options, poll.options.all(), strict=True):
            option["votes"] = row.vote_count
    return {
        "id": poll.pk,
        "session": poll.session_id,
        "question": poll.question,
        "status": poll.status,
        "results_visible": poll.results_visible,
        "options": options,
    }


def _poll_for_update(access: HallAccess, poll_id: int) -> Poll:
    poll = (
        Poll.objects.select_for_update()
        .select_related("session")
        .filter(pk=poll_id, session__hall_id=access.hall_id, session__event_id=access.event_id)
        .first()
    )
    if poll is None:
        raise Refused("not_found", "There is no such poll in this hall.")
    return poll


def _require_moderator(access: HallAccess, poll_or_session: Poll | Session) -> None:
    session = poll_or_session.session if isinstance(poll_or_session, Poll) else poll_or_session
    if not moderates_session(access, session):
        raise Refused("forbidden", "Only moderators and this session's speakers run polls.")


def create_poll(access: HallAccess, *, question: str, options: list[str]) -> LiveItem:
    if not 2 <= len(options) <= MAX_OPTIONS:
        raise Refused("invalid", f"A poll has 2 to {MAX_OPTIONS} options.")
    with transaction.atomic():
        session = current_session(access)
        if session is None:
            raise Refused("no_session", "No session is on in this hall right now.")
        _require_moderator(access, session)
        poll = Poll.objects.create(session=session, question=question, created_by_id=access.user_id)
        PollOption.objects.bulk_create(
            PollOption(poll=poll, text=text, order=n) for n, text in enumerate(options)
        )
        return append_item(
            access,
            event="poll.opened",
            data=poll_data(poll, with_results=False),
            session_id=session.pk,
        )


def vote_poll(access: HallAccess, *, poll_id: int, option_id: int) -> tuple[Poll, bool]:
    """Record one vote; a repeated vote for the same option is a harmless duplicate."""
    with transaction.atomic():
        poll = _poll_for_update(access, poll_id)
        if poll.status != PollStatus.OPEN:
            raise Refused("poll_closed", "This poll is closed.")
        option = PollOption.objects.filter(pk=option_id, poll=poll).first()
        if option is None:
            raise Refused("invalid", "That option is not part of this poll.")
        earlier = PollVote.objects.filter(poll=poll, user_id=access.user_id).first()
        if earlier:
            if earlier.option_id != option.pk:
                raise Refused("already_voted", "You have already voted in this poll.")
            return poll, False
        PollVote.objects.create(poll=poll, option=option, user_id=access.user_id)
        PollOption.objects.filter(pk=option.pk).update(vote_count=F("vote_count") + 1)
        return poll, True


def close_poll(access: HallAccess, *, poll_id: int) -> LiveItem:
    with transaction.atomic():
        poll = _poll_for_update(access, poll_id)
        _require_moderator(access, poll)
        if poll.status == PollStatus.CLOSED:
            raise Refused("poll_closed", "This poll is already closed.")
        poll.status = PollStatus.CLOSED
        poll.closed_at = timezone.now()
        poll.save(update_fields=["status", "closed_at"])
        return _announce_results(access, poll, event="poll.closed")


def show_results(access: HallAccess, *, poll_id: int, visible: bool) -> LiveItem:
    with transaction.atomic():
        poll = _poll_for_update(access, poll_id)
        _require_moderator(access, poll)
        poll.results_visible = visible
        poll.save(update_fields=["results_visible"])
        return _announce_results(access, poll, event="poll.results")


def _announce_results(access: HallAccess, poll: Poll, *, event: str) -> LiveItem:
    return append_item(
        access,
        event=event,
        data=poll_data(poll, with_results=poll.results_visible),
        audience=Audience.EVERYONE,
        session_id=poll.session_id,
    )


def results_if_visible(access: HallAccess, poll_id: int) -> dict[str, Any] | None:
    poll = Poll.objects.filter(pk=poll_id, session__hall_id=access.hall_id).first()
    if poll is None or not poll.results_visible:
        return None
    return poll_data(poll, with_results=True)


def list_polls(access: HallAccess, *, session_id: int) -> list[dict[str, Any]]:
    polls = Poll.objects.filter(
        session_id=session_id, session__hall_id=access.hall_id, session__event_id=access.event_id
    ).prefetch_related("options")
    mine = dict(
        PollVote.objects.filter(user_id=access.user_id, poll__session_id=session_id).values_list(
            "poll_id", "option_id"
        )
    )
    return [
        {
            **poll_data(poll, with_results=poll.results_visible or access.sees_pending),
            "my_vote": mine.get(poll.pk),
        }
        for poll in polls
    ]
