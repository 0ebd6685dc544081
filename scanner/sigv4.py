"""AWS Signature Version 4, as Cloud Storage's XML API accepts it from an HMAC key (the
interoperability API that S3 clients use): the signature of one request, made here so that the
secret itself never leaves the machine.

The algorithm is AWS's published one (canonical request → string to sign → a key derived by
HMAC-SHA256 over date, region, service); hmac and hashlib are the library. It is checked against
AWS's own worked example in tests/test_sigv4.py.
"""
from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from urllib.parse import quote

ALGORITHM = "AWS4-HMAC-SHA256"
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode("utf-8"), hashlib.sha256).digest()


def authorization(*, access_id: str, secret: str, method: str, host: str, path: str, query: Mapping[str, str],
                  headers: Mapping[str, str], amz_date: str, region: str, service: str,
                  payload_sha256: str = EMPTY_SHA256) -> str:
    """The Authorization header for the request; HEADERS are the others it sends and signs
    (x-amz-date among them), HOST is signed as `host`."""
    signed = {"host": host, **{name.lower(): value.strip() for name, value in headers.items()}}
    names = sorted(signed)
    canonical_query = "&".join(f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}" for k, v in sorted(query.items()))
    canonical = "\n".join([method, quote(path, safe="/-_.~"), canonical_query,
                           "".join(f"{n}:{signed[n]}\n" for n in names), ";".join(names), payload_sha256])
    day = amz_date[:8]
    scope = f"{day}/{region}/{service}/aws4_request"
    to_sign = "\n".join([ALGORITHM, amz_date, scope, hashlib.sha256(canonical.encode("utf-8")).hexdigest()])
    key = _hmac(_hmac(_hmac(_hmac(f"AWS4{secret}".encode(), day), region), service), "aws4_request")
    signature = hmac.new(key, to_sign.encode("utf-8"), hashlib.sha256).hexdigest()
    return f"{ALGORITHM} Credential={access_id}/{scope}, SignedHeaders={';'.join(names)}, Signature={signature}"
