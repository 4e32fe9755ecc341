package bot

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"time"
)

// Engine runs a Handler over incoming messages. For each message it
//
//   - waits until earlier messages of the same conversation are done (in this process
//     and, through the store's lock, in every process sharing the store);
//   - drops a message whose platform id was already handled within DedupeWindow;
//   - runs the handler on a copy of the session, with a time limit, turning a panic or
//     an error into a short apology in the person's language;
//   - saves the session and the dedupe mark together.
//
// Messages of different conversations run concurrently.
type Engine struct {
	store   ConversationStore
	handler Handler
	timeout time.Duration
	apology func(lang string) Reply
	log     *slog.Logger
	now     func() time.Time
	serial  *serial
}

// EngineConfig configures an Engine. Store and Handler are required.
type EngineConfig struct {
	Store   ConversationStore
	Handler Handler
	// Timeout bounds one handler run; default 10 s. The store's lock must outlive it.
	Timeout time.Duration
	// Apology is what a person sees when their message could not be handled, in
	// their language. Required.
	Apology func(lang string) Reply
	Logger  *slog.Logger
	Now     func() time.Time // for tests; default time.Now
}

// NewEngine returns an engine.
func NewEngine(cfg EngineConfig) *Engine {
	e := &Engine{
		store: cfg.Store, handler: cfg.Handler, timeout: cfg.Timeout, apology: cfg.Apology,
		log: cfg.Logger, now: cfg.Now, serial: newSerial(),
	}
	if e.timeout <= 0 {
		e.timeout = 10 * time.Second
	}
	if e.apology == nil {
		panic("bot: EngineConfig.Apology is required")
	}
	if e.log == nil {
		e.log = slog.Default()
	}
	if e.now == nil {
		e.now = time.Now
	}
	return e
}

// Outcome is the result of handling one message.
type Outcome struct {
	Replies []Reply
	// Duplicate is true when the message had been handled before; Replies then holds
	// what was answered the first time. Chat platforms must not send them again; a
	// client that retried a lost HTTP response may show them.
	Duplicate bool
	// Lang is the person's language after the turn ("" when not chosen or forgotten),
	// for clients that label their own controls.
	Lang string
}

// Handle handles one message and returns what to say. An error means the message was
// not handled (the store was unreachable or ctx ended) and may be retried: nothing was
// saved. A failing handler is not an error: the person gets an apology.
func (e *Engine) Handle(ctx context.Context, m Message) (Outcome, error) {
	key := m.Key()
	release, err := e.serial.acquire(ctx, key)
	if err != nil {
		return Outcome{}, fmt.Errorf("bot: wait for conversation: %w", err)
	}
	defer release()

	claim, err := e.store.Acquire(ctx, key, m.ID)
	if err != nil {
		return Outcome{}, err
	}
	if claim.Duplicate {
		if err := e.store.Release(ctx, claim); err != nil {
			e.log.WarnContext(ctx, "release conversation", "conv", LogID(key), "err", err)
		}
		e.log.InfoContext(ctx, "duplicate message dropped", "channel", m.Channel, "conv", LogID(key))
		return Outcome{Replies: claim.Replies, Duplicate: true, Lang: claim.Session.Lang}, nil
	}

	start := e.now()
	session, replies := e.run(ctx, m, claim.Session)
	out := Outcome{Replies: replies}
	if session != nil {
		session.LastActive = start
		out.Lang = session.Lang
	}
	if err := e.store.Commit(ctx, claim, session, replies); err != nil {
		// Do not release: the lock is gone or Redis is; it expires by itself.
		return Outcome{}, err
	}
	return out, nil
}

// run calls the handler on a copy of the session and returns the session to save and
// the replies; a nil session when the handler asked to forget the person. On error,
// panic or timeout it returns the original session and an apology, so a failed turn
// changes nothing.
func (e *Engine) run(ctx context.Context, m Message, orig *Session) (*Session, []Reply) {
	ctx, cancel := context.WithTimeout(ctx, e.timeout)
	defer cancel()

	t := &Turn{Msg: m, Session: cloneSession(orig)}
	done := make(chan error, 1)
	go func() {
		defer func() {
			if p := recover(); p != nil {
				done <- fmt.Errorf("panic: %v\n%s", p, debug.Stack())
			}
		}()
		done <- e.handler.Handle(ctx, t)
	}()

	var err error
	select {
	case err = <-done:
	case <-ctx.Done():
		err = fmt.Errorf("handler did not finish: %w", ctx.Err())
	}
	if err == nil && t.forget {
		return nil, t.Replies
	}
	if err == nil {
		return t.Session, t.Replies
	}
	e.log.ErrorContext(ctx, "message not handled", "channel", m.Channel, "conv", LogID(m.Key()),
		"flow", orig.Flow, "step", orig.Step, "err", err, "timeout", errors.Is(err, context.DeadlineExceeded))
	return orig, []Reply{e.apology(orig.Lang)}
}

func cloneSession(s *Session) *Session {
	b, err := json.Marshal(s)
	if err != nil {
		panic(fmt.Sprintf("bot: session is not JSON: %v", err)) // Session is plain data; cannot happen
	}
	var c Session
	if err := json.Unmarshal(b, &c); err != nil {
		panic(fmt.Sprintf("bot: session is not JSON: %v", err))
	}
	return &c
}

// LogID turns a conversation key (which may contain a phone number) into a short
// pseudonym fit for logs: the same conversation always gets the same LogID.
func LogID(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:6])
}
