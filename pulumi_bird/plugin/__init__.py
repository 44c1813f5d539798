"""``pulumi-resource-bird``: the native Pulumi provider plugin, for every Pulumi language.

It serves the dynamic providers' resources over Pulumi's ResourceProvider protocol, with a package schema
(``bird``) from which ``pulumi package add`` generates SDKs. ``import pulumi_bird`` imports nothing of it.
"""
