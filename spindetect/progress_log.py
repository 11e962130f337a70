"""Progress for a job log: when stderr is not a terminal, a line every so often instead of a bar.

A bar drawn to a file or a CI log is either invisible or a mess, so a long run under `nohup` or a scheduler
used to print nothing until it ended. `LogProgress` takes the same calls as the few of rich's `Progress`
methods the CLI uses, and writes `filtering records: 12,345 done, 41.2/s, about 3 min left`, at most once per
`interval` seconds. The time left is shown when the total is known, or when the caller passes `share`, the
fraction of the input read.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class _Task:
    description: str
    total: float | None
    completed: float = 0.0
    share: float | None = None


class LogProgress:
    def __init__(self, write: Callable[[str], None], interval: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.write = write
        self.interval = interval
        self.clock = clock
        self.started = clock()
        self.last_line = self.started
        self.tasks: list[_Task] = []

    def add_task(self, description: str, total: float | None = None) -> int:
        self.tasks.append(_Task(description, total))
        return len(self.tasks) - 1

    def update(
        self,
        task: int,
        completed: float | None = None,
        total: float | None = None,
        advance: float | None = None,
        share: float | None = None,
    ) -> None:
        state = self.tasks[task]
        if completed is not None:
            state.completed = completed
        if advance is not None:
            state.completed += advance
        if total is not None:
            state.total = total
        if share is not None:
            state.share = share
        self._maybe_report(state)

    def advance(self, task: int, advance: float = 1) -> None:
        self.update(task, advance=advance)

    def _maybe_report(self, state: _Task) -> None:
        now = self.clock()
        if now - self.last_line < self.interval or state.completed == 0:
            return
        self.last_line = now
        elapsed = max(now - self.started, 1e-9)
        rate = state.completed / elapsed
        line = f"{state.description}: {state.completed:,.0f}"
        line += f" of {state.total:,.0f}" if state.total else ""
        line += f" done, {rate:,.1f}/s, {_duration(elapsed)} so far"
        share = state.completed / state.total if state.total else state.share
        if share is not None and share > 0:
            line += f", about {_duration(elapsed * (1 - min(share, 1.0)) / share)} left"
        self.write(line)


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"
