package notify_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/layan-id/layan/bot"
	"github.com/layan-id/layan/domain"
	"github.com/layan-id/layan/notify"
)

// downStore is a conversation store that is away: every Acquire fails.
type downStore struct {
	tries atomic.Int32
	last  atomic.Int64 // when the last try came, Unix ns
}

func (d *downStore) Acquire(context.Context, string, string) (*bot.Claim, error) {
	d.tries.Add(1)
	d.last.Store(time.Now().UnixNano())
	return nil, errors.New("connection refused")
}
func (d *downStore) Commit(context.Context, *bot.Claim, *bot.Session, []bot.Reply) error { return nil }
func (d *downStore) Release(context.Context, *bot.Claim) error                           { return nil }

// Complaint news whose turn cannot be prepared is tried five times with a growing
// pause and then given up at once: no pause after the last try (before, the
// notifier slept 16 s more after the fifth failure, and could not be stopped).
func TestComplaintNewsIsTriedFiveTimesWithoutAPauseAfterTheLast(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		st := &downStore{}
		log := slog.New(slog.NewTextHandler(io.Discard, nil))
		engine := bot.NewEngine(bot.EngineConfig{
			Store: st, Handler: bot.HandlerFunc(func(context.Context, *bot.Turn) error { return nil }),
			Apology: func(string) bot.Reply { return bot.Reply{} }, Logger: log,
		})
		defer engine.Close() // its kept goroutines end before the bubble does
		n, err := notify.New(notify.Config{
			Engine: engine,
			Sender: bot.NewSender(log), Texts: texts(t), Logger: log,
		})
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		n.StatusChanged(context.Background(), &domain.Complaint{
			ID: "ADU-261201-0001", Status: domain.StatusInProgress,
			Reporter: domain.Reporter{Channel: "webchat", ChatID: "c1", Key: "webchat:c1"},
		})
		n.Wait()
		if got := st.tries.Load(); got != 5 {
			t.Errorf("the news was tried %d times, want 5", got)
		}
		// Four pauses of about 1, 2, 4 and 8 s, each within ±50 %, and none after the
		// fifth try: the notifier gives up the moment it fails.
		if took := time.Since(start); took < 7*time.Second || took > 23*time.Second {
			t.Errorf("five tries took %v, want four growing pauses between them", took)
		}
		if after := time.Since(time.Unix(0, st.last.Load())); after != 0 {
			t.Errorf("the notifier gave up %v after the last try, want at once", after)
		}
	})
}
