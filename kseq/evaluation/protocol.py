"""Held-out protocols: rolling-origin backtests written down before the runs they score."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Protocol:
    """A backtest of a bundled recipe that never reaches the recipe's own test part.

    Attributes:
        recipe: the bundled recipe's name.
        origins: first forecast month of each run.
        length: points scored after each origin (validation comes before the origin).
        never_reaches: the first date (or, for a series without dates, position) no run may
            use: the recipe's test part begins there.
    """

    recipe: str
    origins: tuple
    length: int
    never_reaches: str | int

    def command(self):
        """The ``kseq`` command line that runs it."""
        return ["backtest", self.recipe, "--origins", *self.origins, "--length", str(self.length)]


# The quality protocol: origins every 6 months from 1955-01 to 1957-01, 24 months each,
# so the last forecast ends in 1958-12 and 1959-1960 (the test years) are never touched.
AIRPASSENGERS_PROTOCOL = Protocol(
    recipe="airpassengers",
    origins=("1955-01", "1955-07", "1956-01", "1956-07", "1957-01"),
    length=24,
    never_reaches="1959-01",
)


# The sines recipe's protocol (2026-12-04, written down before any of its runs): the recipe's
# series has 100 points and tests on the last 30 (positions 70-99), so the protocol forecasts
# 10 points from positions 40, 50 and 60 — the last forecast ends at 69 — each run training
# on the points before its origin only (10, 20 and 30 windows of the recipe's lookback 30).
# The same for every family (``--set data.family=x_sin``). It scores the recipe as it is: its
# settings were chosen by the sine study on a different, longer series (docs/sine-study.md).
SINES_PROTOCOL = Protocol(
    recipe="sines",
    origins=("40", "50", "60"),
    length=10,
    never_reaches=70,
)

# By recipe name: the recipes whose module takes ``--protocol``.
PROTOCOLS = {protocol.recipe: protocol for protocol in (AIRPASSENGERS_PROTOCOL, SINES_PROTOCOL)}
