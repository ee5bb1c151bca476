"""The one refusal of the domain: what a service raises when the rules do not allow an action.

A refusal names the rule (`code`, stable: the hall's error frames and the API's bodies carry
it), says it to the person (`message`) and may carry documented details (a removal's `until`
and `reason`). When several rules fail at once (a CME claim) it lists every `(code, message)`
in `problems`, the first being `code`/`message`.

Services know nothing of how a refusal leaves: the edges translate it — pages and the API to
an HTTP status (`conference.views.refusals`), the hall's websocket to an error frame and, at a
join, a close code (`conference.live.errors`), admin to a message on the page.
"""

from typing import Any


class Refused(Exception):
    """An action the rules do not allow: `Refused(code, message, **details)`, or
    `Refused(problems)` with every `(code, message)` that failed."""

    def __init__(
        self, code: str | list[tuple[str, str]], message: str = "", **details: Any
    ) -> None:
        problems = list(code) if isinstance(code, list) else [(code, message)]
        super().__init__("; ".join(text for _, text in problems))
        self.problems = problems
        self.code, self.message = problems[0] if problems else ("", "")
        self.details = details

    @property
    def codes(self) -> list[str]:
        return [code for code, _ in self.problems]
