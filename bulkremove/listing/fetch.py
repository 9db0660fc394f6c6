"""Reading records through the API's GETs, under the same rules as the DELETEs (and any other
request a command sends that way: a restore's adds, through :meth:`Lister.call`).

Every GET waits on a rate limiter (``rate``, ``rate_burst``; lowered on 429, 503 and time-outs
when ``adaptive``), and a transient failure (429, 5xx, time-out, refused or dropped connection,
a body that cannot be read) is tried again after a backoff or the server's ``Retry-After``
(which pauses every request), up to ``max_attempts`` tries within ``batch_retry_timeout``. A GET
changes nothing, so repeating one is always safe. Then:

- tries used up: :class:`~bulkremove.errors.ListingFailedError` (exit 3, resumable);
- connections refused for a while with no answer between: ServerDownError (exit 3);
- 401, 403, 404 (unknown campaign), TLS: the client's fatal errors, as for a DELETE;
- any other answer (400, 414, ...): :class:`~bulkremove.errors.ListingRefusedError`.
"""

from __future__ import annotations

import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Protocol, TypeVar

import anyio

from bulkremove.backoff import Backoff, retry_after_delay
from bulkremove.engine.reach import Reach
from bulkremove.engine.send import retry_window
from bulkremove.errors import (
    BatchRejectedError,
    CannotConnectError,
    ListingFailedError,
    ListingRefusedError,
    TransientApiError,
    UrlTooLongError,
)
from bulkremove.governor import Governor
from bulkremove.kinds import CUSTOMER_ID, Kind
from bulkremove.limiter import RateLimiter
from bulkremove.listing.pages import ListingPage, page_target, read_one, read_page, record_target
from bulkremove.listing.records import ListedRecord
from bulkremove.logs import get_logger
from bulkremove.pacing import AdaptiveRate
from bulkremove.settings import Settings
from bulkremove.settings.where import Filters

T = TypeVar("T")
A = TypeVar("A")


class Getter(Protocol):
    """Sends one GET; :class:`bulkremove.client.Client` is one."""

    async def get(self, target: str, *, absent: bool = False) -> bytes | None:
        """A 200's body; None for a 404 when ``absent``; else an ApiError."""
        ...


class Lister:
    """Lists records of campaigns through ``getter``; safe to share between tasks.

    Many tasks may ask at once (verify's single GETs do): each GET keeps its own tries and
    start time, each :meth:`pages` pass its own offset; what they share is meant to be shared
    (the rate limiter and adaptive pacing, as a run's workers share them; the count of
    connections refused in a row, which any answer resets) or counted with no await between
    read and write.

    ``requests`` counts the GETs sent, ``errors`` the failed ones by error class. ``clock``,
    ``sleep`` and ``rng`` are injected so tests run on a fake clock.
    """

    def __init__(
        self,
        getter: Getter,
        settings: Settings,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = anyio.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self._getter = getter
        self._clock = clock
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._limiter = RateLimiter(settings.rate, settings.rate_burst, clock=clock, sleep=sleep)
        floor = min(settings.min_rate, settings.rate)
        self._governor = Governor(
            self._limiter,
            AdaptiveRate(settings.rate, floor) if settings.adaptive else None,
            clock=clock,
            max_pause=settings.max_retry_after,
        )
        self._backoff = Backoff(settings.retry_initial, settings.retry_max)
        self._max_attempts = settings.max_attempts
        self._max_retry_after = settings.max_retry_after
        self._window = retry_window(settings)
        self._reach = Reach(settings.max_attempts)
        self._log = get_logger("listing")
        self.requests = 0
        self.errors: dict[str, int] = {}

    async def page(
        self, kind: Kind, campaign: str, filters: Filters | None, offset: int
    ) -> ListingPage:
        """The page of ``campaign``'s records matching ``filters`` at ``offset``."""
        url = page_target(kind, campaign, filters, offset)
        return await self._get(url, lambda body: read_page(_present(body), kind, offset))

    async def pages(
        self,
        kind: Kind,
        campaign: str,
        filters: Filters | None,
        offset: int = 0,
        *,
        overlap: int = 0,
    ) -> AsyncIterator[ListingPage]:
        """One pass over the matching records from ``offset``: pages until the count is reached
        (as the latest page gives it) or a page comes back empty. Each page after the first
        starts ``overlap`` records before the end of the one before."""
        while True:
            page = await self.page(kind, campaign, filters, offset)
            yield page
            if page.last:
                return
            offset = page.next_offset - overlap

    async def record(self, campaign: str, customer_id: int) -> ListedRecord | None:
        """The CRM record of ``customer_id`` in ``campaign``, or None when the API answers 404.

        A 404 also answers for an unknown campaign: list the campaign once (:meth:`page`) to
        tell the two apart.
        """
        url = record_target(campaign, customer_id)

        def read(body: bytes | None) -> ListedRecord | None:
            return None if body is None else read_one(body, CUSTOMER_ID)

        return await self._get(url, read, absent=True)

    async def _get(self, url: str, read: Callable[[bytes | None], T], *, absent: bool = False) -> T:
        """GET ``url`` until ``read`` takes its answer, retrying as the module says."""
        label = f"GET {url.partition('?')[0]}"
        return await self.call(label, lambda: self._getter.get(url, absent=absent), read)

    async def call(self, label: str, send: Callable[[], Awaitable[A]], read: Callable[[A], T]) -> T:
        """Send a request (``send`` makes one try) until ``read`` takes its answer, under the
        limiter and retries of a GET; ``label`` names it in errors (``POST batch/...``).

        A try may be repeated after its answer was lost: a caller whose request changes
        something makes the repeat safe (an add answers ALREADY_EXISTS the second time).
        """
        attempt = 0
        first = self._clock()
        while True:
            attempt += 1
            await self._limiter.acquire()
            self.requests += 1
            sent = self._clock()
            try:
                return self._answered(read(await send()))
            except TransientApiError as exc:
                self._count(exc)
                self._governor.pushed_back(exc, sent)
                if not isinstance(exc, CannotConnectError):
                    self._reach.answered()
                elif down := self._reach.refused(self._clock(), exc):
                    raise down from None
                delay = retry_after_delay(
                    exc.retry_after, self._backoff.delay(attempt, self._rng), self._max_retry_after
                )
                spent = self._clock() - first
                if attempt >= self._max_attempts or spent + delay > self._window:
                    raise ListingFailedError(
                        f"{label} gave up after {attempt} tries in {spent:.0f} s: {exc}",
                        status=exc.status,
                    ) from None
                if self._governor.pauses_all(exc, delay):
                    self._limiter.pause_until(self._clock() + delay)
                self._log.debug("listing_retry", attempt=attempt, delay_s=round(delay, 3))
                await self._sleep(delay)
            except (UrlTooLongError, BatchRejectedError) as exc:
                self._count(exc)
                raise ListingRefusedError(
                    f"{label} refused: {exc}", status=exc.status, body=exc.body
                ) from None

    def _answered(self, value: T) -> T:
        self._reach.answered()
        self._governor.answered()
        return value

    def _count(self, exc: Exception) -> None:
        name = type(exc).__name__
        self.errors[name] = self.errors.get(name, 0) + 1


def _present(body: bytes | None) -> bytes:
    assert body is not None  # asked without ``absent``: a 404 raised instead
    return body
