package domain

import (
	"testing"
	"time"
)

func jakarta(t *testing.T) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("Asia/Jakarta")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func at(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.ParseInLocation("2006-01-02 15:04", s, jakarta(t))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// Deadlines count working days after the day something happened, skipping weekends
// and the content's holidays, and end at midnight in the region.
func TestWorkingDayDeadlines(t *testing.T) {
	cal, err := NewCalendar(jakarta(t), []string{"2026-12-25"})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		from string
		n    int
		want string
	}{
		{"2026-11-30 08:00", 3, "2026-12-04 00:00"}, // Monday morning: Tue, Wed, Thu
		{"2026-12-04 21:00", 3, "2026-12-10 00:00"}, // Friday evening: Mon, Tue, Wed
		{"2026-12-05 10:00", 3, "2026-12-10 00:00"}, // Saturday: the same
		{"2026-12-23 09:00", 3, "2026-12-30 00:00"}, // Wed before Christmas: Thu, (Fri holiday), Mon, Tue
		{"2026-12-01 09:00", 5, "2026-12-09 00:00"},
		{"2026-12-01 23:59", 0, "2026-12-02 00:00"},
	} {
		if got := cal.AddWorkingDays(at(t, c.from), c.n); !got.Equal(at(t, c.want)) {
			t.Errorf("%s + %d working days = %s, want %s", c.from, c.n, got.In(jakarta(t)).Format("2006-01-02 15:04 Mon"), c.want)
		}
	}
	if cal.WorkingDay(at(t, "2026-12-25 10:00")) || cal.WorkingDay(at(t, "2026-12-26 10:00")) || !cal.WorkingDay(at(t, "2026-12-24 10:00")) {
		t.Error("Christmas and a Saturday are not working days, the 24th (Thursday) is")
	}
	// The region's day, not UTC's: 2026-12-25 02:00 in Jakarta is still the 24th in UTC.
	if cal.WorkingDay(time.Date(2026, 12, 24, 19, 0, 0, 0, time.UTC)) {
		t.Error("19:00 UTC on the 24th is Christmas morning in Jakarta")
	}
	if _, err := NewCalendar(nil, []string{"25-12-2026"}); err == nil {
		t.Error("a holiday written day first was accepted")
	}
}

func TestTheRunningDeadlineFollowsTheComplaint(t *testing.T) {
	cal, _ := NewCalendar(jakarta(t), nil)
	sla := SLA{VerifyDays: 3, FollowUpDays: 5, Calendar: cal}
	filed := at(t, "2026-11-30 08:00") // Monday
	c := &Complaint{Schema: ComplaintSchema, Status: StatusReceived, Agency: "pupr", CreatedAt: filed,
		History: []Event{{At: filed, Status: StatusReceived, By: "citizen"}}}
	check := func(what string, phase Phase, due string) {
		t.Helper()
		p, d := sla.Deadline(c)
		if p != phase || (due == "" && !d.IsZero()) || (due != "" && !d.Equal(at(t, due))) {
			t.Errorf("%s: %q due %s, want %q due %s", what, p, d.In(jakarta(t)), phase, due)
		}
	}
	check("filed", PhaseVerify, "2026-12-04 00:00")
	if err := c.Verify("sari", "", at(t, "2026-12-02 10:00")); err != nil {
		t.Fatal(err)
	}
	if e := c.History[len(c.History)-1]; e.Agency != "pupr" {
		t.Errorf("verifying a routed complaint passed it to %q, want pupr", e.Agency)
	}
	check("verified and so passed to its agency", PhaseFollowUp, "2026-12-10 00:00") // Wed + 5: Thu Fri Mon Tue Wed
	if err := c.Dispose("dlh", []string{"pupr", "dlh"}, "sari", "sampah, bukan jalan", at(t, "2026-12-07 09:00")); err != nil {
		t.Fatal(err)
	}
	check("passed to another agency", PhaseFollowUp, "2026-12-15 00:00")
	c.Transition(StatusInProgress, "budi", "", at(t, "2026-12-08 09:00"))
	check("in progress: the follow-up runs until it is finished", PhaseFollowUp, "2026-12-15 00:00")
	c.Finish("budi", "sudah diangkut", at(t, "2026-12-09 09:00"))
	check("finished", "", "")
	c.Transition(StatusReopened, "citizen", "", at(t, "2026-12-10 09:00"))
	check("reopened: a new follow-up from the reopening", PhaseFollowUp, "2026-12-18 00:00")

	// A complaint of a category no agency is routed: verified, it still waits for
	// its disposition within the first deadline.
	u := &Complaint{Schema: ComplaintSchema, Status: StatusReceived, CreatedAt: filed,
		History: []Event{{At: filed, Status: StatusReceived, By: "citizen"}}}
	u.Verify("sari", "", at(t, "2026-12-01 09:00"))
	if p, d := sla.Deadline(u); p != PhaseVerify || !d.Equal(at(t, "2026-12-04 00:00")) {
		t.Errorf("verified without an agency: %q %s, want verify due Friday 00:00", p, d)
	}
	u.Dispose("pupr", []string{"pupr"}, "sari", "", at(t, "2026-12-02 09:00"))
	if p, _ := sla.Deadline(u); p != PhaseFollowUp {
		t.Errorf("then passed on: %q, want followup", p)
	}

	// An old record (no schema): verified under the old rule starts the follow-up.
	old := &Complaint{Status: StatusVerified, CreatedAt: filed, History: []Event{
		{At: filed, Status: StatusReceived, By: "citizen"}, {At: at(t, "2026-12-01 09:00"), Status: StatusVerified, By: "telegram:1"}}}
	if p, d := sla.Deadline(old); p != PhaseFollowUp || !d.Equal(at(t, "2026-12-09 00:00")) {
		t.Errorf("old verified complaint: %q %s, want followup due 2026-12-09", p, d)
	}
}

func TestOverdueAndTheDailyDigest(t *testing.T) {
	cal, _ := NewCalendar(jakarta(t), []string{"2026-12-25"})
	c := &Complaint{Phase: PhaseVerify, Due: at(t, "2026-12-04 00:00")}
	if c.Overdue(at(t, "2026-12-03 23:59")) || !c.Overdue(at(t, "2026-12-04 00:01")) {
		t.Error("overdue from its deadline on")
	}
	c.Phase = ""
	if c.Overdue(at(t, "2026-12-10 00:00")) {
		t.Error("a finished complaint is never overdue")
	}
	for _, c := range []struct {
		now, day string
	}{
		{"2026-12-01 06:59", ""},
		{"2026-12-01 07:00", "2026-12-01"},
		{"2026-12-01 15:00", "2026-12-01"},
		{"2026-12-05 07:30", ""}, // Saturday
		{"2026-12-25 07:30", ""}, // holiday
	} {
		day, ok := cal.DigestDay(at(t, c.now), 7)
		if day != c.day || ok != (c.day != "") {
			t.Errorf("digest at %s: %q %v, want %q", c.now, day, ok, c.day)
		}
	}
}
