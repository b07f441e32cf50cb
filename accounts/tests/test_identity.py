"""One-time codes 意愿认证: used once, for one purpose, locked after five wrong tries, sent through the
configured sender."""

import logging
from datetime import UTC, datetime, timedelta

import pytest

from accounts.identity import IdentityError, otp_issue, otp_verify
from accounts.models import OneTimeCode, User
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
    assert sent and "田界验证码" in caplog.text  # the local sender logs what was sent, after commit
    assert code not in caplog.text and "******" in caplog.text  # but never the code itself
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


def test_codes_per_purpose_are_limited_and_a_new_code_does_not_reset_the_wrong_tries(demo):
    farmer = User.objects.get(username="farmer")
    codes = [otp_issue(user=farmer, purpose="签署合同 D") for _ in range(3)]
    with pytest.raises(IdentityError) as refused:  # a fourth within 15 minutes
        otp_issue(user=farmer, purpose="签署合同 D")
    assert refused.value.code == "otp_too_many"
    otp_issue(user=farmer, purpose="签署合同 E")  # another purpose has its own count
    wrong = next(c for c in ("000000", "111111", "222222", "333333") if c not in codes)
    for _ in range(4):
        with pytest.raises(IdentityError, match="不正确"):
            otp_verify(user=farmer, purpose="签署合同 E", code=wrong)
    fresh = otp_issue(user=farmer, purpose="签署合同 E")  # a new code: the four wrong tries still count
    with pytest.raises(IdentityError, match="不正确"):
        otp_verify(user=farmer, purpose="签署合同 E", code=wrong if wrong != fresh else "444444")
    with pytest.raises(IdentityError) as locked:
        otp_verify(user=farmer, purpose="签署合同 E", code=fresh)  # the fifth wrong try locked the purpose
    assert locked.value.code == "otp_locked"
    with pytest.raises(IdentityError) as locked:
        otp_issue(user=farmer, purpose="签署合同 E")
    assert locked.value.code == "otp_locked"
    hour_ago = datetime.now(UTC) - timedelta(minutes=61)
    OneTimeCode.objects.filter(user=farmer, purpose="签署合同 E").update(created_at=hour_ago)
    otp_verify(user=farmer, purpose="签署合同 E", code=otp_issue(user=farmer, purpose="签署合同 E"))  # an hour on


def test_production_refuses_one_time_codes_with_no_real_channel(settings):
    from accounts.checks import otp_channel_check

    settings.TIANJIE_OTP_SENDERS = ["accounts.messaging.LogSender", "accounts.messaging.InboxSender"]
    assert [e.id for e in otp_channel_check(None)] == ["tianjie.E010"]
    settings.TIANJIE_OTP_SENDERS, settings.TIANJIE_SMS_URL = ["accounts.messaging.HttpSmsSender"], "http://sms.example"
    assert [e.id for e in otp_channel_check(None)] == ["tianjie.E011"]
    settings.TIANJIE_SMS_URL = "https://sms.example.gov.cn/send"
    assert otp_channel_check(None) == []


def test_the_sms_sender_posts_to_the_gateway(demo, settings):
    """HttpSmsSender against a gateway on this machine: the phone, the text and the token arrive."""
    import json
    import threading
    from http.server import BaseHTTPRequestHandler, HTTPServer

    from accounts.messaging import HttpSmsSender

    received = []

    class Gateway(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((self.headers["Authorization"], json.loads(body)))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Gateway)
    thread = threading.Thread(target=server.handle_request, daemon=True)
    thread.start()
    settings.TIANJIE_SMS_URL, settings.TIANJIE_SMS_TOKEN = f"http://127.0.0.1:{server.server_port}/send", "t0ken"
    farmer = User.objects.get(username="farmer")
    HttpSmsSender().send(farmer, "田界验证码", "您的验证码 123456", "")
    thread.join(5)
    server.server_close()
    assert received == [("Bearer t0ken", {"phone": farmer.phone, "text": "【田界】田界验证码：您的验证码 123456"})]
