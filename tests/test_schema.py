"""The declared schema: a contradiction fails where it is declared, and a property added to a schema is read back,
adopted and updated with no other edit (WebhookSubscription, through the SDK's provider host and the Bird double)."""

from __future__ import annotations

import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any, ClassVar, Optional

import pytest
from typing_extensions import TypedDict

from bird_double import ORG, WS, _now
from engine_double.host import ProviderHost
from pulumi_bird.provider.base import BirdResource
from pulumi_bird.provider.schema import Property, Schema, SchemaError
from pulumi_bird.webhook_subscription import SCHEMA, WebhookSubscriptionProvider

TESTS = Path(__file__).resolve().parent


def test_an_input_and_a_computed_output_of_one_name_fail_at_import(tmp_path):
    module = tmp_path / "clashing_resource.py"
    module.write_text(
        "from typing import Annotated, Optional\n"
        "import pulumi\n"
        "from typing_extensions import TypedDict\n"
        "from pulumi_bird.provider.schema import Property, Schema\n"
        "class Args(TypedDict, total=False):\n"
        "    status: Annotated[Optional[pulumi.Input[str]], Property('what the program asks for', bird='status',"
        " change='update')]\n"
        "class Outputs:\n"
        "    status: Annotated[pulumi.Output[str], Property('what Bird reports')]\n"
        "SCHEMA = Schema.declare(Args, Outputs)\n"
    )
    result = subprocess.run([sys.executable, "-c", "import clashing_resource"], cwd=tmp_path, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 1
    assert "SchemaError: property 'status' is declared twice (computed output and input)" in result.stderr
    assert 'clashing_resource.py", line 9' in result.stderr  # where it is declared


def test_a_field_declared_without_its_property_fails_naming_it():
    class Args(TypedDict, total=False):
        colour: Optional[str]

    with pytest.raises(SchemaError, match="property 'colour': declare it as Annotated"):
        Schema.declare(Args)


@pytest.mark.parametrize(
    "properties,words",
    [
        ((Property("x", name="a", computed=True, change="update"),), "is a computed output"),
        ((Property("x", name="a", bird="a", create=False),), "only PATCH can set it"),
        ((Property("x", name="a", required=True),), "give it an example"),
        ((Property("x", name="a", values=("p", "q"), example="r", required=True),), "is not one of its values"),
    ],
)
def test_other_contradictions_fail_where_declared(properties, words):
    with pytest.raises(SchemaError, match=words):
        Schema(*properties)


def test_the_webhook_schema_holds_desired_status_apart_from_the_status_output():
    assert "desired_status" in SCHEMA.names and "status" in SCHEMA.outputs and "status" not in SCHEMA.names
    assert SCHEMA["desired_status"].patchable and not SCHEMA["desired_status"].create
    assert [p.name for p in SCHEMA.patchable] == ["url", "signing_key", "event_filters", "template", "desired_status"]


# --- a property added to the schema -----------------------------------------------------------------------------

TEMPLATE = SCHEMA["template"]
WITHOUT = Schema(*(p for p in SCHEMA.all if p.name != TEMPLATE.name))
# The same schema with one more property, and not a line of provider code changed.
WITH = Schema(*WITHOUT.all, TEMPLATE)


class Before(WebhookSubscriptionProvider):
    schema: ClassVar[Schema] = WITHOUT


class After(WebhookSubscriptionProvider):
    schema: ClassVar[Schema] = WITH


class Hook(BirdResource, module="bird", name="Hook"):
    def __init__(self, resource_name: str, provider: type, **inputs: Any) -> None:
        self.bird_provider = provider
        self._register(resource_name, inputs, None)


@pytest.fixture(scope="module")
def test_host(double):
    # The providers above live in this module: the host imports them from the tests directory.
    with ProviderHost(config=double.config(), env={"PYTHONPATH": str(TESTS)}) as h:
        yield h


def register(inputs_of, provider: Any, **inputs: Any):
    inputs = {"service": "channels", "event": "channel.updated", "url": f"https://hooks.example.com/{uuid.uuid4()}",
              **inputs}
    return inputs_of(lambda: Hook("hook", type(provider), **inputs))


def out_of_band(double, **fields: Any) -> str:
    sid = str(uuid.uuid4())
    with double.lock:
        double.subscriptions[sid] = {"id": sid, "organizationId": ORG, "workspaceId": WS, "service": "channels",
                                     "event": "channel.updated", "url": "https://old.example.com/x",
                                     "status": "active", "createdAt": _now(), "updatedAt": _now(), **fields}
    return sid


def test_a_property_added_to_the_schema_is_read_adopted_and_updated(test_host, double, inputs_of):
    # read: Bird's template (set in the dashboard) shows after a refresh only once the schema declares it
    sid = out_of_band(double, template="twilio")
    for provider, expected in ((Before(), None), (After(), "twilio")):
        reg = register(inputs_of, provider)
        read = test_host.read(reg.urn, sid, properties={**reg.inputs, "organization_id": ORG, "workspace_id": WS})
        assert read.outs.get("template") == expected, type(provider).__name__

    # adopt: the declared template is brought to Bird with the PATCH that takes the object over
    sid = out_of_band(double, template="twilio")
    reg = register(inputs_of, After(), template="sinch", adopt_id=sid)
    adopted = test_host.create(reg.urn, test_host.check(reg.urn, reg.inputs).inputs)
    assert adopted.outs["template"] == "sinch" and double.subscriptions[sid]["template"] == "sinch"
    assert double.calls("PATCH")[-1].body["template"] == "sinch"

    # update: a change of it is a PATCH, not a replacement
    news = test_host.check(reg.urn, dict(reg.inputs, template="messagebird")).inputs
    diff = test_host.diff(reg.urn, sid, adopted.outs, news)
    assert diff.changes == "some" and diff.replaces == []
    updated = test_host.update(reg.urn, sid, adopted.outs, news)
    assert updated["template"] == "messagebird" and double.calls("PATCH")[-1].body == {"template": "messagebird"}
