"""Server memory (RSS) growth while it takes a 500 MB upload, and while 4 hostile clients each send a
250 MB body to a webhook URL at the same time (with a declared length, then chunked).

The server's RSS is sampled every 10 ms from /proc during each case; growth is the peak over the RSS just
before it. Target (DESIGN.md / issue): < 64 MB growth each.
With ``--s3`` the server keeps media in an S3 bucket (``project.s3server``, moto's, started here) and the
upload is a real video padded to the size (a trailing ``free`` box), so it is probed, given a poster and
sent on to the bucket as a multipart upload: the whole path a 500 MB upload takes.
Run: .venv/bin/python -m bench.upload_memory [--upload-mb 500] [--hostile-mb 250] [--clients 4] [--s3]
"""

import argparse
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx

from bench._harness import scratch_dir, server, setup_django
from bench.fixtures import make_team_and_generations

MB = 1024 * 1024
CHUNK = b"\0" * (256 * 1024)


def rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS")


def growth_during(pid: int, work: Callable[[], str]) -> tuple[int, str]:
    """Run ``work`` while sampling the server's RSS; (peak growth in bytes, what ``work`` reported)."""
    time.sleep(0.5)
    before = rss(pid)
    peak = before
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, rss(pid))
            time.sleep(0.01)

    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        outcome = work()
        time.sleep(0.3)  # what the server does right after answering counts too
    finally:
        done.set()
        sampler.join()
    return peak - before, outcome


def upload(url: str, token: str, size: int) -> str:
    boundary = "benchboundary7d1f"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.mp4"\r\n'
        "Content-Type: video/mp4\r\n\r\n"
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()

    def body() -> Iterator[bytes]:
        yield head
        sent = 0
        while sent < size:
            piece = CHUNK[: min(len(CHUNK), size - sent)]
            sent += len(piece)
            yield piece
        yield tail

    started = time.perf_counter()
    response = httpx.post(
        f"{url}/api/assets/?kind=video",
        content=body(),
        headers={
            "Authorization": f"Token {token}",
            "Content-Type": f"multipart/form-data; boundary={boundary}",
            "Content-Length": str(len(head) + size + len(tail)),
        },
        timeout=600,
    )
    # The bytes are not a video: the answer is 400 naming the file, after all of it was received and parsed.
    return f"answered {response.status_code} after {time.perf_counter() - started:.1f} s"


def video_upload(url: str, token: str, size: int) -> str:
    """A real clip padded to ``size`` bytes by a trailing ``free`` box: accepted, probed and stored."""
    from animate.samples import make_driving_video

    with tempfile.TemporaryDirectory() as folder:
        clip = make_driving_video(Path(folder) / "clip.mp4", seconds=1.0, fps=8, width=160, height=240)
        video = clip.read_bytes()
    padding = size - len(video)
    boundary = "benchboundary7d1f"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.mp4"\r\n'
        "Content-Type: video/mp4\r\n\r\n"
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()

    def body() -> Iterator[bytes]:
        yield head + video + struct.pack(">I", padding) + b"free"
        sent = 8
        while sent < padding:
            piece = CHUNK[: min(len(CHUNK), padding - sent)]
            sent += len(piece)
            yield piece
        yield tail

    started = time.perf_counter()
    response = httpx.post(
        f"{url}/api/assets/?kind=video",
        content=body(),
        headers={
            "Authorization": f"Token {token}",
            "Content-Type": f"multipart/form-data; boundary={boundary}",
            "Content-Length": str(len(head) + size + len(tail)),
        },
        timeout=900,
    )
    return f"answered {response.status_code} after {time.perf_counter() - started:.1f} s"


def start_s3() -> tuple[subprocess.Popen, dict[str, str]]:
    command = [sys.executable, "-m", "project.s3server", "--port", "0", "--bucket", "bench-media"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    line = process.stdout.readline() if process.stdout else ""
    endpoint = line.split("listening on ", 1)[1].split()[0]
    return process, {
        "AWS_STORAGE_BUCKET_NAME": "bench-media",
        "AWS_S3_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_S3_REGION_NAME": "us-east-1",
    }


def hostile(port: int, path: str, size: int, *, chunked: bool) -> str:
    framing = "Transfer-Encoding: chunked" if chunked else f"Content-Length: {size}"
    head = f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
    head += f"Content-Type: application/json\r\n{framing}\r\n\r\n"
    sent = 0
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(head.encode())
        try:
            while sent < size:
                piece = CHUNK if not chunked else b"%x\r\n" % len(CHUNK) + CHUNK + b"\r\n"
                sock.sendall(piece)
                sent += len(CHUNK)
        except OSError:
            pass  # refused: the server closed the connection
        try:
            answer = sock.recv(4096).split(b"\r\n", 1)[0].decode()
        except OSError:
            answer = "connection closed"
    return f"{answer or 'connection closed'} after {sent / MB:.1f} MB sent"


def parallel(count: int, work: Callable[[], str]) -> str:
    outcomes: list[str] = []
    threads = [threading.Thread(target=lambda: outcomes.append(work())) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return "; ".join(sorted(set(outcomes)))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--upload-mb", type=int, default=500)
    parser.add_argument("--hostile-mb", type=int, default=250)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--s3", action="store_true", help="media in a local S3 bucket; a real video upload")
    args = parser.parse_args()
    s3_process, s3_env = start_s3() if args.s3 else (None, {})
    try:
        run(args, s3_env)
    finally:
        if s3_process is not None:
            s3_process.terminate()
            s3_process.wait(15)


def run(args: argparse.Namespace, s3_env: dict[str, str]) -> None:
    with scratch_dir() as tmp:
        env = setup_django(tmp, s3_env)
        user, generations = make_team_and_generations(tmp, 1)
        generation, _ = generations[0]
        from rest_framework.authtoken.models import Token

        token = Token.objects.create(user=user).key
        pids: list[int] = []
        with server(env, pids=pids) as url:
            pid, port = pids[0], int(url.rsplit(":", 1)[1])
            hook = f"/hooks/runware/{generation.pk}/any-secret-at-all/"
            cases = [
                (
                    f"{args.upload_mb} MB video upload into the S3 bucket"
                    if args.s3
                    else f"{args.upload_mb} MB upload",
                    lambda: (video_upload if args.s3 else upload)(url, token, args.upload_mb * MB),
                ),
                (
                    f"{args.clients} x {args.hostile_mb} MB webhook bodies, declared length",
                    lambda: parallel(
                        args.clients, lambda: hostile(port, hook, args.hostile_mb * MB, chunked=False)
                    ),
                ),
                (
                    f"{args.clients} x {args.hostile_mb} MB webhook bodies, chunked",
                    lambda: parallel(
                        args.clients, lambda: hostile(port, hook, args.hostile_mb * MB, chunked=True)
                    ),
                ),
            ]
            if args.s3:
                # The first bucket call loads botocore's S3 service model (tens of MB, once per process):
                # paid by a small upload first, so what is measured is what an upload costs.
                print(f"warm-up: 2 MB video upload {video_upload(url, token, 2 * MB)}")
            for name, work in cases:
                grown, outcome = growth_during(pid, work)
                verdict = "OK" if grown < 64 * MB else "ABOVE TARGET"
                print(f"{name}: server RSS grew {grown / MB:.1f} MB (target < 64 MB) {verdict} [{outcome}]")


if __name__ == "__main__":
    main()
