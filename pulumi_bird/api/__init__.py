"""Bird's HTTP API as a plain Python client (nothing here imports pulumi); each module's docstring says what it
holds. Import from the submodules; this package itself loads nothing."""
