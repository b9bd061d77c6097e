"""Who may see what: a channel's visibility, and whether a user is staff.

The rule (product brief: never show internal knowledge to customers):
- internal channels (settings.internal_channels) → public + internal;
- a DM with the bot → internal only when the user is staff;
- everything else (community channels, unknown channels, DMs with non-staff) → public.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from retrieval.models import Visibility

log = logging.getLogger(__name__)

STAFF_CACHE_TTL = timedelta(minutes=5)


@dataclass(frozen=True)
class ChannelPolicy:
    community: frozenset[str]
    internal: frozenset[str]

    def is_community(self, channel: str | None) -> bool:
        return channel in self.community

    def channel_visibility(self, channel: str | None) -> Visibility:
        """What may be shown in the channel itself, whoever asks (used before sharing)."""
        return Visibility.INTERNAL if channel in self.internal else Visibility.PUBLIC

    def visibility(self, channel: str | None, *, is_dm: bool, user_is_staff: bool) -> Visibility:
        if channel in self.internal:
            return Visibility.INTERNAL
        if is_dm and user_is_staff and channel not in self.community:
            return Visibility.INTERNAL
        return Visibility.PUBLIC


def may_show(entry_visibility: str, allowed: Visibility) -> bool:
    return allowed is Visibility.INTERNAL or entry_visibility == Visibility.PUBLIC


class StaffDirectory:
    """Staff = settings.staff_users + members of settings.staff_usergroup (cached for a TTL).

    If Slack cannot be asked, the last known member list is kept; with none, nobody from the
    group counts as staff — failing closed, so a Slack outage never widens what customers see.
    """

    def __init__(
        self, client: WebClient, usergroup: str | None, users: list[str],
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
        try:
            reply = self._client.usergroups_users_list(usergroup=self._usergroup or "")
        except (SlackApiError, OSError) as exc:
            log.warning("staff user group lookup failed; keeping the last list",
                        extra={"usergroup": self._usergroup, "error": str(exc)})
            return
        self._members = frozenset(reply.get("users") or [])
        self._fetched_at = now
