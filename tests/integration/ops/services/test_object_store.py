"""S3 round trips against the object store (SeaweedFS): CRUD, refused credentials, presigned URLs."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator

import boto3
import httpx
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from mypy_boto3_s3 import S3Client

from folio.core.settings import Settings
from folio.ops.services.object_store import s3_client

pytestmark = pytest.mark.integration


@pytest.fixture
def s3(settings: Settings, require_service: Callable[[str], None]) -> S3Client:
    """A client signed with the configured credentials."""
    require_service("object_store")
    return s3_client(settings.services.object_store)


@pytest.fixture
def bucket(s3: S3Client) -> Iterator[str]:
    """A bucket no other test uses, emptied and removed afterwards."""
    name = f"test-{uuid.uuid4().hex[:16]}"
    s3.create_bucket(Bucket=name)
    yield name
    listing = s3.list_objects_v2(Bucket=name)
    for item in listing.get("Contents", []):
        s3.delete_object(Bucket=name, Key=item["Key"])
    s3.delete_bucket(Bucket=name)


def test_put_get_list_delete_round_trip(s3: S3Client, bucket: str) -> None:
    """Objects written are read back byte for byte, listed by prefix, and gone once deleted."""
    payloads = {f"covers/{i}.bin": bytes([i]) * (1000 + i) for i in range(3)}
    payloads["other/readme.txt"] = "Folio ✓".encode()
    for key, body in payloads.items():
        s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType="application/octet-stream")

    for key, body in payloads.items():
        assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == body

    listed = s3.list_objects_v2(Bucket=bucket, Prefix="covers/")
    assert sorted(item["Key"] for item in listed.get("Contents", [])) == sorted(
        key for key in payloads if key.startswith("covers/")
    )

    s3.delete_object(Bucket=bucket, Key="covers/0.bin")
    with pytest.raises(ClientError) as missing:
        s3.get_object(Bucket=bucket, Key="covers/0.bin")
    assert missing.value.response["Error"]["Code"] == "NoSuchKey"
    remaining = s3.list_objects_v2(Bucket=bucket)
    assert "covers/0.bin" not in {item["Key"] for item in remaining.get("Contents", [])}
    assert remaining["KeyCount"] == len(payloads) - 1


def test_wrong_credentials_are_refused(settings: Settings, s3: S3Client, bucket: str) -> None:
    """A request signed with a wrong secret or an unknown key is refused, and reads nothing."""
    s3.put_object(Bucket=bucket, Key="secret.txt", Body=b"private")
    cfg = settings.services.object_store
    for access_key, secret in ((cfg.access_key, "not-the-secret"), ("nobody", "nothing")):
        intruder = boto3.client(
            "s3",
            endpoint_url=cfg.endpoint_url,
            aws_access_key_id=access_key,
            aws_secret_access_key=secret,
            region_name=cfg.region,
            config=Config(signature_version="s3v4", retries={"max_attempts": 1}),
        )
        with pytest.raises(ClientError) as refused:
            intruder.get_object(Bucket=bucket, Key="secret.txt")
        assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
        assert refused.value.response["Error"]["Code"] in {"SignatureDoesNotMatch", "InvalidAccessKeyId"}

    anonymous = httpx.get(f"{cfg.endpoint_url}/{bucket}/secret.txt", timeout=5.0)
    assert anonymous.status_code == 403
    assert b"private" not in anonymous.content


def test_presigned_get_url_serves_the_object(settings: Settings, s3: S3Client, bucket: str) -> None:
    """A presigned GET URL serves the object without credentials, and a tampered one is refused."""
    s3.put_object(Bucket=bucket, Key="shared/report.csv", Body=b"isbn,title\n1,Dune\n")
    url = s3.generate_presigned_url(
        "get_object", Params={"Bucket": bucket, "Key": "shared/report.csv"}, ExpiresIn=120
    )
    assert url.startswith(settings.services.object_store.endpoint_url)

    fetched = httpx.get(url, timeout=5.0)
    assert fetched.status_code == 200
    assert fetched.content == b"isbn,title\n1,Dune\n"

    tampered = httpx.get(url.replace("shared/report.csv", "shared/other.csv"), timeout=5.0)
    assert tampered.status_code == 403
