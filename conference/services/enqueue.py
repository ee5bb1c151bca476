"""How services hand work to Celery: by task name.

The tasks live in `conference.tasks`, a layer above the services (a task loads its object and
calls one service). A service that queues work therefore names the task instead of importing
it; the names are stable, so messages already queued and beat's schedule keep resolving.
"""

from typing import Any

from celery import current_app, group

# The task names (each `conference.tasks` module registers its task under the name here).
PROCESS_RECORDING = "conference.process_recording"
SCHEDULE_CAPTURES = "conference.schedule_captures"
CAPTURE_RECORDING = "conference.capture_recording"
RECORD_BROADCAST = "conference.record_broadcast"
INGEST_ENCODER = "conference.ingest_encoder"
ISSUE_CERTIFICATE = "conference.issue_certificate"
ISSUE_CERTIFICATES = "conference.issue_certificates"
COLLECT_WAITING_CERTIFICATES = "conference.collect_waiting_certificates"
SEND_AGENDA_REMINDER = "conference.send_agenda_reminder"


def send(name: str, *args: Any, **options: Any) -> None:
    """Send task `name` with `args` now (options as for `apply_async`: queue, time limits)."""
    current_app.send_task(name, args=list(args), **options)


def send_group(name: str, args_list: list[tuple[Any, ...]]) -> None:
    """Send task `name` once per tuple of `args_list`, as one Celery group."""
    group(current_app.signature(name, args=args) for args in args_list).apply_async()
