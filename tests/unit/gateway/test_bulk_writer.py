"""The background writer of bulk imports: in order, on one thread, errors never lost."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from almacen.gateway.bulk import BackgroundWriter


class _Bind:
    def __init__(self, name: str) -> None:
        self.dialect = type("Dialect", (), {"name": name})()


class _Session:
    """Only what the writer asks of a session: which database it is bound to."""

    def __init__(self, name: str) -> None:
        self._bind = _Bind(name)

    def get_bind(self) -> Any:
        return self._bind


def test_writes_run_in_order_on_one_other_thread() -> None:
    done: list[tuple[int, int]] = []

    def write(number: int) -> None:
        time.sleep(0.001 * (5 - number))  # the first is slowest: order must still hold
        done.append((number, threading.get_ident()))

    with BackgroundWriter(_Session("postgresql"), depth=2) as writer:  # type: ignore[arg-type]
        for number in range(5):
            writer.submit(write, number)
    assert [number for number, _ in done] == [0, 1, 2, 3, 4]
    threads = {ident for _, ident in done}
    assert len(threads) == 1
    assert threads != {threading.get_ident()}


def test_on_sqlite_every_write_runs_at_once_in_the_callers_thread() -> None:
    seen: list[int] = []
    with BackgroundWriter(_Session("sqlite")) as writer:  # type: ignore[arg-type]
        writer.submit(lambda: seen.append(threading.get_ident()))
        assert seen == [threading.get_ident()]


def test_a_failed_write_is_raised_and_later_writes_are_skipped() -> None:
    done: list[int] = []

    def write(number: int) -> None:
        if number == 1:
            raise ValueError("row 1 is bad")
        done.append(number)

    def run() -> None:
        with BackgroundWriter(_Session("postgresql"), depth=10) as writer:  # type: ignore[arg-type]
            for number in range(4):
                writer.submit(write, number)

    with pytest.raises(ValueError, match="row 1 is bad"):
        run()
    assert done == [0]


def test_the_callers_error_wins_and_the_writer_is_idle_when_the_block_ends() -> None:
    started = threading.Event()
    finished: list[int] = []

    def slow(number: int) -> None:
        started.set()
        time.sleep(0.05)
        finished.append(number)

    def run() -> None:
        with BackgroundWriter(_Session("postgresql"), depth=5) as writer:  # type: ignore[arg-type]
            writer.submit(slow, 0)
            writer.submit(slow, 1)
            started.wait(1)
            raise KeyError("the caller failed")

    with pytest.raises(KeyError):
        run()
    # The running write finished before the block let the caller roll back; the next one,
    # not started, was skipped.
    assert finished == [0]
