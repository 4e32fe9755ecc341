package whatsappcloud

import (
	"bytes"
	"context"
	"encoding/json"
	"image"
	"image/png"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/layan-id/layan/bot"
	"github.com/layan-id/layan/locales"
	"github.com/layan-id/layan/store/storetest"
)

// graphServer is the Graph API over HTTP as far as sending a photo goes: the media
// upload (a multipart form) and the messages endpoint.
type graphServer struct {
	*httptest.Server
	mu       sync.Mutex
	uploads  []graphUpload
	messages []map[string]any
	refuse   int // answer uploads with this status (0: accept)
}

type graphUpload struct {
	product, kind, fileType string
	data                    []byte
}

func newGraphServer(t *testing.T) *graphServer {
	g := &graphServer{}
	g.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+testToken {
			http.Error(w, `{"error":{"message":"Invalid OAuth access token","code":190}}`, 401)
			return
		}
		g.mu.Lock()
		defer g.mu.Unlock()
		switch r.URL.Path {
		case "/v23.0/" + testPhone + "/media":
			if g.refuse != 0 {
				w.WriteHeader(g.refuse)
				io.WriteString(w, `{"error":{"message":"Service temporarily unavailable","code":2}}`)
				return
			}
			if err := r.ParseMultipartForm(20 << 20); err != nil {
				http.Error(w, `{"error":{"message":"not a form","code":100}}`, 400)
				return
			}
			f, hdr, err := r.FormFile("file")
			if err != nil {
				http.Error(w, `{"error":{"message":"no file","code":100}}`, 400)
				return
			}
			data, _ := io.ReadAll(f)
			g.uploads = append(g.uploads, graphUpload{r.FormValue("messaging_product"), r.FormValue("type"), hdr.Header.Get("Content-Type"), data})
			io.WriteString(w, `{"id":"media-4490"}`)
		case "/v23.0/" + testPhone + "/messages":
			var m map[string]any
			json.NewDecoder(r.Body).Decode(&m)
			g.messages = append(g.messages, m)
			io.WriteString(w, `{"messages":[{"id":"wamid.photo"}]}`)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(g.Close)
	return g
}

func TestAStaffPhotoGoesAsAnImage(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	img := image.NewRGBA(image.Rect(0, 0, 12, 9))
	var pic bytes.Buffer
	png.Encode(&pic, img)
	const kept = "0123456789abcdef0123456789abcdef.png"
	if err := os.WriteFile(filepath.Join(dir, kept), pic.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	texts, err := locales.Load("", nil)
	if err != nil {
		t.Fatal(err)
	}
	start := func(t *testing.T) (*Channel, *graphServer, Store) {
		g := newGraphServer(t)
		st := storetest.Mini(t).Store.WhatsAppCloud()
		ch, err := New(Config{
			Token: testToken, PhoneID: testPhone, AppSecret: testSecret, VerifyToken: testVerify,
			API: g.URL + "/v23.0", Store: st, Media: &savedMedia{dir: dir}, Logger: slog.New(slog.DiscardHandler),
		}, &echo{}, bot.NewSender(nil), texts)
		if err != nil {
			t.Fatal(err)
		}
		if err := st.NoteInbound(ctx, person, time.Now(), time.Now()); err != nil { // inside the 24-hour window
			t.Fatal(err)
		}
		return ch, g, st
	}
	photo := bot.Reply{Text: "Petugas mengirim foto untuk Anda.", Media: &bot.Media{Ref: kept, MIME: "image/png"}, From: bot.FromStaff}

	t.Run("uploaded to the number's media, then sent as an image with the text as caption", func(t *testing.T) {
		ch, g, _ := start(t)
		if err := ch.Send(ctx, bot.Recipient{Channel: ChannelName, ChatID: person}, photo); err != nil {
			t.Fatal(err)
		}
		if len(g.uploads) != 1 {
			t.Fatalf("%d uploads, want 1", len(g.uploads))
		}
		up := g.uploads[0]
		if up.product != "whatsapp" || up.kind != "image/png" || up.fileType != "image/png" || !bytes.Equal(up.data, pic.Bytes()) {
			t.Errorf("uploaded %q %q %q (%d bytes), want the kept PNG as is", up.product, up.kind, up.fileType, len(up.data))
		}
		if len(g.messages) != 1 {
			t.Fatalf("sent %v, want one message", g.messages)
		}
		m := g.messages[0]
		image, _ := m["image"].(map[string]any)
		if m["type"] != "image" || m["to"] != person || m["messaging_product"] != "whatsapp" ||
			image["id"] != "media-4490" || image["caption"] != "Petugas mengirim foto untuk Anda." {
			t.Errorf("sent %v, want the uploaded image with the caption", m)
		}
	})
	t.Run("a reply with options sends the photo, then the text with its buttons", func(t *testing.T) {
		ch, g, _ := start(t)
		r := photo
		r.Options = []bot.Option{{ID: "ok", Label: "Oke"}}
		if err := ch.Send(ctx, bot.Recipient{Channel: ChannelName, ChatID: person}, r); err != nil {
			t.Fatal(err)
		}
		if len(g.messages) != 2 || g.messages[0]["type"] != "image" || g.messages[1]["type"] != "interactive" {
			t.Fatalf("sent %v", g.messages)
		}
		if image := g.messages[0]["image"].(map[string]any); image["caption"] != nil {
			t.Errorf("the photo has a caption %v besides the buttons' text", image["caption"])
		}
	})
	t.Run("an upload Meta cannot take now is tried again, and no text goes without the photo", func(t *testing.T) {
		ch, g, _ := start(t)
		g.refuse = 503
		err := ch.Send(ctx, bot.Recipient{Channel: ChannelName, ChatID: person}, photo)
		if bot.KindOf(err) != bot.ErrTemporary || len(g.messages) != 0 {
			t.Errorf("Send = %v with %d messages, want a temporary failure and nothing sent", err, len(g.messages))
		}
	})
	t.Run("a photo no longer kept (pruned) fails for good", func(t *testing.T) {
		ch, g, _ := start(t)
		r := photo
		r.Media = &bot.Media{Ref: "ffffffffffffffffffffffffffffffff.jpg"}
		if err := ch.Send(ctx, bot.Recipient{Channel: ChannelName, ChatID: person}, r); bot.KindOf(err) != bot.ErrPermanent || len(g.uploads)+len(g.messages) != 0 {
			t.Errorf("Send = %v, want a permanent failure and nothing sent", err)
		}
	})
	t.Run("outside the window the photo is not sent: only the we-replied template", func(t *testing.T) {
		templates, err := LoadTemplates(locales.Content(""))
		if err != nil {
			t.Fatal(err)
		}
		g := newGraphServer(t)
		st := storetest.Mini(t).Store.WhatsAppCloud()
		ch, err := New(Config{
			Token: testToken, PhoneID: testPhone, AppSecret: testSecret, VerifyToken: testVerify, Templates: templates,
			API: g.URL + "/v23.0", Store: st, Media: &savedMedia{dir: dir}, Logger: slog.New(slog.DiscardHandler),
		}, &echo{}, bot.NewSender(nil), texts)
		if err != nil {
			t.Fatal(err)
		}
		tm := &bot.Template{Purposes: []string{"handoff_reply"}, Params: map[string]string{"text": photo.Text}}
		if err := ch.Send(ctx, bot.Recipient{Channel: ChannelName, ChatID: person, Template: tm}, photo); err != nil {
			t.Fatal(err)
		}
		if len(g.uploads) != 0 || len(g.messages) != 1 || g.messages[0]["type"] != "template" ||
			!strings.Contains(mustJSON(g.messages[0]), "layan_balasan_petugas") {
			t.Errorf("uploaded %d, sent %v; want only the template", len(g.uploads), g.messages)
		}
	})
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
