"""pytest plugin (entry point ``pytest11``) that makes the ``bird_emulator`` fixture importable-free."""
