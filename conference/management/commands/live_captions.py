"""The hook for a speech-to-text service: caption cues on standard input, one per line, become
live captions of a session's stage (docs/media.md, "Live captions").

    speech-to-text ... | python manage.py live_captions <session id>

A line is either plain text (shown for its reading time) or a JSON object
`{"text": "...", "seconds": 3.5}`. Each cue is checked like a typed one (1-300 characters, only
while the stage broadcasts, at most 20 in 10 s); a refused line is reported on standard error
with its line number and the next line is read. The exit status is 1 if any line was refused.
"""

import json
import sys

from django.core.management.base import BaseCommand, CommandError

from conference.models import CaptionSource, Session
from conference.services.media import captions


class Command(BaseCommand):
    help = "Read caption cues from standard input (a speech-to-text service) for a session's stage."

    def add_arguments(self, parser):
        parser.add_argument("session", type=int, help="the session's id")
        parser.add_argument(
            "--name",
            default="Speech-to-text",
            help="who the cues are from (stored with them; default: Speech-to-text)",
        )

    def handle(self, *args, session: int, name: str, **options):
        target = Session.objects.filter(pk=session).select_related("event").first()
        if target is None or target.hall_id is None:
            raise CommandError(f"No session {session} with a hall.")
        refused = 0
        for number, line in enumerate(self.stdin_lines(), start=1):
            line = line.strip()
            if not line:
                continue
            text, seconds = line, None
            if line.startswith("{"):
                try:
                    data = json.loads(line)
                except ValueError:
                    data = None
                if not isinstance(data, dict):
                    self.stderr.write(f"line {number}: not a JSON object")
                    refused += 1
                    continue
                text = str(data.get("text", ""))
                seconds = data.get("seconds")
            try:
                captions.post_caption(
                    target,
                    text=text,
                    seconds=captions.cue_seconds(seconds),
                    source=CaptionSource.SERVICE,
                    author_name=name,
                )
            except captions.CaptionRefused as error:
                self.stderr.write(f"line {number}: {error.message}")
                refused += 1
        if refused:
            raise CommandError(f"{refused} line(s) refused.")

    def stdin_lines(self):
        return iter(sys.stdin.readline, "")
