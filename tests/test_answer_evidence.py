"""Every answer is evidence only of what it can prove, through the SDK's provider host against the emulator playing
the answer (``emulator.faults``): PATCH answers naming another object or failing after a create, GETs by id
answering for another object, an API URL whose routes Bird does not serve (every request a 404), createdAt on
another clock than the Date header, and errors echoing the credential parts of what the user wrote.

Every test names its objects uniquely (one host process serves the module) and clears the faults after itself."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pulumi
import pytest
import requests

from engine_double.host import ProviderError, ProviderHost
from pulumi_bird import Connector, SmsChannel, WebhookSubscription

CONNECTORS = r"/connectors$"
SUBSCRIPTIONS = r"/webhook-subscriptions$"
ONE_SUBSCRIPTION = r"/webhook-subscriptions/[^/]+$"

pytestmark = pytest.mark.usefixtures("clean_answers")


def up(host: Any, reg: Any, olds: Any = None) -> Any:
    checked = host.check(reg.urn, reg.inputs)
    assert checked.failures == []
    return host.create(reg.urn, checked.inputs)


def new_url() -> str:
    return f"https://hooks.example.com/{uuid.uuid4()}"


def own_filter() -> list[dict]:
    """A filter of its own (the emulator, like Bird, caps subscriptions sharing service, event and filters)."""
    return [{"key": "channelId", "value": str(uuid.uuid4())}]


def hook(inputs_of: Any, url: Any, **kw: Any) -> Any:
    kw.setdefault("event_filters", own_filter())
    return inputs_of(lambda: WebhookSubscription("hook", service="channels", event="channel.updated", url=url, **kw))


def hooks_at(emulator: Any, url: str) -> list[dict]:
    every = emulator.backend.list_all_webhooks(emulator.organization_id, emulator.workspace_id)
    return [s for s in every if s["url"] == url]


def other_hook(emulator: Any) -> dict:
    body = {"service": "channels", "event": "channel.updated", "url": new_url(), "eventFilters": own_filter()}
    return emulator.backend.create_webhook(emulator.organization_id, emulator.workspace_id, body)


def still_there(emulator: Any, other: dict) -> bool:
    return [s["status"] for s in hooks_at(emulator, other["url"])] == ["active"]


# --- 1. PATCH answers and GETs by id are checked against what was asked ---------------------------------------------


def test_a_patch_answer_after_create_naming_another_subscription_is_refused_and_ours_rolled_back(
        emulator, emulator_host, inputs_of):
    other, url = other_hook(emulator), new_url()
    emulator.hostile.patch_answer("PATCH", ONE_SUBSCRIPTION, {"id": other["id"]})
    with pytest.raises(ProviderError) as caught:
        up(emulator_host, hook(inputs_of, url, desired_status="inactive"))
    message = str(caught.value)
    assert other["id"] in message and "was answered with" in message and "deleted again" in message
    assert hooks_at(emulator, url) == [] and still_there(emulator, other)


def test_an_update_whose_patch_answer_shows_another_url_is_refused(emulator, emulator_host, inputs_of):
    url = new_url()
    reg = hook(inputs_of, url)
    result = up(emulator_host, reg)
    moved = hook(inputs_of, url + "/moved", event_filters=reg.inputs["event_filters"])
    checked = emulator_host.check(moved.urn, moved.inputs, olds=result.outs)
    emulator.hostile.patch_answer("PATCH", ONE_SUBSCRIPTION, {"url": "https://elsewhere.example.com/"})
    with pytest.raises(ProviderError, match="showing another url than was sent"):
        emulator_host.update(reg.urn, result.id, result.outs, checked.inputs)
    emulator_host.delete(reg.urn, result.id, result.outs)


def test_adopting_an_id_whose_get_answers_for_another_subscription_is_refused(emulator, emulator_host, inputs_of):
    target, other = other_hook(emulator), other_hook(emulator)
    emulator.hostile.patch_answer("GET", rf"/webhook-subscriptions/{target['id']}$", {"id": other["id"]}, times=None)
    reg = hook(inputs_of, target["url"], adopt_id=target["id"], desired_status="inactive",
               event_filters=target["eventFilters"])
    with pytest.raises(ProviderError) as caught:
        up(emulator_host, reg)
    message = str(caught.value)
    assert f"webhook subscription {target['id']} was answered with webhook subscription '{other['id']}'" in message
    assert still_there(emulator, target) and still_there(emulator, other)  # nothing was patched


def sms(inputs_of: Any, number: str) -> Any:
    return inputs_of(lambda: SmsChannel("sms", phone_number_id=number, channel_message_type="2fa"))


def on_number(emulator: Any, number: str) -> list[str]:
    return [c["id"] for c in emulator.backend.list_all_connectors(emulator.workspace_id)
            if (c.get("arguments") or {}).get("phoneNumberId") == number]


def test_a_status_naming_another_number_is_refused_on_create_and_on_refresh(emulator, emulator_host, inputs_of):
    number, other = str(uuid.uuid4()), str(uuid.uuid4())
    emulator.hostile.patch_answer("GET", r"/status$", {"number": {"numberId": other}}, times=None)
    with pytest.raises(ProviderError) as caught:
        up(emulator_host, sms(inputs_of, number))
    assert f"names phone number '{other}', but the connector has {number}" in str(caught.value)
    assert on_number(emulator, number) == []  # ours, so rolled back
    emulator.hostile.clear()
    reg = sms(inputs_of, number)
    result = up(emulator_host, reg)
    emulator.hostile.patch_answer("GET", r"/status$", {"number": {"numberId": other}}, times=None)
    with pytest.raises(ProviderError, match=f"names phone number '{other}'"):
        emulator_host.read(reg.urn, result.id, result.outs, result.outs)
    emulator.hostile.clear()
    emulator_host.delete(reg.urn, result.id, result.outs)


def test_a_status_naming_another_number_that_echoes_the_key_is_refused_without_it(emulator, emulator_host, inputs_of):
    """The refusal quotes the number Bird's status names: on create (rolled back) and on refresh, whatever Bird
    puts there, the access key is not in the message."""
    number, other = str(uuid.uuid4()), f"n-{emulator.access_key}"
    emulator.hostile.patch_answer("GET", r"/status$", {"number": {"numberId": other}}, times=None)
    with pytest.raises(ProviderError, match="names phone number") as caught:
        up(emulator_host, sms(inputs_of, number))
    assert emulator.access_key[:12] not in str(caught.value) and on_number(emulator, number) == []
    emulator.hostile.clear()
    reg = sms(inputs_of, number)
    result = up(emulator_host, reg)
    emulator.hostile.patch_answer("GET", r"/status$", {"number": {"numberId": other}}, times=None)
    with pytest.raises(ProviderError, match="names phone number") as caught:
        emulator_host.read(reg.urn, result.id, result.outs, result.outs)
    assert emulator.access_key[:12] not in str(caught.value)
    emulator.hostile.clear()
    emulator_host.delete(reg.urn, result.id, result.outs)


# --- 2. the follow-up PATCH of a create never orphans ---------------------------------------------------------------


def test_a_patch_404_once_after_create_is_retried_until_bird_shows_its_write(emulator, emulator_host, inputs_of):
    url = new_url()
    emulator.faults.add("PATCH", ONE_SUBSCRIPTION, 404)
    result = up(emulator_host, hook(inputs_of, url, desired_status="inactive"))
    assert [(s["id"], s["status"]) for s in hooks_at(emulator, url)] == [(result.id, "inactive")]


def test_a_patch_failing_every_time_after_create_rolls_the_subscription_back_and_says_so(
        emulator, emulator_host, inputs_of):
    url = new_url()
    emulator.faults.add("PATCH", ONE_SUBSCRIPTION, 503, times=None)
    with pytest.raises(ProviderError) as caught:
        up(emulator_host, hook(inputs_of, url, desired_status="inactive"))
    message = str(caught.value)
    assert "deleted again, so nothing is left on Bird" in message and "outside this stack" not in message
    emulator.faults.clear()
    assert hooks_at(emulator, url) == []
    result = up(emulator_host, hook(inputs_of, url, desired_status="inactive"))  # the next up is not blocked
    assert [s["id"] for s in hooks_at(emulator, url)] == [result.id]


# --- 3. a 404 means gone only when the route answers ----------------------------------------------------------------


def test_an_api_url_bird_does_not_serve_is_an_error_naming_it_not_a_deletion(emulator, emulator_host, bird_config,
                                                                              inputs_of):
    url = new_url()
    reg = hook(inputs_of, url)
    result = up(emulator_host, reg)
    with ProviderHost(config=dict(bird_config, **{"bird:apiUrl": emulator.url + "/v1"})) as prefixed:
        with pytest.raises(ProviderError, match="bird:apiUrl") as refreshed:
            prefixed.read(reg.urn, result.id, result.outs, result.outs)
        assert "answers 404 for /organizations/" in str(refreshed.value)
        with pytest.raises(ProviderError, match="Nothing was taken as deleted"):
            prefixed.delete(reg.urn, result.id, result.outs)
    assert [s["id"] for s in hooks_at(emulator, url)] == [result.id]
    emulator_host.delete(reg.urn, result.id, result.outs)
    assert emulator_host.read(reg.urn, result.id, result.outs, result.outs).id == ""  # a real 404: gone


# --- 7. listings: as fresh as Bird's lists, and safe for the next up -------------------------------------------------


def test_a_refresh_from_a_list_behind_out_of_band_changes_stays_safe_and_the_next_refresh_sees_them(
        emulator, emulator_host, inputs_of):
    """Four refresh reads together, while Bird's list still shows the subscriptions as before one was deleted and
    another's url changed. Whether a read was answered by the shared listing (as README says, possibly behind) or
    by its own GET, nothing is refused or lost, destroying the deleted one is done, and once the list catches up
    a refresh sees both changes."""
    regs = [hook(inputs_of, new_url()) for _ in range(4)]
    made = [up(emulator_host, reg) for reg in regs]
    emulator.hostile.freeze_lists()
    org, ws = emulator.organization_id, emulator.workspace_id
    emulator.backend.delete_webhook(org, ws, made[0].id)
    moved = new_url()
    emulator.backend.update_webhook(org, ws, made[1].id, {"url": moved})
    listed = requests.get(f"{emulator.url}/organizations/{org}/workspaces/{ws}/webhook-subscriptions", timeout=10,
                          headers={"Authorization": f"AccessKey {emulator.access_key}"}).json()["results"]
    assert {w["id"]: w["url"] for w in listed}[made[1].id] == regs[1].inputs["url"]  # the list is behind, as played
    assert made[0].id in {w["id"] for w in listed}

    def refresh_all() -> list[Any]:
        with ThreadPoolExecutor(4) as pool:
            return list(pool.map(lambda pair: emulator_host.read(pair[0].urn, pair[1].id, pair[1].outs, pair[1].outs),
                                 zip(regs, made)))

    first = refresh_all()
    assert first[0].id in ("", made[0].id) and first[1].outs["url"] in (regs[1].inputs["url"], moved)
    emulator_host.delete(regs[0].urn, made[0].id, made[0].outs)  # gone: a 404 of an answering route is done
    emulator.hostile.clear()  # the list catches up
    second = refresh_all()
    assert second[0].id == "" and second[1].outs["url"] == moved and all(r.id for r in second[1:])
    for reg, result in zip(regs[1:], made[1:]):
        emulator_host.delete(reg.urn, result.id, result.outs)


# --- 4. clocks are weak evidence -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("date_offset", "stamp_offset"),
                         [(0.0, -300.0), (0.0, -3600.0), (0.0, 3600.0), (-3600.0, -300.0), (3600.0, 3600.0)])
def test_created_at_on_another_clock_than_date_leaves_one_object_after_commit_then_502(
        emulator, emulator_host, inputs_of, date_offset, stamp_offset):
    """createdAt skewed against the Date header both ways, and both skewed together: our own object is found."""
    emulator.hostile.clock_offset = date_offset
    emulator.hostile.created_at_offset = stamp_offset
    emulator.faults.add("POST", CONNECTORS, 502, commit=True)
    emulator.faults.add("POST", SUBSCRIPTIONS, 502, commit=True)
    name, url = f"stamp-{uuid.uuid4()}", new_url()
    made = up(emulator_host, inputs_of(lambda: Connector(name, connector_template_ref="whatsapp:1",
                                                         arguments={"wabaId": "w-1"})))
    hooked = up(emulator_host, hook(inputs_of, url))
    named = [c["id"] for c in emulator.backend.list_all_connectors(emulator.workspace_id) if c["name"] == name]
    assert named == [made.id] and [s["id"] for s in hooks_at(emulator, url)] == [hooked.id]


def test_an_sms_channel_whose_created_at_lags_an_hour_is_adopted_after_commit_then_502(
        emulator, emulator_host, inputs_of):
    emulator.hostile.created_at_offset = -3600.0
    emulator.hostile.list_lag = 2.0  # the retried POST may meet the number held by our first attempt: a 409
    emulator.faults.add("POST", CONNECTORS, 502, commit=True)
    number = str(uuid.uuid4())
    result = up(emulator_host, sms(inputs_of, number))
    assert on_number(emulator, number) == [result.id]


def test_a_first_attempt_listed_only_after_the_retry_succeeded_is_found_under_the_same_settle_rule(
        emulator, emulator_host, inputs_of):
    """The list lags longer than the settle time: the look-up after the 502 finds nothing, the retry succeeds, and
    the look for late duplicates waits for the list as every look-up does, so the first attempt is deleted."""
    emulator.hostile.list_lag = 10.0  # more than the 8 s settle, less than two of them
    emulator.faults.add("POST", CONNECTORS, 502, commit=True)
    name = f"late-{uuid.uuid4()}"
    made = up(emulator_host, inputs_of(lambda: Connector(name, connector_template_ref="whatsapp:1",
                                                         arguments={"wabaId": "w-1"})))
    named = [c["id"] for c in emulator.backend.list_all_connectors(emulator.workspace_id) if c["name"] == name]
    assert named == [made.id]


# --- 6. what the user marked secret (or may carry a credential) is never quoted -------------------------------------

TOKEN = "tok-" + "9f8e7d6c5b4a3210"


def test_a_422_echoing_a_secret_webhook_url_does_not_quote_its_token(emulator, emulator_host, inputs_of):
    url = new_url() + f"?token={TOKEN}"
    emulator.faults.add("POST", SUBSCRIPTIONS, 422, body={"code": "InvalidRequest", "message": f"bad url {url}"})
    with pytest.raises(ProviderError) as caught:
        up(emulator_host, inputs_of(lambda: WebhookSubscription(
            "hook", service="channels", event="channel.updated", url=pulumi.Output.secret(url),
            event_filters=own_filter())))
    text = str(caught.value)
    assert "bad url https://hooks.example.com/" in text and TOKEN not in text and TOKEN[:12] not in text
    assert TOKEN not in emulator_host.stderr_text()


def test_an_adopt_mismatch_names_argument_keys_never_their_values(emulator, emulator_host, inputs_of):
    theirs = emulator.backend.create_connector(emulator.workspace_id, {
        "name": f"adopt-{uuid.uuid4()}", "connectorTemplateRef": "whatsapp:1", "arguments": {"apiKey": "bird-side-value"}})
    reg = inputs_of(lambda: Connector(theirs["name"], connector_template_ref="whatsapp:1", adopt_id=theirs["id"],
                                      arguments=pulumi.Output.secret({"apiKey": TOKEN})))
    with pytest.raises(ProviderError) as caught:
        up(emulator_host, reg)
    text = str(caught.value)
    assert "arguments: declared {'apiKey': ...}" in text, text
    assert TOKEN not in text and "bird-side-value" not in text
