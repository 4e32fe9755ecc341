package domain

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// ParseStatus reads a status name as staff type it: in any case, with "-" or a space
// for "_", in Indonesian (diterima, diverifikasi, diproses, selesai, ditolak,
// dibuka_kembali) or English (received, verified, in_progress, done, rejected,
// reopened).
func ParseStatus(s string) (Status, bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	s = strings.NewReplacer("-", "_", " ", "_").Replace(s)
	english := map[string]Status{
		"received": StatusReceived, "verified": StatusVerified, "in_progress": StatusInProgress,
		"processing": StatusInProgress, "done": StatusDone, "finished": StatusDone,
		"rejected": StatusRejected, "reopened": StatusReopened,
	}
	if st, ok := english[s]; ok {
		return st, true
	}
	st := Status(s)
	return st, slices.Contains(Statuses(), st)
}

// Closed reports whether nothing more is to be done: the complaint is finished or
// rejected (a finished one may still be reopened by its reporter).
func (s Status) Closed() bool { return s == StatusDone || s == StatusRejected }

// Action is one thing staff do to a complaint.
type Action string

// The staff actions on a complaint.
const (
	ActVerify    Action = "verify"    // diterima → diverifikasi; passes it to its routed agency
	ActDispose   Action = "dispose"   // pass it (again) to an agency
	ActProcess   Action = "process"   // → diproses
	ActFinish    Action = "finish"    // → selesai, with a note
	ActReject    Action = "reject"    // → ditolak, with a reason
	ActReopen    Action = "reopen"    // selesai → dibuka_kembali (staff on the citizen's word)
	ActDuplicate Action = "duplicate" // → ditolak as a duplicate of another; its reporter follows that one
	ActNote      Action = "note"      // an internal note
	ActMessage   Action = "message"   // a message to the citizen
)

// Actions lists every staff action.
func Actions() []Action {
	return []Action{ActVerify, ActDispose, ActProcess, ActFinish, ActReject, ActReopen, ActDuplicate, ActNote, ActMessage}
}

// Permission is what a role needs to take the action: triage (verify, dispose,
// reject, mark a duplicate) is the admins' (the desk that passes complaints on); the
// work on a complaint (process, finish, reopen, notes, messages) is also the
// officers' of its agency.
func (a Action) Permission() Permission {
	switch a {
	case ActVerify, ActDispose, ActReject, ActDuplicate:
		return PermTriage
	}
	return PermComplaints
}

// ActionFor returns the action that moves a complaint to status to (the old
// "status" request of the staff API and the status commands in chat).
func ActionFor(to Status) (Action, bool) {
	switch to {
	case StatusVerified:
		return ActVerify, true
	case StatusInProgress:
		return ActProcess, true
	case StatusDone:
		return ActFinish, true
	case StatusRejected:
		return ActReject, true
	case StatusReopened:
		return ActReopen, true
	}
	return "", false
}

// Errors of the staff actions.
var (
	// ErrBadDuplicate is a complaint marked a duplicate of itself or of a duplicate.
	ErrBadDuplicate = errors.New("cannot be marked a duplicate")
	// ErrUnknownAgency is a disposition to an agency the region does not have.
	ErrUnknownAgency = errors.New("unknown agency")
)

// VisibleTo reports whether a staff account may see the complaint at all: an
// officer sees only the complaints of their agency, every other role every
// complaint. Outside it the complaint is, to them, not found.
func (c *Complaint) VisibleTo(acc StaffAccount) bool {
	return acc.Role != RoleOfficer || (acc.Agency != "" && c.Agency == acc.Agency)
}

// Verify marks the complaint verified. A complaint routed to an agency is thereby
// passed to it: the history entry names the agency, and the follow-up deadline
// starts.
func (c *Complaint) Verify(by, note string, at time.Time) error {
	if err := c.Transition(StatusVerified, by, note, at); err != nil {
		return err
	}
	c.History[len(c.History)-1].Agency = c.Agency
	return nil
}

// Dispose passes the complaint to an agency (known lists the region's agency
// codes), or passes it again to another one; the note says why, for the history.
// A finished or rejected complaint is not passed on, nor one already with that
// agency (since its last disposition).
func (c *Complaint) Dispose(agency string, known []string, by, note string, at time.Time) error {
	if !slices.Contains(known, agency) {
		return fmt.Errorf("%w %q (one of %s)", ErrUnknownAgency, agency, strings.Join(known, ", "))
	}
	if c.Status.Closed() {
		return fmt.Errorf("%w: a complaint that is %s is not passed on", ErrIllegalTransition, c.Status)
	}
	if c.Agency == agency && c.disposedAt() != (time.Time{}) {
		return fmt.Errorf("%w: already with %s", ErrIllegalTransition, agency)
	}
	c.Agency, c.UpdatedAt = agency, at
	c.History = append(c.History, Event{At: at, Status: c.Status, By: by, Note: note, Kind: EventDispose, Agency: agency})
	return nil
}

// Finish marks the complaint done; note says what was done (required).
func (c *Complaint) Finish(by, note string, at time.Time) error {
	if strings.TrimSpace(note) == "" {
		if err := c.probe(StatusDone, at); err != nil {
			return err
		}
		return fmt.Errorf("%w: finishing needs a note saying what was done", ErrNoteRequired)
	}
	return c.Transition(StatusDone, by, note, at)
}

// Reject rejects the complaint; reason is required.
func (c *Complaint) Reject(by, reason string, at time.Time) error {
	if strings.TrimSpace(reason) == "" {
		if err := c.probe(StatusRejected, at); err != nil {
			return err
		}
		return fmt.Errorf("%w: a rejection needs its reason", ErrNoteRequired)
	}
	return c.Transition(StatusRejected, by, reason, at)
}

// probe reports whether the lifecycle allows moving to status to, changing nothing.
func (c *Complaint) probe(to Status, at time.Time) error {
	p := *c
	p.History = slices.Clone(c.History)
	return p.Transition(to, "", "probe", at)
}

// MarkDuplicate closes the complaint as a duplicate of orig: it becomes ditolak with
// the original's ticket as its note, and its reporter follows orig (hears orig's
// news). orig must be another complaint that is not itself a duplicate.
func (c *Complaint) MarkDuplicate(orig *Complaint, by string, at time.Time) error {
	switch {
	case orig.ID == c.ID:
		return fmt.Errorf("%w: a complaint is not a duplicate of itself", ErrBadDuplicate)
	case orig.DuplicateOf != "":
		return fmt.Errorf("%w: %s is itself a duplicate of %s; mark it a duplicate of that one", ErrBadDuplicate, orig.ID, orig.DuplicateOf)
	}
	if err := c.Transition(StatusRejected, by, orig.ID, at); err != nil {
		return err
	}
	e := &c.History[len(c.History)-1]
	e.Kind, e.Ref = EventDuplicate, orig.ID
	c.DuplicateOf = orig.ID
	if c.Reporter.Key != orig.Reporter.Key && !slices.ContainsFunc(orig.Followers, func(r Reporter) bool { return r.Key == c.Reporter.Key }) {
		orig.Followers = append(orig.Followers, c.Reporter)
	}
	return nil
}

// AddNote adds an internal note, which the citizen never sees.
func (c *Complaint) AddNote(by, text string, at time.Time) error {
	if strings.TrimSpace(text) == "" {
		return fmt.Errorf("%w: a note needs its text", ErrNoteRequired)
	}
	c.Notes = append(c.Notes, Note{At: at, By: by, Kind: NoteInternal, Text: text})
	return nil
}

// Message records a message from staff to the citizen in the history (the citizen is
// told through the usual news of a change).
func (c *Complaint) Message(by, text string, at time.Time) error {
	if strings.TrimSpace(text) == "" {
		return fmt.Errorf("%w: a message needs its text", ErrNoteRequired)
	}
	c.UpdatedAt = at
	c.History = append(c.History, Event{At: at, Status: c.Status, By: by, Note: text, Kind: EventMessage})
	return nil
}

// disposedAt is when the complaint was last passed to an agency (zero: never).
func (c *Complaint) disposedAt() time.Time {
	for i := len(c.History) - 1; i >= 0; i-- {
		if c.History[i].Agency != "" {
			return c.History[i].At
		}
	}
	return time.Time{}
}

// ActionInput is what an action takes besides who and when.
type ActionInput struct {
	Note     string   // finish: what was done; reject: the reason; dispose: why; note, message: the text
	Agency   string   // dispose: the agency's code
	Agencies []string // dispose: the region's agency codes
}

// Do takes action a on the complaint (every action but ActDuplicate, which changes
// two complaints: see MarkDuplicate). The errors are those of the action:
// ErrIllegalTransition, ErrNoteRequired, ErrUnknownAgency.
func (c *Complaint) Do(a Action, by string, in ActionInput, at time.Time) error {
	switch a {
	case ActVerify:
		return c.Verify(by, in.Note, at)
	case ActDispose:
		return c.Dispose(in.Agency, in.Agencies, by, in.Note, at)
	case ActProcess:
		return c.Transition(StatusInProgress, by, in.Note, at)
	case ActFinish:
		return c.Finish(by, in.Note, at)
	case ActReject:
		return c.Reject(by, in.Note, at)
	case ActReopen:
		return c.Transition(StatusReopened, by, in.Note, at)
	case ActNote:
		return c.AddNote(by, in.Note, at)
	case ActMessage:
		return c.Message(by, in.Note, at)
	}
	return fmt.Errorf("%w: %q is not an action on one complaint", ErrIllegalTransition, a)
}
