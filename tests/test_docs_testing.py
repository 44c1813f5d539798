"""docs/testing.md's unit-test example (``pulumi.runtime.set_mocks``) runs as written, with no Pulumi CLI."""

from __future__ import annotations

import os
import subprocess
import sys

from doc_blocks import doc_block


def test_the_set_mocks_example_passes_as_written_and_its_assertion_can_fail(tmp_path):
    example = doc_block("unit")
    assert "pulumi.runtime.set_mocks(" in example
    (tmp_path / "test_my_program.py").write_text(example)
    broken = example.replace('"value": "sms-channel"', '"value": "another-channel"')
    assert broken != example
    (tmp_path / "test_broken.py").write_text(broken)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PULUMI_")}
    env["PATH"] = os.path.dirname(sys.executable)  # this Python only: no `pulumi` to find
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist",
                           "-rA", str(tmp_path)], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert "PASSED test_my_program.py::test_the_webhook_listens_to_the_sms_channel" in done.stdout, done.stdout
    assert "FAILED test_broken.py::test_the_webhook_listens_to_the_sms_channel" in done.stdout, done.stdout
