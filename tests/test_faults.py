"""Faults through the real provider host against the independent Bird double: rate limits, 5xx, ambiguous
writes, rollbacks that must retry, unreachable API, bad key, and junk input to check."""

from __future__ import annotations

import itertools
import re
import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bird_double import KEY, WS
from engine_double.host import ProviderError, ProviderHost
from helpers import example_inputs, resource_classes
from pulumi_bird import SmsChannel, VoiceChannel, WebhookSubscription
from pulumi_bird.api.retry import RetryPolicy

CONNECTORS = r"^/workspaces/[^/]+/connectors$"
ONE_CONNECTOR = r"^/workspaces/[^/]+/connectors/[^/]+$"
STATUS = r"/status$"
SUBSCRIPTIONS = r"/webhook-subscriptions$"


def sms(inputs_of, pn=None):
    pn = pn or str(uuid.uuid4())
    return inputs_of(lambda: SmsChannel("sms", phone_number_id=pn, channel_message_type="2fa"))


def up(host, reg):
    checked = host.check(reg.urn, reg.inputs)
    assert checked.failures == []
    return host.create(reg.urn, checked.inputs)


def test_three_rate_limits_then_success(host, double, inputs_of):
    double.script("POST", CONNECTORS, 429, {"code": "RATE_LIMITED", "message": "too many requests"}, times=3)
    double.script("GET", STATUS, 429, {"code": "RATE_LIMITED", "message": "too many requests"}, times=3,
                  headers={"Retry-After": "0.2"})
    pn = str(uuid.uuid4())
    created = up(host, sms(inputs_of, pn))
    assert created.outs["channel_id"]
    assert [c.status for c in double.calls("POST")] == [429, 429, 429, 201]
    statuses = double.calls("GET", "/status")
    assert [c.status for c in statuses] == [429, 429, 429, 200]
    gaps = [b.at - a.at for a, b in itertools.pairwise(statuses)]
    assert all(g >= 0.2 for g in gaps)  # Retry-After honoured
    # Exactly one connector on the number (the double is shared by the module: count this number's only),
    # and it is the one the create returned: the three refused POSTs made nothing.
    assert [c["id"] for c in double.connectors_for(pn)] == [created.id]


def test_server_errors_on_refresh_are_retried(host, double, inputs_of):
    reg = sms(inputs_of)
    created = up(host, reg)
    double.script("GET", ONE_CONNECTOR, 503, {"code": "UNAVAILABLE", "message": "try again later"}, times=2)
    double.script("GET", STATUS, 502, {"code": "BAD_GATEWAY", "message": "upstream failed"}, times=1)
    read = host.read(reg.urn, created.id, properties=created.outs)
    assert read.id == created.id and read.outs["channel_id"] == created.outs["channel_id"]


def test_persistent_server_errors_on_refresh_name_bird_and_the_url(host, double, inputs_of):
    reg = sms(inputs_of)
    created = up(host, reg)
    double.script("GET", ONE_CONNECTOR, 500, {"code": "INTERNAL", "message": "database on fire"}, times=100)
    with pytest.raises(ProviderError) as caught:
        host.read(reg.urn, created.id, properties=created.outs)
    text = str(caught.value)
    assert "INTERNAL" in text and "database on fire" in text and f"/connectors/{created.id}" in text and "GET" in text
    double.scripts.clear()


def test_post_that_commits_then_fails_leaves_exactly_one_connector(host, double, inputs_of):
    pn = str(uuid.uuid4())
    double.script("POST", CONNECTORS, 502, {"code": "BAD_GATEWAY", "message": "upstream timed out"}, commit=True)
    created = up(host, sms(inputs_of, pn))
    assert len(double.connectors_for(pn)) == 1
    assert double.connectors_for(pn)[0]["id"] == created.id
    assert len(double.calls("POST")) == 1  # found by looking, not by posting again


def test_post_that_fails_without_committing_is_retried_once_looked_up(host, double, inputs_of):
    pn = str(uuid.uuid4())
    double.script("POST", CONNECTORS, 503, {"code": "UNAVAILABLE", "message": "try again later"})
    created = up(host, sms(inputs_of, pn))
    assert [c.status for c in double.calls("POST")] == [503, 201]
    assert [c["id"] for c in double.connectors_for(pn)] == [created.id]


def test_webhook_post_that_commits_then_fails_leaves_one_subscription(host, double, inputs_of):
    url = f"https://hooks.example.com/{uuid.uuid4()}"
    before = len(double.subscriptions)
    double.script("POST", SUBSCRIPTIONS, 502, {"code": "BAD_GATEWAY", "message": "upstream timed out"}, commit=True)
    reg = inputs_of(lambda: WebhookSubscription("h", service="channels", event="channel.created", url=url))
    created = up(host, reg)
    mine = [s for s in double.subscriptions.values() if s["url"] == url]
    assert [s["id"] for s in mine] == [created.id] and len(double.subscriptions) == before + 1


def test_rollback_delete_is_retried(host, double, inputs_of):
    pn = str(uuid.uuid4())
    double.fail_number(pn, "carrier rejected the number")
    double.script("DELETE", ONE_CONNECTOR, 503, {"code": "UNAVAILABLE", "message": "try again later"}, times=2)
    reg = sms(inputs_of, pn)
    with pytest.raises(ProviderError) as caught:
        host.create(reg.urn, host.check(reg.urn, reg.inputs).inputs)
    assert "carrier rejected the number" in str(caught.value) and "was deleted" in str(caught.value)
    assert [c.status for c in double.calls("DELETE")] == [503, 503, 204]
    assert double.connectors_for(pn) == []


def test_rollback_that_cannot_delete_says_which_connector_is_left(host, double, inputs_of):
    pn = str(uuid.uuid4())
    double.fail_number(pn, "carrier rejected the number")
    double.script("DELETE", ONE_CONNECTOR, 500, {"code": "INTERNAL", "message": "database on fire"}, times=100)
    reg = sms(inputs_of, pn)
    with pytest.raises(ProviderError) as caught:
        host.create(reg.urn, host.check(reg.urn, reg.inputs).inputs)
    left, = double.connectors_for(pn)
    assert left["id"] in str(caught.value) and "delete it by hand" in str(caught.value)
    double.scripts.clear()


def test_unreachable_api_fails_after_a_bounded_number_of_attempts_naming_url_and_time(inputs_of):
    """How quickly is a figure of `make bench` (benchmarks/bench.py, bench_deadlines); here, the count: each
    request the create made was tried at most the retry policy's number of times, and the error says so."""
    reg = sms(inputs_of)
    config = {"bird:accessKey": KEY, "bird:apiUrl": "http://127.0.0.1:9", "bird:workspaceId": WS}
    with ProviderHost(config=config) as host:
        checked = host.check(reg.urn, reg.inputs)
        with pytest.raises(ProviderError) as caught:
            host.create(reg.urn, checked.inputs)
    text = str(caught.value)
    assert "http://127.0.0.1:9" in text and KEY not in text
    attempts = [int(n) for n in re.findall(r"could not connect after (\d+) attempt\(s\) over [\d.]+s", text)]
    assert attempts and all(1 <= n <= RetryPolicy().max_attempts for n in attempts), text


def test_bad_key_fails_at_once_without_echoing_it(double, inputs_of):
    wrong = "sk-wrong-key-123456789"
    reg = sms(inputs_of)
    with ProviderHost(config=double.config(**{"bird:accessKey": wrong})) as host:
        with pytest.raises(ProviderError) as caught:
            host.create(reg.urn, host.check(reg.urn, reg.inputs).inputs)
        assert wrong not in host.stderr_text()
    text = str(caught.value)
    assert "access key" in text and "401" in text and wrong not in text and KEY not in text
    assert len(double.seen) == 1  # the first call (the look-up before the POST) is refused, and not retried


def test_wrong_workspace_is_named(host, double, inputs_of):
    other = str(uuid.uuid4())
    reg = inputs_of(lambda: VoiceChannel("v", phone_number_id=str(uuid.uuid4()), workspace_id=other))
    with pytest.raises(ProviderError) as caught:
        up(host, reg)
    assert other in str(caught.value) and "not found" in str(caught.value)


# --- junk input ----------------------------------------------------------------------------------------------

# Values the engine can send (protobuf Struct: JSON values, so no NaN or infinity).
junk = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=8,
)

# Every registered resource, with inputs that pass check and every input it has.
RESOURCES = {cls.__name__: cls for cls in resource_classes()}


@pytest.mark.parametrize("kind", sorted(RESOURCES))
def test_check_answers_junk_with_failures_never_an_exception(host, double, inputs_of, kind):
    cls = RESOURCES[kind]
    reg = inputs_of(lambda: cls("r", **example_inputs(cls)))
    props = list(cls.bird_provider.schema.names)
    checked_count = []

    @settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.dictionaries(st.sampled_from(props + ["extra"]), junk, min_size=1, max_size=len(props)))
    def run(values):
        result = host.check(reg.urn, {"__provider": reg.inputs["__provider"], **values})
        assert all(isinstance(p, str) and isinstance(r, str) and r for p, r in result.failures)
        assert all("could not validate" not in r for _, r in result.failures)
        checked_count.append(1)

    run()
    assert len(checked_count) >= 100
    assert double.seen == []


# --- review findings: transient errors while waiting, foreign look-alikes, unreadable answers -------------


def test_transient_errors_while_waiting_do_not_roll_back_a_healthy_channel(host, double, inputs_of):
    double.reads_until_active = 3
    double.script("GET", STATUS, 503, {"code": "UNAVAILABLE", "message": "try again later"}, times=6)
    created = up(host, sms(inputs_of))
    assert created.outs["channel_id"] and double.calls("DELETE") == []


def test_an_unreadable_status_answer_counts_as_not_ready_yet(host, double, inputs_of):
    # While a channel provisions, a failed status read is "not ready yet" (README, Troubleshooting).
    pn = str(uuid.uuid4())
    double.script("GET", STATUS, 200, "<html>maintenance</html>", times=1)
    created = up(host, sms(inputs_of, pn))
    assert [c["id"] for c in double.connectors_for(pn)] == [created.id] and created.outs["channel_id"]
    assert [c.status for c in double.calls("GET", "/status")] == [200, 200]


def test_unreadable_status_answers_until_the_timeout_roll_back(host, double, inputs_of):
    pn = str(uuid.uuid4())
    double.script("GET", STATUS, 200, "<html>maintenance</html>", times=1000)
    reg = inputs_of(lambda: SmsChannel("sms", phone_number_id=pn, channel_message_type="2fa", ready_timeout=1.5))
    with pytest.raises(ProviderError, match=r"was not active after 1\.5s \(last poll failed: .*\).*was deleted"):
        host.create(reg.urn, host.check(reg.urn, reg.inputs).inputs)
    assert double.connectors_for(pn) == []


def test_ambiguous_webhook_create_never_adopts_an_older_look_alike(host, double, inputs_of):
    url = f"https://hooks.example.com/{uuid.uuid4()}"
    reg = inputs_of(lambda: WebhookSubscription("h", service="channels", event="channel.created", url=url))
    old = up(host, reg)  # e.g. the old subscription of a create-before-delete replacement
    double.script("POST", SUBSCRIPTIONS, 502, {"code": "BAD_GATEWAY", "message": "upstream timed out"}, commit=True)
    new = up(host, reg)
    mine = sorted(s["id"] for s in double.subscriptions.values() if s["url"] == url)
    assert new.id != old.id and sorted([old.id, new.id]) == mine


def test_secret_values_are_not_echoed_by_check(host, inputs_of):
    reg = inputs_of(lambda: WebhookSubscription("h", service="channels", event="channel.created", url="https://a.example.com"))
    failures = host.check(reg.urn, dict(reg.inputs, signing_key=918273645)).failures
    assert [p for p, _ in failures] == ["signing_key"] and "918273645" not in failures[0][1]


def test_a_create_that_landed_late_is_removed_after_a_successful_retry():
    """_create.create_exactly_once with an API whose list lags: the first POST commits but answers 502 and
    the look-up misses it; the retry succeeds; the late one must then be deleted."""
    from pulumi_bird.api import errors
    from pulumi_bird.api.client import BirdClient
    from pulumi_bird.api.create import create_exactly_once

    class Obj:
        def __init__(self, id_):
            self.id, self.created_at = id_, None

    stored, visible, deleted = [], [], []

    def post():
        obj = Obj(f"00000000-0000-4000-8000-00000000000{len(stored) + 1}")
        stored.append(obj)
        if len(stored) == 1:
            raise errors.ServerError("bird failed", status=502)
        visible[:] = stored  # the list catches up
        return obj

    client = BirdClient("key", "http://127.0.0.1:9", sleep=lambda s: None)  # only its retry decisions are used
    result = create_exactly_once(identity="thing", what="thing", post=post, like=lambda: list(visible),
                                 delete=deleted.append, retry=client)
    assert result.id.endswith("2") and [d.id[-1] for d in deleted] == ["1"]
