"""The customers file: one Bird workspace per customer, with the numbers to put SMS channels on and the URL that
receives their updates.

    {"customers": [
      {"name": "acme", "workspaceId": "5f0e4c9e-...", "numbers": ["+31970100010000"],
       "webhookUrl": "https://hooks.acme.example/bird"}
    ]}

Every problem is one line that names the customer, the field and the fix; nothing is deployed while the file has
one.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, List, Tuple
from urllib.parse import urlsplit

# A customer's name is part of its stack's name (customer-<name>), which Pulumi allows letters, digits, "-", "_"
# and "." in; lower case and "-" keep the names alike across backends.
NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")


class CustomersError(ValueError):
    """The customers file cannot be used; the message names the customer, the field and the fix."""


@dataclass(frozen=True)
class Customer:
    """One customer: its Bird workspace, the E.164 numbers that get an SMS channel each, and its webhook URL."""

    name: str
    workspace_id: str
    numbers: Tuple[str, ...]
    webhook_url: str

    @property
    def stack_name(self) -> str:
        return f"customer-{self.name}"


def load_customers(path: Path) -> List[Customer]:
    """The customers of ``path`` (JSON), checked; raises :class:`CustomersError`."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise CustomersError(f"{path}: cannot be read ({exc.strerror}): pass the customers file") from None
    except json.JSONDecodeError as exc:
        raise CustomersError(f"{path}: not JSON (line {exc.lineno}: {exc.msg})") from None
    entries = document.get("customers") if isinstance(document, dict) else None
    if not isinstance(entries, list) or not entries:
        raise CustomersError(f'{path}: needs {{"customers": [...]}} with at least one customer')
    customers = [_customer(path, index, entry) for index, entry in enumerate(entries)]
    seen: set[str] = set()
    for customer in customers:
        if customer.name in seen:
            raise CustomersError(f"{path}: customer name {customer.name!r} appears twice: names must be unique "
                                 f"(each is a stack, {customer.stack_name})")
        seen.add(customer.name)
    return customers


def _customer(path: Path, index: int, entry: Any) -> Customer:
    where = f"{path}: customers[{index}]"
    if not isinstance(entry, dict):
        raise CustomersError(f"{where} is not an object with name, workspaceId, numbers and webhookUrl")
    name = entry.get("name")
    if not isinstance(name, str) or not NAME.match(name):
        raise CustomersError(f"{where}.name {name!r}: use 1 to 63 lower-case letters, digits and '-'")
    where = f"{path}: customer {name!r}"
    workspace_id = entry.get("workspaceId")
    if not isinstance(workspace_id, str) or not _is_uuid(workspace_id):
        raise CustomersError(f"{where}: workspaceId {workspace_id!r} is not a UUID: copy the workspace's id from "
                             "Bird's dashboard")
    numbers = entry.get("numbers", [])
    if not isinstance(numbers, list) or not all(isinstance(n, str) and E164.match(n) for n in numbers):
        raise CustomersError(f"{where}: numbers must be a list of E.164 texts such as \"+31970100010000\"")
    if len(set(numbers)) != len(numbers):
        raise CustomersError(f"{where}: numbers lists a number twice: a number carries one SMS channel")
    url = entry.get("webhookUrl")
    if not isinstance(url, str) or urlsplit(url).scheme != "https" or not urlsplit(url).hostname:
        raise CustomersError(f"{where}: webhookUrl {url!r} must be an https:// URL Bird can reach")
    return Customer(name, workspace_id, tuple(numbers), url)


def _is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True
