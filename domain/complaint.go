package domain

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Status is where a complaint stands.
type Status string

// The statuses of a complaint. A complaint is Received when filed, Verified once staff
// have checked it is real and theirs, InProgress while being handled, and Done when
// handled; Rejected (with a reason) when it will not be handled; Reopened when the
// citizen says a Done complaint is not resolved after all.
const (
	StatusReceived   Status = "diterima"
	StatusVerified   Status = "diverifikasi"
	StatusInProgress Status = "diproses"
	StatusDone       Status = "selesai"
	StatusRejected   Status = "ditolak"
	StatusReopened   Status = "dibuka_kembali"
)

// Statuses lists every status in lifecycle order.
func Statuses() []Status {
	return []Status{StatusReceived, StatusVerified, StatusInProgress, StatusDone, StatusRejected, StatusReopened}
}

// transitions says which status may follow which.
func transitions(from Status) []Status {
	switch from {
	case StatusReceived:
		return []Status{StatusVerified, StatusRejected}
	case StatusVerified:
		return []Status{StatusInProgress, StatusDone, StatusRejected}
	case StatusInProgress:
		return []Status{StatusDone, StatusRejected}
	case StatusDone:
		return []Status{StatusReopened}
	case StatusReopened:
		return []Status{StatusInProgress, StatusDone, StatusRejected}
	}
	return nil
}

// ErrNotFound is returned for a record that does not exist.
var ErrNotFound = errors.New("not found")

// ErrIllegalTransition is returned for a status change the lifecycle does not allow.
var ErrIllegalTransition = errors.New("illegal status change")

// ErrNoteRequired is returned when a finish comes without the note saying what was
// done, or a rejection without its reason.
var ErrNoteRequired = errors.New("a note is required")

// ReopenWindow is how long after Done a citizen may reopen a complaint.
const ReopenWindow = 7 * 24 * time.Hour

// Reporter is who filed a complaint and where to tell them about it.
type Reporter struct {
	Channel string `json:"channel"`
	ChatID  string `json:"chat_id"`
	Key     string `json:"key"` // the conversation key (Message.Key)
	Lang    string `json:"lang,omitempty"`
}

// EventKind says what an entry of a complaint's history records.
type EventKind string

// The kinds of history entries. A status change has no kind (so the entries of
// complaints filed before kinds existed read as status changes).
const (
	EventStatus    EventKind = ""          // Status is the new status
	EventDispose   EventKind = "dispose"   // passed to Agency; Status is unchanged
	EventDuplicate EventKind = "duplicate" // marked a duplicate of Ref (Status is ditolak)
	EventMessage   EventKind = "message"   // staff wrote Note to the citizen; Status is unchanged
)

// Event is one change in a complaint's life: who, when, what, and why. Every entry is
// shown to the citizen; internal notes are kept apart (Complaint.Notes).
type Event struct {
	At     time.Time `json:"at"`
	Status Status    `json:"status"` // the status after the event
	// By is "citizen", "system", a staff account's name, or the chat identity of a
	// STAFF_IDS entry (telegram:123), which has no account.
	By   string    `json:"by"`
	Note string    `json:"note,omitempty"`
	Kind EventKind `json:"kind,omitempty"`
	// Agency is the agency the complaint was passed to: set on EventDispose, and on a
	// verification that passed it to the agency it was routed to.
	Agency string `json:"agency,omitempty"`
	Ref    string `json:"ref,omitempty"` // the original, for EventDuplicate
}

// ComplaintSchema is the record version of complaints filed with agencies and working-
// day deadlines. Older records (0) are read as they are: no agency, and the old
// rule that only verification has a deadline before the follow-up.
const ComplaintSchema = 2

// Complaint is a citizen's report and its history.
type Complaint struct {
	ID           string    `json:"id"`
	Status       Status    `json:"status"`
	Category     string    `json:"category"`
	Description  string    `json:"description"`
	Location     *Location `json:"location,omitempty"`
	Address      string    `json:"address,omitempty"`
	Photos       []string  `json:"photos,omitempty"` // names in the media store
	Confidential bool      `json:"confidential"`     // staff see the reporter, the public record does not
	Reporter     Reporter  `json:"reporter"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
	History      []Event   `json:"history"`
	Rating       int       `json:"rating,omitempty"` // 1–5 after Done
	SLAAlerted   bool      `json:"sla_alerted,omitempty"`

	// Schema is the record version (ComplaintSchema for complaints filed now, 0 for
	// older ones).
	Schema int `json:"schema,omitempty"`
	// Agency is the code of the agency (region.yaml agencies) that must act: routed
	// from the category when filed, then set by each disposition. Empty: with the
	// admins.
	Agency string `json:"agency,omitempty"`
	// DuplicateOf is the complaint this one repeats; its reporter follows that one.
	DuplicateOf string `json:"duplicate_of,omitempty"`
	// Followers are the reporters of duplicates: they hear this complaint's news too.
	Followers []Reporter `json:"followers,omitempty"`
	// Notes are what staff wrote on the complaint, oldest first: internal notes (the
	// citizen never sees them; domain.Complaint.AddNote), and messages the staff
	// workspace sent to the reporter. Chat and API messages are history entries
	// (EventMessage).
	Notes []Note `json:"notes,omitempty"`
	// Phase and Due are the running deadline (see SLA.Deadline), kept by the store on
	// every write; no phase once the complaint is finished or rejected.
	Phase Phase     `json:"phase,omitempty"`
	Due   time.Time `json:"due,omitzero"`
}

// Transition changes the status, recording who did it, when and why. It refuses, in
// this order: a change the lifecycle does not allow (ErrIllegalTransition, also
// reopening more than ReopenWindow after Done), then a finish without a note saying
// what was done or a rejection without its reason (ErrNoteRequired; a note of only
// white space is none). A refused change leaves the complaint as it was.
func (c *Complaint) Transition(to Status, by, note string, at time.Time) error {
	allowed := false
	for _, s := range transitions(c.Status) {
		allowed = allowed || s == to
	}
	if !allowed {
		return fmt.Errorf("%w: from %s to %s", ErrIllegalTransition, c.Status, to)
	}
	if to == StatusReopened && at.Sub(c.doneAt()) > ReopenWindow {
		return fmt.Errorf("%w: done more than 7 days ago", ErrIllegalTransition)
	}
	if err := noteRule(to, note); err != nil {
		return err
	}
	c.Status, c.UpdatedAt = to, at
	c.History = append(c.History, Event{At: at, Status: to, By: by, Note: note})
	return nil
}

// noteRule is the rule of notes: finishing needs a note saying what was done,
// rejecting needs its reason.
func noteRule(to Status, note string) error {
	if strings.TrimSpace(note) != "" {
		return nil
	}
	switch to {
	case StatusDone:
		return fmt.Errorf("%w: finishing needs a note saying what was done", ErrNoteRequired)
	case StatusRejected:
		return fmt.Errorf("%w: a rejection needs its reason", ErrNoteRequired)
	}
	return nil
}

// doneAt is when the complaint last became Done.
func (c *Complaint) doneAt() time.Time {
	for i := len(c.History) - 1; i >= 0; i-- {
		if c.History[i].Status == StatusDone {
			return c.History[i].At
		}
	}
	return c.UpdatedAt
}

// CanReopen reports whether the citizen may still reopen the complaint.
func (c *Complaint) CanReopen(now time.Time) bool {
	return c.Status == StatusDone && now.Sub(c.doneAt()) <= ReopenWindow
}

// Note is something staff wrote on a complaint: an internal note that only staff
// see, or a message that was sent to the reporter.
type Note struct {
	At   time.Time `json:"at"`
	By   string    `json:"by"`
	Kind NoteKind  `json:"kind"`
	Text string    `json:"text"`
}

// NoteKind says whether a note stayed with staff or went to the reporter.
type NoteKind string

// The kinds of note.
const (
	NoteInternal NoteKind = "internal" // staff see it, the citizen never does
	NoteMessage  NoteKind = "message"  // sent to the reporter on their channel
)

// MaxNote is the longest note or message, in characters.
const MaxNote = 2000
