"""Importing this package registers every action handler."""

from conference.live.actions import chat, feed, qa

__all__ = ["chat", "feed", "qa"]
