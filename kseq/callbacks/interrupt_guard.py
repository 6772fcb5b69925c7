"""SIGINT and SIGTERM that stop training cleanly after the current step.

Inside `InterruptGuard`, a first SIGINT (Ctrl-C) or SIGTERM is recorded; `TrainingCheckpoint`
raises `TrainingInterrupted` at the end of the running batch, so the last checkpoint stays
the newest and the run can be resumed. Outside training the error is raised at once. A second
Ctrl-C raises `KeyboardInterrupt` at once, as Python does by default.

Python runs a signal handler between any two bytecodes, also inside a garbage-collector callback
(JAX registers one) or a `__del__`, where a raised exception is not propagated but printed as
"Exception ignored in ..." with a traceback. Such a swallowed stop is caught by the guard's
`sys.unraisablehook` and the signal delivered again, so it is raised in the code that runs next.
Raised inside native code that replaces it with its own error, the guard turns that error back
into the stop when it leaves the block.
"""

import _thread
import signal
import sys
import threading

from kseq.errors import TrainingInterrupted

_NAMES = {signal.SIGINT: "SIGINT", signal.SIGTERM: "SIGTERM"}


class InterruptGuard:
    """Context manager installing the handlers (main thread only; elsewhere a no-op).

    Attributes:
        received: the signal number received, or `None`.
        training: set by the training loop while a batch may be running; the handler then
            defers the stop to the end of the batch.
    """

    active = None  # the guard installed now, if any

    def __init__(self):
        self.received = None
        self.training = False
        self._previous = {}
        self._previous_hook = None
        self._redelivered = False

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            for number in _NAMES:
                self._previous[number] = signal.signal(number, self._handle)
            self._previous_hook = sys.unraisablehook
            sys.unraisablehook = self._unraisable
            InterruptGuard.active = self
        return self

    def __exit__(self, exc_type, exc, traceback):
        self._restore()
        if exc is not None and self.received is not None:
            if not isinstance(exc, (TrainingInterrupted, KeyboardInterrupt)):
                # The stop was raised inside a library's native code (TensorFlow tracing a
                # graph), which handed on another error in its place (pybind11's
                # RuntimeError): what happened is the stop.
                raise self.error("outside training") from exc
        return False

    def _restore(self):
        for number, handler in self._previous.items():
            signal.signal(number, handler)
        self._previous.clear()
        if self._previous_hook is not None:
            sys.unraisablehook = self._previous_hook
            self._previous_hook = None
        if InterruptGuard.active is self:
            InterruptGuard.active = None

    def _handle(self, number, frame):
        if self._redelivered:
            self._redelivered = False  # the same signal again (`_unraisable`), not a second one
        elif self.received is not None and number == signal.SIGINT:
            raise KeyboardInterrupt
        self.received = number
        if not self.training:
            raise self.error("outside training")

    def _unraisable(self, unraisable):
        if isinstance(unraisable.exc_value, TrainingInterrupted) and self.received is not None:
            # Raised where it could not propagate: deliver the signal again in a moment, from
            # another thread (handled here it would run inside this hook, as badly placed).
            self._redelivered = True
            timer = threading.Timer(0.01, _thread.interrupt_main, args=(self.received,))
            timer.daemon = True
            timer.start()
        else:
            self._previous_hook(unraisable)

    def error(self, where):
        name = _NAMES.get(self.received, str(self.received))
        return TrainingInterrupted(f"stopped by {name} {where}", self.received)

    @classmethod
    def check(cls, where):
        """Raises `TrainingInterrupted` when the active guard has received a signal."""
        guard = cls.active
        if guard is not None and guard.received is not None:
            raise guard.error(where)
