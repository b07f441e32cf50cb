"""/exchange/nrb/: the queue of filings shared with the natural resources bureau."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from accounts.scoping import scope_prefixes

from .models import FilingDelivery
from .selectors import shares_for_view


@login_required
def nrb_queue(request: HttpRequest) -> HttpResponse:
    """/exchange/nrb/: the filings queued for the natural resources bureau, and each hand-over (the county
    bureau sees whether the bureau has picked its filings up; the bureau sees what it took)."""
    if not scope_prefixes(request.user, "filings.view"):
        return render(request, "nrb/forbidden.html", status=403)
    shares = shares_for_view(request.user).prefetch_related("deliveries__recipient").order_by("-pk")[:200]
    rows = [
        {
            "share": s,
            "api": [d for d in s.deliveries.all() if d.channel == FilingDelivery.Channel.API],
            "folder": [d for d in s.deliveries.all() if d.channel == FilingDelivery.Channel.FOLDER],
        }
        for s in shares
    ]
    return render(request, "nrb/queue.html", {"rows": rows})
