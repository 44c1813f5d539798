"""Pulumi dynamic providers for Bird (formerly MessageBird) channels and webhook subscriptions."""
