"""Importing this package registers every action handler."""

from conference.live.actions import chat, feed, moderation, polls, presence, qa, reactions

__all__ = ["chat", "feed", "moderation", "polls", "presence", "qa", "reactions"]
