"""The exceptions of bulkremove, and what each one tells the engine to do.

Per-record results (REMOVED, NOT_EXIST, CALL_IN_PROGRESS, ...) are values, never exceptions.
An exception means that a whole request, or the run itself, is in trouble::

    BulkRemoveError
    ├── UsageError                 refused before anything is sent (exit 2)
    │   ├── ConfigError            a setting is invalid: names the key and where it came from
    │   ├── InputError             an input line is invalid: names the file and the line
    │   ├── RefusedError           a safety rail said no: max_delete, no confirmation
    │   │   └── UnsettledError     a selection's listing passes never agreed
    │   └── EmptyInputError        the input held no ids (exit 6, unless allow_empty)
    ├── JournalError               the journal cannot be used (corrupt, foreign, locked)
    └── ApiError                   a request did not give a usable per-record answer
        ├── FatalApiError          abort the run, send nothing more (exit 3)
        │   ├── AuthenticationError     401: bad credentials
        │   ├── PermissionDeniedError   403: the API user lacks permission for the method
        │   ├── CampaignNotFoundError   404: unknown campaign (or URI)
        │   ├── TlsError                certificate or handshake failure
        │   ├── ServerDownError         no connection could be made for a while: the server is down
        │   ├── ListingFailedError      a listing GET kept failing: the selection is not read
        │   └── ListingRefusedError     a listing GET was refused (400 ...): filters or campaign
        ├── TransientApiError      retry the whole batch later, with backoff
        │   ├── ThrottledError          429 (carries Retry-After)
        │   ├── ServerError             5xx (carries Retry-After when given), or 408
        │   ├── RequestTimeoutError     no answer in time; the request may have been carried out
        │   ├── CannotConnectError      the connection could not be made (refused); nothing sent
        │   ├── ConnectionLostError     the connection dropped; the answer may be lost
        │   └── BadAnswerError          a body that is not the expected JSON object

A transient error's ``answer_lost`` says the request may have been carried out: a time-out, a
dropped connection, a 5xx (a gateway's 502 may follow a removal done upstream) or an unreadable
body. A later NOT_EXIST for its records is then flagged as probably our own removal.
        ├── UrlTooLongError        split the batch and lower the byte budget (414, or 400 naming it)
        ├── BodyTooLargeError      413 to an add: split the batch and lower the body's budget
        └── BatchRejectedError     any other answer: the batch's records fail, the run goes on

Lower-level errors (aiohttp, ssl, OSError) are mapped to this tree in one place, the client.
"""

from __future__ import annotations

from typing import Any


class BulkRemoveError(Exception):
    """Base of every error raised by bulkremove."""


class UsageError(BulkRemoveError):
    """The run is refused before anything is sent."""


class ConfigError(UsageError):
    """A setting is invalid; the message names the key, its source and what is allowed."""


class InputError(UsageError):
    """Input is invalid; the message names the file, the line and the offending text."""


class RefusedError(UsageError):
    """A safety rail refused the run after counting it: over ``max_delete``, or not confirmed."""


class EmptyInputError(UsageError):
    """The input held no ids, and ``allow_empty`` is off: an empty export is an incident."""


class UnsettledError(RefusedError):
    """A selection's listing passes never agreed within the bound: nothing is removed."""


class JournalError(BulkRemoveError):
    """The journal file cannot be used."""


class ApiError(BulkRemoveError):
    """A request to the API did not give a usable per-record answer.

    ``status`` is the HTTP status when there was one, ``body`` a bounded excerpt of the raw answer.
    """

    def __init__(self, message: str, *, status: int | None = None, body: bytes = b"") -> None:
        super().__init__(message)
        self.status = status
        self.body = body
        #: What the answer's rate-limit headers said (a RateLimits), if anything.
        self.limits: object | None = None


class FatalApiError(ApiError):
    """The run cannot go on: nothing more is sent."""

    #: What the user can do about it, for the one error line.
    hint = ""
    #: Whether resuming as it is may work (once the server is back), so the line says so.
    resumable = False


class AuthenticationError(FatalApiError):
    """401: the credentials were refused."""

    hint = "check BULKREMOVE_USERNAME and BULKREMOVE_PASSWORD (or username in the config file)"


class PermissionDeniedError(FatalApiError):
    """403: the API user lacks permission for this method."""

    hint = "give the API user permission for the batch removal of outbound campaign records"


class CampaignNotFoundError(FatalApiError):
    """404: the campaign (or the URI) does not exist."""

    hint = "check the campaign id and base_url (the API root, ending in /api)"


class TlsError(FatalApiError):
    """The TLS handshake or certificate verification failed."""

    hint = "check the server's certificate, or name its CA with ca_bundle"


class ServerDownError(FatalApiError):
    """Connections were refused (or never made) for a while, with no answer between."""

    hint = "check base_url and that the server is up"
    resumable = True


class ListingFailedError(FatalApiError):
    """A GET of a selection's listing kept failing (its tries or time ran out)."""

    hint = "the listing is kept in the journal, page by page"
    resumable = True


class ListingRefusedError(FatalApiError):
    """A GET of a listing got an answer no retry can change (a 400, a 414, ...)."""

    hint = "check the filters (--where) and the campaign"


class TransientApiError(ApiError):
    """The batch may succeed later; ``retry_after`` is the server's wish in seconds, if any."""

    #: True when the request may have been carried out although its answer never arrived.
    answer_lost: bool = False

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        body: bytes = b"",
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, status=status, body=body)
        self.retry_after = retry_after


class ThrottledError(TransientApiError):
    """429: too many requests."""


class ServerError(TransientApiError):
    """5xx: the server failed, perhaps after carrying out the request; 408: it never read it."""

    def __init__(self, message: str, **fields: Any) -> None:
        super().__init__(message, **fields)
        self.answer_lost = self.status != 408


class RequestTimeoutError(TransientApiError):
    """No complete answer within the request time-out."""

    answer_lost = True


class CannotConnectError(TransientApiError):
    """The connection could not be made (refused, unreachable, timed out): nothing was sent."""


class ConnectionLostError(TransientApiError):
    """The connection broke before the answer was read (or, with ``answer_lost`` False, before
    the request went out)."""

    def __init__(self, message: str, *, answer_lost: bool) -> None:
        super().__init__(message)
        self.answer_lost = answer_lost


class BadAnswerError(TransientApiError):
    """The body is not the expected JSON object (HTML from a proxy, truncated, too large).

    A body came back, so the request reached something that may have carried it out.
    """

    answer_lost = True


class UrlTooLongError(ApiError):
    """The server refused the request-target as too long: split the batch."""


class BodyTooLargeError(ApiError):
    """413: the server refused the request's body as too large: split the batch."""


class BatchRejectedError(ApiError):
    """An answer that fits no other class; the batch's records are marked failed with it."""
