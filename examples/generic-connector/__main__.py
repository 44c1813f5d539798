"""A connector of any template with `Connector`, and a lookup of every SMS connector in the workspace.

Bird documents the arguments of the SMS and voice templates only; other templates' arguments go to Bird as
written, so check Bird's docs for your template. security_arguments and invitation_token are secrets.
"""

import pulumi

from pulumi_bird import Connector, list_connectors_output

config = pulumi.Config()

whatsapp = Connector(
    "whatsapp",
    connector_template_ref=config.get("templateRef") or "whatsapp:1",
    arguments={"wabaId": config.require("wabaId")},
    security_arguments=config.require_secret("accessToken").apply(lambda token: {"oauth2": {"accessToken": token}}),
    ready_timeout=900,
)

sms_connectors = list_connectors_output(template_ref="sms-messagebird:1")

pulumi.export("whatsappChannelId", whatsapp.channel_id)
pulumi.export("smsConnectorCount", sms_connectors.apply(len))
