package domain

import "time"

// AuditEntry is one staff action, as the audit log keeps it: who (the account, or a
// STAFF_IDS chat identity, or "cli" for the command line), with which role, what
// (the action and what it acted on), when, and from where (the client's address for
// the staff API, the chat for a chat command, "cli" for the command line).
type AuditEntry struct {
	ID      string    `json:"id"` // the log's own, newest highest; empty until recorded
	At      time.Time `json:"at"`
	Account string    `json:"account"`
	Role    Role      `json:"role,omitempty"`
	Action  string    `json:"action"`           // e.g. "complaint.dispose", "POST /api/admin/broadcasts", "staff.add"
	Target  string    `json:"target,omitempty"` // a ticket, a broadcast's or conversation's id, an account
	Detail  string    `json:"detail,omitempty"` // e.g. "agency=dlh"; never a password, token or message text
	From    string    `json:"from"`
	Status  int       `json:"status,omitempty"` // the staff API's answer
}

// AuditQuery picks entries of the audit log, newest first.
type AuditQuery struct {
	Account string // "" any
	Action  string // a prefix of the action ("complaint." every complaint action); "" any
	Before  string // an entry's ID: only older ones (the next page); "" from the newest
	Limit   int    // at most this many (default 100, at most 1000)
}
