package sshexec

import (
	"context"
	"errors"
	"fmt"

	"golang.org/x/sync/errgroup"
)

// DefaultFanOutLimit is FanOut's concurrency when limit <= 0 (cephadm
// uses 10; on 2 cores throughput saturates around 50).
const DefaultFanOutLimit = 50

// HostResult is the outcome of fn on one host.
type HostResult[T any] struct {
	Host  string
	Value T
	Err   error
}

// FanOut calls fn for every host, at most limit at a time, and returns the
// results in the order of hosts. A host whose fn fails (unreachable, bad
// exit, anything) is a result with Err set; it does not cancel the others.
// If ctx ends, hosts not yet started get ctx's error. fn must honour ctx.
func FanOut[T any](ctx context.Context, hosts []string, limit int, fn func(ctx context.Context, host string) (T, error)) []HostResult[T] {
	if limit <= 0 {
		limit = DefaultFanOutLimit
	}
	out := make([]HostResult[T], len(hosts))
	var g errgroup.Group // not WithContext: a failed host must not cancel the batch
	g.SetLimit(limit)
	for i, h := range hosts {
		out[i].Host = h
		if err := ctx.Err(); err != nil {
			out[i].Err = fmt.Errorf("%s: not started: %w", h, err)
			continue
		}
		g.Go(func() error {
			v, err := fn(ctx, h)
			out[i].Value, out[i].Err = v, err
			return nil
		})
	}
	_ = g.Wait() // every func returns nil; failures are in out
	return out
}

// Errors joins the errors of results (nil when every host succeeded).
func Errors[T any](results []HostResult[T]) error {
	var errs []error
	for _, r := range results {
		if r.Err != nil {
			errs = append(errs, r.Err)
		}
	}
	return errors.Join(errs...)
}

// RunAll runs argv on every host through FanOut. opts.Stdin must be nil
// (a reader can be consumed once); use FanOut with per-host readers.
func (p *Pool) RunAll(ctx context.Context, hosts []string, limit int, argv []string, opts RunOptions) []HostResult[Result] {
	return FanOut(ctx, hosts, limit, func(ctx context.Context, h string) (Result, error) {
		return p.Run(ctx, h, argv, opts)
	})
}
