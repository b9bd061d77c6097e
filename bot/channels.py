"""Who may see what in a channel (product brief: never show internal knowledge to customers).

- internal channels (settings.internal_channels) → public + internal;
- a DM with the bot → internal only when the user is staff;
- everything else (community channels, unknown channels, DMs with non-staff) → public.

A button's result follows the same rule for the channel where it is clicked and the clicker,
narrowed by the question's own visibility: a button value names a stored question, and a
crafted value could name a staff DM's question from a community channel.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.settings import Settings
from retrieval.models import Entry, Visibility


@dataclass(frozen=True)
class ChannelPolicy:
    community: frozenset[str]
    internal: frozenset[str]

    @classmethod
    def of(cls, settings: Settings) -> ChannelPolicy:
        return cls(frozenset(settings.community_channels), frozenset(settings.internal_channels))

    def is_community(self, channel: str | None) -> bool:
        return channel in self.community

    def channel_visibility(self, channel: str | None) -> Visibility:
        """What may be shown in the channel itself, whoever asks (used before sharing)."""
        return Visibility.INTERNAL if channel in self.internal else Visibility.PUBLIC

    def at_click(self, channel: str | None, *, user_is_staff: bool, question: str) -> Visibility:
        """What a click's result may show, where it is clicked, to the clicker, for a question
        stored with visibility `question`."""
        here = self.visibility(channel, is_dm=is_dm_channel(channel), user_is_staff=user_is_staff)
        both = here is Visibility.INTERNAL and question == Visibility.INTERNAL
        return Visibility.INTERNAL if both else Visibility.PUBLIC

    def visibility(self, channel: str | None, *, is_dm: bool, user_is_staff: bool) -> Visibility:
        if channel in self.internal:
            return Visibility.INTERNAL
        if is_dm and user_is_staff and channel not in self.community:
            return Visibility.INTERNAL
        return Visibility.PUBLIC


def is_dm_channel(channel: str | None) -> bool:
    """Slack's direct-message channel ids start with D."""
    return str(channel or "").startswith("D")


def may_show(entry_visibility: str, allowed: Visibility) -> bool:
    return allowed is Visibility.INTERNAL or entry_visibility == Visibility.PUBLIC


def visible_entry(entries: list[Entry], entry_id: str | None, visibility: str) -> Entry | None:
    """The entry `entry_id` if it still exists and `visibility` may see it."""
    if not entry_id:
        return None
    for entry in entries:
        if entry.id == entry_id:
            return entry if may_show(entry.visibility, Visibility(visibility)) else None
    return None
