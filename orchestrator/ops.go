package orchestrator

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/orchceph/orch/api"
	"github.com/orchceph/orch/store"
)

// Operation kinds.
const (
	opApply        = "apply"
	opServiceRm    = "service-rm"
	opDaemonAction = "daemon-action"
	opDaemonRm     = "daemon-rm"
)

// opDetail is an operation's persisted detail (store.Operation.Result):
// what it asked for and how far the reconciler got.
type opDetail struct {
	Services []opService `json:"services,omitempty"`
	Daemons  []opDaemon  `json:"daemons,omitempty"`
}

// opService tracks one service of an apply or rm: daemons to add and
// remove as first planned, and how many of them are done.
type opService struct {
	Name    string `json:"service_name"`
	Add     int    `json:"to_add"`
	Remove  int    `json:"to_remove"`
	Added   int    `json:"added"`
	Removed int    `json:"removed"`
	Planned bool   `json:"planned,omitempty"`
	Done    bool   `json:"done"`
	Error   string `json:"error,omitempty"`
}

// opDaemon is one daemon of a daemon action or removal.
type opDaemon struct {
	Name   string `json:"daemon_name"`
	Host   string `json:"hostname"`
	Action string `json:"action"`
	Image  string `json:"image,omitempty"`
	Done   bool   `json:"done"`
	Error  string `json:"error,omitempty"`
}

func (d *opDetail) progress() float64 {
	n, sum := 0, 0.0
	for _, s := range d.Services {
		n++
		switch {
		case s.Done:
			sum++
		case s.Add+s.Remove > 0:
			sum += float64(s.Added+s.Removed) / float64(s.Add+s.Remove)
		}
	}
	for _, dm := range d.Daemons {
		n++
		if dm.Done {
			sum++
		}
	}
	if n == 0 {
		return 1
	}
	return min(sum/float64(n), 1)
}

func decodeDetail(op *store.Operation) (*opDetail, error) {
	var d opDetail
	if len(op.Result) > 0 {
		if err := json.Unmarshal(op.Result, &d); err != nil {
			return nil, fmt.Errorf("operation %d detail: %w", op.ID, err)
		}
	}
	return &d, nil
}

func encodeDetail(op *store.Operation, d *opDetail) error {
	b, err := json.Marshal(d)
	if err != nil {
		return err
	}
	op.Result = b
	op.Progress = d.progress()
	return nil
}

// createOp stores a new pending operation within tx.
func createOp(tx *store.Tx, kind string, d *opDetail, msgs ...string) (store.Operation, error) {
	op := store.Operation{Kind: kind, State: store.OpPending, Messages: msgs}
	if err := encodeDetail(&op, d); err != nil {
		return op, err
	}
	return tx.CreateOperation(op)
}

func toAPIOperation(op store.Operation) api.Operation {
	return api.Operation{ID: op.ID, Kind: op.Kind, State: string(op.State), Progress: op.Progress,
		Created: fmtTime(op.Created), Updated: fmtTime(op.Updated), Messages: op.Messages,
		Detail: op.Result, Error: op.Error}
}

// ListOperations is GET /operations, oldest first.
func (r *Reconciler) ListOperations() ([]api.Operation, error) {
	ops, err := r.st.ListOperations()
	if err != nil {
		return nil, err
	}
	out := make([]api.Operation, 0, len(ops))
	for _, op := range ops {
		out = append(out, toAPIOperation(op))
	}
	return out, nil
}

// GetOperation is GET /operations/{id}.
func (r *Reconciler) GetOperation(id uint64) (api.Operation, error) {
	op, err := r.st.GetOperation(id)
	if errors.Is(err, store.ErrNotFound) {
		return api.Operation{}, notFoundf("operation %d not found", id)
	}
	if err != nil {
		return api.Operation{}, err
	}
	return toAPIOperation(op), nil
}

func live(op *store.Operation) bool {
	return op.State == store.OpPending || op.State == store.OpRunning
}

// updateOp rewrites a live operation's detail with fn and derives its
// state: failed when fn reports an error, succeeded when every item is
// done, running otherwise.
func (r *Reconciler) updateOp(id uint64, fn func(d *opDetail) (failed string)) {
	_, err := r.st.UpdateOperation(id, func(op *store.Operation) error {
		if !live(op) {
			return errSkip
		}
		d, err := decodeDetail(op)
		if err != nil {
			return err
		}
		failed := fn(d)
		if err := encodeDetail(op, d); err != nil {
			return err
		}
		done := true
		for _, s := range d.Services {
			done = done && s.Done
		}
		for _, dm := range d.Daemons {
			done = done && dm.Done
		}
		switch {
		case failed != "":
			op.State, op.Error = store.OpFailed, failed
		case done:
			op.State, op.Progress = store.OpSucceeded, 1
		default:
			op.State = store.OpRunning
		}
		return nil
	})
	if err != nil && !errors.Is(err, errSkip) {
		r.lg.Warn().Err(err).Uint64("operation", id).Msg("update operation")
	}
}

var errSkip = errors.New("skip")

// pruneOps drops the oldest finished operations beyond MaxOperations.
func (r *Reconciler) pruneOps(ops []store.Operation) {
	finished := 0
	for i := range ops {
		if !live(&ops[i]) {
			finished++
		}
	}
	excess := finished - r.opts.MaxOperations
	if excess <= 0 {
		return
	}
	err := r.st.Update(func(tx *store.Tx) error {
		for i := range ops {
			if excess == 0 {
				break
			}
			if live(&ops[i]) {
				continue
			}
			if err := tx.DeleteOperation(ops[i].ID); err != nil && !errors.Is(err, store.ErrNotFound) {
				return err
			}
			excess--
		}
		return nil
	})
	if err != nil {
		r.lg.Warn().Err(err).Msg("prune operations")
	}
}
