"""Conversions between the controller's JSON and the orchestrator classes.

The wire format is the ``to_json()`` shape of the Python classes (what
``ceph orch ... --format json`` prints).  Objects handed to us come from the
``orchestrator`` module's sub-interpreter, so they are only duck-typed
(``spec.service_type``, ``spec.to_json()``), never checked with isinstance.
"""
import errno
import inspect
import logging
import re
from typing import Any, Callable, Dict, Iterable, List, Optional, Set

from orchestrator import (DaemonDescription, HostSpec, InventoryHost, OrchestratorError,
                          ServiceDescription)
from ceph.utils import str_to_datetime

try:  # 16.2.x has it; keep the module importable where it does not.
    from ceph.deployment.service_spec import service_spec_allow_invalid_from_json
except ImportError:  # pragma: no cover
    from contextlib import nullcontext as service_spec_allow_invalid_from_json  # type: ignore

logger = logging.getLogger(__name__)

# ceph.utils.str_to_datetime needs fractional seconds; Go's RFC 3339 output
# drops a zero fraction ("2026-01-01T00:00:00Z").  Add it back.
_NO_FRACTION = re.compile(r'^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(Z|[+-]\d\d:?\d\d)?$')

DAEMON_TIME_KEYS = ('last_refresh', 'created', 'started', 'last_deployed', 'last_configured')
SERVICE_TIME_KEYS = ('last_refresh', 'created', 'deleted')


class DecodeError(Exception):
    """The controller's answer does not fit the class it should become."""


def fix_time(v: Any) -> Any:
    """Return v in a form str_to_datetime accepts (strings only)."""
    if isinstance(v, str):
        m = _NO_FRACTION.match(v)
        if m:
            return f'{m.group(1)}.000000{m.group(2) or ""}'
    return v


def _fix_times(d: Dict[str, Any], keys: Iterable[str]) -> None:
    for k in keys:
        if k in d:
            if d[k] is None or d[k] == '':
                # str_to_datetime(None) raises; absence means "unknown".
                del d[k]
            else:
                if not isinstance(d[k], str):
                    raise DecodeError(f'{k}: expected a timestamp string, got {d[k]!r}')
                d[k] = fix_time(d[k])
                try:
                    str_to_datetime(d[k])
                except ValueError:
                    raise DecodeError(f'{k}: {d[k]!r} is not a timestamp like 2026-01-01T00:00:00.000000Z')


def _init_params(cls: type) -> Set[str]:
    return {p for p in inspect.signature(cls.__init__).parameters if p != 'self'}


_DAEMON_KEYS = _init_params(DaemonDescription) | {'daemon_name', 'status', 'events'}
_SERVICE_STATUS_KEYS = _init_params(ServiceDescription) - {'spec', 'events'}
_INVENTORY_KEYS = {'name', 'addr', 'devices', 'labels'}


def _drop_unknown(what: str, d: Dict[str, Any], known: Set[str], strict: bool) -> None:
    extra = sorted(set(d) - known)
    if not extra:
        return
    if strict:
        raise DecodeError(f'unknown key(s) {", ".join(extra)}')
    # A newer controller may send fields this Ceph release does not know
    # (Reef's DaemonDescription has more); drop them rather than fail.
    logger.debug('ignoring unknown %s key(s) from the controller: %s', what, extra)
    for k in extra:
        del d[k]


def _expect_list(what: str, payload: Any) -> List[Any]:
    if not isinstance(payload, list):
        raise OrchestratorError(f'the controller answered {type(payload).__name__} instead of a list of {what}s',
                                errno=-errno.EPROTO)
    return payload


def convert_list(what: str, payload: Any, fn: Callable[[Dict[str, Any]], Any]) -> List[Any]:
    """Convert each item, turning any failure into one clean EPROTO error
    that names the item (never a traceback at the CLI)."""
    out = []
    for i, item in enumerate(_expect_list(what, payload)):
        try:
            if not isinstance(item, dict):
                raise DecodeError(f'expected an object, got {type(item).__name__}')
            out.append(fn(dict(item)))
        except Exception as e:  # from_json raises many types; all are protocol errors here
            ident = _ident(item)
            raise OrchestratorError(
                f'the controller returned an invalid {what} (item {i}{ident}): {type(e).__name__}: {e}',
                errno=-errno.EPROTO)
    return out


def _ident(item: Any) -> str:
    if not isinstance(item, dict):
        return ''
    if isinstance(item.get('daemon_name'), str):
        return f' {item["daemon_name"]}'
    if isinstance(item.get('daemon_type'), str):
        return f' {item["daemon_type"]}.{item.get("daemon_id")}'
    for k in ('service_name', 'hostname', 'name', 'osd_id', 'path'):
        if isinstance(item.get(k), (str, int)):
            return f' {item[k]}'
    return ''


def host_from_json(d: Dict[str, Any]) -> Any:
    if not isinstance(d.get('hostname'), str) or not d['hostname']:
        raise DecodeError('hostname missing')
    return HostSpec.from_json(d)


def daemon_from_json(d: Dict[str, Any], strict: bool = False) -> Any:
    _drop_unknown('daemon', d, _DAEMON_KEYS, strict)
    _fix_times(d, DAEMON_TIME_KEYS)
    return DaemonDescription.from_json(d)


def service_from_json(d: Dict[str, Any], strict: bool = False) -> Any:
    status = d.get('status')
    if status is not None:
        if not isinstance(status, dict):
            raise DecodeError('status is not an object')
        status = dict(status)
        _drop_unknown('service status', status, _SERVICE_STATUS_KEYS, strict)
        _fix_times(status, SERVICE_TIME_KEYS)
        d['status'] = status
    # Stored specs are shown even when this release would reject them
    # (orch ls must not fail because of one spec).
    with service_spec_allow_invalid_from_json():
        return ServiceDescription.from_json(d)


def inventory_from_json(d: Dict[str, Any], strict: bool = False) -> Any:
    _drop_unknown('inventory host', d, _INVENTORY_KEYS, strict)
    devs = d.get('devices')
    if isinstance(devs, list):
        fixed = []
        for dev in devs:
            if isinstance(dev, dict):
                dev = dict(dev)
                _fix_times(dev, ('created',))
                # `orch device ls` looks `available` up in a {True, False}
                # table: a missing value would be a KeyError traceback.
                dev['available'] = bool(dev.get('available'))
            fixed.append(dev)
        d['devices'] = fixed
    return InventoryHost.from_json(d)


def spec_to_json(spec: Any) -> Dict[str, Any]:
    """A spec object (from another sub-interpreter) as wire JSON."""
    d = dict(spec.to_json())
    # HostSpec.to_json() has no service_type; ServiceSpec's has.
    d.setdefault('service_type', spec.service_type)
    return d


def host_request(spec: Any) -> Dict[str, Any]:
    """POST /hosts body for a HostSpec: the CLI fills addr with the hostname
    when none was typed, so only a different addr counts as given."""
    addr = spec.addr or ''
    given = bool(addr) and addr != spec.hostname
    body: Dict[str, Any] = {
        'hostname': spec.hostname,
        'addr': addr if given else '',
        'addr_given': given,
        'labels': list(dict.fromkeys(spec.labels or [])),
        'status': spec.status or '',
    }
    if getattr(spec, 'location', None):
        body['location'] = dict(spec.location)
    return body


def text_result(payload: Any, what: str) -> str:
    """A one-line answer: {"message": s}, {"results": [...]} or a string."""
    if isinstance(payload, dict):
        if isinstance(payload.get('message'), str):
            return payload['message']
        if 'results' in payload:
            return '\n'.join(list_result(payload, what))
    if isinstance(payload, str):
        return payload
    raise OrchestratorError(f'{what}: unexpected answer from the controller: {str(payload)[:200]}',
                            errno=-errno.EPROTO)


def list_result(payload: Any, what: str) -> List[str]:
    """A list answer: {"results": [...]}, a list, or {"message": s}."""
    if isinstance(payload, dict):
        if isinstance(payload.get('results'), list):
            payload = payload['results']
        elif isinstance(payload.get('message'), str):
            return [payload['message']]
    if isinstance(payload, list) and all(isinstance(x, str) for x in payload):
        return list(payload)
    raise OrchestratorError(f'{what}: unexpected answer from the controller: {str(payload)[:200]}',
                            errno=-errno.EPROTO)


# ---------------------------------------------------------------- plan


def plan_items(payload: Any) -> List[Dict[str, Any]]:
    """Normalise a /plan answer to the preview items the orchestrator CLI
    renders (SERVICESPEC / OSDSPEC PREVIEWS).  Also accepts the shape of
    `orch plan --format json` ({"services": [...], "osds": [...]})."""
    if isinstance(payload, dict) and ('services' in payload or 'osds' in payload):
        payload = _plan_from_orch_shape(payload)
    items = _expect_list('plan item', payload)
    out: List[Dict[str, Any]] = []
    for i, it in enumerate(items):
        if not isinstance(it, dict):
            raise OrchestratorError(f'plan item {i} is not an object', errno=-errno.EPROTO)
        it = dict(it)
        if it.get('error') or it.get('warning'):
            out.append(it)
            continue
        if it.get('service_type') == 'osd':
            data = it.get('data')
            if not isinstance(data, dict):
                raise OrchestratorError(f'plan item {i} (osd): data must be an object of host to reports',
                                        errno=-errno.EPROTO)
        else:
            for k in ('add', 'remove'):
                v = it.get(k) or []
                if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
                    raise OrchestratorError(f'plan item {i}: {k} must be a list of strings',
                                            errno=-errno.EPROTO)
                it[k] = v
        out.append(it)
    return out


def _plan_from_orch_shape(p: Dict[str, Any]) -> List[Dict[str, Any]]:
    out: List[Dict[str, Any]] = []
    for s in p.get('services') or []:
        name = s.get('service_name') or ''
        out.append({
            'service_type': name.split('.', 1)[0],
            'service_name': name,
            'add': [slot.get('hostname', '') for slot in s.get('to_add') or []],
            'remove': list(s.get('to_remove') or []),
        })
    by_name: Dict[str, Dict[str, Any]] = {}
    for o in p.get('osds') or []:
        name = o.get('service_name') or 'osd'
        item = by_name.get(name)
        if item is None:
            item = by_name[name] = {'service_type': 'osd', 'service_name': name, 'data': {}}
            out.append(item)
        db = ','.join(o.get('db') or []) or None
        wal = ','.join(o.get('wal') or []) or None
        rows = []
        for dev in o.get('data') or []:
            row = {'data': dev}
            if db:
                row['block_db'] = db
            if wal:
                row['block_wal'] = wal
            rows.append(row)
        item['data'].setdefault(o.get('host', ''), []).append(
            {'osdspec': name.split('.', 1)[1] if '.' in name else name, 'notes': [], 'data': rows})
    return out


# ---------------------------------------------------------------- OSD removal


class OSDRemoval:
    """One entry of `orch osd rm status`: what the orchestrator CLI reads
    from cephadm's OSD objects (attributes, drain_status_human(),
    get_pg_count(), to_json())."""

    JSON_KEYS = ('osd_id', 'started', 'draining', 'stopped', 'replace', 'force', 'zap', 'hostname',
                 'original_weight', 'drain_started_at', 'drain_stopped_at', 'drain_done_at',
                 'process_started_at')
    TIME_KEYS = ('drain_started_at', 'drain_stopped_at', 'drain_done_at', 'process_started_at')

    def __init__(self, d: Dict[str, Any], pg_count: int) -> None:
        osd_id = d.get('osd_id')
        if isinstance(osd_id, str) and osd_id.isdigit():
            osd_id = int(osd_id)
        if not isinstance(osd_id, int) or isinstance(osd_id, bool):
            raise DecodeError(f'osd_id must be an integer, got {osd_id!r}')
        self.osd_id: int = osd_id
        self.hostname: Optional[str] = d.get('hostname')
        for k in ('started', 'draining', 'stopped', 'replace', 'force', 'zap'):
            setattr(self, k, bool(d.get(k, False)))
        self.original_weight = d.get('original_weight')
        for k in self.TIME_KEYS:
            v = d.get(k) or None
            if v is not None:
                if not isinstance(v, str):
                    raise DecodeError(f'{k}: expected a timestamp string, got {v!r}')
                v = fix_time(v)
                str_to_datetime(v)
            setattr(self, k, v)
        self.pg_count = pg_count

    def drain_status_human(self) -> str:
        # cephadm's OSD.drain_status_human()
        status = 'started' if self.started and not self.draining else 'not started'  # type: ignore
        status = 'draining' if self.draining else status  # type: ignore
        status = 'done, waiting for purge' if self.drain_done_at and not self.draining else status  # type: ignore
        return status

    def get_pg_count(self) -> int:
        return self.pg_count

    def to_json(self) -> Dict[str, Any]:
        return {k: getattr(self, k) for k in self.JSON_KEYS}

    def __repr__(self) -> str:
        return f'<OSDRemoval osd.{self.osd_id} on {self.hostname}>'


def osd_ids(ids: Iterable[Any]) -> List[int]:
    """OSD ids as typed at the CLI ('3' or 'osd.3') as integers."""
    out = []
    for x in ids:
        s = str(x)
        if s.startswith('osd.'):
            s = s[4:]
        if not s.isdigit():
            raise OrchestratorError(f'Invalid OSD id {x!r}: expected a number', errno=-errno.EINVAL)
        out.append(int(s))
    return out
