package bot

import "time"

// The speakers of a handoff's transcript.
const (
	FromCitizen = "citizen"
	FromBot     = "bot"
	FromStaff   = "staff"
)

// Line is one message of a conversation's transcript: who said it, what, when, and
// for a photo or a place, a short mark of it.
type Line struct {
	From    string    `json:"from"`
	Text    string    `json:"text"`
	Options []Option  `json:"options,omitempty"`
	At      time.Time `json:"at"`
	By      string    `json:"by,omitempty"`     // the staff member, for FromStaff
	Media   string    `json:"media,omitempty"`  // a stored photo's name
	Status  string    `json:"status,omitempty"` // the reply's Status
}
