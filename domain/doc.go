// Package domain holds what Layan is about, apart from any chat platform, store or
// screen, with its rules in one place: complaints and their lifecycle
// (Complaint.Transition: which status may follow which, a finish needs a note and a
// rejection its reason, reopening within ReopenWindow); broadcasts with their
// schedules (ParseSchedule; Timing says when one runs as a person would), the rules a
// new one must meet (BroadcastRules, used by the staff API and the chat's /siaran
// alike), the state changes staff make (Broadcast.Apply) and their runs;
// conversations handed to a person; staff roles and agencies; and places.
//
// It depends on no other Layan package; flows, the store, the channels, the staff API
// and the broadcast service all depend on it.
package domain
