"""The dialogue's transition table, read as data: its shape is what the bot may do."""

from __future__ import annotations

import pytest

from almacen.modules.bots import machine


def reachable(start: str) -> set[str]:
    seen, frontier = {start}, [start]
    while frontier:
        state = frontier.pop()
        for (source, _event), target in machine.TRANSITIONS.items():
            if source == state and target not in seen:
                seen.add(target)
                frontier.append(target)
    return seen


def test_every_state_is_reachable_from_the_opening() -> None:
    assert reachable(machine.VERIFYING) == set(machine.STATES)


def test_nothing_leaves_a_terminal_state() -> None:
    assert not [key for key in machine.TRANSITIONS if key[0] in machine.TERMINAL]


def test_every_open_state_can_end_or_hand_over() -> None:
    for state in set(machine.STATES) - machine.TERMINAL:
        assert machine.advance(state, "end") == machine.ENDED
        assert machine.advance(state, "handover") == machine.HANDOVER


def test_the_debt_is_only_reached_through_identity() -> None:
    # Every way into a state that may speak of the debt starts from one that already may,
    # except the single move out of verification on a correct answer.
    entries = {
        (source, event)
        for (source, event), target in machine.TRANSITIONS.items()
        if target in machine.DISCLOSING_STATES and source not in machine.DISCLOSING_STATES
    }
    assert entries == {(machine.VERIFYING, "identity_ok")}


def test_a_promise_is_only_confirmed_after_its_read_back() -> None:
    confirmed = [k for k in machine.TRANSITIONS if k[1] == "promise_confirmed"]
    assert confirmed == [(machine.CONFIRMING, "promise_confirmed")]
    into_confirming = {s for (s, _), t in machine.TRANSITIONS.items() if t == machine.CONFIRMING}
    events = {e for (s, e), t in machine.TRANSITIONS.items() if t == machine.CONFIRMING}
    assert events == {"read_back", "stay"} and machine.VERIFYING not in into_confirming


def test_three_ways_out_of_verification_besides_success() -> None:
    assert machine.advance(machine.VERIFYING, "identity_failed") == machine.VERIFYING
    assert machine.advance(machine.VERIFYING, "identity_locked") == machine.LOCKED
    assert machine.advance(machine.VERIFYING, "wrong_person") == machine.ENDED


@pytest.mark.parametrize(
    ("state", "event"),
    [
        (machine.VERIFYING, "offer_made"),
        (machine.VERIFYING, "read_back"),
        (machine.VERIFIED, "promise_confirmed"),
        (machine.ENDED, "stay"),
        (machine.LOCKED, "identity_ok"),
    ],
)
def test_moves_the_table_lacks_are_refused(state: str, event: str) -> None:
    with pytest.raises(machine.IllegalTransitionError):
        machine.advance(state, event)
