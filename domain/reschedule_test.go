package domain

import (
	"errors"
	"testing"
	"time"
)

func TestARepeatedBroadcastIsRescheduledFromNowOn(t *testing.T) {
	now := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	yesterday := now.Add(-27 * time.Hour)
	bc := &Broadcast{Cron: "0 7 * * *", State: BroadcastPaused, LastFire: yesterday}
	if err := bc.Reschedule("30 6 * * 1-5", "sari", now); err != nil {
		t.Fatal(err)
	}
	if bc.Cron != "30 6 * * 1-5" || bc.RescheduledBy != "sari" || !bc.LastFire.Equal(now) || bc.State != BroadcastPaused {
		t.Errorf("after rescheduling: %+v; want the new schedule from now on, still paused", bc)
	}
	if err := bc.Reschedule("nonsense", "sari", now); err == nil || bc.Cron != "30 6 * * 1-5" {
		t.Errorf("a bad schedule: %v, cron %q", err, bc.Cron)
	}
	single := &Broadcast{At: &now, State: BroadcastActive}
	if err := single.Reschedule("0 7 * * *", "sari", now); !errors.Is(err, ErrNotRepeated) {
		t.Errorf("a single broadcast: %v", err)
	}
	cancelled := &Broadcast{Cron: "0 7 * * *", State: BroadcastCancelled}
	var stateErr *BroadcastStateError
	if err := cancelled.Reschedule("0 8 * * *", "sari", now); !errors.As(err, &stateErr) || cancelled.Cron != "0 7 * * *" {
		t.Errorf("a cancelled broadcast: %v", err)
	}
}
