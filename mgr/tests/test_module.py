"""The orchestrator methods, checked through the stock `orchestrator` CLI
handlers (OrchestratorCli from /usr/share/ceph/mgr) against a fake
controller: what `ceph orch ...` prints, with which errno, and which API
request the controller receives."""
import errno
import json
import unittest

import yaml

from ceph.deployment.drive_group import DeviceSelection, DriveGroupSpec
from ceph.deployment.service_spec import NFSServiceSpec, PlacementSpec, RGWSpec, ServiceSpec
from orchestrator import (DaemonDescription, DaemonDescriptionStatus, DeviceLightLoc, HostSpec,
                          InventoryFilter, InventoryHost, Orchestrator, OrchestratorError,
                          ServiceDescription)
from orchestrator.module import DaemonAction, Format, ServiceAction, ServiceType, generate_preview_tables

from .base import T0, Backend, FakeTestCase

HOSTS = [{'hostname': 'node1', 'addr': '10.0.0.1', 'labels': ['_admin', 'mon'], 'status': ''},
         {'hostname': 'node2', 'addr': '10.0.0.2', 'labels': [], 'status': 'offline',
          'location': {'rack': 'r1'}}]


class StatusTest(FakeTestCase):
    def test_available(self) -> None:
        self.fake.route('GET', '/status', (200, {'available': True, 'reason': '',
                                                 'details': {'workers': 50, 'paused': False, 'fsid': 'f',
                                                             'available': 'x', 'backend': 'y'}}))
        self.assertEqual(self.backend.available(), (True, '', {'workers': 50, 'paused': False, 'fsid': 'f'}))
        r = self.cli._status(detail=True)
        self.assertEqual(r.retval, 0)
        self.assertEqual(r.stdout, 'Backend: orch\nAvailable: Yes\nPaused: No\nHost Parallelism: 50')
        r = self.cli._status(format=Format.json)
        self.assertEqual(json.loads(r.stdout), {'available': True, 'backend': 'orch', 'workers': 50,
                                                'paused': False, 'fsid': 'f'})

    def test_not_available_reason(self) -> None:
        reason = 'SSH keys not set. Use `orch ssh generate-key` or `orch ssh set-priv-key -i FILE`'
        self.fake.route('GET', '/status', (200, {'available': False, 'reason': reason, 'details': {}}))
        r = self.cli._status()
        self.assertEqual((r.retval, r.stdout), (0, f'Backend: orch\nAvailable: No ({reason})'))

    def test_controller_down(self) -> None:
        self.fake.__exit__(None, None, None)
        ok, reason, details = self.backend.available()
        self.assertEqual((ok, details), (False, {}))
        self.assertEqual(reason, f'orch controller unreachable at {self.fake.url}: No such file or directory')
        r = self.cli._status(format=Format.json)
        self.assertEqual(json.loads(r.stdout), {'available': False, 'backend': 'orch', 'reason': reason})
        # every other command: a clean EHOSTUNREACH, no traceback
        r = self.cli._get_hosts()
        self.assertEqual(r.retval, -errno.EHOSTUNREACH)
        self.assertEqual(r.stderr, reason)

    def test_never_raises(self) -> None:
        for answer in [(200, [1]), (200, {'available': 'yes'}), (200, b'garbage'), (500, b'')]:
            with self.subTest(answer=answer):
                self.fake.route('GET', '/status', answer)
                ok, reason, details = self.backend.available()
                self.assertFalse(ok)
                self.assertTrue(reason)
        self.backend.options['api_url'] = 'http://127.0.0.1:1'
        self.assertEqual(self.backend.available()[0], False)
        self.assertIn('invalid api_url', self.backend.available()[1])

    def test_option_changes_apply_at_once(self) -> None:
        self.fake.route('GET', '/status', (200, {'available': True, 'reason': '', 'details': {}}))
        self.assertTrue(self.backend.available()[0])
        self.backend.options['api_url'] = 'unix:///nonexistent/orch.sock'
        self.assertFalse(self.backend.available()[0])


class HostsTest(FakeTestCase):
    def test_host_ls(self) -> None:
        self.fake.route('GET', '/hosts', (200, HOSTS))
        hosts = self.ok(self.backend.get_hosts())
        self.assertEqual(hosts, [HostSpec.from_json(dict(h)) for h in HOSTS])
        self.assertEqual([h.to_json() for h in hosts], HOSTS)
        r = self.cli._get_hosts(format=Format.json)
        self.assertEqual(json.loads(r.stdout), HOSTS)
        r = self.cli._get_hosts()
        self.assertEqual(r.stdout.splitlines(), [
            'HOST   ADDR      LABELS      STATUS   ',
            'node1  10.0.0.1  _admin mon           ',
            'node2  10.0.0.2              Offline  ',
            '2 hosts in cluster'])
        r = self.cli._get_hosts(format=Format.yaml)
        self.assertEqual(list(yaml.safe_load_all(r.stdout))[1]['location'], {'rack': 'r1'})
        # label filtering is the CLI's own
        r = self.cli._get_hosts(label='mon')
        self.assertIn('1 hosts in cluster who had label mon', r.stdout)

    def test_bad_host_list(self) -> None:
        for answer, what in [((200, {'hostname': 'x'}), 'instead of a list of hosts'),
                             ((200, [{'addr': '1.2.3.4'}]), 'invalid host (item 0): DecodeError: hostname missing'),
                             ((200, [{'hostname': 'n', 'labels': 5}]), 'invalid host (item 0 n)')]:
            with self.subTest(answer=answer):
                self.fake.route('GET', '/hosts', answer)
                r = self.cli._get_hosts()
                self.assertEqual(r.retval, -errno.EPROTO)
                self.assertIn(what, r.stderr)

    def test_host_add_without_addr(self) -> None:
        self.fake.route('POST', '/hosts', (200, {'message': "Added host 'node3' with addr '10.0.0.3'",
                                                 'fingerprint': 'SHA256:abc', 'trusted_on_first_use': True}))
        r = self.cli._add_host('node3', labels=['osd,mon'])
        self.assertEqual(r.retval, 0, r.stderr)
        self.assertEqual(r.stdout, "Added host 'node3' with addr '10.0.0.3'\n"
                                   "Pinned host key of node3 on first use: SHA256:abc")
        self.assertEqual(self.fake.last().body, {'hostname': 'node3', 'addr': '', 'addr_given': False,
                                                 'labels': ['osd', 'mon'], 'status': ''})

    def test_host_add_with_addr_and_maintenance(self) -> None:
        self.fake.route('POST', '/hosts', (200, {'message': "Added host 'node3' with addr '10.0.0.3'",
                                                 'fingerprint': 'SHA256:abc', 'trusted_on_first_use': False}))
        r = self.cli._add_host('node3', '10.0.0.3', maintenance=True)
        self.assertEqual(r.stdout, "Added host 'node3' with addr '10.0.0.3'")
        self.assertEqual(self.fake.last().body, {'hostname': 'node3', 'addr': '10.0.0.3', 'addr_given': True,
                                                 'labels': [], 'status': 'maintenance'})
        # an IPv6 address typed in brackets arrives unwrapped (the CLI does it)
        self.cli._add_host('node4', '[fd00::4]')
        self.assertEqual(self.fake.last().body['addr'], 'fd00::4')

    def test_host_add_rejected(self) -> None:
        msg = "Invalid hostname 'bad_host': name component must include only a-z, 0-9, and -"
        self.fake.route('POST', '/hosts', (400, {'error': msg, 'errno': 22, 'errno_name': 'EINVAL'}))
        r = self.cli._add_host('bad_host', '10.0.0.9')
        self.assertEqual((r.retval, r.stdout, r.stderr), (-errno.EINVAL, '', msg))

    def test_host_spec_apply_keeps_location(self) -> None:
        self.fake.route('POST', '/hosts', (200, {'message': 'Added host'}))
        self.ok(self.backend.add_host(HostSpec('n5', 'n5', ['a'], '', {'rack': '2'})))
        self.assertEqual(self.fake.last().body, {'hostname': 'n5', 'addr': '', 'addr_given': False,
                                                 'labels': ['a'], 'status': '', 'location': {'rack': '2'}})

    def test_host_rm(self) -> None:
        self.fake.route('DELETE', '/hosts/node2', (200, {'message': "Removed host 'node2'"}))
        r = self.cli._remove_host('node2', force=True, offline=True)
        self.assertEqual((r.retval, r.stdout), (0, "Removed host 'node2'"))
        self.assertEqual(self.fake.last().query, {'force': 'true', 'offline': 'true'})
        self.cli._remove_host('node2')
        self.assertEqual(self.fake.last().query, {'force': 'false', 'offline': 'false'})

    def test_host_rm_unknown(self) -> None:
        self.fake.route('DELETE', '/hosts/nosuch', (404, {'error': 'host nosuch not found', 'errno': 2}))
        r = self.cli._remove_host('nosuch')
        self.assertEqual((r.retval, r.stderr), (-errno.ENOENT, 'host nosuch not found'))

    def test_labels_and_addr(self) -> None:
        self.fake.route('POST', '/hosts/node1/labels', (200, {'message': 'Added label rgw to host node1'}))
        self.fake.route('DELETE', '/hosts/node1/labels/a%2Fb', (200, {'message': 'Removed label a/b from host node1'}))
        self.fake.route('POST', '/hosts/node1/addr', (200, {'message': "Updated host 'node1' addr to '10.0.0.9'"}))
        r = self.cli._host_label_add('node1', 'rgw')
        self.assertEqual((r.retval, r.stdout), (0, 'Added label rgw to host node1'))
        self.assertEqual(self.fake.last().body, {'label': 'rgw'})
        r = self.cli._host_label_rm('node1', 'a/b', force=True)
        self.assertEqual((r.retval, r.stdout), (0, 'Removed label a/b from host node1'))
        self.assertEqual(self.fake.last().query, {'force': 'true'})
        r = self.cli._update_set_addr('node1', '10.0.0.9')
        self.assertEqual((r.retval, r.stdout), (0, "Updated host 'node1' addr to '10.0.0.9'"))
        self.assertEqual(self.fake.last().body, {'addr': '10.0.0.9'})

    def test_label_rm_unknown_host(self) -> None:
        r = self.cli._host_label_rm('ghost', 'x')  # no route for this path in the fake: ENOENT-route
        self.assertEqual(r.retval, -errno.ENOENT)
        self.assertEqual(r.stderr, 'This Orchestrator does not support `orch host label rm`')
        self.fake.route('DELETE', '/hosts/ghost/labels/x', (404, {'error': 'host ghost not found', 'errno': 2}))
        r = self.cli._host_label_rm('ghost', 'x')
        self.assertEqual((r.retval, r.stderr), (-errno.ENOENT, 'host ghost not found'))


class ApplyTest(FakeTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.applied = []

        def apply(req):
            self.applied.append(req.body)
            return 200, {'results': [f"Scheduled {s['service_name']} update..." for s in req.body['specs']]}
        self.fake.route('POST', '/apply', apply)
        self.fake.route('POST', '/hosts', lambda req: (200, {'message': f"Added host '{req.body['hostname']}'"}))
        self.fake.route('GET', '/hosts', (200, HOSTS))

    def test_apply_placement(self) -> None:
        r = self.cli.apply_misc(service_type=ServiceType.mon, placement='node1 node2')
        self.assertEqual((r.retval, r.stdout), (0, 'Scheduled mon update...'))
        self.assertEqual(self.applied, [{'no_overwrite': False, 'specs': [
            {'service_type': 'mon', 'service_name': 'mon', 'placement': {'hosts': ['node1', 'node2']}}]}])
        self.cli.apply_misc(service_type=ServiceType.mgr, placement='2', unmanaged=True, no_overwrite=True)
        self.assertEqual(self.applied[-1], {'no_overwrite': True, 'specs': [
            {'service_type': 'mgr', 'service_name': 'mgr', 'placement': {'count': 2}, 'unmanaged': True}]})

    def test_apply_file_keeps_order(self) -> None:
        docs = """
service_type: rgw
service_id: myrgw
placement:
  hosts: [node1, node2]
spec:
  rgw_frontend_port: 8080
---
service_type: host
hostname: node4
addr: 10.0.0.4
labels: [osd]
---
service_type: container
service_id: app
placement:
  count: 1
spec:
  image: localhost/app:latest
  entrypoint: /bin/app
---
service_type: osd
service_id: default
placement:
  host_pattern: '*'
spec:
  data_devices:
    all: true
"""
        r = self.cli.apply_misc(inbuf=docs)
        self.assertEqual(r.retval, 0, r.stderr)
        self.assertEqual(r.stdout.splitlines(), ['Scheduled rgw.myrgw update...', "Added host 'node4'",
                                                 'Scheduled container.app update...',
                                                 'Scheduled osd.default update...'])
        self.assertEqual([(q.method, q.path) for q in self.fake.requests],
                         [('POST', '/apply'), ('POST', '/hosts'), ('POST', '/apply')])
        self.assertEqual(self.applied[0]['specs'], [
            {'service_type': 'rgw', 'service_id': 'myrgw', 'service_name': 'rgw.myrgw',
             'placement': {'hosts': ['node1', 'node2']}, 'spec': {'rgw_frontend_port': 8080}}])
        self.assertEqual([s['service_name'] for s in self.applied[1]['specs']], ['container.app', 'osd.default'])
        self.assertEqual(self.applied[1]['specs'][1]['spec'], {'data_devices': {'all': True},
                                                               'filter_logic': 'AND', 'objectstore': 'bluestore'})

    def test_invalid_spec_never_reaches_the_controller(self) -> None:
        # the CLI validates with the real ServiceSpec class (cephadm's message)
        r = self.cli.apply_misc(inbuf='service_type: rgw\nplacement:\n  count: 1\n')
        self.assertEqual(r.retval, -errno.EINVAL)
        self.assertEqual(r.stderr, 'Cannot add Service: id required')
        self.assertEqual(self.fake.requests, [])

    def test_controller_rejects_spec(self) -> None:
        msg = 'Cannot place <ServiceSpec for service_name=mon>: No matching hosts for label mon'
        self.fake.route('POST', '/apply', (400, {'error': msg, 'errno': 22}))
        r = self.cli.apply_misc(service_type=ServiceType.mon, placement='label:mon')
        self.assertEqual((r.retval, r.stderr), (-errno.EINVAL, msg))

    def test_first_failure_stops(self) -> None:
        self.fake.route('POST', '/hosts', (400, {'error': 'check-host failed on node9', 'errno': 22}))
        r = self.cli.apply_misc(inbuf='service_type: host\nhostname: node9\n---\nservice_type: crash\n')
        self.assertEqual((r.retval, r.stderr), (-errno.EINVAL, 'check-host failed on node9'))
        self.assertEqual(self.applied, [])

    def test_no_overwrite_skips_known_hosts(self) -> None:
        r = self.cli.apply_misc(inbuf='service_type: host\nhostname: node1\n---\nservice_type: host\n'
                                      'hostname: node7\n', no_overwrite=True)
        self.assertEqual(r.stdout.splitlines(), [
            'Skipped node1 host spec. To change node1 spec omit --no-overwrite flag', "Added host 'node7'"])
        self.assertEqual([(q.method, q.path) for q in self.fake.requests], [('GET', '/hosts'), ('POST', '/hosts')])

    def test_dry_run_only_plans(self) -> None:
        plan = [{'service_type': 'rgw', 'service_name': 'rgw.myrgw', 'add': ['node1', 'node2'], 'remove': []},
                {'service_type': 'osd', 'service_name': 'osd.default',
                 'data': {'node1': [{'osdspec': 'default', 'notes': [], 'data': [{'data': '/dev/vdb'}]}]}}]
        self.fake.route('POST', '/plan', (200, plan))
        docs = ('service_type: host\nhostname: node4\n---\nservice_type: rgw\nservice_id: myrgw\n'
                'placement:\n  hosts: [node1, node2]\n---\nservice_type: osd\nservice_id: default\n'
                'placement:\n  host_pattern: "*"\nspec:\n  data_devices:\n    all: true\n')
        r = self.cli.apply_misc(inbuf=docs, dry_run=True)
        self.assertEqual(r.retval, 0, r.stderr)
        # hosts are added for real (as in cephadm); service specs are only planned
        self.assertEqual([(q.method, q.path) for q in self.fake.requests], [('POST', '/hosts'), ('POST', '/plan')])
        sent = self.fake.last().body['specs']
        self.assertEqual([s['service_type'] for s in sent], ['host', 'rgw', 'osd'])
        self.assertTrue(sent[1]['spec']['preview_only'])
        self.assertEqual(r.stdout, generate_preview_tables(plan))
        row = [line for line in r.stdout.splitlines() if 'rgw.myrgw' in line]
        self.assertEqual([c.strip() for c in row[0].split('|')[1:-1]], ['rgw', 'rgw.myrgw', 'node1 node2', ''])
        self.assertIn('/dev/vdb', r.stdout)
        r = self.cli.apply_misc(inbuf=docs, dry_run=True, format=Format.json)
        self.assertEqual(json.loads(r.stdout), plan)

    def test_dry_run_accepts_orch_plan_shape(self) -> None:
        self.fake.route('POST', '/plan', (200, {
            'services': [{'service_name': 'mgr', 'slots': [], 'to_add': [{'daemon_type': 'mgr', 'hostname': 'node2'}],
                          'to_remove': ['mgr.node3.abc'], 'rank_map': None}],
            'osds': [{'service_name': 'osd.fast', 'host': 'node1', 'data': ['/dev/sdb', '/dev/sdc'],
                      'db': ['/dev/nvme0n1'], 'wal': [], 'journal': []}]}))
        r = self.cli.apply_misc(service_type=ServiceType.mgr, placement='2', dry_run=True, format=Format.json)
        self.assertEqual(json.loads(r.stdout), [
            {'service_type': 'mgr', 'service_name': 'mgr', 'add': ['node2'], 'remove': ['mgr.node3.abc']},
            {'service_type': 'osd', 'service_name': 'osd.fast', 'data': {'node1': [
                {'osdspec': 'fast', 'notes': [], 'data': [{'data': '/dev/sdb', 'block_db': '/dev/nvme0n1'},
                                                          {'data': '/dev/sdc', 'block_db': '/dev/nvme0n1'}]}]}}])
        r = self.cli.apply_misc(service_type=ServiceType.mgr, placement='2', dry_run=True)
        self.assertIn('node2', r.stdout)
        self.assertIn('/dev/nvme0n1', r.stdout)

    def test_bad_plan_is_eproto(self) -> None:
        self.fake.route('POST', '/plan', (200, [{'service_type': 'mon', 'service_name': 'mon', 'add': 'node1'}]))
        r = self.cli.apply_misc(service_type=ServiceType.mon, placement='1', dry_run=True)
        self.assertEqual(r.retval, -errno.EPROTO)
        self.assertIn('add must be a list of strings', r.stderr)

    def test_apply_osd_all_available(self) -> None:
        r = self.cli._apply_osd(all_available_devices=True)
        self.assertEqual((r.retval, r.stdout), (0, 'Scheduled osd.all-available-devices update...'))
        self.assertEqual(self.applied[-1]['specs'], [
            {'service_type': 'osd', 'service_id': 'all-available-devices',
             'service_name': 'osd.all-available-devices', 'placement': {'host_pattern': '*'},
             'spec': {'data_devices': {'all': True}, 'filter_logic': 'AND', 'objectstore': 'bluestore'}}])

    def test_per_type_methods(self) -> None:
        # what the volumes (fs volume create) and nfs modules call
        self.assertEqual(self.ok(self.backend.apply_mds(ServiceSpec('mds', 'cephfs'))), 'Scheduled mds.cephfs update...')
        self.assertEqual(self.ok(self.backend.apply_nfs(NFSServiceSpec(service_id='foo'))), 'Scheduled nfs.foo update...')
        self.assertEqual(self.ok(self.backend.apply_rgw(RGWSpec(service_id='r'))), 'Scheduled rgw.r update...')
        self.assertEqual(self.ok(self.backend.apply_drivegroups([DriveGroupSpec(
            service_id='x', placement=PlacementSpec(host_pattern='*'), data_devices=DeviceSelection(all=True))])),
            ['Scheduled osd.x update...'])

    def test_apply_route_missing(self) -> None:
        del self.fake.routes[('POST', '/apply')]
        r = self.cli.apply_misc(service_type=ServiceType.crash, placement='*')
        self.assertEqual((r.retval, r.stderr), (-errno.ENOENT, 'This Orchestrator does not support `orch apply`'))


SVC = [
    {'service_type': 'mon', 'service_name': 'mon', 'placement': {'count': 3},
     'status': {'size': 3, 'running': 2, 'last_refresh': '2026-01-01T00:00:00Z', 'created': T0,
                'container_image_name': 'quay.io/ceph/ceph:v16'}},
    {'service_type': 'rgw', 'service_id': 'myrgw', 'service_name': 'rgw.myrgw',
     'placement': {'hosts': ['node1']}, 'spec': {'rgw_frontend_port': 8080},
     'status': {'size': 1, 'running': 1, 'last_refresh': T0, 'created': None, 'ports': [8080],
                'virtual_ip': None}},
    {'service_type': 'osd', 'service_id': 'default', 'service_name': 'osd.default', 'unmanaged': True,
     'placement': {'host_pattern': '*'}, 'spec': {'data_devices': {'all': True}, 'filter_logic': 'AND',
                                                  'objectstore': 'bluestore'},
     'status': {'size': 0, 'running': 4}},
]


class ServicesTest(FakeTestCase):
    def test_ls(self) -> None:
        self.fake.route('GET', '/services', (200, SVC))
        sds = self.ok(self.backend.describe_service())
        self.assertEqual([type(s) for s in sds], [ServiceDescription] * 3)
        self.assertEqual(sds[0].running, 2)
        self.assertEqual(self.fake.last().query, {'refresh': 'false'})
        r = self.cli._list_services()
        self.assertEqual(r.retval, 0, r.stderr)
        lines = r.stdout.splitlines()
        self.assertEqual(lines[0].split(), ['NAME', 'PORTS', 'RUNNING', 'REFRESHED', 'AGE', 'PLACEMENT'])
        self.assertEqual(lines[1].split()[:2], ['mon', '2/3'])
        self.assertEqual(lines[2].split()[:2], ['osd.default', '4'])
        self.assertIn('<unmanaged>', lines[2])
        self.assertEqual(lines[3].split()[:3], ['rgw.myrgw', '?:8080', '1/1'])
        r = self.cli._list_services(format=Format.json)
        out = json.loads(r.stdout)
        self.assertEqual(out[0]['status']['last_refresh'], '2026-01-01T00:00:00.000000Z')
        self.assertNotIn('created', out[1]['status'])

    def test_filters_are_sent(self) -> None:
        self.fake.route('GET', '/services', (200, []))
        r = self.cli._list_services(service_type='rgw', service_name='rgw.myrgw', refresh=True)
        self.assertEqual(r.stdout, 'No services reported')
        self.assertEqual(self.fake.last().query, {'service_type': 'rgw', 'service_name': 'rgw.myrgw',
                                                  'refresh': 'true'})

    def test_export(self) -> None:
        self.fake.route('GET', '/services', (200, SVC[1:2]))
        r = self.cli._list_services(export=True)
        self.assertEqual(yaml.safe_load(r.stdout), {'service_type': 'rgw', 'service_id': 'myrgw',
                                                    'service_name': 'rgw.myrgw',
                                                    'placement': {'hosts': ['node1']},
                                                    'spec': {'rgw_frontend_port': 8080}})

    def test_stored_spec_invalid_for_this_release_is_shown(self) -> None:
        # an rgw without service_id fails validation, but orch ls must still list it
        self.fake.route('GET', '/services', (200, [{'service_type': 'rgw', 'service_name': 'rgw',
                                                    'placement': {'count': 1}, 'status': {'size': 1}}]))
        r = self.cli._list_services()
        self.assertEqual(r.retval, 0, r.stderr)

    def test_unknown_status_key(self) -> None:
        svc = [dict(SVC[0], status=dict(SVC[0]['status'], pending_flag=True))]
        self.fake.route('GET', '/services', (200, svc))
        self.assertEqual(self.cli._list_services().retval, 0)
        self.backend.options['strict_decoding'] = True
        r = self.cli._list_services()
        self.assertEqual(r.retval, -errno.EPROTO)
        self.assertIn('invalid service (item 0 mon): DecodeError: unknown key(s) pending_flag', r.stderr)

    def test_bad_timestamp(self) -> None:
        svc = [dict(SVC[0], status=dict(SVC[0]['status'], created='yesterday'))]
        self.fake.route('GET', '/services', (200, svc))
        r = self.cli._list_services()
        self.assertEqual(r.retval, -errno.EPROTO)
        self.assertIn("created: 'yesterday' is not a timestamp", r.stderr)

    def test_unknown_service_type(self) -> None:
        self.fake.route('GET', '/services', (200, [{'service_type': 'bogus', 'service_name': 'bogus'}]))
        r = self.cli._list_services()
        self.assertEqual(r.retval, -errno.EPROTO)
        self.assertIn('invalid service (item 0 bogus)', r.stderr)

    def test_rm_and_actions(self) -> None:
        self.fake.route('DELETE', '/services/rgw.myrgw', (200, {'message': 'Removed service rgw.myrgw'}))
        self.fake.route('POST', '/services/rgw.myrgw/restart',
                        (200, {'results': ["Scheduled to restart rgw.myrgw.node1.abc on host 'node1'"]}))
        r = self.cli._service_rm('rgw.myrgw')
        self.assertEqual((r.retval, r.stdout), (0, 'Removed service rgw.myrgw'))
        self.assertEqual(self.fake.last().query, {'force': 'false'})
        r = self.cli._service_action(ServiceAction.restart, 'rgw.myrgw')
        self.assertEqual((r.retval, r.stdout), (0, "Scheduled to restart rgw.myrgw.node1.abc on host 'node1'"))
        # the CLI itself refuses mon/mgr without --force: no request
        n = len(self.fake.requests)
        r = self.cli._service_rm('mon')
        self.assertEqual((r.retval, r.stderr), (-errno.EINVAL, 'The mon and mgr services cannot be removed'))
        self.assertEqual(len(self.fake.requests), n)

    def test_rm_unknown(self) -> None:
        msg = "Invalid service 'rgw.nope'. Valid ones are: mon, mgr"
        self.fake.route('DELETE', '/services/rgw.nope', (404, {'error': msg, 'errno': 2}))
        r = self.cli._service_rm('rgw.nope')
        self.assertEqual((r.retval, r.stderr), (-errno.ENOENT, msg))


DAEMONS = [
    {'daemon_type': 'mon', 'daemon_id': 'node1', 'daemon_name': 'mon.node1', 'hostname': 'node1',
     'status': 1, 'status_desc': 'running', 'version': '16.2.15', 'ports': [3300, 6789], 'ip': '10.0.0.1',
     'memory_usage': 50000000, 'started': '2026-01-01T00:00:00Z', 'created': T0, 'last_refresh': T0,
     'container_id': 'abcdef0123456789', 'container_image_id': '0123456789abcdef0123'},
    {'daemon_type': 'osd', 'daemon_id': '0', 'hostname': 'node2', 'status': 0, 'status_desc': 'stopped',
     'osdspec_affinity': 'default', 'last_refresh': T0, 'started': None, 'service_name': 'osd.default'},
    {'daemon_type': 'rgw', 'daemon_id': 'myrgw.node1.xyzabc', 'hostname': 'node1', 'status': -1,
     'is_active': False, 'last_refresh': T0, 'pending_daemon_config': False},
]


class DaemonsTest(FakeTestCase):
    def test_ps(self) -> None:
        self.fake.route('GET', '/daemons', (200, DAEMONS))
        dds = self.ok(self.backend.list_daemons())
        self.assertEqual([type(d) for d in dds], [DaemonDescription] * 3)
        self.assertEqual(dds[0].status, DaemonDescriptionStatus.running)
        self.assertEqual(dds[2].service_name(), 'rgw.myrgw')
        r = self.cli._list_daemons()
        self.assertEqual(r.retval, 0, r.stderr)
        lines = r.stdout.splitlines()
        self.assertEqual(lines[0].split()[:4], ['NAME', 'HOST', 'PORTS', 'STATUS'])
        self.assertTrue(lines[1].startswith('mon.node1 '), lines)
        self.assertIn('10.0.0.1:3300,6789', lines[1])
        self.assertIn('running (', lines[1])
        self.assertIn('0123456789ab', lines[1])
        self.assertIn('stopped', lines[2])
        self.assertIn('error', lines[3])
        out = json.loads(self.cli._list_daemons(format=Format.json).stdout)
        self.assertEqual([d['daemon_name'] for d in out], ['mon.node1', 'osd.0', 'rgw.myrgw.node1.xyzabc'])
        self.assertEqual(out[0]['started'], '2026-01-01T00:00:00.000000Z')
        self.assertNotIn('pending_daemon_config', out[2])

    def test_every_filter_is_sent(self) -> None:
        self.fake.route('GET', '/daemons', (200, []))
        r = self.cli._list_daemons(hostname='node1', service_name='mon', daemon_type='mon', daemon_id='node1',
                                   refresh=True)
        self.assertEqual(r.stdout, 'No daemons reported')
        self.assertEqual(self.fake.last().query, {'service_name': 'mon', 'daemon_type': 'mon',
                                                  'daemon_id': 'node1', 'host': 'node1', 'refresh': 'true'})

    def test_strict_and_bad_status(self) -> None:
        self.fake.route('GET', '/daemons', (200, DAEMONS[2:]))
        self.backend.options['strict_decoding'] = True
        r = self.cli._list_daemons()
        self.assertEqual(r.retval, -errno.EPROTO)
        self.assertIn('unknown key(s) pending_daemon_config', r.stderr)
        self.fake.route('GET', '/daemons', (200, [dict(DAEMONS[0], status=7)]))
        r = self.cli._list_daemons()
        self.assertEqual(r.retval, -errno.EPROTO)
        self.assertIn('invalid daemon (item 0 mon.node1)', r.stderr)

    def test_daemon_actions(self) -> None:
        self.fake.route('POST', '/daemons/mon.node1/restart',
                        (200, {'message': "Scheduled to restart mon.node1 on host 'node1'"}))
        self.fake.route('POST', '/daemons/mgr.node1.abc/redeploy',
                        (200, {'message': "Scheduled to redeploy mgr.node1.abc on host 'node1'"}))
        r = self.cli._daemon_action(DaemonAction.restart, 'mon.node1')
        self.assertEqual((r.retval, r.stdout), (0, "Scheduled to restart mon.node1 on host 'node1'"))
        self.assertEqual(self.fake.last().body, {'image': None})
        r = self.cli._daemon_action_redeploy('mgr.node1.abc', image='localhost/ceph:v16')
        self.assertEqual(r.retval, 0)
        self.assertEqual(self.fake.last().body, {'image': 'localhost/ceph:v16'})

    def test_daemon_rm(self) -> None:
        self.fake.route('POST', '/daemons/remove', (200, {'results': ["Removed mon.node2 from host 'node2'"]}))
        r = self.cli._daemon_rm(['mon.node2'])
        self.assertEqual(r.retval, -errno.EINVAL)  # the CLI wants --force for mon
        self.assertEqual(self.fake.requests, [])
        r = self.cli._daemon_rm(['mon.node2'], force=True)
        self.assertEqual((r.retval, r.stdout), (0, "Removed mon.node2 from host 'node2'"))
        self.assertEqual(self.fake.last().body, {'names': ['mon.node2'], 'force': False})

    def test_unknown_daemon(self) -> None:
        self.fake.route('POST', '/daemons/mon.zz/stop', (404, {'error': 'Unable to find mon.zz daemon(s)',
                                                               'errno': 2}))
        r = self.cli._daemon_action(DaemonAction.stop, 'mon.zz')
        self.assertEqual((r.retval, r.stderr), (-errno.ENOENT, 'Unable to find mon.zz daemon(s)'))


INVENTORY = [{'name': 'node1', 'addr': '10.0.0.1', 'labels': [], 'devices': [
    {'path': '/dev/vdb', 'available': True, 'rejected_reasons': [], 'device_id': 'VIRTIO_1234',
     'sys_api': {'size': 10737418240, 'rotational': '0'}, 'lvs': [], 'lsm_data': {},
     'created': '2026-01-01T00:00:00Z', 'ceph_device': False, 'human_readable_type': 'ssd'},
    {'path': '/dev/vdc', 'rejected_reasons': ['Insufficient space (<5GB)'], 'sys_api': {'size': 1073741824,
                                                                                          'rotational': '1'}}]}]


class InventoryTest(FakeTestCase):
    def test_device_ls(self) -> None:
        self.fake.route('GET', '/inventory', (200, INVENTORY))
        inv = self.ok(self.backend.get_inventory(InventoryFilter(hosts=['node1', 'node2']), refresh=True))
        self.assertEqual(self.fake.last().query, {'hosts': 'node1,node2', 'refresh': 'true'})
        self.assertEqual([type(i) for i in inv], [InventoryHost])
        self.assertEqual([d.human_readable_type for d in inv[0].devices.devices], ['ssd', 'hdd'])
        r = self.cli._list_devices(hostname=['node1'])
        self.assertEqual(r.retval, 0, r.stderr)
        lines = r.stdout.splitlines()
        self.assertEqual(lines[1].split()[:6], ['node1', '/dev/vdb', 'ssd', 'VIRTIO_1234', '10.0G', 'Yes'])
        self.assertIn('Insufficient space (<5GB)', lines[2])
        r = self.cli._list_devices(wide=True)
        self.assertEqual(r.retval, 0, r.stderr)
        out = json.loads(self.cli._list_devices(format=Format.json).stdout)
        self.assertEqual(out[0]['devices'][0]['created'], '2026-01-01T00:00:00.000000Z')
        self.assertEqual(self.fake.last().query, {'refresh': 'false'})

    def test_labels_filter(self) -> None:
        self.fake.route('GET', '/inventory', (200, []))
        self.ok(self.backend.get_inventory(InventoryFilter(labels=['osd'])))
        self.assertEqual(self.fake.last().query, {'labels': 'osd', 'refresh': 'false'})

    def test_missing_devices_is_eproto(self) -> None:
        self.fake.route('GET', '/inventory', (200, [{'name': 'node1'}]))
        r = self.cli._list_devices()
        self.assertEqual(r.retval, -errno.EPROTO)
        self.assertIn("invalid inventory host (item 0 node1)", r.stderr)


class OSDTest(FakeTestCase):
    def test_daemon_add_osd(self) -> None:
        self.fake.route('POST', '/osds', (200, {'message': 'Created osd(s) 0 on host \'node1\''}))
        r = self.cli._daemon_add_osd('node1:/dev/vdb,/dev/vdc')
        self.assertEqual((r.retval, r.stdout), (0, "Created osd(s) 0 on host 'node1'"))
        self.assertEqual(self.fake.last().body, {
            'service_type': 'osd', 'service_name': 'osd', 'placement': {'host_pattern': 'node1'},
            'spec': {'data_devices': {'paths': ['/dev/vdb', '/dev/vdc']}, 'filter_logic': 'AND',
                     'objectstore': 'bluestore'}})

    def test_osd_rm(self) -> None:
        self.fake.route('POST', '/osds/remove', (200, {'message': 'Scheduled OSD(s) for removal.'}))
        self.fake.route('DELETE', '/osds/remove', (200, {'message': 'Stopped OSD(s) removal'}))
        r = self.cli._osd_rm_start(['1', '2'], replace=True, zap=True)
        self.assertEqual((r.retval, r.stdout), (0, 'Scheduled OSD(s) for removal.'))
        self.assertEqual(self.fake.last().body, {'osd_ids': [1, 2], 'replace': True, 'force': False,
                                                 'zap': True, 'no_destroy': False})
        r = self.cli._osd_rm_stop(['2'])
        self.assertEqual((r.retval, r.stdout), (0, 'Stopped OSD(s) removal'))
        self.assertEqual((self.fake.last().method, self.fake.last().body), ('DELETE', {'osd_ids': [2]}))
        n = len(self.fake.requests)
        r = self.cli._osd_rm_start(['x1'])
        self.assertEqual((r.retval, r.stderr), (-errno.EINVAL, "Invalid OSD id 'x1': expected a number"))
        self.assertEqual(len(self.fake.requests), n)

    def test_osd_rm_status(self) -> None:
        self.fake.route('GET', '/osds/remove', (200, [
            {'osd_id': 3, 'hostname': 'node2', 'started': True, 'draining': True, 'stopped': False,
             'replace': False, 'force': False, 'zap': True, 'original_weight': 1.0,
             'drain_started_at': '2026-01-01T00:00:00Z', 'drain_stopped_at': None, 'drain_done_at': None,
             'process_started_at': T0, 'pg_count': 12},
            {'osd_id': 1, 'hostname': 'node1', 'started': True, 'draining': False, 'stopped': False,
             'replace': True, 'force': False, 'zap': False, 'drain_done_at': T0}]))
        backend = Backend(self.backend.options, data={'osd_stats': {'osd_stats': [{'osd': 1, 'num_pgs': 0},
                                                                                  {'osd': 3, 'num_pgs': 99}]}})
        from .base import cli_for
        cli = cli_for(backend)
        r = cli._osd_rm_status()
        self.assertEqual(r.retval, 0, r.stderr)
        lines = [line.split() for line in r.stdout.splitlines()]
        self.assertEqual(lines[0], ['OSD', 'HOST', 'STATE', 'PGS', 'REPLACE', 'FORCE', 'ZAP', 'DRAIN', 'STARTED', 'AT'])
        self.assertEqual(lines[1], ['1', 'node1', 'done,', 'waiting', 'for', 'purge', '0', 'True', 'False', 'False'])
        self.assertEqual(lines[2][:8], ['3', 'node2', 'draining', '12', 'False', 'False', 'True',
                                        '2026-01-01T00:00:00.000000Z'])
        out = json.loads(cli._osd_rm_status(format=Format.json).stdout)
        self.assertEqual(out[0], {'osd_id': 3, 'started': True, 'draining': True, 'stopped': False,
                                  'replace': False, 'force': False, 'zap': True, 'hostname': 'node2',
                                  'original_weight': 1.0, 'drain_started_at': '2026-01-01T00:00:00.000000Z',
                                  'drain_stopped_at': None, 'drain_done_at': None, 'process_started_at': T0})
        self.assertEqual(yaml.safe_load_all(cli._osd_rm_status(format=Format.yaml).stdout).__next__()['osd_id'], 3)

    def test_osd_rm_status_empty(self) -> None:
        self.fake.route('GET', '/osds/remove', (200, []))
        r = self.cli._osd_rm_status()
        self.assertEqual((r.retval, r.stdout), (0, 'No OSD remove/replace operations reported'))

    def test_zap_and_lights(self) -> None:
        self.fake.route('POST', '/devices/zap', (200, {'message': 'zap successful for /dev/vdb on node1'}))
        r = self.cli._zap_device('node1', '/dev/vdb')
        self.assertEqual(r.retval, -errno.EINVAL)  # the CLI wants --force
        self.assertEqual(self.fake.requests, [])
        r = self.cli._zap_device('node1', '/dev/vdb', force=True)
        self.assertEqual((r.retval, r.stdout), (0, 'zap successful for /dev/vdb on node1'))
        self.assertEqual(self.fake.last().body, {'host': 'node1', 'path': '/dev/vdb', 'force': True})

        def light(req):
            if req.body['host'] == 'node2':
                return 501, {'error': 'node2: /dev/loop3 is a loop device: it has no LED', 'errno': 95}
            return 200, {'message': f"Set {req.body['ident_fault']} light for {req.body['host']}:{req.body['path']} on"}
        self.fake.route('POST', '/devices/light', light)
        res = self.ok(self.backend.blink_device_light('ident', True, [DeviceLightLoc('node1', 'sda', '/dev/sda'),
                                                                      DeviceLightLoc('node3', 'sdb', None)]))
        self.assertEqual(res, ['Set ident light for node1:/dev/sda on', 'Set ident light for node3:sdb on'])
        self.assertEqual(self.fake.last().body, {'on': True, 'ident_fault': 'ident', 'host': 'node3',
                                                 'dev': 'sdb', 'path': 'sdb'})
        e = self.err(self.backend.blink_device_light('fault', False, [DeviceLightLoc('node2', 'loop3', '/dev/loop3')]))
        self.assertEqual((e.errno, str(e)), (-errno.ENOTSUP, 'node2: /dev/loop3 is a loop device: it has no LED'))


class FeatureSetTest(unittest.TestCase):
    IMPLEMENTED = {
        'add_host', 'remove_host', 'update_host_addr', 'get_hosts', 'add_host_label', 'remove_host_label',
        'get_inventory', 'describe_service', 'list_daemons', 'apply', 'plan', 'remove_daemons',
        'remove_service', 'service_action', 'daemon_action', 'create_osds', 'apply_drivegroups',
        'remove_osds', 'stop_remove_osds', 'remove_osds_status', 'blink_device_light', 'zap_device',
        'apply_mon', 'apply_mgr', 'apply_mds', 'apply_rgw', 'apply_ingress', 'apply_rbd_mirror', 'apply_nfs',
        'apply_iscsi', 'apply_prometheus', 'apply_node_exporter', 'apply_crash', 'apply_grafana',
        'apply_alertmanager', 'apply_snmp_gateway', 'apply_cephadm_exporter',
    }

    def test_exactly_what_is_implemented(self) -> None:
        fs = Backend({}).get_feature_set()
        self.assertEqual({k for k, v in fs.items() if v['available']}, self.IMPLEMENTED)
        # what the orchestrator falls back to for unimplemented verbs
        for k in ('drain_host', 'enter_host_maintenance', 'upgrade_start', 'pause', 'get_facts'):
            self.assertFalse(fs[k]['available'], k)

    def test_unimplemented_raise_not_implemented(self) -> None:
        b = Backend({})
        for k, v in b.get_feature_set().items():
            if not v['available']:
                self.assertIs(getattr(type(b), k), getattr(Orchestrator, k), k)

    def test_every_implemented_method_returns_one_orch_result(self) -> None:
        # nothing is reachable: each must come back as an OrchResult carrying
        # EHOSTUNREACH (or EINVAL for bad input), never raise, never double-wrap
        b = Backend({'api_url': 'unix:///nonexistent/orch.sock', 'timeout': 1.0})
        calls = {
            'add_host': (HostSpec('h'),), 'remove_host': ('h',), 'update_host_addr': ('h', 'a'),
            'get_hosts': (), 'add_host_label': ('h', 'l'), 'remove_host_label': ('h', 'l'),
            'get_inventory': (), 'describe_service': (), 'list_daemons': (), 'apply': ([ServiceSpec('mon')],),
            'plan': ([ServiceSpec('mon')],), 'remove_daemons': (['mon.a'],), 'remove_service': ('rgw.x',),
            'service_action': ('restart', 'mon'), 'daemon_action': ('restart', 'mon.a'),
            'create_osds': (DriveGroupSpec(placement=PlacementSpec(host_pattern='h'),
                                           data_devices=DeviceSelection(paths=['/dev/x'])),),
            'apply_drivegroups': ([DriveGroupSpec(service_id='x', placement=PlacementSpec(host_pattern='*'),
                                                  data_devices=DeviceSelection(all=True))],),
            'remove_osds': (['1'],), 'stop_remove_osds': (['1'],), 'remove_osds_status': (),
            'blink_device_light': ('ident', True, [DeviceLightLoc('h', 'sda', '/dev/sda')]),
            'zap_device': ('h', '/dev/sda'),
        }
        for k in self.IMPLEMENTED:
            if k.startswith('apply_') and k != 'apply_drivegroups':
                calls[k] = (ServiceSpec('crash'),)
        self.assertEqual(set(calls), self.IMPLEMENTED)
        from .base import cross_interpreter
        from orchestrator import raise_if_exception
        for k, args in calls.items():
            with self.subTest(method=k):
                res = cross_interpreter(getattr(b, k)(*args))
                with self.assertRaises(OrchestratorError) as cm:
                    raise_if_exception(res)
                self.assertEqual(cm.exception.errno, -errno.EHOSTUNREACH)


class ModuleDeclarationTest(unittest.TestCase):
    def test_options_and_notify_types(self) -> None:
        from orch_mgr.module import OrchBackend
        names = {o['name']: o for o in OrchBackend.MODULE_OPTIONS}
        self.assertEqual(set(names), {'api_url', 'client_cert', 'client_key', 'ca_cert', 'tls_server_name',
                                      'timeout', 'strict_decoding'})
        self.assertTrue(all(o['runtime'] for o in names.values()))
        self.assertEqual(names['api_url']['default'], 'unix:///run/orch/orch.sock')
        self.assertEqual(OrchBackend.NOTIFY_TYPES, [])
        self.assertTrue(Backend({}).is_orchestrator_module())

    def test_package_exports_one_module_class(self) -> None:
        # ceph-mgr picks the MgrModule subclass from the package namespace
        import orch_mgr
        from mgr_module import MgrModule
        found = [v for v in vars(orch_mgr).values() if isinstance(v, type) and issubclass(v, MgrModule)]
        self.assertEqual([c.__name__ for c in found], ['OrchBackend'])


if __name__ == '__main__':
    unittest.main()
