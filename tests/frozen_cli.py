"""The `registry` command with its clock frozen at the moment a test chose (the test's own now).

python -m tests.frozen_cli 2026-11-16T02:00:00+00:00 serve --port 8123
"""

from __future__ import annotations

import sys
from datetime import datetime

from registry.cli import main
from workflows import timesource

if __name__ == "__main__":
    with timesource.frozen(datetime.fromisoformat(sys.argv[1])):
        main(sys.argv[2:], prog_name="registry")
