"""Production settings pass Django's deployment checklist without a single warning."""

import base64
import os
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_production_settings_pass_check_deploy():
    env = dict(
        os.environ,
        DJANGO_SETTINGS_MODULE="config.settings.production",
        TIANJIE_SECRET_KEY=secrets.token_urlsafe(50),
        TIANJIE_FIELD_KEY=base64.b64encode(os.urandom(32)).decode(),
        TIANJIE_ALLOWED_HOSTS="tianjie.example.gov.cn",
        TIANJIE_CSRF_TRUSTED_ORIGINS="https://tianjie.example.gov.cn",
        TIANJIE_SMS_URL="https://sms.example.gov.cn/send",
        TIANJIE_SMS_TOKEN=secrets.token_urlsafe(20),
    )
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)  # set by the browser tests for their own process only
    res = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert res.returncode == 0, res.stdout + res.stderr
    assert "no issues" in res.stdout


def test_production_refuses_to_start_without_secrets():
    env = {k: v for k, v in os.environ.items() if not k.startswith("TIANJIE_")}
    env["DJANGO_SETTINGS_MODULE"] = "config.settings.production"
    res = subprocess.run([sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True)
    assert res.returncode != 0 and "TIANJIE_SECRET_KEY" in res.stderr


def test_the_servers_default_to_production_settings_and_manage_py_to_local():
    """A gunicorn or a Celery worker started without DJANGO_SETTINGS_MODULE gets production settings (and so
    refuses to start without its secrets); only manage.py, a developer's tool, defaults to local."""
    code = (
        "import os; os.environ.pop('DJANGO_SETTINGS_MODULE', None); import config.celery; "
        "print(os.environ['DJANGO_SETTINGS_MODULE'])"
    )
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    res = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True)
    assert res.stdout.strip() == "config.settings.production", res.stderr
    wsgi = (ROOT / "config" / "wsgi.py").read_text()
    assert 'setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")' in wsgi
    assert 'setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")' in (ROOT / "manage.py").read_text()
