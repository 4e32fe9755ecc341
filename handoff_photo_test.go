package main

import (
	"bytes"
	"encoding/json"
	"image"
	"image/png"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// staffCall calls the staff API at addr with the bearer token and returns the status
// and the body.
func staffCall(t *testing.T, addr, token, method, path string, body []byte) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, "http://"+addr+path, bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// A photo staff send a person is kept like the photos people send: a day, unless a
// complaint holds it. The service prunes it when it starts and every hour after.
func TestAStaffPhotoIsRemovedAfterADay(t *testing.T) {
	dir := t.TempDir()
	const admin = "rahasia-petugas-7f3a9c2e51b84d06a1e5"
	vars := map[string]string{"DATA_DIR": dir, "HTTP_ADDR": freeAddr(t), "ADMIN_TOKEN": admin, "OFFICE_HOURS": "always"}
	addr := vars["HTTP_ADDR"]
	call := func(method, path, token string, body []byte) (int, []byte) {
		t.Helper()
		if strings.HasPrefix(path, "/api/admin/") {
			code, b := staffCall(t, addr, admin, method, path, body)
			return code, []byte(b)
		}
		req, _ := http.NewRequest(method, "http://"+addr+path, nil)
		req.Header.Set("X-Chat-Token", token)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode, nil
	}

	stop := startServe(t, vars)
	token, _ := post(t, addr, "", `{"text":"halo"}`)
	post(t, addr, token, `{"text":"bicara dengan petugas"}`)
	_, body := call("GET", "/api/admin/conversations?state=waiting", "", nil)
	var list struct {
		Conversations []struct{ ID string } `json:"conversations"`
	}
	if err := json.Unmarshal(body, &list); err != nil || len(list.Conversations) != 1 {
		stop()
		t.Fatalf("the queue: %s", body)
	}
	id := list.Conversations[0].ID
	var pic bytes.Buffer
	png.Encode(&pic, image.NewRGBA(image.Rect(0, 0, 16, 16)))
	if status, body := call("POST", "/api/admin/conversations/"+id+"/photos?by=Budi", "", pic.Bytes()); status != 200 {
		stop()
		t.Fatalf("sending a photo: %d %s", status, body)
	}
	_, body = call("GET", "/api/admin/conversations/"+id+"/messages", "", nil)
	var lines struct {
		Messages []struct{ Media string } `json:"messages"`
	}
	json.Unmarshal(body, &lines)
	name := ""
	for _, l := range lines.Messages {
		if l.Media != "" {
			name = l.Media
		}
	}
	if name == "" {
		stop()
		t.Fatalf("no photo in the transcript: %s", body)
	}
	// The photo reaches the person in the background; then the page may read it.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		status, _ := call("GET", "/api/chat/photo/"+name, token, nil)
		if status == 200 {
			break
		}
		if time.Now().After(deadline) {
			stop()
			t.Fatalf("the person cannot see the photo: %d", status)
		}
	}
	stop()

	// A day and an hour later (the file's time moved back), the next start prunes it.
	old := time.Now().Add(-25 * time.Hour)
	if err := os.Chtimes(filepath.Join(dir, "media", name), old, old); err != nil {
		t.Fatal(err)
	}
	stop = startServe(t, vars)
	defer stop()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := os.Stat(filepath.Join(dir, "media", name)); os.IsNotExist(err) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the staff photo is still kept a day later")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if status, _ := call("GET", "/api/chat/photo/"+name, token, nil); status != 404 {
		t.Errorf("the pruned photo answers %d, want 404", status)
	}
}
