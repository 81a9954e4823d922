package store

import (
	"encoding/json"
	"fmt"
	"time"
)

// OperationState is the lifecycle of an asynchronous operation.
type OperationState string

// Operation states. Pending and Running are live; the others are final.
const (
	OpPending   OperationState = "pending"
	OpRunning   OperationState = "running"
	OpSucceeded OperationState = "succeeded"
	OpFailed    OperationState = "failed"
	OpCancelled OperationState = "cancelled"
)

// Operation is an asynchronous job (apply, host add, upgrade, osd rm, ...)
// that API clients poll.
type Operation struct {
	ID       uint64          `json:"id"` // assigned by CreateOperation, increasing
	Kind     string          `json:"kind"`
	State    OperationState  `json:"state"`
	Progress float64         `json:"progress"` // 0..1
	Created  time.Time       `json:"created"`
	Updated  time.Time       `json:"updated"`
	Messages []string        `json:"messages,omitempty"`
	Result   json.RawMessage `json:"result,omitempty"`
	Error    string          `json:"error,omitempty"`
}

// CreateOperation stores a new operation with the next ID, Created and
// Updated set to now, and State pending if empty. It returns what it stored.
func (tx *Tx) CreateOperation(op Operation) (Operation, error) {
	if err := checkKey("operation kind", op.Kind); err != nil {
		return Operation{}, fmt.Errorf("store: create operation: %w", err)
	}
	if len(op.Result) > 0 {
		if err := checkJSON("operation result", op.Result); err != nil {
			return Operation{}, fmt.Errorf("store: create operation: %w", err)
		}
	}
	b, err := tx.mustBucket(bucketOps)
	if err != nil {
		return Operation{}, fmt.Errorf("store: create operation: %w", err)
	}
	id, err := b.NextSequence()
	if err != nil {
		return Operation{}, fmt.Errorf("store: create operation: %w", err)
	}
	now := tx.now()
	op.ID, op.Created, op.Updated = id, now, now
	if op.State == "" {
		op.State = OpPending
	}
	if err := putJSON(b, u64key(id), op); err != nil {
		return Operation{}, fmt.Errorf("store: create operation %d: %w", id, err)
	}
	return op, nil
}

// GetOperation returns the operation or ErrNotFound.
func (tx *Tx) GetOperation(id uint64) (Operation, error) {
	var op Operation
	b, err := tx.mustBucket(bucketOps)
	if err != nil {
		return op, fmt.Errorf("store: get operation %d: %w", id, err)
	}
	ok, err := getJSON(b, u64key(id), &op)
	if err != nil {
		return op, fmt.Errorf("store: get operation %d: %w", id, err)
	}
	if !ok {
		return op, fmt.Errorf("store: get operation %d: %w", id, ErrNotFound)
	}
	return op, nil
}

// UpdateOperation reads the operation, lets fn change it and writes it back
// with Updated set to now; fn's error aborts the update and is returned
// as is. ID and Created cannot be changed.
func (tx *Tx) UpdateOperation(id uint64, fn func(*Operation) error) (Operation, error) {
	op, err := tx.GetOperation(id)
	if err != nil {
		return Operation{}, err
	}
	created := op.Created
	if err := fn(&op); err != nil {
		return Operation{}, err
	}
	if len(op.Result) > 0 {
		if err := checkJSON("operation result", op.Result); err != nil {
			return Operation{}, fmt.Errorf("store: update operation %d: %w", id, err)
		}
	}
	op.ID, op.Created, op.Updated = id, created, tx.now()
	b, err := tx.mustBucket(bucketOps)
	if err == nil {
		err = putJSON(b, u64key(id), op)
	}
	if err != nil {
		return Operation{}, fmt.Errorf("store: update operation %d: %w", id, err)
	}
	return op, nil
}

// ListOperations returns every operation in ID (creation) order.
func (tx *Tx) ListOperations() ([]Operation, error) {
	b, err := tx.mustBucket(bucketOps)
	if err != nil {
		return nil, fmt.Errorf("store: list operations: %w", err)
	}
	var out []Operation
	err = b.ForEach(func(k, v []byte) error {
		var op Operation
		if err := decodeJSON(k, v, &op); err != nil {
			return err
		}
		out = append(out, op)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: list operations: %w", err)
	}
	return out, nil
}

// DeleteOperation removes an operation (retention is the caller's policy);
// ErrNotFound if there is none.
func (tx *Tx) DeleteOperation(id uint64) error {
	b, err := tx.mustBucket(bucketOps)
	if err != nil {
		return fmt.Errorf("store: delete operation %d: %w", id, err)
	}
	if b.Get(u64key(id)) == nil {
		return fmt.Errorf("store: delete operation %d: %w", id, ErrNotFound)
	}
	if err := b.Delete(u64key(id)); err != nil {
		return fmt.Errorf("store: delete operation %d: %w", id, err)
	}
	return nil
}
