package admin_test

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/layan-id/layan/admin"
	"github.com/layan-id/layan/domain"
)

// none is a store without complaints, in memory.
type none struct{}

func (none) Inbox(context.Context, domain.InboxQuery, time.Time) (domain.InboxPage, error) {
	return domain.InboxPage{}, nil
}
func (none) MarkDuplicate(context.Context, string, string, string, time.Time, func(dup, orig *domain.Complaint) error) (*domain.Complaint, *domain.Complaint, error) {
	return nil, nil, domain.ErrNotFound
}
func (none) Get(context.Context, string) (*domain.Complaint, error) { return nil, domain.ErrNotFound }
func (none) Update(context.Context, string, func(*domain.Complaint) error) (*domain.Complaint, error) {
	return nil, domain.ErrNotFound
}

func TestWrongTokensAreThrottledAndSummedUp(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		logs := &logBuffer{}
		mux := http.NewServeMux()
		admin.New(admin.Config{Token: token, Complaints: none{}, Logger: slog.New(slog.NewTextHandler(logs, nil))}).Register(mux)
		const attacker, staff = "203.0.113.9:5555", "192.0.2.10:40000"
		list := func(remote, auth string) response {
			return serveAs(mux, remote, "GET", "/api/admin/complaints", auth, "")
		}

		for i := range 5 {
			guess := "Bearer guess-" + strconv.Itoa(i) + "-0123456789abcdef0123456789abcdef"
			if res := list(attacker, guess); res.status != http.StatusUnauthorized {
				t.Fatalf("wrong token %d: %d %s, want 401", i+1, res.status, res.body)
			}
		}
		res := list(attacker, "Bearer another-guess")
		if res.status != http.StatusTooManyRequests {
			t.Fatalf("after 5 wrong tokens: %d %s, want 429", res.status, res.body)
		}
		if !strings.Contains(res.errorText(t), "try again later") {
			t.Errorf("the refusal does not say to wait: %s", res.body)
		}
		wait, err := strconv.Atoi(res.header.Get("Retry-After"))
		if err != nil || wait < 1 {
			t.Fatalf("Retry-After %q, want a number of seconds", res.header.Get("Retry-After"))
		}
		if res := list(attacker, "Bearer "+token); res.status != http.StatusTooManyRequests {
			t.Errorf("a throttled address got %d with the right token: guessing is not slowed down", res.status)
		}
		if res := list(staff, "Bearer "+token); res.status != http.StatusOK {
			t.Errorf("staff at another address got %d %s, want 200", res.status, res.body)
		}
		for range 50 {
			list(attacker, "Bearer guess")
		}
		synctest.Wait()
		if logs.String() != "" {
			t.Errorf("wrong tokens were logged one by one:\n%s", logs)
		}

		time.Sleep(time.Duration(wait) * time.Second)
		if res := list(attacker, "Bearer "+token); res.status != http.StatusOK {
			t.Errorf("after waiting as told the right token got %d %s", res.status, res.body)
		}
		synctest.Wait()
		lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
		if len(lines) != 1 {
			t.Fatalf("%d log lines for a minute of wrong tokens, want 1:\n%s", len(lines), logs)
		}
		for _, want := range []string{"level=WARN", "admin API: wrong or missing secrets", "failures=5", "throttled=52", "203.0.113.9 (57)"} {
			if !strings.Contains(lines[0], want) {
				t.Errorf("the summary lacks %s:\n%s", want, lines[0])
			}
		}
		if strings.Contains(logs.String(), "guess") || strings.Contains(logs.String(), token) {
			t.Errorf("the log shows a presented token:\n%s", logs)
		}
	})
}
