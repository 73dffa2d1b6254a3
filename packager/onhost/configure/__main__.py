"""``python -m packager.onhost.configure``: the same as the ``fate-configure`` command."""

import sys

from .cli import main

sys.exit(main())
