package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/layan-id/layan/domain"
	"github.com/layan-id/layan/store/storetest"
)

// TestRunsStartedByTheEarlierLayoutAreReadAndDelivered writes a broadcast with two
// runs the way the version before per-run hash tags did (every key under {bc}): one
// finished, one half delivered. The new code reads both as they are, delivers the
// rest of the second once to each recipient and closes it, and a new run of the same
// broadcast lives under its own hash tag.
func TestRunsStartedByTheEarlierLayoutAreReadAndDelivered(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		rdb, p := b.Store.Client(), b.Store.Prefix()
		bcs := b.Store.Broadcasts()
		at := time.Date(2026, 11, 29, 6, 0, 0, 0, time.UTC)
		bc := &domain.Broadcast{Topics: []string{"darurat"}, Cron: "0 6 * * *", State: domain.BroadcastActive,
			Text: map[string]string{"id": "Siaga banjir"}, CreatedAt: at.Add(-48 * time.Hour)}
		id, err := bcs.Create(ctx, bc)
		if err != nil {
			t.Fatal(err)
		}
		old, half := domain.RunID(id, at.Add(-24*time.Hour)), domain.RunID(id, at)
		// As written by the earlier version's startScript, Take and Done.
		must := func(err error) {
			t.Helper()
			if err != nil {
				t.Fatal(err)
			}
		}
		must(rdb.Set(ctx, p+"{bc}:fired:"+old, 1, time.Hour).Err())
		must(rdb.HSet(ctx, p+"{bc}:run:"+old, "state", "done", "recipients", 3, "sent", 2, "failed", 1, "started", at.Add(-24*time.Hour).UnixMilli(), "finished", at.Add(-23*time.Hour).UnixMilli(), "unknown", 0).Err())
		must(rdb.HSet(ctx, p+"{bc}:d:"+old, "telegram:1", "sent", "telegram:2", "sent", "telegram:3", "failed:blocked").Err())
		must(rdb.ZAdd(ctx, p+"{bc}:runs:"+id, redisZ(at.Add(-24*time.Hour).Unix(), old)).Err())
		must(rdb.Set(ctx, p+"{bc}:fired:"+half, 1, time.Hour).Err())
		must(rdb.HSet(ctx, p+"{bc}:run:"+half, "state", "delivering", "recipients", 10, "sent", 4, "started", at.UnixMilli()).Err())
		for i := range 10 {
			chat := fmt.Sprintf("telegram:%d", i)
			if i < 4 {
				must(rdb.HSet(ctx, p+"{bc}:d:"+half, chat, "sent").Err())
			} else {
				must(rdb.SAdd(ctx, p+"{bc}:rcpt:"+half, chat).Err())
			}
		}
		must(rdb.ZAdd(ctx, p+"{bc}:runs:"+id, redisZ(at.Unix(), half)).Err())
		must(rdb.SAdd(ctx, p+"{bc}:active", half).Err())

		runs, err := bcs.Runs(ctx, id, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(runs) != 2 || runs[1].State != domain.RunDone || runs[1].Sent != 2 || runs[1].Failed != 1 ||
			runs[0].State != domain.RunDelivering || runs[0].Pending != 6 || runs[0].Guarantee != domain.AtMostOnce {
			t.Fatalf("runs of the earlier layout read as %+v", runs)
		}
		// The rest of the half-delivered run, each once, then it closes.
		now := at.Add(time.Minute)
		got := map[string]int{}
		for {
			keys, err := bcs.Take(ctx, half, 4, time.Minute, now)
			if err != nil {
				t.Fatal(err)
			}
			if len(keys) == 0 {
				break
			}
			for _, k := range keys {
				got[k]++
				must(bcs.Done(ctx, half, k, domain.Sent, ""))
			}
		}
		if len(got) != 6 {
			t.Errorf("the new code took %v from the half-delivered run, want the 6 left, once each", got)
		}
		for k, n := range got {
			if n != 1 {
				t.Errorf("%s taken %d times", k, n)
			}
		}
		if done, err := bcs.Finish(ctx, half, domain.RunDone, time.Minute, now); err != nil || !done {
			t.Fatalf("the half-delivered run did not close: %v %v", done, err)
		}
		r, _ := bcs.Run(ctx, half)
		if r.State != domain.RunDone || r.Sent != 10 {
			t.Errorf("the earlier run closed as %+v, want done with 10 sent", r)
		}
		if active, _ := bcs.ActiveRuns(ctx); len(active) != 0 {
			t.Errorf("runs still active: %v", active)
		}

		// A new run lives under its own hash tag, and nothing of it under {bc}.
		must(bcs.Subscribe(ctx, domain.Recipient{Key: "telegram:77", Channel: "telegram", ChatID: "77"}, "darurat"))
		next := at.Add(24 * time.Hour)
		if ok, err := bcs.StartRun(ctx, bc, next, domain.RunDelivering, domain.AtLeastOnce, next); err != nil || !ok {
			t.Fatalf("start a new run: %v %v", ok, err)
		}
		run := domain.RunID(id, next)
		if n, _ := rdb.Exists(ctx, p+"{bc:"+run+"}:run", p+"{bc:"+run+"}:rcpt").Result(); n != 2 {
			t.Errorf("the new run's record and recipients are not under {bc:%s} (%d of 2 found)", run, n)
		}
		if n, _ := rdb.Exists(ctx, p+"{bc}:run:"+run, p+"{bc}:rcpt:"+run, p+"{bc}:stage:"+run).Result(); n != 0 {
			t.Errorf("%d keys of the new run under {bc}", n)
		}
		if r, _ := bcs.Run(ctx, run); r.State != domain.RunDelivering || r.Recipients != 1 || r.Guarantee != domain.AtLeastOnce {
			t.Errorf("new run %+v", r)
		}
	})
}

func redisZ(score int64, member string) redis.Z {
	return redis.Z{Score: float64(score), Member: member}
}
