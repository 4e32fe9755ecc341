package staffweb_test

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/layan-id/layan/domain"
	"github.com/layan-id/layan/store/storetest"
)

func TestTheInboxListsCountsAndPages(t *testing.T) {
	h := newHarness(t, storetest.Mini(t))
	c := h.signIn("ani")
	a := c.get("/staff/")
	for _, want := range []string{h.road.ID, h.bins.ID, h.secret.ID, "Jalan berlubang besar", "Dinas PUPR", "Dinas Lingkungan Hidup", "3 pengaduan"} {
		if !strings.Contains(a.body, want) {
			t.Errorf("the inbox lacks %q", want)
		}
	}
	if !strings.Contains(a.body, `data-status="diterima"`) || !strings.Contains(a.body, "Diterima <strong>3</strong>") {
		t.Errorf("the inbox does not count 3 received complaints")
	}
	a = c.get("/staff/?status=SELESAI")
	if strings.Contains(a.body, h.road.ID) || !strings.Contains(a.body, "Tidak ada pengaduan yang cocok.") {
		t.Errorf("filtering by a status in capitals still lists a received complaint")
	}
}

func TestAComplaintShowsWhatStaffNeed(t *testing.T) {
	h := newHarness(t, storetest.Mini(t))
	c := h.signIn("sari")
	a := c.get("/staff/complaints/" + h.road.ID)
	if a.status != http.StatusOK {
		t.Fatalf("the complaint page: %d", a.status)
	}
	for _, want := range []string{"Jalan berlubang besar di depan SD Negeri 2", "Jalan rusak", "Jl. Pemuda 10", "Dinas PUPR",
		"-6.912300, 109.730100", "https://www.openstreetmap.org/?mlat=-6.912300&amp;mlon=109.730100", `id="map"`,
		"/staff/static/leaflet/leaflet.js", "Web chat", "/staff/complaints/" + h.road.ID + "/photos/" + h.photo} {
		if !strings.Contains(a.body, want) {
			t.Errorf("the complaint page lacks %q", want)
		}
	}
	if strings.Contains(a.body, "chat-of-the-road-reporter") {
		t.Error("the page shows the reporter's chat id")
	}
	if csp := a.header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || !strings.Contains(csp, "https://tile.openstreetmap.org") ||
		!strings.Contains(csp, "frame-ancestors 'none'") {
		t.Errorf("Content-Security-Policy %q", csp)
	}

	photo := c.get("/staff/complaints/" + h.road.ID + "/photos/" + h.photo)
	if photo.status != http.StatusOK || photo.header.Get("Content-Type") != "image/png" || !strings.HasPrefix(photo.body, "\x89PNG") {
		t.Errorf("the photo: %d %s", photo.status, photo.header.Get("Content-Type"))
	}
	if cc := photo.header.Get("Cache-Control"); !strings.Contains(cc, "no-store") {
		t.Errorf("the photo may be cached: %q", cc)
	}
	if a := c.get("/staff/complaints/" + h.bins.ID + "/photos/" + h.photo); a.status != http.StatusNotFound {
		t.Errorf("a photo through another complaint: %d, want 404", a.status)
	}
	if a := c.get("/staff/complaints/" + h.road.ID + "/photos/..%2fsecret"); a.status != http.StatusNotFound {
		t.Errorf("a path outside the photos: %d, want 404", a.status)
	}
	if a := h.client().get("/staff/complaints/" + h.road.ID + "/photos/" + h.photo); a.status != http.StatusUnauthorized {
		t.Errorf("the photo without a session: %d, want 401", a.status)
	}

	secret := c.get("/staff/complaints/" + h.secret.ID)
	if !strings.Contains(secret.body, "Dirahasiakan atas permintaan pelapor") {
		t.Error("a confidential complaint does not say its reporter is kept confidential")
	}
	for _, leak := range []string{"6281234567890", "WhatsApp</dd>", ">WhatsApp<"} {
		if strings.Contains(secret.body, leak) {
			t.Errorf("a confidential complaint's page shows %q", leak)
		}
	}
}

// The whole desk, as the admin and the agency's officer work it: each change is
// recorded with the account, the citizen is told, and a refused change changes
// nothing.
func TestWorkingAComplaint(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		h := newHarness(t, b)
		admin := h.signIn("sari")
		path := "/staff/complaints/" + h.road.ID
		admin.get(path)
		if a := admin.post(path+"/finish", url.Values{"text": {"sudah"}}); a.status != http.StatusConflict || !strings.Contains(a.body, "tidak dapat dilakukan") {
			t.Errorf("finishing a received complaint: %d, want 409 and why", a.status)
		}
		if a := admin.post(path+"/verify", nil); a.status != http.StatusSeeOther || a.location() != path+"?done=verify" {
			t.Fatalf("verifying: %d %q", a.status, a.location())
		}
		if a := admin.get(path + "?done=verify"); !strings.Contains(a.body, "Pengaduan sudah diverifikasi") || !strings.Contains(a.body, "Diverifikasi") {
			t.Errorf("the page after verifying does not say so")
		}
		officer := h.signIn("budi")
		officer.get(path)
		if a := officer.post(path+"/reject", url.Values{"text": {"bukan urusan kami"}}); a.status != http.StatusForbidden {
			t.Errorf("an officer rejecting: %d, want 403 (the admins decide)", a.status)
		}
		if a := officer.post(path+"/finish", url.Values{"text": {""}}); a.status != http.StatusBadRequest || !strings.Contains(a.body, "Tuliskan apa yang sudah dikerjakan") {
			t.Errorf("finishing without a note: %d, want 400 and why", a.status)
		}
		if a := officer.post(path+"/note", url.Values{"text": {"Tim survei berangkat Senin"}}); a.status != http.StatusSeeOther {
			t.Errorf("an internal note: %d", a.status)
		}
		if a := officer.post(path+"/message", url.Values{"text": {"Mohon kirim foto dari sisi utara"}}); a.status != http.StatusSeeOther {
			t.Errorf("a message to the reporter: %d", a.status)
		}
		if a := officer.post(path+"/finish", url.Values{"text": {"Lubang sudah ditambal"}}); a.status != http.StatusSeeOther {
			t.Fatalf("finishing with a note: %d", a.status)
		}
		page := officer.get(path)
		for _, want := range []string{"Selesai", "Lubang sudah ditambal", "Tim survei berangkat Senin", "Catatan internal", "Mohon kirim foto dari sisi utara", "budi", "sari"} {
			if !strings.Contains(page.body, want) {
				t.Errorf("the complaint's history lacks %q", want)
			}
		}
		got, err := h.cs.Get(context.Background(), h.road.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != domain.StatusDone || got.History[len(got.History)-1].By != "budi" {
			t.Errorf("stored: %s by %s, want selesai by budi", got.Status, got.History[len(got.History)-1].By)
		}
		want := []string{h.road.ID + ":diverifikasi", h.road.ID + ":message:Mohon kirim foto dari sisi utara", h.road.ID + ":selesai"}
		if changes := h.told.seen(); !slices.Equal(changes, want) {
			t.Errorf("the citizen was told of %q, want %q (never the internal note)", changes, want)
		}
	})
}

// Every route and role: without a session a page redirects and a form or file is
// 401; a role that may not is 403; a complaint outside an officer's agency is 404,
// for its page, its photo and its forms alike.
func TestEveryRouteAndRole(t *testing.T) {
	h := newHarness(t, storetest.Mini(t))
	bcID, err := h.bcs.Create(context.Background(), &domain.Broadcast{Topics: []string{"pengumuman"}, Text: map[string]string{"id": "Uji"},
		Cron: "0 6 * * *", State: domain.BroadcastActive, CreatedBy: "sari"})
	if err != nil {
		t.Fatal(err)
	}
	road, bins := "/staff/complaints/"+h.road.ID, "/staff/complaints/"+h.bins.ID
	type route struct{ method, path string }
	routes := []route{
		{"GET", "/staff/"}, {"GET", "/staff/complaints"}, {"GET", road}, {"GET", road + "/photos/" + h.photo}, {"GET", bins},
		{"POST", road + "/verify"}, {"POST", road + "/note"}, {"POST", bins + "/note"},
		{"GET", "/staff/broadcasts"}, {"GET", "/staff/broadcasts/new"}, {"GET", "/staff/broadcasts/" + bcID}, {"GET", "/staff/broadcasts/" + bcID + "/runs"},
		{"POST", "/staff/broadcasts"}, {"POST", "/staff/broadcasts/" + bcID + "/pause"},
		{"GET", "/staff/conversations"}, {"GET", "/staff/conversations/list"}, {"GET", "/staff/conversations/h1"}, {"POST", "/staff/conversations/h1/take"},
		{"GET", "/staff/password"}, {"POST", "/staff/logout"}, {"GET", "/staff/nothing-here"},
	}
	// want gives the status each role gets where it is refused; every other route is
	// allowed.
	want := map[string]map[route]int{
		"": {},
		"ani": {{"GET", "/staff/broadcasts/new"}: 403, {"POST", road + "/verify"}: 403, {"POST", road + "/note"}: 403, {"POST", bins + "/note"}: 403,
			{"POST", "/staff/broadcasts"}: 403, {"POST", "/staff/broadcasts/" + bcID + "/pause"}: 403, {"POST", "/staff/conversations/h1/take"}: 403},
		"eko": {{"POST", road + "/verify"}: 403, {"POST", road + "/note"}: 403, {"POST", bins + "/note"}: 403, {"POST", "/staff/conversations/h1/take"}: 403},
		"dewi": {{"GET", road}: 404, {"GET", road + "/photos/" + h.photo}: 404, {"POST", road + "/verify"}: 404, {"POST", road + "/note"}: 404,
			{"GET", "/staff/broadcasts/new"}: 403, {"POST", "/staff/broadcasts"}: 403, {"POST", "/staff/broadcasts/" + bcID + "/pause"}: 403},
		"budi": {{"GET", bins}: 404, {"POST", bins + "/note"}: 404, {"POST", road + "/verify"}: 403,
			{"GET", "/staff/broadcasts/new"}: 403, {"POST", "/staff/broadcasts"}: 403, {"POST", "/staff/broadcasts/" + bcID + "/pause"}: 403},
		"sari": {},
	}
	for who, except := range want {
		name := who
		if name == "" {
			name = "nobody"
		}
		t.Run(name, func(t *testing.T) {
			c := h.client()
			if who != "" {
				c = h.signIn(who)
			}
			for _, r := range routes {
				if r.path == "/staff/logout" && who != "" {
					continue // tried last
				}
				var a answer
				if r.method == "GET" {
					a = c.get(r.path)
				} else {
					a = c.post(r.path, url.Values{"text": {"catatan uji"}, "agency": {"pupr"}})
				}
				expect, listed := except[r]
				switch {
				case r.path == "/staff/nothing-here" && who != "":
					expect, listed = 404, true
				case who == "" && r.method == "GET" && (strings.Contains(r.path, "/photos/") || strings.HasSuffix(r.path, "/runs") || strings.HasSuffix(r.path, "/list")):
					expect, listed = 401, true
				case who == "" && r.method == "GET":
					if a.status != http.StatusSeeOther || a.location() != "/staff/login" {
						t.Errorf("%s %s: %d %q, want 303 to /staff/login", r.method, r.path, a.status, a.location())
					}
					continue
				case who == "":
					expect, listed = 401, true
				}
				if listed {
					if a.status != expect {
						t.Errorf("%s %s: %d, want %d", r.method, r.path, a.status, expect)
					}
					continue
				}
				// Allowed: the server may still refuse what was asked (an incomplete
				// broadcast is 400, a conversation another took is 409), never who asked.
				if a.status == 401 || a.status == 403 || a.status == 404 || a.status >= 500 || a.location() == "/staff/login" {
					t.Errorf("%s %s: %d %q, want it allowed", r.method, r.path, a.status, a.location())
				}
			}
		})
	}
}

// A form without the session's CSRF token, or with another session's, changes
// nothing.
func TestFormsNeedTheirSessionsToken(t *testing.T) {
	h := newHarness(t, storetest.Mini(t))
	c := h.signIn("sari")
	other := h.signIn("budi")
	path := "/staff/complaints/" + h.road.ID + "/verify"
	for name, token := range map[string]string{"no token": "", "a wrong token": "x", "another session's token": other.csrf} {
		form := url.Values{}
		if token != "" {
			form.Set("csrf", token)
		}
		if a := c.do("POST", path, form, nil); a.status != http.StatusForbidden || !strings.Contains(a.body, "kedaluwarsa") {
			t.Errorf("%s: %d, want 403", name, a.status)
		}
	}
	got, _ := h.cs.Get(context.Background(), h.road.ID)
	if got.Status != domain.StatusReceived {
		t.Errorf("the complaint became %s through forms without their token", got.Status)
	}
	if a := c.post(path, nil); a.status != http.StatusSeeOther {
		t.Errorf("with its token: %d", a.status)
	}
}

func TestTheInboxFilters(t *testing.T) {
	h := newHarness(t, storetest.Mini(t))
	c := h.signIn("sari")
	cases := map[string][]string{ // query → the tickets listed
		"category=sampah":        {h.bins.ID},
		"agency=dlh":             {h.bins.ID},
		"q=pungutan":             {h.secret.ID},
		"q=" + h.road.ID:         {h.road.ID},
		"status=Diterima&page=1": {h.road.ID, h.bins.ID, h.secret.ID},
	}
	for query, want := range cases {
		a := c.get("/staff/?" + query)
		for _, id := range []string{h.road.ID, h.bins.ID, h.secret.ID} {
			listed := strings.Contains(a.body, `data-id="`+id+`"`)
			if listed != slices.Contains(want, id) {
				t.Errorf("%s: %s listed %v, want %v", query, id, listed, !listed)
			}
		}
	}
	officer := h.signIn("dewi")
	a := officer.get("/staff/?agency=pupr")
	if strings.Contains(a.body, `data-id="`+h.road.ID+`"`) || !strings.Contains(a.body, `data-id="`+h.bins.ID+`"`) {
		t.Error("an officer asking for another agency's complaints sees them, or not their own")
	}
	if strings.Contains(a.body, `id="agency"`) {
		t.Error("an officer is offered to filter by agency")
	}
}
