"""``python -m packdesk`` and the ``packdesk`` entry point."""

import sys

from packdesk.app import main

if __name__ == "__main__":
    sys.exit(main())
