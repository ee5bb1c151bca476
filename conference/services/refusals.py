"""The refusal the CME services raise when the rules do not allow an action."""


class Refused(Exception):
    """An action the rules do not allow; `problems` are (code, message) pairs, the messages
    for the learner."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        super().__init__("; ".join(message for _, message in problems))
        self.problems = problems

    @property
    def codes(self) -> list[str]:
        return [code for code, _ in self.problems]
