"""pytest plugin (entry point ``pytest11``) that makes the ``bird_emulator`` fixture importable-free."""

from pulumi_bird.testing.fixtures import bird_emulator  # noqa: F401
