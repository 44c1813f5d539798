"""Shared fixtures: an independent Bird double, a provider host pointed at it, and real resource inputs."""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable, Iterator, Optional

import pytest

from bird_double import BirdDouble
from engine_double.host import ProviderHost
from engine_double.runner import registered_inputs
from helpers import API, KEY, FakeClock
from pulumi_bird.api.client import BirdClient

if TYPE_CHECKING:
    from pulumi_bird.emulator import BirdEmulator


@pytest.fixture(scope="module")
def double() -> Iterator[BirdDouble]:
    with BirdDouble() as d:
        yield d


@pytest.fixture(autouse=True)
def _fresh_double_scripts(request) -> None:
    """Per test: no leftover scripts, faults or request log on a module-wide double."""
    if "double" in request.fixturenames:
        d = request.getfixturevalue("double")
        with d.lock:
            d.scripts.clear()
            d.seen.clear()
            d.failing_numbers.clear()
            d.reads_until_active = 1
            d.seconds_until_active = 0.0
            d.active_after_creates = 0


@pytest.fixture(scope="module")
def host(double: BirdDouble) -> Iterator[ProviderHost]:
    with ProviderHost(config=double.config()) as h:
        yield h


@pytest.fixture
def inputs_of() -> Callable:
    """``inputs_of(lambda: SmsChannel("sms", ...))`` -> the registration (urn, inputs with __provider)."""

    def build(factory: Callable[[], object], name: Optional[str] = None):
        regs = registered_inputs(factory)
        return regs[name] if name else next(iter(regs.values()))

    return build


@pytest.fixture(scope="module")
def emulator() -> Iterator["BirdEmulator"]:
    """The emulator (quick provisioning), one per test module; it can play hostile answers (``emu.hostile``) and
    counts request rates (tests/hostile_emulator.py)."""
    from hostile_emulator import HostileEmulator

    with HostileEmulator(provision_seconds=0.1) as emu:
        yield emu


@pytest.fixture
def clean_answers(emulator) -> Iterator[None]:
    """No hostile answer or canned fault of an earlier test on the module's emulator, and none left after this one
    (``pytestmark = pytest.mark.usefixtures("clean_answers")`` in a module whose tests set them)."""
    emulator.clear_answers()
    yield
    emulator.clear_answers()


@pytest.fixture(scope="module")
def bird_config(emulator) -> dict:
    """Stack config pointing at ``emulator``, the access key set as ``pulumi config set --secret`` sets it (the
    engine records the provider's config in the state as given, so a plain key would be stored in plain)."""
    from engine_double import secret

    return {"bird:accessKey": secret(emulator.access_key), "bird:apiUrl": emulator.url,
            "bird:workspaceId": emulator.workspace_id, "bird:organizationId": emulator.organization_id}


@pytest.fixture(scope="module")
def plugin(emulator):
    """``pulumi-resource-bird`` started and configured for ``emulator`` as the engine does (one per module)."""
    from plugin_engine import Plugin, provider_config

    with Plugin() as p:
        p.configure(provider_config(emulator))
        yield p


@pytest.fixture(scope="module")
def emulator_host(bird_config) -> Iterator[ProviderHost]:
    """A provider host configured for ``emulator``."""
    with ProviderHost(config=bird_config) as h:
        yield h


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def client(clock: FakeClock) -> BirdClient:
    return BirdClient(KEY, API, sleep=clock.sleep, clock=clock)
