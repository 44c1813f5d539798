"""run_program runs Pulumi programs against the real provider host like `pulumi up` would."""

from __future__ import annotations

import os
import textwrap

import pulumi
import pytest

import toy_provider
from engine_double import (
    UNKNOWN,
    ProgramError,
    ProviderError,
    ProviderHost,
    State,
    destroy,
    make_urn,
    refresh,
    registered_inputs,
    run_program,
)
from engine_double.host import decode_provider
from toy_provider import Echo, Toy, calls, stored

TESTS_DIR = os.path.dirname(os.path.abspath(__file__))


def urn(name, type_=toy_provider.TYPE, project="test"):
    return make_urn(type_, name, project=project)


@pytest.fixture
def state_dir(tmp_path):
    path = tmp_path / "cloud"
    path.mkdir()
    return str(path)


@pytest.fixture
def cfg(state_dir):
    return {"toy:stateDir": state_dir}


def verbs(state_dir, since=0):
    """Mutating provider calls (create/update/delete) after the first `since` log lines."""
    return [line.split()[0] for line in calls(state_dir)[since:] if line.split()[0] in ("create", "update", "delete")]


def two_toys(size=2, name="x", exclusive=None):
    def program():
        a = Toy("a", name=name, size=size, exclusive=exclusive)
        b = Toy("b", name=a.id.apply(lambda i: f"b-of-{i}"))
        pulumi.export("aSerial", a.serial)
        pulumi.export("bName", b.name)

    return program


def test_up_again_change_replace_destroy(cfg, state_dir):
    first = run_program(two_toys(), config=cfg)
    assert first.steps == {urn("a"): "create", urn("b"): "create"}
    a, b = first.resource("a"), first.resource("b")
    assert set(stored(state_dir)) == {a.id, b.id}
    assert first.outputs == {"aSerial": a.outputs["serial"], "bName": f"b-of-{a.id}"}
    assert [r.name for r in first.state.resources] == ["a", "b"]

    # Persist the state like a stack file; a second identical up changes nothing.
    state = State.from_json(first.state.to_json())
    mark = len(calls(state_dir))
    again = run_program(two_toys(), config=cfg, state=state)
    assert again.steps == {urn("a"): "same", urn("b"): "same"}
    assert verbs(state_dir, mark) == []
    assert again.resource("a").id == a.id

    # size updates in place; b's inputs did not change.
    mark = len(calls(state_dir))
    updated = run_program(two_toys(size=7), config=cfg, state=again.state)
    assert updated.steps == {urn("a"): "update", urn("b"): "same"}
    assert verbs(state_dir, mark) == ["update"]
    assert stored(state_dir)[a.id]["size"] == 7
    assert updated.resource("a").outputs["revision"] == 2

    # name replaces: create the new one first, delete the old one at the end; b follows a's id.
    mark = len(calls(state_dir))
    replaced = run_program(two_toys(size=7, name="y"), config=cfg, state=updated.state)
    assert replaced.steps == {urn("a"): "replace", urn("b"): "replace"}
    assert verbs(state_dir, mark) == ["create", "create", "delete", "delete"]
    # The replaced copies go last, in reverse creation order (b depended on a).
    assert [line.split()[1] for line in calls(state_dir)[mark:] if line.startswith("delete")] == [b.id, a.id]
    new_a = replaced.resource("a")
    assert new_a.id != a.id and set(stored(state_dir)) == {new_a.id, replaced.resource("b").id}

    # exclusive=True asks for delete-before-replace.
    mark = len(calls(state_dir))
    exclusive = run_program(two_toys(size=7, name="z", exclusive=True), config=cfg, state=replaced.state)
    assert exclusive.steps[urn("a")] == "replace"
    log = calls(state_dir)[mark:]
    old_b = replaced.resource("b").id
    # b's name comes from a's id: the engine re-diffs b with that input unknown (step_generator.go
    # calculateDependentReplacements); the toy replaces on a new name, so b is deleted first, then a.
    assert f"diff {old_b} unknown=name" in log
    assert verbs(state_dir, mark) == ["delete", "delete", "create", "create"]
    assert [line.split()[1] for line in log if line.startswith("delete")] == [old_b, new_a.id]
    first_create = next(i for i, line in enumerate(log) if line.startswith("create") and line.endswith(" z"))
    assert log.index(f"delete {new_a.id} y") < first_create
    assert exclusive.steps[urn("b")] == "replace"

    # A condemned dependent that the program no longer registers is simply gone.
    alone = run_program(lambda: Toy("a", name="solo", size=7, exclusive=True), config=cfg, state=exclusive.state)
    assert alone.steps == {urn("a"): "replace", urn("b"): "delete"}
    assert [r.name for r in alone.state.resources] == ["a"] and len(stored(state_dir)) == 1
    exclusive = alone

    # destroy deletes in reverse creation order.
    mark = len(calls(state_dir))
    empty = destroy(exclusive.state, config=cfg)
    assert empty.resources == []
    assert stored(state_dir) == {}
    deleted = [line.split()[2] for line in calls(state_dir)[mark:]]
    assert deleted == ["solo"]


class RecordingHost(ProviderHost):
    """The real host, noting each request's shape before sending it (a spy: every call goes through)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.sent = []

    def check(self, urn, news, olds=None, **kw):
        self.sent.append(("check", dict(news), olds))
        return super().check(urn, news, olds, **kw)

    def diff(self, urn, id, olds, news, **kw):
        self.sent.append(("diff", dict(olds), dict(news), kw.get("old_inputs")))
        return super().diff(urn, id, olds, news, **kw)

    def create(self, urn, inputs, **kw):
        self.sent.append(("create", dict(inputs)))
        return super().create(urn, inputs, **kw)

    def read(self, urn, id, properties=None, inputs=None, **kw):
        self.sent.append(("read", properties, inputs))
        return super().read(urn, id, properties, inputs, **kw)

    def update(self, urn, id, olds, news, **kw):
        self.sent.append(("update", dict(olds), dict(news), kw.get("old_inputs")))
        return super().update(urn, id, olds, news, **kw)

    def delete(self, urn, id, properties, **kw):
        self.sent.append(("delete", dict(properties), kw.get("old_inputs")))
        return super().delete(urn, id, properties, **kw)


def test_requests_have_the_engines_shapes(cfg, state_dir):
    with RecordingHost(config=cfg, env={"PYTHONPATH": TESTS_DIR}) as host:
        def run(program, **kw):
            host.sent.clear()
            # --skip-preview: the update's requests alone (the preview's are the subject of other tests).
            return run_program(program, config=cfg, host=host, skip_preview=True, **kw)

        first = run(lambda: Toy("a", name="x", size=2))
        a = first.resource("a")
        (check, _news, olds), (create, created_with) = host.sent
        assert (check, olds, create) == ("check", None, "create")  # no olds on a create
        assert created_with == a.inputs and created_with["color"] == "blue"  # the *checked* inputs

        updated = run(lambda: Toy("a", name="x", size=3), state=first.state)
        check, diff, update = host.sent
        assert check[2] == a.inputs  # Check: olds = the old *inputs*
        assert check[1]["size"] == 3 and "color" not in check[1]  # news = the program's inputs
        assert diff[1:] == (a.outputs, updated.resource("a").inputs, a.inputs)  # Diff: old outputs, checked, old inputs
        assert update[1:] == (a.outputs, updated.resource("a").inputs, a.inputs)
        b = updated.resource("a")

        replaced = run(lambda: Toy("a", name="y", size=3), state=updated.state)
        ops = [s[0] for s in host.sent]
        assert ops == ["check", "diff", "check", "create", "delete"]
        assert host.sent[2][2] is None  # a replacement is checked again without olds
        assert host.sent[4][1:] == (b.outputs, b.inputs)  # Delete: old outputs and old inputs

        run(lambda: None, state=replaced.state, preview=False)
        run_program(lambda: Toy.get("g", replaced.resource("a").id), config=cfg, host=host, skip_preview=True)
        (read, properties, inputs), = host.sent[-1:]
        assert read == "read" and properties == inputs and "__provider" in inputs  # get: props = inputs

        host.sent.clear()
        made = run_program(lambda: Toy("r", name="r"), config=cfg, host=host, skip_preview=True)
        host.sent.clear()
        refresh(made.state, host=host)
        r = made.resource("r")
        # refresh: Read with the old outputs and old inputs, then Diff with the refreshed outputs as the olds,
        # the old inputs as the news and the refreshed inputs as the old inputs (step.go RefreshStep.Apply).
        assert host.sent == [("read", r.outputs, r.inputs), ("diff", r.outputs, r.inputs, r.inputs)]
        destroy(made.state, host=host)


def test_delete_before_replace_rules(cfg, state_dir):
    def pair(name, *, dbr=None, retain=False, depends=True):
        def program():
            a = Toy("a", name=name, exclusive=True,
                    opts=pulumi.ResourceOptions(delete_before_replace=dbr, retain_on_delete=retain))
            # b depends on a only through depends_on: no input of b can change, so b stays.
            Toy("b", name="b", opts=pulumi.ResourceOptions(depends_on=[a] if depends else None))

        return program

    up = run_program(pair("x"), config=cfg)
    a, b = up.resource("a"), up.resource("b")
    mark = len(calls(state_dir))
    moved = run_program(pair("y"), config=cfg, state=up.state)
    assert moved.steps == {urn("a"): "replace", urn("b"): "same"}
    assert verbs(state_dir, mark) == ["delete", "create"]  # the provider asked for delete-first
    assert not any(line.startswith(f"diff {b.id}") and "unknown" in line and "name" in line.split("unknown=")[1]
                   for line in calls(state_dir)[mark:])

    # deleteBeforeReplace=False in the program overrides the provider: create first, delete last.
    mark = len(calls(state_dir))
    later = run_program(pair("z", dbr=False), config=cfg, state=moved.state)
    assert verbs(state_dir, mark) == ["create", "delete"]

    # retainOnDelete: the replaced copy is left alone (step.go DeleteStep.Apply), also delete-first.
    kept = run_program(pair("z", retain=True), config=cfg, state=later.state)
    old_a = kept.resource("a").id
    mark = len(calls(state_dir))
    retained = run_program(pair("w", retain=True), config=cfg, state=kept.state)
    assert retained.steps[urn("a")] == "replace"
    assert verbs(state_dir, mark) == ["create"]
    assert old_a in stored(state_dir)
    destroy(retained.state, config=cfg)
    assert set(stored(state_dir)) == {old_a, retained.resource("a").id} - {a.id}


def test_resources_dropped_from_the_program_are_deleted(cfg, state_dir):
    first = run_program(two_toys(), config=cfg)
    second = run_program(lambda: Toy("a", name="x", size=2), config=cfg, state=first.state)
    assert second.steps == {urn("a"): "same", urn("b"): "delete"}
    assert set(stored(state_dir)) == {first.resource("a").id}
    assert [r.name for r in second.state.resources] == ["a"]

    def three():
        for name in ("p", "q", "r"):
            Toy(name, name=name)

    many = run_program(three, config=cfg)
    mark = len(calls(state_dir))
    run_program(lambda: None, config=cfg, state=many.state)
    # Independent resources are deleted in one antichain, in parallel (step_generator.go ScheduleDeletes).
    deleted = [line.split()[1] for line in calls(state_dir)[mark:] if line.startswith("delete")]
    assert sorted(deleted) == sorted(r.id for r in many.state.resources)


def test_preview_checks_and_diffs_but_changes_nothing(cfg, state_dir):
    planned = run_program(two_toys(), config=cfg, preview=True)
    assert planned.steps == {urn("a"): "create", urn("b"): "create"}
    assert verbs(state_dir) == []
    assert stored(state_dir) == {}
    # Computed outputs and ids of new resources are unknown during a preview.
    assert planned.outputs == {"aSerial": UNKNOWN, "bName": UNKNOWN}
    assert planned.resources[urn("a")].id == ""
    assert planned.state.resources == []
    # b's name depends on a's unknown id: its check saw an unknown.
    assert "check ? unknown=name types=Unknown" in calls(state_dir)

    up = run_program(two_toys(), config=cfg)
    mark = len(calls(state_dir))
    plan = run_program(two_toys(size=3, name="y"), config=cfg, state=up.state, preview=True)
    assert plan.steps == {urn("a"): "replace", urn("b"): "replace"}
    plan_update = run_program(two_toys(size=3), config=cfg, state=up.state, preview=True)
    assert plan_update.steps == {urn("a"): "update", urn("b"): "same"}
    plan_delete = run_program(lambda: None, config=cfg, state=up.state, preview=True)
    assert plan_delete.steps == {urn("a"): "delete", urn("b"): "delete"}
    assert verbs(state_dir, mark) == []
    # A replacement is checked again without olds (step_generator.go continueStepsFromDiff).
    replace, same = ["check", "diff", "check"], ["check", "diff"]
    assert [c.split()[0] for c in calls(state_dir)[mark:]] == replace * 2 + same * 2
    assert plan.state.to_json() == up.state.to_json()


def test_check_failure_names_resource_and_properties(cfg, state_dir):
    def program():
        ok = Toy("ok", name="fine")
        Toy("bad", name=ok.id.apply(lambda _: None), size=30)

    # `pulumi up` previews first: there `name` is still unknown, so only `size` fails, and the failed
    # preview stops the up before anything is created (pkg/backend/apply.go).
    with pytest.raises(ProgramError) as caught:
        run_program(program, config=cfg)
    err = caught.value
    assert err.resource == "bad"
    assert err.failures == [("size", "size must be an integer from 1 to 10, got 30.0")]
    assert "resource 'bad'" in str(err) and "size: size must be an integer from 1 to 10" in str(err)
    assert err.state.resources == [] and stored(state_dir) == {}

    # With --skip-preview the update checks `bad` once `ok` exists: both failures, and `ok` stays.
    with pytest.raises(ProgramError) as caught:
        run_program(program, config=cfg, skip_preview=True)
    err = caught.value
    assert err.failures == [("name", "name is required"), ("size", "size must be an integer from 1 to 10, got 30.0")]
    assert "name: name is required" in str(err)
    # What was created before the failure is in the error's state, so it can be cleaned up.
    assert [r.name for r in err.state.resources] == ["ok"]
    destroy(err.state, config=cfg)
    assert stored(state_dir) == {}


def test_exception_in_the_program_propagates(cfg, state_dir):
    class Oops(Exception):
        pass

    def program():
        Toy("a", name="x")
        raise Oops("program bug")

    with pytest.raises(ProgramError, match="the program raised Oops: program bug") as caught:
        run_program(program, config=cfg)
    assert isinstance(caught.value.__cause__, Oops)
    assert caught.value.state.resources == [] and stored(state_dir) == {}  # the preview failed: nothing made

    with pytest.raises(ProgramError, match="the program raised Oops: program bug") as caught:
        run_program(program, config=cfg, skip_preview=True)
    # Registrations made before the exception were deployed and are kept for clean-up.
    assert [r.name for r in caught.value.state.resources] == ["a"]
    assert set(stored(state_dir)) == {caught.value.state.resources[0].id}


def test_provider_error_fails_the_run(cfg):
    with pytest.raises(ProgramError) as caught:
        run_program(lambda: Toy("boom", name="explode"), config=cfg)
    err = caught.value
    assert isinstance(err.provider_error, ProviderError)
    assert err.provider_error.operation == "Create"
    assert "create of resource 'boom'" in str(err)
    assert "RuntimeError: toy create refused" in str(err)


def test_failed_changes_keep_existing_resources_in_the_error_state(cfg, state_dir):
    up = run_program(two_toys(), config=cfg)
    for broken in (two_toys(size=30), lambda: Toy("a", name="x", size=2, color="explode")):
        with pytest.raises(ProgramError) as caught:
            run_program(broken, config=cfg, state=up.state)
        kept = caught.value.state
        assert kept.get(urn("a")).id == up.resource("a").id
        assert kept.get(urn("b")).id == up.resource("b").id  # not deleted: the run failed first
    assert set(stored(state_dir)) == {up.resource("a").id, up.resource("b").id}


def test_replaced_copy_survives_a_failed_run_and_is_deleted_by_the_next(cfg, state_dir):
    up = run_program(two_toys(), config=cfg)
    old_a = up.resource("a").id

    def replace_a_then_fail():
        a = Toy("a", name="renamed", size=2)
        Toy("b", name=a.id.apply(lambda i: f"b-of-{i}"), size=30)

    with pytest.raises(ProgramError, match="resource 'b'") as caught:
        run_program(replace_a_then_fail, config=cfg, state=up.state, skip_preview=True)  # fail in the update
    kept = caught.value.state
    new_a = kept.get(urn("a")).id
    assert new_a != old_a
    pending = [r for r in kept.resources if r.pending_delete]
    assert [(r.name, r.id) for r in pending] == [("a", old_a)]
    assert set(stored(state_dir)) == {new_a, old_a, up.resource("b").id}

    text = kept.to_json()
    fixed = run_program(two_toys(name="renamed"), config=cfg, state=State.from_json(text))
    assert fixed.steps[urn("a")] == "same"
    assert not any(r.pending_delete for r in fixed.state.resources)
    assert old_a not in stored(state_dir)


def test_get_reads_an_existing_resource(cfg, state_dir):
    src = run_program(lambda: Toy("src", name="orig", size=4), config=cfg).resource("src")

    def program():
        found = Toy.get("found", src.id)
        pulumi.export("size", found.size)
        pulumi.export("serial", found.serial)

    mark = len(calls(state_dir))
    result = run_program(program, config=cfg)
    assert result.steps == {urn("found"): "read"}
    assert result.outputs == {"size": 4, "serial": src.outputs["serial"]}
    # A get() is a ReadStep, which runs in the preview too: one read there, one in the update.
    assert calls(state_dir)[mark:] == [f"read {src.id}"] * 2
    assert result.resource("found").external
    # A resource read with get is never deleted by destroy.
    destroy(result.state, config=cfg)
    assert src.id in stored(state_dir)

    # The engine's ReadStep fails only when the provider returns no properties at all, and the SDK's
    # host always returns some (it adds __provider): a read() answering "gone" (empty id) makes a
    # resource whose outputs are all missing, with the requested id. Providers must raise instead.
    ghost = run_program(lambda: pulumi.export("id", Toy.get("found", "missing").id), config=cfg)
    assert ghost.outputs == {"id": "missing"}
    assert set(ghost.resource("found").outputs) == {"__provider"}

    # ReadStep runs during a preview too: a get() reads the resource.
    mark = len(calls(state_dir))
    planned = run_program(program, config=cfg, preview=True)
    assert planned.steps == {urn("found"): "read"}
    assert planned.outputs == {"size": 4, "serial": src.outputs["serial"]}
    assert calls(state_dir)[mark:] == [f"read {src.id}"]


def test_import_of_a_dynamic_resource_is_refused_as_the_engine_fails(cfg, state_dir):
    src = run_program(lambda: Toy("src", name="orig", size=4), config=cfg).resource("src")

    def adopt():
        Toy("adopted", name="orig", size=4, opts=pulumi.ResourceOptions(import_=src.id))

    for preview in (True, False):
        mark = len(calls(state_dir))
        with pytest.raises(ProgramError) as caught:
            run_program(adopt, config=cfg, preview=preview)
        message = str(caught.value)
        # The engine's id-only Read reaches the SDK's host, which fails before the provider runs.
        assert "KeyError: '__provider'" in message and "pulumi/pulumi#16175" in message
        assert f"adopt_id={src.id!r}" in message and "Toy.get(name, id)" in message
        assert caught.value.provider_error.operation == "Read"
        assert calls(state_dir)[mark:] == []  # neither read nor create reached the provider
        assert caught.value.state.resources == []
    assert set(stored(state_dir)) == {src.id}


def test_stack_references_are_answered_from_given_outputs(cfg):
    producer = run_program(
        lambda: (pulumi.export("channelId", "ch-1"), pulumi.export("key", pulumi.Output.secret("k3y"))),
        config=cfg,
    )

    def program():
        plain_ref = pulumi.StackReference("org/numbers/dev")
        producer_ref = pulumi.StackReference("org/producer/dev")
        pulumi.export("number", plain_ref.get_output("numberId"))
        pulumi.export("missing", plain_ref.get_output("nope"))
        pulumi.export("channel", producer_ref.require_output("channelId"))
        pulumi.export("key", producer_ref.get_output("key"))

    result = run_program(
        program,
        config=cfg,
        stack_references={"org/numbers/dev": {"numberId": "num-9"}, "org/producer/dev": producer},
    )
    assert result.outputs == {"number": "num-9", "channel": "ch-1", "key": "k3y"}
    assert result.secret_outputs == {"key"}

    with pytest.raises(ProgramError, match="StackReference 'org/else/dev' is not in stack_references"):
        run_program(lambda: pulumi.StackReference("org/else/dev"), config=cfg)


def test_exports_are_unwrapped_and_secrets_stay_out_of_the_state_file(cfg):
    def program():
        toy = Toy("a", name="x", secret=pulumi.Output.secret("toy-s3cr3t"))
        pulumi.export("plain", "value")
        pulumi.export("nested", {"list": [1, "two"], "id": toy.id})
        pulumi.export("token", pulumi.Output.secret("export-s3cr3t"))
        pulumi.export("toySecret", toy.secret)

    result = run_program(program, config=cfg)
    toy = result.resource("a")
    assert result.outputs == {
        "plain": "value",
        "nested": {"list": [1, "two"], "id": toy.id},
        "token": "export-s3cr3t",
        "toySecret": "toy-s3cr3t",
    }
    # An output is secret when its input was.
    assert result.secret_outputs == {"token", "toySecret"}
    assert "secret" in toy.secret_inputs and "secret" in toy.secret_outputs
    assert toy.outputs["secret"] == "toy-s3cr3t"

    text = result.state.to_json()
    assert "s3cr3t" not in text
    restored = State.from_json(text)
    assert restored.outputs["token"] == "export-s3cr3t"
    assert restored.secret_outputs == {"token", "toySecret"}
    assert restored.get(toy.urn).inputs["secret"] == "toy-s3cr3t"
    assert restored.to_json() == text


def test_additional_secret_outputs_are_secret_in_state_and_exports(cfg):
    def program():
        toy = Toy("a", name="x", opts=pulumi.ResourceOptions(additional_secret_outputs=["serial"]))
        pulumi.export("serial", toy.serial)

    first = run_program(program, config=cfg)
    again = run_program(program, config=cfg, state=first.state)
    for result in (first, again):  # a create and a same step
        assert "serial" in result.resource("a").secret_outputs
        assert result.secret_outputs == {"serial"}
        sealed = __import__("json").loads(result.state.to_json())
        assert "ciphertext" in sealed["resources"][0]["outputs"]["serial"] and "ciphertext" in sealed["outputs"]["serial"]


def test_config_reaches_the_program_and_the_host(cfg, state_dir):
    seen = {}

    def program():
        seen["greeting"] = pulumi.Config().require("greeting")
        seen["bare"] = pulumi.Config("test").get("bare")
        seen["dir"] = pulumi.Config("toy").require("stateDir")
        seen["count"] = pulumi.Config().get_int("count")
        Toy("a", name="x")

    result = run_program(program, config={**cfg, "test:greeting": "hi", "bare": "yes", "count": 3})
    assert seen == {"greeting": "hi", "bare": "yes", "dir": state_dir, "count": 3}
    # The host was configured with the same config: the toy found its state directory.
    assert set(stored(state_dir)) == {result.resource("a").id}
    # Nothing leaks into the next run or the caller.
    assert pulumi.Config().get("greeting") is None


def test_directory_program_with_stack_file(tmp_path, state_dir):
    project = tmp_path / "proj"
    app = project / "app"
    app.mkdir(parents=True)
    (project / "Pulumi.yaml").write_text("name: dirproj\nruntime: python\nmain: app/\n")
    (project / "Pulumi.dev.yaml").write_text(
        "config:\n  dirproj:greeting: from-stack-file\n  dirproj:size: 3\n  toy:stateDir: /nonexistent\n"
    )
    (app / "helper.py").write_text("SUFFIX = '-helped'\n")
    (app / "__main__.py").write_text(
        textwrap.dedent(
            """
            import os
            import pulumi
            from helper import SUFFIX
            from toy_provider import Toy

            config = pulumi.Config()
            toy = Toy("a", name=config.require("greeting") + SUFFIX, size=config.require_int("size"))
            pulumi.export("name", toy.name)
            pulumi.export("cwd", os.getcwd())
            pulumi.export("project", pulumi.get_project())
            """
        )
    )
    result = run_program(str(project), config={"toy:stateDir": state_dir}, host_env={"PYTHONPATH": TESTS_DIR})
    assert result.outputs == {"name": "from-stack-file-helped", "cwd": str(app), "project": "dirproj"}
    assert result.steps == {urn("a", project="dirproj"): "create"}
    assert stored(state_dir)[result.resource("a").id]["size"] == 3
    assert os.getcwd() != str(app)


def test_refresh_drops_vanished_resources_and_takes_read_inputs(cfg, state_dir):
    up = run_program(two_toys(), config=cfg)
    a, b = up.resource("a"), up.resource("b")
    os.remove(os.path.join(state_dir, f"{b.id}.json"))
    drifted = stored(state_dir)[a.id]
    drifted["size"] = 9
    with open(os.path.join(state_dir, f"{a.id}.json"), "w") as f:
        import json

        json.dump(drifted, f)

    refreshed = refresh(up.state, config=cfg)
    assert [r.name for r in refreshed.resources] == ["a"]
    assert refreshed.get(a.urn).outputs["size"] == 9
    assert refreshed.get(a.urn).inputs["size"] == 9  # ReadResult.inputs replaced the stored inputs
    assert refreshed.outputs == up.state.outputs

    # The refreshed state now differs from the program: the next up updates it back.
    again = run_program(two_toys(), config=cfg, state=refreshed)
    assert again.steps == {urn("a"): "update", urn("b"): "create"}


def test_engine_diffs_inputs_when_the_provider_has_no_diff(cfg):
    first = run_program(lambda: Echo("e", value="v"), config=cfg)
    same = run_program(lambda: Echo("e", value="v"), config=cfg, state=first.state)
    changed = run_program(lambda: Echo("e", value="w"), config=cfg, state=first.state)
    echo_urn = urn("e", type_="pulumi-python:dynamic/toy:Echo")
    assert same.steps == {echo_urn: "same"}
    assert changed.steps == {echo_urn: "update"}


def test_many_resources_register_concurrently(cfg, state_dir):
    def program():
        for i in range(16):
            Toy(f"t{i}", name=f"t{i}")

    result = run_program(program, config=cfg)
    assert len(result.resources) == 16
    assert set(stored(state_dir)) == {r.id for r in result.resources.values()}
    assert set(result.steps.values()) == {"create"}


def test_given_host_is_reused_and_left_running(cfg, state_dir):
    with ProviderHost(config=cfg, env={"PYTHONPATH": TESTS_DIR}) as host:
        first = run_program(lambda: Toy("a", name="x"), config=cfg, host=host)
        run_program(lambda: None, config=cfg, host=host, state=first.state)
        assert host.is_running()
    assert stored(state_dir) == {}


def test_owned_host_is_stopped(cfg, monkeypatch):
    started = []
    original = ProviderHost.start

    def spy(self):
        started.append(self)
        return original(self)

    monkeypatch.setattr(ProviderHost, "start", spy)
    with pytest.raises(ProgramError):
        run_program(lambda: Toy("boom", name="explode"), config=cfg)
    run_program(lambda: Toy("a", name="x"), config=cfg)
    # A fresh host for each operation, as the engine starts plugins per operation: the preview's and the
    # update's, twice.
    assert len(started) == 4 and len({id(h) for h in started}) == 4
    assert not any(h.is_running() for h in started)


def test_registered_inputs_returns_real_inputs():
    def program():
        Toy("plain", name="x", size=2)
        Toy("secretive", name="y", secret=pulumi.Output.secret("s"))
        Toy("imported", name="z", opts=pulumi.ResourceOptions(import_="id-1"))
        Toy.get("looked-up", "id-2")

    regs = registered_inputs(program)
    assert set(regs) == {"plain", "secretive", "imported", "looked-up"}
    plain = regs["plain"]
    assert (plain.type, plain.urn) == (toy_provider.TYPE, urn("plain"))
    assert {k: v for k, v in plain.inputs.items() if k != "__provider"} == {"name": "x", "size": 2}
    assert type(decode_provider(plain.inputs)).__name__ == "ToyProvider"
    assert regs["secretive"].inputs["secret"] == "s"
    assert "secret" in regs["secretive"].secret_inputs
    assert (regs["imported"].import_id, regs["imported"].resource_id) == ("id-1", None)
    assert (regs["looked-up"].import_id, regs["looked-up"].resource_id) == (None, "id-2")
