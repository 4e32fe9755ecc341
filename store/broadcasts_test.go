package store_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/layan-id/layan/domain"
	"github.com/layan-id/layan/store/storetest"
)

func liveIDs(t *testing.T, ctx context.Context, b interface {
	Live(context.Context) ([]*domain.Broadcast, error)
}) []string {
	t.Helper()
	live, err := b.Live(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, bc := range live {
		ids = append(ids, bc.ID)
	}
	return ids
}

func TestTheSchedulerReadsOnlyBroadcastsThatMayStillRun(t *testing.T) {
	storetest.Each(t, func(t *testing.T, be storetest.Backend) {
		ctx := context.Background()
		b := be.Store.Broadcasts()
		at := time.Date(2026, 12, 6, 6, 0, 0, 0, time.UTC)
		var ids []string
		for _, text := range []string{"Peringatan banjir", "Jadwal vaksin", "Festival pantai"} {
			id, err := b.Create(ctx, &domain.Broadcast{Topics: []string{"pengumuman"}, Text: map[string]string{"id": text}, At: &at, State: domain.BroadcastActive})
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, id)
		}
		if got := liveIDs(t, ctx, b); !slices.Equal(got, ids) {
			t.Fatalf("live broadcasts = %v, want %v", got, ids)
		}
		b.Update(ctx, ids[0], func(bc *domain.Broadcast) error { bc.State = domain.BroadcastCancelled; return nil })
		b.Update(ctx, ids[1], func(bc *domain.Broadcast) error { bc.State = domain.BroadcastFinished; return nil })
		b.Update(ctx, ids[2], func(bc *domain.Broadcast) error { bc.State = domain.BroadcastPaused; return nil })
		if got := liveIDs(t, ctx, b); !slices.Equal(got, ids[2:]) {
			t.Errorf("after cancelling and finishing: live = %v, want only the paused %s", got, ids[2])
		}
		all, err := b.List(ctx)
		if err != nil || len(all) != 3 {
			t.Errorf("List = %d broadcasts (%v), want all 3 for staff", len(all), err)
		}

		t.Run("data written before the index is indexed once", func(t *testing.T) {
			rdb, p := be.Store.Client(), be.Store.Prefix()
			rdb.Del(ctx, p+"{bc}:live", p+"{bc}:live:v1")
			if got := liveIDs(t, ctx, b); !slices.Equal(got, ids[2:]) {
				t.Errorf("live after rebuilding the index = %v, want %v", got, ids[2:])
			}
		})
	})
}
