"""The filing rules an application sets on its drafts live in the contracts app and are checked by
contract_file itself (ARCHITECTURE.md): a draft held while its contract notice runs is refused until the
notice ends; two drafts of one application are filed together or not at all. And a filing tells nobody
anything until it commits: a filing that rolls back sends nothing and queues nothing."""

import datetime

import pytest
from django.db import transaction

from accounts.messaging import OUTBOX
from accounts.models import Notification, Office, User
from audit.models import AuditEvent
from conftest import sign_online, verify_in_person
from contracts.filing import (
    FilingError,
    contract_draft,
    contract_file,
    contracts_file_together,
    contracts_hold,
    contracts_release,
)
from contracts.models import Contract, Contractor
from core.errors import PermissionDeniedError
from nrb.models import FilingShare
from spatial.models import VersionStatus


class Boom(Exception):
    """The work around a filing fails after the filing itself went through."""


def _u(name: str) -> User:
    return User.objects.get(username=name)


@pytest.fixture
def outbox():
    OUTBOX.clear()
    yield OUTBOX
    OUTBOX.clear()


def _signed(username: str) -> tuple:
    """The household of a demo farmer login: a new term drafted and signed online by both parties."""
    person, village = _u(username), _u("village")
    household = Contractor.objects.get(cbfbm=Office.objects.get(user=person).contractor_code, valid_to__isnull=True)
    verify_in_person(person, household, village)
    contract = Contract.objects.get(contractor=household, valid_to__isnull=True)
    draft = contract_draft(
        actor=village, contract=contract, term_start=datetime.date(2028, 1, 1), term_end=datetime.date(2057, 12, 31)
    )
    return sign_online(draft, person, village), contract


def test_a_held_draft_is_refused_until_its_notice_ends(demo, settings, tmp_path, login):
    settings.MEDIA_ROOT = tmp_path / "media"
    document, old = _signed("farmer")
    county, village = _u("county"), _u("village")
    contracts_hold(
        actor=village, drafts=[document.contract], application_code="YW4503262026000099", reason="合同正在公示"
    )
    page = login("county").get("/contracts/filing/").content.decode()
    assert "合同正在公示，期满后才能备案" in page and f'name="document" value="{document.pk}"' not in page
    with pytest.raises(FilingError) as refused:
        contract_file(actor=county, document=document)
    assert refused.value.code == "on_hold" and "公示期满" in refused.value.zh
    assert Contract.objects.get(pk=document.contract_id).status == VersionStatus.PENDING
    assert Contract.objects.get(pk=old.pk).valid_to is None  # nothing changed

    with pytest.raises(PermissionDeniedError):  # another township's officer cannot lift the hold
        contracts_release(actor=_u("township2"), application_code="YW4503262026000099")
    released = contracts_release(actor=None, application_code="YW4503262026000099")  # the night job
    assert [c.pk for c in released] == [document.contract_id]
    assert AuditEvent.objects.filter(action="contract.released", subject_id=str(document.contract_id)).exists()
    entry = contract_file(actor=county, document=document)
    assert entry.contract.status == VersionStatus.CURRENT


def test_only_the_issuer_holds_a_draft(demo, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    document, _old = _signed("farmer")
    for outsider in ("township2", "farmer", "surveyor"):
        with pytest.raises(PermissionDeniedError):
            contracts_hold(actor=_u(outsider), drafts=[document.contract], application_code="YW1", reason="x")
    assert Contract.objects.get(pk=document.contract_id).filing_hold == ""


def test_two_drafts_of_one_application_are_filed_together_or_not_at_all(demo, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    doc_a, _ = _signed("farmer")
    doc_b, _ = _signed("farmer2")
    county = _u("county")
    contracts_hold(
        actor=_u("village"),
        drafts=[doc_a.contract, doc_b.contract],
        application_code="YW4503262026000098",
        reason="公示中",
    )
    contracts_release(actor=None, application_code="YW4503262026000098")
    for alone in (doc_a, doc_b):
        with pytest.raises(FilingError) as refused:
            contract_file(actor=county, document=alone)
        assert refused.value.code == "file_together"
    entries = contracts_file_together(actor=county, documents=[doc_a, doc_b])
    assert {e.contract.status for e in entries} == {VersionStatus.CURRENT}


def test_a_filing_tells_and_queues_only_after_it_commits(
    demo, settings, tmp_path, outbox, django_capture_on_commit_callbacks
):
    settings.MEDIA_ROOT = tmp_path / "media"
    document, _old = _signed("farmer")
    OUTBOX.clear()
    with django_capture_on_commit_callbacks(execute=False) as effects:
        entry = contract_file(actor=_u("county"), document=document)
        assert outbox == []  # inside the transaction nobody outside has been told anything yet
    assert effects  # the messages wait for the commit
    for effect in effects:
        effect()
    told = {name for name, title, *_ in outbox if entry.contract.cbhtbm in title}
    assert {"farmer", "village"} <= told


def test_a_filing_that_rolls_back_sends_nothing_and_queues_nothing(
    demo, settings, tmp_path, outbox, django_capture_on_commit_callbacks
):
    settings.MEDIA_ROOT = tmp_path / "media"
    document, _old = _signed("farmer")
    OUTBOX.clear()
    notes = Notification.objects.count()
    with django_capture_on_commit_callbacks(execute=True) as effects:
        with pytest.raises(Boom), transaction.atomic():
            contract_file(actor=_u("county"), document=document)
            raise Boom
    assert effects == [] and outbox == []  # no message, no job, no share left for after the commit
    assert not FilingShare.objects.filter(cbhtbm=document.contract.cbhtbm).exists()
    assert Notification.objects.count() == notes
    assert Contract.objects.get(pk=document.contract_id).status == VersionStatus.PENDING


def test_a_pair_whose_second_filing_fails_files_neither_and_tells_nobody(
    demo, settings, tmp_path, outbox, django_capture_on_commit_callbacks
):
    settings.MEDIA_ROOT = tmp_path / "media"
    doc_a, old_a = _signed("farmer")
    doc_b, _old_b = _signed("farmer2")
    contracts_hold(
        actor=_u("village"), drafts=[doc_a.contract, doc_b.contract], application_code="YW4503262026000097", reason="x"
    )
    contracts_release(actor=None, application_code="YW4503262026000097")
    with open(doc_b.path, "r+b") as pdf:  # the second contract's signed PDF no longer verifies
        pdf.seek(-200, 2)
        pdf.write(b"\0" * 100)
    OUTBOX.clear()
    with django_capture_on_commit_callbacks(execute=True) as effects:
        with pytest.raises(FilingError) as refused:
            contracts_file_together(actor=_u("county"), documents=[doc_a, doc_b])
    assert refused.value.code == "signature_invalid"
    assert effects == [] and outbox == []
    assert Contract.objects.get(pk=doc_a.contract_id).status == VersionStatus.PENDING  # the first was undone
    assert Contract.objects.get(pk=old_a.pk).valid_to is None
    assert not FilingShare.objects.filter(cbhtbm__in=[doc_a.contract.cbhtbm, doc_b.contract.cbhtbm]).exists()
