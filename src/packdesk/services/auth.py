"""The supervisor PIN: stored only as a bcrypt hash (in the station's settings), checked in constant time.

Packers work the station; supervisors also change settings, links, collection, the outbox, and review
recordings and reports. A 4 to 12 digit PIN is what a gloved supervisor types; bcrypt makes a stolen
settings file slow to guess, and the screen that asks locks itself out after repeated wrong PINs.
"""

from __future__ import annotations

import bcrypt

from packdesk.core.errors import KnownError

MIN_DIGITS, MAX_DIGITS = 4, 12


class PinInvalid(KnownError):
    code = "pin_invalid"


def validate_pin(pin: str) -> str:
    pin = pin.strip()
    if not pin.isdigit() or not MIN_DIGITS <= len(pin) <= MAX_DIGITS or not pin.isascii():
        raise PinInvalid(detail="PIN must be 4-12 digits", min=MIN_DIGITS, max=MAX_DIGITS)
    return pin


def hash_pin(pin: str, rounds: int = 10) -> str:
    return bcrypt.hashpw(validate_pin(pin).encode(), bcrypt.gensalt(rounds)).decode()


def check_pin(pin: str, pin_hash: str) -> bool:
    """True if ``pin`` is the one hashed. A missing or broken hash matches nothing."""
    if not pin_hash or not pin.strip():
        return False
    try:
        return bcrypt.checkpw(pin.strip().encode(), pin_hash.encode())
    except ValueError:
        return False
