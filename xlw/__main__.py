"""`python -m xlw` is the `xlw` command (xlw.cli)."""

import sys

from xlw.cli import main

sys.exit(main())
