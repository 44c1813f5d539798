"""``pulumi-resource-bird``: the native Pulumi provider plugin of pulumi-bird, for every Pulumi language.

The dynamic providers (``pulumi_bird.SmsChannel`` and friends) stay what Python programs use. This plugin serves
the same resources, with the same API layer, checks and lifecycle, over Pulumi's ResourceProvider protocol, with a
package schema (``bird``) from which ``pulumi package add`` generates SDKs for TypeScript, Go, C#, Java and YAML.

Nothing here is imported by ``import pulumi_bird``. Modules: :mod:`.fields` (the adapter from the declared
schemas), :mod:`.package` (the package schema), :mod:`.values` (wire values and names), :mod:`.provider` (the
CRUD), :mod:`.server` (the executable).
"""
