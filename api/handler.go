package api

import (
	"context"
	"net/http"
	"strconv"
	"syscall"
)

// HostBackend is what the host and SSH routes need from the controller.
type HostBackend interface {
	Status(ctx context.Context) Status

	ListHosts() ([]Host, error)
	AddHost(ctx context.Context, r AddHostRequest) (AddHostResponse, error)
	RemoveHost(ctx context.Context, name string, force, offline bool) (string, error)
	AddLabel(name, label string) (string, error)
	RemoveLabel(name, label string, force bool) (string, error)
	SetAddr(ctx context.Context, name, addr string) (string, error)
	CheckHost(ctx context.Context, name string) (string, error)
	SetHostKey(ctx context.Context, name string, r HostKeyRequest) (AddHostResponse, error)

	GenerateKey(ctx context.Context) (string, error)
	PublicKey() (string, error)
	SetPrivateKey(ctx context.Context, pem string) (string, error)
	SetPublicKey(ctx context.Context, key string) (string, error)
	ClearKey() (string, error)
	User() (string, error)
	SetUser(ctx context.Context, user string) (string, error)
	SSHConfig() (string, error)
	SetSSHConfig(ctx context.Context, text string) (string, error)
	ClearSSHConfig() (string, error)
}

// Handler routes API requests to the controller. Each area of the API
// (hosts, inventory, services, ...) lives in its own handler_*.go file
// with its own consumer-side backend interface and registers its routes
// through registrars; an area whose interface the backend does not
// implement is simply not served.
type Handler struct {
	invalid []error
	classes []ErrorClass
	mux     *http.ServeMux
}

// registrars add each area's routes; appended by init functions only.
var registrars []func(h *Handler, backend any)

// NewHandler builds the router. invalid lists extra sentinel errors that
// mean EINVAL (spec.ErrInvalidSpec).
func NewHandler(backend any, invalid ...error) *Handler {
	h := &Handler{invalid: invalid, mux: http.NewServeMux()}
	for _, r := range registrars {
		r(h, backend)
	}
	h.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		WriteError(w, NewError(syscall.ENOENT, "no such API route: %s %s", r.Method, r.URL.Path))
	})
	return h
}

// MapErrors makes errors of the given classes answer with errno (checked
// after errors that carry their own errno and after the EINVAL classes).
func (h *Handler) MapErrors(classes ...ErrorClass) *Handler {
	h.classes = append(h.classes, classes...)
	return h
}

// Mux returns the router so that registrars can add routes.
func (h *Handler) Mux() *http.ServeMux { return h.mux }

func init() {
	registrars = append(registrars, func(h *Handler, backend any) {
		if b, ok := backend.(HostBackend); ok {
			h.registerHosts(b)
		}
	})
}

// hostRoutes serves HostBackend.
type hostRoutes struct {
	*Handler
	b HostBackend
}

func (h *Handler) registerHosts(b HostBackend) {
	hr := &hostRoutes{Handler: h, b: b}
	m := h.mux
	r0 := hr
	m.HandleFunc("GET /status", func(w http.ResponseWriter, r *http.Request) { WriteJSON(w, 200, b.Status(r.Context())) })
	m.HandleFunc("GET /hosts", r0.listHosts)
	m.HandleFunc("POST /hosts", r0.addHost)
	m.HandleFunc("DELETE /hosts/{host}", r0.removeHost)
	m.HandleFunc("POST /hosts/{host}/labels", r0.addLabel)
	m.HandleFunc("DELETE /hosts/{host}/labels/{label}", r0.removeLabel)
	m.HandleFunc("POST /hosts/{host}/addr", r0.setAddr)
	m.HandleFunc("POST /hosts/{host}/check", r0.checkHost)
	m.HandleFunc("POST /hosts/{host}/hostkey", r0.setHostKey)
	m.HandleFunc("POST /ssh/generate-key", func(w http.ResponseWriter, r *http.Request) { r0.message(w, wrapCtx(r, b.GenerateKey)) })
	m.HandleFunc("DELETE /ssh/key", func(w http.ResponseWriter, r *http.Request) { r0.message(w, b.ClearKey) })
	m.HandleFunc("DELETE /ssh/config", func(w http.ResponseWriter, r *http.Request) { r0.message(w, b.ClearSSHConfig) })
	m.HandleFunc("GET /ssh/{what}", r0.sshGet)
	m.HandleFunc("PUT /ssh/{what}", r0.sshSet)
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, MaxBodyBytes)
	h.mux.ServeHTTP(w, r)
}

func wrapCtx(r *http.Request, f func(context.Context) (string, error)) func() (string, error) {
	return func() (string, error) { return f(r.Context()) }
}

// Fail writes err with the handler's EINVAL classes.
func (h *Handler) Fail(w http.ResponseWriter, err error) { writeError(w, err, h.classes, h.invalid...) }

func (h *Handler) fail(w http.ResponseWriter, err error) { h.Fail(w, err) }

// Message runs f and writes its message (or error).
func (h *Handler) Message(w http.ResponseWriter, f func() (string, error)) { h.message(w, f) }

func (h *Handler) message(w http.ResponseWriter, f func() (string, error)) {
	msg, err := f()
	if err != nil {
		h.fail(w, err)
		return
	}
	WriteJSON(w, 200, Message{Message: msg})
}

func boolParam(r *http.Request, name string) bool {
	v, _ := strconv.ParseBool(r.URL.Query().Get(name))
	return v
}

func (h *hostRoutes) listHosts(w http.ResponseWriter, r *http.Request) {
	hs, err := h.b.ListHosts()
	if err != nil {
		h.fail(w, err)
		return
	}
	WriteJSON(w, 200, hs)
}

func (h *hostRoutes) addHost(w http.ResponseWriter, r *http.Request) {
	var req AddHostRequest
	if err := ReadJSON(r, &req); err != nil {
		h.fail(w, err)
		return
	}
	resp, err := h.b.AddHost(r.Context(), req)
	if err != nil {
		h.fail(w, err)
		return
	}
	WriteJSON(w, 200, resp)
}

func (h *hostRoutes) removeHost(w http.ResponseWriter, r *http.Request) {
	h.message(w, func() (string, error) {
		return h.b.RemoveHost(r.Context(), r.PathValue("host"), boolParam(r, "force"), boolParam(r, "offline"))
	})
}

func (h *hostRoutes) addLabel(w http.ResponseWriter, r *http.Request) {
	var req LabelRequest
	if err := ReadJSON(r, &req); err != nil {
		h.fail(w, err)
		return
	}
	h.message(w, func() (string, error) { return h.b.AddLabel(r.PathValue("host"), req.Label) })
}

func (h *hostRoutes) removeLabel(w http.ResponseWriter, r *http.Request) {
	h.message(w, func() (string, error) {
		return h.b.RemoveLabel(r.PathValue("host"), r.PathValue("label"), boolParam(r, "force"))
	})
}

func (h *hostRoutes) setAddr(w http.ResponseWriter, r *http.Request) {
	var req AddrRequest
	if err := ReadJSON(r, &req); err != nil {
		h.fail(w, err)
		return
	}
	h.message(w, func() (string, error) { return h.b.SetAddr(r.Context(), r.PathValue("host"), req.Addr) })
}

func (h *hostRoutes) checkHost(w http.ResponseWriter, r *http.Request) {
	h.message(w, func() (string, error) { return h.b.CheckHost(r.Context(), r.PathValue("host")) })
}

func (h *hostRoutes) setHostKey(w http.ResponseWriter, r *http.Request) {
	var req HostKeyRequest
	if err := ReadJSON(r, &req); err != nil {
		h.fail(w, err)
		return
	}
	resp, err := h.b.SetHostKey(r.Context(), r.PathValue("host"), req)
	if err != nil {
		h.fail(w, err)
		return
	}
	WriteJSON(w, 200, resp)
}

func (h *hostRoutes) sshGet(w http.ResponseWriter, r *http.Request) {
	var f func() (string, error)
	switch r.PathValue("what") {
	case "pub-key":
		f = h.b.PublicKey
	case "user":
		f = h.b.User
	case "config":
		f = h.b.SSHConfig
	default:
		h.fail(w, NewError(syscall.EINVAL, "unknown ssh setting %q: want pub-key, user or config", r.PathValue("what")))
		return
	}
	v, err := f()
	if err != nil {
		h.fail(w, err)
		return
	}
	WriteJSON(w, 200, Text{Value: v})
}

func (h *hostRoutes) sshSet(w http.ResponseWriter, r *http.Request) {
	var t Text
	if err := ReadJSON(r, &t); err != nil {
		h.fail(w, err)
		return
	}
	ctx := r.Context()
	var f func() (string, error)
	switch r.PathValue("what") {
	case "priv-key":
		f = func() (string, error) { return h.b.SetPrivateKey(ctx, t.Value) }
	case "pub-key":
		f = func() (string, error) { return h.b.SetPublicKey(ctx, t.Value) }
	case "user":
		f = func() (string, error) { return h.b.SetUser(ctx, t.Value) }
	case "config":
		f = func() (string, error) { return h.b.SetSSHConfig(ctx, t.Value) }
	default:
		h.fail(w, NewError(syscall.EINVAL, "unknown ssh setting %q: want priv-key, pub-key, user or config", r.PathValue("what")))
		return
	}
	h.message(w, f)
}
