"""A SMART authorization server for tests, built on Authlib's Flask AuthorizationServer.

It plays the EHR's side of SMART App Launch 2 for the trend app:
- ``/fhir/.well-known/smart-configuration``: the endpoints, PKCE S256, the capabilities;
- ``/authorize``: Authlib's AuthorizationCodeGrant with CodeChallenge(required=True); the
  request must carry a launch id the EHR issued (``new_launch(patient)``), ``aud`` equal to the
  FHIR base, S256; it approves at once (the user is signed in to the EHR) with that patient;
- ``/token``: Authlib's token endpoint (public client, no secret); the answer carries the
  launch's ``patient`` as SMART requires;
- ``/fhir/...``: a recording stand-in in front of the HAPI test server that answers only with a
  bearer token this server issued for that patient, and records what it was asked (CORS for
  the app's origin, as an EHR's FHIR endpoint does).
"""

from __future__ import annotations

import os
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

import requests
from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import ClientMixin, grants
from authlib.oauth2.rfc6749.errors import InvalidRequestError
from authlib.oauth2.rfc7636 import CodeChallenge
from flask import Flask, Response, jsonify, request

SCOPES = frozenset(
    {
        "launch",
        "openid",
        "fhirUser",
        "patient/Observation.rs",
        "patient/Condition.rs",
        "patient/MedicationRequest.rs",
        "patient/Patient.rs",
    }
)


@dataclass
class Client(ClientMixin):
    client_id: str
    redirect_uris: list[str]

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> str:
        return self.redirect_uris[0]

    def get_allowed_scope(self, scope: str) -> str:
        return " ".join(s for s in (scope or "").split() if s in SCOPES)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in self.redirect_uris

    def check_client_secret(self, client_secret: str) -> bool:
        return False  # a public client: it has no secret

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method == "none"

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type == "authorization_code"


@dataclass
class Code:
    code: str
    client_id: str
    redirect_uri: str
    scope: str
    code_challenge: str | None
    code_challenge_method: str | None
    patient: str
    issued: float = field(default_factory=time.time)

    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope

    def is_expired(self) -> bool:
        return time.time() - self.issued > 60


@dataclass
class State:
    fhir_upstream: str
    launches: dict[str, str] = field(default_factory=dict)  # launch id -> patient
    codes: dict[str, Code] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)  # access token -> patient
    authorize_requests: list[dict[str, str]] = field(default_factory=list)
    token_requests: list[dict[str, str]] = field(default_factory=list)
    fhir_requests: list[tuple[str, str | None]] = field(default_factory=list)  # path, auth


def build_auth_app(fhir_upstream: str, client_id: str, redirect_uri: str, app_origin: str):
    """The authorization server + FHIR stand-in; returns (app, state, new_launch)."""
    # loopback http in tests (Authlib insists on https otherwise)
    os.environ.setdefault("AUTHLIB_INSECURE_TRANSPORT", "1")
    app = Flask("smart-auth")
    state = State(fhir_upstream.rstrip("/"))
    clients = {client_id: Client(client_id, [redirect_uri])}

    class CodeGrant(grants.AuthorizationCodeGrant):
        TOKEN_ENDPOINT_AUTH_METHODS = ["none"]

        def save_authorization_code(self, code: str, req: Any) -> None:
            data = req.payload.data
            state.codes[code] = Code(
                code=code,
                client_id=req.client.client_id,
                redirect_uri=data.get("redirect_uri", ""),
                scope=req.scope or "",
                code_challenge=data.get("code_challenge"),
                code_challenge_method=data.get("code_challenge_method"),
                patient=state.launches[data["launch"]],
            )

        def query_authorization_code(self, code: str, client: Client) -> Code | None:
            found = state.codes.get(code)
            if found and found.client_id == client.client_id and not found.is_expired():
                return found
            return None

        def delete_authorization_code(self, authorization_code: Code) -> None:
            state.codes.pop(authorization_code.code, None)

        def authenticate_user(self, authorization_code: Code) -> dict[str, str]:
            return {"id": "Practitioner/ehr-user", "patient": authorization_code.patient}

        def create_token_response(self) -> tuple[int, dict[str, Any], list[Any]]:
            code: Code = self.request.authorization_code
            status, body, headers = super().create_token_response()
            body = {**body, "patient": code.patient}
            state.tokens[body["access_token"]] = code.patient
            return status, body, headers

    def save_token(token: dict[str, Any], req: Any) -> None:
        return None  # kept by create_token_response with its patient

    server = AuthorizationServer(app, query_client=clients.get, save_token=save_token)
    server.register_grant(CodeGrant, [CodeChallenge(required=True)])

    def cors(response: Response) -> Response:
        response.headers["Access-Control-Allow-Origin"] = app_origin
        response.headers["Access-Control-Allow-Headers"] = "Authorization, Content-Type, Accept"
        response.headers["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
        return response

    @app.get("/fhir/.well-known/smart-configuration")
    def smart_configuration() -> Response:
        base = request.host_url.rstrip("/")
        return cors(
            jsonify(
                {
                    "issuer": base,
                    "authorization_endpoint": f"{base}/authorize",
                    "token_endpoint": f"{base}/token",
                    "token_endpoint_auth_methods_supported": ["none"],
                    "grant_types_supported": ["authorization_code"],
                    "scopes_supported": sorted(SCOPES),
                    "response_types_supported": ["code"],
                    "code_challenge_methods_supported": ["S256"],
                    "capabilities": [
                        "launch-ehr",
                        "client-public",
                        "context-ehr-patient",
                        "permission-v2",
                    ],
                }
            )
        )

    @app.get("/authorize")
    def authorize() -> Response:
        state.authorize_requests.append(dict(request.args))
        fhir_base = request.host_url.rstrip("/") + "/fhir"
        launch = request.args.get("launch", "")
        if launch not in state.launches:
            return server.handle_error_response(request, InvalidRequestError("unknown launch"))
        if request.args.get("aud") != fhir_base:
            return server.handle_error_response(request, InvalidRequestError("aud"))
        if request.args.get("code_challenge_method") != "S256":
            return server.handle_error_response(request, InvalidRequestError("S256 only"))
        # the EHR user is signed in and launched the app: approved without a consent page
        user = {"id": "Practitioner/ehr-user"}
        grant = server.get_consent_grant(end_user=user)
        return server.create_authorization_response(grant_user=user, grant=grant)

    @app.route("/token", methods=["POST", "OPTIONS"])
    def token() -> Response:
        if request.method == "OPTIONS":
            return cors(Response(status=204))
        state.token_requests.append(dict(request.form))
        return cors(server.create_token_response())

    @app.route("/fhir/<path:path>", methods=["GET", "OPTIONS"])
    def fhir(path: str) -> Response:
        if request.method == "OPTIONS":
            return cors(Response(status=204))
        auth = request.headers.get("Authorization")
        state.fhir_requests.append((path, auth))
        scheme, _, token = (auth or "").partition(" ")
        patient = state.tokens.get(token) if scheme.lower() == "bearer" else None
        if patient is None:
            return cors(Response(status=401, headers={"WWW-Authenticate": "Bearer"}))
        if path.startswith("Patient/") and path != f"Patient/{patient}":
            return cors(Response(status=403))
        if not path.startswith("Patient/") and request.args.get("patient") != patient:
            return cors(Response(status=403))  # patient/*.rs: this patient's resources only
        upstream = requests.get(
            f"{state.fhir_upstream}/{path}",
            params=request.args,
            headers={"Accept": "application/fhir+json"},
            timeout=60,
        )
        # the server's own paging links point at the stand-in
        text = upstream.text.replace(state.fhir_upstream, request.host_url.rstrip("/") + "/fhir")
        return cors(Response(text, status=upstream.status_code, mimetype="application/fhir+json"))

    def new_launch(patient: str) -> str:
        launch = secrets.token_urlsafe(16)
        state.launches[launch] = patient
        return launch

    return app, state, new_launch
