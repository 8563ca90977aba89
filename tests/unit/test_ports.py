"""Telling whether a lab port is free, and who holds it."""

from __future__ import annotations

import os
import socket

from dialer.asterisk.ports import Port, holder, is_free


def test_a_bound_udp_port_is_taken_and_its_holder_named() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = Port("udp", "127.0.0.1", sock.getsockname()[1], "test", "X")
        assert not is_free(port)
        assert holder(port).startswith(f"pid {os.getpid()} (")
    assert is_free(port)


def test_a_listening_tcp_port_is_taken() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = Port("tcp", "127.0.0.1", sock.getsockname()[1], "test", "X")
        assert not is_free(port)
        assert holder(port).startswith(f"pid {os.getpid()} ")
    assert str(port) == f"TCP 127.0.0.1:{port.number}"
