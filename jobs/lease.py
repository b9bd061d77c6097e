"""A database leader lease: with several replicas, one runs the scheduled jobs.

The lock is a `scheduler_leases` row (holder id + expires_at) taken with an atomic conditional
UPDATE (free, expired, or already ours) or, when no row exists yet, an INSERT that the primary
key lets only one replica win. The holder renews it with a heartbeat; if a leader dies its lease
expires and another replica takes over within one TTL. Works the same on SQLite and PostgreSQL;
the replicas' clocks must agree to well within the TTL (NTP does).
"""

from __future__ import annotations

import os
import socket
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case, or_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from core.db import session_scope
from jobs.models import SchedulerLease

LEASE_NAME = "scheduler"
LEASE_TTL = timedelta(seconds=60)


def default_holder() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


@dataclass(frozen=True)
class LeaderLease:
    session_factory: sessionmaker[Session]
    holder: str
    name: str = LEASE_NAME
    ttl: timedelta = LEASE_TTL

    def try_acquire(self, now: datetime) -> bool:
        """Take or renew the lease; True if this holder has it until now + ttl."""
        lease = SchedulerLease
        with session_scope(self.session_factory) as session:
            taken = session.execute(
                update(lease)
                .where(lease.name == self.name,
                       or_(lease.holder == self.holder, lease.expires_at <= now))
                .values(holder=self.holder, expires_at=now + self.ttl,
                        acquired_at=case((lease.holder == self.holder, lease.acquired_at),
                                         else_=now))
                .execution_options(synchronize_session=False)
            )
            if taken.rowcount == 1:  # type: ignore[attr-defined]
                return True
        try:
            with session_scope(self.session_factory) as session:
                session.add(SchedulerLease(name=self.name, holder=self.holder,
                                           expires_at=now + self.ttl, acquired_at=now))
        except IntegrityError:
            return False  # another replica holds a live lease
        return True

    def release(self, now: datetime) -> None:
        """Hand over at once on a clean shutdown instead of making the others wait a TTL."""
        with session_scope(self.session_factory) as session:
            session.execute(
                update(SchedulerLease)
                .where(SchedulerLease.name == self.name, SchedulerLease.holder == self.holder)
                .values(expires_at=now)
                .execution_options(synchronize_session=False)
            )
