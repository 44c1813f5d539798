"""``python examples/fleet customers.json``: see fleet.py and README.md."""

import sys

from fleet import main

sys.exit(main())
