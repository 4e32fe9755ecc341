package staffweb_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/layan-id/layan/store/storetest"
)

func TestSigningInAndOut(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		h := newHarness(t, b)
		c := h.client()
		if a := c.get("/staff/"); a.status != http.StatusSeeOther || a.location() != "/staff/login" {
			t.Fatalf("the workspace without a session: %d %q, want 303 to /staff/login", a.status, a.location())
		}
		if a := c.get("/staff/complaints/" + h.road.ID); a.status != http.StatusSeeOther || a.location() != "/staff/login" {
			t.Errorf("a complaint without a session: %d %q, want 303 to /staff/login", a.status, a.location())
		}
		page := c.get("/staff/login")
		if page.status != http.StatusOK || !strings.Contains(page.body, `name="username"`) || !strings.Contains(page.body, `name="password"`) ||
			!strings.Contains(page.body, "Masuk ke Ruang Kerja Petugas") {
			t.Fatalf("the sign-in page: %d\n%s", page.status, page.body)
		}
		wrong := c.do("POST", "/staff/login", url.Values{"username": {"sari"}, "password": {"bukan-sandinya"}}, nil)
		if wrong.status != http.StatusUnauthorized || !strings.Contains(wrong.body, "Nama pengguna atau kata sandi salah.") {
			t.Errorf("a wrong password: %d, want 401 and the message", wrong.status)
		}
		if strings.Contains(wrong.body, "bukan-sandinya") {
			t.Error("the page after a wrong password shows the password typed")
		}
		ok := c.do("POST", "/staff/login", url.Values{"username": {"Sari "}, "password": {password}}, nil)
		if ok.status != http.StatusSeeOther || ok.location() != "/staff/" {
			t.Fatalf("signing in: %d %q, want 303 to /staff/", ok.status, ok.location())
		}
		cookie := ok.header.Get("Set-Cookie")
		for _, want := range []string{"layan_staff=", "HttpOnly", "SameSite=Strict", "Path=/"} {
			if !strings.Contains(cookie, want) {
				t.Errorf("the session cookie %q lacks %s", cookie, want)
			}
		}
		if strings.Contains(cookie, "Secure") {
			t.Errorf("the session cookie over plain HTTP is Secure: %q", cookie)
		}
		home := c.get("/staff/")
		if home.status != http.StatusOK || !strings.Contains(home.body, "sari · admin") || !strings.Contains(home.body, h.road.ID) {
			t.Fatalf("the inbox after signing in: %d\n%s", home.status, home.body)
		}
		if a := c.do("POST", "/staff/logout", url.Values{}, nil); a.status != http.StatusForbidden {
			t.Errorf("signing out without the form's token: %d, want 403", a.status)
		}
		if a := c.post("/staff/logout", nil); a.status != http.StatusSeeOther || a.location() != "/staff/login" {
			t.Fatalf("signing out: %d %q", a.status, a.location())
		}
		if a := c.get("/staff/"); a.status != http.StatusSeeOther {
			t.Errorf("the workspace after signing out: %d, want 303 to the sign-in page", a.status)
		}
	})
}

// A stolen cookie is no use after signing out: the session is gone from the store,
// not only from the browser.
func TestSigningOutEndsTheSessionInTheStore(t *testing.T) {
	h := newHarness(t, storetest.Mini(t))
	c := h.signIn("ani")
	u, _ := url.Parse(h.srv.URL)
	stolen := c.c.Jar.Cookies(u)
	c.post("/staff/logout", nil)
	thief := h.client()
	thief.c.Jar.SetCookies(u, stolen)
	if a := thief.get("/staff/"); a.status != http.StatusSeeOther {
		t.Errorf("a copied cookie after signing out: %d, want 303 to the sign-in page", a.status)
	}
}

func TestTheSessionCookieIsSecureOverHTTPS(t *testing.T) {
	h := newHarness(t, storetest.Mini(t))
	// Behind a trusted proxy that says the client used HTTPS (clientip.HTTPS is what
	// main passes); here the connection itself is TLS.
	srv := httptest.NewTLSServer(h.handler)
	defer srv.Close()
	cl := srv.Client()
	cl.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	res, err := cl.PostForm(srv.URL+"/staff/login", url.Values{"username": {"sari"}, "password": {password}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if c := res.Header.Get("Set-Cookie"); !strings.Contains(c, "Secure") || !strings.Contains(c, "HttpOnly") {
		t.Errorf("the session cookie over HTTPS is %q, want Secure and HttpOnly", c)
	}
}

func TestTheSignInFormRefusesOtherSites(t *testing.T) {
	h := newHarness(t, storetest.Mini(t))
	form := url.Values{"username": {"sari"}, "password": {password}}
	cases := []struct {
		name   string
		header map[string]string
		want   int
	}{
		{"a page of another site", map[string]string{"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"}, http.StatusForbidden},
		{"another origin without fetch metadata", map[string]string{"Origin": "https://evil.example"}, http.StatusForbidden},
		{"a sibling site", map[string]string{"Sec-Fetch-Site": "same-site"}, http.StatusForbidden},
		{"the page itself", map[string]string{"Origin": h.srv.URL, "Sec-Fetch-Site": "same-origin"}, http.StatusSeeOther},
		{"a script that sends neither", nil, http.StatusSeeOther},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a := h.client().do("POST", "/staff/login", form, tc.header)
			if a.status != tc.want {
				t.Errorf("%d, want %d", a.status, tc.want)
			}
			if tc.want == http.StatusForbidden && a.header.Get("Set-Cookie") != "" {
				t.Error("a refused sign-in set a cookie")
			}
		})
	}
}

// After 10 wrong passwords in a row an account is locked for 15 minutes, whatever
// address the tries come from, and the right password does not open it meanwhile.
func TestAnAccountIsLockedAfterTenWrongPasswords(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		h := newHarness(t, b)
		try := func(addr, pw string) *httptest.ResponseRecorder {
			req := httptest.NewRequest("POST", "/staff/login", strings.NewReader(url.Values{"username": {"budi"}, "password": {pw}}.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.RemoteAddr = addr
			rec := httptest.NewRecorder()
			h.handler.ServeHTTP(rec, req)
			return rec
		}
		for i := range 9 {
			if rec := try(fmt.Sprintf("198.51.100.%d:1000", i+1), "salah-lagi-salah"); rec.Code != http.StatusUnauthorized {
				t.Fatalf("wrong password %d: %d, want 401", i+1, rec.Code)
			}
		}
		tenth := try("198.51.100.10:1000", "salah-lagi-salah")
		if tenth.Code != http.StatusForbidden || !strings.Contains(tenth.Body.String(), "dikunci sementara") {
			t.Fatalf("the tenth wrong password: %d, want 403 and the account locked\n%s", tenth.Code, tenth.Body)
		}
		right := try("203.0.113.5:1000", password)
		if right.Code != http.StatusForbidden || right.Header().Get("Set-Cookie") != "" {
			t.Errorf("the right password while locked: %d, want 403 and no session", right.Code)
		}
		until := time.Now().Add(15 * time.Minute).In(jakarta(t)).Format("15.04")
		if !strings.Contains(right.Body.String(), until) && !strings.Contains(right.Body.String(), time.Now().Add(15*time.Minute-time.Minute).In(jakarta(t)).Format("15.04")) {
			t.Errorf("the locked page does not say until when (about %s):\n%s", until, right.Body)
		}
		if strings.Contains(right.Body.String(), password) {
			t.Error("the locked page shows the password")
		}
		// Another account is not affected.
		if rec := try("203.0.113.5:1000", password); rec.Code == http.StatusSeeOther {
			t.Error("budi got in while locked")
		}
		h.client().do("POST", "/staff/login", url.Values{"username": {"sari"}, "password": {password}}, nil)
		other := h.client().do("POST", "/staff/login", url.Values{"username": {"sari"}, "password": {password}}, nil)
		if other.status != http.StatusSeeOther {
			t.Errorf("another account after budi was locked: %d", other.status)
		}
	})
}

// One address that tries many wrong passwords (on any names) waits before its next
// try is looked at, even with the right password.
func TestSignInsAreLimitedPerAddress(t *testing.T) {
	h := newHarness(t, storetest.Mini(t))
	try := func(name, pw string) *httptest.ResponseRecorder {
		req := httptest.NewRequest("POST", "/staff/login", strings.NewReader(url.Values{"username": {name}, "password": {pw}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.RemoteAddr = "192.0.2.7:4000"
		rec := httptest.NewRecorder()
		h.handler.ServeHTTP(rec, req)
		return rec
	}
	for i := range 10 {
		try(fmt.Sprintf("tamu%d", i), "tebak-tebakan-saja")
	}
	rec := try("sari", password)
	if rec.Code != http.StatusTooManyRequests || rec.Header().Get("Retry-After") == "" || rec.Header().Get("Set-Cookie") != "" {
		t.Errorf("the 11th try from one address: %d (Retry-After %q), want 429 without a session", rec.Code, rec.Header().Get("Retry-After"))
	}
	if !strings.Contains(rec.Body.String(), "Terlalu banyak percobaan") {
		t.Errorf("the page does not say why:\n%s", rec.Body)
	}
}

func TestAnIdleSessionEnds(t *testing.T) {
	b := storetest.Mini(t)
	h := newHarness(t, b)
	c := h.signIn("ani")
	b.Mini.FastForward(20 * time.Minute)
	if a := c.get("/staff/"); a.status != http.StatusOK {
		t.Fatalf("after 20 minutes: %d, want the page", a.status)
	}
	b.Mini.FastForward(31 * time.Minute)
	if a := c.get("/staff/"); a.status != http.StatusSeeOther || a.location() != "/staff/login" {
		t.Errorf("after 31 idle minutes: %d %q, want 303 to the sign-in page", a.status, a.location())
	}
}

func TestADisabledAccountIsSignedOut(t *testing.T) {
	h := newHarness(t, storetest.Mini(t))
	c := h.signIn("ani")
	if err := h.b.Store.Staff().Disable(context.Background(), "ani"); err != nil {
		t.Fatal(err)
	}
	if a := c.get("/staff/"); a.status != http.StatusSeeOther {
		t.Errorf("a disabled account's session: %d, want 303 to the sign-in page", a.status)
	}
}

func TestChangingThePassword(t *testing.T) {
	h := newHarness(t, storetest.Mini(t))
	c := h.signIn("eko")
	other := h.signIn("eko") // another device
	c.get("/staff/password")
	if a := c.post("/staff/password", url.Values{"current": {"bukan-ini-sandinya"}, "new": {"sandi-baru-yang-panjang"}, "again": {"sandi-baru-yang-panjang"}}); a.status != http.StatusForbidden ||
		!strings.Contains(a.body, "Kata sandi sekarang tidak cocok.") {
		t.Errorf("a wrong current password: %d", a.status)
	}
	if a := c.post("/staff/password", url.Values{"current": {password}, "new": {"sandi-baru-yang-panjang"}, "again": {"sandi-baru-lain"}}); a.status != http.StatusBadRequest ||
		!strings.Contains(a.body, "tidak sama") {
		t.Errorf("two different new passwords: %d", a.status)
	}
	if a := c.post("/staff/password", url.Values{"current": {password}, "new": {"pendek"}, "again": {"pendek"}}); a.status != http.StatusBadRequest ||
		!strings.Contains(a.body, "paling sedikit 10 karakter") {
		t.Errorf("a short new password: %d", a.status)
	}
	a := c.post("/staff/password", url.Values{"current": {password}, "new": {"sandi-baru-yang-panjang"}, "again": {"sandi-baru-yang-panjang"}})
	if a.status != http.StatusOK || !strings.Contains(a.body, "Kata sandi sudah diganti.") {
		t.Fatalf("changing the password: %d\n%s", a.status, a.body)
	}
	if a := c.get("/staff/"); a.status != http.StatusOK {
		t.Errorf("the session that changed the password: %d, want it kept", a.status)
	}
	if a := other.get("/staff/"); a.status != http.StatusSeeOther {
		t.Errorf("the other device's session: %d, want it ended", a.status)
	}
	if a := h.client().do("POST", "/staff/login", url.Values{"username": {"eko"}, "password": {password}}, nil); a.status != http.StatusUnauthorized {
		t.Errorf("the old password: %d, want 401", a.status)
	}
	if a := h.client().do("POST", "/staff/login", url.Values{"username": {"eko"}, "password": {"sandi-baru-yang-panjang"}}, nil); a.status != http.StatusSeeOther {
		t.Errorf("the new password: %d, want 303", a.status)
	}
}

func TestTheWorkspaceSpeaksEnglishWhenAsked(t *testing.T) {
	h := newHarness(t, storetest.Mini(t))
	c := h.client()
	if a := c.do("GET", "/staff/login", nil, map[string]string{"Accept-Language": "en-GB,en;q=0.9"}); !strings.Contains(a.body, "Sign in to the Staff Workspace") {
		t.Errorf("an English browser gets:\n%s", a.body)
	}
	c = h.signIn("sari")
	if a := c.get("/staff/lang/en?next=/staff/complaints/" + h.road.ID); a.status != http.StatusSeeOther || a.location() != "/staff/complaints/"+h.road.ID {
		t.Fatalf("choosing English: %d %q", a.status, a.location())
	}
	if a := c.get("/staff/complaints/" + h.road.ID); !strings.Contains(a.body, `lang="en"`) || !strings.Contains(a.body, "Description") {
		t.Errorf("the complaint page after choosing English is not in English")
	}
	if a := c.get("/staff/lang/id?next=https://evil.example/"); a.location() != "/staff/" {
		t.Errorf("the language switch sends staff to %q", a.location())
	}
}
