package bot_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/layan-id/layan/bot"
	"github.com/layan-id/layan/flows"
	"github.com/layan-id/layan/locales"
	"github.com/layan-id/layan/store"
	"github.com/layan-id/layan/store/storetest"
)

// benchStore is the real Redis of LAYAN_TEST_REDIS_URL when set, else miniredis.
func benchStore(b *testing.B) (*store.Store, string) {
	if real, ok := storetest.Real(b); ok {
		return real.Store, "redis"
	}
	return storetest.Mini(b).Store, "miniredis"
}

func benchEngine(b *testing.B, st *store.Store) *bot.Engine {
	texts, err := locales.Load("", map[string]any{"Region": "Kabupaten Contoh"})
	if err != nil {
		b.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	router := flows.NewRouter(texts, log)
	return bot.NewEngine(bot.EngineConfig{
		Store:   st.Conversations(30*time.Second, time.Hour),
		Handler: router,
		Apology: router.Apology,
		Logger:  log,
	})
}

// rawRate measures go-redis GET+SET pairs per second from workers goroutines: the
// baseline the engine is compared with.
func rawRate(b *testing.B, rdb redis.UniversalClient, prefix string, workers int, d time.Duration) float64 {
	ctx := context.Background()
	var n atomic.Int64
	deadline := time.Now().Add(d)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			key := prefix + "bench:raw:" + strconv.Itoa(w)
			for time.Now().Before(deadline) {
				if err := rdb.Get(ctx, key).Err(); err != nil && err != redis.Nil {
					b.Error(err)
					return
				}
				if err := rdb.Set(ctx, key, "x", time.Minute).Err(); err != nil {
					b.Error(err)
					return
				}
				n.Add(1)
			}
		})
	}
	wg.Wait()
	return float64(n.Load()) / d.Seconds()
}

// BenchmarkEngine measures messages per second through the engine, the real router
// and the store, at 1 and 50 concurrent chats, and compares them with raw go-redis
// GET+SET round trips per second on the same Redis at the same concurrency.
//
//	LAYAN_TEST_REDIS_URL=redis://127.0.0.1:6379/0 go test -run X -bench Engine -benchtime 3s ./bot/
func BenchmarkEngine(b *testing.B) {
	st, backend := benchStore(b)
	e := benchEngine(b, st)
	run := randomID() // message ids must be new on every round, or the engine answers from its dedupe memory
	for _, chats := range []int{1, 50} {
		b.Run(fmt.Sprintf("%s/chats=%d", backend, chats), func(b *testing.B) {
			raw := rawRate(b, st.Client(), st.Prefix(), chats, time.Second)
			ctx := context.Background()
			var seq atomic.Int64
			b.ResetTimer()
			start := time.Now()
			var wg sync.WaitGroup
			per := (b.N + chats - 1) / chats
			for c := range chats {
				wg.Go(func() {
					for range per {
						m := bot.Message{Channel: "bench", ChatID: strconv.Itoa(c), UserID: strconv.Itoa(c),
							ID: run + strconv.FormatInt(seq.Add(1), 10), Kind: bot.KindText, Text: "menu"}
						if _, err := e.Handle(ctx, m); err != nil {
							b.Error(err)
							return
						}
					}
				})
			}
			wg.Wait()
			rate := float64(per*chats) / time.Since(start).Seconds()
			b.ReportMetric(rate, "msgs/s")
			b.ReportMetric(raw, "raw_get+set/s")
			b.ReportMetric(rate/raw, "ratio")
		})
	}
}

// BenchmarkEngineLatency offers 1,000 messages a second, spread over 200 chats, for
// two seconds (open loop: a slow answer does not slow the offer) and reports the
// median and 99th percentile time from receipt to replies.
//
//	LAYAN_TEST_REDIS_URL=redis://127.0.0.1:6379/0 go test -run X -bench EngineLatency -benchtime 1x ./bot/
func BenchmarkEngineLatency(b *testing.B) {
	st, backend := benchStore(b)
	e := benchEngine(b, st)
	b.Run(backend+"/offered=1000/s", func(b *testing.B) {
		const rate, seconds, chats = 1000, 2, 200
		ctx := context.Background()
		var all []time.Duration
		for range b.N {
			run := randomID() // new message ids each round: no answers from the dedupe memory
			lat := make([]time.Duration, rate*seconds)
			var wg sync.WaitGroup
			tick := time.NewTicker(time.Second / rate)
			for i := range lat {
				<-tick.C
				wg.Go(func() {
					m := bot.Message{Channel: "bench", ChatID: strconv.Itoa(i % chats), UserID: strconv.Itoa(i % chats),
						ID: run + strconv.Itoa(i), Kind: bot.KindText, Text: "menu"}
					t0 := time.Now()
					if _, err := e.Handle(ctx, m); err != nil {
						b.Error(err)
					}
					lat[i] = time.Since(t0)
				})
			}
			tick.Stop()
			wg.Wait()
			all = append(all, lat...)
		}
		slices.Sort(all)
		b.ReportMetric(ms(all[len(all)/2]), "p50_ms")
		b.ReportMetric(ms(all[len(all)*99/100]), "p99_ms")
		b.ReportMetric(ms(all[len(all)-1]), "max_ms")
	})
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func randomID() string {
	b := make([]byte, 6)
	rand.Read(b)
	return hex.EncodeToString(b) + "-"
}
