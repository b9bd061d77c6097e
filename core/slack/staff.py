"""Who is staff: one directory per process, shared by every room (carried on `Services`)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from core.settings import Settings

log = logging.getLogger(__name__)

STAFF_CACHE_TTL = timedelta(minutes=5)


class StaffDirectory:
    """Staff = settings.staff_users + members of settings.staff_usergroup (cached for a TTL).

    If Slack cannot be asked, the last known member list is kept; with none, nobody from the
    group counts as staff — failing closed, so a Slack outage never widens what customers see.
    """

    def __init__(
        self, client: WebClient | None, usergroup: str | None, users: list[str],
        clock: Callable[[], datetime], ttl: timedelta = STAFF_CACHE_TTL,
    ) -> None:
        self._client = client
        self._usergroup = usergroup
        self._users = frozenset(users)
        self._clock = clock
        self._ttl = ttl
        self._members: frozenset[str] = frozenset()
        self._fetched_at: datetime | None = None
        self._lock = threading.Lock()

    @classmethod
    def of(cls, settings: Settings, client: WebClient | None,
           clock: Callable[[], datetime]) -> StaffDirectory:
        return cls(client, settings.staff_usergroup, settings.staff_users, clock)

    def is_staff(self, user: str | None) -> bool:
        if not user:
            return False
        return user in self._users or user in self._group_members()

    def _group_members(self) -> frozenset[str]:
        if not self._usergroup:
            return frozenset()
        with self._lock:
            now = self._clock()
            if self._fetched_at is None or now - self._fetched_at >= self._ttl:
                self._refresh(now)
            return self._members

    def _refresh(self, now: datetime) -> None:
        if self._client is None:
            return
        try:
            reply = self._client.usergroups_users_list(usergroup=self._usergroup or "")
        except (SlackApiError, OSError) as exc:
            log.warning("staff user group lookup failed; keeping the last list",
                        extra={"usergroup": self._usergroup, "error": str(exc)})
            return
        self._members = frozenset(reply.get("users") or [])
        self._fetched_at = now
