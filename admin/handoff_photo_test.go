package admin_test

import (
	"bytes"
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"io"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/layan-id/layan/store/storetest"
)

// aPhoto is a small PNG, as a phone's screenshot would be.
func aPhoto(t *testing.T) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 40, 30))
	img.Set(3, 4, color.RGBA{R: 200, A: 255})
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func (r *handoffRig) post(t *testing.T, path string, body []byte) (int, map[string]any) {
	t.Helper()
	req := httptest.NewRequest("POST", path, bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	rec := httptest.NewRecorder()
	r.mux.ServeHTTP(rec, req)
	var out map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
		t.Fatalf("POST %s: answer is not JSON: %q", path, rec.Body.String())
	}
	return rec.Code, out
}

func TestStaffSendAPhotoThroughTheAPI(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		r := newHandoffRig(t, b)
		base := "/api/admin/conversations/" + r.id
		if code, out := r.call(t, "POST", base+"/take", `{"by":"Budi"}`); code != 200 {
			t.Fatalf("take: %d %v", code, out)
		}

		t.Run("a photo reaches the person and the transcript", func(t *testing.T) {
			code, out := r.post(t, base+"/photos?by=Budi", aPhoto(t))
			if code != 200 || out["state"] != "active" {
				t.Fatalf("send a photo: %d %v, want 200 and the conversation", code, out)
			}
			_, msgs := r.call(t, "GET", base+"/messages", "")
			list, _ := msgs["messages"].([]any)
			last, _ := list[len(list)-1].(map[string]any)
			name, _ := last["media"].(string)
			if last["from"] != "staff" || last["by"] != "Budi" || !strings.HasSuffix(name, ".png") {
				t.Fatalf("the transcript ends with %v, want Budi's photo", last)
			}
			f, err := r.media.Open(name)
			if err != nil {
				t.Fatalf("the photo is not kept: %v", err)
			}
			kept, _ := io.ReadAll(f)
			f.Close()
			if !bytes.Equal(kept, aPhoto(t)) {
				t.Errorf("the kept photo differs from the one sent")
			}
			told := r.courier.events()
			if len(told) == 0 || !strings.Contains(told[len(told)-1], ":line:") {
				t.Errorf("the person was not told of the photo: %q", told)
			}
		})

		t.Run("a file that is not a photo is refused and nothing is sent", func(t *testing.T) {
			before := len(r.courier.events())
			code, out := r.post(t, base+"/photos?by=Budi", []byte("%PDF-1.7 not a photo"))
			if code != 415 || out["error"] == nil {
				t.Errorf("a PDF: %d %v, want 415 with an error", code, out)
			}
			if after := len(r.courier.events()); after != before {
				t.Errorf("the person was told %d more things after a refused file", after-before)
			}
		})

		t.Run("a colleague cannot send a photo into Budi's conversation", func(t *testing.T) {
			if code, out := r.post(t, base+"/photos?by=Sari", aPhoto(t)); code != 409 {
				t.Errorf("Sari's photo: %d %v, want 409", code, out)
			}
		})

		t.Run("an unknown conversation is 404 and an ended one 409", func(t *testing.T) {
			if code, _ := r.post(t, "/api/admin/conversations/nope/photos", aPhoto(t)); code != 404 {
				t.Errorf("unknown conversation: %d, want 404", code)
			}
			if code, out := r.call(t, "POST", base+"/end", `{"by":"Budi"}`); code != 200 {
				t.Fatalf("end: %d %v", code, out)
			}
			if code, _ := r.post(t, base+"/photos?by=Budi", aPhoto(t)); code != 409 {
				t.Errorf("ended conversation: %d, want 409", code)
			}
		})
	})
}
