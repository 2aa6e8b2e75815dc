"""HTTP client of an institution's FHIR R4 terminology server (Ontoserver, Snowstorm, HAPI...).

Two operations, each bounded by an absolute deadline (`time.monotonic()` seconds):

- `expand_isa(root, deadline)`: every SNOMED CT code equal to or below `root`, paged with
  `offset` / `count`. First the implicit value set `http://snomed.info/sct?fhir_vs=isa/<root>`
  by GET (Ontoserver, Snowstorm); a server that does not know implicit value sets (HAPI answers
  404) is asked once more with POST and an inline ValueSet whose compose has the `is-a`
  filter, and that way is then kept for the server.
- `subsumes(code_a, code_b, deadline)`: `CodeSystem/$subsumes` -> "equivalent", "subsumes",
  "subsumed-by" or "not-subsumed".

Authentication (configuration `[terminology]`): none, a static bearer token, HTTP basic, or an
OAuth 2.0 client-credentials grant whose token is cached until shortly before it expires.

Only URLs under the configured base URL are called, never a redirect, never a proxy from the
environment. Failures raise `TerminologyError` with a short reason; no text of the server's
answer and no code is put in it (codes come from patient records).
"""

from __future__ import annotations

import base64
import threading
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import orjson
import requests
import urllib3.exceptions

from cds_service.config import TerminologyConfig
from cds_service.urlpolicy import Prefix, UrlRefused, outbound_session, parse, resolve

SNOMED = "http://snomed.info/sct"
MAX_RESPONSE_BYTES = 64 * 1024 * 1024
CHUNK_BYTES = 64 * 1024
MIN_CALL_SECONDS = 0.02
MAX_CONNECT_SECONDS = 2.0
TOKEN_MARGIN_S = 30.0
FHIR_JSON = "application/fhir+json"


class TerminologyError(RuntimeError):
    """A call failed. `kind`: timeout, connection, http, not-json, refused, auth.
    `status` is the HTTP status for kind "http"."""

    def __init__(self, kind: str, status: int | None = None) -> None:
        super().__init__(f"{kind} {status}" if status else kind)
        self.kind = kind
        self.status = status

    @property
    def unavailable(self) -> bool:
        """The server cannot answer now (down, slow, overloaded): worth backing off."""
        return self.kind in {"timeout", "connection"} or (
            self.kind == "http" and (self.status or 0) >= 500 or self.status == 429
        )


@dataclass(frozen=True)
class Expansion:
    codes: tuple[tuple[str, str | None], ...]  # (code, display)
    version: str  # the code system version the server expanded ("" if it did not say)


class TerminologyClient:
    """Calls of one terminology server; safe to share between threads."""

    def __init__(self, config: TerminologyConfig, session: requests.Session | None = None) -> None:
        self.config = config
        self.base = parse(config.url)  # raises UrlRefused for a malformed URL (config check)
        self._policy = Prefix(self.base)
        self.session = session or outbound_session(pool_size=config.concurrency + 2)
        self._token: tuple[str, float] | None = None  # (access token, monotonic expiry)
        self._token_lock = threading.Lock()
        self._implicit_vs = True  # GET ?url=<implicit value set> until the server refuses it

    # ------------------------------------------------------------------ operations

    def expand_isa(self, root: str, deadline: float) -> Expansion:
        """All codes of `SNOMED is-a root`, page by page."""
        page = max(1, self.config.page_size)
        codes: list[tuple[str, str | None]] = []
        version = ""
        offset = 0
        while True:
            data = self._expand_page(root, offset, page, deadline)
            expansion = data.get("expansion") if isinstance(data, dict) else None
            if not isinstance(expansion, dict):
                raise TerminologyError("not-json")
            contains = expansion.get("contains") or []
            if not isinstance(contains, list):
                raise TerminologyError("not-json")
            for item in contains:
                if not isinstance(item, dict) or item.get("system") not in (SNOMED, None):
                    continue
                code = item.get("code")
                if isinstance(code, str) and code.strip():
                    display = item.get("display")
                    codes.append((code.strip(), display if isinstance(display, str) else None))
                    if not version and isinstance(item.get("version"), str):
                        version = item["version"]
            version = version or _expansion_version(expansion)
            total = expansion.get("total")
            offset += len(contains)
            if not contains or len(contains) < page:
                break
            if isinstance(total, int) and offset >= total:
                break
        return Expansion(tuple(dict.fromkeys(codes)), version)

    def _expand_page(self, root: str, offset: int, count: int, deadline: float) -> Any:
        paging = {"offset": str(offset), "count": str(count)}
        if self._implicit_vs:
            try:
                return self._call(
                    "GET",
                    "ValueSet/$expand",
                    {"url": f"{SNOMED}?fhir_vs=isa/{root}", **paging},
                    None,
                    deadline,
                )
            except TerminologyError as exc:
                if exc.kind != "http" or exc.status not in (400, 404, 422):
                    raise
                # The server does not expand implicit SNOMED CT value sets: an inline ValueSet.
                # Kept when the server reads it (a 400 then says this root is unknown to it).
                try:
                    answer = self._expand_inline(root, offset, count, deadline)
                except TerminologyError as inline:
                    if inline.kind == "http" and inline.status in (400, 422):
                        self._implicit_vs = False
                    raise
                self._implicit_vs = False
                return answer
        return self._expand_inline(root, offset, count, deadline)

    def _expand_inline(self, root: str, offset: int, count: int, deadline: float) -> Any:
        body = {
            "resourceType": "Parameters",
            "parameter": [
                {
                    "name": "valueSet",
                    "resource": {
                        "resourceType": "ValueSet",
                        "status": "active",
                        "compose": {
                            "include": [
                                {
                                    "system": SNOMED,
                                    "filter": [
                                        {"property": "concept", "op": "is-a", "value": root}
                                    ],
                                }
                            ]
                        },
                    },
                },
                {"name": "offset", "valueInteger": offset},
                {"name": "count", "valueInteger": count},
            ],
        }
        return self._call("POST", "ValueSet/$expand", None, body, deadline)

    def subsumes(self, code_a: str, code_b: str, deadline: float) -> str:
        """Outcome of `CodeSystem/$subsumes` for SNOMED CT codes A and B."""
        data = self._call(
            "GET",
            "CodeSystem/$subsumes",
            {"system": SNOMED, "codeA": code_a, "codeB": code_b},
            None,
            deadline,
        )
        for param in data.get("parameter") or [] if isinstance(data, dict) else []:
            if isinstance(param, dict) and param.get("name") == "outcome":
                value = param.get("valueCode") or param.get("valueString")
                if isinstance(value, str):
                    return value
        raise TerminologyError("not-json")

    # ------------------------------------------------------------------ plumbing

    def _url(self, path: str, params: dict[str, str] | None) -> str:
        query = f"?{urlencode(params)}" if params else ""
        try:
            return resolve(f"{self.base.base}/{path}{query}", self._policy).url.url
        except UrlRefused as exc:
            raise TerminologyError("refused") from exc

    def _call(
        self,
        method: str,
        path: str,
        params: dict[str, str] | None,
        body: dict[str, Any] | None,
        deadline: float,
    ) -> Any:
        url = self._url(path, params)
        remaining = deadline - time.monotonic()
        if remaining < MIN_CALL_SECONDS:
            raise TerminologyError("timeout")
        headers = {"Accept": f"{FHIR_JSON}, application/json;q=0.9", "Cache-Control": "no-cache"}
        headers.update(self._auth_headers(deadline))
        data = None
        if body is not None:
            headers["Content-Type"] = FHIR_JSON
            data = orjson.dumps(body)
        try:
            with self.session.request(
                method,
                url,
                params=None,
                data=data,
                headers=headers,
                timeout=(min(remaining, MAX_CONNECT_SECONDS), remaining),
                stream=True,
                allow_redirects=False,
                proxies={"http": "", "https": "", "no_proxy": "*"},
            ) as response:
                status = response.status_code
                if status in (401, 403):
                    with self._token_lock:
                        self._token = None  # a client-credentials token may have been revoked
                    raise TerminologyError("auth", status)
                if status >= 300:
                    raise TerminologyError("http", status)
                raw = _read(response, deadline)
        except (requests.Timeout, urllib3.exceptions.TimeoutError) as exc:
            raise TerminologyError("timeout") from exc
        except (requests.ConnectionError, urllib3.exceptions.HTTPError, OSError) as exc:
            raise TerminologyError("connection") from exc
        except requests.RequestException as exc:
            raise TerminologyError("connection") from exc
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise TerminologyError("not-json") from exc

    def _auth_headers(self, deadline: float) -> dict[str, str]:
        cfg = self.config
        if cfg.auth == "bearer":
            return {"Authorization": f"Bearer {cfg.token}"}
        if cfg.auth == "basic":
            pair = f"{cfg.username}:{cfg.password}".encode()
            return {"Authorization": "Basic " + base64.b64encode(pair).decode("ascii")}
        if cfg.auth == "client_credentials":
            return {"Authorization": f"Bearer {self._client_token(deadline)}"}
        return {}

    def _client_token(self, deadline: float) -> str:
        with self._token_lock:
            if self._token is not None and time.monotonic() < self._token[1]:
                return self._token[0]
            cfg = self.config
            try:
                token_url = resolve(cfg.token_url, Prefix(parse(cfg.token_url))).url.url
            except UrlRefused as exc:
                raise TerminologyError("refused") from exc
            remaining = deadline - time.monotonic()
            if remaining < MIN_CALL_SECONDS:
                raise TerminologyError("timeout")
            form = {"grant_type": "client_credentials"}
            if cfg.scope:
                form["scope"] = cfg.scope
            try:
                with self.session.post(
                    token_url,
                    data=form,
                    auth=(cfg.client_id, cfg.client_secret),
                    headers={"Accept": "application/json"},
                    timeout=(min(remaining, MAX_CONNECT_SECONDS), remaining),
                    stream=True,
                    allow_redirects=False,
                    proxies={"http": "", "https": "", "no_proxy": "*"},
                ) as response:
                    if response.status_code != 200:
                        raise TerminologyError("auth", response.status_code)
                    answer = orjson.loads(_read(response, deadline))
            except (requests.Timeout, urllib3.exceptions.TimeoutError) as exc:
                raise TerminologyError("timeout") from exc
            except (requests.RequestException, urllib3.exceptions.HTTPError, OSError) as exc:
                raise TerminologyError("connection") from exc
            except orjson.JSONDecodeError as exc:
                raise TerminologyError("auth") from exc
            token = answer.get("access_token") if isinstance(answer, dict) else None
            if not isinstance(token, str) or not token:
                raise TerminologyError("auth")
            lifetime = answer.get("expires_in")
            seconds = float(lifetime) if isinstance(lifetime, int | float) else 300.0
            self._token = (token, time.monotonic() + max(0.0, seconds - TOKEN_MARGIN_S))
            return token


def _read(response: requests.Response, deadline: float) -> bytes:
    chunks: list[bytes] = []
    size = 0
    raw = response.raw
    while True:
        if time.monotonic() >= deadline:
            raise TerminologyError("timeout")
        chunk = raw.read1(CHUNK_BYTES, decode_content=True)
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > MAX_RESPONSE_BYTES:
            raise TerminologyError("not-json")
        chunks.append(chunk)


def _expansion_version(expansion: dict[str, Any]) -> str:
    """The code-system version an expansion names in its parameters ("version" or
    "used-codesystem"), or ""."""
    for param in expansion.get("parameter") or []:
        if not isinstance(param, dict) or param.get("name") not in ("version", "used-codesystem"):
            continue
        value = param.get("valueUri") or param.get("valueString") or param.get("valueCanonical")
        if isinstance(value, str) and value.startswith(SNOMED):
            return value
    return ""
