package orchestrator

import (
	"fmt"
	"time"

	"github.com/orchceph/orch/api"
	"github.com/orchceph/orch/store"
)

// formatEvent renders an event as cephadm's OrchestratorEvent.to_json():
// `<created> <kind>:<subject> [<LEVEL>] "<message>"`.
func formatEvent(e store.Event) string {
	return fmt.Sprintf("%s %s:%s [%s] \"%s\"", fmtTime(e.Created), e.Kind, e.Subject, e.Level, e.Message)
}

func formatEvents(es []store.Event) []string {
	if len(es) == 0 {
		return nil
	}
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = formatEvent(e)
	}
	return out
}

// fmtTime is cephadm's datetime_to_str; "" for the zero time.
func fmtTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(api.TimeFormat)
}

// event records one event; a failure to store it is logged, never fatal:
// losing an event must not stop the reconciler.
func (r *Reconciler) event(kind store.EventKind, subject, level, format string, a ...any) {
	msg := fmt.Sprintf(format, a...)
	if _, err := r.st.AppendEvent(store.Event{Kind: kind, Subject: subject, Level: level, Message: msg}); err != nil {
		r.lg.Warn().Err(err).Str("subject", subject).Msg("store event")
	}
}

func (r *Reconciler) serviceEvent(svc, level, format string, a ...any) {
	r.event(store.EventService, svc, level, format, a...)
}

func (r *Reconciler) daemonEvent(name, level, format string, a ...any) {
	r.event(store.EventDaemon, name, level, format, a...)
}
