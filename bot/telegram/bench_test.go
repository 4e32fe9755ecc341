package telegram_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/layan-id/layan/bot"
	"github.com/layan-id/layan/bot/telegram"
)

// The webhook benchmarks run webhook mode end to end: updates POSTed to the webhook
// over HTTP (secret check, durable queue in Redis), taken by the workers, handled by
// the engine with the real router (a new person's "menu": greeting and menu, two
// replies), and sent with sendMessage to a local fake Bot API that answers at once.
// Latency is from just before the webhook POST to the update's first sendMessage
// reaching the fake.
//
// The Sender's limits are off: at Telegram's own 25 messages/s the benchmarks would
// measure the limiter. Use a real Redis for figures worth quoting:
//
//	redis-server --port 6399 --save '' --appendonly no --daemonize yes
//	LAYAN_TEST_REDIS_URL=redis://127.0.0.1:6399/0 go test -run X -bench Webhook -benchtime 5000x -count 3 -cpu 2 ./bot/telegram/

// BenchmarkWebhook is the closed loop: 32 connections (Telegram opens up to 40 to a
// webhook) post as fast as the webhook answers, and updates/s counts updates whose
// replies all reached the fake. Its latencies are mostly time spent in the queue.
func BenchmarkWebhook(b *testing.B) {
	w := newWebhookBench(b)
	const posters = 32
	b.ResetTimer()
	start := time.Now()
	var next atomic.Int64
	var wg sync.WaitGroup
	for range posters {
		wg.Go(func() {
			for {
				i := next.Add(1)
				if i > int64(b.N) {
					return
				}
				w.post(b, i)
			}
		})
	}
	wg.Wait()
	w.waitAll(b, b.N)
	elapsed := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "updates/s")
	w.report(b)
}

// BenchmarkWebhookLatency is the open loop: updates are offered at a steady 500 a
// second for 2 seconds (a slow answer does not slow the offer), each from a new
// person, and the latencies are reported.
func BenchmarkWebhookLatency(b *testing.B) {
	const rate, seconds = 500, 2
	w := newWebhookBench(b)
	b.ResetTimer()
	var n int64
	for range b.N {
		var wg sync.WaitGroup
		tick := time.NewTicker(time.Second / rate)
		for range rate * seconds {
			<-tick.C
			n++
			i := n
			wg.Go(func() { w.post(b, i) })
		}
		tick.Stop()
		wg.Wait()
	}
	w.waitAll(b, int(n))
	b.StopTimer()
	w.report(b)
}

// webhookBench is a channel in webhook mode on a fake Bot API that records when each
// chat's first reply arrives.
type webhookBench struct {
	url       string
	client    *http.Client
	base      int64 // chat ids of this run start here
	perUpdate int64 // replies per update

	mu        sync.Mutex
	posted    map[int64]time.Time // chat → when its update was posted
	firstSend map[int64]time.Time // chat → when its first reply reached the fake
	sends     atomic.Int64
}

func newWebhookBench(b *testing.B) *webhookBench {
	backend := e2eBackend(b)
	engine := e2eEngine(b, backend)
	api := newFakeAPI(b)
	w := &webhookBench{
		client: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}},
		base:   time.Now().UnixNano() % 1e12 * 1000, // new people on every run
		posted: map[int64]time.Time{}, firstSend: map[int64]time.Time{},
	}
	api.onSend = func(c call) {
		chat, _ := strconv.ParseInt(c.Params.Get("chat_id"), 10, 64)
		w.mu.Lock()
		if _, ok := w.firstSend[chat]; !ok {
			w.firstSend[chat] = c.At
		}
		w.mu.Unlock()
		w.sends.Add(1)
	}
	noLimits := bot.Limits{}
	discard := slog.New(slog.DiscardHandler)
	ch, err := telegram.New(telegram.Config{
		Token: testToken, Endpoint: api.endpoint(), Logger: discard, Limits: &noLimits,
		WebhookURL: "https://layan.contoh.test" + telegram.WebhookPath, WebhookSecret: testSecret,
	}, engine, bot.NewSender(discard), backend.Store.Telegram(), fakeTexts{})
	if err != nil {
		b.Fatal(err)
	}
	mux := http.NewServeMux()
	ch.Register(mux)
	srv := httptest.NewServer(mux)
	b.Cleanup(srv.Close)
	w.url = srv.URL + telegram.WebhookPath
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { ch.Run(ctx); close(done) }()
	b.Cleanup(func() { cancel(); <-done })
	for !ch.Receiving() {
		time.Sleep(time.Millisecond)
	}
	// One update first, to warm up and learn how many replies an update gets.
	w.post(b, 0)
	w.waitFor(b, 1)
	time.Sleep(200 * time.Millisecond)
	w.perUpdate = w.sends.Load()
	w.mu.Lock()
	clear(w.posted)
	clear(w.firstSend)
	w.mu.Unlock()
	w.sends.Store(0)
	return w
}

// post sends update i, from a person of its own, to the webhook.
func (w *webhookBench) post(b *testing.B, i int64) {
	chat := w.base + i
	req, _ := http.NewRequest("POST", w.url, bytes.NewReader([]byte(textUpdate(int(i)+1, chat, 1, "menu"))))
	req.Header.Set("X-Telegram-Bot-Api-Secret-Token", testSecret)
	req.Header.Set("Content-Type", "application/json")
	w.mu.Lock()
	w.posted[chat] = time.Now()
	w.mu.Unlock()
	resp, err := w.client.Do(req)
	if err != nil {
		b.Error(err)
		return
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b.Errorf("webhook answered %d", resp.StatusCode)
	}
}

// waitFor waits until n replies have reached the fake.
func (w *webhookBench) waitFor(b *testing.B, n int64) {
	deadline := time.Now().Add(2 * time.Minute)
	for w.sends.Load() < n {
		if time.Now().After(deadline) {
			b.Fatalf("only %d of %d replies arrived", w.sends.Load(), n)
		}
		time.Sleep(time.Millisecond)
	}
}

// waitAll waits until every reply of n updates has reached the fake.
func (w *webhookBench) waitAll(b *testing.B, n int) { w.waitFor(b, w.perUpdate*int64(n)) }

func (w *webhookBench) report(b *testing.B) {
	w.mu.Lock()
	lat := make([]time.Duration, 0, len(w.posted))
	for chat, at := range w.posted {
		lat = append(lat, w.firstSend[chat].Sub(at))
	}
	w.mu.Unlock()
	slices.Sort(lat)
	q := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))].Microseconds()) / 1000 }
	b.ReportMetric(q(0.50), "p50_ms")
	b.ReportMetric(q(0.99), "p99_ms")
	b.ReportMetric(q(1), "max_ms")
	b.ReportMetric(float64(w.perUpdate), "replies/update")
	b.ReportMetric(0, "ns/op")
}
