"""Service configuration: one TOML file plus RHEUM_CDS_* environment overrides.

The service starts with safe defaults and no file at all. An invalid file stops start-up
with a `ConfigError` naming the key.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from cds_service import urlpolicy

LANGUAGES = ("en", "zh-TW", "zh-CN", "ja")
LABEL_REGIONS = ("EU", "US", "JP", "TW")


class ConfigError(ValueError):
    """The configuration is invalid; the message names the key."""


@dataclass(frozen=True)
class TrustedClient:
    issuer: str
    jwks_urls: tuple[str, ...] = ()
    jwks: dict[str, Any] | None = None  # inline JWKS document
    jku_allowed: tuple[str, ...] = ()  # jku URLs this issuer may name (besides jwks_urls)
    fhir_servers: tuple[str, ...] = ()  # base URLs this client may name as fhirServer


TERMINOLOGY_AUTH = ("none", "bearer", "basic", "client_credentials")


@dataclass(frozen=True)
class TerminologyConfig:
    """`[terminology]`: an institution's FHIR R4 terminology server (off when `url` is empty).

    See docs/terminology.md. Secrets may come from the environment instead of the file:
    RHEUM_CDS_TERMINOLOGY_TOKEN, _PASSWORD, _CLIENT_SECRET (and _URL).
    """

    url: str = ""  # base URL, e.g. https://tx.example.org/fhir
    auth: str = "none"  # none | bearer | basic | client_credentials
    token: str = ""  # bearer
    username: str = ""  # basic
    password: str = ""  # basic
    token_url: str = ""  # client_credentials: the OAuth 2.0 token endpoint
    client_id: str = ""
    client_secret: str = ""
    scope: str = ""
    refresh_hours: float = 24.0  # expansions are fetched again after this long
    startup_wait_s: float = 10.0  # start-up waits at most this long for a first expansion
    timeout_s: float = 60.0  # bound of one expansion call (background, not in requests)
    page_size: int = 1000  # codes per $expand page
    lookup: bool = True  # resolve unknown SNOMED CT codes met in requests ($subsumes)
    lookup_timeout_ms: int = 800  # at most this long per request (within its deadline)
    concurrency: int = 8  # parallel look-up calls per worker

    @property
    def enabled(self) -> bool:
        return bool(self.url)


@dataclass(frozen=True)
class Config:
    base_url: str = "http://localhost:8080"  # public base URL: aud = base_url + path
    deadline_ms: int = 2500
    language: str = "en"
    max_body_bytes: int = 5 * 1024 * 1024
    allow_unsigned: bool = False
    cors_origins: tuple[str, ...] = ()  # browser origins allowed by CORS; none by default
    storage_url: str = "sqlite:///rheum-cds.db"
    # audit and issued-card rows are committed in batches this long after the answer (0: each
    # call's rows at once, after its answer)
    storage_write_delay_ms: int = 50
    # feedback on a card not (yet) found waits up to this long for another worker's batch
    storage_unknown_card_wait_ms: int = 500
    patient_hash_key: str = ""  # keyed hash of patient ids in the audit trail; random if empty
    clients: tuple[TrustedClient, ...] = ()
    label_region: str = "EU"
    enabled_rules: tuple[str, ...] | None = None  # None = every rule
    disabled_rules: tuple[str, ...] = ()
    rule_overrides: dict[str, dict[str, Any]] = field(default_factory=dict)  # [rules.<ID>]
    local_codes: dict[str, Any] = field(default_factory=dict)  # [codes] additions
    fhir_page_cap: int = 10  # max pages followed per search
    log_level: str = "INFO"
    analytics_token: str = ""  # bearer token for /analytics/*; empty: loopback only
    metrics_token: str = ""  # bearer token for /metrics; empty: open (scraped in-cluster)
    allow_insecure_http: bool = False  # accept non-loopback http:// JWKS and FHIR URLs
    max_token_lifetime_s: int = 300  # exp - iat accepted (plus the leeway)
    max_draft_orders: int = 100  # draft orders per hook call (more: 413)
    max_resources: int = 10000  # prefetched resources per hook call (more: 413)
    max_feedback_items: int = 100  # feedback items per call (more: 413)
    terminology: TerminologyConfig = field(default_factory=TerminologyConfig)
    sandbox: bool = False  # the public CDS Hooks sandbox preset is applied (with_sandbox)
    # client_id the trend app (/apps/activity/) presents to the EHR's authorization server
    smart_client_id: str = "rheum-cds-activity"


def _env_overrides(env: dict[str, str]) -> dict[str, Any]:
    mapping = {
        "RHEUM_CDS_BASE_URL": ("base_url", str),
        "RHEUM_CDS_DEADLINE_MS": ("deadline_ms", int),
        "RHEUM_CDS_LANGUAGE": ("language", str),
        "RHEUM_CDS_STORAGE_URL": ("storage_url", str),
        "RHEUM_CDS_STORAGE_WRITE_DELAY_MS": ("storage_write_delay_ms", int),
        "RHEUM_CDS_STORAGE_UNKNOWN_CARD_WAIT_MS": ("storage_unknown_card_wait_ms", int),
        "RHEUM_CDS_ALLOW_UNSIGNED": ("allow_unsigned", lambda v: v.lower() in {"1", "true", "yes"}),
        "RHEUM_CDS_SANDBOX": ("sandbox", lambda v: v.lower() in {"1", "true", "yes"}),
        "RHEUM_CDS_LABEL_REGION": ("label_region", str),
        "RHEUM_CDS_PATIENT_HASH_KEY": ("patient_hash_key", str),
        "RHEUM_CDS_LOG_LEVEL": ("log_level", str),
        "RHEUM_CDS_ANALYTICS_TOKEN": ("analytics_token", str),
        "RHEUM_CDS_METRICS_TOKEN": ("metrics_token", str),
        "RHEUM_CDS_SMART_CLIENT_ID": ("smart_client_id", str),
        "RHEUM_CDS_ALLOW_INSECURE_HTTP": (
            "allow_insecure_http",
            lambda v: v.lower() in {"1", "true", "yes"},
        ),
        "RHEUM_CDS_CORS_ORIGINS": (
            "cors_origins",
            lambda v: tuple(x.strip() for x in v.split(",") if x.strip()),
        ),
    }
    out: dict[str, Any] = {}
    for name, (key, conv) in mapping.items():
        if name in env:
            try:
                out[key] = conv(env[name])
            except ValueError as exc:
                raise ConfigError(f"{name}: {exc}") from exc
    return out


def _expect(value: Any, typ: type | tuple[type, ...], key: str) -> Any:
    if not isinstance(value, typ) or (typ is int and isinstance(value, bool)):
        raise ConfigError(f"{key}: expected {getattr(typ, '__name__', typ)}, got {value!r}")
    return value


def _clients(raw: Any) -> tuple[TrustedClient, ...]:
    out = []
    for i, item in enumerate(_expect(raw, list, "clients")):
        key = f"clients[{i}]"
        _expect(item, dict, key)
        if "issuer" not in item:
            raise ConfigError(f"{key}.issuer: required")
        urls = item.get("jwks_urls", [])
        if "jwks_url" in item:
            urls = [item["jwks_url"], *urls]
        if not urls and "jwks" not in item:
            raise ConfigError(f"{key}: needs jwks_url(s) or an inline jwks")
        out.append(
            TrustedClient(
                issuer=_expect(item["issuer"], str, f"{key}.issuer"),
                jwks_urls=tuple(_expect(u, str, f"{key}.jwks_url") for u in urls),
                jwks=_expect(item["jwks"], dict, f"{key}.jwks") if "jwks" in item else None,
                jku_allowed=tuple(item.get("jku_allowed", [])),
                fhir_servers=tuple(
                    s.rstrip("/")
                    for s in _expect(item.get("fhir_servers", []), list, f"{key}.fhir_servers")
                ),
            )
        )
    return tuple(out)


_TERMINOLOGY_ENV = {
    "RHEUM_CDS_TERMINOLOGY_URL": "url",
    "RHEUM_CDS_TERMINOLOGY_TOKEN": "token",
    "RHEUM_CDS_TERMINOLOGY_PASSWORD": "password",
    "RHEUM_CDS_TERMINOLOGY_CLIENT_SECRET": "client_secret",
}


def _terminology(raw: Any, env: dict[str, str]) -> TerminologyConfig:
    table = dict(_expect(raw, dict, "terminology"))
    kinds: dict[str, type | tuple[type, ...]] = {
        "url": str,
        "auth": str,
        "token": str,
        "username": str,
        "password": str,
        "token_url": str,
        "client_id": str,
        "client_secret": str,
        "scope": str,
        "refresh_hours": (int, float),
        "startup_wait_s": (int, float),
        "timeout_s": (int, float),
        "page_size": int,
        "lookup": bool,
        "lookup_timeout_ms": int,
        "concurrency": int,
    }
    for key, value in table.items():
        if key not in kinds:
            raise ConfigError(f"terminology.{key}: unknown key")
        _expect(value, kinds[key], f"terminology.{key}")
        if isinstance(value, bool) and kinds[key] is not bool:
            raise ConfigError(f"terminology.{key}: expected a number, got {value!r}")
    for name, key in _TERMINOLOGY_ENV.items():
        if env.get(name):
            table[key] = env[name]
    cfg = TerminologyConfig(**table)
    if not cfg.enabled:
        return cfg
    if cfg.auth not in TERMINOLOGY_AUTH:
        raise ConfigError(f"terminology.auth: {cfg.auth!r} not one of {TERMINOLOGY_AUTH}")
    needs = {
        "bearer": ("token",),
        "basic": ("username", "password"),
        "client_credentials": ("token_url", "client_id", "client_secret"),
    }
    for key in needs.get(cfg.auth, ()):
        if not getattr(cfg, key):
            raise ConfigError(f"terminology.{key}: required with auth = {cfg.auth!r}")
    if cfg.refresh_hours <= 0 or cfg.timeout_s <= 0 or cfg.startup_wait_s < 0:
        raise ConfigError("terminology: refresh_hours and timeout_s > 0, startup_wait_s >= 0")
    if not 1 <= cfg.page_size <= 100000 or not 1 <= cfg.concurrency <= 64:
        raise ConfigError("terminology: page_size 1-100000, concurrency 1-64")
    if not 0 <= cfg.lookup_timeout_ms <= 60000:
        raise ConfigError("terminology.lookup_timeout_ms: must be between 0 and 60000")
    return cfg


def config_from_dict(data: dict[str, Any], env: dict[str, str] | None = None) -> Config:
    """Build a Config from parsed TOML (and environment overrides); validate every key."""
    known = {"service", "storage", "clients", "rules", "codes", "logging", "terminology"}
    for top in data:
        if top not in known:
            raise ConfigError(f"{top}: unknown section (known: {', '.join(sorted(known))})")
    kw: dict[str, Any] = {}
    service = _expect(data.get("service", {}), dict, "service")
    simple = {
        "base_url": str,
        "deadline_ms": int,
        "language": str,
        "max_body_bytes": int,
        "allow_unsigned": bool,
        "label_region": str,
        "patient_hash_key": str,
        "fhir_page_cap": int,
        "analytics_token": str,
        "metrics_token": str,
        "allow_insecure_http": bool,
        "max_token_lifetime_s": int,
        "max_draft_orders": int,
        "max_resources": int,
        "max_feedback_items": int,
        "sandbox": bool,
        "smart_client_id": str,
    }
    for key, value in service.items():
        if key in simple:
            kw[key] = _expect(value, simple[key], f"service.{key}")
        elif key == "cors_origins":
            kw[key] = tuple(_expect(value, list, "service.cors_origins"))
        else:
            raise ConfigError(f"service.{key}: unknown key")
    storage = _expect(data.get("storage", {}), dict, "storage")
    for key, value in storage.items():
        if key == "url":
            kw["storage_url"] = _expect(value, str, "storage.url")
        elif key in ("write_delay_ms", "unknown_card_wait_ms"):
            kw[f"storage_{key}"] = _expect(value, int, f"storage.{key}")
        else:
            raise ConfigError(f"storage.{key}: unknown key")
    if "clients" in data:
        kw["clients"] = _clients(data["clients"])
    rules = _expect(data.get("rules", {}), dict, "rules")
    overrides: dict[str, dict[str, Any]] = {}
    for key, value in rules.items():
        if key == "enabled":
            kw["enabled_rules"] = tuple(_expect(value, list, "rules.enabled"))
        elif key == "disabled":
            kw["disabled_rules"] = tuple(_expect(value, list, "rules.disabled"))
        else:
            overrides[key] = _expect(value, dict, f"rules.{key}")
    kw["rule_overrides"] = overrides
    kw["local_codes"] = _expect(data.get("codes", {}), dict, "codes")
    logging_ = _expect(data.get("logging", {}), dict, "logging")
    if "level" in logging_:
        kw["log_level"] = _expect(logging_["level"], str, "logging.level")
    environ = dict(os.environ) if env is None else env
    kw["terminology"] = _terminology(data.get("terminology", {}), environ)
    kw.update(_env_overrides(environ))
    cfg = Config(**kw)
    if cfg.sandbox:
        cfg = with_sandbox(cfg)
    if cfg.language not in LANGUAGES:
        raise ConfigError(f"service.language: {cfg.language!r} not one of {LANGUAGES}")
    if cfg.label_region not in LABEL_REGIONS:
        raise ConfigError(f"service.label_region: {cfg.label_region!r} not one of {LABEL_REGIONS}")
    if not 100 <= cfg.deadline_ms <= 60000:
        raise ConfigError("service.deadline_ms: must be between 100 and 60000")
    if not 0 <= cfg.storage_write_delay_ms <= 5000:
        raise ConfigError("storage.write_delay_ms: must be between 0 and 5000")
    if not 0 <= cfg.storage_unknown_card_wait_ms <= 10000:
        raise ConfigError("storage.unknown_card_wait_ms: must be between 0 and 10000")
    if not 30 <= cfg.max_token_lifetime_s <= 3600:
        raise ConfigError("service.max_token_lifetime_s: must be between 30 and 3600")
    for key in ("max_draft_orders", "max_resources", "max_feedback_items"):
        if getattr(cfg, key) < 1:
            raise ConfigError(f"service.{key}: must be at least 1")
    _check_outbound_urls(cfg)
    return cfg


def with_sandbox(cfg: Config) -> Config:
    """`cfg` with the public CDS Hooks sandbox preset (cds_service/presets/sandbox.toml):

    - the sandbox is a trusted client with its published ES384 key inline (no egress needed;
      its `jku` is allowed and fetched only for a kid that is not inline) and may name the
      public FHIR servers it offers; a client configured with the same issuer is kept as is;
    - its browser origin is allowed for CORS (added to the configured origins);
    - the demo clinic's local codes are added to [codes] (configured codes win), so the demo
      charts' morning stiffness, arm elevation, KL-6 and antibody results are asked for in
      the discovery prefetch and read;
    - unsigned calls are accepted: the sandbox's private key is public, so a signature proves
      nothing here; a token that does not verify is ignored and logged. Demo data only.
    """
    from cds_service import presets
    from cds_service.demo_data import with_demo_codes

    preset = presets.sandbox()
    clients = cfg.clients
    if not any(c.issuer == preset.client.issuer for c in clients):
        client = TrustedClient(
            issuer=preset.client.issuer,
            jwks=preset.client.jwks,
            jku_allowed=preset.client.jku_allowed,
            fhir_servers=preset.client.fhir_servers,
        )
        clients = (*clients, client)
    origins = cfg.cors_origins
    if "*" not in origins and preset.origin not in origins:
        origins = (*origins, preset.origin)
    return replace(
        cfg,
        sandbox=True,
        allow_unsigned=True,
        clients=clients,
        cors_origins=origins,
        local_codes=with_demo_codes(cfg.local_codes),
    )


def _check_outbound_urls(cfg: Config) -> None:
    """Every URL the service will connect to must pass the outbound URL policy; plain http is
    accepted only for loopback hosts unless `allow_insecure_http` says otherwise."""
    listed = [
        (f"clients[{i}].{key}", url)
        for i, client in enumerate(cfg.clients)
        for key, urls in (
            ("jwks_url", client.jwks_urls),
            ("jku_allowed", client.jku_allowed),
            ("fhir_servers", client.fhir_servers),
        )
        for url in urls
    ]
    tx = cfg.terminology
    listed += [(f"terminology.{k}", u) for k, u in (("url", tx.url), ("token_url", tx.token_url))]
    listed = [(where, url) for where, url in listed if url]
    for where, url in listed:
        key = where.rsplit(".", 1)[1]
        try:
            parsed = urlpolicy.parse(url)
        except urlpolicy.UrlRefused as exc:
            raise ConfigError(f"{where}: {exc}") from exc
        if parsed.query and key == "fhir_servers":
            raise ConfigError(f"{where}: a FHIR base URL has no query")
        if (
            parsed.scheme == "http"
            and not urlpolicy.is_loopback(parsed)
            and not cfg.allow_insecure_http
        ):
            raise ConfigError(
                f"{where}: plain http to a non-loopback host is refused "
                "(use https, or set service.allow_insecure_http = true)"
            )


def load_config(path: str | Path | None = None, env: dict[str, str] | None = None) -> Config:
    """Read the TOML file at `path` (or $RHEUM_CDS_CONFIG, or none) into a Config."""
    environ = dict(os.environ) if env is None else env
    path = path or environ.get("RHEUM_CDS_CONFIG")
    data: dict[str, Any] = {}
    if path:
        try:
            with open(path, "rb") as fh:
                data = tomllib.load(fh)
        except OSError as exc:
            raise ConfigError(f"{path}: cannot read ({exc.strerror})") from exc
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: {exc}") from exc
    return config_from_dict(data, environ)
