package broadcast_test

import (
	"context"
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/layan-id/layan/bot"
	"github.com/layan-id/layan/broadcast"
	"github.com/layan-id/layan/domain"
	"github.com/layan-id/layan/store"
	"github.com/layan-id/layan/store/storetest"
)

// countingChannel is a bot.Channel that only counts.
type countingChannel struct{ n atomic.Int64 }

func (c *countingChannel) Name() string { return "fake" }
func (c *countingChannel) Send(context.Context, bot.Recipient, bot.Reply) error {
	c.n.Add(1)
	return nil
}

// BenchmarkBroadcast100k delivers one broadcast to 100,000 subscribers through the
// shared Sender and a counting fake channel, with the channel's rate limit at
// 5,000/s and with none, and reports the achieved rate, its share of the limit and
// the peak heap:
//
//	LAYAN_TEST_REDIS_URL=redis://127.0.0.1:6379/0 go test -run X -bench Broadcast100k -benchtime 1x ./broadcast/
func BenchmarkBroadcast100k(b *testing.B) {
	for _, limit := range []float64{5000, 0} {
		b.Run(fmt.Sprintf("limit=%v", limit), func(b *testing.B) {
			for range b.N {
				benchOnce(b, limit)
			}
		})
	}
}

func benchOnce(b *testing.B, limit float64) {
	b.StopTimer()
	var st *store.Broadcasts
	if real, ok := storetest.Real(b); ok {
		st = real.Store.Broadcasts()
	} else {
		st = storetest.Mini(b).Store.Broadcasts()
	}
	ctx := context.Background()
	const n = 100_000
	rs := make([]domain.Recipient, n)
	for i := range rs {
		chat := fmt.Sprint(i)
		rs[i] = domain.Recipient{Key: "fake:" + chat, Channel: "fake", ChatID: chat, Lang: "id"}
	}
	if err := st.SubscribeMany(ctx, rs, "pengumuman"); err != nil {
		b.Fatal(err)
	}
	at := time.Now().Add(-time.Second)
	id, _ := st.Create(ctx, &domain.Broadcast{Topics: []string{"pengumuman"}, At: &at, State: domain.BroadcastActive,
		Text: map[string]string{"id": "Pengumuman"}, CreatedAt: at.Add(-time.Hour)})
	ch := &countingChannel{}
	sender := bot.NewSender(nil)
	sender.Register(ch, bot.Limits{PerSecond: limit, Burst: 50})
	s := broadcast.New(broadcast.Config{Store: st, Sender: sender, Workers: 64})
	if err := s.Schedule(ctx); err != nil {
		b.Fatal(err)
	}
	var peak atomic.Uint64
	stop := make(chan struct{})
	go func() {
		var m runtime.MemStats
		for {
			select {
			case <-stop:
				return
			case <-time.After(50 * time.Millisecond):
				runtime.ReadMemStats(&m)
				if m.HeapAlloc > peak.Load() {
					peak.Store(m.HeapAlloc)
				}
			}
		}
	}()
	b.StartTimer()
	start := time.Now()
	if err := s.Deliver(ctx); err != nil {
		b.Fatal(err)
	}
	elapsed := time.Since(start)
	b.StopTimer()
	close(stop)
	if got := ch.n.Load(); got != n {
		b.Fatalf("delivered %d, want %d", got, n)
	}
	runs, _ := st.Runs(ctx, id, 1)
	if runs[0].Sent != n {
		b.Fatalf("run counted %d sent", runs[0].Sent)
	}
	rate := float64(n) / elapsed.Seconds()
	b.ReportMetric(rate, "deliveries/s")
	if limit > 0 {
		b.ReportMetric(100*rate/limit, "%_of_limit")
	}
	b.ReportMetric(float64(peak.Load())/(1<<20), "peak_heap_MiB")
}
