"""One declaration per property: an input added to a resource's ``Args`` (one ``Annotated[T, Property(...)]`` line)
appears, with its type, optionality and doc, in the signature pyright sees, in the plugin's package schema, in the
reference page, in what the resource registers and in check and diff, with no other edit.

The resource here is a throwaway copy of WebhookSubscription, written to a module of its own, whose Args add one
field and nothing else (no ``Output`` attribute, no provider code)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

RESOURCE = textwrap.dedent('''
    from __future__ import annotations

    from typing import Annotated, ClassVar, Optional

    import pulumi
    from typing_extensions import Unpack

    from pulumi_bird.provider.schema import Property, Schema, document
    from pulumi_bird.webhook_subscription import (
        WebhookSubscription,
        WebhookSubscriptionArgs,
        WebhookSubscriptionOutputs,
        WebhookSubscriptionProvider,
    )


    class HookArgs(WebhookSubscriptionArgs, total=False):
        colour: Annotated[Optional[pulumi.Input[str]], Property("the colour the hook is drawn in.", change="update")]


    SCHEMA = Schema.declare(HookArgs, WebhookSubscriptionOutputs)


    class HookProvider(WebhookSubscriptionProvider):
        schema: ClassVar[Schema] = SCHEMA


    class Hook(WebhookSubscription, module="bird", name="Hook"):
        bird_provider = HookProvider

        def __init__(
            self, resource_name: str, *, opts: Optional[pulumi.ResourceOptions] = None, **args: Unpack[HookArgs]
        ) -> None:
            self._register(resource_name, args, opts)


    document(Hook, SCHEMA, "A hook.")
''')

PROGRAM = textwrap.dedent('''
    from extra_field_resource import Hook

    Hook("a", service="channels", event="channel.updated", url="https://hooks.example.com/a", colour="red")
    Hook("b", service="channels", event="channel.updated", url="https://hooks.example.com/b", colour=5)
    Hook("c", service="channels", event="channel.updated", url="https://hooks.example.com/c", color="red")
''')
ROOT = Path(__file__).resolve().parents[1]
REQUIRED = {"service": "channels", "event": "channel.updated", "url": "https://hooks.example.com/bird"}


@pytest.fixture()
def hook_module(tmp_path, monkeypatch):
    (tmp_path / "extra_field_resource.py").write_text(RESOURCE)
    monkeypatch.syspath_prepend(str(tmp_path))
    import extra_field_resource

    yield extra_field_resource
    sys.modules.pop("extra_field_resource", None)


def test_pyright_sees_the_added_field_and_its_type(hook_module, tmp_path):
    # pyright finds pulumi_bird in the repository (an editable install is not on a path pyright reads)
    (tmp_path / "pyrightconfig.json").write_text(json.dumps({"extraPaths": [str(ROOT)]}))
    (tmp_path / "program.py").write_text(PROGRAM)
    result = subprocess.run([sys.executable, "-m", "pyright", "--pythonpath", sys.executable, "program.py"],
                            cwd=tmp_path, capture_output=True, text=True, timeout=300)
    errors = [line for line in result.stdout.splitlines() if " - error:" in line]
    assert len(errors) == 2, result.stdout  # colour="red" passes; colour=5 and color= do not
    assert "program.py:5:" in errors[0] and 'parameter "colour" of type "Input[str] | None"' in errors[0]
    assert "program.py:6:" in errors[1] and 'No parameter named "color"' in errors[1]


def test_the_plugin_schema_shows_the_added_field(hook_module, monkeypatch):
    from pulumi_bird.plugin import fields
    from pulumi_bird.plugin.package import Types, resource_spec

    kind = fields.ResourceKind("Hook", "extra_field_resource")
    monkeypatch.setitem(fields.BY_TOKEN, kind.token, kind)
    spec = resource_spec(kind.token, Types())
    expected = {"type": "string", "description": "The colour the hook is drawn in."}  # updated in place: no replace
    assert spec["inputProperties"]["colour"] == expected and spec["properties"]["colour"] == expected
    assert "colour" not in spec["requiredInputs"] and "colour" not in spec["required"]


def test_the_reference_page_and_the_docstring_show_the_added_field(hook_module):
    import reference

    page = reference.resource_page(hook_module.Hook, hook_module.SCHEMA)
    assert ("| `colour` | `colour` | `str` | optional | update in place |  | the colour the hook is drawn in. |"
            in page)
    assert ":param colour: the colour the hook is drawn in." in hook_module.Hook.__init__.__doc__


def test_the_added_field_is_registered_checked_and_diffed(hook_module):
    from engine_double import registered_inputs

    (registration,) = registered_inputs(lambda: hook_module.Hook("h", **REQUIRED, colour="red")).values()
    assert registration.inputs["colour"] == "red"
    provider = hook_module.HookProvider()
    checked = provider.check({}, {**REQUIRED, "colour": "red", "organization_id": "o", "workspace_id": "w"})
    assert checked.inputs["colour"] == "red"
    plan = provider.plan(checked.inputs, {**checked.inputs, "colour": "blue"})
    assert plan.changed == ("colour",) and plan.replaces == ()  # change="update" and no Bird field: in place
    with pytest.raises(TypeError, match="unexpected keyword argument 'color'"):
        registered_inputs(lambda: hook_module.Hook("h", **REQUIRED, color="red"))
    with pytest.raises(TypeError, match="missing required keyword argument 'url'"):
        registered_inputs(lambda: hook_module.Hook("h", service="channels", event="channel.updated"))
