"""PackDesk: the packing-station application."""

__version__ = "0.1.0"
APP_NAME = "PackDesk"
APP_ID = "packdesk"
