package bot

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"
)

// Channel delivers replies on one platform. Send reports failures as *SendError so
// that the Sender can decide, by type and never by message text, whether to wait,
// retry, give up or mark the person as opted out.
type Channel interface {
	// Name is the channel's name as used in Message.Channel ("telegram", "webchat" ...).
	Name() string
	// Send delivers one reply to a recipient of this channel (to.Channel is Name()).
	Send(ctx context.Context, to Recipient, r Reply) error
}

// Recipient is whom replies go to: a chat on a channel, the language the replies
// are written in, and what they are for. A channel writes the few words it adds
// itself (a "reply with a number" hint, a button's label) and picks the template that
// stands in for the replies outside a platform's messaging window in Lang; "" is the
// default language. Sending is explicit: nothing about a send travels in the context.
type Recipient struct {
	Channel string // as in Message.Channel: "telegram", "whatsapp", "webchat" ...
	ChatID  string // as in Message.ChatID
	Lang    string // "id", "en", or "" for the default
	// Template says what news or a broadcast is for (see Template); nil for replies in
	// a conversation, which need none.
	Template *Template
}

// ErrorKind classifies a failed send.
type ErrorKind int

// The kinds of send failure.
const (
	ErrTemporary   ErrorKind = iota + 1 // network trouble, 5xx: retry with backoff
	ErrRateLimited                      // the platform asks us to wait RetryAfter
	ErrBlocked                          // the person blocked the bot: treat as opt-out
	ErrPermanent                        // will never work (bad chat id, message too long)
)

func (k ErrorKind) String() string {
	switch k {
	case ErrTemporary:
		return "temporary"
	case ErrRateLimited:
		return "rate limited"
	case ErrBlocked:
		return "blocked by user"
	case ErrPermanent:
		return "permanent"
	}
	return fmt.Sprintf("ErrorKind(%d)", int(k))
}

// SendError is the error a Channel returns when a send fails.
type SendError struct {
	Kind       ErrorKind
	RetryAfter time.Duration // for ErrRateLimited
	Err        error
}

func (e *SendError) Error() string {
	if e.Err == nil {
		return "send: " + e.Kind.String()
	}
	return "send: " + e.Kind.String() + ": " + e.Err.Error()
}

func (e *SendError) Unwrap() error { return e.Err }

// KindOf returns the kind of a send error; an error that is not a *SendError counts
// as temporary (it is most likely a network problem).
func KindOf(err error) ErrorKind {
	var se *SendError
	if errors.As(err, &se) {
		return se.Kind
	}
	return ErrTemporary
}

// What a channel needs of the rest of the runtime, declared once here; each channel
// takes them in its constructor and tests pass fakes.

// MessageHandler handles one message of a conversation and returns what to answer;
// *Engine is one.
type MessageHandler interface {
	Handle(ctx context.Context, m Message) (Outcome, error)
}

// ChannelSender delivers replies through the channels registered with it, each
// within its limits; *Sender is one. A channel registers itself when it is made.
type ChannelSender interface {
	Register(ch Channel, l Limits)
	Send(ctx context.Context, to Recipient, replies ...Reply) error
}

// Texts renders a text a person reads, by language and key; *locales.Catalog is one.
type Texts interface {
	Text(lang, key string, data map[string]any) (string, error)
}

// MediaSaver keeps a file a person sent and returns its name in the store and its
// MIME type; a refused file's error wraps ErrFileRefused. *store.Media is one.
type MediaSaver interface {
	Save(r io.Reader) (name, mime string, err error)
}

// MediaStore is a MediaSaver that also opens the files it keeps by the name Save gave
// them (a photo staff send, delivered by a channel that uploads it); *store.Media is
// one.
type MediaStore interface {
	MediaSaver
	Open(name string) (*os.File, error)
}
