package bot

import (
	"context"
	"time"
)

// DedupeWindow is how long a handled platform message id is remembered: a message
// redelivered within it is never handled twice.
const DedupeWindow = 48 * time.Hour

// ConversationStore keeps sessions and the memory of handled messages, and makes sure
// that one conversation is worked on by one goroutine in one process at a time.
//
// The engine calls Acquire, runs the handler, then exactly one of Commit or Release.
type ConversationStore interface {
	// Acquire takes the conversation's lock, waiting while another process holds it
	// until ctx ends, and returns the session (a new empty one for a new conversation).
	// When msgID is not empty and was committed within DedupeWindow, the claim is
	// marked Duplicate and carries the replies given then.
	Acquire(ctx context.Context, key, msgID string) (*Claim, error)
	// Commit saves the session (deletes it when s is nil), remembers msgID with the
	// replies (nil: the id alone, see Message.Retryable), and releases the lock, in
	// one atomic step.
	Commit(ctx context.Context, c *Claim, s *Session, replies []Reply) error
	// Release gives up the lock without changing anything.
	Release(ctx context.Context, c *Claim) error
}

// Claim is a held conversation lock and what was read under it.
type Claim struct {
	Key       string
	MsgID     string
	Token     string // proves ownership of the lock
	Session   *Session
	Duplicate bool
	Replies   []Reply // for a duplicate: what was answered the first time
}

// HistoryReader is a ConversationStore that keeps a conversation's recent messages
// apart from its session: Commit moves the session's History into them (and saves
// the session without), and History reads them back, oldest first. The engine adds
// what a session read still holds (saved before the store kept them apart).
type HistoryReader interface {
	History(ctx context.Context, key string) ([]Line, error)
}
