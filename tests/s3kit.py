"""A real S3-compatible server for the tests: ``python -m project.s3server`` (moto) on a free port.

``s3_server`` starts one per test session as a subprocess; ``s3_media`` points the media storage at it
for one test, under a prefix of its own so tests never see each other's objects.
"""

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import boto3
import pytest

from animate.storage import s3_storage_options

BUCKET = "animate-test-media"
ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class S3Server:
    endpoint: str
    bucket: str
    process: subprocess.Popen

    def environ(self) -> dict[str, str]:
        """The variables a web or worker process gets to use this bucket."""
        return {
            "AWS_STORAGE_BUCKET_NAME": self.bucket,
            "AWS_S3_ENDPOINT_URL": self.endpoint,
            "AWS_ACCESS_KEY_ID": "test-key",
            "AWS_SECRET_ACCESS_KEY": "test-secret",
            "AWS_S3_REGION_NAME": "us-east-1",
        }

    def client(self):
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            region_name="us-east-1",
            aws_access_key_id="test-key",
            aws_secret_access_key="test-secret",
        )


def start_s3_server(bucket: str = BUCKET, timeout: float = 30.0) -> S3Server:
    process = subprocess.Popen(  # noqa: S603 (this interpreter, fixed arguments)
        [sys.executable, "-m", "project.s3server", "--host", "127.0.0.1", "--port", "0", "--bucket", bucket],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + timeout
    assert process.stdout is not None
    line = process.stdout.readline()
    if "listening on" not in line or time.monotonic() > deadline:
        process.kill()
        raise RuntimeError(f"the S3 server did not start: {line!r}")
    endpoint = line.split("listening on ", 1)[1].split()[0]
    return S3Server(endpoint=endpoint, bucket=bucket, process=process)


def stop_s3_server(server: S3Server) -> int:
    server.process.terminate()
    try:
        return server.process.wait(15)
    finally:
        if server.process.poll() is None:
            server.process.kill()


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    server = start_s3_server()
    try:
        yield server
    finally:
        stop_s3_server(server)


@pytest.fixture
def s3_media(settings, s3_server: S3Server) -> S3Server:
    """Media storage in the bucket for this test (under its own prefix)."""
    options = s3_storage_options(s3_server.environ())
    assert options is not None
    options["location"] = f"t-{os.getpid()}-{uuid.uuid4().hex[:12]}"
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": options},
    }
    return s3_server


def bucket_keys(server: S3Server, prefix: str = "") -> list[str]:
    listing = server.client().list_objects_v2(Bucket=server.bucket, Prefix=prefix)
    return [item["Key"] for item in listing.get("Contents", [])]
