"""``python -m canaria.cli``: the same as the ``canaria`` command."""

import sys

from canaria.cli.main import main

sys.exit(main())
