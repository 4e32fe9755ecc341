package whatsappcloud

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/layan-id/layan/bot"
)

// summary writes an item as a reader checks it.
func summary(it item) string {
	if it.status != nil {
		s := fmt.Sprintf("status %s %s to %s", it.status.wamid, it.status.status, it.status.waID)
		if it.status.code != 0 {
			s += fmt.Sprintf(" (%d %s)", it.status.code, it.status.title)
		}
		return s
	}
	m := it.msg
	s := fmt.Sprintf("%s from %s (%s)", m.Kind, m.UserID, m.ID)
	switch {
	case m.Option != "":
		s += fmt.Sprintf(": option %s %q", m.Option, m.Text)
	case m.Location != nil:
		s += fmt.Sprintf(": %.4f, %.4f", m.Location.Lat, m.Location.Lon)
	case it.mediaID != "":
		s += fmt.Sprintf(": media %s %q", it.mediaID, m.Text)
	case m.Text != "":
		s += fmt.Sprintf(": %q", m.Text)
	}
	return s
}

func TestRecordedPayloadsBecomeWhatThePersonMeant(t *testing.T) {
	cases := []struct {
		file string
		want []string
	}{
		{"text.json", []string{`text from 6281234567890 (wamid.HBgNNjI4MTIzNDU2Nzg5MBUCABIYFjNFQjBDNzM1RkE3MEY0RTk2NDlEAA==): "halo"`}},
		{"button_reply.json", []string{`option from 6281234567890 (wamid.btn1): option conf:no "Tidak perlu"`}},
		{"list_reply.json", []string{`option from 6281234567890 (wamid.list1): option cat:jalan "Jalan rusak"`}},
		{"template_quick_reply.json", []string{`option from 6281234567890 (wamid.qr1): option status "Lihat status"`}},
		{"location.json", []string{`location from 6281234567890 (wamid.loc1): -6.9103, 109.7301`}},
		{"image.json", []string{`image from 6281234567890 (wamid.img1): media 1479537139650973 "lubangnya"`}},
		{"refused.json", []string{
			"voice from 6281234567890 (wamid.aud)", "sticker from 6281234567890 (wamid.stk)",
			"unsupported from 6281234567890 (wamid.vid)", "unsupported from 6281234567890 (wamid.doc)",
			"unsupported from 6281234567890 (wamid.con)", "unsupported from 6281234567890 (wamid.rea)",
			"unsupported from 6281234567890 (wamid.uns)",
		}},
		{"statuses.json", []string{
			"status wamid.out.1 sent to 6281234567890", "status wamid.out.1 delivered to 6281234567890",
			"status wamid.out.1 read to 6281234567890",
			"status wamid.out.2 failed to 6281200000009 (131026 Message undeliverable)",
		}},
		{"batch.json", []string{ // another number's change and a quality update are left out
			`text from 6281234567890 (wamid.b1): "lapor"`, `text from 6281200000002 (wamid.b2): "wisata"`,
		}},
		{"system.json", nil}, // "the person changed their number": nothing to answer
	}
	for _, tc := range cases {
		t.Run(tc.file+" reads as what the person sent", func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join("testdata", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			p, err := decode(raw)
			if err != nil {
				t.Fatal(err)
			}
			items, _ := parse(p, testPhone)
			var got []string
			for _, it := range items {
				got = append(got, summary(it))
			}
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}

func TestOnePersonsMessagesShareALaneAndStatusesKeepOutOfIt(t *testing.T) {
	raw, _ := os.ReadFile(filepath.Join("testdata", "batch.json"))
	p, _ := decode(raw)
	items, _ := parse(p, testPhone)
	if items[0].lane != "whatsapp:6281234567890" || items[1].lane != "whatsapp:6281200000002" {
		t.Errorf("lanes %q, %q: want each person's conversation", items[0].lane, items[1].lane)
	}
	raw, _ = os.ReadFile(filepath.Join("testdata", "statuses.json"))
	p, _ = decode(raw)
	items, _ = parse(p, testPhone)
	if strings.HasPrefix(items[0].lane, "whatsapp:") {
		t.Errorf("a status runs in lane %q, the person's own", items[0].lane)
	}
}

func TestMalformedPayloadsAreRefused(t *testing.T) {
	for name, raw := range map[string]string{
		"not JSON":             `{"object":`,
		"another kind of hook": `{"object":"page","entry":[]}`,
		"an array":             `[]`,
		"empty":                ``,
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := decode([]byte(raw)); err == nil {
				t.Error("decoded, want an error")
			}
		})
	}
	t.Run("messages without sender, id or content are left out", func(t *testing.T) {
		p, err := decode([]byte(`{"object":"whatsapp_business_account","entry":[{"changes":[{"field":"messages","value":{"messages":[
			{"id":"wamid.1","type":"text","text":{"body":"x"}},
			{"from":"6281234567890","type":"text","text":{"body":"x"}},
			{"from":"not-a-number","id":"wamid.3","type":"text","text":{"body":"x"}},
			{"from":"6281234567890","id":"wamid.4","type":"text"},
			{"from":"6281234567890","id":"wamid.5","type":"location"}],
			"statuses":[{"status":"read"}]}}]}]}`))
		if err != nil {
			t.Fatal(err)
		}
		items, why := parse(p, testPhone)
		if len(items) != 0 || len(why) != 6 {
			t.Errorf("items %v, reasons %q: want nothing, six reasons", items, why)
		}
	})
	t.Run("a button id too long to be ours is read as its label", func(t *testing.T) {
		var m bot.Message
		option(&m, strings.Repeat("x", 300), "Lanjut")
		if m.Kind != bot.KindText || m.Text != "Lanjut" {
			t.Errorf("got %+v", m)
		}
	})
}
