"""The ports tests name for the server processes they start (``tests/ports.py``)."""

from __future__ import annotations

import socket

from tests.ports import EPHEMERAL, LOW, free_port


def test_a_free_port_lies_below_the_ephemeral_range_and_can_be_bound():
    ephemeral_low = int(EPHEMERAL.read_text().split()[0])
    port = free_port()

    assert LOW <= port < ephemeral_low
    with socket.socket() as server:
        server.bind(("127.0.0.1", port))
        server.listen()


def test_a_port_the_kernel_picks_for_port_zero_is_never_one_of_them():
    ephemeral_low = int(EPHEMERAL.read_text().split()[0])
    with socket.socket() as anyone:
        anyone.bind(("127.0.0.1", 0))
        assert anyone.getsockname()[1] >= ephemeral_low
