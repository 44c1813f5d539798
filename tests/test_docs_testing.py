"""docs/testing.md's unit-test example (``pulumi.runtime.set_mocks``) runs as written, with no Pulumi CLI; its integration
example is README.md's, which tests/e2e runs on the real engine."""

from __future__ import annotations

import os
import subprocess
import sys

from doc_blocks import README, doc_block


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


def test_the_integration_example_is_the_same_in_the_readme_and_the_testing_page():
    assert "bird_stack(program)" in doc_block("integration", README)
    assert doc_block("integration", README) == doc_block("integration")
