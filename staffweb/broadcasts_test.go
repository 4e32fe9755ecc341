package staffweb_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/layan-id/layan/domain"
	"github.com/layan-id/layan/store/storetest"
)

// A repeat chosen in words is shown back in words, never as cron, before and after
// it is scheduled; it runs as chosen.
func TestComposingARepeatedBroadcast(t *testing.T) {
	h := newHarness(t, storetest.Mini(t))
	c := h.signIn("eko")
	if a := c.get("/staff/broadcasts/new"); a.status != http.StatusOK || !strings.Contains(a.body, `name="text_id"`) {
		t.Fatalf("the form: %d", a.status)
	}
	form := url.Values{"topics": {"pengumuman"}, "channels": {"webchat"}, "text_id": {"Kantor tutup pukul 12.00."},
		"text_en": {"The office closes at noon."}, "when": {"repeat"}, "repeat": {"weekdays"}, "time": {"06:00"},
		"until": {time.Now().AddDate(0, 1, 0).Format("2006-01-02")}}
	review := c.post("/staff/broadcasts", form)
	if review.status != http.StatusOK || !strings.Contains(review.body, "setiap hari kerja pukul 06.00 sampai") {
		t.Fatalf("the review: %d\n%s", review.status, review.body)
	}
	if strings.Contains(review.body, "1-5") || strings.Contains(review.body, "* *") {
		t.Error("the review shows raw cron")
	}
	if list, _ := h.bcs.List(context.Background()); len(list) != 0 {
		t.Fatalf("the review already created %d broadcasts", len(list))
	}
	form.Set("step", "send")
	sent := c.post("/staff/broadcasts", form)
	if sent.status != http.StatusSeeOther || !strings.HasPrefix(sent.location(), "/staff/broadcasts/") {
		t.Fatalf("scheduling: %d %q", sent.status, sent.location())
	}
	list, _ := h.bcs.List(context.Background())
	if len(list) != 1 || list[0].Cron != "0 6 * * 1-5" || list[0].End == nil || list[0].CreatedBy != "eko" || list[0].Text["en"] != "The office closes at noon." {
		t.Fatalf("stored: %+v", list)
	}
	page := c.get(sent.location())
	if !strings.Contains(page.body, "setiap hari kerja pukul 06.00") || strings.Contains(page.body, "1-5") {
		t.Errorf("the broadcast's page does not say when in words")
	}
	if !strings.Contains(page.body, "Pengiriman berikutnya") {
		t.Errorf("the broadcast's page does not say when it runs next")
	}
	weekly := c.post("/staff/broadcasts", url.Values{"topics": {"pengumuman"}, "text_id": {"Senam pagi"}, "when": {"repeat"},
		"repeat": {"weekly"}, "day": {"1"}, "time": {"06:00"}})
	if !strings.Contains(weekly.body, "setiap Senin pukul 06.00") {
		t.Errorf("a weekly repeat reads:\n%s", weekly.body)
	}
}

func TestAnIncompleteBroadcastSaysWhatIsMissing(t *testing.T) {
	h := newHarness(t, storetest.Mini(t))
	c := h.signIn("eko")
	c.get("/staff/broadcasts/new")
	a := c.post("/staff/broadcasts", url.Values{"when": {"at"}, "at": {"2020-01-01T06:00"}, "text_en": {"only English"}, "step": {"send"}})
	if a.status != http.StatusBadRequest {
		t.Fatalf("%d, want 400", a.status)
	}
	for _, want := range []string{"Pilih paling sedikit satu topik.", "Teks Bahasa Indonesia wajib diisi.", "Waktu itu sudah lewat.", "only English"} {
		if !strings.Contains(a.body, want) {
			t.Errorf("the form lacks %q", want)
		}
	}
	if list, _ := h.bcs.List(context.Background()); len(list) != 0 {
		t.Errorf("an incomplete form created %d broadcasts", len(list))
	}
}

// Pausing, resuming and cancelling ask first; the tip of the day is a schedule like
// the others that can be paused and resumed.
func TestPauseResumeAndCancelAskFirst(t *testing.T) {
	h := newHarness(t, storetest.Mini(t))
	ctx := context.Background()
	tip := &domain.Broadcast{ID: "tip-of-the-day", Kind: domain.TipOfTheDay, Topics: []string{"wisata"}, Cron: "0 7 * * *",
		Text: map[string]string{"id": "(tip)"}, State: domain.BroadcastActive, CreatedBy: "system", CreatedAt: time.Now()}
	if err := h.bcs.Ensure(ctx, tip); err != nil {
		t.Fatal(err)
	}
	c := h.signIn("eko")
	list := c.get("/staff/broadcasts")
	if !strings.Contains(list.body, "Tips wisata harian") || !strings.Contains(list.body, "setiap hari pukul 07.00") || strings.Contains(list.body, "0 7 * * *") {
		t.Fatalf("the list shows the tip of the day as:\n%s", list.body)
	}
	path := "/staff/broadcasts/tip-of-the-day"
	page := c.get(path)
	if !strings.Contains(page.body, `id="do-pause"`) || !strings.Contains(page.body, `id="do-cancel"`) || strings.Contains(page.body, `id="do-resume"`) {
		t.Errorf("an active tip offers the wrong actions")
	}
	ask := c.post(path+"/pause", nil)
	if ask.status != http.StatusOK || !strings.Contains(ask.body, "Jeda siaran ini?") {
		t.Fatalf("the first press: %d, want the question", ask.status)
	}
	if bc, _ := h.bcs.Get(ctx, "tip-of-the-day"); bc.State != domain.BroadcastActive {
		t.Fatalf("the first press already paused it: %s", bc.State)
	}
	if a := c.post(path+"/pause", url.Values{"confirm": {"yes"}}); a.status != http.StatusSeeOther {
		t.Fatalf("confirming the pause: %d", a.status)
	}
	if bc, _ := h.bcs.Get(ctx, "tip-of-the-day"); bc.State != domain.BroadcastPaused {
		t.Fatalf("after confirming: %s, want paused", bc.State)
	}
	if a := c.get(path + "?done=pause"); !strings.Contains(a.body, "Siaran dijeda.") || !strings.Contains(a.body, `id="do-resume"`) {
		t.Errorf("the paused tip's page does not offer to resume it")
	}
	if a := c.post(path+"/pause", url.Values{"confirm": {"yes"}}); a.status != http.StatusConflict {
		t.Errorf("pausing a paused broadcast: %d, want 409", a.status)
	}
	c.post(path+"/resume", url.Values{"confirm": {"yes"}})
	if bc, _ := h.bcs.Get(ctx, "tip-of-the-day"); bc.State != domain.BroadcastActive {
		t.Fatalf("after resuming: %s, want active", bc.State)
	}
	ask = c.post(path+"/cancel", nil)
	if !strings.Contains(ask.body, "tidak dapat dilanjutkan lagi") {
		t.Errorf("cancelling does not warn that it is for good")
	}
	c.post(path+"/cancel", url.Values{"confirm": {"yes"}})
	if bc, _ := h.bcs.Get(ctx, "tip-of-the-day"); bc.State != domain.BroadcastCancelled {
		t.Fatalf("after cancelling: %s", bc.State)
	}
}

func TestARunsProgressIsShown(t *testing.T) {
	h := newHarness(t, storetest.Mini(t))
	ctx := context.Background()
	at := time.Now().Add(-time.Minute)
	id, err := h.bcs.Create(ctx, &domain.Broadcast{Topics: []string{"pengumuman"}, Text: map[string]string{"id": "Uji"}, At: &at,
		State: domain.BroadcastActive, CreatedBy: "eko", CreatedAt: at})
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"webchat:a", "webchat:b", "webchat:c"} {
		h.bcs.Subscribe(ctx, domain.Recipient{Key: key, Channel: "webchat", ChatID: key[8:]}, "pengumuman")
	}
	bc, _ := h.bcs.Get(ctx, id)
	if _, err := h.bcs.StartRun(ctx, bc, at, domain.RunDelivering, domain.AtMostOnce, time.Now()); err != nil {
		t.Fatal(err)
	}
	run := domain.RunID(id, at)
	keys, err := h.bcs.Take(ctx, run, 1, time.Minute, time.Now())
	if err != nil || len(keys) != 1 {
		t.Fatalf("take: %v %v", keys, err)
	}
	h.bcs.Done(ctx, run, keys[0], domain.Sent, "")
	c := h.signIn("ani")
	page := c.get("/staff/broadcasts/" + id)
	if !strings.Contains(page.body, `data-live="1"`) || !strings.Contains(page.body, "sedang dikirim") {
		t.Errorf("a run being delivered is not followed live:\n%s", page.body)
	}
	runs := c.get("/staff/broadcasts/" + id + "/runs")
	if runs.status != http.StatusOK || !strings.Contains(runs.body, "<td data-label=\"Penerima\">3</td>") || !strings.Contains(runs.body, "<td data-label=\"Terkirim\">1</td>") {
		t.Errorf("the runs table: %d\n%s", runs.status, runs.body)
	}
}

// Only a role that may broadcast changes a repeated broadcast's time; a single one
// has no time to change.
func TestRescheduleNeedsTheBroadcastRoleAndARepeat(t *testing.T) {
	h := newHarness(t, storetest.Mini(t))
	ctx := context.Background()
	id, err := h.bcs.Create(ctx, &domain.Broadcast{Topics: []string{"wisata"}, Text: map[string]string{"id": "Senam pagi"},
		Cron: "0 6 * * *", State: domain.BroadcastActive, CreatedAt: time.Now(), CreatedBy: "eko"})
	if err != nil {
		t.Fatal(err)
	}
	at := time.Now().Add(time.Hour)
	single, _ := h.bcs.Create(ctx, &domain.Broadcast{Topics: []string{"wisata"}, Text: map[string]string{"id": "Sekali"},
		At: &at, State: domain.BroadcastActive, CreatedAt: time.Now(), CreatedBy: "eko"})
	viewer := h.signIn("ani")
	if page := viewer.get("/staff/broadcasts/" + id); strings.Contains(page.body, `id="reschedule"`) {
		t.Error("a viewer is offered to change the time")
	}
	if a := viewer.post("/staff/broadcasts/"+id+"/schedule", url.Values{"repeat": {"daily"}, "time": {"08:00"}}); a.status != http.StatusForbidden {
		t.Errorf("a viewer changing the time: %d, want 403", a.status)
	}
	eko := h.signIn("eko")
	if page := eko.get("/staff/broadcasts/" + single); strings.Contains(page.body, `id="reschedule"`) {
		t.Error("a single broadcast offers a new time")
	}
	if a := eko.post("/staff/broadcasts/"+single+"/schedule", url.Values{"repeat": {"daily"}, "time": {"08:00"}}); a.status != http.StatusConflict {
		t.Errorf("a single broadcast's time: %d, want 409", a.status)
	}
	if a := eko.post("/staff/broadcasts/"+id+"/schedule", url.Values{"repeat": {"weekly"}, "day": {"1"}, "time": {"25:00"}}); a.status != http.StatusBadRequest {
		t.Errorf("a time that is none: %d, want 400", a.status)
	}
	if a := eko.post("/staff/broadcasts/"+id+"/schedule", url.Values{"repeat": {"weekly"}, "day": {"1"}, "time": {"08:15"}}); a.status != http.StatusSeeOther {
		t.Fatalf("changing the time: %d", a.status)
	}
	if bc, _ := h.bcs.Get(ctx, id); bc.Cron != "15 8 * * 1" || bc.RescheduledBy != "eko" {
		t.Errorf("stored: %q by %q", bc.Cron, bc.RescheduledBy)
	}
	if page := eko.get("/staff/broadcasts/" + id); !strings.Contains(page.body, "setiap Senin pukul 08.15") {
		t.Error("the page does not say the new time in words")
	}
}
