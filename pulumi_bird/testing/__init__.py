"""Test helpers: the Bird emulator fixture, a provider-host harness and a program runner."""
