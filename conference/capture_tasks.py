"""Celery tasks that capture a session's live stream into a recording (the `media` queue)."""
