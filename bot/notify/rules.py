"""The alerts file (GEHOOR_ALERTS_FILE, YAML): who hears about what. Example and meaning:
docs/notifications.md. A file that cannot be read or makes no sense raises AlertsFileError
naming the file and the entry; `gehoor notify check` shows it before the servers start.
"""
from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import yaml

from bot import config

log = logging.getLogger(__name__)

EVENTS = ("story.created", "story.updated", "story.completed", "follow_up.due")
MOMENTS = ("detractor", "handoff", "consent", "repeat_contact", "follow_up_due")
BANDS = ("detractor", "passive", "promoter", "unscored")
KINDS = ("webhook", "slack", "email")


class AlertsFileError(ValueError):
    """The alerts file is missing, not YAML, or names something unknown."""


def band_of(score: Optional[int]) -> str:
    if score is None:
        return "unscored"
    return "detractor" if score <= 6 else "passive" if score <= 8 else "promoter"


@dataclass(frozen=True)
class Destination:
    name: str
    kind: str
    url: Optional[str] = None
    url_env: Optional[str] = None
    secret: Optional[str] = None
    secret_env: Optional[str] = None
    to: Tuple[str, ...] = ()

    def resolved_url(self) -> str:
        url = os.environ.get(self.url_env, "") if self.url_env else (self.url or "")
        if not url:
            raise AlertsFileError(f"destination {self.name!r}: no url (set {self.url_env or 'url'})")
        return url

    def resolved_secret(self) -> str:
        secret = os.environ.get(self.secret_env, "") if self.secret_env else (self.secret or "")
        if not secret:
            raise AlertsFileError(f"destination {self.name!r}: no signing secret (set {self.secret_env or 'secret'})")
        return secret


@dataclass(frozen=True)
class Rule:
    to: Tuple[str, ...]
    events: Tuple[str, ...] = EVENTS
    moments: Tuple[str, ...] = ()  # empty: every event of the listed types
    bands: Tuple[str, ...] = ()  # empty: any band
    aspects: Tuple[str, ...] = ()  # empty: any aspect (or none)

    def matches(self, event: str, moments, band: str, aspects) -> bool:
        if event not in self.events:
            return False
        if self.moments and not set(self.moments) & set(moments):
            return False
        if self.bands and band not in self.bands:
            return False
        return not self.aspects or bool(set(self.aspects) & set(aspects or ()))


@dataclass(frozen=True)
class Smtp:
    host: str = "127.0.0.1"
    port: int = 25
    sender: str = "gehoor@localhost"
    starttls: bool = False
    ssl: bool = False
    username: Optional[str] = None
    password_env: Optional[str] = None
    timeout: float = 15.0


@dataclass(frozen=True)
class Retry:
    first_delay_seconds: float = 30.0
    max_delay_seconds: float = 6 * 3600.0
    max_attempts: int = 10

    def delay_after(self, attempts: int) -> float:
        """Exponential backoff: 30 s, 60 s, 120 s, … capped at max_delay_seconds."""
        return min(self.max_delay_seconds, self.first_delay_seconds * (2 ** max(0, attempts - 1)))


@dataclass(frozen=True)
class Alerts:
    destinations: Dict[str, Destination]
    rules: Tuple[Rule, ...]
    smtp: Smtp = field(default_factory=Smtp)
    retry: Retry = field(default_factory=Retry)
    follow_up_lead_minutes: int = 120
    timeout_seconds: float = 10.0

    def destinations_for(self, event: str, moments, band: str, aspects) -> List[str]:
        names: List[str] = []
        for rule in self.rules:
            if rule.matches(event, moments, band, aspects):
                names.extend(n for n in rule.to if n not in names)
        return names

    def wants(self, event: str) -> bool:
        return any(event in r.events for r in self.rules)


def _names(value, allowed, where: str) -> Tuple[str, ...]:
    if value is None:
        return ()
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(x, str) for x in items):
        raise AlertsFileError(f"{where}: expected a list of names, got {value!r}")
    bad = [x for x in items if allowed is not None and x not in allowed]
    if bad:
        raise AlertsFileError(f"{where}: unknown {', '.join(bad)} (known: {', '.join(allowed)})")
    return tuple(items)


def parse(data, source: str = "alerts file") -> Alerts:
    if not isinstance(data, dict):
        raise AlertsFileError(f"{source}: expected a mapping with destinations and rules")
    raw_dest = data.get("destinations") or {}
    if not isinstance(raw_dest, dict):
        raise AlertsFileError(f"{source}: destinations must be a mapping of name -> settings")
    destinations: Dict[str, Destination] = {}
    for name, d in raw_dest.items():
        where = f"{source}: destination {name!r}"
        if not isinstance(d, dict) or d.get("type") not in KINDS:
            raise AlertsFileError(f"{where}: type must be one of {', '.join(KINDS)}")
        kind = d["type"]
        to = _names(d.get("to"), None, f"{where}: to")
        if kind == "email" and not to:
            raise AlertsFileError(f"{where}: an e-mail destination needs `to` (addresses)")
        if kind in ("webhook", "slack") and not (d.get("url") or d.get("url_env")):
            raise AlertsFileError(f"{where}: needs `url` or `url_env`")
        if kind == "webhook" and not (d.get("secret") or d.get("secret_env")):
            raise AlertsFileError(f"{where}: a webhook needs `secret` or `secret_env` (it is signed)")
        destinations[str(name)] = Destination(str(name), kind, d.get("url"), d.get("url_env"), d.get("secret"),
                                              d.get("secret_env"), to)
    rules = []
    for i, r in enumerate(data.get("rules") or []):
        where = f"{source}: rule {i + 1}"
        if not isinstance(r, dict):
            raise AlertsFileError(f"{where}: expected a mapping")
        to = _names(r.get("to"), None, f"{where}: to")
        unknown = [n for n in to if n not in destinations]
        if not to or unknown:
            raise AlertsFileError(f"{where}: `to` must name destinations ({', '.join(unknown) or 'none given'})")
        rules.append(Rule(to=to, events=_names(r.get("events"), EVENTS, f"{where}: events") or EVENTS,
                          moments=_names(r.get("moments"), MOMENTS, f"{where}: moments"),
                          bands=_names(r.get("bands"), BANDS, f"{where}: bands"),
                          aspects=_names(r.get("aspects"), None, f"{where}: aspects")))
    try:
        smtp_raw = data.get("smtp") or {}
        smtp = Smtp(host=str(smtp_raw.get("host", "127.0.0.1")), port=int(smtp_raw.get("port", 25)),
                    sender=str(smtp_raw.get("from", "gehoor@localhost")), starttls=bool(smtp_raw.get("starttls", False)),
                    ssl=bool(smtp_raw.get("ssl", False)), username=smtp_raw.get("username"),
                    password_env=smtp_raw.get("password_env"), timeout=float(smtp_raw.get("timeout", 15)))
        retry_raw = data.get("retry") or {}
        retry = Retry(float(retry_raw.get("first_delay_seconds", 30)), float(retry_raw.get("max_delay_seconds", 21600)),
                      max(1, int(retry_raw.get("max_attempts", 10))))
        lead = int((data.get("follow_up_due") or {}).get("lead_minutes", 120))
        timeout = float(data.get("timeout_seconds", 10))
    except (TypeError, ValueError, AttributeError) as exc:
        raise AlertsFileError(f"{source}: smtp/retry/follow_up_due/timeout_seconds: {exc}") from exc
    return Alerts(destinations, tuple(rules), smtp, retry, lead, timeout)


def load(path) -> Alerts:
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise AlertsFileError(f"alerts file {path}: {exc.strerror or exc}") from exc
    except yaml.YAMLError as exc:
        raise AlertsFileError(f"alerts file {path}: not valid YAML: {exc}") from exc
    return parse(data, f"alerts file {path}")


_cache: Dict[str, Tuple[int, Optional[Alerts]]] = {}


def current() -> Optional[Alerts]:
    """The alerts configured by GEHOOR_ALERTS_FILE (re-read when the file changes), or None.
    A broken file is logged and means no alerts: a story write never fails because of it."""
    path = config.alerts_file()
    if path is None:
        return None
    try:
        mtime = path.stat().st_mtime_ns
    except OSError as exc:
        log.error("alerts disabled: alerts file %s: %s", path, exc.strerror or exc)
        return None
    cached = _cache.get(str(path))
    if cached and cached[0] == mtime:
        return cached[1]
    alerts: Optional[Alerts]
    try:
        alerts = load(path)
    except AlertsFileError as exc:
        log.error("alerts disabled until the file is fixed: %s", exc)  # once per version of the file
        alerts = None
    _cache[str(path)] = (mtime, alerts)
    return alerts
