"""project/s3server.py: a local S3-compatible server with the bucket made, stopped cleanly by SIGTERM."""

import httpx

from tests.s3kit import start_s3_server, stop_s3_server


def test_the_server_makes_its_bucket_says_where_it_listens_and_stops_on_sigterm():
    server = start_s3_server(bucket="s3server-check")
    try:
        client = server.client()
        assert "s3server-check" in [bucket["Name"] for bucket in client.list_buckets()["Buckets"]]
        client.put_object(Bucket="s3server-check", Key="k", Body=b"v")
        assert client.get_object(Bucket="s3server-check", Key="k")["Body"].read() == b"v"
    finally:
        assert stop_s3_server(server) == 0
    assert server.process.stdout.read().strip() == "S3 server stopped"
    try:
        httpx.get(server.endpoint, timeout=1)
    except httpx.TransportError:
        pass
    else:
        raise AssertionError("the server still answers after SIGTERM")
