package telegram

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/layan-id/layan/bot"
)

// The path benchmarks measure the channel's own share of an update's cost, without
// Redis or the engine: what a webhook update costs to receive (BenchmarkReceive),
// and what one reply costs to send (BenchmarkSend, BenchmarkSendLoopback). Run them
// with -benchmem: allocations are what the garbage collector pays for later.
//
//	go test -run X -bench 'Receive|Send' -benchmem ./bot/telegram/

// BenchmarkReceive is one webhook update taken from its POST to the job that handles
// it: the secret checked, the body read and checked, queued (in memory here), then
// read back by the worker and turned into its job, alternately a typed text and a
// pressed button.
func BenchmarkReceive(b *testing.B) {
	q := &memQueue{}
	c := benchChannel(b, q, nil)
	bodies := [][]byte{
		[]byte(benchText(1, 1122334455, 7, "ktp ku ilang gmn")),
		[]byte(benchCallback(2, 1122334455, 8, "tourism:cat:pantai")),
	}
	req := httptest.NewRequest("POST", WebhookPath, nil)
	req.Header.Set("X-Telegram-Bot-Api-Secret-Token", "s3cret")
	w := &discardWriter{h: http.Header{}}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		req.Body = io.NopCloser(bytes.NewReader(bodies[i%2]))
		w.code = 0
		c.webhook(w, req)
		if w.code != http.StatusOK {
			b.Fatalf("webhook answered %d", w.code)
		}
		jobs, err := c.open("1-0", q.take())
		if err != nil || len(jobs) != 1 {
			b.Fatalf("open: %d jobs, %v", len(jobs), err)
		}
	}
}

// BenchmarkSend is one reply with a menu of four options sent with sendMessage, to
// an http.RoundTripper that answers at once: the channel's and the Bot API client's
// own work, without the network.
func BenchmarkSend(b *testing.B) {
	c := benchChannel(b, &memQueue{}, &http.Client{Transport: cannedAPI{}})
	to, reply := benchReply()
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if err := c.Send(ctx, to, reply); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSendLoopback is BenchmarkSend through the default HTTP client to a Bot
// API on the loopback interface, from 64 goroutines at once (the default Workers):
// also the transport's connections, kept or opened anew.
func BenchmarkSendLoopback(b *testing.B) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, sentMessage)
	}))
	var conns atomic.Int64
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	b.Cleanup(srv.Close)
	c := benchChannel(b, &memQueue{}, nil)
	c.endpoint = srv.URL + "/bot%s/%s"
	to, reply := benchReply()
	ctx := context.Background()
	b.ReportAllocs()
	b.SetParallelism(max(1, 64/runtime.GOMAXPROCS(0)))
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := c.Send(ctx, to, reply); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(conns.Load())/float64(b.N), "conns/op")
}

// sentMessage is the Bot API's answer to a sendMessage.
const sentMessage = `{"ok":true,"result":{"message_id":4711,"from":{"id":6000000001,"is_bot":true,"first_name":"Layan","username":"LayanTestBot"},"chat":{"id":1122334455,"first_name":"Warga","type":"private"},"date":1764662400,"text":"Silakan pilih layanan:","reply_markup":{"inline_keyboard":[[{"text":"Tanya","callback_data":"faq"}],[{"text":"Lapor","callback_data":"complaint"}],[{"text":"Info wisata","callback_data":"tourism"}],[{"text":"Status laporan","callback_data":"status"}]]}}}`

// cannedAPI answers every request with sentMessage, after reading its body.
type cannedAPI struct{}

func (cannedAPI) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		io.Copy(io.Discard, r.Body)
		r.Body.Close()
	}
	return &http.Response{
		StatusCode: 200, Status: "200 OK", Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header:        http.Header{"Content-Type": {"application/json"}},
		Body:          io.NopCloser(strings.NewReader(sentMessage)),
		ContentLength: int64(len(sentMessage)), Request: r,
	}, nil
}

func benchReply() (bot.Recipient, bot.Reply) {
	return bot.Recipient{Channel: ChannelName, ChatID: "1122334455", Lang: "id"}, bot.Reply{
		Text: "Silakan pilih layanan:",
		Options: []bot.Option{
			{ID: "faq", Label: "Tanya"}, {ID: "complaint", Label: "Lapor"},
			{ID: "tourism", Label: "Info wisata"}, {ID: "status", Label: "Status laporan"},
		},
	}
}

// benchChannel is a channel in webhook mode, connected (its own account known),
// queuing into q; client nil: the default HTTP client.
func benchChannel(b testing.TB, q *memQueue, client *http.Client) *Channel {
	b.Helper()
	discard := slog.New(slog.DiscardHandler)
	c, err := New(Config{
		Token: "6000000001:AAH-benchTOKEN", Endpoint: "http://bot.api.test/bot%s/%s", Logger: discard,
		WebhookURL: "https://layan.contoh.test" + WebhookPath, WebhookSecret: "s3cret", HTTPClient: client,
	}, nopHandler{}, bot.NewSender(discard), q, benchTexts{})
	if err != nil {
		b.Fatal(err)
	}
	me := testBot
	c.self = &me
	return c
}

func benchText(id int, chat int64, msgID int, text string) string {
	return `{"update_id":` + strconv.Itoa(id) + `,"message":{"message_id":` + strconv.Itoa(msgID) +
		`,"from":{"id":` + strconv.FormatInt(chat, 10) + `,"is_bot":false,"first_name":"Uji","language_code":"id"},"chat":{"id":` +
		strconv.FormatInt(chat, 10) + `,"first_name":"Uji","type":"private"},"date":1764662400,"text":"` + text + `"}}`
}

func benchCallback(id int, chat int64, msgID int, data string) string {
	c := strconv.FormatInt(chat, 10)
	return `{"update_id":` + strconv.Itoa(id) + `,"callback_query":{"id":"cb` + strconv.Itoa(id) +
		`","from":{"id":` + c + `,"is_bot":false,"first_name":"Uji","language_code":"id"},"message":{"message_id":` +
		strconv.Itoa(msgID) + `,"from":{"id":6000000001,"is_bot":true,"first_name":"Layan","username":"LayanTestBot"},"chat":{"id":` +
		c + `,"first_name":"Uji","type":"private"},"date":1764662400,"text":"…"},"chat_instance":"1","data":"` + data + `"}}`
}

// memQueue is a Store that keeps the last queued update in memory.
type memQueue struct {
	Store
	mu   sync.Mutex
	last []byte
}

func (q *memQueue) Enqueue(_ context.Context, raw []byte) error {
	q.mu.Lock()
	q.last = raw
	q.mu.Unlock()
	return nil
}

func (q *memQueue) take() []byte {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.last
}

type nopHandler struct{}

func (nopHandler) Handle(context.Context, bot.Message) (bot.Outcome, error) {
	return bot.Outcome{}, nil
}

type benchTexts struct{}

func (benchTexts) Text(lang, key string, _ map[string]any) (string, error) {
	return lang + ":" + key, nil
}

// discardWriter is an http.ResponseWriter that keeps only the status.
type discardWriter struct {
	h    http.Header
	code int
}

func (w *discardWriter) Header() http.Header { return w.h }
func (w *discardWriter) Write(p []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	return len(p), nil
}
func (w *discardWriter) WriteHeader(code int) { w.code = code }
