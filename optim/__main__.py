"""``python -m optim COMMAND``: see :mod:`optim.cli`."""

import sys

from optim.cli import main

sys.exit(main())
