"""Small formatting helpers for the attendee pages."""

import re
from datetime import date
from decimal import Decimal, InvalidOperation

from django import template
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html

from conference.models import CreditType
from conference.services import statements
from conference.services.schedule import LiveState, live_state
from conference.services.schedule import venue_join_url as join_url_of
from conference.services.statements import phrase_html

register = template.Library()
HEX_COLOR = re.compile(r"#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})")


@register.filter
def date_range(start: date | None, end: date | None) -> str:
    """'12–14 March 2026', '30 March – 2 April 2026' or '31 December 2026 – 2 January 2027'."""
    if not start:
        return ""
    if not end or end == start:
        return date_format(start, "j F Y")
    if (start.year, start.month) == (end.year, end.month):
        return f"{date_format(start, 'j')}–{date_format(end, 'j F Y')}"
    if start.year == end.year:
        return f"{date_format(start, 'j F')} – {date_format(end, 'j F Y')}"
    return f"{date_format(start, 'j F Y')} – {date_format(end, 'j F Y')}"


@register.filter
def hours_minutes(minutes: int | None) -> str:
    """90 -> '1 h 30 min'; 60 -> '1 h'; 45 -> '45 min'."""
    if minutes is None:
        return ""
    hours, rest = divmod(int(minutes), 60)
    parts = ([f"{hours} h"] if hours else []) + ([f"{rest} min"] if rest or not hours else [])
    return " ".join(parts)


@register.filter
def css_color(value: str | None) -> str:
    """A hex colour fit for a style attribute, or '' for anything else."""
    if value and HEX_COLOR.fullmatch(value):
        return value
    return ""


@register.simple_tag
def swatch(value: str | None, css_class: str = "swatch"):
    """`{% swatch track.color %}`: a small square of the track's colour, or nothing.

    An SVG's `fill` carries the colour, not a `style` attribute, which the Content-Security-
    Policy refuses (docs/security.md)."""
    color = css_color(value)
    if not color:
        return ""
    return format_html(
        '<svg class="{}" viewBox="0 0 1 1" aria-hidden="true" focusable="false">'
        '<rect width="1" height="1" fill="{}"/></svg>',
        css_class,
        color,
    )


@register.simple_tag(takes_context=True)
def session_live(context, session) -> LiveState:
    """`{% session_live session as live %}`: live now, starting in N min, or neither.

    The moment is the view's `now` when it gave one, else the clock."""
    now = context.get("now") or timezone.now()
    return live_state(session.starts_at, session.ends_at, now=now)


@register.filter
def venue_join_url(session) -> str | None:
    """The hall page that seats the visitor ("Join in the venue"), or None without a hall."""
    return join_url_of(session)


@register.filter
def credit_phrase(text: object) -> str:
    """Escape `text` and set each "AMA PRA Category 1 Credit(s)™" in italics, unbroken."""
    return phrase_html("" if text is None else str(text))


@register.filter
def credit_amount(amount: object, name: str) -> str:
    """ "1.00 AMA PRA Category 1 Credit™" / "3.50 ... Credits™" (italic, unbroken), or the amount
    and the credit type's name."""
    try:
        value = Decimal(str(amount))
    except InvalidOperation:
        return statements.phrase_html(f"{amount} {name}")
    code = CreditType.AMA_PRA_1 if name == statements.AMA_SINGULAR else ""
    return statements.phrase_html(statements.credit_amount(code, value, name))


@register.filter
def lookup(mapping, key):
    """`mapping|lookup:key`: the value for `key`, or None."""
    return mapping.get(key) if mapping else None


@register.simple_tag(takes_context=True)
def evaluation_feedback(context, event) -> dict:
    """The evaluation's per-question errors and the answers given, kept for one page view after
    a refused submission (`conference.views.cme`); empty otherwise."""
    request = context.get("request")
    if request is None or not hasattr(request, "session"):
        return {"errors": {}, "answers": {}}
    feedback = request.session.get("medvenue_evaluation_feedback")
    if not feedback or feedback.get("event") != event.slug:
        return {"errors": {}, "answers": {}}
    del request.session["medvenue_evaluation_feedback"]
    return feedback
