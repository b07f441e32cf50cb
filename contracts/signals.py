"""Events the contracts app announces; higher apps listen (ARCHITECTURE.md: a lower app never imports a
higher one). Sent inside the service's transaction, once what they announce is done, so a listener's writes
commit or roll back with it. A signal never decides whether its event may happen (the service has checked),
and listeners may run in any order; what a listener sends outside leaves after commit (core.effects)."""

from django.dispatch import Signal

# Contracts were filed 备案: kwargs `entries` (the RegisterEntry of each contract filed in one transaction:
# one, or both drafts of a transfer, an exchange, a merge or a split) and `actor`. The exchange app queues
# them for the natural resources bureau; the pages app tells the households and the issuer; approvals files
# the application they belong to.
contract_filed = Signal()
