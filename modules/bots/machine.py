"""The dialogue's state machine as data: states, the events that move them, and where to.

The table is the single source of the dialogue's shape: :func:`advance` refuses any move it
does not list, and the unit tests read the table itself (every state reachable, nothing
leaves a terminal state, nothing about a debt is said before ``verified``).
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = [
    "DISCLOSING_STATES",
    "STATES",
    "TERMINAL",
    "TRANSITIONS",
    "IllegalTransitionError",
    "advance",
]

#: Waiting for the identity answer (the disclosure and the challenge have been said).
VERIFYING = "verifying"
#: Identity checked: the bot may speak about the debt, quote, offer and take promises.
VERIFIED = "verified"
#: An offer is on the table, waiting for yes or no (or a counter).
OFFERING = "offering"
#: A promise was read back, waiting for the debtor's confirmation.
CONFIRMING = "confirming"
#: A person takes over; the bot only says so.
HANDOVER = "handover"
#: Too many failed identity answers; a person must check who this is.
LOCKED = "locked"
#: Over: bye, opt-out, a wrong person, the turn limit.
ENDED = "ended"

STATES = (VERIFYING, VERIFIED, OFFERING, CONFIRMING, HANDOVER, LOCKED, ENDED)
TERMINAL = frozenset({HANDOVER, LOCKED, ENDED})
#: The only states in which anything about a debt may be said.
DISCLOSING_STATES = frozenset({VERIFIED, OFFERING, CONFIRMING})

_OPEN = (VERIFYING, VERIFIED, OFFERING, CONFIRMING)

TRANSITIONS: Mapping[tuple[str, str], str] = {
    (VERIFYING, "stay"): VERIFYING,
    (VERIFYING, "identity_ok"): VERIFIED,
    (VERIFYING, "identity_failed"): VERIFYING,
    (VERIFYING, "identity_locked"): LOCKED,
    (VERIFYING, "wrong_person"): ENDED,
    (VERIFIED, "stay"): VERIFIED,
    (VERIFIED, "offer_made"): OFFERING,
    (VERIFIED, "read_back"): CONFIRMING,
    (OFFERING, "stay"): OFFERING,
    (OFFERING, "offer_made"): OFFERING,
    (OFFERING, "offer_accepted"): VERIFIED,
    (OFFERING, "offer_declined"): VERIFIED,
    (OFFERING, "read_back"): CONFIRMING,
    (CONFIRMING, "stay"): CONFIRMING,
    (CONFIRMING, "read_back"): CONFIRMING,
    (CONFIRMING, "promise_confirmed"): VERIFIED,
    (CONFIRMING, "promise_declined"): VERIFIED,
    **{(state, "handover"): HANDOVER for state in _OPEN},
    **{(state, "end"): ENDED for state in _OPEN},
}


class IllegalTransitionError(RuntimeError):
    """Raised when the dialogue asks for a move the table does not have (a bug, never input)."""


def advance(state: str, event: str) -> str:
    """The state after ``event`` in ``state``.

    :raises IllegalTransitionError: when the table has no such move.
    """
    try:
        return TRANSITIONS[(state, event)]
    except KeyError:
        raise IllegalTransitionError(f"no transition from {state!r} on {event!r}") from None
