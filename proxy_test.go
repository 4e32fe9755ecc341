package main

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// newChats starts n conversations from the web chat, each claiming its own client in
// X-Forwarded-For, and counts how many were refused with 429.
func newChats(t *testing.T, addr string, n int) (refused int) {
	t.Helper()
	for i := range n {
		req, _ := http.NewRequest("POST", "http://"+addr+"/api/chat", strings.NewReader(fmt.Sprintf(`{"text":"halo","id":"p%d"}`, i)))
		req.Header.Set("X-Forwarded-For", fmt.Sprintf("198.51.100.%d", i+1))
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode == http.StatusTooManyRequests {
			refused++
		}
	}
	return refused
}

func TestBehindATrustedProxyEachPersonHasTheirOwnLimit(t *testing.T) {
	const people = 40 // the limit lets one address start 30 conversations at once
	t.Run("without TRUSTED_PROXIES everyone behind the proxy shares one limit", func(t *testing.T) {
		vars := map[string]string{"DATA_DIR": t.TempDir(), "HTTP_ADDR": freeAddr(t)}
		stop := startServe(t, vars)
		defer stop()
		if refused := newChats(t, vars["HTTP_ADDR"], people); refused == 0 {
			t.Error("40 new conversations from one untrusted address were all let in: X-Forwarded-For was believed")
		}
	})
	t.Run("with the proxy trusted, 40 people each start a conversation", func(t *testing.T) {
		vars := map[string]string{"DATA_DIR": t.TempDir(), "HTTP_ADDR": freeAddr(t), "TRUSTED_PROXIES": "127.0.0.1/32, ::1"}
		stop := startServe(t, vars)
		defer stop()
		if refused := newChats(t, vars["HTTP_ADDR"], people); refused > 0 {
			t.Errorf("%d of %d people behind the trusted proxy were refused", refused, people)
		}
	})
}
