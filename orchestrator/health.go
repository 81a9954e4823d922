package orchestrator

import (
	"fmt"
	"sort"
	"strings"

	"github.com/orchceph/orch/api"
	"github.com/orchceph/orch/scheduler"
)

// Health check names, as cephadm raises them.
const (
	HealthPaused          = "CEPHADM_PAUSED"
	HealthHostCheckFail   = "CEPHADM_HOST_CHECK_FAILED"
	HealthRefreshFailed   = "CEPHADM_REFRESH_FAILED"
	HealthFailedDaemon    = "CEPHADM_FAILED_DAEMON"
	HealthApplySpecFail   = "CEPHADM_APPLY_SPEC_FAIL"
	HealthDaemonPlaceFail = "CEPHADM_DAEMON_PLACE_FAIL"
	HealthStrayDaemon     = "CEPHADM_STRAY_DAEMON"
)

func warn(summary string, detail []string) api.HealthCheck {
	if detail == nil {
		detail = []string{}
	}
	return api.HealthCheck{Severity: "warning", Summary: summary, Count: max(len(detail), 1), Detail: detail}
}

func sortedKeys(m map[string]string) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// Health is GET /health: cephadm's health checks, from the store and the
// last pass (never SSH).
func (r *Reconciler) Health() (api.Health, error) {
	v, err := r.loadView(viewOptions{})
	if err != nil {
		return api.Health{}, err
	}
	r.mu.Lock()
	last := r.health
	r.mu.Unlock()
	checks := map[string]api.HealthCheck{}

	if v.cluster.Paused {
		checks[HealthPaused] = api.HealthCheck{Severity: "warning", Summary: "cephadm background work is paused",
			Count: 1, Detail: []string{"'orch resume' to resume"}}
	}

	// Unreachable hosts fail the host check (cephadm: "Can't communicate
	// with remote host"); hosts that answered but failed a probe are
	// refresh failures. Both come from the refresh's persisted records.
	fails, err := r.RefreshFailures()
	if err != nil {
		return api.Health{}, err
	}
	hostFails := map[string]string{}
	var refreshDetail []string
	for _, f := range fails {
		if msg, ok := f.Errors[ConnectFailure]; ok {
			hostFails[f.Host] = msg
		}
		for k, msg := range f.Errors {
			if k != ConnectFailure {
				refreshDetail = append(refreshDetail, msg)
			}
		}
	}
	for _, h := range v.hosts {
		if strings.EqualFold(h.Status, scheduler.StatusOffline) {
			if _, ok := hostFails[h.Name]; !ok {
				hostFails[h.Name] = "host is offline"
			}
		}
	}
	if len(hostFails) > 0 {
		var detail []string
		for _, h := range sortedKeys(hostFails) {
			addr := h
			if hh := v.host[h]; hh != nil && hh.Addr != "" {
				addr = hh.Addr
			}
			detail = append(detail, fmt.Sprintf("host %s (%s) failed check: %s", h, addr, hostFails[h]))
		}
		checks[HealthHostCheckFail] = warn(fmt.Sprintf("%d hosts fail cephadm check", len(detail)), detail)
	}
	if len(refreshDetail) > 0 {
		sort.Strings(refreshDetail)
		checks[HealthRefreshFailed] = warn("failed to probe daemons or devices", refreshDetail)
	}

	var failed, stray []string
	for i := range v.daemons {
		d := &v.daemons[i]
		if v.unreachable(d.Hostname) {
			continue
		}
		if d.Status != nil && *d.Status == api.StatusError && d.DaemonType != "agent" {
			failed = append(failed, fmt.Sprintf("daemon %s on %s is in %s state", d.name(), d.Hostname, d.StatusDesc))
		}
		if e := v.byName[d.ServiceName]; (e == nil || e.deleted()) && keepWithoutSpec(d.DaemonType) && d.DaemonType != "osd" {
			stray = append(stray, fmt.Sprintf("stray daemon %s on host %s not managed by cephadm", d.name(), d.Hostname))
		}
	}
	if len(failed) > 0 {
		checks[HealthFailedDaemon] = warn(fmt.Sprintf("%d failed cephadm daemon(s)", len(failed)), failed)
	}
	if len(stray) > 0 {
		checks[HealthStrayDaemon] = warn(fmt.Sprintf("%d stray daemon(s) not managed by cephadm", len(stray)), stray)
	}
	if len(last.applyFails) > 0 {
		names := sortedKeys(last.applyFails)
		var detail []string
		for _, n := range names {
			detail = append(detail, fmt.Sprintf("%s: %s", n, last.applyFails[n]))
		}
		checks[HealthApplySpecFail] = warn(fmt.Sprintf("Failed to apply %d service(s): %s", len(names), strings.Join(names, ",")), detail)
	}
	if len(last.placeFails) > 0 {
		checks[HealthDaemonPlaceFail] = warn(fmt.Sprintf("Failed to place %d daemon(s)", len(last.placeFails)),
			append([]string(nil), last.placeFails...))
	}
	status := "HEALTH_OK"
	if len(checks) > 0 {
		status = "HEALTH_WARN"
	}
	return api.Health{Status: status, Checks: checks}, nil
}
