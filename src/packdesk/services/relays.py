"""The station's request-XML relays for Sabangnet's legacy API, one per port for the whole app.

Sabangnet fetches each request from a URL (``channels/xml_relay.py``): the built-in host listens on a port
the owner forwards to this PC; collection and the dispatch uploader of every Sabangnet account share it,
so it is made once per port and closed when the app stops. A PUT relay (the owner's web space) needs no
listening port and is made per channel.
"""

from __future__ import annotations

import threading
from typing import Any

from packdesk.channels.xml_relay import LocalXmlHost, PutRelay, XmlPublisher

_lock = threading.Lock()
_hosts: dict[int, LocalXmlHost] = {}


def publisher_for(options: dict[str, Any]) -> XmlPublisher:
    """The publisher an account's options ask for: ``relay_put_url`` + ``relay_get_url`` (the owner's web
    space), else the built-in host on ``relay_port`` reachable at ``relay_public_url``."""
    if options.get("relay_put_url") and options.get("relay_get_url"):
        return PutRelay(str(options["relay_put_url"]), str(options["relay_get_url"]))
    port = int(options.get("relay_port") or 0)
    with _lock:
        host = _hosts.get(port) if port else None
        if host is None:
            host = LocalXmlHost(str(options.get("relay_bind") or "0.0.0.0"), port,
                                str(options.get("relay_public_url") or ""))
            host.start()
            _hosts[host.port] = host
        return host


def close_all() -> None:
    with _lock:
        hosts = list(_hosts.values())
        _hosts.clear()
    for host in hosts:
        host.close()
