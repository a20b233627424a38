"""``python -m packdesk`` and the ``packdesk`` entry point.

The recorder runs in a process of its own, started with multiprocessing's spawn: in the frozen Windows
bundle that process is this program again, and ``freeze_support`` turns it into the recorder before the
app is imported (nothing here is imported at module level, for the same reason)."""

import sys

if __name__ == "__main__":
    import multiprocessing

    multiprocessing.freeze_support()
    from packdesk.app import main

    sys.exit(main())
