"""The Thulium batch-delete client: the one module that imports aiohttp.

One ``ClientSession`` per run, keep-alive, a pool sized to the concurrency, the Authorization
header built once. Every lower-level failure is mapped here, and only here, to the tree in
:mod:`bulkremove.errors`.
"""

from __future__ import annotations

import os
import ssl
import time
from collections.abc import Sequence
from types import TracebackType

import aiohttp
import yarl

from bulkremove._version import __version__
from bulkremove.answers import (
    Outcomes,
    error_message,
    mentions_url_length,
    parse_retry_after,
)
from bulkremove.errors import (
    ApiError,
    AuthenticationError,
    BadAnswerError,
    BatchRejectedError,
    BodyTooLargeError,
    CampaignNotFoundError,
    CannotConnectError,
    ConfigError,
    ConnectionLostError,
    PermissionDeniedError,
    RequestTimeoutError,
    ServerError,
    ThrottledError,
    TlsError,
    UrlTooLongError,
)
from bulkremove.kinds import Kind, kind_of
from bulkremove.ratelimits import RateLimits, read_rate_limits
from bulkremove.settings import Settings

_UNKNOWN_ISSUER = frozenset({18, 19, 20, 21})
"""OpenSSL verify codes of a self-signed or unknown issuer: what a ca_bundle cures."""


def make_ssl_context(verify_tls: bool, ca_bundle: str | None) -> ssl.SSLContext:
    """The TLS context: system CAs plus ``ca_bundle``; no verification only when asked."""
    context = ssl.create_default_context()
    if ca_bundle:
        try:
            context.load_verify_locations(cafile=ca_bundle)
        except (OSError, ssl.SSLError) as exc:
            raise ConfigError(f"ca_bundle {ca_bundle} cannot be loaded: {exc}") from None
    if not verify_tls:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


class Client:
    """Sends batch DELETEs for one run. Use as ``async with Client(settings) as client``."""

    def __init__(self, settings: Settings, kind: Kind | None = None) -> None:
        if not settings.base_url:
            raise ConfigError("no API root (base_url) is set")
        self._settings = settings
        self.kind = kind or kind_of(settings)
        """The kind of key sent: the endpoint, the query and how answers are read."""
        self._base = yarl.URL(settings.base_url)
        self._origin = self._base.origin()
        self._base_path = self._base.raw_path
        self._auth = aiohttp.encode_basic_auth(settings.username, settings.password)
        self._max_body = settings.max_body_bytes
        self._session: aiohttp.ClientSession | None = None

    def path(self, campaign: str) -> str:
        """The request-target before the keys (what batching budgets against)."""
        return self.kind.path(self._base_path, campaign)

    def url(self, campaign: str, ids: Sequence[int]) -> yarl.URL:
        """The exact URL sent for ``ids``: already encoded, so yarl sends it unchanged."""
        target = self.kind.target(self.path(campaign), ids)
        return self._origin.join(yarl.URL(target, encoded=True))

    async def __aenter__(self) -> Client:
        settings = self._settings
        connector = aiohttp.TCPConnector(
            limit=settings.concurrency,
            limit_per_host=settings.concurrency,
            # plain http needs no TLS context (loading the system CAs takes tens of ms); a
            # ca_bundle is still loaded, so that a bad one is reported whatever the scheme
            ssl=False
            if self._base.scheme == "http" and not settings.ca_bundle
            else make_ssl_context(settings.verify_tls, settings.ca_bundle),
        )
        self._session = aiohttp.ClientSession(
            connector=connector,
            timeout=aiohttp.ClientTimeout(
                total=settings.request_timeout, sock_connect=settings.connect_timeout
            ),
            headers={
                "Authorization": self._auth,
                "Accept": "application/json",
                "User-Agent": f"bulkremove/{__version__}",
            },
            skip_auto_headers=("Content-Type",),
            raise_for_status=False,
        )
        # aiohttp silently resends an idempotent request (DELETE included) once when the
        # connection drops; the resend's NOT_EXIST would hide that the first one removed the
        # records. The engine retries itself, knowing the answer was lost.
        self._session._retry_connection = False
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def delete_batch(self, campaign: str, ids: Sequence[int]) -> Outcomes:
        """Remove ``ids`` from ``campaign``: one outcome per id, in order, or an ApiError."""
        if self._session is None:
            raise RuntimeError("Client used outside 'async with'")
        url = self.url(campaign, ids)
        status, body, retry_after, limits = await self._exchange("DELETE", url)
        if status == 200 or status == 207:
            try:
                outcomes = self.kind.read_answer(body, ids)
            except BadAnswerError as exc:
                exc.status = status  # the parser sees only the body
                raise
            outcomes.limits = limits
            return outcomes
        if status == 404:
            answered = self.kind.read_not_found(body, ids)
            if answered is not None:
                return answered
        if status == 404:
            raise self._not_found("DELETE", url, body)
        error = self._error(status, body, retry_after)
        error.limits = limits
        raise error

    async def get(self, target: str, *, absent: bool = False) -> bytes | None:
        """GET ``target`` (an encoded path and query below the API root): a 200's body.

        With ``absent`` a 404 is None (the object asked for is not there); else it is the
        CampaignNotFoundError a DELETE's 404 is. Other answers map as a DELETE's do. A GET
        changes nothing, so any try of it may be repeated.
        """
        url = self._origin.join(yarl.URL(f"{self._base_path.rstrip('/')}/{target}", encoded=True))
        status, body, retry_after, _ = await self._exchange("GET", url)
        if status == 200:
            return body
        if status == 404:
            if absent:
                return None
            raise self._not_found("GET", url, body)
        raise self._error(status, body, retry_after)

    async def post(self, target: str, body: bytes) -> tuple[int, bytes]:
        """POST the JSON ``body`` to ``target`` (as for :meth:`get`): the status and body of a
        2xx answer, or of a 400 or 409 (what an add answers for a record it refuses).

        413 is a BodyTooLargeError; a 404 the CampaignNotFoundError; others map as a DELETE's.
        """
        url = self._origin.join(yarl.URL(f"{self._base_path.rstrip('/')}/{target}", encoded=True))
        status, answer, retry_after, limits = await self._exchange("POST", url, body)
        if 200 <= status < 300 or status in (400, 409):
            return status, answer
        if status == 413:
            raise BodyTooLargeError(error_message(status, answer), status=status, body=answer)
        if status == 404:
            raise self._not_found("POST", url, answer)
        error = self._error(status, answer, retry_after)
        error.limits = limits
        raise error

    async def _exchange(
        self, method: str, url: yarl.URL, data: bytes | None = None
    ) -> tuple[int, bytes, str | None, RateLimits | None]:
        """Send one request: its status, body, Retry-After and rate-limit headers, or the
        mapped error."""
        if self._session is None:
            raise RuntimeError("Client used outside 'async with'")
        sent = None if data is None else {"Content-Type": "application/json"}
        try:
            async with self._session.request(
                method, url, data=data, headers=sent, allow_redirects=False
            ) as response:
                status, headers = response.status, response.headers
                return (
                    status,
                    await self._read_body(response),
                    headers.get("Retry-After"),
                    read_rate_limits(headers.get, time.time(), answered=status < 300),
                )
        except ApiError:
            raise
        except aiohttp.ClientConnectorCertificateError as exc:
            # Covers an untrusted issuer and a host name or IP address mismatch alike.
            cause = exc.certificate_error
            reason = getattr(cause, "verify_message", None) or str(cause)
            if getattr(cause, "verify_code", None) in _UNKNOWN_ISSUER:
                reason += " (ca_bundle adds a CA to trust)"
            raise TlsError(f"TLS certificate of {self._origin} refused: {reason}") from None
        except aiohttp.ClientSSLError as exc:
            raise TlsError(f"TLS failure talking to {self._origin}: {exc}") from None
        except aiohttp.ConnectionTimeoutError:
            raise CannotConnectError(f"could not connect to {self._origin} in time") from None
        except TimeoutError:
            raise RequestTimeoutError(
                f"no answer within {self._settings.request_timeout:g} s"
            ) from None
        except aiohttp.ClientConnectorError as exc:
            # asyncio's strerror is "Connect call failed (...)": name the errno instead.
            reason = os.strerror(exc.errno) if exc.errno else exc.strerror or str(exc)
            raise CannotConnectError(f"could not connect to {self._origin}: {reason}") from None
        except aiohttp.ClientError as exc:
            raise ConnectionLostError(
                f"connection lost before the answer: {type(exc).__name__}: {exc}",
                answer_lost=True,
            ) from None

    async def _read_body(self, response: aiohttp.ClientResponse) -> bytes:
        """The body, refused past ``max_body_bytes`` without reading the rest."""
        length = response.content_length
        if length is not None and length > self._max_body:
            raise BadAnswerError(
                f"answer of {length} bytes is over the {self._max_body}-byte cap",
                status=response.status,
            )
        if length is not None:  # the usual answer: its length is known and allowed
            return await response.read()
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.content.iter_chunked(65536):
            size += len(chunk)
            if size > self._max_body:
                raise BadAnswerError(
                    f"answer is over the {self._max_body}-byte cap", status=response.status
                )
            chunks.append(chunk)
        return b"".join(chunks)

    def _not_found(self, method: str, url: yarl.URL, body: bytes) -> CampaignNotFoundError:
        """A 404 naming the URL (not its ids); a base URL short of ``/api`` is the likely slip."""
        sent = url.with_query(None)
        error = CampaignNotFoundError(
            f"{error_message(404, body)} ({method} {sent})", status=404, body=body
        )
        if not self._base_path.rstrip("/").endswith("/api"):
            root = str(self._base).rstrip("/") + "/api"
            error.hint = f"did you mean {root}? base_url is the API root"
        return error

    def _error(self, status: int, body: bytes, retry_after: str | None) -> ApiError:
        message = error_message(status, body)
        wait = parse_retry_after(retry_after, time.time())
        if status == 401:
            return AuthenticationError(message, status=status, body=body)
        if status == 403:
            return PermissionDeniedError(message, status=status, body=body)
        if status == 414 or (status == 400 and mentions_url_length(body)):
            return UrlTooLongError(message, status=status, body=body)
        if status == 429:
            return ThrottledError(message, status=status, body=body, retry_after=wait)
        if status >= 500 or status == 408:
            return ServerError(message, status=status, body=body, retry_after=wait)
        return BatchRejectedError(message, status=status, body=body)
