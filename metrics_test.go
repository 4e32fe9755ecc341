package main

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

func TestMetricsCountMessagesAndTheEmbeddedStoreForStaffOnly(t *testing.T) {
	admin, reader := randomHex(t), randomHex(t)
	vars := map[string]string{"DATA_DIR": t.TempDir(), "HTTP_ADDR": freeAddr(t), "ADMIN_TOKEN": admin, "METRICS_TOKEN": reader, "METRICS_ADDR": freeAddr(t)}
	stop := startServe(t, vars)
	defer stop()
	token, _ := post(t, vars["HTTP_ADDR"], "", `{"text":"halo","id":"m1"}`)
	post(t, vars["HTTP_ADDR"], token, `{"text":"halo","id":"m1"}`) // a retry: a duplicate
	post(t, vars["HTTP_ADDR"], token, `{"text":"syarat bikin ktp gmn","id":"m2"}`)
	post(t, vars["HTTP_ADDR"], token, `{"text":"berapa harga tiket pesawat luar angkasa ke mars","id":"m3"}`)

	scrape := func(tok string) (int, string) {
		req, _ := http.NewRequest("GET", "http://"+vars["HTTP_ADDR"]+"/metrics", nil)
		if tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	for _, tok := range []string{"", "wrong-" + reader} {
		if code, _ := scrape(tok); code != http.StatusUnauthorized {
			t.Errorf("/metrics with token %q: %d, want 401", tok, code)
		}
	}
	for _, tok := range []string{admin, reader} {
		code, body := scrape(tok)
		if code != 200 {
			t.Fatalf("/metrics with a staff token: %d", code)
		}
		for _, want := range []string{
			`layan_messages_total{channel="webchat",kind="text",outcome="answered"} 3`,
			`layan_messages_total{channel="webchat",kind="text",outcome="duplicate"} 1`,
			`layan_message_seconds_count{channel="webchat"} 4`,
			`layan_faq_questions_total{outcome="answered"} 1`, `layan_faq_questions_total{outcome="none"} 1`,
			`layan_complaints{status="diterima"} 0`, "layan_complaints_overdue 0",
			`layan_sender_waiting{channel="webchat"} 0`, "layan_redis_seconds_count", "layan_redis_errors_total 0",
			"layan_store_journal_syncs_total", "layan_store_keys", `layan_build_info{version=`,
			`layan_faq_questions_total{outcome="suggested"} 0`, `layan_broadcast_deliveries_total{outcome="sent"} 0`,
			`layan_sender_retries_total{channel="webchat"} 0`, `layan_sender_throttled_total{channel="webchat"} 0`,
			`layan_message_seconds_bucket{channel="webchat",le="0.1"}`, `layan_redis_seconds_bucket{le="0.001"}`,
			"layan_redis_unreplicated_total 0", "layan_store_snapshot_failures_total 0", "layan_store_snapshot_rebuilds_total",
			"layan_store_journal_failed 0", "layan_store_journal_bytes",
		} {
			if !strings.Contains(body, want) {
				t.Errorf("/metrics lacks %s", want)
			}
		}
		if strings.Contains(body, "ktp") || strings.Contains(body, token) {
			t.Error("/metrics shows message text or a token")
		}
	}
	// Guessing is throttled per address, as for the staff API.
	throttled := false
	for i := range 10 {
		if code, _ := scrape("guess-" + strings.Repeat("x", i)); code == http.StatusTooManyRequests {
			throttled = true
			break
		}
	}
	if !throttled {
		t.Error("ten wrong tokens in a row were never throttled")
	}
	// METRICS_ADDR serves the same without a token, and nothing else.
	res, err := http.Get("http://" + vars["METRICS_ADDR"] + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !strings.Contains(string(b), `layan_messages_total{channel="webchat",kind="text",outcome="duplicate"} 1`) {
		t.Errorf("METRICS_ADDR /metrics without a token: %d, %d bytes", res.StatusCode, len(b))
	}
	if res, err := http.Get("http://" + vars["METRICS_ADDR"] + "/api/chat/history"); err != nil || res.StatusCode != http.StatusNotFound {
		t.Errorf("METRICS_ADDR serves more than /metrics: %v %v", res.StatusCode, err)
	}
}
