"""The user's own pages: the in-app inbox."""

from typing import cast

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from .models import Notification, User
from .notifications import notifications_mark_read


@login_required
def notifications(request: HttpRequest) -> HttpResponse:
    """/notifications/: the user's messages, newest first; "mark all read"."""
    if request.method == "POST":
        notifications_mark_read(user=cast(User, request.user))
        return redirect("notifications")
    mine = Notification.objects.filter(recipient_id=request.user.pk)
    return render(request, "registration/notifications.html", {"items": mine[:100]})
