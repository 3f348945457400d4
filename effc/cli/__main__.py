"""``python -m effc.cli``: the ``effc`` command."""

import sys

from effc.cli import main

sys.exit(main())
