package store_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/layan-id/layan/domain"
	"github.com/layan-id/layan/store"
	"github.com/layan-id/layan/store/storetest"
)

func jakarta(t testing.TB) *time.Location {
	loc, err := time.LoadLocation("Asia/Jakarta")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func newComplaint(at time.Time, who string) *domain.Complaint {
	return &domain.Complaint{
		Status: domain.StatusReceived, Category: "jalan", Description: "jalan berlubang di depan pasar",
		Reporter:  domain.Reporter{Channel: "webchat", ChatID: who, Key: "webchat:" + who},
		CreatedAt: at, UpdatedAt: at,
		History: []domain.Event{{At: at, Status: domain.StatusReceived, By: "citizen"}},
	}
}

func TestTicketsAreNumberedPerDayAndCreatedOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		cs := b.Store.Complaints("BTG", jakarta(t))
		at := time.Date(2026, 11, 26, 20, 0, 0, 0, time.UTC) // 27 Nov 03:00 in Jakarta
		first, created, err := cs.Create(ctx, newComplaint(at, "a"), "conv-a:confirm-1")
		if err != nil || !created {
			t.Fatalf("create: %v %v", created, err)
		}
		if first.ID != "BTG-261127-0001" {
			t.Errorf("first ticket %q, want BTG-261127-0001 (the date in the region's time zone)", first.ID)
		}
		again, created, err := cs.Create(ctx, newComplaint(at, "a"), "conv-a:confirm-1")
		if err != nil || created || again.ID != first.ID {
			t.Errorf("the same confirmation again gave %q (created %v, %v), want the first ticket", again.ID, created, err)
		}
		second, _, _ := cs.Create(ctx, newComplaint(at, "b"), "conv-b:confirm-1")
		if second.ID != "BTG-261127-0002" {
			t.Errorf("second ticket %q", second.ID)
		}
		if all, total, _ := cs.List(ctx, "", 1, 10); total != 2 || len(all) != 2 || all[0].ID != second.ID {
			t.Errorf("list = %d of %d, newest first", len(all), total)
		}
		mine, _ := cs.ByReporter(ctx, "webchat:a", 10)
		if len(mine) != 1 || mine[0].ID != first.ID {
			t.Errorf("a's complaints = %v", mine)
		}
	})
}

func TestConcurrentConfirmationsGetDistinctTickets(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		cs := b.Store.Complaints("BTG", jakarta(t))
		at := time.Now()
		ids := make(chan string, 20)
		var wg sync.WaitGroup
		for i := range 20 {
			wg.Go(func() {
				cp, _, err := cs.Create(ctx, newComplaint(at, "p"), "idem-"+string(rune('a'+i)))
				if err != nil {
					t.Error(err)
					return
				}
				ids <- cp.ID
			})
		}
		wg.Wait()
		close(ids)
		seen := map[string]bool{}
		for id := range ids {
			if seen[id] {
				t.Errorf("ticket %s given twice", id)
			}
			seen[id] = true
		}
		if len(seen) != 20 {
			t.Errorf("%d tickets for 20 complaints", len(seen))
		}
	})
}

func TestStatusChangesMoveTheIndexesAndKeepHistory(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		cs := b.Store.Complaints("BTG", jakarta(t))
		cp, _, _ := cs.Create(ctx, newComplaint(time.Now(), "a"), "x")
		now := time.Now()
		_, err := cs.Update(ctx, cp.ID, func(c *domain.Complaint) error {
			return c.Transition(domain.StatusVerified, "telegram:7", "", now)
		})
		if err != nil {
			t.Fatal(err)
		}
		_, err = cs.Update(ctx, cp.ID, func(c *domain.Complaint) error {
			return c.Transition(domain.StatusReceived, "telegram:7", "", now)
		})
		if !errors.Is(err, domain.ErrIllegalTransition) {
			t.Errorf("going back to received = %v, want an illegal transition", err)
		}
		got, _ := cs.Get(ctx, cp.ID)
		if got.Status != domain.StatusVerified || len(got.History) != 2 || got.History[1].By != "telegram:7" {
			t.Errorf("after verification: %s, history %v", got.Status, got.History)
		}
		if l, n, _ := cs.List(ctx, domain.StatusVerified, 1, 10); n != 1 || l[0].ID != cp.ID {
			t.Errorf("verified list = %d", n)
		}
		if _, n, _ := cs.List(ctx, domain.StatusReceived, 1, 10); n != 0 {
			t.Errorf("received list still holds %d", n)
		}
		if _, err := cs.Get(ctx, "BTG-000000-9999"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("unknown id = %v", err)
		}
	})
}

func TestAnOverdueComplaintIsAnnouncedOncePerDeadline(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		loc := jakarta(t)
		cs := b.Store.Complaints("BTG", loc)
		monday := time.Date(2026, 11, 30, 8, 0, 0, 0, loc)
		routed := func(at time.Time, who string) *domain.Complaint {
			c := newComplaint(at, who)
			c.Agency = "pupr"
			return c
		}
		old, _, _ := cs.Create(ctx, routed(monday, "a"), "1")
		verified, _, _ := cs.Create(ctx, routed(monday, "b"), "2")
		cs.Update(ctx, verified.ID, func(c *domain.Complaint) error { return c.Verify("sari", "", monday.Add(time.Hour)) })
		cs.Create(ctx, routed(monday.AddDate(0, 0, 3), "c"), "3")
		if old.Phase != domain.PhaseVerify || !old.Due.Equal(time.Date(2026, 12, 4, 0, 0, 0, 0, loc)) {
			t.Errorf("filed Monday: %s due %s, want verification due Friday 00:00", old.Phase, old.Due)
		}
		claim := func(now time.Time) []string {
			var wg sync.WaitGroup
			got := make(chan string, 10)
			for range 3 { // three replicas at once
				wg.Go(func() {
					due, err := cs.ClaimOverdue(ctx, now)
					if err != nil {
						t.Error(err)
					}
					for _, d := range due {
						got <- d.ID
					}
				})
			}
			wg.Wait()
			close(got)
			var ids []string
			for id := range got {
				ids = append(ids, id)
			}
			return ids
		}
		if ids := claim(time.Date(2026, 12, 3, 23, 59, 0, 0, loc)); len(ids) != 0 {
			t.Errorf("announced before the deadline: %v", ids)
		}
		if ids := claim(time.Date(2026, 12, 4, 0, 1, 0, 0, loc)); len(ids) != 1 || ids[0] != old.ID {
			t.Errorf("announced %v, want only %s once", ids, old.ID)
		}
		if ids := claim(time.Date(2026, 12, 4, 9, 0, 0, 0, loc)); len(ids) != 0 {
			t.Errorf("announced again: %v", ids)
		}
		// Verified late, it has a new deadline: the agency's, announced when it passes.
		got, _ := cs.Update(ctx, old.ID, func(c *domain.Complaint) error { return c.Verify("sari", "", time.Date(2026, 12, 4, 9, 0, 0, 0, loc)) })
		if got.Phase != domain.PhaseFollowUp || !got.Due.Equal(time.Date(2026, 12, 12, 0, 0, 0, 0, loc)) {
			t.Errorf("verified Friday: %s due %s, want follow-up due the next Friday's end", got.Phase, got.Due)
		}
		if ids := claim(time.Date(2026, 12, 8, 0, 1, 0, 0, loc)); len(ids) != 1 || ids[0] != verified.ID {
			t.Errorf("Tuesday: %v, want %s (verified Monday, follow-up due end of the next Monday)", ids, verified.ID)
		}
		if ids := claim(time.Date(2026, 12, 12, 0, 1, 0, 0, loc)); len(ids) != 2 || !slices.Contains(ids, old.ID) {
			t.Errorf("the next Saturday: %v, want %s's follow-up and the third complaint's verification", ids, old.ID)
		}
	})
}
