package main

import (
	"bytes"
	"context"
	"encoding/json"
	"image"
	"image/png"
	"strings"
	"testing"
	"time"

	"github.com/layan-id/layan/store/storetest"
)

// A person on WhatsApp (Cloud API) talks to staff: inside the 24-hour window staff
// replies go as text and a staff photo as an image; a day later, outside it, a reply
// goes as the approved "we replied" template, and the person's answer reaches staff.
func TestStaffAnswerAPersonOnTheCloudAPIInsideAndOutsideTheWindow(t *testing.T) {
	graph := newFakeGraph(t)
	redis := storetest.Mini(t)
	vars := map[string]string{
		"DATA_DIR": t.TempDir(), "HTTP_ADDR": freeAddr(t), "REDIS_URL": "redis://" + redis.Mini.Addr(),
		"ADMIN_TOKEN": "rahasia-petugas-7f3a9c2e51b84d06a1e5", "OFFICE_HOURS": "always",
		"WHATSAPP_CLOUD_TOKEN": cloudToken, "WHATSAPP_CLOUD_PHONE_ID": cloudPhoneID,
		"WHATSAPP_CLOUD_APP_SECRET": cloudSecret, "WHATSAPP_CLOUD_VERIFY_TOKEN": cloudVerify,
		"WHATSAPP_CLOUD_API": graph.srv.URL + "/v23.0",
	}
	stop := startServe(t, vars)
	defer func() {
		if logs := stop(); t.Failed() {
			t.Logf("service output:\n%s", logs)
		}
	}()
	addr := vars["HTTP_ADDR"]
	queue := func() int64 {
		n, err := redis.Store.WhatsAppCloud().Queued(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	staff := func(method, path string, body []byte) (int, string) {
		t.Helper()
		return staffCall(t, addr, vars["ADMIN_TOKEN"], method, path, body)
	}
	rani := &cloudPerson{t: t, addr: addr, number: "6281200000003", graph: graph, queue: queue}
	// heard waits for what Layan sends Rani after she had n messages, and shows it.
	heard := func(n int, what string) []string {
		t.Helper()
		waitUntil(t, what, func() bool { return len(graph.to(rani.number)) > n })
		var out []string
		for _, m := range graph.to(rani.number)[n:] {
			out = append(out, show(m))
		}
		return out
	}

	rani.send("text", map[string]any{"body": "halo"})
	got, _ := rani.send("text", map[string]any{"body": "saya mau bicara dengan petugas"})
	mustContain(t, got, "Anda nomor 1 dalam antrean")
	_, body := staff("GET", "/api/admin/conversations?state=waiting", nil)
	var list struct {
		Conversations []struct{ ID, Channel string } `json:"conversations"`
	}
	if json.Unmarshal([]byte(body), &list); len(list.Conversations) != 1 || list.Conversations[0].Channel != "whatsapp" {
		t.Fatalf("the queue: %s", body)
	}
	id := list.Conversations[0].ID

	n := len(graph.to(rani.number))
	if code, body := staff("POST", "/api/admin/conversations/"+id+"/messages", []byte(`{"text":"Selamat pagi, berkas apa yang Anda perlukan?","by":"Budi"}`)); code != 200 {
		t.Fatalf("reply: %d %s", code, body)
	}
	got = heard(n+1, "the staff reply inside the window")
	mustContain(t, got, "Petugas: Selamat pagi, berkas apa yang Anda perlukan?")
	for _, m := range got {
		if strings.HasPrefix(m, "template") {
			t.Errorf("inside the window a template was sent: %q", m)
		}
	}

	var pic bytes.Buffer
	png.Encode(&pic, image.NewRGBA(image.Rect(0, 0, 20, 10)))
	n = len(graph.to(rani.number))
	if code, body := staff("POST", "/api/admin/conversations/"+id+"/photos?by=Budi", pic.Bytes()); code != 200 {
		t.Fatalf("photo: %d %s", code, body)
	}
	got = heard(n, "the staff photo")
	if len(got) != 1 || got[0] != "image media-up-1: Petugas mengirim foto untuk Anda." {
		t.Errorf("the staff photo reached Rani as %q, want one image with its caption", got)
	}
	graph.mu.Lock()
	uploaded := graph.uploads
	graph.mu.Unlock()
	if len(uploaded) != 1 || !bytes.Equal(uploaded[0], pic.Bytes()) {
		t.Errorf("uploaded %d photos, want the one staff sent, as sent", len(uploaded))
	}

	// A day and an hour later Rani's window is closed.
	redis.Mini.FastForward(25*time.Hour + time.Minute)
	n = len(graph.to(rani.number))
	if code, body := staff("POST", "/api/admin/conversations/"+id+"/messages", []byte(`{"text":"KTP Anda sudah jadi.","by":"Budi"}`)); code != 200 {
		t.Fatalf("reply: %d %s", code, body)
	}
	got = heard(n, "the staff reply outside the window")
	if want := "template layan_balasan_petugas: Petugas: KTP Anda sudah jadi.;"; len(got) != 1 || got[0] != want {
		t.Errorf("outside the window Rani got %q, want only %q", got, want)
	}
	// Answering the template opens the window; what she says reaches staff.
	rani.send("text", map[string]any{"body": "Terima kasih, besok saya ambil."})
	_, body = staff("GET", "/api/admin/conversations/"+id+"/messages", nil)
	if !strings.Contains(body, "Terima kasih, besok saya ambil.") {
		t.Errorf("the person's answer did not reach staff: %s", body)
	}
}
