"""The Celery application.

Tasks are idempotent (they write their final state on the row), so they are acknowledged late
and re-delivered when a worker dies. The broker's visibility timeout is longer than the longest
task, so a task that is still running is never handed to a second worker.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "conference.settings")

app = Celery("medvenue")


def _broker_options(broker_url: str, broker_dir, longest_task: int) -> dict:
    if broker_url.startswith("filesystem://"):
        queue_dir = broker_dir / "queue"
        processed_dir = broker_dir / "processed"
        for folder in (queue_dir, processed_dir):
            folder.mkdir(parents=True, exist_ok=True)
        return {
            "data_folder_in": str(queue_dir),
            "data_folder_out": str(queue_dir),
            "processed_folder": str(processed_dir),
            "store_processed": False,
        }
    return {"visibility_timeout": longest_task * 2}


def configure(celery_app: Celery) -> None:
    from django.conf import settings

    longest = settings.CELERY_LONGEST_TASK_SECONDS
    celery_app.conf.update(
        broker_url=settings.CELERY_BROKER_URL,
        broker_transport_options=_broker_options(
            settings.CELERY_BROKER_URL, settings.CELERY_BROKER_DIR, longest
        ),
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
    )


configure(app)
app.autodiscover_tasks()
