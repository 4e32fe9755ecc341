package staffweb_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/layan-id/layan/store/storetest"
)

// Every change made in the workspace reaches the audit log with who, what, on what
// and the answer, refused ones too; never a text typed into the form.
func TestEveryChangeIsAudited(t *testing.T) {
	h := newHarness(t, storetest.Mini(t))
	c := h.signIn("sari")
	c.get("/staff/complaints/" + h.road.ID)
	c.post("/staff/complaints/"+h.road.ID+"/note", url.Values{"text": {"rahasia internal"}})
	viewer := h.signIn("ani")
	viewer.post("/staff/complaints/"+h.road.ID+"/verify", nil)
	c.post("/staff/logout", nil)
	got := strings.Join(h.audited.all(), "\n")
	for _, want := range []string{
		"sari admin POST /staff/login   303",
		"sari admin POST /staff/complaints/{id}/note " + h.road.ID + "  303",
		"ani viewer POST /staff/complaints/{id}/verify " + h.road.ID + "  403",
		"sari admin POST /staff/logout   303",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("the audit log lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "rahasia internal") {
		t.Error("the audit log holds the text of a note")
	}
}
