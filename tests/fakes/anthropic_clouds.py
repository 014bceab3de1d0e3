"""Amazon Bedrock and Google Vertex AI in front of the Anthropic emulator: paths, auth, errors, streams.

The routes are the ones the installed anthropic SDK calls (anthropic/lib/bedrock, lib/vertex):

- Bedrock InvokeModel: POST /model/{id}/invoke and /invoke-with-response-stream, SigV4 (service
  `bedrock`) or a Bedrock API key; the body carries `anthropic_version` and no `model`; streams are
  AWS event-stream frames; errors are `{"message": ...}` with an x-amzn-ErrorType header.
- Bedrock Mantle (the Messages API on Bedrock): POST /anthropic/v1/messages, SigV4 (service
  `bedrock-mantle`) or an API key, `anthropic.` model ids, Anthropic-shaped answers and SSE.
- Vertex AI: POST /projects/{p}/locations/{r}/publishers/anthropic/models/{id}:rawPredict or
  :streamRawPredict, an OAuth bearer token (from the STS exchange at POST /token here),
  `anthropic_version` `vertex-2023-10-16` in the body.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import struct
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

AWS_ACCESS_KEY = "AKIAEMULATOR00000000"
AWS_SECRET_KEY = "emulator-secret-access-key-0000000000000"
BEDROCK_API_KEY = "bedrock-api-key-emulator-0000"
# Workload identity federation, as google-github-actions/auth sets it up: the job's OIDC token is
# exchanged at the STS endpoint (POST /token here) for a Google access token.
GOOGLE_SUBJECT_TOKEN = "eyJhbGciOiJSUzI1NiJ9.emulator-github-oidc-token.sig"
GOOGLE_AUDIENCE = (
    "//iam.googleapis.com/projects/123456/locations/global/workloadIdentityPools/github/providers/specship"
)
GOOGLE_ACCESS_TOKEN = "ya29.emulator-access-token-0000000000"
BEDROCK_VERSION = "bedrock-2023-05-31"
VERTEX_VERSION = "vertex-2023-10-16"

INVOKE = re.compile(r"^/model/(?P<model>[^/]+)/(?P<op>invoke|invoke-with-response-stream)$")
VERTEX = re.compile(
    r"^/projects/(?P<project>[^/]+)/locations/(?P<region>[^/]+)/publishers/anthropic/models/"
    r"(?P<model>[^/:]+):(?P<op>rawPredict|streamRawPredict)$"
)
MANTLE_PATH = "/anthropic/v1/messages"
AWS_ERRORS = {
    400: "ValidationException",
    403: "AccessDeniedException",
    404: "ResourceNotFoundException",
    429: "ThrottlingException",
    500: "InternalServerException",
    503: "ServiceUnavailableException",
    529: "ServiceUnavailableException",
}

ErrorReply = tuple[int, str, str]


@dataclass(frozen=True)
class Route:
    """Which cloud front a messages request came through, and the model id as the cloud spells it."""

    flavor: str  # anthropic | bedrock | mantle | vertex
    model: str = ""
    stream: bool = False
    region: str = ""


def route(path: str) -> Route | None:
    """The cloud route of a POST path, or None for the first-party API's own paths."""
    match = INVOKE.match(path)
    if match:
        model = urllib.parse.unquote(match["model"])
        return Route("bedrock", model, match["op"] == "invoke-with-response-stream")
    if path == MANTLE_PATH:
        return Route("mantle")
    match = VERTEX.match(path)
    if match:
        model = urllib.parse.unquote(match["model"])
        return Route("vertex", model, match["op"] == "streamRawPredict", match["region"])
    return None


def check_sigv4(
    method: str, host: str, path: str, headers: Mapping[str, str], body: bytes, *, service: str
) -> str | None:
    """None when the SigV4 signature is the one the emulator's secret key gives, else why not."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    auth = headers.get("authorization", "")
    found = re.match(
        r"^AWS4-HMAC-SHA256 Credential=(?P<key>[^/]+)/(?P<date>\d{8})/(?P<region>[^/]+)/(?P<service>[^/]+)"
        r"/aws4_request, SignedHeaders=(?P<signed>[^,]+), Signature=(?P<sig>[0-9a-f]{64})$",
        auth,
    )
    if not found:
        return "Authorization header requires 'Credential', 'SignedHeaders' and 'Signature' parameters."
    if found["key"] != AWS_ACCESS_KEY:
        return "The security token included in the request is invalid."
    if found["service"] != service:
        return f"Credential should be scoped to correct service: '{service}'."
    signed = found["signed"].split(";")
    request = AWSRequest(
        method=method, url=f"http://{host}{path}", headers={h: headers.get(h, "") for h in signed}, data=body
    )
    request.context["timestamp"] = headers.get("x-amz-date", "")
    signer = SigV4Auth(Credentials(AWS_ACCESS_KEY, AWS_SECRET_KEY, headers.get("x-amz-security-token")),
                       service, found["region"])  # fmt: skip
    canonical = signer.canonical_request(request)
    expected = signer.signature(signer.string_to_sign(request, canonical), request)
    if expected != found["sig"]:
        return (
            "The request signature we calculated does not match the signature you provided. Check your "
            "AWS Secret Access Key and signing method."
        )
    return None


def authenticate(
    route_: Route, method: str, host: str, path: str, headers: Mapping[str, str], *, body: bytes
) -> ErrorReply | None:
    """The cloud's own auth check (403 with the cloud's wording when it fails)."""
    if route_.flavor in ("bedrock", "mantle"):
        bearer = headers.get("authorization", "")
        if bearer.lower().startswith("bearer "):
            if bearer[7:] == BEDROCK_API_KEY:
                return None
            return 403, "permission_error", "Invalid API Key format: Must start with pre-defined prefix"
        service = "bedrock" if route_.flavor == "bedrock" else "bedrock-mantle"
        problem = check_sigv4(method, host, path, headers, body, service=service)
        return None if problem is None else (403, "permission_error", problem)
    if route_.flavor == "vertex" and headers.get("authorization", "") != f"Bearer {GOOGLE_ACCESS_TOKEN}":
        return (
            401,
            "authentication_error",
            (
                "Request had invalid authentication credentials. Expected OAuth 2 access token, login "
                "cookie or other valid authentication credential."
            ),
        )
    return None


def unwrap(route_: Route, body: Any) -> tuple[dict[str, Any], ErrorReply | None]:
    """The body as the first-party API would see it: `anthropic_version` checked and taken out."""
    if not isinstance(body, dict):
        return {}, (400, "invalid_request_error", "The request body must be a JSON object.")
    body = dict(body)
    if route_.flavor == "mantle":
        return body, None
    version = body.pop("anthropic_version", None)
    body.pop("anthropic_beta", None)
    wanted = BEDROCK_VERSION if route_.flavor == "bedrock" else VERTEX_VERSION
    if version != wanted:
        return body, (400, "invalid_request_error", f"anthropic_version: Input should be '{wanted}'")
    if "model" in body:
        return body, (400, "invalid_request_error", "model: Extra inputs are not permitted")
    if route_.flavor == "bedrock" and "stream" in body:
        return body, (400, "invalid_request_error", "stream: Extra inputs are not permitted")
    return body, None


def bedrock_error(status: int, message: str) -> tuple[dict[str, str], bytes]:
    """Headers and body of a Bedrock error (the SDK reads `message`)."""
    kind = AWS_ERRORS.get(status, "InternalServerException")
    headers = {"x-amzn-ErrorType": f"{kind}:http://internal.amazon.com/coral/com.amazon.bedrock/"}
    return headers, json.dumps({"message": message}).encode()


def google_not_found(project: str, region: str, model: str) -> bytes:
    name = f"projects/{project}/locations/{region}/publishers/anthropic/models/{model}"
    error = {"code": 404, "message": f"Publisher Model `{name}` not found.", "status": "NOT_FOUND"}
    return json.dumps({"error": error}).encode()


def token_reply(form: str) -> tuple[int, dict[str, Any]]:
    """POST /token: Google's STS token exchange for a workload identity federation subject token."""
    fields = {k: v[0] for k, v in urllib.parse.parse_qs(form).items()}
    if (
        fields.get("grant_type") != "urn:ietf:params:oauth:grant-type:token-exchange"
        or fields.get("subject_token") != GOOGLE_SUBJECT_TOKEN
        or fields.get("audience") != GOOGLE_AUDIENCE
    ):
        return 400, {"error": "invalid_grant", "error_description": "The subject token is invalid."}
    return 200, {
        "access_token": GOOGLE_ACCESS_TOKEN,
        "issued_token_type": "urn:ietf:params:oauth:token-type:access_token",
        "token_type": "Bearer",
        "expires_in": 3599,
    }


def _header(name: str, value: str) -> bytes:
    raw_name, raw_value = name.encode(), value.encode()
    return (
        struct.pack("B", len(raw_name)) + raw_name + b"\x07" + struct.pack(">H", len(raw_value)) + raw_value
    )


def event_frame(headers: Mapping[str, str], payload: bytes) -> bytes:
    """One AWS event-stream message: prelude, its CRC, headers, payload, message CRC."""
    raw_headers = b"".join(_header(k, v) for k, v in headers.items())
    total = 12 + len(raw_headers) + len(payload) + 4
    prelude = struct.pack(">II", total, len(raw_headers))
    head = prelude + struct.pack(">I", binascii.crc32(prelude))
    message = head + raw_headers + payload
    return message + struct.pack(">I", binascii.crc32(message))


def chunk_frame(event: Mapping[str, Any]) -> bytes:
    """A Bedrock stream chunk: the Messages API event, base64 in a `bytes` field."""
    data = base64.b64encode(json.dumps(event).encode()).decode()
    headers = {":event-type": "chunk", ":content-type": "application/json", ":message-type": "event"}
    return event_frame(headers, json.dumps({"bytes": data}).encode())


def exception_frame(kind: str, message: str) -> bytes:
    headers = {":exception-type": kind, ":content-type": "application/json", ":message-type": "exception"}
    return event_frame(headers, json.dumps({"message": message}).encode())
