"""A farmer logs in with the phone on their account and their ID number, then a one-time code; nothing
says which of phone or ID number was wrong, and codes are not sent without limit."""

import re

import pytest

from accounts.models import Notification, OneTimeCode, User
from audit.models import AuditEvent
from contracts.models import Contractor
from demo.users import DEMO_FARMER_PHONE


@pytest.fixture
def farmer(demo):
    user = User.objects.get(username="farmer")
    household = Contractor.objects.get(cbfbm=user.offices.get().contractor_code, valid_to__isnull=True)
    return user, household


def _code_in_inbox(user: User) -> str:
    note = Notification.objects.filter(recipient=user, title="田界验证码").order_by("-created_at").first()
    return re.search(r"验证码 (\d{6})", note.body).group(1)


def test_phone_and_id_number_then_the_code_log_the_farmer_in(client, farmer, django_capture_on_commit_callbacks):
    user, household = farmer
    with django_capture_on_commit_callbacks(execute=True):  # the code is sent once its request commits
        page = client.post(
            "/my/login/", {"action": "code", "phone": DEMO_FARMER_PHONE, "id_number": household.id_number}
        )
    assert 'id="code-sent"' in page.content.decode()
    wrong = f"{(int(_code_in_inbox(user)) + 1) % 1_000_000:06d}"
    page = client.post("/my/login/", {"action": "login", "code": wrong})
    assert "验证码" in page.content.decode() and "_auth_user_id" not in client.session
    resp = client.post("/my/login/", {"action": "login", "code": _code_in_inbox(user)})
    assert resp.status_code == 302 and resp["Location"] == "/my/contracts/"
    assert client.session["_auth_user_id"] == str(user.pk)
    event = AuditEvent.objects.filter(action="user.logged_in", actor_id=user.pk).latest("id")
    assert event.data["method"] == "phone_otp"
    assert household.name in client.get("/my/contracts/").content.decode()


def _without_token(html: str) -> str:
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html)


def test_the_first_step_answers_alike_whether_or_not_phone_and_id_number_match(client, farmer):
    """Nothing tells whose ID number goes with a phone: a match and a mismatch get the same page; only the
    match gets a code, and a mismatch's "code" is simply wrong."""
    user, household = farmer
    assert client.post("/my/login/", {"action": "login", "code": "123456"}).content.decode().count("请先获取验证码")
    other = Contractor.objects.exclude(pk=household.pk).filter(valid_to__isnull=True).first()
    codes = OneTimeCode.objects.filter(user=user).count()  # a browser test may have committed some
    pages = [
        _without_token(client.post("/my/login/", {"action": "code", "phone": p, "id_number": i}).content.decode())
        for p, i in ((DEMO_FARMER_PHONE, other.id_number), ("13900000009", household.id_number))
    ]
    assert OneTimeCode.objects.filter(user=user).count() == codes  # no code for a mismatch
    matched = client.post(
        "/my/login/", {"action": "code", "phone": DEMO_FARMER_PHONE, "id_number": household.id_number}
    )
    assert OneTimeCode.objects.filter(user=user).count() == codes + 1
    assert pages[0] == pages[1] == _without_token(matched.content.decode())
    assert 'id="code-sent"' in pages[0] and "不符" not in pages[0]
    client.post("/my/login/", {"action": "code", "phone": "13900000009", "id_number": household.id_number})
    resp = client.post("/my/login/", {"action": "login", "code": "123456"})  # after a mismatch: just wrong
    assert "验证码不正确" in resp.content.decode() and "_auth_user_id" not in client.session
    bad = household.id_number[:-1] + ("0" if household.id_number[-1] != "0" else "1")
    page = client.post("/my/login/", {"action": "code", "phone": DEMO_FARMER_PHONE, "id_number": bad})
    assert "校验" in page.content.decode()  # a typing mistake in the ID number is told as such


def test_the_first_step_is_throttled_by_phone_and_by_address(client, farmer):
    """ID numbers cannot be tried against one phone by the thousand, nor phones from one address."""
    _user, household = farmer
    for _ in range(5):
        page = client.post("/my/login/", {"action": "code", "phone": "13900000077", "id_number": household.id_number})
        assert 'id="code-sent"' in page.content.decode()
    page = client.post("/my/login/", {"action": "code", "phone": "13900000077", "id_number": household.id_number})
    assert "尝试过于频繁" in page.content.decode()
    for n in range(14):  # 6 tries so far from this address; 20 allowed in the hour
        client.post("/my/login/", {"action": "code", "phone": f"1380000{n:04d}", "id_number": household.id_number})
    page = client.post("/my/login/", {"action": "code", "phone": "13700000001", "id_number": household.id_number})
    assert "尝试过于频繁" in page.content.decode()  # a new phone, but the same address
    other = client.post(
        "/my/login/",
        {"action": "code", "phone": "13700000002", "id_number": household.id_number},
        REMOTE_ADDR="10.9.8.7",
    )
    assert 'id="code-sent"' in other.content.decode()  # another address is not held back


def test_codes_are_limited_per_hour(client, farmer):
    _user, household = farmer
    form = {"action": "code", "phone": DEMO_FARMER_PHONE, "id_number": household.id_number}
    for _ in range(5):
        assert 'id="code-sent"' in client.post("/my/login/", form).content.decode()
    assert "过于频繁" in client.post("/my/login/", form).content.decode()
