"""Signals only announce: the listeners of the lower apps' events (approvals, exchange, the pages, surveys)
may run in any order and give the same result. Here they are connected in the reverse of INSTALLED_APPS
order, and a member change and an exchange between two households go to a filed contract as before."""

import pytest
from django.apps import apps

from approvals.tests import test_end_to_end as flows
from contracts.signals import contract_filed
from publicity.signals import notice_closed
from surveys.signals import survey_accepted

SIGNALS = (contract_filed, notice_closed, survey_accepted)


def _listeners(signal) -> list[str]:
    return [key[0] for key, *_ in signal.receivers]  # the dispatch_uid of each, in calling order


@pytest.fixture
def listeners_reversed():
    saved = {signal: list(signal.receivers) for signal in SIGNALS}
    before = {signal: _listeners(signal) for signal in SIGNALS}
    for signal in SIGNALS:
        signal.receivers = []
        signal.sender_receivers_cache.clear()
    for config in reversed(list(apps.get_app_configs())):  # each app connects its listeners in ready()
        config.ready()
    for signal in SIGNALS:
        assert _listeners(signal) == before[signal][::-1]
    assert _listeners(contract_filed)[0] == "frontend_map.tell_filing"  # approvals no longer comes before it
    yield
    for signal, receivers in saved.items():
        signal.receivers = receivers
        signal.sender_receivers_cache.clear()


def test_a_member_change_is_filed_whatever_order_the_listeners_run_in(demo, posting_day, listeners_reversed):
    flows.test_a_member_change_from_the_farmers_request_to_a_filed_contract(demo, posting_day)


def test_an_exchange_is_filed_together_whatever_order_the_listeners_run_in(demo, posting_day, listeners_reversed):
    flows.test_an_exchange_moves_each_parcel_to_the_other_contract_filed_together(demo, posting_day)


def test_a_split_is_filed_whatever_order_the_listeners_run_in(demo, posting_day, listeners_reversed):
    flows.test_a_split_makes_a_new_household_with_its_first_contract(demo, posting_day)
