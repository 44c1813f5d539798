"""What the suite needs to know about the installed Pulumi SDK: CI runs it on the SDK floor of pyproject.toml
(`make test-floor`) and on the latest (`make test`)."""

from __future__ import annotations

import importlib.metadata

import pytest

PULUMI_VERSION = tuple(int(part) for part in importlib.metadata.version("pulumi").split(".")[:2])

# From 3.268 the SDK's dynamic provider host finds the provider in a Read's *inputs* when its properties are empty
# (pulumi/dynamic/__main__.py, Read); before, such a Read fails in the host with KeyError '__provider'. No engine
# request depends on it: a get() sends its registered inputs as the state too (pkg/resource/deploy/step.go,
# ReadStep.Apply), and an import sends neither (ImportStep.Apply). Only the tests that send a Read with inputs
# alone need it.
requires_read_fallback = pytest.mark.skipif(
    PULUMI_VERSION < (3, 268), reason="the host's Read fallback to inputs came with pulumi 3.268; no engine needs it"
)
