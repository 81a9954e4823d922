package api

import (
	"context"
	"net/http"
	"strconv"
	"syscall"
)

// BootstrapBackend is what the bootstrap routes need from the controller.
//
// Bootstrap validates the request and starts the bootstrap as an
// operation, returning at once (the attempt runs for tens of seconds and
// must not die with a client that goes away); BootstrapStatus reports an
// attempt (operation 0: the latest).
type BootstrapBackend interface {
	Bootstrap(ctx context.Context, r BootstrapRequest) (BootstrapStatus, error)
	BootstrapStatus(operation uint64) (BootstrapStatus, error)
}

func init() {
	registrars = append(registrars, func(h *Handler, backend any) {
		if b, ok := backend.(BootstrapBackend); ok {
			h.registerBootstrap(b)
		}
	})
}

func (h *Handler) registerBootstrap(b BootstrapBackend) {
	h.mux.HandleFunc("POST /bootstrap", func(w http.ResponseWriter, r *http.Request) {
		var req BootstrapRequest
		if err := ReadJSON(r, &req); err != nil {
			h.fail(w, err)
			return
		}
		st, err := b.Bootstrap(r.Context(), req)
		if err != nil {
			h.fail(w, err)
			return
		}
		WriteJSON(w, http.StatusAccepted, st)
	})
	h.mux.HandleFunc("GET /bootstrap", func(w http.ResponseWriter, r *http.Request) {
		var op uint64
		if v := r.URL.Query().Get("operation"); v != "" {
			n, err := strconv.ParseUint(v, 10, 64)
			if err != nil {
				h.fail(w, NewError(syscall.EINVAL, "invalid operation %q", v))
				return
			}
			op = n
		}
		st, err := b.BootstrapStatus(op)
		if err != nil {
			h.fail(w, err)
			return
		}
		WriteJSON(w, http.StatusOK, st)
	})
}

// AsError classifies err as the API would answer it (its errno and
// message); invalid lists extra sentinels that mean EINVAL. Backends use it
// to record the errno of a failure that happens after the request was
// answered (a bootstrap operation).
func AsError(err error, invalid ...error) *Error {
	return classify(err, nil, invalid...)
}
