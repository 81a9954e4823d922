package api

import (
	"context"
	"net/http"
	"strings"
	"syscall"
)

// OSDBackend is what the OSD routes need from the controller.
type OSDBackend interface {
	// CreateOSDs prepares the devices on host with ceph-volume and deploys
	// one osd daemon per created OSD (synchronous, as cephadm's
	// `orch daemon add osd` is).
	CreateOSDs(ctx context.Context, host string, devices []string) (string, error)
}

func init() {
	registrars = append(registrars, func(h *Handler, backend any) {
		if b, ok := backend.(OSDBackend); ok {
			h.registerOSDs(b)
		}
	})
}

func (h *Handler) registerOSDs(b OSDBackend) {
	h.mux.HandleFunc("POST /osds", func(w http.ResponseWriter, r *http.Request) {
		var dg map[string]any
		if err := ReadJSON(r, &dg); err != nil {
			h.fail(w, err)
			return
		}
		host, devices, err := osdTargets(dg)
		if err != nil {
			h.fail(w, err)
			return
		}
		h.message(w, func() (string, error) { return b.CreateOSDs(r.Context(), host, devices) })
	})
}

// osdTargets reads the host and data device paths of the drive group that
// `orch daemon add osd HOST:/dev/X,...` builds (cephadm's to_json shape:
// placement.host_pattern or placement.hosts, spec.data_devices.paths, or
// the old flat style with data_devices at the top level).
func osdTargets(dg map[string]any) (string, []string, error) {
	if t, _ := dg["service_type"].(string); t != "" && t != "osd" {
		return "", nil, NewError(syscall.EINVAL, "POST /osds takes an osd drive group, not %q", t)
	}
	var host string
	if p, ok := dg["placement"].(map[string]any); ok {
		if hp, ok := p["host_pattern"].(string); ok {
			host = hp
		} else if hs, ok := p["hosts"].([]any); ok && len(hs) == 1 {
			host, _ = hs[0].(string)
		}
	}
	if host == "" || strings.ContainsAny(host, "*?[]:=") {
		return "", nil, NewError(syscall.EINVAL, "daemon add osd needs exactly one host (placement host_pattern or hosts)")
	}
	dd, ok := dg["data_devices"].(map[string]any)
	if s, isMap := dg["spec"].(map[string]any); isMap {
		if d, ok2 := s["data_devices"].(map[string]any); ok2 {
			dd, ok = d, true
		}
	}
	var devices []string
	if ok {
		paths, _ := dd["paths"].([]any)
		for _, p := range paths {
			switch x := p.(type) {
			case string:
				devices = append(devices, x)
			case map[string]any:
				if s, ok := x["path"].(string); ok {
					devices = append(devices, s)
				}
			}
		}
	}
	if len(devices) == 0 {
		return "", nil, NewError(syscall.EINVAL, "daemon add osd needs data_devices paths")
	}
	return host, devices, nil
}
