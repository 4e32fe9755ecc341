package domain

import (
	"errors"
	"time"
)

// HandoffState is where a request to talk to a person stands.
type HandoffState string

// The states of a handoff: Waiting in the queue for a staff member, Active while one
// holds the conversation, Ended when either side closed it.
const (
	HandoffWaiting HandoffState = "waiting"
	HandoffActive  HandoffState = "active"
	HandoffEnded   HandoffState = "ended"
)

// HandoffStates lists the states in lifecycle order.
func HandoffStates() []HandoffState {
	return []HandoffState{HandoffWaiting, HandoffActive, HandoffEnded}
}

// Handoff is one request of a person to talk to a member of staff, and the
// conversation that follows until it ends. Only one staff member holds an active
// handoff (Assignee); the store's claim makes sure of it across replicas.
type Handoff struct {
	ID       string       `json:"id"`
	Conv     string       `json:"-"` // the conversation key (Message.Key): never shown, may hold a phone number
	Channel  string       `json:"channel"`
	ChatID   string       `json:"-"`
	Lang     string       `json:"lang"`
	State    HandoffState `json:"state"`
	Since    time.Time    `json:"since"`              // when the person asked
	Assignee string       `json:"assignee,omitempty"` // the staff member holding it
	LastText string       `json:"last_text,omitempty"`
	// AfterHours is true for a message left outside office hours: nobody is expected
	// to answer at once, so the wait is not timed.
	AfterHours bool      `json:"after_hours,omitempty"`
	EndedAt    time.Time `json:"ended_at,omitzero"`
	EndedBy    string    `json:"ended_by,omitempty"`
	Rating     int       `json:"rating,omitempty"`
}

// ErrHandoffHeld is returned when a staff member tries to take or answer a
// conversation that another staff member holds.
var ErrHandoffHeld = errors.New("held by another staff member")

// ErrHandoffEnded is returned for a change to a conversation that has ended.
var ErrHandoffEnded = errors.New("conversation has ended")

// HandoffEvent says that something happened to a handoff: "opened", "taken",
// "assigned", "ended", "erased", or "line" (Line is then the new line's number).
type HandoffEvent struct {
	ID   string `json:"id"`
	Kind string `json:"kind"`
	Line int64  `json:"line,omitempty"`
}

// Canned is a ready reply staff may send in a conversation (content:
// canned.<lang>.yaml).
type Canned struct {
	ID   string `json:"id"`
	Text string `json:"text"`
}
