"""The request store when PostgreSQL goes away: a proxy between the store and the server is cut
while a request is confirmed, and the store recovers once it is back. Only PostgreSQL is reached
over the network, so this runs on PostgreSQL only (marked `db`; skipped, saying why, where it does
not answer). The rest of the store's faults are in tests/unit/test_store_faults.py."""

import socket
import threading
import time

import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

import bot.requests.store as store_module
from tests.support.stores import NOTHING, ONE_REQUEST, closed_port, confirm, counts, new_store

pytestmark = [pytest.mark.db, pytest.mark.usefixtures("default_rate_limits")]


class TcpProxy:
    """Forwards a local port to PostgreSQL; `cut()` drops every connection and stops listening
    (the database is gone), `restore()` listens again on the same port."""

    def __init__(self, target_port):
        self.target_port = target_port
        self.port = closed_port()
        self.sockets = []
        self.listener = None

    def restore(self):
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", self.port))
        self.listener.listen(64)
        threading.Thread(target=self._accept, args=(self.listener,), daemon=True).start()

    def _accept(self, listener):
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.target_port))
            self.sockets += [client, upstream]
            for source, target in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, target), daemon=True).start()

    @staticmethod
    def _pump(source, target):
        try:
            while data := source.recv(65536):
                target.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, target):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def cut(self):
        try:
            self.listener.shutdown(socket.SHUT_RDWR)  # wakes the accepting thread; stops listening
        except OSError:
            pass
        self.listener.close()
        for sock in self.sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()
        self.sockets.clear()


@pytest.fixture
def proxied(database_url):
    """A store that reaches PostgreSQL through a proxy the test can cut, and the direct URL."""
    url = make_url(database_url)
    proxy = TcpProxy(url.port or 5432)
    proxy.restore()
    store = new_store(
        str(url.set(host="127.0.0.1", port=proxy.port, query={"connect_timeout": "2"}))
    )
    yield store, proxy, database_url
    store.engine.dispose()
    proxy.cut()


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)  # a network fault
def test_database_gone_at_submit_time_then_back(proxied):
    store, proxy, direct = proxied
    assert confirm(store, 0).created  # connections in the pool now
    proxy.cut()
    started = time.monotonic()
    with pytest.raises(OperationalError):
        confirm(store, 1)
    assert time.monotonic() - started < 5
    assert counts(direct) == {**NOTHING, "privacy_requests": 1, "request_events": 1, "outbox": 1}

    proxy.restore()
    result = confirm(store, 1)  # the same call, once the database is back
    assert result.created
    assert counts(direct)["privacy_requests"] == 2 and counts(direct)["outbox"] == 2


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)  # a network fault
def test_connection_lost_in_the_middle_of_a_submit_leaves_nothing(proxied, monkeypatch):
    store, proxy, direct = proxied
    real_enqueue = store_module.enqueue

    def enqueue_as_the_network_fails(session, *args, **kwargs):
        proxy.cut()  # the request and its event are written; the outbox row never makes it
        return real_enqueue(session, *args, **kwargs)

    monkeypatch.setattr(store_module, "enqueue", enqueue_as_the_network_fails)
    with pytest.raises(OperationalError):
        confirm(store, 7)
    assert counts(direct) == NOTHING

    monkeypatch.setattr(store_module, "enqueue", real_enqueue)
    proxy.restore()
    assert confirm(store, 7).created
    assert counts(direct) == ONE_REQUEST
