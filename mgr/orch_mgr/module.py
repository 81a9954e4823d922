"""orch: a ceph-mgr orchestrator backend that forwards `ceph orch` to orch's
controller (`orch serve`) over its REST API.

Select it with `ceph config set mgr mgr/orchestrator/orchestrator orch --force`
(`ceph orch set backend orch` is refused by the stock module's enum in 16.2.x
and still exits 0); `mgr/install.sh` does all of it.

Rules this file keeps (see docs/mgr-module.md):
* arguments come from the `orchestrator` module's sub-interpreter: duck typing
  only, never isinstance();
* every method but available() is wrapped by @handle_orch_error and returns
  plain values (never an OrchResult, which would be wrapped twice);
* only OrchestratorError (with a negative errno) and NotImplementedError leave
  this module, so the CLI prints `Error E...: msg`, never a traceback.
"""
import logging
import urllib.parse
from typing import Any, Dict, List, Optional, Sequence, Tuple

from mgr_module import MgrModule, Option
import orchestrator
from orchestrator import OrchestratorError, handle_orch_error

from .client import Client, Settings
from . import convert

logger = logging.getLogger(__name__)

DEFAULT_API_URL = 'unix:///run/orch/orch.sock'


def _p(s: str) -> str:
    """One URL path segment."""
    return urllib.parse.quote(str(s), safe='')


class OrchBackend(orchestrator.Orchestrator, MgrModule):
    MODULE_OPTIONS = [
        Option('api_url', default=DEFAULT_API_URL, type='str', runtime=True,
               desc='orch controller API: unix:///path/to/orch.sock or https://host:port'),
        Option('client_cert', default='', type='str', runtime=True,
               desc='client certificate (PEM) for https:// api_url (mutual TLS)'),
        Option('client_key', default='', type='str', runtime=True,
               desc='client private key (PEM file, not readable by others) for https:// api_url'),
        Option('ca_cert', default='', type='str', runtime=True,
               desc="CA certificate (PEM) that signed the controller's certificate; empty: system CAs"),
        Option('tls_server_name', default='', type='str', runtime=True,
               desc="name to verify in the controller's certificate (default: the api_url host)"),
        Option('timeout', default=60.0, type='float', min=1.0, runtime=True,
               desc='seconds to wait for one controller request (host add connects over SSH)'),
        Option('strict_decoding', default=False, type='bool', runtime=True,
               desc='fail on keys of the controller answer that this Ceph release does not know '
                    '(default: drop them)'),
    ]
    # 16.2.15 logs "Module X has missing NOTIFY_TYPES member" without this.
    NOTIFY_TYPES: List[Any] = []

    # ------------------------------------------------------------ transport

    def _opt(self, name: str, default: Any) -> Any:
        v = self.get_module_option(name)
        return default if v is None else v

    def _client(self) -> Client:
        try:
            timeout = float(self._opt('timeout', 60.0))
        except (TypeError, ValueError):
            timeout = 60.0
        return Client(Settings(
            api_url=str(self._opt('api_url', DEFAULT_API_URL)),
            timeout=max(timeout, 1.0),
            client_cert=str(self._opt('client_cert', '')),
            client_key=str(self._opt('client_key', '')),
            ca_cert=str(self._opt('ca_cert', '')),
            tls_server_name=str(self._opt('tls_server_name', '')),
        ))

    def _call(self, method: str, path: str, query: Optional[Dict[str, Any]] = None,
              body: Any = None) -> Any:
        return self._client().request(method, path, query=query, body=body)

    def _strict(self) -> bool:
        return bool(self._opt('strict_decoding', False))

    # ------------------------------------------------------------ status

    def available(self) -> Tuple[bool, str, Dict[str, Any]]:
        # Not @handle_orch_error: the orchestrator calls it directly and
        # expects the tuple.  It must never raise.
        try:
            st = self._call('GET', '/status')
            if not isinstance(st, dict) or not isinstance(st.get('available'), bool):
                return False, f'the controller answered an unexpected /status: {str(st)[:200]}', {}
            details = st.get('details') or {}
            if not isinstance(details, dict):
                details = {}
            # these keys are the orchestrator's own in `orch status --format json`
            details = {k: v for k, v in details.items() if k not in ('available', 'backend', 'reason')}
            return st['available'], str(st.get('reason') or ''), details
        except (OrchestratorError, NotImplementedError) as e:
            return False, str(e), {}
        except Exception as e:  # never a traceback from `ceph orch status`
            logger.exception('available() failed')
            return False, f'{type(e).__name__}: {e}', {}

    # ------------------------------------------------------------ hosts

    @handle_orch_error
    def get_hosts(self) -> List[Any]:
        return convert.convert_list('host', self._call('GET', '/hosts'), convert.host_from_json)

    def _add_host(self, spec: Any) -> List[str]:
        resp = self._call('POST', '/hosts', body=convert.host_request(spec))
        msg = convert.text_result(resp, 'host add')
        out = [msg]
        if isinstance(resp, dict) and resp.get('trusted_on_first_use'):
            fp = resp.get('fingerprint', '')
            logger.info('pinned host key of %s on first use: %s', spec.hostname, fp)
            out.append(f'Pinned host key of {spec.hostname} on first use: {fp}')
        return out

    @handle_orch_error
    def add_host(self, host_spec: Any) -> str:
        return '\n'.join(self._add_host(host_spec))

    @handle_orch_error
    def remove_host(self, host: str, force: bool = False, offline: bool = False) -> str:
        return convert.text_result(
            self._call('DELETE', f'/hosts/{_p(host)}', query={'force': bool(force), 'offline': bool(offline)}),
            'host rm')

    @handle_orch_error
    def update_host_addr(self, host: str, addr: str) -> str:
        return convert.text_result(self._call('POST', f'/hosts/{_p(host)}/addr', body={'addr': addr}),
                                   'host set-addr')

    @handle_orch_error
    def add_host_label(self, host: str, label: str) -> str:
        return convert.text_result(self._call('POST', f'/hosts/{_p(host)}/labels', body={'label': label}),
                                   'host label add')

    @handle_orch_error
    def remove_host_label(self, host: str, label: str, force: bool = False) -> str:
        return convert.text_result(
            self._call('DELETE', f'/hosts/{_p(host)}/labels/{_p(label)}', query={'force': bool(force)}),
            'host label rm')

    # ------------------------------------------------------------ apply

    def _apply(self, specs: Sequence[Any], no_overwrite: bool) -> List[str]:
        """Hosts go to POST /hosts (key pinning, check-host); runs of service
        specs go to POST /apply.  Input order is kept, and the first failure
        stops the rest, as in cephadm.  Specs marked preview_only (`--dry-run`)
        are never sent to /apply: plan() previews them."""
        results: List[str] = []
        batch: List[Dict[str, Any]] = []
        known_hosts: Optional[set] = None

        def flush() -> None:
            if batch:
                resp = self._call('POST', '/apply', body={'specs': list(batch), 'no_overwrite': bool(no_overwrite)})
                results.extend(convert.list_result(resp, 'apply'))
                batch.clear()

        for spec in specs:
            if spec.service_type == 'host':
                flush()
                if no_overwrite:
                    if known_hosts is None:
                        known_hosts = {h.hostname for h in convert.convert_list(
                            'host', self._call('GET', '/hosts'), convert.host_from_json)}
                    if spec.hostname in known_hosts:
                        results.append(f'Skipped {spec.hostname} host spec. To change {spec.hostname} '
                                       f'spec omit --no-overwrite flag')
                        continue
                results.extend(self._add_host(spec))
            elif getattr(spec, 'preview_only', False):
                continue
            else:
                batch.append(convert.spec_to_json(spec))
        flush()
        return results

    @handle_orch_error
    def apply(self, specs: Sequence[Any], no_overwrite: bool = False) -> List[str]:
        # `orch apply ...`, `orch apply -i`, `orch host add` (HostSpec), `orch apply osd`
        return self._apply(specs, no_overwrite)

    def _apply_one(self, spec: Any) -> str:
        return '\n'.join(self._apply([spec], False))

    # The other modules (volumes: `fs volume create`, nfs: `nfs cluster
    # create`, the dashboard) call the per-type methods.
    @handle_orch_error
    def apply_mon(self, spec: Any) -> str:
        return self._apply_one(spec)

    @handle_orch_error
    def apply_mgr(self, spec: Any) -> str:
        return self._apply_one(spec)

    @handle_orch_error
    def apply_mds(self, spec: Any) -> str:
        return self._apply_one(spec)

    @handle_orch_error
    def apply_rgw(self, spec: Any) -> str:
        return self._apply_one(spec)

    @handle_orch_error
    def apply_ingress(self, spec: Any) -> str:
        return self._apply_one(spec)

    @handle_orch_error
    def apply_rbd_mirror(self, spec: Any) -> str:
        return self._apply_one(spec)

    @handle_orch_error
    def apply_nfs(self, spec: Any) -> str:
        return self._apply_one(spec)

    @handle_orch_error
    def apply_iscsi(self, spec: Any) -> str:
        return self._apply_one(spec)

    @handle_orch_error
    def apply_prometheus(self, spec: Any) -> str:
        return self._apply_one(spec)

    @handle_orch_error
    def apply_node_exporter(self, spec: Any) -> str:
        return self._apply_one(spec)

    @handle_orch_error
    def apply_crash(self, spec: Any) -> str:
        return self._apply_one(spec)

    @handle_orch_error
    def apply_grafana(self, spec: Any) -> str:
        return self._apply_one(spec)

    @handle_orch_error
    def apply_alertmanager(self, spec: Any) -> str:
        return self._apply_one(spec)

    @handle_orch_error
    def apply_snmp_gateway(self, spec: Any) -> str:
        return self._apply_one(spec)

    @handle_orch_error
    def apply_cephadm_exporter(self, spec: Any) -> str:
        return self._apply_one(spec)

    @handle_orch_error
    def apply_drivegroups(self, specs: List[Any]) -> List[str]:
        return self._apply(specs, False)

    @handle_orch_error
    def plan(self, specs: Sequence[Any]) -> List[Dict[str, Any]]:
        # `orch apply -i F --dry-run`: apply() ran first (hosts are added for
        # real, as in cephadm), then this preview.
        resp = self._call('POST', '/plan', body={'specs': [convert.spec_to_json(s) for s in specs]})
        return convert.plan_items(resp)

    # ------------------------------------------------------------ reads

    @handle_orch_error
    def describe_service(self, service_type: Optional[str] = None, service_name: Optional[str] = None,
                         refresh: bool = False) -> List[Any]:
        # The CLI does not filter `orch ls`: the controller must.
        strict = self._strict()
        data = self._call('GET', '/services', query={'service_type': service_type or None,
                                                     'service_name': service_name or None,
                                                     'refresh': bool(refresh)})
        return convert.convert_list('service', data, lambda d: convert.service_from_json(d, strict))

    @handle_orch_error
    def list_daemons(self, service_name: Optional[str] = None, daemon_type: Optional[str] = None,
                     daemon_id: Optional[str] = None, host: Optional[str] = None,
                     refresh: bool = False) -> List[Any]:
        strict = self._strict()
        data = self._call('GET', '/daemons', query={'service_name': service_name or None,
                                                    'daemon_type': daemon_type or None,
                                                    'daemon_id': daemon_id or None,
                                                    'host': host or None,
                                                    'refresh': bool(refresh)})
        return convert.convert_list('daemon', data, lambda d: convert.daemon_from_json(d, strict))

    @handle_orch_error
    def get_inventory(self, host_filter: Optional[Any] = None, refresh: bool = False) -> List[Any]:
        hosts = getattr(host_filter, 'hosts', None) if host_filter is not None else None
        labels = getattr(host_filter, 'labels', None) if host_filter is not None else None
        strict = self._strict()
        data = self._call('GET', '/inventory', query={'hosts': list(hosts) if hosts else None,
                                                      'labels': list(labels) if labels else None,
                                                      'refresh': bool(refresh)})
        return convert.convert_list('inventory host', data, lambda d: convert.inventory_from_json(d, strict))

    # ------------------------------------------------------------ services and daemons

    @handle_orch_error
    def remove_service(self, service_name: str, force: bool = False) -> str:
        return convert.text_result(
            self._call('DELETE', f'/services/{_p(service_name)}', query={'force': bool(force)}), 'rm')

    @handle_orch_error
    def service_action(self, action: str, service_name: str) -> List[str]:
        return convert.list_result(
            self._call('POST', f'/services/{_p(service_name)}/{_p(action)}', body={}), action)

    @handle_orch_error
    def daemon_action(self, action: str, daemon_name: str, image: Optional[str] = None) -> str:
        return convert.text_result(
            self._call('POST', f'/daemons/{_p(daemon_name)}/{_p(action)}', body={'image': image}),
            f'daemon {action}')

    @handle_orch_error
    def remove_daemons(self, names: List[str]) -> List[str]:
        # The CLI already required --force for osd/mon/prometheus daemons;
        # the interface carries no force flag, so the controller's own safety
        # checks (force=false) decide, as cephadm's remove_daemons does.
        return convert.list_result(
            self._call('POST', '/daemons/remove', body={'names': list(names), 'force': False}), 'daemon rm')

    # ------------------------------------------------------------ OSDs and devices

    @handle_orch_error
    def create_osds(self, drive_group: Any) -> str:
        # `orch daemon add osd host:/dev/x`
        return convert.text_result(self._call('POST', '/osds', body=convert.spec_to_json(drive_group)),
                                   'daemon add osd')

    @handle_orch_error
    def remove_osds(self, osd_ids: List[str], replace: bool = False, force: bool = False,
                    zap: bool = False, no_destroy: bool = False) -> str:
        body = {'osd_ids': convert.osd_ids(osd_ids), 'replace': bool(replace), 'force': bool(force),
                'zap': bool(zap), 'no_destroy': bool(no_destroy)}
        return convert.text_result(self._call('POST', '/osds/remove', body=body), 'osd rm')

    @handle_orch_error
    def stop_remove_osds(self, osd_ids: List[str]) -> str:
        return convert.text_result(
            self._call('DELETE', '/osds/remove', body={'osd_ids': convert.osd_ids(osd_ids)}), 'osd rm stop')

    @handle_orch_error
    def remove_osds_status(self) -> List[Any]:
        data = self._call('GET', '/osds/remove')
        if isinstance(data, dict) and 'osds' in data:
            data = data['osds']
        items = data if isinstance(data, list) else None
        pgs = self._pg_counts() if items and any(
            isinstance(i, dict) and not isinstance(i.get('pg_count'), int) for i in items) else {}

        def one(d: Dict[str, Any]) -> Any:
            pg = d.get('pg_count')
            if not isinstance(pg, int) or isinstance(pg, bool):
                pg = pgs.get(d.get('osd_id'), -1)
            return convert.OSDRemoval(d, pg)
        return convert.convert_list('OSD removal', data, one)

    def _pg_counts(self) -> Dict[Any, int]:
        """PGs per OSD from the mgr's own PG map, for a controller answer
        without pg_count (the column cephadm fills from `osd df`)."""
        try:
            stats = self.get('osd_stats') or {}
            out: Dict[Any, int] = {}
            for s in stats.get('osd_stats', []):
                out[s['osd']] = int(s.get('num_pgs', -1))
                out[str(s['osd'])] = out[s['osd']]
            return out
        except Exception:
            logger.exception('reading osd_stats failed')
            return {}

    @handle_orch_error
    def zap_device(self, host: str, path: str) -> str:
        # The CLI refused already unless --force was given.
        return convert.text_result(
            self._call('POST', '/devices/zap', body={'host': host, 'path': path, 'force': True}), 'device zap')

    @handle_orch_error
    def blink_device_light(self, ident_fault: str, on: bool, locations: List[Any]) -> List[str]:
        # `ceph device light on|off DEVID [ident|fault]`; locations are
        # DeviceLightLoc(host, dev, path) namedtuples.
        out: List[str] = []
        for loc in locations:
            body = {'on': bool(on), 'ident_fault': ident_fault, 'host': loc.host,
                    'dev': loc.dev, 'path': loc.path or loc.dev}
            out.extend(convert.list_result(self._call('POST', '/devices/light', body=body), 'device light'))
        return out
