"""Make an SMS connector outside Pulumi, as the Bird dashboard would, for this example to adopt.

    python make_connector.py [--api-url URL] [--access-key KEY] [--workspace-id UUID] [--number E164] [--name NAME]

Defaults: the emulator's key and workspace (`python -m pulumi_bird.emulator --help`), BIRD_API_URL for the URL,
and the emulator's number +3197010520000. It prints the `pulumi config set` commands that point the example at
the new connector. Against Bird itself, pass your own key, workspace and number (the connector is real).
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Optional

from pulumi_bird.api.client import BirdClient
from pulumi_bird.api.connectors import wait_connector_ready
from pulumi_bird.api.models import CreateConnectorRequest
from pulumi_bird.api.numbers import find_phone_number

# The emulator's defaults (pulumi_bird.emulator prints them with --help).
EMULATOR_ACCESS_KEY = "bird-emulator-access-key"
EMULATOR_WORKSPACE_ID = "5f0e4c9e-2b7a-4d1e-9c3b-000000000001"
# How long to wait for the channel to become active (the emulator takes a second; Bird usually seconds).
READY_SECONDS = 120.0


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--api-url", default=os.environ.get("BIRD_API_URL"), help="default: BIRD_API_URL")
    parser.add_argument("--access-key", default=os.environ.get("BIRD_ACCESS_KEY") or EMULATOR_ACCESS_KEY)
    parser.add_argument("--workspace-id", default=os.environ.get("BIRD_WORKSPACE_ID") or EMULATOR_WORKSPACE_ID)
    parser.add_argument("--number", default="+3197010520000", help="E.164 text of a number of the workspace")
    parser.add_argument("--name", default="made in the dashboard")
    args = parser.parse_args(argv)
    if not args.api_url:
        parser.error("no API URL: pass --api-url (the emulator prints it when it starts) or set BIRD_API_URL")
    with BirdClient(args.access_key, args.api_url) as client:
        number = find_phone_number(client, args.workspace_id, args.number)
        if number is None:
            parser.error(f"workspace {args.workspace_id} has no number {args.number}")
        request = CreateConnectorRequest.model_validate({
            "name": args.name,
            "connectorTemplateRef": "sms-messagebird:1",
            "arguments": {"phoneNumberId": number.id, "channelMessageType": "transactional"},
        })
        connector = client.create_connector(args.workspace_id, request)
        wait_connector_ready(client, args.workspace_id, connector.id, READY_SECONDS)
    print(f"pulumi config set connectorId {connector.id}")
    print(f"pulumi config set connectorName '{args.name}'")
    print(f"pulumi config set phoneNumberId {args.number}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
