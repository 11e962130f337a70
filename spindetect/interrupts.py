"""Ctrl-C that never lands between writing a record and counting it.

A run that checkpoints on Ctrl-C must know exactly which records are written. Python raises
KeyboardInterrupt between any two bytecodes, so one could land after a record's line is written and before
it is counted, and the checkpoint would then repeat or lose it. Inside `InterruptGuard.protected()` a Ctrl-C
is held and raised as the block ends; everywhere else (scoring, which can take long) it is raised at once.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager


class InterruptGuard:
    def __init__(self) -> None:
        self._protecting = False
        self._held = False

    def _on_interrupt(self, signum, frame) -> None:
        if self._protecting:
            self._held = True
        else:
            raise KeyboardInterrupt

    @contextmanager
    def installed(self) -> Iterator[InterruptGuard]:
        """Route SIGINT through the guard while the block runs (only the main thread can; elsewhere a no-op)."""
        if threading.current_thread() is not threading.main_thread():
            yield self
            return
        previous = signal.signal(signal.SIGINT, self._on_interrupt)
        try:
            yield self
        finally:
            signal.signal(signal.SIGINT, previous)

    @contextmanager
    def protected(self) -> Iterator[None]:
        self._protecting = True
        try:
            yield
        finally:
            self._protecting = False
            if self._held:
                self._held = False
                raise KeyboardInterrupt
