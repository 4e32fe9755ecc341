// Package rungroup runs the long-lived parts of a service together: it starts them in
// the order they were added and, when the service stops, stops them in the reverse
// order, each one only after the one added after it has returned. A part added first
// (the store) therefore outlives every part that uses it, whatever each part does on
// its way out.
//
// It differs from github.com/oklog/run, which interrupts every actor at once: here
// stopping is sequential, which is what a graceful shutdown needs when later parts
// (a receiver finishing the message in hand) still use earlier ones (the store).
package rungroup

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// Group is a set of parts. The zero value is an empty group that logs nothing.
type Group struct {
	// Logger, when set, hears at Debug level when each part starts and stops.
	Logger *slog.Logger
	parts  []part
}

type part struct {
	name string
	run  func(ctx context.Context) error
}

// Add appends a part. run does the part's work until ctx ends, then stops the part
// (finishing what it has in hand) and returns: the part counts as stopped when run
// has returned. A run that returns while its ctx is still live, with or without an
// error, stops the group.
func (g *Group) Add(name string, run func(ctx context.Context) error) {
	g.parts = append(g.parts, part{name: name, run: run})
}

// Run starts the parts in the order they were added, each in its own goroutine with
// a context of its own (a part does not wait for the ones before it to be ready:
// what a part needs is built before Run), and runs until ctx ends or a part returns. Then it stops the
// parts in reverse order: it cancels a part's context and waits for its run to
// return before it stops the part added before it (a part that already returned is
// passed over). It returns the errors the parts returned, each with its part's name,
// joined; nil when every part returned nil.
func (g *Group) Run(ctx context.Context) error {
	type running struct {
		stop context.CancelFunc
		done chan struct{}
		err  error
	}
	returned := make(chan int, len(g.parts)) // a part returned before it was stopped
	all := make([]*running, len(g.parts))
	for i, p := range g.parts {
		pctx, stop := context.WithCancel(context.WithoutCancel(ctx))
		r := &running{stop: stop, done: make(chan struct{})}
		all[i] = r
		g.log("start", p.name)
		go func() {
			defer close(r.done)
			r.err = p.run(pctx)
			if pctx.Err() == nil {
				returned <- i
			}
		}()
	}
	select {
	case <-ctx.Done():
	case i := <-returned:
		g.log("returned early, stopping the others", g.parts[i].name)
	}
	var errs []error
	for i := len(all) - 1; i >= 0; i-- {
		r, name := all[i], g.parts[i].name
		r.stop()
		<-r.done
		g.log("stopped", name)
		if r.err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", name, r.err))
		}
	}
	return errors.Join(errs...)
}

func (g *Group) log(what, name string) {
	if g.Logger != nil {
		g.Logger.Debug("run group: "+what, "part", name)
	}
}

// Every returns the run function of a part that calls f at once and then every d,
// until its context ends. f gets that context; the part stops once f has returned.
func Every(d time.Duration, f func(ctx context.Context)) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		tick := time.NewTicker(d)
		defer tick.Stop()
		for {
			f(ctx)
			select {
			case <-ctx.Done():
				return nil
			case <-tick.C:
			}
		}
	}
}
