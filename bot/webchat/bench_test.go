package webchat_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/layan-id/layan/bot/webchat"
	"github.com/layan-id/layan/store/storetest"
)

// BenchmarkWebChat measures the web chat's whole HTTP path: POST /api/chat through
// the real handler (JSON in, token check, the engine with the real router and a
// session that keeps its history, the answer's JSON out) over a loopback HTTP
// connection, from 50 people at once, each sending its next message when the answer
// to the last one came: "menu", the menu's "Info wisata", "Pantai", a question.
// Limits per address are off (WEBCHAT_LIMITS=off) and per conversation high, or the
// limiter would be measured. Use a real Redis for figures worth quoting:
//
//	LAYAN_TEST_REDIS_URL=redis://127.0.0.1:6399/0 go test -run X -bench WebChat -benchtime 20000x -count 3 ./bot/webchat/
func BenchmarkWebChat(b *testing.B) {
	bs := storetest.Backends(b)
	h := newHarness(b, bs[len(bs)-1])
	h.server.SetLimits(webchat.Limits{New: webchat.Rate{N: 1e6, Per: time.Second}, NewBurst: 1e6,
		Messages: webchat.Rate{N: 1e6, Per: time.Second}, Off: true}, nil)
	srv := httptest.NewServer(h.mux)
	b.Cleanup(srv.Close)
	const chats = 50
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: chats}}
	post := func(token string, body map[string]string) (string, error) {
		raw, _ := json.Marshal(body)
		req, _ := http.NewRequest("POST", srv.URL+"/api/chat", bytes.NewReader(raw))
		req.Header.Set("Content-Type", "application/json")
		if token != "" {
			req.Header.Set("X-Chat-Token", token)
		}
		resp, err := client.Do(req)
		if err != nil {
			return "", err
		}
		defer resp.Body.Close()
		var a chatAnswer
		if err := json.NewDecoder(resp.Body).Decode(&a); err != nil || resp.StatusCode != http.StatusOK || len(a.Replies) == 0 {
			io.Copy(io.Discard, resp.Body)
			return "", fmt.Errorf("answer %d %q, %d replies, %v", resp.StatusCode, a.Error, len(a.Replies), err)
		}
		return a.Token, nil
	}
	mix := []map[string]string{{"text": "menu"}, {"option": "tourism"}, {"option": "tourism:cat:pantai"}, {"text": "ktp ku ilang gmn"}}
	tokens := make([]string, chats)
	for i := range tokens { // each person's greeting, not timed
		t, err := post("", map[string]string{"text": "halo", "id": "hello"})
		if err != nil {
			b.Fatal(err)
		}
		tokens[i] = t
	}
	per := (b.N + chats - 1) / chats
	lat := make([][]time.Duration, chats)
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for c := range chats {
		wg.Go(func() {
			for i := range per {
				body := with(mix[i%len(mix)], "id", fmt.Sprintf("m%d", i))
				t0 := time.Now()
				if _, err := post(tokens[c], body); err != nil {
					b.Error(err)
					return
				}
				lat[c] = append(lat[c], time.Since(t0))
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	all := slices.Concat(lat...)
	slices.Sort(all)
	q := func(p float64) float64 { return float64(all[int(p*float64(len(all)-1))].Microseconds()) / 1000 }
	b.ReportMetric(float64(len(all))/elapsed.Seconds(), "msgs/s")
	b.ReportMetric(q(0.5), "p50_ms")
	b.ReportMetric(q(0.99), "p99_ms")
	b.ReportMetric(0, "ns/op")
}

// with returns a copy of m with k set to v.
func with(m map[string]string, k, v string) map[string]string {
	out := map[string]string{k: v}
	for mk, mv := range m {
		out[mk] = mv
	}
	return out
}
