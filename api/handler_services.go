package api

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"syscall"
)

// ServiceBackend is what the services area needs from the controller:
// applying and previewing specs, listings served from the store, service
// and daemon lifecycle verbs (scheduled, never waiting on SSH), operations,
// health, pause/resume and the cluster snapshot.
type ServiceBackend interface {
	Apply(ctx context.Context, r ApplyRequest) (ApplyResult, error)
	// Plan previews specs; plain selects cephadm's preview tables (as
	// Text) instead of the plan JSON.
	Plan(ctx context.Context, specs []map[string]any, plain, explain bool) (any, error)

	ListServices(f ServiceFilter) ([]ServiceDescription, error)
	ListDaemons(f DaemonFilter) ([]DaemonDescription, error)

	RemoveService(name string, force bool) (ActionMessage, error)
	ServiceAction(name, action string) (Results, error)
	SetManaged(name string, managed bool) (string, error)
	DaemonAction(name, action string, image string) (ActionMessage, error)
	RemoveDaemons(names []string, force bool) (Results, error)

	Pause() (string, error)
	Resume() (string, error)

	ListOperations() ([]Operation, error)
	GetOperation(id uint64) (Operation, error)
	Health() (Health, error)
	// Export returns the snapshot of docs/api-services.md (the
	// spec-and-plan contract's shape).
	Export() (json.RawMessage, error)
}

func init() {
	registrars = append(registrars, func(h *Handler, backend any) {
		if b, ok := backend.(ServiceBackend); ok {
			h.registerServices(b)
		}
	})
}

type serviceRoutes struct {
	*Handler
	b ServiceBackend
}

func (h *Handler) registerServices(b ServiceBackend) {
	sr := &serviceRoutes{Handler: h, b: b}
	m := h.mux
	m.HandleFunc("POST /apply", sr.apply)
	m.HandleFunc("POST /plan", sr.plan)
	m.HandleFunc("GET /services", sr.listServices)
	m.HandleFunc("DELETE /services/{name}", sr.removeService)
	m.HandleFunc("POST /services/{name}/{action}", sr.serviceAction)
	m.HandleFunc("GET /daemons", sr.listDaemons)
	m.HandleFunc("POST /daemons/remove", sr.removeDaemons)
	m.HandleFunc("POST /daemons/{name}/{action}", sr.daemonAction)
	m.HandleFunc("POST /pause", func(w http.ResponseWriter, r *http.Request) { sr.message(w, b.Pause) })
	m.HandleFunc("POST /resume", func(w http.ResponseWriter, r *http.Request) { sr.message(w, b.Resume) })
	m.HandleFunc("GET /operations", sr.listOperations)
	m.HandleFunc("GET /operations/{id}", sr.getOperation)
	m.HandleFunc("GET /health", sr.health)
	m.HandleFunc("GET /export", sr.export)
}

func (h *serviceRoutes) apply(w http.ResponseWriter, r *http.Request) {
	var req ApplyRequest
	if err := ReadJSON(r, &req); err != nil {
		h.fail(w, err)
		return
	}
	res, err := h.b.Apply(r.Context(), req)
	if err != nil {
		h.fail(w, err)
		return
	}
	WriteJSON(w, 200, res)
}

func (h *serviceRoutes) plan(w http.ResponseWriter, r *http.Request) {
	var req PlanRequest
	if err := ReadJSON(r, &req); err != nil {
		h.fail(w, err)
		return
	}
	plain := r.URL.Query().Get("format") == "plain"
	res, err := h.b.Plan(r.Context(), req.Specs, plain, boolParam(r, "explain"))
	if err != nil {
		h.fail(w, err)
		return
	}
	WriteJSON(w, 200, res)
}

func (h *serviceRoutes) listServices(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	out, err := h.b.ListServices(ServiceFilter{ServiceType: q.Get("service_type"), ServiceName: q.Get("service_name"),
		Refresh: boolParam(r, "refresh")})
	if err != nil {
		h.fail(w, err)
		return
	}
	if out == nil {
		out = []ServiceDescription{}
	}
	WriteJSON(w, 200, out)
}

func (h *serviceRoutes) listDaemons(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	out, err := h.b.ListDaemons(DaemonFilter{ServiceName: q.Get("service_name"), DaemonType: q.Get("daemon_type"),
		DaemonID: q.Get("daemon_id"), Host: q.Get("host"), Refresh: boolParam(r, "refresh")})
	if err != nil {
		h.fail(w, err)
		return
	}
	WriteDaemonsJSON(w, 200, out)
}

func (h *serviceRoutes) removeService(w http.ResponseWriter, r *http.Request) {
	res, err := h.b.RemoveService(r.PathValue("name"), boolParam(r, "force"))
	if err != nil {
		h.fail(w, err)
		return
	}
	WriteJSON(w, 200, res)
}

func (h *serviceRoutes) serviceAction(w http.ResponseWriter, r *http.Request) {
	name, action := r.PathValue("name"), r.PathValue("action")
	switch action {
	case "set-managed", "set-unmanaged":
		h.message(w, func() (string, error) { return h.b.SetManaged(name, action == "set-managed") })
		return
	}
	res, err := h.b.ServiceAction(name, action)
	if err != nil {
		h.fail(w, err)
		return
	}
	WriteJSON(w, 200, res)
}

func (h *serviceRoutes) daemonAction(w http.ResponseWriter, r *http.Request) {
	var req DaemonActionRequest
	if r.ContentLength != 0 {
		if err := ReadJSON(r, &req); err != nil {
			h.fail(w, err)
			return
		}
	}
	image := ""
	if req.Image != nil {
		image = *req.Image
	}
	res, err := h.b.DaemonAction(r.PathValue("name"), r.PathValue("action"), image)
	if err != nil {
		h.fail(w, err)
		return
	}
	WriteJSON(w, 200, res)
}

func (h *serviceRoutes) removeDaemons(w http.ResponseWriter, r *http.Request) {
	var req RemoveDaemonsRequest
	if err := ReadJSON(r, &req); err != nil {
		h.fail(w, err)
		return
	}
	res, err := h.b.RemoveDaemons(req.Names, req.Force)
	if err != nil {
		h.fail(w, err)
		return
	}
	WriteJSON(w, 200, res)
}

func (h *serviceRoutes) listOperations(w http.ResponseWriter, r *http.Request) {
	ops, err := h.b.ListOperations()
	if err != nil {
		h.fail(w, err)
		return
	}
	if ops == nil {
		ops = []Operation{}
	}
	WriteJSON(w, 200, ops)
}

func (h *serviceRoutes) getOperation(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseUint(strings.TrimSpace(r.PathValue("id")), 10, 64)
	if err != nil || id == 0 {
		h.fail(w, NewError(syscall.EINVAL, "invalid operation id %q: want a positive integer", r.PathValue("id")))
		return
	}
	op, err := h.b.GetOperation(id)
	if err != nil {
		h.fail(w, err)
		return
	}
	WriteJSON(w, 200, op)
}

func (h *serviceRoutes) health(w http.ResponseWriter, r *http.Request) {
	hl, err := h.b.Health()
	if err != nil {
		h.fail(w, err)
		return
	}
	WriteJSON(w, 200, hl)
}

func (h *serviceRoutes) export(w http.ResponseWriter, r *http.Request) {
	snap, err := h.b.Export()
	if err != nil {
		h.fail(w, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(200)
	_, _ = w.Write(snap)
}
