"""An in-process HTTP server on a unix socket (or TLS on 127.0.0.1) that
plays orch's controller: routes answer from a table, every request is
recorded, unknown routes answer like api/handler.go does."""
import json
import os
import socket
import ssl
import tempfile
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from socketserver import ThreadingUnixStreamServer
from typing import Any, Callable, Dict, List, NamedTuple, Optional, Tuple, Union

Answer = Tuple[int, Any]  # (status, JSON-able object or raw bytes)


class Request(NamedTuple):
    method: str
    path: str            # raw path, still %-escaped
    query: Dict[str, str]
    body: Any
    headers: Dict[str, str]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'
    server: Any

    def log_message(self, fmt: str, *args: Any) -> None:
        pass

    def address_string(self) -> str:
        return 'local'

    def _handle(self) -> None:
        u = urllib.parse.urlsplit(self.path)
        n = int(self.headers.get('Content-Length') or 0)
        raw = self.rfile.read(n) if n else b''
        body = json.loads(raw) if raw else None
        req = Request(self.command, u.path, dict(urllib.parse.parse_qsl(u.query, keep_blank_values=True)),
                      body, {k.lower(): v for k, v in self.headers.items()})
        fake: 'FakeController' = self.server.fake
        fake.requests.append(req)
        route = fake.routes.get((self.command, u.path))
        if route is None:
            status, obj = 404, {'error': f'no such API route: {self.command} {u.path}', 'errno': 2,
                                'errno_name': 'ENOENT'}
        else:
            status, obj = route(req) if callable(route) else route
        if obj is _HANGUP:
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        data = obj if isinstance(obj, bytes) else json.dumps(obj).encode()
        try:
            self.send_response(status)
            self.send_header('Content-Type', 'application/json')
            self.send_header('Content-Length', str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a timeout test)

    do_GET = do_POST = do_DELETE = do_PUT = _handle


_HANGUP = object()


class _UnixServer(ThreadingUnixStreamServer):
    daemon_threads = True

    def get_request(self) -> Any:
        req, _ = super().get_request()
        return req, ('local', 0)


class _TLSServer(ThreadingHTTPServer):
    daemon_threads = True


class FakeController:
    """Use as a context manager; `url` is what api_url should be set to."""

    HANGUP = _HANGUP

    def __init__(self, tls: Optional[ssl.SSLContext] = None) -> None:
        self.routes: Dict[Tuple[str, str], Union[Answer, Callable[[Request], Answer]]] = {}
        self.requests: List[Request] = []
        self._tls = tls
        self._closed = False
        self._dir = tempfile.mkdtemp(prefix='orch-mgr-test-')
        if tls is None:
            self.socket_path = os.path.join(self._dir, 'orch.sock')
            self._srv: Any = _UnixServer(self.socket_path, _Handler)
            self.url = 'unix://' + self.socket_path
        else:
            self._srv = _TLSServer(('127.0.0.1', 0), _Handler)
            self._srv.socket = tls.wrap_socket(self._srv.socket, server_side=True)
            self.url = f'https://127.0.0.1:{self._srv.server_address[1]}'
        self._srv.fake = self
        self._thread = threading.Thread(target=self._srv.serve_forever, args=(0.02,), daemon=True)

    def route(self, method: str, path: str, answer: Union[Answer, Callable[[Request], Answer]]) -> None:
        self.routes[(method, path)] = answer

    def last(self) -> Request:
        return self.requests[-1]

    def __enter__(self) -> 'FakeController':
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._closed:
            return
        self._closed = True
        self._srv.shutdown()
        self._srv.server_close()
        self._thread.join(5)
        if self._tls is None and os.path.exists(self.socket_path):
            os.unlink(self.socket_path)
        os.rmdir(self._dir)
