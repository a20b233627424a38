"""Secrets (API keys, client secrets) live only in the OS keyring (Windows Credential Manager, macOS
Keychain, Secret Service), referenced by account id: never in the database, settings, logs or exports.

A PC without a usable keyring (a Linux desktop with no Secret Service running) raises
``SecretStoreUnavailable`` naming the backend keyring chose, so the screen can say what is missing; an account
is never left behind without its secret (``services/accounts.py``).
"""

from __future__ import annotations

import logging

import keyring
from keyring.errors import KeyringError, PasswordDeleteError

from packdesk.core.errors import KnownError

log = logging.getLogger("packdesk.secrets")
SERVICE = "PackDesk"


class SecretStoreUnavailable(KnownError):
    code = "secret_store_unavailable"


def backend_name() -> str:
    """The keyring backend in use, as a person can look it up (``keyring.backends.fail.Keyring``: none)."""
    kr = keyring.get_keyring()
    return f"{type(kr).__module__}.{type(kr).__qualname__}"


def _unavailable(e: KeyringError, code: str | None = None) -> SecretStoreUnavailable:
    backend = backend_name()
    return SecretStoreUnavailable(code, detail=f"{type(e).__name__} from {backend}", backend=backend)


def _name(account_id: int) -> str:
    return f"channel-account-{account_id}"


def set_secret(account_id: int, secret: str) -> None:
    try:
        keyring.set_password(SERVICE, _name(account_id), secret)
    except KeyringError as e:
        raise _unavailable(e) from None
    log.info("secret stored in the OS keyring for account %s", account_id)


def get_secret(account_id: int) -> str | None:
    try:
        return keyring.get_password(SERVICE, _name(account_id))
    except KeyringError as e:
        raise _unavailable(e) from None


def delete_secret(account_id: int) -> None:
    try:
        keyring.delete_password(SERVICE, _name(account_id))
    except PasswordDeleteError:
        pass
    except KeyringError as e:
        raise _unavailable(e) from None


def set_named_secret(name: str, secret: str) -> None:
    """A secret that belongs to the station, not an account (e.g. the warehouse database password)."""
    try:
        keyring.set_password(SERVICE, name, secret)
    except KeyringError as e:
        raise _unavailable(e) from None


def get_named_secret(name: str) -> str | None:
    try:
        return keyring.get_password(SERVICE, name)
    except KeyringError as e:
        raise _unavailable(e) from None
