"""Password hashing, secrets and the login rate limit."""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from collections import deque

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()
# Verified against when the user does not exist, so timing does not reveal usernames.
_DUMMY_HASH = _hasher.hash("servicelens-dummy-password")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def new_secret(prefix: str = "", nbytes: int = 32) -> str:
    return prefix + secrets.token_urlsafe(nbytes)


def sha256_hex(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


class LoginRateLimiter:
    """Sliding window of failed logins per (username, client address)."""

    def __init__(self, max_attempts: int, window_seconds: int) -> None:
        self.max_attempts = max_attempts
        self.window = window_seconds
        self._fails: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _key(self, username: str, client: str) -> str:
        return f"{username.lower()}|{client}"

    def retry_after(self, username: str, client: str) -> int:
        """Seconds until another attempt is allowed, 0 if allowed now."""
        now = time.monotonic()
        with self._lock:
            fails = self._fails.get(self._key(username, client))
            if not fails:
                return 0
            while fails and now - fails[0] > self.window:
                fails.popleft()
            if len(fails) < self.max_attempts:
                return 0
            return max(1, int(self.window - (now - fails[0])) + 1)

    def record_failure(self, username: str, client: str) -> None:
        with self._lock:
            self._fails.setdefault(self._key(username, client), deque()).append(time.monotonic())

    def reset(self, username: str, client: str) -> None:
        with self._lock:
            self._fails.pop(self._key(username, client), None)
