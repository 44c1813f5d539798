"""Run the plugin: ``python -m pulumi_bird.plugin <engine address>`` (the same as ``pulumi-resource-bird``), or
``python <this directory> <engine address>``, which is how the Python language host runs the plugin project that
``PulumiPlugin.yaml`` in this directory declares (``pulumi package add <this directory>``)."""

import os
import sys

if __package__:
    from .server import main
else:  # run as a directory: its own modules must not shadow top-level ones, and the package is imported whole
    _here = os.path.dirname(os.path.abspath(__file__))
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != _here]
    from pulumi_bird.plugin.server import main

if __name__ == "__main__":
    main()
