package main

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// workspaceClient is a browser of the staff workspace on a running service: its
// cookies and the CSRF token of the last page it read.
type workspaceClient struct {
	t    *testing.T
	base string
	c    *http.Client
	csrf string
}

var csrfInput = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func signInWorkspace(t *testing.T, addr, name string) *workspaceClient {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	w := &workspaceClient{t: t, base: "http://" + addr, c: &http.Client{Jar: jar}}
	if status, _ := w.send("POST", "/staff/login", url.Values{"username": {name}, "password": {"kata-sandi-panjang"}}); status != http.StatusOK {
		t.Fatalf("sign in as %s: %d", name, status)
	}
	return w
}

// send sends a request (a form with the session's CSRF token) and follows redirects;
// it returns the last page.
func (w *workspaceClient) send(method, path string, form url.Values) (int, string) {
	w.t.Helper()
	var body io.Reader
	if form != nil {
		if w.csrf != "" {
			form.Set("csrf", w.csrf)
		}
		body = strings.NewReader(form.Encode())
	}
	req, _ := http.NewRequest(method, w.base+path, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	res, err := w.c.Do(req)
	if err != nil {
		w.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if m := csrfInput.FindSubmatch(b); m != nil {
		w.csrf = string(m[1])
	}
	return res.StatusCode, string(b)
}

// On the running service, the tip of the day is paused and resumed from the
// workspace, and its time changed in words; the new time and a pause outlive a
// restart, while TIP_SCHEDULE is still set to the old one.
func TestTheTipOfTheDayIsPausedResumedAndRescheduledFromTheWorkspace(t *testing.T) {
	vars := map[string]string{"DATA_DIR": t.TempDir(), "HTTP_ADDR": freeAddr(t), "TIP_SCHEDULE": "0 7 * * *"}
	addStaff(t, vars, "sari", "--role", "admin")
	stop := startServe(t, vars)
	w := signInWorkspace(t, vars["HTTP_ADDR"], "sari")
	const tip = "/staff/broadcasts/tip-of-the-day"
	state := regexp.MustCompile(`id="state">([^<]+)<`)
	when := regexp.MustCompile(`id="when">([^<]+)<`)
	read := func() (string, string) {
		_, page := w.send("GET", tip, nil)
		s, wh := state.FindStringSubmatch(page), when.FindStringSubmatch(page)
		if s == nil || wh == nil {
			t.Fatalf("the tip's page:\n%s", page)
		}
		return s[1], wh[1]
	}
	if st, wh := read(); st != "aktif" || wh != "setiap hari pukul 07.00" {
		t.Fatalf("at start the tip is %q, %q", st, wh)
	}
	for _, step := range []struct{ action, want string }{{"pause", "dijeda"}, {"resume", "aktif"}, {"pause", "dijeda"}} {
		if status, _ := w.send("POST", tip+"/"+step.action, url.Values{"confirm": {"yes"}}); status != http.StatusOK {
			t.Fatalf("%s: %d", step.action, status)
		}
		if st, _ := read(); st != step.want {
			t.Errorf("after %s the tip is %q, want %q", step.action, st, step.want)
		}
	}
	status, page := w.send("POST", tip+"/schedule", url.Values{"repeat": {"weekdays"}, "time": {"06:30"}})
	if status != http.StatusOK || !strings.Contains(page, "Waktu pengiriman sudah diubah") {
		t.Fatalf("changing the time: %d\n%s", status, page)
	}
	if _, wh := read(); wh != "setiap hari kerja pukul 06.30" {
		t.Errorf("after the change the tip runs %q", wh)
	}
	stop()

	stop = startServe(t, vars)
	defer stop()
	w = signInWorkspace(t, vars["HTTP_ADDR"], "sari")
	if st, wh := read(); st != "dijeda" || wh != "setiap hari kerja pukul 06.30" {
		t.Errorf("after a restart with TIP_SCHEDULE at 07.00 the tip is %q, %q; want still paused, at 06.30 on weekdays", st, wh)
	}
	if status, _ := w.send("POST", tip+"/resume", url.Values{"confirm": {"yes"}}); status != http.StatusOK {
		t.Fatalf("resume after the restart: %d", status)
	}
	if st, _ := read(); st != "aktif" {
		t.Errorf("resumed after a restart, the tip is %q", st)
	}
}
