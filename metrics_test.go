package main

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

func TestMetricsCountMessagesAndTheEmbeddedStoreForStaffOnly(t *testing.T) {
	admin, reader := randomHex(t), randomHex(t)
	vars := map[string]string{"DATA_DIR": t.TempDir(), "HTTP_ADDR": freeAddr(t), "ADMIN_TOKEN": admin, "METRICS_TOKEN": reader}
	stop := startServe(t, vars)
	defer stop()
	token, _ := post(t, vars["HTTP_ADDR"], "", `{"text":"halo","id":"m1"}`)
	post(t, vars["HTTP_ADDR"], token, `{"text":"halo","id":"m1"}`) // a retry: a duplicate
	post(t, vars["HTTP_ADDR"], token, `{"text":"syarat bikin ktp gmn","id":"m2"}`)

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
			`layan_messages_total{channel="webchat",kind="text",outcome="answered"} 2`,
			`layan_messages_total{channel="webchat",kind="text",outcome="duplicate"} 1`,
			`layan_message_seconds_count{channel="webchat"} 3`,
			"layan_store_journal_syncs_total", "layan_store_keys", `layan_build_info{version=`,
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
}
