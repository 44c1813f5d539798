"""ProviderHost drives the SDK's real `python -m pulumi.dynamic` process over gRPC."""

from __future__ import annotations

import os
import time
from concurrent.futures import ThreadPoolExecutor

import grpc
import pytest
from pulumi.output import Unknown
from pulumi.runtime import rpc

import toy_provider
from engine_double import (
    UNKNOWN,
    HostStartError,
    ProviderError,
    ProviderHost,
    make_urn,
    registered_inputs,
)
from engine_double.host import decode_provider, parse_urn
from sdk_floor import requires_read_fallback
from toy_provider import Toy, calls, stored

TESTS_DIR = os.path.dirname(os.path.abspath(__file__))
URN = make_urn(toy_provider.TYPE, "a")


@pytest.fixture
def state_dir(tmp_path):
    return str(tmp_path)


@pytest.fixture
def host(state_dir):
    with ProviderHost(config={"toy:stateDir": state_dir}, env={"PYTHONPATH": TESTS_DIR}) as running:
        yield running


@pytest.fixture(scope="module")
def provider():
    """The real pickled ``__provider`` input of a Toy, as the SDK builds it."""
    return registered_inputs(lambda: Toy("a", name="x"))["a"].inputs["__provider"]


def props(provider, **values):
    return {**values, "__provider": provider}


def public(values):
    return {k: v for k, v in values.items() if k != "__provider"}


def test_make_urn_and_parse_urn_round_trip():
    urn = make_urn("pulumi-python:dynamic/toy:Toy", "a", stack="prod", project="p")
    assert urn == "urn:pulumi:prod::p::pulumi-python:dynamic/toy:Toy::a"
    assert parse_urn(urn) == ("pulumi-python:dynamic/toy:Toy", "a")
    assert parse_urn("urn:pulumi:s::p::my:comp:C$pulumi-python:dynamic:Resource::child") == (
        "pulumi-python:dynamic:Resource",
        "child",
    )
    with pytest.raises(ValueError):
        parse_urn("not-a-urn")


def test_registered_provider_is_pickled_by_reference(provider):
    decoded = decode_provider({"__provider": provider})
    assert type(decoded).__module__ == "toy_provider"
    assert type(decoded).__name__ == "ToyProvider"


def test_check_reports_one_failure_per_property(host, provider):
    result = host.check(URN, props(provider, size=30))
    assert result.failures == [
        ("name", "name is required"),
        ("size", "size must be an integer from 1 to 10, got 30.0"),
    ]


def test_check_returns_the_provider_inputs(host, provider):
    result = host.check(URN, props(provider, name="x", size=3))
    assert result.failures == []
    assert public(result.inputs) == {"name": "x", "size": 3, "color": "blue"}
    assert result.inputs["__provider"] == provider


def test_unknowns_reach_check_and_diff_as_unknown(host, provider, state_dir):
    checked = host.check(URN, props(provider, name=UNKNOWN, size=Unknown()))
    # Unknowns come back as the sentinel, and the provider saw pulumi.output.Unknown instances.
    assert checked.inputs["name"] == UNKNOWN
    assert checked.inputs["size"] == UNKNOWN
    assert calls(state_dir)[-1] == "check ? unknown=name,size types=Unknown,Unknown"

    olds = props(provider, name="x", size=1, color="blue")
    diff = host.diff(URN, "id1", olds, props(provider, name=UNKNOWN, size=1, color="blue"))
    assert calls(state_dir)[-1] == "diff id1 unknown=name"
    assert diff.replaces == ["name"]


def test_create_read_update_delete(host, provider, state_dir):
    created = host.create(URN, props(provider, name="x", size=2, color="red"))
    assert created.id
    assert public(created.outs) == {"name": "x", "size": 2, "color": "red", "serial": 1, "revision": 1}
    assert created.outs["__provider"] == provider
    assert stored(state_dir)[created.id]["size"] == 2

    read = host.read(URN, created.id, created.outs)
    assert read.id == created.id
    assert public(read.outs) == public(created.outs)
    assert read.inputs is not None and public(read.inputs) == {"name": "x", "size": 2, "color": "red"}

    outs = host.update(URN, created.id, created.outs, props(provider, name="x", size=5, color="red"))
    assert outs["size"] == 5 and outs["revision"] == 2
    assert stored(state_dir)[created.id]["revision"] == 2

    host.delete(URN, created.id, outs)
    assert created.id not in stored(state_dir)
    gone = host.read(URN, created.id, outs)
    assert gone.id == ""
    assert gone.inputs is None
    assert [c.split()[0] for c in calls(state_dir)] == ["create", "read", "update", "delete", "read"]


@requires_read_fallback
def test_read_with_inputs_only_works_like_a_get(host, provider):
    created = host.create(URN, props(provider, name="x", size=2))
    read = host.read(URN, created.id, properties=None, inputs={"__provider": provider})
    assert read.id == created.id
    assert read.outs["serial"] == created.outs["serial"]


def test_diff_tells_replace_from_update(host, provider):
    olds = props(provider, name="x", size=1, color="blue")
    same = host.diff(URN, "i", olds, dict(olds))
    assert (same.changes, same.replaces) == ("none", [])

    update = host.diff(URN, "i", olds, props(provider, name="x", size=2, color="blue"))
    assert (update.changes, update.replaces, update.delete_before_replace) == ("some", [], False)

    replace = host.diff(URN, "i", olds, props(provider, name="y", size=1, color="blue"))
    assert (replace.changes, replace.replaces, replace.delete_before_replace) == ("some", ["name"], False)

    exclusive = host.diff(URN, "i", olds, props(provider, name="y", size=1, color="blue", exclusive=True))
    assert exclusive.delete_before_replace is True


def test_diff_without_provider_diff_is_unknown(host):
    echo = registered_inputs(lambda: toy_provider.Echo("e", value="v"))["e"].inputs
    urn = make_urn("pulumi-python:dynamic/toy:Echo", "e")
    result = host.diff(urn, "i", echo, {**echo, "value": "w"})
    assert result.changes == "unknown"


def test_provider_exception_is_a_provider_error(host, provider):
    with pytest.raises(ProviderError) as caught:
        host.create(URN, props(provider, name="explode"))
    err = caught.value
    assert err.operation == "Create"
    assert err.code == grpc.StatusCode.UNKNOWN
    assert err.urn == URN
    assert "Traceback" in err.message
    assert err.summary == "RuntimeError: toy create refused: name 'explode'"
    assert "toy create refused" in str(err)


def test_configure_delivers_stack_config(provider, tmp_path):
    with ProviderHost(config={}, env={"PYTHONPATH": TESTS_DIR}) as unconfigured:
        with pytest.raises(ProviderError, match="toy:stateDir is not configured"):
            unconfigured.create(URN, props(provider, name="x"))
    with ProviderHost(config={"toy:stateDir": str(tmp_path)}, env={"PYTHONPATH": TESTS_DIR}) as configured:
        created = configured.create(URN, props(provider, name="x"))
    assert list(stored(str(tmp_path))) == [created.id]


def test_configure_has_the_engines_shape(provider, tmp_path, monkeypatch):
    from pulumi.runtime.proto import provider_pb2

    from engine_double import secret

    sent = []
    original = ProviderHost._call

    def spy(self, operation, request, urn, timeout):
        sent.append((operation, request))
        return original(self, operation, request, urn, timeout)

    monkeypatch.setattr(ProviderHost, "_call", spy)
    config = {"toy:stateDir": secret(str(tmp_path)), "proj:size": "3"}
    with ProviderHost(config=config, env={"PYTHONPATH": TESTS_DIR}) as configured:
        created = configured.create(URN, props(provider, name="x"))
    assert list(stored(str(tmp_path))) == [created.id]  # the secret reached the provider, unwrapped by the host
    request = next(r for op, r in sent if op == "Configure")
    assert isinstance(request, provider_pb2.ConfigureRequest)
    # target.go GetPackageConfig keeps the namespaces for dynamic providers; provider_plugin.go Configure keys
    # the deprecated variables by package and sends secrets wrapped in args.
    assert dict(request.variables) == {"pulumi-python:config:toy:stateDir": str(tmp_path),
                                       "pulumi-python:config:proj:size": "3"}
    args = rpc.deserialize_properties(request.args)
    assert rpc.is_rpc_secret(args["toy:stateDir"]) and args["proj:size"] == "3"
    assert request.type == "pulumi:providers:pulumi-python" and request.acceptSecrets


def test_secrets_are_unwrapped_before_the_provider(host, provider, state_dir):
    created = host.create(URN, props(provider, name="x", secret=rpc.wrap_rpc_secret("s3cr3t")))
    assert stored(state_dir)[created.id]["secret"] == "s3cr3t"
    assert created.outs["secret"] == "s3cr3t"


def test_host_output_is_captured(host, provider):
    host.create(URN, props(provider, name="loud"))
    # Each pipe has its own reader thread: the create can return before a line is read. Poll the captured text
    # (a fact, not a delay) for at most 10 s.
    deadline = time.monotonic() + 10
    while not all(line in host.stderr_text() for line in ("toy stderr: creating loud", "toy stdout: creating loud")):
        assert time.monotonic() < deadline, host.stderr_text()
        time.sleep(0.02)


def test_sixteen_concurrent_creates(host, provider, state_dir):
    def create(i):
        return host.create(make_urn(toy_provider.TYPE, f"t{i}"), props(provider, name=f"t{i}")).id

    with ThreadPoolExecutor(max_workers=16) as pool:
        ids = list(pool.map(create, range(16)))
    assert len(set(ids)) == 16
    assert set(stored(state_dir)) == set(ids)


def test_stop_ends_the_process_and_later_calls_fail(provider, state_dir):
    host = ProviderHost(config={"toy:stateDir": state_dir}, env={"PYTHONPATH": TESTS_DIR}).start()
    pid = host.pid
    assert host.is_running()
    os.kill(pid, 0)  # alive
    host.stop()
    assert not host.is_running()
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)  # reaped: no such process
    with pytest.raises(ProviderError, match="not running"):
        host.check(URN, props(provider, name="x"))
    host.stop()  # idempotent


def test_host_that_dies_at_start_reports_its_output(tmp_path):
    # `python -m pulumi.dynamic` puts the working directory first on sys.path.
    fake = tmp_path / "pulumi"
    fake.mkdir()
    (fake / "__init__.py").write_text("raise SystemExit('broken pulumi on purpose')\n")
    host = ProviderHost(cwd=str(tmp_path))
    with pytest.raises(HostStartError, match=r"(?s)exited with code 1.*broken pulumi on purpose"):
        host.start()
    assert not host.is_running()


def test_call_timeout_is_enforced(provider, state_dir):
    with ProviderHost(config={"toy:stateDir": state_dir}, env={"PYTHONPATH": TESTS_DIR}, timeout=0.5) as slow:
        with pytest.raises(ProviderError) as caught:
            slow.create(URN, props(provider, name="x", sleep=5))  # a deliberate delay: what the 0.5 s deadline cuts
    assert caught.value.code == grpc.StatusCode.DEADLINE_EXCEEDED


def test_values_that_cannot_travel_are_rejected(host, provider):
    with pytest.raises(TypeError, match=r"size: object cannot be sent"):
        host.check(URN, props(provider, name="x", size=object()))


def test_host_process_is_reaped_when_the_object_is_collected(state_dir):
    host = ProviderHost(config={"toy:stateDir": state_dir}, env={"PYTHONPATH": TESTS_DIR}).start()
    proc = host._proc
    del host
    import gc

    gc.collect()
    assert proc.poll() is not None
