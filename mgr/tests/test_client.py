"""The HTTP client: request encoding, error mapping, transports."""
import errno
import os
import pickle
import shutil
import socket
import ssl
import subprocess
import tempfile
import threading
import unittest

from orchestrator import OrchestratorError

from orch_mgr import client as client_mod
from orch_mgr.client import Client, Settings

from .fakeserver import FakeController


def _client(url: str, **kw) -> Client:
    return Client(Settings(api_url=url, timeout=kw.pop('timeout', 5.0), **kw))


class RequestEncodingTest(unittest.TestCase):
    def test_query_body_and_headers(self) -> None:
        with FakeController() as fake:
            fake.route('POST', '/x', (200, {'ok': True}))
            out = _client(fake.url).request('POST', '/x', query={'a': True, 'b': False, 'c': None,
                                                                 'hosts': ['n1', 'n2'], 'n': 3},
                                            body={'specs': [{'service_type': 'mon'}]})
            self.assertEqual(out, {'ok': True})
            r = fake.last()
            self.assertEqual(r.query, {'a': 'true', 'b': 'false', 'hosts': 'n1,n2', 'n': '3'})
            self.assertEqual(r.body, {'specs': [{'service_type': 'mon'}]})
            self.assertEqual(r.headers['content-type'], 'application/json')
            self.assertEqual(r.headers['accept'], 'application/json')

    def test_get_has_no_body_and_empty_answer_is_none(self) -> None:
        with FakeController() as fake:
            fake.route('GET', '/empty', (200, b''))
            self.assertIsNone(_client(fake.url).request('GET', '/empty'))
            self.assertIsNone(fake.last().body)
            self.assertNotIn('content-type', fake.last().headers)

    def test_unencodable_body_is_einval(self) -> None:
        with FakeController() as fake:
            with self.assertRaises(OrchestratorError) as cm:
                _client(fake.url).request('POST', '/x', body={'v': float('nan')})
            self.assertEqual(cm.exception.errno, -errno.EINVAL)
            self.assertEqual(fake.requests, [])


class ErrorMappingTest(unittest.TestCase):
    def call(self, answer, method='GET', path='/r'):
        with FakeController() as fake:
            fake.route(method, path, answer)
            return _client(fake.url).request(method, path)

    def assertOrchError(self, answer, code: int, msg: str) -> OrchestratorError:
        with self.assertRaises(OrchestratorError) as cm:
            self.call(answer)
        self.assertEqual(cm.exception.errno, -code)
        self.assertEqual(str(cm.exception), msg)
        # it must survive the trip to the orchestrator's sub-interpreter
        back = pickle.loads(pickle.dumps(cm.exception))
        self.assertEqual((back.errno, str(back)), (-code, msg))
        return cm.exception

    def test_controller_errors_keep_message_and_errno(self) -> None:
        self.assertOrchError((400, {'error': 'bad host name', 'errno': 22, 'errno_name': 'EINVAL'}),
                             errno.EINVAL, 'bad host name')
        self.assertOrchError((404, {'error': 'host nosuch not found', 'errno': 2}),
                             errno.ENOENT, 'host nosuch not found')
        self.assertOrchError((502, {'error': 'node1: ssh: connection refused', 'errno': 113}),
                             errno.EHOSTUNREACH, 'node1: ssh: connection refused')
        # a negative errno on the wire is accepted as well
        self.assertOrchError((409, {'error': 'busy', 'errno': -16}), errno.EBUSY, 'busy')

    def test_errno_from_status_when_missing(self) -> None:
        self.assertOrchError((409, {'error': 'exists'}), errno.EEXIST, 'exists')
        self.assertOrchError((418, {'error': 'teapot', 'errno': 'x'}), errno.EIO, 'teapot')
        self.assertOrchError((501, {'error': 'no LEDs here', 'errno': 0}), errno.ENOTSUP, 'no LEDs here')

    def test_non_json_error(self) -> None:
        self.assertOrchError((500, b'<html>oops</html>'), errno.EIO, 'GET /r: HTTP 500: <html>oops</html>')
        self.assertOrchError((503, b''), errno.EAGAIN, 'GET /r: HTTP 503: Service Unavailable')

    def test_missing_route_is_not_implemented(self) -> None:
        with FakeController() as fake:
            with self.assertRaises(NotImplementedError) as cm:
                _client(fake.url).request('GET', '/services')
            self.assertIn('GET /services', str(cm.exception))
        with self.assertRaises(NotImplementedError):
            self.call((405, b'Method Not Allowed\n'))
        # an ENOENT about a thing, not a route, stays an OrchestratorError
        self.assertOrchError((404, {'error': 'Invalid service rgw.x', 'errno': 2}),
                             errno.ENOENT, 'Invalid service rgw.x')

    def test_bad_json_answers_are_eproto(self) -> None:
        for raw in (b'{"a": ', b'[NaN]', b'{"a": Infinity}', b'\xff\xfe'):
            with self.subTest(raw=raw):
                with self.assertRaises(OrchestratorError) as cm:
                    self.call((200, raw))
                self.assertEqual(cm.exception.errno, -errno.EPROTO)

    def test_oversized_answer_is_refused(self) -> None:
        old = client_mod.MAX_RESPONSE_BYTES
        client_mod.MAX_RESPONSE_BYTES = 10
        try:
            with self.assertRaises(OrchestratorError) as cm:
                self.call((200, [1, 2, 3, 4, 5, 6, 7, 8]))
            self.assertEqual(cm.exception.errno, -errno.EPROTO)
        finally:
            client_mod.MAX_RESPONSE_BYTES = old


class TransportTest(unittest.TestCase):
    def test_no_controller(self) -> None:
        d = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, d)
        url = f'unix://{d}/orch.sock'
        with self.assertRaises(OrchestratorError) as cm:
            _client(url).request('GET', '/hosts')
        self.assertEqual(cm.exception.errno, -errno.EHOSTUNREACH)
        self.assertEqual(str(cm.exception), f'orch controller unreachable at {url}: No such file or directory')

    def test_stale_socket_refused(self) -> None:
        d = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, d)
        s = socket.socket(socket.AF_UNIX)
        s.bind(f'{d}/orch.sock')
        s.close()  # a socket file nobody listens on (controller killed -9)
        with self.assertRaises(OrchestratorError) as cm:
            _client(f'unix://{d}/orch.sock').request('GET', '/hosts')
        self.assertEqual(cm.exception.errno, -errno.EHOSTUNREACH)
        self.assertIn('Connection refused', str(cm.exception))

    def test_connection_dropped(self) -> None:
        with FakeController() as fake:
            fake.route('GET', '/hosts', (200, FakeController.HANGUP))
            with self.assertRaises(OrchestratorError) as cm:
                _client(fake.url).request('GET', '/hosts')
            self.assertEqual(cm.exception.errno, -errno.EHOSTUNREACH)

    def test_timeout(self) -> None:
        d = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, d)
        path = f'{d}/orch.sock'
        srv = socket.socket(socket.AF_UNIX)
        srv.bind(path)
        srv.listen(1)  # accepts the connection, never answers
        self.addCleanup(srv.close)
        with self.assertRaises(OrchestratorError) as cm:
            _client('unix://' + path, timeout=0.3).request('GET', '/hosts')
        self.assertEqual(cm.exception.errno, -errno.ETIMEDOUT)
        self.assertIn('did not answer GET /hosts within 0.3s', str(cm.exception))

    def test_socket_not_accessible(self) -> None:
        # ceph-mgr runs as user ceph; the controller's socket is 0600 root.
        with FakeController() as fake:
            os.chmod(fake.socket_path, 0o600)
            if os.geteuid() != 0:
                with self.assertRaises(OrchestratorError) as cm:
                    _client(fake.url).request('GET', '/hosts')
                self.assertEqual((cm.exception.errno, str(cm.exception)),
                                 (-errno.EACCES, f'orch controller unreachable at {fake.url}: Permission denied'))
                return
            # as root: try from a child running as nobody
            code = ('import sys, tests; from orch_mgr.client import Client, Settings\n'
                    'from orchestrator import OrchestratorError\n'
                    'try:\n    Client(Settings(api_url=sys.argv[1])).request("GET", "/hosts")\n'
                    'except OrchestratorError as e:\n    print(e.errno, e)\n')
            os.chmod(os.path.dirname(fake.socket_path), 0o755)  # reach the socket file itself
            mgr_dir = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
            as_nobody = dict(cwd=mgr_dir, capture_output=True, text=True, user=65534, group=65534, timeout=60)
            if subprocess.run(['/usr/bin/python3', '-c', 'import tests'], **as_nobody).returncode != 0:
                self.skipTest(f'{mgr_dir} is not readable by nobody')
            out = subprocess.run(['/usr/bin/python3', '-c', code, fake.url], **as_nobody)
            self.assertEqual(out.stdout.strip(), f'-{errno.EACCES} orch controller unreachable at {fake.url}: '
                                                 f'Permission denied', out.stderr)
            self.assertEqual(fake.requests, [])

    def test_bad_urls(self) -> None:
        for url in ('http://127.0.0.1:1234', 'unix://relative/orch.sock', 'unix:orch.sock', '',
                    'https://:99', 'https://h:99/api', 'https://h:notaport'):
            with self.subTest(url=url):
                with self.assertRaises(OrchestratorError) as cm:
                    _client(url, client_cert='/c', client_key='/k')
                self.assertEqual(cm.exception.errno, -errno.EINVAL)
                self.assertIn('api_url', str(cm.exception))

    def test_https_needs_client_certificate(self) -> None:
        with self.assertRaises(OrchestratorError) as cm:
            _client('https://orch.example:8443')
        self.assertIn('needs client_cert and client_key', str(cm.exception))


def _openssl(*args: str, cwd: str) -> None:
    subprocess.run(['openssl', *args], cwd=cwd, check=True, capture_output=True)


@unittest.skipIf(shutil.which('openssl') is None, 'openssl(1) is needed to make test certificates')
class MutualTLSTest(unittest.TestCase):
    """TCP with mutual TLS, as `orch serve --listen` requires."""

    @classmethod
    def setUpClass(cls) -> None:
        cls.dir = d = tempfile.mkdtemp(prefix='orch-mgr-tls-')
        for ca in ('ca', 'otherca'):
            _openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
                     '-keyout', f'{ca}.key', '-out', f'{ca}.crt', '-days', '2', '-subj', f'/CN={ca}', cwd=d)

        def leaf(name: str, ca: str, ext: str) -> None:
            _openssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
                     '-keyout', f'{name}.key', '-out', f'{name}.csr', '-subj', f'/CN={name}', cwd=d)
            with open(os.path.join(d, f'{name}.ext'), 'w') as f:
                f.write(ext)
            _openssl('x509', '-req', '-in', f'{name}.csr', '-CA', f'{ca}.crt', '-CAkey', f'{ca}.key',
                     '-CAcreateserial', '-out', f'{name}.crt', '-days', '2', '-extfile', f'{name}.ext', cwd=d)

        leaf('server', 'ca', 'subjectAltName=DNS:orch.test,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n')
        leaf('client', 'ca', 'extendedKeyUsage=clientAuth\n')
        leaf('stranger', 'otherca', 'extendedKeyUsage=clientAuth\n')
        for f in os.listdir(d):
            if f.endswith('.key'):
                os.chmod(os.path.join(d, f), 0o600)

    @classmethod
    def tearDownClass(cls) -> None:
        shutil.rmtree(cls.dir)

    def p(self, name: str) -> str:
        return os.path.join(self.dir, name)

    def server_ctx(self) -> ssl.SSLContext:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_3
        ctx.load_cert_chain(self.p('server.crt'), self.p('server.key'))
        ctx.load_verify_locations(self.p('ca.crt'))
        ctx.verify_mode = ssl.CERT_REQUIRED
        return ctx

    def tls_client(self, url: str, who: str = 'client', ca: str = 'ca.crt', **kw) -> Client:
        return _client(url, client_cert=self.p(f'{who}.crt'), client_key=self.p(f'{who}.key'),
                       ca_cert=self.p(ca), **kw)

    def test_round_trip(self) -> None:
        with FakeController(tls=self.server_ctx()) as fake:
            fake.route('GET', '/hosts', (200, [{'hostname': 'n1'}]))
            self.assertEqual(self.tls_client(fake.url).request('GET', '/hosts'), [{'hostname': 'n1'}])

    def test_server_name_override(self) -> None:
        with FakeController(tls=self.server_ctx()) as fake:
            fake.route('GET', '/status', (200, {'available': True}))
            c = self.tls_client(fake.url, tls_server_name='orch.test')
            self.assertEqual(c.request('GET', '/status'), {'available': True})
            c = self.tls_client(fake.url, tls_server_name='other.test')
            with self.assertRaises(OrchestratorError) as cm:
                c.request('GET', '/status')
            self.assertIn('TLS with the orch controller', str(cm.exception))

    def test_untrusted_server(self) -> None:
        with FakeController(tls=self.server_ctx()) as fake:
            with self.assertRaises(OrchestratorError) as cm:
                self.tls_client(fake.url, ca='otherca.crt').request('GET', '/hosts')
            self.assertEqual(cm.exception.errno, -errno.EHOSTUNREACH)
            self.assertIn('certificate verify failed', str(cm.exception))
            self.assertEqual(fake.requests, [])

    def test_client_certificate_from_another_ca_is_refused(self) -> None:
        with FakeController(tls=self.server_ctx()) as fake:
            fake.route('GET', '/hosts', (200, []))
            with self.assertRaises(OrchestratorError) as cm:
                self.tls_client(fake.url, who='stranger').request('GET', '/hosts')
            self.assertEqual(cm.exception.errno, -errno.EHOSTUNREACH)
            self.assertEqual(fake.requests, [])

    def test_world_readable_key_is_refused(self) -> None:
        key = self.p('loose.key')
        shutil.copy(self.p('client.key'), key)
        os.chmod(key, 0o644)
        c = _client('https://127.0.0.1:1', client_cert=self.p('client.crt'), client_key=key)
        with self.assertRaises(OrchestratorError) as cm:
            c.request('GET', '/hosts')
        self.assertEqual(cm.exception.errno, -errno.EACCES)
        self.assertIn('accessible by other users (mode 0644)', str(cm.exception))

    def test_missing_files(self) -> None:
        c = _client('https://127.0.0.1:1', client_cert=self.p('nope.crt'), client_key=self.p('client.key'))
        with self.assertRaises(OrchestratorError) as cm:
            c.request('GET', '/hosts')
        self.assertEqual(cm.exception.errno, -errno.EINVAL)
        self.assertIn('cannot load TLS files', str(cm.exception))


class ConcurrencyTest(unittest.TestCase):
    def test_parallel_requests(self) -> None:
        # 16 connections against a listen backlog of 5: connect() on a full
        # unix socket backlog fails with EAGAIN and must be retried.
        with FakeController() as fake:
            fake.route('GET', '/hosts', lambda req: (200, [{'hostname': req.query['n']}]))
            c = _client(fake.url)
            out, errs = {}, []

            def one(i: int) -> None:
                try:
                    out[i] = c.request('GET', '/hosts', query={'n': f'h{i}'})
                except Exception as e:  # collected: a thread's exception would not fail the test
                    errs.append(e)

            ts = [threading.Thread(target=one, args=(i,)) for i in range(16)]
            for t in ts:
                t.start()
            for t in ts:
                t.join()
            self.assertEqual(errs, [])
            self.assertEqual(out, {i: [{'hostname': f'h{i}'}] for i in range(16)})


if __name__ == '__main__':
    unittest.main()
