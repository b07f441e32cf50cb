"""Events the publicity app announces; higher apps listen (a survey waits for its notice to end).
Sent inside the service's transaction."""

from django.dispatch import Signal

# A notice ended (its period over and no objection left open): kwargs `notice` and `actor`.
notice_closed = Signal()
