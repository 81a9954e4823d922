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

// OSDRemovalBackend is what the OSD removal and zap routes need from the
// controller.
type OSDRemovalBackend interface {
	// RemoveOSDs queues OSDs for removal (`orch osd rm`); the reconciler
	// drains and removes them. It answers cephadm's text.
	RemoveOSDs(ctx context.Context, req OSDRemoveRequest) (string, error)
	// StopRemoveOSDs takes OSDs off the removal queue and restores their
	// weight (`orch osd rm stop`).
	StopRemoveOSDs(ctx context.Context, ids []int) (string, error)
	// OSDRemovals lists the removal queue by OSD id (`orch osd rm status`).
	OSDRemovals(ctx context.Context) ([]OSDRemoval, error)
	// ZapDevice wipes a device on a host with ceph-volume (`orch device
	// zap`), synchronously.
	ZapDevice(ctx context.Context, req ZapRequest) (string, error)
}

func init() {
	registrars = append(registrars, func(h *Handler, backend any) {
		if b, ok := backend.(OSDBackend); ok {
			h.registerOSDs(b)
		}
		if b, ok := backend.(OSDRemovalBackend); ok {
			h.registerOSDRemoval(b)
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

func (h *Handler) registerOSDRemoval(b OSDRemovalBackend) {
	h.mux.HandleFunc("POST /osds/remove", func(w http.ResponseWriter, r *http.Request) {
		var req OSDRemoveRequest
		if err := ReadJSON(r, &req); err != nil {
			h.fail(w, err)
			return
		}
		h.message(w, func() (string, error) { return b.RemoveOSDs(r.Context(), req) })
	})
	h.mux.HandleFunc("DELETE /osds/remove", func(w http.ResponseWriter, r *http.Request) {
		var req OSDIDsRequest
		if err := ReadJSON(r, &req); err != nil {
			h.fail(w, err)
			return
		}
		h.message(w, func() (string, error) { return b.StopRemoveOSDs(r.Context(), req.OSDIDs) })
	})
	h.mux.HandleFunc("GET /osds/remove", func(w http.ResponseWriter, r *http.Request) {
		list, err := b.OSDRemovals(r.Context())
		if err != nil {
			h.fail(w, err)
			return
		}
		if list == nil {
			list = []OSDRemoval{}
		}
		WriteJSON(w, http.StatusOK, list)
	})
	h.mux.HandleFunc("POST /devices/zap", func(w http.ResponseWriter, r *http.Request) {
		var req ZapRequest
		if err := ReadJSON(r, &req); err != nil {
			h.fail(w, err)
			return
		}
		h.message(w, func() (string, error) { return b.ZapDevice(r.Context(), req) })
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
