"""The end-to-end tests that drive the real windows start the station as the GUI tests do."""

from tests.ui.conftest import make_station  # noqa: F401 (a fixture: the app's composition root, shown and shut)
