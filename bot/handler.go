package bot

import "context"

// A Handler answers one turn of a conversation. It may change t.Session and add
// replies with t.Say. A returned error means the turn failed: the engine gives the
// person an apology and keeps the session as it was before the turn.
type Handler interface {
	Handle(ctx context.Context, t *Turn) error
}

// HandlerFunc adapts a function to a Handler.
type HandlerFunc func(ctx context.Context, t *Turn) error

// Handle calls f(ctx, t).
func (f HandlerFunc) Handle(ctx context.Context, t *Turn) error { return f(ctx, t) }

// Middleware wraps a Handler with behaviour that runs around it.
type Middleware func(Handler) Handler

// Chain wraps h in the middleware, the first one outermost.
func Chain(h Handler, mw ...Middleware) Handler {
	for i := len(mw) - 1; i >= 0; i-- {
		h = mw[i](h)
	}
	return h
}

// StepAccepter is a Handler that can tell, from a session alone, whether the
// conversation's current step takes a message of a kind (a photo at a complaint's
// photo step). Adapters ask through Engine.Accepts before they fetch or store a file.
type StepAccepter interface {
	Accepts(s *Session, kind Kind) bool
}
