"""``python -m cxlens`` == ``cxlens``."""

import sys

from cxlens.cli import main

sys.exit(main())
