package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/layan-id/layan/bot/whatsappcloud"
	"github.com/layan-id/layan/store/storetest"
)

const (
	cloudToken   = "EAAG-test-access-token-0123456789"
	cloudPhoneID = "109876543210"
	cloudSecret  = "app-secret-for-signatures"
	cloudVerify  = "verify-me-please"
)

// fakeGraph is Meta's Graph API as the Cloud API channel uses it: the messages
// endpoint (recording what Layan sends), the phone number, and the media endpoint.
type fakeGraph struct {
	t   *testing.T
	srv *httptest.Server
	png []byte

	mu      sync.Mutex
	sent    map[string][]map[string]any // by recipient, in order
	reads   []string
	uploads [][]byte // photos Layan uploaded, in order
	n       int
}

func newFakeGraph(t *testing.T) *fakeGraph {
	f := &fakeGraph{t: t, sent: map[string][]map[string]any{}}
	img := image.NewRGBA(image.Rect(0, 0, 4, 4))
	var b bytes.Buffer
	png.Encode(&b, img)
	f.png = b.Bytes()
	mux := http.NewServeMux()
	authed := func(h http.HandlerFunc) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("Authorization") != "Bearer "+cloudToken {
				w.WriteHeader(401)
				io.WriteString(w, `{"error":{"message":"Invalid OAuth access token","type":"OAuthException","code":190}}`)
				return
			}
			h(w, r)
		}
	}
	mux.HandleFunc("GET /v23.0/{id}", authed(func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("id")
		if id == cloudPhoneID {
			fmt.Fprintf(w, `{"id":%q}`, id)
			return
		}
		fmt.Fprintf(w, `{"url":%q,"mime_type":"image/png","file_size":%d,"id":%q}`, f.srv.URL+"/media/"+id, len(f.png), id)
	}))
	mux.HandleFunc("GET /media/{id}", authed(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/png")
		w.Write(f.png)
	}))
	mux.HandleFunc("POST /v23.0/{phone}/messages", authed(func(w http.ResponseWriter, r *http.Request) {
		var m map[string]any
		if err := json.NewDecoder(r.Body).Decode(&m); err != nil || r.PathValue("phone") != cloudPhoneID {
			w.WriteHeader(400)
			return
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		if m["status"] == "read" {
			f.reads = append(f.reads, m["message_id"].(string))
			io.WriteString(w, `{"success":true}`)
			return
		}
		to, _ := m["to"].(string)
		f.sent[to] = append(f.sent[to], m)
		f.n++
		fmt.Fprintf(w, `{"messaging_product":"whatsapp","contacts":[{"input":%q,"wa_id":%q}],"messages":[{"id":"wamid.out.%d"}]}`, to, to, f.n)
	}))
	mux.HandleFunc("POST /v23.0/{phone}/media", authed(func(w http.ResponseWriter, r *http.Request) {
		file, _, err := r.FormFile("file")
		if err != nil || r.PathValue("phone") != cloudPhoneID || r.FormValue("messaging_product") != "whatsapp" {
			w.WriteHeader(400)
			io.WriteString(w, `{"error":{"message":"bad upload","code":100}}`)
			return
		}
		data, _ := io.ReadAll(file)
		f.mu.Lock()
		defer f.mu.Unlock()
		f.uploads = append(f.uploads, data)
		fmt.Fprintf(w, `{"id":"media-up-%d"}`, len(f.uploads))
	}))
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

// env is the environment of a service on the Cloud API through f, in a data directory
// and on an address of its own unless more says otherwise.
func (f *fakeGraph) env(t *testing.T, more map[string]string) map[string]string {
	v := map[string]string{
		"DATA_DIR": t.TempDir(), "HTTP_ADDR": freeAddr(t),
		"WHATSAPP_CLOUD_TOKEN": cloudToken, "WHATSAPP_CLOUD_PHONE_ID": cloudPhoneID,
		"WHATSAPP_CLOUD_APP_SECRET": cloudSecret, "WHATSAPP_CLOUD_VERIFY_TOKEN": cloudVerify,
		"WHATSAPP_CLOUD_API": f.srv.URL + "/v23.0",
	}
	maps.Copy(v, more)
	return v
}

// to returns what Layan sent to a number so far.
func (f *fakeGraph) to(number string) []map[string]any {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]map[string]any(nil), f.sent[number]...)
}

// show renders a sent message as a person sees it: its text, then [id] for each button
// or row, and a list's button as (label).
func show(m map[string]any) string {
	get := func(v any, path ...string) any {
		for _, p := range path {
			mm, _ := v.(map[string]any)
			v = mm[p]
		}
		return v
	}
	switch m["type"] {
	case "text":
		return get(m, "text", "body").(string)
	case "template":
		s := "template " + get(m, "template", "name").(string) + ":"
		comps, _ := get(m, "template", "components").([]any)
		for _, c := range comps {
			for _, p := range get(c, "parameters").([]any) {
				s += " " + get(p, "text").(string) + ";"
			}
		}
		return s
	case "image":
		return "image " + get(m, "image", "id").(string) + ": " + fmt.Sprint(get(m, "image", "caption"))
	case "interactive":
		in := get(m, "interactive")
		s := get(in, "type").(string) + ": " + get(in, "body", "text").(string)
		if bs, ok := get(in, "action", "buttons").([]any); ok {
			for _, b := range bs {
				s += " [" + get(b, "reply", "id").(string) + "]"
			}
		}
		if secs, ok := get(in, "action", "sections").([]any); ok {
			for _, sec := range secs {
				for _, r := range get(sec, "rows").([]any) {
					s += " [" + get(r, "id").(string) + "]"
				}
			}
		}
		if button, ok := get(in, "action", "button").(string); ok {
			s += " (" + button + ")"
		}
		return s
	}
	return fmt.Sprint(m)
}

// cloudPerson writes to Layan through signed webhook payloads.
type cloudPerson struct {
	t      *testing.T
	addr   string
	number string
	graph  *fakeGraph
	queue  func() int64 // payloads not yet handled
	n      int
}

// send posts one message (the "messages" entry of a payload), waits until Layan has
// handled it, and returns what Layan sent in answer, and the raw payload.
func (p *cloudPerson) send(kind string, content any) ([]string, []byte) {
	p.t.Helper()
	p.n++
	msg := map[string]any{
		"from": p.number, "id": fmt.Sprintf("wamid.in.%s.%d", p.number, p.n),
		"timestamp": fmt.Sprint(time.Now().Unix()), "type": kind, kind: content,
	}
	raw, _ := json.Marshal(map[string]any{
		"object": "whatsapp_business_account",
		"entry": []any{map[string]any{"id": "WABA", "changes": []any{map[string]any{"field": "messages", "value": map[string]any{
			"messaging_product": "whatsapp",
			"metadata":          map[string]any{"display_phone_number": "6285700000000", "phone_number_id": cloudPhoneID},
			"contacts":          []any{map[string]any{"profile": map[string]any{"name": "Warga"}, "wa_id": p.number}},
			"messages":          []any{msg},
		}}}}},
	})
	return p.post(raw), raw
}

// post delivers a raw payload as Meta does and returns what Layan sent in answer.
func (p *cloudPerson) post(raw []byte) []string {
	p.t.Helper()
	before := len(p.graph.to(p.number))
	if code := postSigned(p.t, p.addr, raw, whatsappcloud.Sign(cloudSecret, raw)); code != 200 {
		p.t.Fatalf("webhook answered %d", code)
	}
	waitUntil(p.t, "the payload is handled", func() bool { return p.queue() == 0 })
	var out []string
	for _, m := range p.graph.to(p.number)[before:] {
		out = append(out, show(m))
	}
	return out
}

func postSigned(t *testing.T, addr string, raw []byte, sig string) int {
	t.Helper()
	req, _ := http.NewRequest("POST", "http://"+addr+"/whatsapp/webhook", bytes.NewReader(raw))
	req.Header.Set("Content-Type", "application/json")
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

func waitUntil(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("waited in vain until %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func mustContain(t *testing.T, got []string, want string) {
	t.Helper()
	if !strings.Contains(strings.Join(got, "\n"), want) {
		t.Fatalf("Layan sent:\n%s\nwant %q in it", strings.Join(got, "\n"), want)
	}
}

func TestWhatsAppOnTheCloudAPIFromHaloToATicketAndNewsAfterADay(t *testing.T) {
	graph := newFakeGraph(t)
	redis := storetest.Mini(t)
	vars := graph.env(t, map[string]string{
		"REDIS_URL":   "redis://" + redis.Mini.Addr(),
		"ADMIN_TOKEN": "rahasia-petugas-7f3a9c2e51b84d06a1e5",
	})
	stop := startServe(t, vars)
	logs := ""
	defer func() {
		logs = stop()
		for _, secret := range []string{cloudToken, cloudSecret, cloudVerify} {
			if strings.Contains(logs, secret) {
				t.Errorf("a secret is in the log")
			}
		}
	}()
	addr := vars["HTTP_ADDR"]
	ctx := context.Background()
	queue := func() int64 {
		n, err := redis.Store.WhatsAppCloud().Queued(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	staff := func(method, path, body string) (int, string) {
		req, _ := http.NewRequest(method, "http://"+addr+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+vars["ADMIN_TOKEN"])
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}

	t.Run("Meta's verification handshake gets the challenge back; a wrong token 403", func(t *testing.T) {
		get := func(token string) (int, string) {
			res, err := http.Get("http://" + addr + "/whatsapp/webhook?hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=" + token)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			b, _ := io.ReadAll(res.Body)
			return res.StatusCode, string(b)
		}
		if code, body := get(cloudVerify); code != 200 || body != "1158201444" {
			t.Errorf("right token: %d %q, want 200 and the challenge", code, body)
		}
		if code, body := get("tebakan"); code != 403 || strings.Contains(body, "1158201444") {
			t.Errorf("wrong token: %d %q, want 403 without the challenge", code, body)
		}
	})

	t.Run("a payload with a bad or no signature is refused and nothing happens", func(t *testing.T) {
		raw := []byte(`{"object":"whatsapp_business_account","entry":[{"changes":[{"field":"messages","value":{"messages":[{"from":"6281299999999","id":"wamid.forged","timestamp":"1","type":"text","text":{"body":"halo"}}]}}]}]}`)
		if code := postSigned(t, addr, raw, whatsappcloud.Sign("another secret", raw)); code != 401 {
			t.Errorf("bad signature: %d, want 401", code)
		}
		if code := postSigned(t, addr, raw, ""); code != 401 {
			t.Errorf("no signature: %d, want 401", code)
		}
		if n := queue(); n != 0 {
			t.Errorf("%d payloads queued, want none", n)
		}
		if got := graph.to("6281299999999"); len(got) != 0 {
			t.Errorf("Layan answered a forged payload: %v", got)
		}
	})

	siti := &cloudPerson{t: t, addr: addr, number: "6281200000001", graph: graph, queue: queue}
	budi := &cloudPerson{t: t, addr: addr, number: "6281200000002", graph: graph, queue: queue}
	var ticket string
	var confirm []byte

	t.Run("a person says halo, taps through the menu and files a complaint with a photo and a place", func(t *testing.T) {
		got, _ := siti.send("text", map[string]any{"body": "halo"})
		mustContain(t, got, "selamat datang")
		mustContain(t, got, "list: ") // seven menu entries: a list message
		mustContain(t, got, "[complaint]")

		got, _ = siti.send("interactive", map[string]any{"type": "list_reply", "list_reply": map[string]any{"id": "complaint", "title": "Buat pengaduan"}})
		mustContain(t, got, "[cat:jalan]")
		got, _ = siti.send("interactive", map[string]any{"type": "list_reply", "list_reply": map[string]any{"id": "cat:jalan", "title": "Jalan rusak"}})
		mustContain(t, got, "Ceritakan masalahnya")
		got, _ = siti.send("text", map[string]any{"body": "Jalan desa berlubang besar di depan SD, sudah dua minggu"})
		mustContain(t, got, "location_request_message: Di mana lokasinya?")
		mustContain(t, got, "button: Atau pilih: [loc:skip]")
		got, _ = siti.send("location", map[string]any{"latitude": -6.91, "longitude": 109.73})
		mustContain(t, got, "Ada foto?")
		mustContain(t, got, "[photos:done]")
		got, _ = siti.send("image", map[string]any{"id": "media-4711", "mime_type": "image/png", "sha256": "x"})
		mustContain(t, got, "Foto 1 dari 3 sudah diterima")
		got, _ = siti.send("interactive", map[string]any{"type": "button_reply", "button_reply": map[string]any{"id": "photos:done", "title": "Lanjut"}})
		mustContain(t, got, "[conf:yes] [conf:no]") // two short options: reply buttons
		got, _ = siti.send("interactive", map[string]any{"type": "button_reply", "button_reply": map[string]any{"id": "conf:no", "title": "Tidak perlu"}})
		mustContain(t, got, "• Foto: 1")
		mustContain(t, got, "[confirm]")
		got, confirm = siti.send("interactive", map[string]any{"type": "button_reply", "button_reply": map[string]any{"id": "confirm", "title": "Kirim pengaduan"}})
		ticket = regexp.MustCompile(`ADU-\d{6}-\d{4}`).FindString(strings.Join(got, " "))
		if ticket == "" {
			t.Fatalf("no ticket in %q", got)
		}
		_, body := staff("GET", "/api/admin/complaints/"+ticket, "")
		if !strings.Contains(body, `"Lat":-6.91`) || !strings.Contains(body, `"photos":["`) {
			t.Errorf("the complaint lacks its place or photo: %s", body)
		}
		graph.mu.Lock()
		reads := strings.Join(graph.reads, " ")
		graph.mu.Unlock()
		if !strings.Contains(reads, "wamid.in.6281200000001.1 ") || !strings.Contains(reads, "wamid.in.6281200000001.9") {
			t.Errorf("messages were not marked read: %s", reads)
		}
	})

	t.Run("a redelivered payload is handled once", func(t *testing.T) {
		if got := siti.post(confirm); len(got) != 0 {
			t.Errorf("the redelivered confirmation was answered again: %q", got)
		}
		_, body := staff("GET", "/api/admin/complaints", "")
		if !strings.Contains(body, `"total":1`) {
			t.Errorf("complaints after the redelivery: %s, want one", body)
		}
	})

	// Both subscribe to tourism tips; Siti also to emergency warnings.
	for _, p := range []*cloudPerson{siti, budi} {
		p.send("text", map[string]any{"body": "langganan"})
		got, _ := p.send("interactive", map[string]any{"type": "list_reply", "list_reply": map[string]any{"id": "sub:wisata", "title": "Berlangganan Wisata"}})
		mustContain(t, got, "✅ Wisata")
	}
	siti.send("interactive", map[string]any{"type": "list_reply", "list_reply": map[string]any{"id": "sub:darurat", "title": "Berlangganan Darurat"}})

	// A day and an hour pass: both windows close. Then Budi writes again.
	redis.Mini.FastForward(25*time.Hour + time.Minute)
	budi.send("text", map[string]any{"body": "halo"})

	before := len(graph.to(siti.number)) // from here on Siti is outside her window
	t.Run("staff change the status after 25 hours and the news goes out as the approved template", func(t *testing.T) {
		if code, body := staff("POST", "/api/admin/complaints/"+ticket+"/status", `{"status":"diverifikasi","by":"Budi (Dinas PU)"}`); code != 200 {
			t.Fatalf("status change: %d %s", code, body)
		}
		waitUntil(t, "the citizen hears of the change", func() bool { return len(graph.to(siti.number)) > before })
		if want, got := "template layan_status_pengaduan: "+ticket+"; Diverifikasi;", show(graph.to(siti.number)[before]); got != want {
			t.Errorf("outside the window the citizen got %q, want %q", got, want)
		}
	})

	t.Run("a broadcast reaches those inside the window and counts the rest as skipped", func(t *testing.T) {
		at := time.Now().Add(time.Second).Format(time.RFC3339)
		code, body := staff("POST", "/api/admin/broadcasts", `{"topics":["wisata"],"text":{"id":"Festival Pantai Sigandu hari Sabtu ini"},"at":"`+at+`"}`)
		if code != 201 {
			t.Fatalf("scheduling: %d %s", code, body)
		}
		var created struct{ ID string }
		json.Unmarshal([]byte(body), &created)
		waitUntil(t, "the broadcast is done", func() bool {
			_, body = staff("GET", "/api/admin/broadcasts/"+created.ID, "")
			return strings.Contains(body, `"state":"done"`)
		})
		if !strings.Contains(body, `"recipients":2`) || !strings.Contains(body, `"sent":1`) || !strings.Contains(body, `"skipped":1`) {
			t.Errorf("the run reads %s, want 2 recipients, 1 sent, 1 skipped", body)
		}
		last := graph.to(budi.number)
		if got := show(last[len(last)-1]); got != "Festival Pantai Sigandu hari Sabtu ini" {
			t.Errorf("Budi, inside the window, last got %q", got)
		}
		for _, m := range graph.to(siti.number) {
			if strings.Contains(show(m), "Festival") {
				t.Errorf("Siti, outside the window, got the tip as free text: %q", show(m))
			}
		}
	})

	t.Run("an emergency warning reaches a person outside the window as its template", func(t *testing.T) {
		at := time.Now().Add(time.Second).Format(time.RFC3339)
		code, body := staff("POST", "/api/admin/broadcasts", `{"topics":["darurat"],"text":{"id":"Waspada banjir malam ini"},"at":"`+at+`"}`)
		if code != 201 {
			t.Fatalf("scheduling: %d %s", code, body)
		}
		waitUntil(t, "Siti gets the warning", func() bool {
			for _, m := range graph.to(siti.number) {
				if strings.HasPrefix(show(m), "template layan_peringatan_darurat:") && strings.Contains(show(m), "Waspada banjir malam ini;") {
					return true
				}
			}
			return false
		})
		// Outside her window Siti got templates only: the news once, then the warning.
		var got []string
		for _, m := range graph.to(siti.number)[before:] {
			got = append(got, show(m))
		}
		if len(got) != 2 || !strings.HasPrefix(got[0], "template layan_status_pengaduan:") {
			t.Errorf("outside her window Siti got %q, want the status template then the warning", got)
		}
	})
}

// The channel's own words around the replies (the "or choose" over buttons after a
// location request, a list's button) are in the language the replies are written
// in: a whole English sentence in a conversation in Indonesian is answered in
// English, and so are they; the next message in Indonesian brings Indonesian back.
// Complaint news for a person who chose English comes with the rating list in English.
func TestTheChannelsOwnWordsAreInTheLanguageOfTheReplies(t *testing.T) {
	graph := newFakeGraph(t)
	redis := storetest.Mini(t)
	vars := graph.env(t, map[string]string{
		"REDIS_URL":   "redis://" + redis.Mini.Addr(),
		"ADMIN_TOKEN": "rahasia-petugas-7f3a9c2e51b84d06a1e5",
	})
	stop := startServe(t, vars)
	defer stop()
	addr := vars["HTTP_ADDR"]
	queue := func() int64 {
		n, err := redis.Store.WhatsAppCloud().Queued(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	pick := func(p *cloudPerson, id string) []string {
		got, _ := p.send("interactive", map[string]any{"type": "button_reply", "button_reply": map[string]any{"id": id, "title": id}})
		return got
	}

	t.Run("an English sentence in an Indonesian conversation", func(t *testing.T) {
		siti := &cloudPerson{t: t, addr: addr, number: "6281200000011", graph: graph, queue: queue}
		siti.send("text", map[string]any{"body": "halo"})
		pick(siti, "complaint")
		pick(siti, "cat:jalan")
		got, _ := siti.send("text", map[string]any{"body": "The road near the beach has big holes and a motorbike fell there yesterday"})
		mustContain(t, got, "location_request_message: Where is it?")
		mustContain(t, got, "button: Or choose: [loc:skip]")
		got = pick(siti, "switch:keep")
		mustContain(t, got, "location_request_message: Di mana lokasinya?")
		mustContain(t, got, "button: Atau pilih: [loc:skip]")
	})

	t.Run("complaint news for a person who chose English", func(t *testing.T) {
		john := &cloudPerson{t: t, addr: addr, number: "6281200000012", graph: graph, queue: queue}
		john.send("text", map[string]any{"body": "hello, I would like to report a problem"})
		pick(john, "complaint")
		pick(john, "cat:sampah")
		john.send("text", map[string]any{"body": "Rubbish has piled up in front of the market since Monday"})
		pick(john, "loc:skip")
		pick(john, "photos:done")
		pick(john, "conf:no")
		got := pick(john, "confirm")
		ticket := regexp.MustCompile(`ADU-\d{6}-\d{4}`).FindString(strings.Join(got, " "))
		if ticket == "" {
			t.Fatalf("no ticket in %q", got)
		}
		before := len(graph.to(john.number))
		for _, change := range []string{`{"status":"diverifikasi","by":"Budi"}`, `{"status":"diproses","by":"Budi"}`, `{"status":"selesai","by":"Budi","note":"Sudah diangkut"}`} {
			req, _ := http.NewRequest("POST", "http://"+addr+"/api/admin/complaints/"+ticket+"/status", strings.NewReader(change))
			req.Header.Set("Authorization", "Bearer "+vars["ADMIN_TOKEN"])
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != 200 {
				t.Fatalf("%s: %d", change, res.StatusCode)
			}
		}
		var news []string
		waitUntil(t, "the rating list reaches the person", func() bool {
			news = news[:0]
			for _, m := range graph.to(john.number)[before:] {
				news = append(news, show(m))
			}
			return strings.Contains(strings.Join(news, "\n"), "[rate:"+ticket+":5]")
		})
		mustContain(t, news, "list: ")
		mustContain(t, news, "(See choices)")
	})
}
