"""The Celery application.

Tasks are idempotent (they write their final state on the row), so they are acknowledged late
and re-delivered when a worker dies. Which broker decides how soon:

- RabbitMQ (`amqp://`, the production broker): a message a worker had not acknowledged goes back
  to the queue the moment that worker's connection closes — a SIGKILLed worker's task runs on
  another worker within seconds. Publishing waits for the broker's confirmation.
- Redis: the message comes back only after the visibility timeout (twice the longest task), so a
  task that is still running is never handed to a second worker, and a killed worker's task
  waits that long.
- the file system (the embedded default): one machine, one worker.
"""

import os
from pathlib import Path

from celery import Celery
from django.conf import settings

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "conference.settings")


# Every minute: start the captures of sessions whose stream window opened (and resend stalled
# ones). A tick nobody ran within 50 s is dropped; the next one does the same work.
BEAT_SCHEDULE = {
    "schedule-captures": {
        "task": "conference.schedule_captures",
        "schedule": 60.0,
        "options": {"queue": "default", "expires": 50},
    },
    # Every minute: reminder e-mails for favourite sessions starting within 10 minutes (one per
    # person and time slot; the row is claimed before the e-mail leaves).
    "agenda-reminders": {
        "task": "conference.plan_agenda_reminders",
        "schedule": 60.0,
        "options": {"queue": "default", "expires": 50},
    },
}


def broker_transport_options(broker_url: str, broker_dir: Path, longest_task: int) -> dict:
    """Transport options for `broker_url`: folders for the file-system broker, else a timeout."""
    if broker_url.startswith("filesystem://"):
        folders = {
            "data_folder_in": broker_dir / "queue",
            "data_folder_out": broker_dir / "queue",
            "processed_folder": broker_dir / "processed",
            # Exchange bindings; kombu's default is a folder in the current directory.
            "control_folder": broker_dir / "control",
        }
        for folder in folders.values():
            folder.mkdir(parents=True, exist_ok=True)
        return {**{key: str(path) for key, path in folders.items()}, "store_processed": False}
    if broker_url.startswith(("amqp://", "amqps://", "pyamqp://")):
        # A dispatched task is stored by the broker before `apply_async` returns.
        return {"confirm_publish": True}
    return {"visibility_timeout": longest_task * 2}


def configure(
    celery_app: Celery, *, broker_url: str | None = None, broker_dir: Path | None = None
) -> None:
    """Apply the settings to `celery_app`; the keyword options point it at another broker."""
    longest = settings.CELERY_LONGEST_TASK_SECONDS
    broker_url = broker_url or settings.CELERY_BROKER_URL
    broker_dir = broker_dir or settings.CELERY_BROKER_DIR
    celery_app.conf.update(
        broker_url=broker_url,
        broker_transport_options=broker_transport_options(broker_url, broker_dir, longest),
        broker_connection_retry_on_startup=True,
        task_ignore_result=True,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_time_limit=longest,
        task_soft_time_limit=longest - 30,
        task_serializer="json",
        accept_content=["json"],
        timezone="UTC",
        enable_utc=True,
        worker_hijack_root_logger=False,
        task_default_queue="default",
        # Task modules beyond each app's `tasks` (found by autodiscovery).
        imports=("conference.tasks.recordings", "conference.tasks.capture"),
        # Periodic tasks, sent by exactly one `celery beat`; its state file stays in the data
        # folder, not in the directory beat was started from.
        beat_schedule=BEAT_SCHEDULE,
        beat_schedule_filename=str(settings.DATA_DIR / "celerybeat-schedule"),
    )


def create_app(*, broker_url: str | None = None, broker_dir: Path | None = None) -> Celery:
    """A configured Celery application (the project has one: `app` below)."""
    celery_app = Celery("medvenue")
    configure(celery_app, broker_url=broker_url, broker_dir=broker_dir)
    celery_app.autodiscover_tasks()
    return celery_app


app = create_app()
