"""One-time codes 意愿认证: used once, for one purpose, locked after five wrong tries, sent through the
configured sender."""

import logging

import pytest

from accounts.identity import IdentityError, otp_issue, otp_verify
from accounts.models import User
from audit.models import AuditEvent


def _last_event_id() -> int:
    """Events after this one are the test's (a browser test's server may have committed others before)."""
    return AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0


def test_a_code_is_used_once_for_its_purpose(demo, caplog, django_capture_on_commit_callbacks):
    farmer = User.objects.get(username="farmer")
    since = _last_event_id()
    with caplog.at_level(logging.INFO, logger="tianjie.notify"):
        with django_capture_on_commit_callbacks(execute=True) as sent:
            code = otp_issue(user=farmer, purpose="签署合同 A")
            assert code not in caplog.text  # nothing leaves before the code is stored (committed)
    assert sent and code in caplog.text  # the local sender logs what an SMS gateway would send
    with pytest.raises(IdentityError, match="过期或未发送"):
        otp_verify(user=farmer, purpose="签署合同 B", code=code)  # another purpose
    otp_verify(user=farmer, purpose="签署合同 A", code=code)
    with pytest.raises(IdentityError, match="过期或未发送"):
        otp_verify(user=farmer, purpose="签署合同 A", code=code)  # used
    events = list(AuditEvent.objects.filter(id__gt=since, actor=farmer, action__startswith="otp.").order_by("id"))
    assert [e.action for e in events] == ["otp.issued", "otp.used"]  # issue and use are audited
    assert all(e.data["purpose"] == "签署合同 A" and code not in str(e.data) for e in events)  # never the code


def test_five_wrong_tries_lock_the_code(demo):
    farmer = User.objects.get(username="farmer")
    since = _last_event_id()
    code = otp_issue(user=farmer, purpose="签署合同 C")
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(5):
        with pytest.raises(IdentityError, match="不正确"):
            otp_verify(user=farmer, purpose="签署合同 C", code=wrong)
    assert (
        AuditEvent.objects.filter(id__gt=since, actor=farmer, action="otp.wrong").count() == 5
    )  # each wrong try is kept
    with pytest.raises(IdentityError, match="次数过多"):
        otp_verify(user=farmer, purpose="签署合同 C", code=code)  # even the right one now
