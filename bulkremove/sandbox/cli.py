"""``bulkremove sandbox``: serve the sandbox until SIGINT or SIGTERM.

On start it prints one line, ``listening on http://HOST:PORT/api`` (https with ``--tls-cert``),
so that a script (or a test that asked for ``--port 0``) learns where to send its requests.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from pathlib import Path

from bulkremove.errors import ConfigError
from bulkremove.sandbox.config import (
    DEFAULT_CAMPAIGNS,
    DEFAULT_MAX_TARGET_LENGTH,
    HOSTILE_MODES,
    CampaignSeed,
    RecordsSeed,
    SandboxConfig,
    parse_campaign_spec,
)

_DEFAULTS = SandboxConfig()


def _campaign(text: str) -> CampaignSeed:
    try:
        return parse_campaign_spec(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def _records(text: str) -> RecordsSeed:
    from bulkremove.sandbox.recordfile import read_records_file  # the server's side, loaded late

    try:
        return read_records_file(Path(text))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def _latency(text: str) -> tuple[float, float]:
    low, sep, high = text.partition(":")
    try:
        return (float(low), float(high) if sep else float(low))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r} is not MIN:MAX in seconds") from exc


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The sandbox's flags."""
    net = parser.add_argument_group("server")
    net.add_argument("--host", default=_DEFAULTS.host, help="address to bind (%(default)s)")
    net.add_argument(
        "--port", type=int, default=_DEFAULTS.port, help="port; 0 picks a free one (%(default)s)"
    )
    net.add_argument("--username", default=_DEFAULTS.username, help="API user (%(default)s)")
    net.add_argument("--password", default=_DEFAULTS.password, help="its password (%(default)s)")
    net.add_argument(
        "--tls-cert", metavar="FILE", help="serve https with this PEM certificate chain"
    )
    net.add_argument(
        "--tls-key", metavar="FILE", help="the certificate's PEM key (default: in --tls-cert)"
    )
    net.add_argument(
        "--campaign",
        dest="campaigns",
        action="append",
        type=_campaign,
        metavar="SPEC",
        help="a campaign and its customer ids: 00001=1-100000 or 00002=@ids.txt (one id a "
        "line); repeatable (default, unless --records is given: 00001=1-100000)",
    )
    net.add_argument(
        "--records",
        dest="record_files",
        action="append",
        type=_records,
        metavar="FILE",
        help="a campaign of detailed records (customer ids or phone numbers, statuses, dates, "
        "calls) from a JSON file; repeatable (see docs/sandbox.md)",
    )
    calls = parser.add_argument_group("calls")
    calls.add_argument(
        "--call-share",
        type=float,
        default=_DEFAULTS.call_share,
        help="share of records in a call from start (%(default)s)",
    )
    calls.add_argument(
        "--call-min",
        type=float,
        default=_DEFAULTS.call_min_s,
        help="shortest call in seconds (%(default)s)",
    )
    calls.add_argument(
        "--call-max",
        type=float,
        default=_DEFAULTS.call_max_s,
        help="longest call in seconds; inf: calls never end (%(default)s)",
    )
    limits = parser.add_argument_group("limits")
    limits.add_argument(
        "--max-target-length",
        type=int,
        default=DEFAULT_MAX_TARGET_LENGTH,
        help="longest request-target (path?query) in bytes before 414; 0: none (%(default)s)",
    )
    limits.add_argument(
        "--rate-limit", type=float, default=None, help="requests/s before 429 (default: none)"
    )
    limits.add_argument(
        "--rate-burst",
        type=int,
        default=_DEFAULTS.rate_burst,
        help="requests allowed at once (%(default)s)",
    )
    limits.add_argument(
        "--rate-headers",
        choices=("ietf", "x", "retry"),
        default=None,
        help="state the rate limit in headers: the IETF draft's RateLimit-*, X-RateLimit-*, or "
        "Retry-After on a 200 or 5xx once the bucket is empty",
    )
    limits.add_argument(
        "--max-body-bytes",
        type=int,
        default=None,
        help="longest body of an add before 413 (default: none below aiohttp's 1 MiB)",
    )
    net.add_argument(
        "--agents",
        type=lambda text: tuple(a.strip() for a in text.split(",") if a.strip()),
        default=None,
        metavar="A,B",
        help="the agents an added record may name (default: any)",
    )
    limits.add_argument(
        "--retry-after-http-date",
        action="store_true",
        help="send Retry-After as an HTTP date, not seconds",
    )
    faults = parser.add_argument_group("faults (shares are 0..1 of requests)")
    faults.add_argument(
        "--error-share", type=float, default=0.0, help="answer 500/502/503, remove nothing"
    )
    faults.add_argument(
        "--latency",
        type=_latency,
        default=(0.0, 0.0),
        metavar="MIN:MAX",
        help="extra seconds before each answer, uniform in MIN..MAX",
    )
    faults.add_argument(
        "--late-share", type=float, default=0.0, help="remove, then answer after --late-delay"
    )
    faults.add_argument(
        "--late-delay",
        type=float,
        default=_DEFAULTS.late_delay_s,
        help="seconds a late answer waits (%(default)s)",
    )
    faults.add_argument(
        "--drop-share", type=float, default=0.0, help="remove, then close without answering"
    )
    faults.add_argument(
        "--html-share", type=float, default=0.0, help="answer 200 with an HTML page, remove nothing"
    )
    faults.add_argument(
        "--deny-permission", action="store_true", help="answer 403 to every authenticated request"
    )
    faults.add_argument(
        "--hostile",
        choices=HOSTILE_MODES,
        default=None,
        metavar="MODE",
        help="remove, then answer with a broken or lying body (tests only); MODE is one of "
        + ", ".join(HOSTILE_MODES),
    )
    faults.add_argument("--seed", type=int, default=None, help="seed of the random choices")


def config_from_args(args: argparse.Namespace) -> SandboxConfig:
    """The config the flags describe; raises ConfigError if they do not make one."""
    try:
        return SandboxConfig(
            host=args.host,
            port=args.port,
            username=args.username,
            password=args.password,
            campaigns=_campaigns(args),
            call_share=args.call_share,
            call_min_s=args.call_min,
            call_max_s=args.call_max,
            max_target_length=args.max_target_length or None,
            rate_limit=args.rate_limit,
            rate_burst=args.rate_burst,
            rate_headers=args.rate_headers,
            retry_after_http_date=args.retry_after_http_date,
            max_body_bytes=args.max_body_bytes,
            agents=args.agents,
            error_share=args.error_share,
            latency_min_s=args.latency[0],
            latency_max_s=args.latency[1],
            late_share=args.late_share,
            late_delay_s=args.late_delay,
            drop_share=args.drop_share,
            html_share=args.html_share,
            deny_permission=args.deny_permission,
            hostile=args.hostile,
            seed=args.seed,
            tls_cert=args.tls_cert,
            tls_key=args.tls_key,
        )
    except ValueError as exc:
        raise ConfigError(f"sandbox: {exc}") from exc


def _campaigns(args: argparse.Namespace) -> tuple[CampaignSeed, ...]:
    seeds = [*(args.campaigns or ()), *(args.record_files or ())]
    return tuple(seeds) if seeds else DEFAULT_CAMPAIGNS


async def _serve(config: SandboxConfig) -> None:
    from bulkremove.sandbox.server import Sandbox, tls_context  # loaded only to serve

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        sandbox = Sandbox(config)
        try:
            tls_context(config)
        except OSError as exc:  # ssl.SSLError included
            raise ConfigError(
                f"sandbox: cannot load TLS certificate {config.tls_cert}: {exc.strerror or exc}"
            ) from exc
        try:
            await sandbox.start()
        except OSError as exc:
            raise ConfigError(
                f"sandbox: cannot listen on {config.host}:{config.port}: {exc.strerror}"
            ) from exc
        try:
            print(f"listening on {sandbox.base_url}", flush=True)
            await stop.wait()
        finally:
            await sandbox.close()
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)


def run(args: argparse.Namespace) -> int:
    """Serve until SIGINT or SIGTERM; 0 on a clean stop."""
    config = config_from_args(args)
    asyncio.run(_serve(config))
    sys.stdout.flush()
    return 0
