package flows_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/layan-id/layan/bot"
	"github.com/layan-id/layan/domain"
	"github.com/layan-id/layan/flows"
	"github.com/layan-id/layan/locales"
)

// Sessions saved before typed state kept each flow's state as strings in "vars"
// ("conf" == "true", photos joined by commas, coordinates with six decimals). A
// conversation saved so carries on where it was, with nothing lost.
func TestSessionsSavedBeforeTypedStateCarryOn(t *testing.T) {
	ctx := context.Background()
	const key = "layan:{c:test:user-1}:session"
	// play stores an old session as the previous version wrote it, then sends the
	// messages and returns what the bot said to each.
	play := func(t *testing.T, h *harness, old string, msgs ...bot.Message) []string {
		t.Helper()
		if err := h.store.Mini.Set(key, old); err != nil {
			t.Fatal(err)
		}
		var said []string
		for i, m := range msgs {
			m.Channel, m.ChatID, m.UserID, m.ID = "test", "user-1", "user-1", "legacy-"+string(rune('a'+i))
			if m.Kind == "" {
				m.Kind = bot.KindText
			}
			out, err := h.engine.Handle(ctx, m)
			if err != nil || out.Failed {
				t.Fatalf("message %d: %v (failed %v)", i+1, err, out.Failed)
			}
			said = append(said, render(out.Replies))
		}
		return said
	}
	pick := func(id string) bot.Message { return bot.Message{Kind: bot.KindOption, Option: id} }
	text := func(s string) bot.Message { return bot.Message{Text: s} }

	t.Run("a complaint at its last question is filed with every part", func(t *testing.T) {
		h := newHarness(t)
		said := play(t, h, `{"flow":"complaint","step":"confidential","vars":{"draft":"a1b2c3d4e5f60718",`+
			`"cat":"jalan","desc":"Jalan desa berlubang besar di depan SD 2","lat":"-6.910000","lon":"109.730000",`+
			`"photos":"photo-a.jpg,photo-b.jpg"},"options":[{"id":"conf:yes","label":"Ya, rahasiakan"},`+
			`{"id":"conf:no","label":"Tidak perlu"}],"greeted":true,"last_active":"2026-11-27T01:58:00Z"}`,
			text("1"), pick("confirm"))
		for _, want := range []string{"Kategori: Jalan rusak", "Isi: Jalan desa berlubang besar di depan SD 2",
			"Lokasi: -6.910000, 109.730000", "Foto: 2", "Identitas dirahasiakan: ya"} {
			if !strings.Contains(said[0], want) {
				t.Errorf("the summary lacks %q:\n%s", want, said[0])
			}
		}
		if !strings.Contains(said[1], "TST-261127-0001") {
			t.Fatalf("not filed:\n%s", said[1])
		}
		cp, err := h.store.Store.Complaints("TST", time.UTC).Get(ctx, "TST-261127-0001")
		if err != nil {
			t.Fatal(err)
		}
		if cp.Category != "jalan" || cp.Description != "Jalan desa berlubang besar di depan SD 2" || !cp.Confidential ||
			strings.Join(cp.Photos, ",") != "photo-a.jpg,photo-b.jpg" || cp.Location == nil ||
			*cp.Location != (domain.Location{Lat: -6.91, Lon: 109.73}) || cp.Address != "" {
			t.Errorf("filed %+v (location %v)", cp, cp.Location)
		}
		// The draft's old name still makes its confirmation idempotent.
		again, created, err := h.store.Store.Complaints("TST", time.UTC).Create(ctx, &domain.Complaint{Category: "jalan"}, "test:user-1:a1b2c3d4e5f60718")
		if err != nil || created || again.ID != cp.ID {
			t.Errorf("the old draft's confirmation filed anew: %v %v %v", again.ID, created, err)
		}
	})

	t.Run("a complaint being changed goes back to the summary", func(t *testing.T) {
		h := newHarness(t)
		said := play(t, h, `{"flow":"complaint","step":"description","vars":{"draft":"0f0e0d0c0b0a0908",`+
			`"cat":"sampah","desc":"Sampah menumpuk di pasar","addr":"Pasar Batang","conf":"false","editing":"1"},`+
			`"greeted":true}`,
			text("Sampah menumpuk di pasar sejak seminggu, baunya sampai ke rumah warga"))
		for _, want := range []string{"Mohon periksa pengaduan Anda", "Kategori: Sampah", "sejak seminggu", "Lokasi: Pasar Batang",
			"Foto: 0", "Identitas dirahasiakan: tidak", "{confirm}"} {
			if !strings.Contains(said[0], want) {
				t.Errorf("after the change, want the summary with %q:\n%s", want, said[0])
			}
		}
	})

	t.Run("a broadcast at its preview is scheduled", func(t *testing.T) {
		h := newHarness(t)
		h.staff = "test:user-1"
		said := play(t, h, `{"flow":"staff-broadcast","step":"preview","vars":{"topic":"darurat",`+
			`"text_id":"Waspada banjir: jauhi bantaran sungai.","text_en":"Flood warning: stay away from rivers.","at":"now"},`+
			`"options":[{"id":"send","label":"Jadwalkan"},{"id":"cancel","label":"Batalkan"}],"greeted":true}`,
			text("1"))
		if !strings.Contains(said[0], "S1") {
			t.Fatalf("not scheduled:\n%s", said[0])
		}
		bc, err := h.store.Store.Broadcasts().Get(ctx, "S1")
		if err != nil {
			t.Fatal(err)
		}
		if bc.Topics[0] != "darurat" || bc.Text["id"] != "Waspada banjir: jauhi bantaran sungai." ||
			bc.Text["en"] != "Flood warning: stay away from rivers." || bc.At == nil || bc.Cron != "" {
			t.Errorf("scheduled %+v", bc)
		}
	})

	t.Run("the nearest attractions to the place shared come back", func(t *testing.T) {
		h := newHarness(t)
		tour, err := flows.LoadTourism(locales.Content(""))
		if err != nil {
			t.Fatal(err)
		}
		near := tour.Nearest(domain.Location{Lat: -6.905, Lon: 109.735}, 3)
		said := play(t, h, `{"flow":"tourism","step":"place","vars":{"place":"`+near[1].Attraction.ID+`","from":"nearby",`+
			`"lat":"-6.905000","lon":"109.735000","tips":"0"},"greeted":true}`,
			text("kembali"), text("tips dong"))
		for _, n := range near {
			if !strings.Contains(said[0], "{tourism:near:"+n.Attraction.ID+"}") {
				t.Errorf("back to the nearest list, want %s:\n%s", n.Attraction.ID, said[0])
			}
		}
		if _, tip := tour.NextTip("id", []int{0}); !strings.Contains(said[1], tip) {
			t.Errorf("the tip after the one given, want %q:\n%s", tip, said[1])
		}
	})

	t.Run("a question offered entries for is counted when none fits", func(t *testing.T) {
		h := newHarness(t)
		play(t, h, `{"flow":"faq","step":"choose","vars":{"question":"bagaimana cara mengurus izin keramaian"},"greeted":true}`,
			pick("faq:none"))
		top, err := h.store.Store.FAQStats().TopUnanswered(ctx, 5)
		if err != nil || len(top) != 1 || top[0].Question != "bagaimana cara mengurus izin keramaian" {
			t.Errorf("unanswered questions: %+v %v", top, err)
		}
	})
}
