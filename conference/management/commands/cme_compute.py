"""`manage.py cme_compute CASE.json` (or `-` for stdin): explain one learner's CME credit.

Prints the engine's result as JSON (docs/cme.md describes both shapes). Bad input exits with
code 2 and a message on stderr naming the field.
"""

import json
import sys

from django.core.management.base import BaseCommand, CommandError, CommandParser

from conference.credit import CreditInputError, explain_text


class Command(BaseCommand):
    help = "Compute and explain one learner's CME credit from a JSON case file ('-' for stdin)."
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("case", help="path to the case JSON file, or - to read stdin")

    def handle(self, *args: object, case: str, **options: object) -> None:
        text = self._read(case)
        try:
            result = explain_text(text)
        except CreditInputError as error:
            raise CommandError(f"invalid case: {error}", returncode=2) from None
        self.stdout.write(json.dumps(result, indent=2, ensure_ascii=False))

    def _read(self, case: str) -> str:
        try:
            if case == "-":
                return sys.stdin.read()
            with open(case, encoding="utf-8") as handle:
                return handle.read()
        except (OSError, UnicodeDecodeError) as error:
            raise CommandError(f"cannot read {case}: {error}", returncode=2) from None
