"""Per-backend protection: a concurrency limit and a circuit breaker, in this process.

A model server that is slow or down must not take the platform with it. Each backend gets
two bounded pools of call slots, one for queued work (prediction jobs, training) and one
for calls a person waits on (label stream pre-labels, interactive labeling), so a job
saturating a slow backend never queues a person behind it. A run of consecutive failures
opens the circuit: calls fail at once, without a connection, until `reset_seconds` pass;
then one trial call may go (half-open) and its outcome closes or reopens the circuit.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import IntEnum

from ml_gateway.backends.metrics import CIRCUIT_STATE


class CircuitState(IntEnum):
    CLOSED = 0
    OPEN = 1
    HALF_OPEN = 2


class CircuitOpen(Exception):
    """The backend failed too often lately; the call was not made."""


class BackendBusy(Exception):
    """Every call slot of the backend is taken and the caller cannot wait."""


@dataclass
class CircuitBreaker:
    backend_id: int
    failure_threshold: int
    reset_seconds: float
    state: CircuitState = CircuitState.CLOSED
    failures: int = 0
    opened_at: float = 0.0
    _trial_in_flight: bool = False
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def before_call(self) -> None:
        """Raise CircuitOpen unless a call may go now."""
        with self._lock:
            if self.state == CircuitState.CLOSED:
                return
            if self.state == CircuitState.OPEN:
                if time.monotonic() - self.opened_at < self.reset_seconds:
                    raise CircuitOpen(self._reason())
                self._set(CircuitState.HALF_OPEN)
            if self._trial_in_flight:
                raise CircuitOpen(self._reason())
            self._trial_in_flight = True

    def record_success(self) -> None:
        with self._lock:
            self.failures = 0
            self._trial_in_flight = False
            self._set(CircuitState.CLOSED)

    def record_failure(self) -> None:
        with self._lock:
            self.failures += 1
            self._trial_in_flight = False
            if self.state == CircuitState.HALF_OPEN or self.failures >= self.failure_threshold:
                self.opened_at = time.monotonic()
                self._set(CircuitState.OPEN)

    def release_trial(self) -> None:
        """A trial call ended without a verdict (e.g. it was not made)."""
        with self._lock:
            self._trial_in_flight = False

    def _set(self, state: CircuitState) -> None:
        self.state = state
        CIRCUIT_STATE.labels(str(self.backend_id)).set(int(state))

    def _reason(self) -> str:
        return (
            f"circuit open after {self.failures} consecutive failures; "
            f"retrying after {self.reset_seconds:g} s"
        )


class BackendGuard:
    """The breaker and the two slot pools of one backend."""

    def __init__(self, breaker: CircuitBreaker, *, concurrency: int) -> None:
        self.breaker = breaker
        self._queued = threading.BoundedSemaphore(concurrency)
        self._interactive = threading.BoundedSemaphore(concurrency)

    @contextmanager
    def slot(self, *, interactive: bool, wait_seconds: float | None) -> Iterator[None]:
        """Hold one call slot; `wait_seconds` None waits as long as it takes."""
        pool = self._interactive if interactive else self._queued
        acquired = (
            pool.acquire(timeout=wait_seconds) if wait_seconds is not None else (pool.acquire())
        )
        if not acquired:
            raise BackendBusy("every call slot of the ML backend is busy")
        try:
            yield
        finally:
            pool.release()


class Guards:
    """The guards of every backend this process has called, made on first use."""

    def __init__(self, *, concurrency: int, failure_threshold: int, reset_seconds: float) -> None:
        self._concurrency = concurrency
        self._failure_threshold = failure_threshold
        self._reset_seconds = reset_seconds
        self._guards: dict[int, BackendGuard] = {}
        self._lock = threading.Lock()

    def for_backend(self, backend_id: int) -> BackendGuard:
        with self._lock:
            guard = self._guards.get(backend_id)
            if guard is None:
                breaker = CircuitBreaker(
                    backend_id=backend_id,
                    failure_threshold=self._failure_threshold,
                    reset_seconds=self._reset_seconds,
                )
                guard = BackendGuard(breaker, concurrency=self._concurrency)
                self._guards[backend_id] = guard
            return guard

    def forget(self, backend_id: int) -> None:
        with self._lock:
            self._guards.pop(backend_id, None)
