package telegram_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/layan-id/layan/bot/telegram"
	"github.com/layan-id/layan/store/storetest"
)

func TestWrongWebhookSecretsAreThrottledAndSummedUp(t *testing.T) {
	b := storetest.Mini(t)
	r := newRig(t, b, webhookConfig)
	synctest.Test(t, func(t *testing.T) {
		post := func(remote, secret string) *httptest.ResponseRecorder {
			req := httptest.NewRequest("POST", telegram.WebhookPath, strings.NewReader(textUpdate(1, 1122334455, 1, "halo")))
			req.RemoteAddr = remote
			if secret != "" {
				req.Header.Set("X-Telegram-Bot-Api-Secret-Token", secret)
			}
			rec := httptest.NewRecorder()
			r.mux.ServeHTTP(rec, req)
			return rec
		}
		const attacker = "203.0.113.9:5555"
		for i, secret := range []string{"", "guess-1", "guess-2", "guess-3", "guess-4"} {
			if code := post(attacker, secret).Code; code != http.StatusUnauthorized {
				t.Fatalf("wrong secret %d: %d, want 401", i+1, code)
			}
		}
		res := post(attacker, "guess-5")
		if res.Code != http.StatusTooManyRequests {
			t.Fatalf("after 5 wrong secrets another one got %d, want 429", res.Code)
		}
		wait, err := strconv.Atoi(res.Header().Get("Retry-After"))
		if err != nil || wait < 1 {
			t.Fatalf("Retry-After %q, want a number of seconds", res.Header().Get("Retry-After"))
		}
		for range 20 {
			post(attacker, "guess")
		}
		// Behind a reverse proxy Telegram shares the attacker's address: its updates
		// still get in. (A body that is no update stops before the store, which this
		// bubble of fake time does not reach.)
		req := httptest.NewRequest("POST", telegram.WebhookPath, strings.NewReader("{"))
		req.RemoteAddr = attacker
		req.Header.Set("X-Telegram-Bot-Api-Secret-Token", testSecret)
		rec := httptest.NewRecorder()
		r.mux.ServeHTTP(rec, req)
		if rec.Code != http.StatusBadRequest {
			t.Errorf("the right secret from a throttled address got %d, want it checked and let through (400 for this body)", rec.Code)
		}
		synctest.Wait()
		if strings.Contains(r.logs.String(), "secret") {
			t.Errorf("wrong secrets were logged one by one:\n%s", r.logs)
		}
		time.Sleep(time.Minute)
		synctest.Wait()
		var summaries []string
		for _, line := range strings.Split(r.logs.String(), "\n") {
			if strings.Contains(line, "secret") {
				summaries = append(summaries, line)
			}
		}
		if len(summaries) != 1 {
			t.Fatalf("%d log lines about secrets in a minute, want 1:\n%s", len(summaries), r.logs)
		}
		for _, want := range []string{"level=WARN", "telegram webhook: wrong or missing secrets", "failures=5", "throttled=21",
			`reasons="no secret token (1), wrong secret token (4)"`} {
			if !strings.Contains(summaries[0], want) {
				t.Errorf("the summary lacks %s:\n%s", want, summaries[0])
			}
		}
		time.Sleep(time.Duration(wait)*time.Second - time.Minute)
		if code := post(attacker, "guess-6").Code; code != http.StatusUnauthorized {
			t.Errorf("after waiting as told a wrong secret got %d, want 401", code)
		}
		if strings.Contains(r.logs.String(), "guess") || strings.Contains(r.logs.String(), testSecret) {
			t.Errorf("the log shows a presented secret:\n%s", r.logs)
		}
	})
	if n, _ := b.Store.Telegram().Queued(context.Background()); n != 0 {
		t.Errorf("%d updates queued, want none", n)
	}
}
