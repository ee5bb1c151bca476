"""Celery tasks that process recordings (the `media` queue)."""
