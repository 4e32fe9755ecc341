package whatsappcloud

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
)

func TestSignatures(t *testing.T) {
	body := []byte(`{"object":"whatsapp_business_account"}`)
	good := Sign(testSecret, body)
	cases := []struct {
		name   string
		secret string
		body   string
		header string
		want   bool
	}{
		{"the app secret's HMAC of the body is accepted", testSecret, string(body), good, true},
		{"another secret's is refused", "another", string(body), good, false},
		{"a changed body is refused", testSecret, string(body) + " ", good, false},
		{"a missing header is refused", testSecret, string(body), "", false},
		{"a header without sha256= is refused", testSecret, string(body), strings.TrimPrefix(good, "sha256="), false},
		{"a header that is not hex is refused", testSecret, string(body), "sha256=zz", false},
		{"SHA-1 (X-Hub-Signature) is refused", testSecret, string(body), "sha1=" + strings.TrimPrefix(good, "sha256="), false},
		{"an empty secret accepts nothing", "", string(body), Sign("", body), false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := ValidSignature(tc.secret, []byte(tc.body), tc.header); got != tc.want {
				t.Errorf("ValidSignature = %v", got)
			}
		})
	}
}

func TestTheWebhook(t *testing.T) {
	h := newHarness(t, nil, nil)
	mux := http.NewServeMux()
	h.ch.Register(mux)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	queued := func() int64 {
		n, err := h.store.(interface {
			Queued(context.Context) (int64, error)
		}).Queued(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	post := func(body []byte, sig string) int {
		req, _ := http.NewRequest("POST", srv.URL+WebhookPath, strings.NewReader(string(body)))
		if sig != "" {
			req.Header.Set("X-Hub-Signature-256", sig)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	raw, _ := os.ReadFile("testdata/text.json")

	t.Run("verification answers the challenge as plain text", func(t *testing.T) {
		res, err := http.Get(srv.URL + WebhookPath + "?hub.mode=subscribe&hub.verify_token=" + testVerify + "&hub.challenge=abc123")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 200 || string(b) != "abc123" || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/plain") {
			t.Errorf("%d %q %s", res.StatusCode, b, res.Header.Get("Content-Type"))
		}
		for _, q := range []string{"hub.mode=subscribe&hub.verify_token=wrong&hub.challenge=abc123", "hub.mode=unsubscribe&hub.verify_token=" + testVerify + "&hub.challenge=abc123"} {
			res, _ := http.Get(srv.URL + WebhookPath + "?" + q)
			res.Body.Close()
			if res.StatusCode != 403 {
				t.Errorf("%s: %d, want 403", q, res.StatusCode)
			}
		}
	})
	t.Run("a bad or missing signature gets 401 and nothing is queued", func(t *testing.T) {
		if code := post(raw, Sign("wrong", raw)); code != 401 {
			t.Errorf("bad signature: %d", code)
		}
		if code := post(raw, ""); code != 401 {
			t.Errorf("no signature: %d", code)
		}
		if code := post([]byte("not json"), ""); code != 401 {
			t.Errorf("unsigned garbage: %d, want 401 before anything else", code)
		}
		if n := queued(); n != 0 {
			t.Errorf("%d queued", n)
		}
	})
	t.Run("a signed payload is queued and answered 200", func(t *testing.T) {
		if code := post(raw, Sign(testSecret, raw)); code != 200 {
			t.Errorf("%d", code)
		}
		if n := queued(); n != 1 {
			t.Errorf("%d queued, want 1", n)
		}
	})
	t.Run("a signed body that is no notification gets 400", func(t *testing.T) {
		body := []byte(`{"object":"page"}`)
		if code := post(body, Sign(testSecret, body)); code != 400 {
			t.Errorf("%d", code)
		}
	})
}
