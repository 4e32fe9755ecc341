package store

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/layan-id/layan/domain"
)

// TestARunWhoseStarterDiedWhileCopyingIsFinishedByAnother: a process claims a run,
// copies part of its recipients and dies. Another process, about to deliver, finishes
// the copy; everyone is taken once, and a late copy by the first (a slow process, not
// a dead one) after delivery began adds nobody again.
func TestARunWhoseStarterDiedWhileCopyingIsFinishedByAnother(t *testing.T) {
	m := miniredis.RunT(t)
	rdb := redis.NewClient(&redis.Options{Addr: m.Addr()})
	t.Cleanup(func() { rdb.Close() })
	ctx := context.Background()
	first, second := New(rdb, "layan:").Broadcasts(), New(rdb, "layan:").Broadcasts()
	for i := range 50 {
		key := fmt.Sprintf("telegram:%d", i)
		if err := first.Subscribe(ctx, domain.Recipient{Key: key, Channel: "telegram", ChatID: key[9:]}, "darurat"); err != nil {
			t.Fatal(err)
		}
	}
	at := time.Date(2026, 11, 29, 6, 0, 0, 0, time.UTC)
	run := domain.RunID("S1", at)
	// The first process's StartRun, cut off after copying 20 recipients.
	keys := []string{first.key("fired", run), first.key("runs", "S1"), first.key("active"), first.key("stage", run), first.key("t", "darurat")}
	if n, err := startScript.Run(ctx, rdb, keys, run, at.Unix(), "delivering", time.Hour.Milliseconds()).Int(); err != nil || n != 50 {
		t.Fatalf("claim: %d %v", n, err)
	}
	ks := first.newRunKeys(run)
	if err := initRunScript.Run(ctx, rdb, []string{ks.run}, "delivering", at.UnixMilli(), "at_most_once").Err(); err != nil {
		t.Fatal(err)
	}
	staged, _ := rdb.SMembers(ctx, first.key("stage", run)).Result()
	copyPart := func(ms []string) int {
		args := make([]any, len(ms))
		for i, s := range ms {
			args[i] = s
		}
		n, err := fillScript.Run(ctx, rdb, []string{ks.rcpt, ks.d, ks.run}, args...).Int()
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	copyPart(staged[:20])
	if keys, _ := second.Take(ctx, run, 100, time.Minute, at); len(keys) != 0 {
		t.Fatalf("recipients taken from a run still filling: %v", keys)
	}
	if done, _ := second.Finish(ctx, run, domain.RunDone, time.Minute, at); done {
		t.Fatal("a run still filling was closed")
	}

	// The second process delivers: Prepare finishes the copy.
	if err := second.Prepare(ctx, run, domain.AtMostOnce, at); err != nil {
		t.Fatal(err)
	}
	taken := map[string]int{}
	first20, _ := second.Take(ctx, run, 25, time.Minute, at)
	for _, k := range first20 {
		taken[k]++
	}
	if copyPart(staged) != 0 { // the slow first process wakes up and copies again
		t.Error("a copy was accepted after the run began delivering")
	}
	for {
		keys, err := second.Take(ctx, run, 25, time.Minute, at)
		if err != nil {
			t.Fatal(err)
		}
		if len(keys) == 0 {
			break
		}
		for _, k := range keys {
			taken[k]++
		}
	}
	if len(taken) != 50 {
		t.Errorf("%d recipients taken, want all 50", len(taken))
	}
	for k, n := range taken {
		if n != 1 {
			t.Errorf("%s taken %d times", k, n)
		}
	}
	if r, _ := second.Run(ctx, run); r.Recipients != 50 || r.State != domain.RunDelivering {
		t.Errorf("run %+v, want 50 recipients, delivering", r)
	}
	if n, _ := rdb.Exists(ctx, first.key("stage", run)).Result(); n != 0 {
		t.Error("the stage was left behind")
	}
}
