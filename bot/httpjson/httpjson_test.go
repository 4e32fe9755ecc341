package httpjson

import (
	"net/http/httptest"
	"testing"
)

func TestAnErrorIsJSONThatNoCacheKeeps(t *testing.T) {
	w := httptest.NewRecorder()
	Error(w, 429, "too many requests, please slow down")
	if w.Code != 429 || w.Body.String() != "{\"error\":\"too many requests, please slow down\"}\n" {
		t.Errorf("got %d %q", w.Code, w.Body.String())
	}
	for k, want := range map[string]string{
		"Content-Type": "application/json; charset=utf-8", "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff",
	} {
		if got := w.Header().Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
}
