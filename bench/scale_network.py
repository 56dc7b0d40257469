"""The network of `make scale` (bench/scale.py): two app hosts in network namespaces of their
own, or on loopback addresses where namespaces cannot be made, and HAProxy in front of them
(health-checking /readyz) and behind them (TCP relays to PostgreSQL and Redis, which listen on
127.0.0.1 only: the machine's PostgreSQL configuration is not ours to change)."""

from __future__ import annotations

import csv
import os
import socket
import subprocess
import time
from dataclasses import dataclass

HAPROXY = "/usr/sbin/haproxy"
APP_PORT = 8000
NAMESPACES = ("cosign-scale-a", "cosign-scale-b")


def _run(*argv: str) -> None:
    subprocess.run(argv, check=True, capture_output=True)  # noqa: S603 (our own argv)


def say(what: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {what}", flush=True)


# --- The two hosts' network ---------------------------------------------------------------------


@dataclass(frozen=True)
class Host:
    name: str
    address: str  # where gunicorn listens
    gateway: str  # where it reaches PostgreSQL and Redis
    namespace: str | None

    def prefix(self) -> list[str]:
        return ["ip", "netns", "exec", self.namespace] if self.namespace else []


def network_remove() -> None:
    """Namespaces (and with them the veth pairs) of this or a crashed earlier run."""
    for i, namespace in enumerate(NAMESPACES, 1):
        subprocess.run(["ip", "netns", "del", namespace], capture_output=True)  # noqa: S603, S607
        subprocess.run(["ip", "link", "del", f"cscale{i}r"], capture_output=True)  # noqa: S603, S607


def network_make() -> tuple[list[Host], str]:
    """Two hosts in namespaces of their own, or on two loopback addresses where that fails."""
    network_remove()
    try:
        # SCALE_NETNS=0 tries the fallback on a machine that has namespaces.
        if os.environ.get("SCALE_NETNS", "1") in ("", "0"):
            raise FileNotFoundError("SCALE_NETNS=0")
        hosts = []
        for i, namespace in enumerate(NAMESPACES, 1):
            root, inside = f"cscale{i}r", f"cscale{i}n"
            _run("ip", "netns", "add", namespace)
            _run("ip", "link", "add", root, "type", "veth", "peer", "name", inside)
            _run("ip", "link", "set", inside, "netns", namespace)
            _run("ip", "addr", "add", f"10.231.{i}.1/24", "dev", root)
            _run("ip", "link", "set", root, "up")
            for step in (
                ["ip", "addr", "add", f"10.231.{i}.2/24", "dev", inside],
                ["ip", "link", "set", inside, "up"],
                ["ip", "link", "set", "lo", "up"],
            ):
                _run("ip", "netns", "exec", namespace, *step)
            hosts.append(Host(f"host-{'ab'[i - 1]}", f"10.231.{i}.2", f"10.231.{i}.1", namespace))
        return hosts, "two network namespaces (ip netns), veth pairs 10.231.1.0/24, 10.231.2.0/24"
    except (subprocess.CalledProcessError, FileNotFoundError) as error:
        network_remove()
        say(f"ip netns failed ({error}); FALLING BACK to loopback addresses 127.0.0.2, 127.0.0.3")
        hosts = [
            Host(f"host-{c}", f"127.0.0.{i}", "127.0.0.1", None) for c, i in (("a", 2), ("b", 3))
        ]
        return hosts, f"NO namespaces ({error}): two loopback addresses 127.0.0.2, 127.0.0.3"


# --- HAProxy -------------------------------------------------------------------------------------

HAPROXY_CONFIG = """\
global
    stats socket {stats} mode 600 level admin
    maxconn 4000
defaults
    mode http
    option forwardfor
    option http-buffer-request
    timeout http-request 10s
    timeout connect 1s
    timeout client 30s
    timeout server 30s
    timeout check 2s
    # A connection refused by a dead host is tried once more, on the other one.
    retries 2
    option redispatch
frontend web
    bind 127.0.0.1:{port}
    default_backend cosign
backend cosign
    balance roundrobin
    option httpchk GET /readyz
    http-check expect status 200
{servers}
{relays}"""

RELAY = """\
listen {name}
    mode tcp
    bind {bind}
    timeout client 1h
    timeout server 1h
    server upstream {upstream}
"""


def haproxy_config(
    *, port: int, stats: str, hosts: list[Host], redis_port: int, pg_port: int
) -> str:
    servers = "\n".join(
        f"    server {h.name} {h.address}:{APP_PORT} check inter 500ms fall 2 rise 2" for h in hosts
    )
    relays = ""
    for host in hosts:
        if host.namespace is None:
            continue
        for what, port_ in (("pg", pg_port), ("redis", redis_port)):
            relays += RELAY.format(
                name=f"{what}-{host.name}",
                bind=f"{host.gateway}:{port_}",
                upstream=f"127.0.0.1:{port_}",
            )
    return HAPROXY_CONFIG.format(port=port, stats=stats, servers=servers, relays=relays)


def haproxy_command(stats: str, command: str) -> str:
    with socket.socket(socket.AF_UNIX) as sock:
        sock.connect(stats)
        sock.sendall(command.encode() + b"\n")
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    return answer.decode()


def haproxy_states(stats: str) -> dict[str, str]:
    rows = csv.DictReader(haproxy_command(stats, "show stat").removeprefix("# ").splitlines())
    return {
        row["svname"]: row["status"]
        for row in rows
        if row["pxname"] == "cosign" and row["svname"] not in ("FRONTEND", "BACKEND")
    }
