package staffweb_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/layan-id/layan/store/storetest"
)

// No page, answer or log line shows a password, a session token, or the identity
// of a reporter who asked to stay confidential, whatever staff did.
func TestNoPageOrLogShowsASecret(t *testing.T) {
	h := newHarness(t, storetest.Mini(t))
	wrong := h.client()
	wrong.do("POST", "/staff/login", url.Values{"username": {"sari"}, "password": {"salah-tebak-sandi"}}, nil)
	var tokens []string
	u, _ := url.Parse(h.srv.URL)
	for _, who := range []string{"sari", "budi", "ani"} {
		c := h.signIn(who)
		for _, ck := range c.c.Jar.Cookies(u) {
			if ck.Name == "layan_staff" {
				tokens = append(tokens, ck.Value)
			}
		}
		for _, path := range []string{"/staff/", "/staff/complaints/" + h.secret.ID, "/staff/complaints/" + h.road.ID,
			"/staff/broadcasts", "/staff/conversations", "/staff/conversations/h1", "/staff/password"} {
			c.get(path)
		}
		c.post("/staff/complaints/"+h.secret.ID+"/note", url.Values{"text": {"dicek"}})
		c.post("/staff/complaints/"+h.secret.ID+"/verify", nil)
		c.get("/staff/password")
		c.post("/staff/password", url.Values{"current": {"salah-tebak-sandi"}, "new": {"sandi-baru-panjang-1"}, "again": {"sandi-baru-panjang-1"}})
	}
	seen := h.bodies.String()
	logs := h.logs.String()
	if !strings.Contains(logs, "staff signed in") || !strings.Contains(seen, h.secret.ID) {
		t.Fatalf("the test saw nothing: logs %d bytes, pages %d bytes", len(logs), len(seen))
	}
	secrets := map[string]string{
		"a password": password, "a password tried": "salah-tebak-sandi", "a new password": "sandi-baru-panjang-1",
		"the confidential reporter's number": "6281234567890", "the confidential reporter's key": "whatsapp:6281234567890",
	}
	for i, tok := range tokens {
		secrets["session token "+string(rune('1'+i))] = tok
	}
	for what, s := range secrets {
		if strings.Contains(logs, s) {
			t.Errorf("the log shows %s", what)
		}
		if what[:7] != "session" && strings.Contains(seen, s) {
			t.Errorf("a page shows %s", what)
		}
	}
	for what, s := range secrets {
		if strings.HasPrefix(what, "session") && strings.Count(seen, s) > 1 {
			t.Errorf("a page shows %s (beyond the cookie that carries it)", what)
		}
	}
}
