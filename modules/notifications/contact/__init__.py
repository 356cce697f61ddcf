"""Contact policy: may this debtor be contacted on this channel now, and if not, why and when.

Rule packs per jurisdiction (data files citing their legal sources) tightened by the tenant's
own rules; local hours, days and holidays; frequency caps over rolling windows; consent,
opt-outs (recognised in free text too) and disputes; signed RFC 8058 unsubscribe links.
"""

from __future__ import annotations

from .batch import ContactBatch as ContactBatch
from .consent import is_opted_out as is_opted_out
from .consent import record_consent as record_consent
from .consent import record_opt_out as record_opt_out
from .decision import ContactDecision as ContactDecision
from .decision import Reason as Reason
from .decision import Recipient as Recipient
from .errors import ContactProblem as ContactProblem
from .intent import is_opt_out_intent as is_opt_out_intent
from .service import check_contact as check_contact
from .service import record_attempt as record_attempt
from .service import resolve_recipient as resolve_recipient
from .service import unsubscribe_url as unsubscribe_url
from .tokens import BadUnsubscribeToken as BadUnsubscribeToken

__all__ = [
    "BadUnsubscribeToken",
    "ContactBatch",
    "ContactDecision",
    "ContactProblem",
    "Reason",
    "Recipient",
    "check_contact",
    "is_opt_out_intent",
    "is_opted_out",
    "record_attempt",
    "record_consent",
    "record_opt_out",
    "resolve_recipient",
    "unsubscribe_url",
]
