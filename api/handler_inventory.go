package api

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/orchceph/orch/inventory"
)

// InventoryBackend is what the inventory area needs from the controller:
// device inventories, host facts and details served from the host cache,
// refresh requests that return at once, and the two synchronous device
// verbs (LED lights and disk rescans), which wait on SSH as cephadm's do,
// bounded by the controller's timeout.
type InventoryBackend interface {
	// Inventory returns the cached devices of hosts (all when empty);
	// refresh flags them for a refresh without waiting for it.
	Inventory(ctx context.Context, hosts []string, refresh bool) ([]inventory.InventoryHost, error)
	HostDetails() ([]HostDetails, error)
	HostFactsJSON(host string) (json.RawMessage, error)
	RescanHost(ctx context.Context, host string) (string, error)
	DeviceLight(ctx context.Context, r LightRequest) (string, error)
	ScheduleRefresh(r RefreshRequest) (string, error)
}

func init() {
	registrars = append(registrars, func(h *Handler, backend any) {
		if b, ok := backend.(InventoryBackend); ok {
			h.registerInventory(b)
		}
	})
}

type inventoryRoutes struct {
	*Handler
	b InventoryBackend
}

// Routes:
//
//	GET  /inventory?hosts=a,b&refresh=true   → [InventoryHost]
//	GET  /hosts/detail                       → [HostDetails]
//	GET  /hosts/{host}/facts                 → gather-facts JSON
//	POST /hosts/{host}/rescan                → Message
//	POST /devices/light   LightRequest       → Message
//	POST /refresh         RefreshRequest     → Message (at once)
func (h *Handler) registerInventory(b InventoryBackend) {
	ir := &inventoryRoutes{Handler: h, b: b}
	m := h.mux
	m.HandleFunc("GET /inventory", ir.inventory)
	m.HandleFunc("GET /hosts/detail", ir.hostDetails)
	m.HandleFunc("GET /hosts/{host}/facts", ir.facts)
	m.HandleFunc("POST /hosts/{host}/rescan", func(w http.ResponseWriter, r *http.Request) {
		ir.message(w, func() (string, error) { return b.RescanHost(r.Context(), r.PathValue("host")) })
	})
	m.HandleFunc("POST /devices/light", ir.light)
	m.HandleFunc("POST /refresh", ir.refresh)
}

// listParam splits a comma-separated (or repeated) query parameter.
func listParam(r *http.Request, name string) []string {
	var out []string
	for _, v := range r.URL.Query()[name] {
		for _, s := range strings.Split(v, ",") {
			if s = strings.TrimSpace(s); s != "" {
				out = append(out, s)
			}
		}
	}
	return out
}

func (h *inventoryRoutes) inventory(w http.ResponseWriter, r *http.Request) {
	inv, err := h.b.Inventory(r.Context(), listParam(r, "hosts"), boolParam(r, "refresh"))
	if err != nil {
		h.fail(w, err)
		return
	}
	WriteJSON(w, 200, inv)
}

func (h *inventoryRoutes) hostDetails(w http.ResponseWriter, r *http.Request) {
	d, err := h.b.HostDetails()
	if err != nil {
		h.fail(w, err)
		return
	}
	WriteJSON(w, 200, d)
}

func (h *inventoryRoutes) facts(w http.ResponseWriter, r *http.Request) {
	f, err := h.b.HostFactsJSON(r.PathValue("host"))
	if err != nil {
		h.fail(w, err)
		return
	}
	WriteJSON(w, 200, f)
}

func (h *inventoryRoutes) light(w http.ResponseWriter, r *http.Request) {
	var req LightRequest
	if err := ReadJSON(r, &req); err != nil {
		h.fail(w, err)
		return
	}
	h.message(w, func() (string, error) { return h.b.DeviceLight(r.Context(), req) })
}

func (h *inventoryRoutes) refresh(w http.ResponseWriter, r *http.Request) {
	var req RefreshRequest
	if err := ReadJSON(r, &req); err != nil {
		h.fail(w, err)
		return
	}
	h.message(w, func() (string, error) { return h.b.ScheduleRefresh(req) })
}
