"""examples/fleet's customers file and command line, before any Pulumi CLI runs: every problem is one line that
names the customer, the field and the fix, and the fleet exits 2 without deploying anything.

The fleet itself (stacks under the real CLI) is tests/e2e/test_fleet.py.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, Iterator

import pytest

ROOT = Path(__file__).resolve().parents[1]
FLEET = ROOT / "examples" / "fleet"


@pytest.fixture(scope="module")
def customers_module() -> Iterator[Any]:
    sys.path.insert(0, str(FLEET))
    try:
        import customers

        yield customers
    finally:
        sys.path.remove(str(FLEET))
        sys.modules.pop("customers", None)


def good() -> Dict[str, Any]:
    return {"name": "acme", "workspaceId": "5f0e4c9e-2b7a-4d1e-9c3b-000000000001",
            "numbers": ["+31970100010000"], "webhookUrl": "https://hooks.acme.example/bird"}


def write(tmp_path: Path, document: Any) -> Path:
    path = tmp_path / "customers.json"
    path.write_text(json.dumps(document))
    return path


def test_the_example_file_loads(customers_module: Any) -> None:
    loaded = customers_module.load_customers(FLEET / "customers.example.json")
    assert [c.stack_name for c in loaded] == ["customer-acme", "customer-globex", "customer-initech"]
    assert loaded[1].numbers == ("+31970100020000", "+31970100020001")
    assert loaded[2].workspace_id == "5f0e4c9e-2b7a-4d1e-9c3b-000000000003"


@pytest.mark.parametrize(("change", "message"), [
    ({"name": "Acme Corp"}, r"customers\[0\]\.name 'Acme Corp': use 1 to 63 lower-case letters"),
    ({"workspaceId": "acme"}, r"customer 'acme': workspaceId 'acme' is not a UUID"),
    ({"numbers": ["0970 1000"]}, r"customer 'acme': numbers must be a list of E\.164 texts"),
    ({"numbers": ["+31970100010000", "+31970100010000"]}, r"customer 'acme': numbers lists a number twice"),
    ({"webhookUrl": "http://hooks.acme.example/bird"}, r"customer 'acme': webhookUrl .* must be an https:// URL"),
])
def test_a_wrong_field_is_named_with_its_customer(customers_module: Any, tmp_path: Path, change: Dict[str, Any],
                                                  message: str) -> None:
    path = write(tmp_path, {"customers": [{**good(), **change}]})
    with pytest.raises(customers_module.CustomersError, match=message) as caught:
        customers_module.load_customers(path)
    assert "\n" not in str(caught.value)


def test_names_are_unique_and_the_file_must_hold_customers(customers_module: Any, tmp_path: Path) -> None:
    with pytest.raises(customers_module.CustomersError, match="customer name 'acme' appears twice"):
        customers_module.load_customers(write(tmp_path, {"customers": [good(), good()]}))
    with pytest.raises(customers_module.CustomersError, match="at least one customer"):
        customers_module.load_customers(write(tmp_path, {"customers": []}))
    (tmp_path / "broken.json").write_text("{")
    with pytest.raises(customers_module.CustomersError, match="not JSON"):
        customers_module.load_customers(tmp_path / "broken.json")


def run_fleet(tmp_path: Path, *args: str, passphrase: bool = True) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PULUMI_", "BIRD_"))}
    if passphrase:
        env["PULUMI_CONFIG_PASSPHRASE"] = "test"
    return subprocess.run([sys.executable, str(FLEET), *args, "--work-dir", str(tmp_path / "fleet")], env=env,
                          text=True, capture_output=True, timeout=60, check=False)


def test_the_command_refuses_a_bad_file_an_unknown_customer_no_passphrase_and_no_cli(tmp_path: Path) -> None:
    bad = run_fleet(tmp_path, str(write(tmp_path, {"customers": [{**good(), "workspaceId": "acme"}]})))
    assert bad.returncode == 2 and "workspaceId 'acme' is not a UUID" in bad.stderr
    unknown = run_fleet(tmp_path, str(FLEET / "customers.example.json"), "--only", "umbrella")
    assert unknown.returncode == 2 and "--only umbrella: no such customer" in unknown.stderr
    secretless = run_fleet(tmp_path, str(FLEET / "customers.example.json"), passphrase=False)
    assert secretless.returncode == 2 and "set PULUMI_CONFIG_PASSPHRASE" in secretless.stderr
    no_cli = run_fleet(tmp_path, str(FLEET / "customers.example.json"), "--pulumi-root", str(tmp_path / "nowhere"))
    assert no_cli.returncode == 2 and "cannot run the Pulumi CLI" in no_cli.stderr and "--pulumi-root" in no_cli.stderr
    assert not (tmp_path / "fleet" / "stacks").exists()  # nothing was started
