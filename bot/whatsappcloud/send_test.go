package whatsappcloud

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/layan-id/layan/bot"
)

const person = "6281234567890"

// look renders a sent message as the person sees it.
func look(m map[string]any) string {
	get := func(v any, path ...string) any {
		for _, p := range path {
			mm, _ := v.(map[string]any)
			v = mm[p]
		}
		return v
	}
	switch m["type"] {
	case "text":
		return "text: " + get(m, "text", "body").(string)
	case "template":
		s := "template " + get(m, "template", "name").(string) + "/" + get(m, "template", "language", "code").(string)
		comps, _ := get(m, "template", "components").([]any)
		for _, c := range comps {
			for _, p := range get(c, "parameters").([]any) {
				s += " <" + get(p, "text").(string) + ">"
			}
		}
		return s
	}
	in := get(m, "interactive")
	s := get(in, "type").(string) + ": " + get(in, "body", "text").(string)
	if bs, ok := get(in, "action", "buttons").([]any); ok {
		for _, b := range bs {
			s += fmt.Sprintf(" [%s|%s]", get(b, "reply", "id"), get(b, "reply", "title"))
		}
	}
	if secs, ok := get(in, "action", "sections").([]any); ok {
		s += fmt.Sprintf(" (%s)", get(in, "action", "button"))
		for _, sec := range secs {
			for _, r := range get(sec, "rows").([]any) {
				s += fmt.Sprintf(" [%s|%s", get(r, "id"), get(r, "title"))
				if d, ok := get(r, "description").(string); ok {
					s += "|" + d
				}
				s += "]"
			}
		}
	}
	return s
}

func opts(labels ...string) []bot.Option {
	o := make([]bot.Option, len(labels))
	for i, l := range labels {
		o[i] = bot.Option{ID: fmt.Sprintf("o%d", i+1), Label: l}
	}
	return o
}

func inWindow(t *testing.T, h *harness) {
	t.Helper()
	if err := h.store.NoteInbound(context.Background(), person, time.Now(), time.Now()); err != nil {
		t.Fatal(err)
	}
}

func TestRepliesLookRightOnWhatsApp(t *testing.T) {
	many := make([]string, 11)
	for i := range many {
		many[i] = fmt.Sprintf("Pilihan %d", i+1)
	}
	cases := []struct {
		name  string
		reply bot.Reply
		lang  string
		want  []string
	}{
		{"a text goes as text", bot.Reply{Text: "Halo"}, "id", []string{"text: Halo"}},
		{"up to three short options are reply buttons", bot.Reply{Text: "Rahasiakan?", Options: opts("Ya, rahasiakan", "Tidak perlu")}, "id",
			[]string{"button: Rahasiakan? [o1|Ya, rahasiakan] [o2|Tidak perlu]"}},
		{"a label over 20 characters makes a list", bot.Reply{Text: "Pilih", Options: opts("Berlangganan Pengumuman", "Selesai")}, "id",
			[]string{"list: Pilih (Lihat pilihan) [o1|Berlangganan Pengumuman] [o2|Selesai]"}},
		{"four to ten options are a list; a long title is cut and shown whole as the description", bot.Reply{Text: "Menu",
			Options: opts("Tanya layanan", "Buat pengaduan", "Listrik dan lampu jalan rusak sekali", "Bantuan")}, "en",
			[]string{"list: Menu (See choices) [o1|Tanya layanan] [o2|Buat pengaduan] [o3|Listrik dan lampu jalan…|Listrik dan lampu jalan rusak sekali] [o4|Bantuan]"}},
		{"more than ten options are numbered text", bot.Reply{Text: "Kategori", Options: opts(many...)}, "id",
			[]string{"text: Kategori\n\n1. Pilihan 1\n2. Pilihan 2\n3. Pilihan 3\n4. Pilihan 4\n5. Pilihan 5\n6. Pilihan 6\n7. Pilihan 7\n8. Pilihan 8\n9. Pilihan 9\n10. Pilihan 10\n11. Pilihan 11\n\nBalas dengan angka."}},
		{"the location question is a location request, its options buttons after it", bot.Reply{Text: "Di mana lokasinya?", AskLocation: true, Options: opts("Lewati")}, "id",
			[]string{"location_request_message: Di mana lokasinya?", "button: Atau pilih: [o1|Lewati]"}},
		{"options without text get a prompt", bot.Reply{Options: opts("Ya")}, "en", []string{"button: Please choose: [o1|Ya]"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, nil, nil)
			inWindow(t, h)
			if err := h.ch.Send(context.Background(), bot.Recipient{Channel: ChannelName, ChatID: person, Lang: tc.lang}, tc.reply); err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, m := range h.graph.messages() {
				got = append(got, look(m))
			}
			if strings.Join(got, "\n---\n") != strings.Join(tc.want, "\n---\n") {
				t.Errorf("sent\n%s\nwant\n%s", strings.Join(got, "\n---\n"), strings.Join(tc.want, "\n---\n"))
			}
		})
	}
	t.Run("a whatsmeow chat id of a number still reaches that number", func(t *testing.T) {
		h := newHarness(t, nil, nil)
		inWindow(t, h)
		if err := h.ch.Send(context.Background(), bot.Recipient{Channel: ChannelName, ChatID: person + "@s.whatsapp.net"}, bot.Reply{Text: "Halo"}); err != nil {
			t.Fatal(err)
		}
		if msgs := h.graph.messages(); len(msgs) != 1 || msgs[0]["to"] != person {
			t.Errorf("sent %v", msgs)
		}
		if err := h.ch.Send(context.Background(), bot.Recipient{Channel: ChannelName, ChatID: "123456789@lid"}, bot.Reply{Text: "Halo"}); bot.KindOf(err) != bot.ErrPermanent {
			t.Errorf("a LID: %v, want a permanent error", err)
		}
	})
	t.Run("a long text is split at the platform's limit, the last part carrying the buttons", func(t *testing.T) {
		h := newHarness(t, nil, nil)
		inWindow(t, h)
		long := strings.Repeat("Kalimat yang cukup panjang untuk diuji. ", 150) // ~6,000 characters
		if err := h.ch.Send(context.Background(), bot.Recipient{Channel: ChannelName, ChatID: person}, bot.Reply{Text: long, Options: opts("Ya")}); err != nil {
			t.Fatal(err)
		}
		msgs := h.graph.messages()
		if len(msgs) != 3 || msgs[0]["type"] != "text" || msgs[1]["type"] != "text" || msgs[2]["type"] != "interactive" {
			t.Fatalf("sent %d messages: %v", len(msgs), msgs)
		}
		for _, m := range msgs[:2] {
			if n := len([]rune(look(m))) - len("text: "); n > MaxText {
				t.Errorf("a part of %d characters", n)
			}
		}
	})
}

func TestOutsideTheWindow(t *testing.T) {
	raw, err := os.ReadFile("../../locales/" + TemplatesFile)
	if err != nil {
		t.Fatal(err)
	}
	templates, err := ParseTemplates(raw)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	t.Run("free text to someone who never wrote, or wrote over 24 hours ago, is refused as outside the window", func(t *testing.T) {
		h := newHarness(t, templates, nil)
		err := h.ch.Send(ctx, bot.Recipient{Channel: ChannelName, ChatID: person}, bot.Reply{Text: "Halo"})
		if !errors.Is(err, bot.ErrOutsideWindow) || bot.KindOf(err) != bot.ErrPermanent {
			t.Errorf("never wrote: %v", err)
		}
		h.store.NoteInbound(ctx, person, time.Now().Add(-24*time.Hour-time.Second+time.Hour), time.Now())
		h2 := newHarness(t, templates, func() time.Time { return time.Now().Add(time.Hour) })
		h2.store = h.store
		h2.ch.store = h.store
		if err := h2.ch.Send(ctx, bot.Recipient{Channel: ChannelName, ChatID: person}, bot.Reply{Text: "Halo"}); !errors.Is(err, bot.ErrOutsideWindow) {
			t.Errorf("wrote 24 h 1 s ago: %v", err)
		}
		if n := len(h.graph.messages()) + len(h2.graph.messages()); n != 0 {
			t.Errorf("%d messages went out", n)
		}
	})
	t.Run("complaint news goes as its template, once for all the replies, in the person's language", func(t *testing.T) {
		h := newHarness(t, templates, nil)
		tm := &bot.Template{Purposes: []string{"complaint_status"}, Params: map[string]string{"ticket": "ADU-261127-0001", "status": "Verified"}}
		if err := h.sender.Send(ctx, bot.Recipient{Channel: ChannelName, ChatID: person, Lang: "en", Template: tm}, bot.Reply{Text: "news"}, bot.Reply{Text: "rate us", Options: opts("1", "2")}); err != nil {
			t.Fatal(err)
		}
		msgs := h.graph.messages()
		if len(msgs) != 1 || look(msgs[0]) != "template layan_status_pengaduan/en <ADU-261127-0001> <Verified>" {
			t.Errorf("sent %v", msgs)
		}
	})
	t.Run("a broadcast's template gets the region's name and the text on one line", func(t *testing.T) {
		h := newHarness(t, templates, nil)
		tm := &bot.Template{Purposes: []string{"broadcast.wisata", "broadcast.darurat"}, Params: map[string]string{"text": "Waspada banjir.\n\nMengungsi ke balai desa."}}
		if err := h.ch.Send(ctx, bot.Recipient{Channel: ChannelName, ChatID: person, Template: tm}, bot.Reply{Text: "x"}); err != nil {
			t.Fatal(err)
		}
		msgs := h.graph.messages()
		if len(msgs) != 1 || !strings.HasPrefix(look(msgs[0]), "template layan_peringatan_darurat/id <Kabupaten") ||
			!strings.HasSuffix(look(msgs[0]), "<Waspada banjir. Mengungsi ke balai desa.>") {
			t.Errorf("sent %v", msgs)
		}
	})
	t.Run("a staff reply in a live talk goes as the we-replied template, in the person's language", func(t *testing.T) {
		for _, tc := range []struct{ lang, text, want string }{
			{"id", "Petugas: KTP Anda sudah jadi, silakan ambil di kecamatan.", "template layan_balasan_petugas/id <Petugas: KTP Anda sudah jadi, silakan ambil di kecamatan.>"},
			{"en", "Staff: Your ID card is ready.", "template layan_balasan_petugas/en <Staff: Your ID card is ready.>"},
		} {
			h := newHarness(t, templates, nil)
			// What the handoff courier asks for when it delivers a staff reply.
			tm := &bot.Template{Purposes: []string{"handoff_reply"}, Params: map[string]string{"text": tc.text}}
			if err := h.sender.Send(ctx, bot.Recipient{Channel: ChannelName, ChatID: person, Lang: tc.lang, Template: tm}, bot.Reply{Text: tc.text, From: bot.FromStaff}); err != nil {
				t.Fatalf("%s: %v", tc.lang, err)
			}
			msgs := h.graph.messages()
			if len(msgs) != 1 || look(msgs[0]) != tc.want {
				t.Errorf("%s: sent %v, want %s", tc.lang, msgs, tc.want)
			}
		}
	})
	t.Run("inside the window a staff reply goes as plain text", func(t *testing.T) {
		h := newHarness(t, templates, nil)
		inWindow(t, h)
		tm := &bot.Template{Purposes: []string{"handoff_reply"}, Params: map[string]string{"text": "Petugas: Baik."}}
		if err := h.sender.Send(ctx, bot.Recipient{Channel: ChannelName, ChatID: person, Template: tm}, bot.Reply{Text: "Petugas: Baik.", From: bot.FromStaff}); err != nil {
			t.Fatal(err)
		}
		if msgs := h.graph.messages(); len(msgs) != 1 || strings.HasPrefix(look(msgs[0]), "template") {
			t.Errorf("sent %v, want the text itself", msgs)
		}
	})
	t.Run("a purpose without a template is outside the window", func(t *testing.T) {
		h := newHarness(t, templates, nil)
		tm := &bot.Template{Purposes: []string{"broadcast.wisata"}}
		if err := h.ch.Send(ctx, bot.Recipient{Channel: ChannelName, ChatID: person, Template: tm}, bot.Reply{Text: "tip"}); !errors.Is(err, bot.ErrOutsideWindow) {
			t.Errorf("got %v", err)
		}
	})
	t.Run("Meta saying the window is closed (131047) closes it here too", func(t *testing.T) {
		h := newHarness(t, templates, nil)
		inWindow(t, h)
		h.graph.answer = func(int, map[string]any) (int, string) {
			return 400, `{"error":{"message":"Re-engagement message","code":131047}}`
		}
		if err := h.ch.Send(ctx, bot.Recipient{Channel: ChannelName, ChatID: person}, bot.Reply{Text: "x"}); !errors.Is(err, bot.ErrOutsideWindow) {
			t.Errorf("got %v", err)
		}
		if _, open, _ := h.store.LastInbound(ctx, person); open {
			t.Error("the window is still open")
		}
	})
}

func TestLimitsAndErrors(t *testing.T) {
	ctx := context.Background()
	t.Run("Meta's pair rate limit makes the channel wait before trying that person again", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			h := newHarnessOn(t, &memStore{}, nil, nil)
			inWindow(t, h)
			h.graph.answer = func(n int, _ map[string]any) (int, string) {
				if n == 1 {
					return 400, `{"error":{"message":"Spam rate limit hit","code":131056}}`
				}
				return 200, ""
			}
			start := time.Now()
			if err := h.ch.Send(ctx, bot.Recipient{Channel: ChannelName, ChatID: person}, bot.Reply{Text: "Halo"}); err != nil {
				t.Fatal(err)
			}
			if waited := time.Since(start); waited < pairWait {
				t.Errorf("sent again after %v, want a wait of %v", waited, pairWait)
			}
			if len(h.graph.messages()) != 1 {
				t.Errorf("the message did not go out once")
			}
		})
	})
	t.Run("the number's throughput limit asks the sender to pause", func(t *testing.T) {
		h := newHarness(t, nil, nil)
		inWindow(t, h)
		h.graph.answer = func(int, map[string]any) (int, string) {
			return 400, `{"error":{"message":"Rate limit hit","code":130429}}`
		}
		err := h.ch.Send(ctx, bot.Recipient{Channel: ChannelName, ChatID: person}, bot.Reply{Text: "x"})
		var se *bot.SendError
		if !errors.As(err, &se) || se.Kind != bot.ErrRateLimited || se.RetryAfter <= 0 {
			t.Errorf("got %v", err)
		}
	})
	t.Run("a number not on WhatsApp counts as blocked", func(t *testing.T) {
		h := newHarness(t, nil, nil)
		inWindow(t, h)
		h.graph.answer = func(int, map[string]any) (int, string) {
			return 400, `{"error":{"message":"Message undeliverable","code":131026}}`
		}
		if err := h.ch.Send(ctx, bot.Recipient{Channel: ChannelName, ChatID: person}, bot.Reply{Text: "x"}); bot.KindOf(err) != bot.ErrBlocked {
			t.Errorf("got %v", err)
		}
	})
	t.Run("an expired token stops sending, alerts staff once and shows in the health detail; never in an error", func(t *testing.T) {
		h := newHarness(t, nil, nil)
		inWindow(t, h)
		h.graph.answer = func(int, map[string]any) (int, string) {
			return 401, `{"error":{"message":"Error validating access token: Session has expired; token ` + testToken + `","type":"OAuthException","code":190}}`
		}
		err := h.ch.Send(ctx, bot.Recipient{Channel: ChannelName, ChatID: person}, bot.Reply{Text: "x"})
		if err == nil || strings.Contains(err.Error(), testToken) {
			t.Errorf("error %v: want one without the token", err)
		}
		al := <-h.alerts
		if al.Kind != AlertTokenExpired || !strings.Contains(al.Text, "WHATSAPP_CLOUD_TOKEN") {
			t.Errorf("alert %+v", al)
		}
		if ok, detail := h.ch.Health(); ok || !strings.Contains(detail, "WHATSAPP_CLOUD_TOKEN") || h.ch.Ready() {
			t.Errorf("health %v %q, ready %v", ok, detail, h.ch.Ready())
		}
		h.ch.Send(ctx, bot.Recipient{Channel: ChannelName, ChatID: person}, bot.Reply{Text: "y"}) // refused at once, no second alert
		select {
		case al := <-h.alerts:
			t.Errorf("a second alert: %+v", al)
		default:
		}
	})
	t.Run("a restricted number alerts staff and pauses sending", func(t *testing.T) {
		h := newHarness(t, nil, nil)
		inWindow(t, h)
		h.graph.answer = func(int, map[string]any) (int, string) {
			return 400, `{"error":{"message":"Temporarily blocked for policies violations","code":368}}`
		}
		h.ch.Send(ctx, bot.Recipient{Channel: ChannelName, ChatID: person}, bot.Reply{Text: "x"})
		if al := <-h.alerts; al.Kind != AlertRestricted {
			t.Errorf("alert %+v", al)
		}
		if h.ch.Ready() {
			t.Error("still ready to send")
		}
	})
}
