package domain

import "time"

// Phase names a complaint's running deadline.
type Phase string

// The two deadlines of a complaint (SP4N-LAPOR's): verification and disposition to
// an agency, from filing; then the agency's follow-up, from the disposition (or from
// a reopening) until the complaint is finished or rejected.
const (
	PhaseVerify   Phase = "verify"
	PhaseFollowUp Phase = "followup"
)

// Default working days of the two deadlines (SLA_VERIFY_DAYS, SLA_FOLLOWUP_DAYS).
const (
	DefaultVerifyDays   = 3
	DefaultFollowUpDays = 5
)

// SLA is the region's deadlines in working days.
type SLA struct {
	VerifyDays   int // verification and disposition, from filing
	FollowUpDays int // the agency's follow-up until finished or rejected, from disposition
	Calendar     Calendar
}

// Deadline returns the complaint's running phase and when it ends; "" and the zero
// time once it is finished or rejected.
//
// Verification runs from filing until the complaint is both verified and passed to
// an agency (a verification passes it to the agency it was routed to); the follow-up
// from its latest disposition, or its reopening when that came later, until it is
// finished or rejected. Complaints filed before agencies existed (Schema 0) keep the
// old rule: verification runs only while the complaint is diterima, and the
// follow-up from its verification.
func (p SLA) Deadline(c *Complaint) (Phase, time.Time) {
	if c.Status.Closed() {
		return "", time.Time{}
	}
	var verified, disposed, reopened time.Time
	for _, e := range c.History {
		switch {
		case e.Kind == EventStatus && e.Status == StatusVerified:
			verified = e.At
		case e.Kind == EventStatus && e.Status == StatusReopened:
			reopened = e.At
		}
		if e.Agency != "" {
			disposed = e.At
		}
	}
	if c.Schema < ComplaintSchema {
		disposed = verified
		if c.Status != StatusReceived && disposed.IsZero() {
			disposed = c.CreatedAt
		}
	}
	if c.Status == StatusReceived || disposed.IsZero() {
		return PhaseVerify, p.Calendar.AddWorkingDays(c.CreatedAt, p.VerifyDays)
	}
	start := disposed
	if reopened.After(start) {
		start = reopened
	}
	return PhaseFollowUp, p.Calendar.AddWorkingDays(start, p.FollowUpDays)
}

// Overdue reports whether the complaint's running deadline (as the store last kept
// it) had passed at now.
func (c *Complaint) Overdue(now time.Time) bool {
	return c.Phase != "" && !c.Due.IsZero() && now.After(c.Due)
}

// DigestDay returns the day (2026-12-01) whose daily digest of overdue complaints is
// due at now, in the calendar's time zone: a working day, from hour:00 on; false
// otherwise. The store makes sure each day's digest goes once.
func (c Calendar) DigestDay(now time.Time, hour int) (string, bool) {
	now = now.In(c.Location())
	if !c.WorkingDay(now) || now.Hour() < hour {
		return "", false
	}
	return now.Format(time.DateOnly), true
}
