"""HTTP handlers of ``/v1/ledger``, one module per resource, named after the operationIds of
``openapi/ledger.yaml`` (``debtors.create_debtor`` is :func:`debtors.create_debtor`).

connexion has already checked each request against the spec; a handler turns strings into
dates and Money (saying which member was wrong), calls the service on the request's session
and dumps the answer.
"""
