"""``pulumi-resource-bird``: the native Pulumi provider plugin (package ``bird``), for every Pulumi language
(docs/other-languages.md). ``import pulumi_bird`` imports nothing of it."""
