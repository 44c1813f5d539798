"""How the engine double schedules and applies steps, through the SDK's real provider host and the toy provider:
parallel steps and cancellation, deletes by dependency, deletedWith, protect, replaceOnChanges, transforms,
and ignoreChanges property paths (sdk/go/common/resource/properties_path.go PropertyPath.Reset)."""

from __future__ import annotations

import asyncio
import os

import pulumi
import pytest

import toy_provider
from engine_double import ProgramError, ProviderHost, State, destroy, make_urn, refresh, run_program
from engine_double.paths import apply_ignore_changes, parse_property_path, reset_path
from toy_provider import Echo, Toy, calls, stored

TESTS_DIR = os.path.dirname(os.path.abspath(__file__))


@pytest.fixture
def cfg(tmp_path):
    path = tmp_path / "cloud"
    path.mkdir()
    return {"toy:stateDir": str(path)}


def log(cfg):
    return calls(cfg["toy:stateDir"])


def test_independent_creates_run_in_parallel(cfg):
    """step_executor.go: independent steps apply at once, up to --parallel."""
    names = ("p", "q", "r")
    # Each create, once begun, waits until all three have begun: they meet only if they run at once.
    made = run_program(lambda: [Toy(n, name=n, wait_for=[f"begin {m}" for m in names]) for n in names], config=cfg,
                       skip_preview=True)
    lines = [line.split()[0] for line in log(cfg) if line.split()[0] in ("begin", "create")]
    assert lines == ["begin"] * 3 + ["create"] * 3  # all three started before any finished
    destroy(made.state)

    mark = len(log(cfg))
    # Whichever gets the only slot holds it until the other is checked, i.e. ready to be created and waiting.
    made = run_program(lambda: [Toy("s", name="s", wait_for=["check t"]), Toy("t", name="t", wait_for=["check s"])],
                       config=cfg, skip_preview=True, parallel=1)
    lines = [line.split()[0] for line in log(cfg)[mark:] if line.split()[0] in ("begin", "create")]
    assert lines == ["begin", "create", "begin", "create"]  # --parallel 1: one step at a time
    destroy(made.state)


def test_a_failed_step_cancels_the_steps_not_yet_started(cfg):
    """step_executor.go cancelDueToError: with --parallel 1, `bad` holds the only slot and fails; `q1` and `q2`,
    registered meanwhile and waiting for a slot, never start."""

    async def once_bad_began(value):
        for _ in range(3000):  # a bounded poll of the call log (30 s at most)
            if "begin explode" in log(cfg):
                return value
            await asyncio.sleep(0.01)
        raise AssertionError("`bad` never began its create")

    def program():
        Toy("bad", name="explode", wait_for=["check q1", "check q2"])  # fails once q1 and q2 wait for its slot
        Toy("q1", name=pulumi.Output.from_input(once_bad_began("q1")))  # registered once `bad` holds the slot
        Toy("q2", name=pulumi.Output.from_input(once_bad_began("q2")))

    with pytest.raises(ProgramError, match="create of resource 'bad'") as caught:
        run_program(program, config=cfg, parallel=1, skip_preview=True)
    assert [line.split()[0] for line in log(cfg) if line.split()[0] in ("begin", "create")] == ["begin"]
    assert caught.value.state.resources == [] and stored(cfg["toy:stateDir"]) == {}


def test_deletes_go_dependents_first(cfg):
    """step_generator.go ScheduleDeletes: a dependent's delete ends before its dependency's starts, even when
    the dependent is slow and the dependency quick."""

    def program():
        base = Toy("base", name="base")
        # The dependent's delete is slow on purpose (the case under test: a slow dependent, a quick dependency);
        # nothing waits for the delay, the order is read from the call log.
        Toy("top", name=base.id.apply(lambda i: f"top-of-{i}"), sleep=0.5)

    made = run_program(program, config=cfg, skip_preview=True)
    mark = len(log(cfg))
    destroy(made.state)
    deleted = [line.split()[2] for line in log(cfg)[mark:] if line.startswith("delete")]
    assert deleted[0].startswith("top-of-") and deleted[1] == "base"


def test_deleted_with_skips_the_providers_delete(cfg):
    """step.go DeleteStep.Apply isDeletedWith: deleting `owner` deletes `part` too; only owner's Delete is sent."""

    def program():
        owner = Toy("owner", name="owner")
        Toy("part", name="part", opts=pulumi.ResourceOptions(deleted_with=owner))

    made = run_program(program, config=cfg, skip_preview=True)
    assert made.state.find("part").deleted_with == made.resource("owner").urn
    mark = len(log(cfg))
    destroy(made.state)
    assert [line.split()[2] for line in log(cfg)[mark:] if line.startswith("delete")] == ["owner"]


def test_protect_refuses_deletes_in_preview_and_destroy(cfg):
    """step.go DeleteStep.Apply: a protected resource is not deleted, and a preview already says so."""
    made = run_program(lambda: Toy("keep", name="keep", opts=pulumi.ResourceOptions(protect=True)), config=cfg,
                       skip_preview=True)
    with pytest.raises(ProgramError, match="cannot be deleted because it is protected") as caught:
        run_program(lambda: None, config=cfg, state=made.state, preview=True)
    assert caught.value.resource == "keep"
    with pytest.raises(ProgramError, match="pulumi state unprotect"):
        destroy(made.state)
    assert len(stored(cfg["toy:stateDir"])) == 1
    unprotected = run_program(lambda: Toy("keep", name="keep"), config=cfg, state=made.state, skip_preview=True)
    destroy(unprotected.state)


def test_replace_on_changes_needs_changed_keys_the_engine_knows(cfg):
    """step_generator.go applyReplaceOnChanges: the Python host reports no changed keys, so a provider that
    answers its own diff (the toy, as every pulumi_bird resource) updates in place; only a DIFF_UNKNOWN answer,
    diffed by the engine, turns into a replacement."""
    opts = pulumi.ResourceOptions(replace_on_changes=["size"])
    first = run_program(lambda: Toy("t", name="t", size=1, opts=opts), config=cfg, skip_preview=True)
    again = run_program(lambda: Toy("t", name="t", size=2, opts=opts), config=cfg, state=first.state, skip_preview=True)
    assert again.steps == {make_urn(toy_provider.TYPE, "t"): "update"}
    echo = pulumi.ResourceOptions(replace_on_changes=["value"])
    made = run_program(lambda: Echo("e", value="a", opts=echo), config=cfg, skip_preview=True)
    changed = run_program(lambda: Echo("e", value="b", opts=echo), config=cfg, state=made.state, skip_preview=True)
    assert changed.steps == {make_urn("pulumi-python:dynamic/toy:Echo", "e"): "replace"}
    destroy(again.state)


def test_transforms_run_before_the_registration(cfg):
    """source_eval.go RegisterResource: the resource's own transforms, then the stack's, change the properties
    and options before Check."""

    def bigger(args):
        return pulumi.ResourceTransformResult(props={**args.props, "size": 9}, opts=args.opts)

    def protected(args):
        return pulumi.ResourceTransformResult(props=args.props, opts=pulumi.ResourceOptions.merge(
            args.opts, pulumi.ResourceOptions(protect=True)))

    def program():
        pulumi.runtime.register_resource_transform(protected)
        Toy("t", name="t", size=1, opts=pulumi.ResourceOptions(transforms=[bigger]))

    made = run_program(program, config=cfg)
    toy = made.resource("t")
    assert toy.inputs["size"] == 9 and toy.protect
    with pytest.raises(ProgramError, match="protected"):
        destroy(made.state)


def test_property_paths_reset_as_the_engine_does():
    """properties_path.go parsePropertyPath and PropertyPath.Reset."""
    assert parse_property_path('a.b[0]["c.d"][*].e') == ["a", "b", 0, "c.d", "*", "e"]
    old = {"filters": [{"key": "k", "value": "old"}], "tags": {"a": 1}, "gone": 1}
    new = {"filters": [{"key": "k", "value": "new"}], "tags": {"a": 2, "b": 3}, "added": 2}
    assert apply_ignore_changes(new, old, ["filters[0].value"])["filters"][0]["value"] == "old"
    assert apply_ignore_changes(new, old, ["tags.*"])["tags"] == {"a": 1}
    # A top-level key takes the old value, or goes when the olds lack it.
    assert apply_ignore_changes(new, old, ["gone", "added"]) == {"filters": new["filters"], "tags": new["tags"],
                                                                 "gone": 1}
    assert apply_ignore_changes(new, old, ["*"]) == old
    # An index present on one side only cannot be reset (the engine leaves it and says so).
    grown = {"filters": [{"key": "k", "value": "new"}, {"key": "x", "value": "y"}]}
    assert reset_path("filters[1]", old, grown) is False
    assert new["filters"][0]["value"] == "new"  # the news themselves are not changed


def test_a_run_leaves_no_unclosed_event_loop(cfg):
    """Event loops the program's worker threads needed are closed with the run: left to the garbage collector,
    one is sometimes finalized after its sockets and prints `BaseEventLoop.__del__ ... Invalid file descriptor`."""
    import gc

    gc.collect()
    gc.disable()
    try:
        with pytest.raises(ProgramError):
            run_program(lambda: [Toy("boom", name="explode"), Toy("ok", name="ok")], config=cfg, skip_preview=True)
        unclosed = [o for o in gc.get_objects() if isinstance(o, asyncio.AbstractEventLoop) and not o.is_closed()]
    finally:
        gc.enable()
    assert unclosed == []


def test_a_failed_delete_before_replace_keeps_the_old_resource_pending_replacement(cfg):
    """step.go DeleteStep.Apply marks the deleted old resource PendingReplacement; it stays in the state until
    the replacement exists, a refresh leaves it alone, and the next up creates without deleting it again."""
    made = run_program(lambda: Toy("a", name="one", exclusive=True), config=cfg)
    old = made.resource("a")
    with pytest.raises(ProgramError, match="create of resource 'a'") as caught:
        run_program(lambda: Toy("a", name="explode", exclusive=True), config=cfg, state=made.state)
    kept = caught.value.state
    assert [(r.id, r.pending_replacement) for r in kept.resources] == [(old.id, True)]
    assert stored(cfg["toy:stateDir"]) == {}  # the delete happened
    mark = len(log(cfg))
    assert refresh(kept).resources[0].pending_replacement  # RefreshStep.Apply: unchanged, no Read
    assert destroy(kept).resources == []  # GenerateDeletes: RemovePendingReplaceStep, no Delete
    fixed = run_program(lambda: Toy("a", name="two", exclusive=True), config=cfg, state=kept)
    assert [line.split()[0] for line in log(cfg)[mark:] if line.split()[0] in ("read", "create", "delete")] == [
        "create"]
    assert [(r.name, r.pending_replacement) for r in fixed.state.resources] == [("a", False)]
    destroy(fixed.state)


class Interrupting(ProviderHost):
    """The CLI killed right after a Create went out: the provider made the object, the engine never heard."""

    def create(self, urn, inputs, **kw):
        super().create(urn, inputs, **kw)
        raise KeyboardInterrupt


def test_an_interrupted_create_leaves_a_pending_operation(cfg):
    """pkg/backend/snapshot.go doCreate keeps a pending CREATE until the call ends; the next up warns
    (deployment_executor.go printPendingOperationsWarning) and keeps it until a refresh clears it."""
    with Interrupting(config=cfg, env={"PYTHONPATH": TESTS_DIR}) as host:
        with pytest.raises(KeyboardInterrupt) as caught:
            run_program(lambda: Toy("a", name="x"), config=cfg, host=host, skip_preview=True)
    left = State.from_json(caught.value.state.to_json())  # as the stack file keeps it
    urn = make_urn(toy_provider.TYPE, "a")
    assert [(op.type, op.resource.urn) for op in left.pending_operations] == [("creating", urn)]
    assert left.resources == [] and len(stored(cfg["toy:stateDir"])) == 1  # made, but unknown to the state
    again = run_program(lambda: Toy("a", name="x"), config=cfg, state=left)
    assert f"* {urn}, interrupted while creating" in again.warnings[0]
    assert again.state.pending_operations == left.pending_operations
    assert refresh(again.state).pending_operations == left.pending_operations
    cleared = refresh(again.state, clear_pending_creates=True)
    assert cleared.pending_operations == [] and run_program(
        lambda: Toy("a", name="x"), config=cfg, state=cleared).warnings == []
    destroy(cleared)
