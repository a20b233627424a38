"""End-to-end tests drive the real station (the app's own composition root) as people use it: the GUI
fixtures of ``tests/ui`` serve here too."""

from tests.ui.conftest import make_station  # noqa: F401  (a fixture, by its name)
