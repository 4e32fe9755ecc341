package whatsapp

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"go.mau.fi/whatsmeow"
	"go.mau.fi/whatsmeow/proto/waE2E"
	"go.mau.fi/whatsmeow/types"
	"go.mau.fi/whatsmeow/types/events"

	"github.com/layan-id/layan/bot"
	"github.com/layan-id/layan/store"
)

// pngBytes is a 1×1 PNG.
var pngBytes = []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89" +
	"\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82")

func photoEvent(caption string, size uint64) *events.Message {
	return direct(&waE2E.Message{ImageMessage: &waE2E.ImageMessage{
		Caption: str(caption), Mimetype: str("image/jpeg"), FileLength: u64(size),
		DirectPath: str("/v/t62.7118-24/x.enc"), MediaKey: []byte("key"),
	}})
}

func waitSend(t *testing.T, s *fakeSender) senderCall {
	t.Helper()
	select {
	case call := <-s.sent:
		return call
	case <-time.After(5 * time.Second):
		t.Fatal("no replies were handed to the sender")
		return senderCall{}
	}
}

func TestReceive(t *testing.T) {
	ctx := context.Background()
	replies := []bot.Reply{{Text: "Silakan pilih:", Options: []bot.Option{{ID: "faq", Label: "Tanya"}}}}

	t.Run("a handled message is acknowledged and its replies go to the sender for the chat it came from", inBubble(func(t *testing.T) {
		h := newHarness(t, nil)
		h.engine.out = bot.Outcome{Replies: replies, To: bot.Recipient{Lang: "en"}}
		if !h.c.onEvent(ctx, ctx, direct(text("menu"))) {
			t.Fatal("handler returned false for a handled message: WhatsApp would deliver it again")
		}
		call := waitSend(t, h.sender)
		if call.chat != phone+"@s.whatsapp.net" || call.lang != "en" || len(call.replies) != 1 {
			t.Errorf("sender got %+v", call)
		}
		if got := h.engine.messages(); len(got) != 1 || got[0].Key() != "whatsapp:"+phone {
			t.Errorf("engine got %+v", got)
		}
	}))

	t.Run("a message the engine could not handle is not acknowledged, and a reconnect is asked for", inBubble(func(t *testing.T) {
		h := newHarness(t, nil)
		boom := errors.New("store: redis down")
		h.engine.errs = []error{boom, boom, boom}
		if h.c.onEvent(ctx, ctx, direct(text("menu"))) {
			t.Fatal("handler returned true although the engine failed: the message would be lost")
		}
		if n := len(h.engine.messages()); n != handleAttempts {
			t.Errorf("engine tried %d times, want %d", n, handleAttempts)
		}
		select {
		case s := <-h.c.signals:
			if s.kind != sigRedeliver {
				t.Errorf("signal %v, want a redelivery request", s.kind)
			}
		default:
			t.Error("no redelivery was asked for")
		}
		if len(h.sender.sends) != 0 {
			t.Error("something was sent for an unhandled message")
		}
	}))

	t.Run("a store hiccup is retried within the handler", inBubble(func(t *testing.T) {
		h := newHarness(t, nil)
		h.engine.errs = []error{errors.New("store: timeout")}
		h.engine.out = bot.Outcome{Replies: replies}
		if !h.c.onEvent(ctx, ctx, direct(text("menu"))) {
			t.Fatal("handler returned false although the second try succeeded")
		}
		waitSend(t, h.sender)
	}))

	t.Run("a redelivered message is acknowledged and nothing is sent again", inBubble(func(t *testing.T) {
		h := newHarness(t, nil)
		h.engine.out = bot.Outcome{Replies: replies, Duplicate: true}
		if !h.c.onEvent(ctx, ctx, direct(text("menu"))) {
			t.Fatal("handler returned false for a duplicate")
		}
		select {
		case call := <-h.sender.sent:
			t.Fatalf("a duplicate's replies were sent again: %+v", call)
		case <-time.After(50 * time.Millisecond):
		}
	}))

	t.Run("the message is marked read and the person sees typing while the engine works", inBubble(func(t *testing.T) {
		h := newHarness(t, nil)
		var seen []types.ChatPresence
		var read []types.MessageID
		h.engine.during = func(bot.Message) {
			h.client.mu.Lock()
			seen, read = slices.Clone(h.client.presences), slices.Clone(h.client.reads)
			h.client.mu.Unlock()
		}
		h.c.onEvent(ctx, ctx, direct(text("halo")))
		if !slices.Equal(read, []types.MessageID{msgID}) {
			t.Errorf("read receipts before handling: %v", read)
		}
		if !slices.Equal(seen, []types.ChatPresence{types.ChatPresenceComposing}) {
			t.Errorf("presence before handling: %v, want composing", seen)
		}
		if last := h.client.presences[len(h.client.presences)-1]; last != types.ChatPresencePaused {
			t.Errorf("after a turn without replies the presence is %q, want paused", last)
		}
	}))

	t.Run("ignored messages are acknowledged without reaching the engine", inBubble(func(t *testing.T) {
		h := newHarness(t, nil)
		for _, e := range []*events.Message{
			with(direct(text("x")), func(e *events.Message) { e.Info.IsFromMe = true }),
			with(direct(text("x")), func(e *events.Message) { e.Info.Chat = types.StatusBroadcastJID }),
		} {
			if !h.c.onEvent(ctx, ctx, e) {
				t.Error("an ignored message was not acknowledged")
			}
		}
		if n := len(h.engine.messages()); n != 0 {
			t.Errorf("engine got %d ignored messages", n)
		}
		if len(h.client.reads) != 0 {
			t.Error("an ignored message was marked read")
		}
	}))

	t.Run("while the channel stops, messages are left for the next connection", inBubble(func(t *testing.T) {
		h := newHarness(t, nil)
		stopped, cancel := context.WithCancel(ctx)
		cancel()
		if h.c.onEvent(stopped, ctx, direct(text("menu"))) {
			t.Fatal("a message received while stopping was acknowledged")
		}
		if len(h.engine.messages()) != 0 {
			t.Error("a message received while stopping reached the engine")
		}
	}))

	t.Run("the replies to one chat are sent in the order the messages came", inBubble(func(t *testing.T) {
		h := newHarness(t, nil)
		for i, s := range []string{"satu", "dua", "tiga"} {
			h.engine.out = bot.Outcome{Replies: []bot.Reply{{Text: s}}}
			e := direct(text(s))
			e.Info.ID = string(rune('A' + i))
			h.c.onEvent(ctx, ctx, e)
		}
		var got []string
		for range 3 {
			got = append(got, waitSend(t, h.sender).replies[0].Text)
		}
		if !slices.Equal(got, []string{"satu", "dua", "tiga"}) {
			t.Errorf("replies sent as %v", got)
		}
	}))
}

func TestReceivePhotos(t *testing.T) {
	ctx := context.Background()
	media, err := store.NewMedia(filepath.Join(t.TempDir(), "media"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		event    *events.Message
		download func(whatsmeow.DownloadableMessage) ([]byte, error)
		wantKind bot.Kind
		wantMIME string
		acked    bool
	}{
		{
			name:     "a photo with a caption is downloaded and kept in the media store",
			event:    photoEvent("jalan berlubang di Jl. Gajah Mada", uint64(len(pngBytes))),
			download: func(whatsmeow.DownloadableMessage) ([]byte, error) { return pngBytes, nil },
			wantKind: bot.KindImage, wantMIME: "image/png", acked: true,
		},
		{
			name:     "a PDF sent as a photo is refused by its content",
			event:    photoEvent("surat", 900),
			download: func(whatsmeow.DownloadableMessage) ([]byte, error) { return []byte("%PDF-1.7\n1 0 obj"), nil },
			wantKind: bot.KindBadFile, acked: true,
		},
		{
			name:  "a photo over the size limit is refused without being downloaded",
			event: photoEvent("besar", bot.MaxPhotoSize+1),
			download: func(whatsmeow.DownloadableMessage) ([]byte, error) {
				return nil, errors.New("downloaded although WhatsApp said it is too large")
			},
			wantKind: bot.KindBadFile, acked: true,
		},
		{
			name:  "a photo WhatsApp no longer has is refused",
			event: photoEvent("lama", 900),
			download: func(whatsmeow.DownloadableMessage) ([]byte, error) {
				return nil, whatsmeow.ErrMediaDownloadFailedWith410
			},
			wantKind: bot.KindBadFile, acked: true,
		},
		{
			name:     "a photo that cannot be downloaded now leaves the message unacknowledged",
			event:    photoEvent("nanti", 900),
			download: func(whatsmeow.DownloadableMessage) ([]byte, error) { return nil, errors.New("dial tcp: i/o timeout") },
			acked:    false,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, media)
			h.client.download = tt.download
			if got := h.c.onEvent(ctx, ctx, tt.event); got != tt.acked {
				t.Fatalf("acknowledged = %v, want %v", got, tt.acked)
			}
			msgs := h.engine.messages()
			if !tt.acked {
				if len(msgs) != 0 {
					t.Errorf("engine got %+v for a photo not downloaded", msgs)
				}
				return
			}
			if len(msgs) != 1 {
				t.Fatalf("engine got %d messages", len(msgs))
			}
			m := msgs[0]
			if m.Kind != tt.wantKind {
				t.Fatalf("kind = %q, want %q", m.Kind, tt.wantKind)
			}
			if m.Text != tt.event.Message.GetImageMessage().GetCaption() {
				t.Errorf("text = %q, want the caption", m.Text)
			}
			if tt.wantKind != bot.KindImage {
				if m.Media != nil {
					t.Errorf("a refused file carries media %+v", m.Media)
				}
				return
			}
			if m.Media == nil || m.Media.MIME != tt.wantMIME || m.Media.Ref == "" {
				t.Fatalf("media = %+v", m.Media)
			}
			f, err := media.Open(m.Media.Ref)
			if err != nil {
				t.Fatalf("the kept photo cannot be opened: %v", err)
			}
			f.Close()
			if st, _ := os.Stat(filepath.Join(filepath.Dir(f.Name()), m.Media.Ref)); st == nil || st.Size() != int64(len(pngBytes)) {
				t.Errorf("kept file has the wrong size")
			}
		})
	}
}

func TestLifecycle(t *testing.T) {
	ctx := context.Background()
	nextAlert := func(t *testing.T, h *harness) Alert {
		t.Helper()
		select {
		case a := <-h.alerts:
			return a
		case <-time.After(5 * time.Second):
			t.Fatal("staff were not alerted")
			return Alert{}
		}
	}
	noAlert := func(t *testing.T, h *harness) {
		t.Helper()
		select {
		case a := <-h.alerts:
			t.Fatalf("unexpected alert %+v", a)
		case <-time.After(50 * time.Millisecond):
		}
	}
	sendRefused := func(t *testing.T, h *harness) {
		t.Helper()
		err := h.c.Send(ctx, bot.Recipient{Channel: ChannelName, ChatID: phone}, bot.Reply{Text: "halo"})
		if bot.KindOf(err) != bot.ErrTemporary || !errors.Is(err, ErrUnavailable) {
			t.Fatalf("Send = %v, want a temporary error wrapping ErrUnavailable", err)
		}
		if n := len(h.client.texts()); n != 0 {
			t.Fatalf("%d messages reached WhatsApp while sending is stopped", n)
		}
	}

	t.Run("when the device is logged out sending stops, staff are alerted and readiness says why", inBubble(func(t *testing.T) {
		h := newHarness(t, nil)
		if ok, detail := h.c.Health(); !ok || detail != "connected" {
			t.Fatalf("Health before = %v %q", ok, detail)
		}
		h.c.onEvent(ctx, ctx, &events.LoggedOut{OnConnect: true, Reason: events.ConnectFailureLoggedOut})
		a := nextAlert(t, h)
		if a.Kind != AlertLoggedOut || a.Text != "WhatsApp Layan keluar." {
			t.Errorf("alert = %+v", a)
		}
		ok, detail := h.c.Health()
		if ok || !strings.Contains(detail, "logged out") || !strings.Contains(detail, "whatsapp pair") {
			t.Errorf("Health = %v %q", ok, detail)
		}
		sendRefused(t, h)
		if s := <-h.c.signals; s.kind != sigLoggedOut {
			t.Errorf("session loop told %v", s.kind)
		}
		if !strings.Contains(h.logs.String(), "logged out") {
			t.Error("the log does not say the device was logged out")
		}

		h.c.onEvent(ctx, ctx, &events.LoggedOut{})
		noAlert(t, h)

		h.c.onEvent(ctx, ctx, &events.Connected{}) // paired again
		if a := nextAlert(t, h); a.Kind != AlertRecovered {
			t.Errorf("after re-pairing the alert is %+v, want recovered", a)
		}
		if ok, _ := h.c.Health(); !ok {
			t.Error("Health not ok after re-pairing")
		}
		if err := h.c.Send(ctx, bot.Recipient{Channel: ChannelName, ChatID: phone}, bot.Reply{Text: "halo"}); err != nil {
			t.Errorf("Send after recovery = %v", err)
		}
	}))

	t.Run("a temporary ban stops sending and staff learn until when", inBubble(func(t *testing.T) {
		h := newHarness(t, nil)
		h.c.onEvent(ctx, ctx, &events.TemporaryBan{Code: events.TempBanSentToTooManyPeople, Expire: 2 * time.Hour})
		a := nextAlert(t, h)
		if a.Kind != AlertBanned || a.Until.IsZero() || !strings.Contains(a.Text, "sampai") {
			t.Errorf("alert = %+v", a)
		}
		if ok, detail := h.c.Health(); ok || !strings.Contains(detail, "banned") {
			t.Errorf("Health = %v %q", ok, detail)
		}
		sendRefused(t, h)
		if s := <-h.c.signals; s.kind != sigBanned || s.until.IsZero() {
			t.Errorf("session loop told %+v", s)
		}
	}))

	t.Run("a replaced stream stops sending and is alerted once however often it happens", inBubble(func(t *testing.T) {
		h := newHarness(t, nil)
		h.c.onEvent(ctx, ctx, &events.StreamReplaced{})
		if a := nextAlert(t, h); a.Kind != AlertReplaced {
			t.Errorf("alert = %+v", a)
		}
		h.c.onEvent(ctx, ctx, &events.StreamReplaced{})
		noAlert(t, h)
		if ok, detail := h.c.Health(); ok || !strings.Contains(detail, "replaced") {
			t.Errorf("Health = %v %q", ok, detail)
		}
		sendRefused(t, h)
	}))

	t.Run("an outdated client is alerted and stops sending", inBubble(func(t *testing.T) {
		h := newHarness(t, nil)
		h.c.onEvent(ctx, ctx, &events.ClientOutdated{})
		if a := nextAlert(t, h); a.Kind != AlertOutdated {
			t.Errorf("alert = %+v", a)
		}
		sendRefused(t, h)
	}))

	t.Run("a network disconnect is not alerted and sending is still tried", inBubble(func(t *testing.T) {
		h := newHarness(t, nil)
		h.c.onEvent(ctx, ctx, &events.Disconnected{})
		noAlert(t, h)
		if ok, detail := h.c.Health(); ok || detail != "disconnected; reconnecting" {
			t.Errorf("Health = %v %q", ok, detail)
		}
		h.client.sendErrs = []error{whatsmeow.ErrNotConnected}
		if err := h.c.Send(ctx, bot.Recipient{Channel: ChannelName, ChatID: phone}, bot.Reply{Text: "x"}); bot.KindOf(err) != bot.ErrTemporary {
			t.Errorf("Send while reconnecting = %v, want temporary", err)
		}
		h.c.onEvent(ctx, ctx, &events.Connected{})
		noAlert(t, h)
	}))
}
