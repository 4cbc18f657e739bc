"""The set of services one API process uses, built together from settings and a store."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from custom_audiences.config import Settings
from custom_audiences.services.access import AccessGuard
from custom_audiences.services.audiences import AudienceService
from custom_audiences.services.members import MemberService
from custom_audiences.services.mutations import MutationService
from custom_audiences.services.rate_limit import LimiterHealth, RateLimiter, build_rate_limiter
from custom_audiences.store.base import Store


@dataclass(frozen=True, slots=True)
class Services:
    store: Store
    limiter: RateLimiter
    access: AccessGuard
    audiences: AudienceService
    mutations: MutationService
    members: MemberService

    def check_health(self) -> LimiterHealth:
        """Raise if the database cannot be reached; else how the rate limiter's storage is."""
        self.store.ping()
        return self.limiter.health()


def build_services(
    settings: Settings,
    store: Store,
    *,
    on_accepted: Callable[[], None],
) -> Services:
    """Wire the services; ``on_accepted`` runs after each accepted mutation."""
    limiter = build_rate_limiter(settings)
    return Services(
        store=store,
        limiter=limiter,
        access=AccessGuard(store, limiter),
        audiences=AudienceService(store),
        mutations=MutationService(
            store,
            timedelta(seconds=settings.replace_interval_seconds),
            on_accepted=on_accepted,
        ),
        members=MemberService(store),
    )
