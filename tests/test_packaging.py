"""What Pulumi's Python language host reads from the installed package."""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
from pathlib import Path


def test_the_dynamic_providers_need_no_plugin_download() -> None:
    """Pulumi's Python host reports a resource plugin for every installed `pulumi-*` distribution, which the
    engine then tries to download, unless the package's pulumi-plugin.json says `"resource": false`
    (sdk/python/cmd/pulumi-language-python/main.go, pulumiPluginJSONPathsScript and
    packageDependencyFromPluginJSON). Found here the way that script finds it."""
    distribution = importlib.metadata.distribution("pulumi-bird")
    spec = importlib.util.find_spec(distribution.metadata["Name"].replace("-", "_"))
    assert spec is not None and spec.submodule_search_locations
    (found,) = [p for loc in spec.submodule_search_locations
                if (p := Path(loc) / "pulumi-plugin.json").is_file()]
    assert json.loads(found.read_text()) == {"resource": False}
