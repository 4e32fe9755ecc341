package staffweb_test

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/layan-id/layan/store/storetest"
)

func TestServingAConversation(t *testing.T) {
	h := newHarness(t, storetest.Mini(t))
	viewer := h.signIn("ani")
	queue := viewer.get("/staff/conversations")
	if !strings.Contains(queue.body, "Saya butuh bantuan soal KTP") || !strings.Contains(queue.body, `data-stream="/api/admin/conversations/stream"`) {
		t.Fatalf("the queue:\n%s", queue.body)
	}
	page := viewer.get("/staff/conversations/h1")
	if strings.Contains(page.body, `id="take"`) || strings.Contains(page.body, `id="reply"`) {
		t.Error("a viewer is offered to take or answer the conversation")
	}
	if !strings.Contains(page.body, `data-stream="/api/admin/conversations/h1/stream?after=1"`) {
		t.Error("the page does not follow the conversation's live stream after what it shows")
	}
	officer := h.signIn("budi")
	page = officer.get("/staff/conversations/h1")
	if !strings.Contains(page.body, `id="take"`) || !strings.Contains(page.body, `id="reply"`) {
		t.Fatalf("an officer is not offered to take the conversation")
	}
	// The page's script sends the reply and gets 204: it shows up on the live stream.
	form := url.Values{"text": {"Silakan bawa KK asli ke kantor kecamatan."}, "csrf": {officer.csrf}}
	a := officer.do("POST", "/staff/conversations/h1/reply", form, map[string]string{"X-Requested-With": "fetch"})
	if a.status != http.StatusNoContent {
		t.Fatalf("a reply from the page's script: %d", a.status)
	}
	if !slices.Equal(h.desk.replies, []string{"budi:Silakan bawa KK asli ke kantor kecamatan."}) {
		t.Errorf("replies sent: %q", h.desk.replies)
	}
	admin := h.signIn("sari")
	admin.get("/staff/conversations/h1")
	if a := admin.post("/staff/conversations/h1/reply", url.Values{"text": {"Halo"}}); a.status != http.StatusConflict || !strings.Contains(a.body, "sedang dilayani petugas lain") {
		t.Errorf("answering a conversation another holds: %d", a.status)
	}
	if a := officer.post("/staff/conversations/h1/reply", url.Values{"text": {"  "}}); a.status != http.StatusBadRequest {
		t.Errorf("an empty reply: %d, want 400", a.status)
	}
	if a := officer.post("/staff/conversations/h1/end", nil); a.status != http.StatusSeeOther {
		t.Errorf("ending: %d", a.status)
	}
	if a := officer.get("/staff/conversations/h1"); !strings.Contains(a.body, "sudah berakhir") || strings.Contains(a.body, `id="reply"`) {
		t.Errorf("an ended conversation still offers a reply")
	}
	if a := officer.get("/staff/conversations/nope"); a.status != http.StatusNotFound {
		t.Errorf("an unknown conversation: %d", a.status)
	}
}
