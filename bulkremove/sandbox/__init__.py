"""A local imitation of the Thulium batch-delete endpoint, for rehearsals, tests and benchmarks.

``async with Sandbox(SandboxConfig(port=0)) as sb:`` serves the API at ``sb.base_url``;
``bulkremove sandbox`` runs it from the command line.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bulkremove.sandbox.config import (
    DEFAULT_MAX_TARGET_LENGTH,
    CampaignSeed,
    IdsSeed,
    RangeSeed,
    SandboxConfig,
    parse_campaign_spec,
)
from bulkremove.startup import lazy_names

if TYPE_CHECKING:
    from bulkremove.sandbox.server import Sandbox
    from bulkremove.sandbox.state import Outcome

__all__ = [
    "DEFAULT_MAX_TARGET_LENGTH",
    "CampaignSeed",
    "IdsSeed",
    "Outcome",
    "RangeSeed",
    "Sandbox",
    "SandboxConfig",
    "parse_campaign_spec",
]

# The server (aiohttp's web side) loads on first use: ``bulkremove run`` never needs it.
_HOMES = {"Sandbox": "bulkremove.sandbox.server", "Outcome": "bulkremove.sandbox.state"}


__getattr__ = lazy_names(__name__, _HOMES, globals())
