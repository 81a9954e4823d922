"""HTTP client for orch's controller API (standard library only).

The controller listens on a unix socket (``unix:///run/orch/orch.sock``) and,
optionally, on TCP with mutual TLS (``https://host:port``).  Every failure is
turned into an exception the ``orchestrator`` module can unpickle in its own
sub-interpreter: ``OrchestratorError`` with a negative errno, or
``NotImplementedError`` when the controller has no route for the request (an
older controller), which the CLI prints as "This Orchestrator does not
support `orch ...`".
"""
import errno
import http.client
import json
import os
import socket
import ssl
import stat
import time
import urllib.parse
from typing import Any, Mapping, NamedTuple, Optional

from orchestrator import OrchestratorError

# A controller answer larger than this is refused rather than read into the
# mgr's memory (1,000 hosts x 10 daemons of `orch ps` JSON is about 10 MiB).
MAX_RESPONSE_BYTES = 256 << 20

# The controller answers an unknown route with ENOENT and this message prefix
# (api/handler.go); Go's ServeMux answers 405 for a known path with another
# method.  Both mean "this controller does not have that API yet".
_NO_ROUTE_PREFIX = 'no such API route'

_STATUS_ERRNO = {
    400: errno.EINVAL,
    401: errno.EACCES,
    403: errno.EACCES,
    404: errno.ENOENT,
    409: errno.EEXIST,
    501: errno.ENOTSUP,
    502: errno.EHOSTUNREACH,
    503: errno.EAGAIN,
    504: errno.ETIMEDOUT,
}


class Settings(NamedTuple):
    """The module options that shape a connection."""
    api_url: str
    timeout: float = 60.0
    client_cert: str = ''
    client_key: str = ''
    ca_cert: str = ''
    tls_server_name: str = ''


def _reject_constant(name: str) -> Any:
    # json.loads accepts NaN and Infinity by default; JSON does not.
    raise ValueError(f'invalid JSON constant {name}')


def loads_strict(raw: bytes) -> Any:
    """Parse a JSON document, refusing NaN/Infinity and invalid UTF-8."""
    return json.loads(raw.decode('utf-8'), parse_constant=_reject_constant)


class _UnixHTTPConnection(http.client.HTTPConnection):
    """HTTP/1.1 over a unix stream socket."""

    def __init__(self, path: str, timeout: float) -> None:
        super().__init__('localhost', timeout=timeout)
        self._path = path

    def connect(self) -> None:
        # With a timeout the socket is non-blocking, and connect() on a unix
        # socket whose listen backlog is full fails at once with EAGAIN
        # instead of waiting: retry until the timeout.
        deadline = time.monotonic() + (self.timeout or 0)
        delay = 0.005
        while True:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                s.settimeout(self.timeout)
                s.connect(self._path)
                self.sock = s
                return
            except BlockingIOError:
                s.close()
                if time.monotonic() + delay > deadline:
                    raise socket.timeout('connect: the controller\'s listen backlog stayed full')
                time.sleep(delay)
                delay = min(delay * 2, 0.2)
            except BaseException:
                s.close()
                raise


class _TLSConnection(http.client.HTTPSConnection):
    """HTTPS whose certificate check may use a name other than the host
    dialled (the controller's certificate names its DNS name or IP)."""

    def __init__(self, host: str, port: int, timeout: float,
                 context: ssl.SSLContext, server_name: str) -> None:
        super().__init__(host, port, timeout=timeout, context=context)
        self._server_name = server_name or host
        self._ctx = context

    def connect(self) -> None:
        sock = socket.create_connection((self.host, self.port), self.timeout)
        try:
            self.sock = self._ctx.wrap_socket(sock, server_hostname=self._server_name)
        except BaseException:
            sock.close()
            raise


def _check_key_file(path: str) -> None:
    """Refuse a client key that other users can read (as ssh does)."""
    try:
        st = os.stat(path)
    except OSError as e:
        raise OrchestratorError(f'cannot read client_key {path}: {e.strerror}',
                                errno=-errno.EACCES)
    if st.st_mode & (stat.S_IROTH | stat.S_IWOTH):
        raise OrchestratorError(
            f'client_key {path} is accessible by other users (mode {stat.S_IMODE(st.st_mode):04o}); '
            f'chmod 0600 or 0640 it', errno=-errno.EACCES)


class Endpoint:
    """Where the controller listens, parsed from the api_url option."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        url = (settings.api_url or '').strip()
        self.url = url
        u = urllib.parse.urlsplit(url)
        if u.scheme == 'unix':
            # unix:///abs/path (netloc empty); accept unix:/abs/path too.
            path = urllib.parse.unquote(u.path)
            if u.netloc or not path.startswith('/'):
                raise OrchestratorError(
                    f'invalid api_url {url!r}: want unix:///absolute/path/to/orch.sock',
                    errno=-errno.EINVAL)
            self.kind, self.path = 'unix', path
            self.host, self.port = '', 0
        elif u.scheme == 'https':
            if not u.hostname:
                raise OrchestratorError(f'invalid api_url {url!r}: no host', errno=-errno.EINVAL)
            try:
                port = u.port or 443
            except ValueError:
                raise OrchestratorError(f'invalid api_url {url!r}: bad port', errno=-errno.EINVAL)
            if u.path not in ('', '/'):
                raise OrchestratorError(f'invalid api_url {url!r}: no path expected', errno=-errno.EINVAL)
            if not (settings.client_cert and settings.client_key):
                raise OrchestratorError(
                    f'api_url {url} needs client_cert and client_key (the controller requires '
                    f'mutual TLS on TCP)', errno=-errno.EINVAL)
            self.kind, self.path = 'https', ''
            self.host, self.port = u.hostname, port
        else:
            raise OrchestratorError(
                f'invalid api_url {url!r}: want unix:///path/to/orch.sock or https://host:port',
                errno=-errno.EINVAL)

    def _tls_context(self) -> ssl.SSLContext:
        s = self.settings
        _check_key_file(s.client_key)
        try:
            ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=s.ca_cert or None)
            ctx.minimum_version = ssl.TLSVersion.TLSv1_2
            ctx.load_cert_chain(s.client_cert, s.client_key)
        except (OSError, ssl.SSLError) as e:
            raise OrchestratorError(f'cannot load TLS files (client_cert={s.client_cert}, '
                                    f'client_key={s.client_key}, ca_cert={s.ca_cert or "system"}): {e}',
                                    errno=-errno.EINVAL)
        return ctx

    def connection(self) -> http.client.HTTPConnection:
        t = float(self.settings.timeout)
        if self.kind == 'unix':
            return _UnixHTTPConnection(self.path, t)
        return _TLSConnection(self.host, self.port, t, self._tls_context(),
                              self.settings.tls_server_name)


def _errno_for_transport(e: BaseException) -> int:
    if isinstance(e, (socket.timeout, TimeoutError)):
        return errno.ETIMEDOUT
    if isinstance(e, PermissionError):
        return errno.EACCES
    return errno.EHOSTUNREACH


class Client:
    """One request per connection; safe for concurrent use (no shared state)."""

    def __init__(self, settings: Settings) -> None:
        self.endpoint = Endpoint(settings)

    def request(self, method: str, path: str,
                query: Optional[Mapping[str, Any]] = None, body: Any = None) -> Any:
        """Send one request and return the decoded JSON answer (None if empty).

        Raises OrchestratorError (errno < 0) for controller errors and
        transport failures, NotImplementedError for a route the controller
        does not have.
        """
        target = path
        if query:
            q = {k: _qval(v) for k, v in query.items() if v is not None}
            if q:
                target += '?' + urllib.parse.urlencode(q)
        headers = {'Accept': 'application/json', 'User-Agent': 'ceph-mgr-orch/1'}
        data = None
        if body is not None:
            try:
                data = json.dumps(body, allow_nan=False).encode('utf-8')
            except (TypeError, ValueError) as e:
                raise OrchestratorError(f'cannot encode request for {method} {path}: {e}',
                                        errno=-errno.EINVAL)
            headers['Content-Type'] = 'application/json'
        where = self.endpoint.url
        timeout = self.endpoint.settings.timeout
        conn = self.endpoint.connection()
        try:
            conn.request(method, target, body=data, headers=headers)
            resp = conn.getresponse()
            raw = resp.read(MAX_RESPONSE_BYTES + 1)
            status = resp.status
        except ssl.SSLError as e:
            raise OrchestratorError(f'TLS with the orch controller at {where} failed: {e}',
                                    errno=-errno.EHOSTUNREACH)
        except (socket.timeout, TimeoutError):
            raise OrchestratorError(f'the orch controller at {where} did not answer {method} {path} '
                                    f'within {timeout:g}s', errno=-errno.ETIMEDOUT)
        except (OSError, http.client.HTTPException) as e:
            msg = e.strerror if isinstance(e, OSError) and e.strerror else (str(e) or type(e).__name__)
            raise OrchestratorError(f'orch controller unreachable at {where}: {msg}',
                                    errno=-_errno_for_transport(e))
        finally:
            conn.close()
        if len(raw) > MAX_RESPONSE_BYTES:
            raise OrchestratorError(f'{method} {path}: answer larger than {MAX_RESPONSE_BYTES} bytes',
                                    errno=-errno.EPROTO)
        if status >= 400:
            raise _api_error(method, path, status, raw)
        if not raw:
            return None
        try:
            return loads_strict(raw)
        except ValueError as e:
            raise OrchestratorError(f'{method} {path}: the controller answered HTTP {status} with '
                                    f'invalid JSON ({e}): {raw[:200]!r}', errno=-errno.EPROTO)


def _qval(v: Any) -> str:
    if isinstance(v, bool):
        return 'true' if v else 'false'
    if isinstance(v, (list, tuple)):
        return ','.join(str(x) for x in v)
    return str(v)


def _api_error(method: str, path: str, status: int, raw: bytes) -> BaseException:
    payload: Any = None
    try:
        payload = loads_strict(raw) if raw else None
    except ValueError:
        pass
    if isinstance(payload, dict) and isinstance(payload.get('error'), str):
        msg = payload['error']
        code = payload.get('errno')
        if not isinstance(code, int) or isinstance(code, bool) or code == 0:
            code = _STATUS_ERRNO.get(status, errno.EIO)
        code = abs(code)
        if code == errno.ENOENT and msg.startswith(_NO_ROUTE_PREFIX):
            return NotImplementedError(f'the orch controller has no API route {method} {path}')
        return OrchestratorError(msg, errno=-code)
    # Not the controller's error shape: a proxy, or a route Go's mux refused.
    if status in (404, 405):
        return NotImplementedError(f'the orch controller has no API route {method} {path} (HTTP {status})')
    text = raw[:200].decode('utf-8', 'replace').strip()
    return OrchestratorError(f'{method} {path}: HTTP {status}: {text or http.client.responses.get(status, "")}',
                             errno=-_STATUS_ERRNO.get(status, errno.EIO))
