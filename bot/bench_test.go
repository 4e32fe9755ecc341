package bot_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
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

func benchEngine(b *testing.B, st *store.Store) *bot.Engine { return benchEngineKeeping(b, st, 0) }

// benchEngineKeeping is benchEngine keeping the newest lines of each conversation's
// messages, as the service does (30, in their own list).
func benchEngineKeeping(b *testing.B, st *store.Store, lines int) *bot.Engine {
	texts, err := locales.Load("", map[string]any{"Region": "Kabupaten Contoh"})
	if err != nil {
		b.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	router := flows.NewRouter(texts, log)
	return bot.NewEngine(bot.EngineConfig{
		Store:   st.Conversations(30*time.Second, time.Hour).WithHistory(lines),
		History: bot.HistoryLimits{Lines: lines, Age: 30 * 24 * time.Hour},
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
// GET+SET round trips per second on the same Redis at the same concurrency, measured
// for 3 s before the engine and 3 s after, and averaged. The
// messages are a chat platform's (only their ids kept for the dedupe), and at 50 chats
// also the web chat's (Retryable: their answers kept an hour as well), and with the
// recent messages kept as the service keeps them.
//
//	LAYAN_TEST_REDIS_URL=redis://127.0.0.1:6379/0 go test -run X -bench Engine -benchtime 3s ./bot/
func BenchmarkEngine(b *testing.B) {
	st, backend := benchStore(b)
	e, keeping := benchEngine(b, st), benchEngineKeeping(b, st, 30)
	run := randomID() // message ids must be new on every round, or the engine answers from its dedupe memory
	for _, v := range []struct {
		chats int
		// "/retryable": messages as the web chat sends them, their answers kept for a
		// retry; "/history": the engine keeps the newest 30 lines of each conversation
		// as the service does.
		variant string
	}{{1, ""}, {50, ""}, {50, "/retryable"}, {50, "/history"}} {
		chats := v.chats
		e := e
		if v.variant == "/history" {
			e = keeping
		}
		b.Run(fmt.Sprintf("%s/chats=%d%s", backend, chats, v.variant), func(b *testing.B) {
			// The baseline is measured before and after the engine, and averaged: on this
			// VM it drifts by half from one run of a few seconds to the next.
			const rawFor = 3 * time.Second
			rawCPU := startCPU(st.Client())
			rawBefore := rawRate(b, st.Client(), st.Prefix(), chats, rawFor)
			rawGo, rawRedis := rawCPU.perOp(int(rawBefore * rawFor.Seconds()))
			ctx := context.Background()
			var seq atomic.Int64
			b.ResetTimer()
			cpu := startCPU(st.Client())
			start := time.Now()
			var wg sync.WaitGroup
			per := (b.N + chats - 1) / chats
			for c := range chats {
				wg.Go(func() {
					for range per {
						m := bot.Message{Channel: "bench", ChatID: strconv.Itoa(c), UserID: strconv.Itoa(c),
							ID: run + strconv.FormatInt(seq.Add(1), 10), Kind: bot.KindText, Text: "menu", Retryable: v.variant == "/retryable"}
						if _, err := e.Handle(ctx, m); err != nil {
							b.Error(err)
							return
						}
					}
				})
			}
			wg.Wait()
			rate := float64(per*chats) / time.Since(start).Seconds()
			goCPU, redisCPU := cpu.perOp(per * chats)
			b.StopTimer()
			rawAfter := rawRate(b, st.Client(), st.Prefix(), chats, rawFor)
			raw := (rawBefore + rawAfter) / 2
			b.ReportMetric(rate, "msgs/s")
			b.ReportMetric(raw, "raw_get+set/s")
			b.ReportMetric(rawAfter/rawBefore, "raw_after/before")
			b.ReportMetric(rate/raw, "ratio")
			// CPU time per message (per GET+SET pair for raw_), in this process and in
			// Redis: what the ratio is made of, and less moved by other work on the machine.
			b.ReportMetric(goCPU, "go_µs/msg")
			b.ReportMetric(redisCPU, "redis_µs/msg")
			b.ReportMetric(rawGo, "raw_go_µs/op")
			b.ReportMetric(rawRedis, "raw_redis_µs/op")
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

// cpuMark is the CPU time used so far by this process and by the Redis server.
type cpuMark struct {
	rdb          redis.UniversalClient
	self, server time.Duration
}

func startCPU(rdb redis.UniversalClient) cpuMark {
	return cpuMark{rdb: rdb, self: selfCPU(), server: serverCPU(rdb)}
}

// perOp returns the CPU time in µs per operation used since the mark, in this process
// and in Redis (0 for Redis when it does not say, as miniredis).
func (m cpuMark) perOp(ops int) (goUS, redisUS float64) {
	if ops <= 0 {
		return 0, 0
	}
	us := func(d time.Duration) float64 { return float64(d.Microseconds()) / float64(ops) }
	return us(selfCPU() - m.self), us(serverCPU(m.rdb) - m.server)
}

func selfCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// serverCPU reads used_cpu_sys and used_cpu_user from INFO cpu.
func serverCPU(rdb redis.UniversalClient) time.Duration {
	info, err := rdb.Info(context.Background(), "cpu").Result()
	if err != nil {
		return 0
	}
	var total float64
	for line := range strings.Lines(info) {
		k, v, ok := strings.Cut(strings.TrimSpace(line), ":")
		if ok && (k == "used_cpu_sys" || k == "used_cpu_user") {
			f, _ := strconv.ParseFloat(v, 64)
			total += f
		}
	}
	return time.Duration(total * float64(time.Second))
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func randomID() string {
	b := make([]byte, 6)
	rand.Read(b)
	return hex.EncodeToString(b) + "-"
}
