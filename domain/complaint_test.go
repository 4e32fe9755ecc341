package domain_test

import (
	"errors"
	"testing"
	"time"

	"github.com/layan-id/layan/domain"
)

// complaintAt returns a complaint that went through the statuses path, a minute apart.
func complaintAt(t *testing.T, start time.Time, path ...domain.Status) *domain.Complaint {
	t.Helper()
	c := &domain.Complaint{Status: domain.StatusReceived, CreatedAt: start, UpdatedAt: start,
		History: []domain.Event{{At: start, Status: domain.StatusReceived, By: "citizen"}}}
	for i, s := range path {
		if err := c.Transition(s, "staff", "catatan", start.Add(time.Duration(i+1)*time.Minute)); err != nil {
			t.Fatalf("setting up %v: %v", path, err)
		}
	}
	return c
}

func TestFinishingNeedsANoteAndRejectingNeedsAReason(t *testing.T) {
	start := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name string
		path []domain.Status
		to   domain.Status
		note string
		want error
	}{
		{"finishing a verified complaint without a note", []domain.Status{domain.StatusVerified}, domain.StatusDone, "", domain.ErrNoteRequired},
		{"finishing with a note of only white space", []domain.Status{domain.StatusVerified}, domain.StatusDone, " \n\t", domain.ErrNoteRequired},
		{"finishing a complaint in progress without a note", []domain.Status{domain.StatusVerified, domain.StatusInProgress}, domain.StatusDone, "", domain.ErrNoteRequired},
		{"rejecting without a reason", nil, domain.StatusRejected, "", domain.ErrNoteRequired},
		{"rejecting with a reason of only spaces", nil, domain.StatusRejected, "   ", domain.ErrNoteRequired},
		{"finishing with a note", []domain.Status{domain.StatusVerified}, domain.StatusDone, "lubang sudah ditambal", nil},
		{"rejecting with a reason", nil, domain.StatusRejected, "bukan wewenang kabupaten", nil},
		{"verifying needs no note", nil, domain.StatusVerified, "", nil},
		{"an illegal finish without a note is illegal first", nil, domain.StatusDone, "", domain.ErrIllegalTransition},
		{"an illegal rejection of a finished complaint without a reason is illegal first",
			[]domain.Status{domain.StatusVerified, domain.StatusDone}, domain.StatusRejected, "", domain.ErrIllegalTransition},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := complaintAt(t, start, tc.path...)
			before, events := c.Status, len(c.History)
			err := c.Transition(tc.to, "Siti", tc.note, start.Add(time.Hour))
			if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
				t.Fatalf("Transition(%s, %q) = %v, want %v", tc.to, tc.note, err, tc.want)
			}
			if err != nil {
				if c.Status != before || len(c.History) != events {
					t.Errorf("a refused change changed the complaint: %s with %d events", c.Status, len(c.History))
				}
				return
			}
			if last := c.History[len(c.History)-1]; c.Status != tc.to || last.Status != tc.to || last.By != "Siti" || last.Note != tc.note {
				t.Errorf("after the change: status %s, last event %+v", c.Status, last)
			}
		})
	}
}

func TestACitizenReopensWithinSevenDaysOfDoneOnly(t *testing.T) {
	start := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	done := start.Add(2 * time.Minute)
	for _, tc := range []struct {
		after time.Duration
		ok    bool
	}{{time.Hour, true}, {domain.ReopenWindow, true}, {domain.ReopenWindow + time.Second, false}} {
		c := complaintAt(t, start, domain.StatusVerified, domain.StatusDone)
		if got := c.CanReopen(done.Add(tc.after)); got != tc.ok {
			t.Errorf("CanReopen %v after done = %v, want %v", tc.after, got, tc.ok)
		}
		err := c.Transition(domain.StatusReopened, "citizen", "", done.Add(tc.after))
		if tc.ok != (err == nil) || !tc.ok && !errors.Is(err, domain.ErrIllegalTransition) {
			t.Errorf("reopening %v after done: %v, want allowed %v", tc.after, err, tc.ok)
		}
	}
}
