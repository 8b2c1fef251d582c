"""A local S3-compatible server (moto's standalone server) with one bucket, for development and tests.

    python -m project.s3server --host 127.0.0.1 --port 9000 --bucket animate-media

It starts moto's server, creates the bucket, prints one line saying where it listens
(``S3 server listening on http://HOST:PORT bucket=NAME``) and runs until SIGTERM or Ctrl-C. Objects
live in this process's memory: they are gone when it stops. Point the app at it with
``AWS_STORAGE_BUCKET_NAME=NAME AWS_S3_ENDPOINT_URL=http://HOST:PORT`` and any access key (moto accepts
every key). moto comes with the test extras (``make test-venv``); a real deployment uses a real bucket.
"""

import argparse
import signal
import sys
import threading
from types import FrameType

DEFAULT_REGION = "us-east-1"
# moto accepts any credentials; these are what the server itself uses to create the bucket.
LOCAL_KEY = "animate-local"


def create_bucket(endpoint: str, bucket: str, *, region: str = DEFAULT_REGION) -> None:
    import boto3

    client = boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name=region,
        aws_access_key_id=LOCAL_KEY,
        aws_secret_access_key=LOCAL_KEY,
    )
    if region == DEFAULT_REGION:
        client.create_bucket(Bucket=bucket)
    else:
        client.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": region})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9000, help="0 picks a free port")
    parser.add_argument("--bucket", default="animate-media")
    parser.add_argument("--region", default=DEFAULT_REGION)
    args = parser.parse_args(argv)

    import logging

    from moto.server import ThreadedMotoServer

    # One line per request on stderr would drown the topology's output; errors still show.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)

    server = ThreadedMotoServer(ip_address=args.host, port=args.port, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        create_bucket(endpoint, args.bucket, region=args.region)
        print(f"S3 server listening on {endpoint} bucket={args.bucket}", flush=True)
        stop.wait()
    finally:
        server.stop()
    print("S3 server stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
