"""Events the contracts app announces; higher apps listen (ARCHITECTURE.md: a lower app never imports a
higher one). Sent inside the service's transaction, so a listener's writes commit or roll back with it."""

from django.dispatch import Signal

# A contract was filed 备案: kwargs `entry` (RegisterEntry) and `actor`. The exchange app queues it for the
# natural resources bureau; the pages app tells the household and the issuer.
contract_filed = Signal()
