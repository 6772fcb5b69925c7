"""Held-out protocols: rolling-origin backtests written down before the runs they score."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Protocol:
    """A backtest of a bundled recipe that never reaches the recipe's own test part.

    Attributes:
        recipe: the bundled recipe's name.
        origins: first forecast month of each run.
        length: points scored after each origin (validation comes before the origin).
        never_reaches: the first date no run may use (the recipe's test part begins there).
    """

    recipe: str
    origins: tuple
    length: int
    never_reaches: str

    def command(self):
        """The ``kseq`` command line that runs it."""
        return ["backtest", self.recipe, "--origins", *self.origins, "--length", str(self.length)]


# The quality issue's protocol: origins every 6 months from 1955-01 to 1957-01, 24 months each,
# so the last forecast ends in 1958-12 and 1959-1960 (the test years) are never touched.
AIRPASSENGERS_PROTOCOL = Protocol(
    recipe="airpassengers",
    origins=("1955-01", "1955-07", "1956-01", "1956-07", "1957-01"),
    length=24,
    never_reaches="1959-01",
)
