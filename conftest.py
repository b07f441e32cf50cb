"""Shared fixtures: a small demo county loaded once into the real test PostGIS, and its demo logins."""

import datetime
import math
import shutil
from dataclasses import dataclass

import pytest

COUNTY = "450326"


@dataclass
class Demo:
    county: str
    township: str  # 永福镇, where the `township` login sits
    other_township: str  # 罗锦镇, where `township2` sits


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):  # noqa: ANN001, ANN201
    from django.conf import settings

    from demo.load import demo_county_generate
    from demo.users import demo_users_create
    from spatial.models import Region

    files = settings.MEDIA_ROOT.parent  # .tianjie/test or test-gw<n> (config/settings/test.py): a clean start
    if files.name.startswith("test"):
        shutil.rmtree(files, ignore_errors=True)
    with django_db_blocker.unblock():
        demo_county_generate(county_code=COUNTY, n_parcels=3000, seed=7, progress=lambda msg: None)
        demo_users_create(county=Region.objects.get(code=COUNTY))


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    """Each test starts with an empty cache (the worker's own Redis database): throttle counts and remembered
    scopes of one test do not reach the next."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def demo(db) -> Demo:  # noqa: ANN001
    return Demo(county=COUNTY, township=f"{COUNTY}100", other_township=f"{COUNTY}101")


@pytest.fixture(scope="module")
def server(django_db_setup, django_db_blocker):  # noqa: ANN001, ANN201
    """A live HTTP server for browsers and GIS clients, on its own connection: it sees committed data only
    (the demo county), never a test's transaction. Unlike pytest-django's live_server it flushes nothing."""
    from django.contrib.staticfiles.handlers import StaticFilesHandler
    from django.db import connection
    from django.test.testcases import LiveServerThread

    with django_db_blocker.unblock():
        thread = LiveServerThread("127.0.0.1", StaticFilesHandler, connections_override=None, port=0)
        thread.daemon = True
        thread.start()
        thread.is_ready.wait()
        if thread.error:
            raise thread.error
        yield f"http://127.0.0.1:{thread.port}"
        thread.terminate()
        # Keep-alive request threads may still hold a connection; end them so the test database can be dropped.
        with connection.cursor() as cur:
            cur.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )


@pytest.fixture
def keep_test_connection(monkeypatch):  # noqa: ANN001, ANN201
    """For tests that call config.wsgi.application: as Django's test client does, keep the test's
    transaction alive through the request's connection hygiene."""
    from django.core import signals
    from django.db import close_old_connections

    import config.wsgi as wsgi

    monkeypatch.setattr(wsgi, "close_old_connections", lambda: None)
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def login(client):  # noqa: ANN001, ANN201
    """Log the test client in as one of the demo users."""
    from accounts.models import User

    def _login(username: str):  # noqa: ANN202
        user = User.objects.get(username=username)
        client.force_login(user)
        return client

    return _login


@pytest.fixture
def signed_draft(demo, settings, tmp_path):  # noqa: ANN001, ANN201
    """The demo farmer's household: a new contract (2028–2057) drafted and signed online by both parties.
    Returns (document, the current contract, farmer, village officer)."""
    from accounts.models import Office, User
    from contracts.filing import contract_draft
    from contracts.models import Contract, ContractDocument, Contractor

    settings.MEDIA_ROOT = tmp_path / "media"
    farmer, village = User.objects.get(username="farmer"), User.objects.get(username="village")
    household = Contractor.objects.get(cbfbm=Office.objects.get(user=farmer).contractor_code, valid_to__isnull=True)
    contract = Contract.objects.get(contractor=household, valid_to__isnull=True)
    verify_in_person(farmer, household, village)
    draft = contract_draft(
        actor=village, contract=contract, term_start=datetime.date(2028, 1, 1), term_end=datetime.date(2057, 12, 31)
    )
    document = sign_online(draft, farmer, village)
    assert document.status == ContractDocument.Status.SIGNED
    return document, contract, farmer, village


def verify_in_person(person, household, officer):  # noqa: ANN001, ANN201
    """The village officer checks the household's representative in person (name and ID number of the
    household record), which online signing requires first."""
    from contracts.signing import signer_identity_verify

    return signer_identity_verify(
        actor=officer,
        person=person,
        household=household,
        name=household.name,
        id_number=household.id_number,
        attested=True,
    )


def sign_online(draft, farmer, village):  # noqa: ANN001, ANN201
    """The draft's document generated by the issuer and signed online by the household, then the issuer,
    each with a one-time code (the signer's identity checked before)."""
    from accounts.identity import otp_issue
    from contracts.signing import document_generate, document_sign, sign_purpose

    document = document_generate(actor=village, contract=draft)
    for actor, role in ((farmer, "contractor"), (village, "issuer")):
        code = otp_issue(user=actor, purpose=sign_purpose(document, role))
        document = document_sign(actor=actor, document=document, role=role, code=code)
    return document


def lonlat_to_tile(lon: float, lat: float, z: int) -> tuple[int, int]:
    """The XYZ (Web Mercator) tile holding a point."""
    n = 2**z
    x = int((lon + 180.0) / 360.0 * n)
    y = int((1.0 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2.0 * n)
    return x, y


def wait_until_finished(job, seconds: float = 60):  # noqa: ANN001, ANN201
    """Poll a background job (core.progress.ProgressJob) until it has ended or time is up."""
    import time

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        job.refresh_from_db()
        if job.finished_at:
            break
        time.sleep(0.2)
    return job
