"""Importing this package registers every action handler."""

from conference.live.actions import chat, feed, polls, presence, qa, reactions

__all__ = ["chat", "feed", "polls", "presence", "qa", "reactions"]
