package whatsapp

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"go.mau.fi/whatsmeow"
	"go.mau.fi/whatsmeow/types"

	"github.com/layan-id/layan/bot"
)

func TestSend(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name  string
		lang  string // of the recipient
		reply bot.Reply
		want  []string
	}{
		{
			name:  "a plain text goes as it is",
			reply: bot.Reply{Text: "Kantor buka pukul 08.00–15.00."},
			want:  []string{"Kantor buka pukul 08.00–15.00."},
		},
		{
			name: "options become numbered lines followed by the hint to answer with a number",
			reply: bot.Reply{Text: "Silakan pilih layanan:", Options: []bot.Option{
				{ID: "faq", Label: "Tanya layanan publik"}, {ID: "complaint", Label: "Buat pengaduan"}, {ID: "status"},
			}},
			want: []string{"Silakan pilih layanan:\n\n1. Tanya layanan publik\n2. Buat pengaduan\n3. status\n\nBalas dengan angka."},
		},
		{
			name:  "the hint is in the person's language",
			lang:  "en",
			reply: bot.Reply{Text: "Choose:", Options: []bot.Option{{ID: "id", Label: "Bahasa Indonesia"}, {ID: "en", Label: "English"}}},
			want:  []string{"Choose:\n\n1. Bahasa Indonesia\n2. English\n\nReply with a number."},
		},
		{
			name:  "a question for a location says how to share one",
			reply: bot.Reply{Text: "Di mana lokasinya?", AskLocation: true},
			want:  []string{"Di mana lokasinya?\n\nUntuk berbagi lokasi: ketuk 📎 lalu Lokasi."},
		},
		{
			name:  "a question for a location with options has the hint before the options",
			reply: bot.Reply{Text: "Di mana?", AskLocation: true, Options: []bot.Option{{ID: "skip", Label: "Lewati"}}},
			want:  []string{"Di mana?\n\nUntuk berbagi lokasi: ketuk 📎 lalu Lokasi.\n\n1. Lewati\n\nBalas dengan angka."},
		},
		{
			name:  "a long text goes as several messages cut between paragraphs",
			reply: bot.Reply{Text: strings.Repeat("a", 3000) + "\n\n" + strings.Repeat("b", 3000)},
			want:  []string{strings.Repeat("a", 3000), strings.Repeat("b", 3000)},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, nil)
			if err := h.c.Send(ctx, bot.Recipient{Channel: ChannelName, ChatID: phone + "@s.whatsapp.net", Lang: tt.lang}, tt.reply); err != nil {
				t.Fatal(err)
			}
			if got := h.client.texts(); !slices.Equal(got, tt.want) {
				t.Errorf("sent\n%q\nwant\n%q", got, tt.want)
			}
		})
	}
}

func TestSendChatIDs(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name   string
		chat   string
		to     types.JID
		refuse bool
	}{
		{name: "a phone-number chat as received", chat: phone + "@s.whatsapp.net", to: pn(phone)},
		{name: "a LID chat as received", chat: lid + "@lid", to: lidJID(lid)},
		{name: "a bare international number (STAFF_NOTIFY)", chat: phone, to: pn(phone)},
		{name: "a number with a plus", chat: "+" + phone, to: pn(phone)},
		{name: "a staff group", chat: "120363012345678901@g.us", to: types.NewJID("120363012345678901", types.GroupServer)},
		{name: "a device JID is sent to the person", chat: phone + ":3@s.whatsapp.net", to: pn(phone)},
		{name: "a national number with a leading zero is refused", chat: "081234567890", refuse: true},
		{name: "words are refused", chat: "budi", refuse: true},
		{name: "a newsletter is refused", chat: "120363000000000000@newsletter", refuse: true},
		{name: "a Telegram chat id is refused", chat: "-100123", refuse: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, nil)
			err := h.c.Send(ctx, bot.Recipient{Channel: ChannelName, ChatID: tt.chat}, bot.Reply{Text: "halo"})
			if tt.refuse {
				if bot.KindOf(err) != bot.ErrPermanent {
					t.Fatalf("Send = %v, want a permanent error", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := h.client.sent[0].to; got != tt.to {
				t.Errorf("sent to %v, want %v", got, tt.to)
			}
		})
	}
}

func TestSendErrors(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name  string
		err   error
		kind  bot.ErrorKind
		retry time.Duration
	}{
		{"not connected is temporary", whatsmeow.ErrNotConnected, bot.ErrTemporary, 0},
		{"not logged in is temporary", whatsmeow.ErrNotLoggedIn, bot.ErrTemporary, 0},
		{"a send that timed out is temporary", whatsmeow.ErrMessageTimedOut, bot.ErrTemporary, 0},
		{"a dropped websocket is temporary", &whatsmeow.DisconnectedError{Action: "message send"}, bot.ErrTemporary, 0},
		{"a context deadline is temporary", context.DeadlineExceeded, bot.ErrTemporary, 0},
		{"a server error 500 is temporary", fmt.Errorf("%w %d", whatsmeow.ErrServerReturnedError, 500), bot.ErrTemporary, 0},
		{"an unknown error is temporary", errors.New("something odd"), bot.ErrTemporary, 0},
		{"rate-overlimit asks the channel to wait", fmt.Errorf("failed to get user info: %w", whatsmeow.ErrIQRateOverLimit), bot.ErrRateLimited, RateLimitPause},
		{"server error 429 asks the channel to wait", fmt.Errorf("%w %d", whatsmeow.ErrServerReturnedError, 429), bot.ErrRateLimited, RateLimitPause},
		{"server error 463 (a restricted account) asks the channel to wait", fmt.Errorf("%w %d", whatsmeow.ErrServerReturnedError, 463), bot.ErrRateLimited, RateLimitPause},
		{"an unknown server is permanent", fmt.Errorf("%w %s", whatsmeow.ErrUnknownServer, "x"), bot.ErrPermanent, 0},
		{"a device recipient is permanent", whatsmeow.ErrRecipientADJID, bot.ErrPermanent, 0},
		{"a server error 400 is permanent", fmt.Errorf("%w %d", whatsmeow.ErrServerReturnedError, 400), bot.ErrPermanent, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, nil)
			h.client.sendErrs = []error{tt.err}
			err := h.c.Send(ctx, bot.Recipient{Channel: ChannelName, ChatID: phone}, bot.Reply{Text: "halo"})
			var se *bot.SendError
			if !errors.As(err, &se) {
				t.Fatalf("Send = %v, want a *bot.SendError", err)
			}
			if se.Kind != tt.kind || se.RetryAfter != tt.retry {
				t.Errorf("kind %v, retry after %v; want %v, %v", se.Kind, se.RetryAfter, tt.kind, tt.retry)
			}
			if !errors.Is(err, tt.err) {
				t.Errorf("the send error does not wrap whatsmeow's error")
			}
		})
	}

	t.Run("phone numbers in whatsmeow's errors are pseudonymised", func(t *testing.T) {
		h := newHarness(t, nil)
		cause := fmt.Errorf("failed to get LID for PN %s@s.whatsapp.net: %w", otherPhn, whatsmeow.ErrIQTimedOut)
		h.client.sendErrs = []error{cause}
		err := h.c.Send(ctx, bot.Recipient{Channel: ChannelName, ChatID: otherPhn}, bot.Reply{Text: "halo"})
		if strings.Contains(err.Error(), otherPhn) {
			t.Errorf("error text holds the phone number: %v", err)
		}
		if !errors.Is(err, whatsmeow.ErrIQTimedOut) || bot.KindOf(err) != bot.ErrTemporary {
			t.Errorf("redaction lost the error's identity: %v", err)
		}
	})

	t.Run("without a connection nothing is tried and the error is temporary", func(t *testing.T) {
		h := newHarness(t, nil)
		h.c.detach(stateStandby)
		err := h.c.Send(ctx, bot.Recipient{Channel: ChannelName, ChatID: phone}, bot.Reply{Text: "halo"})
		if bot.KindOf(err) != bot.ErrTemporary || !errors.Is(err, ErrUnavailable) {
			t.Errorf("Send = %v", err)
		}
		if !strings.Contains(err.Error(), "standby") {
			t.Errorf("the error does not say why: %v", err)
		}
	})

	t.Run("when a later part of a long reply fails, the error is reported after the parts sent", func(t *testing.T) {
		h := newHarness(t, nil)
		h.client.sendErrs = []error{nil, whatsmeow.ErrNotConnected}
		err := h.c.Send(ctx, bot.Recipient{Channel: ChannelName, ChatID: phone}, bot.Reply{Text: strings.Repeat("kata ", 1500)})
		if bot.KindOf(err) != bot.ErrTemporary || len(h.client.texts()) != 1 {
			t.Errorf("Send = %v after %d parts", err, len(h.client.texts()))
		}
	})
}

func TestDefaultLimits(t *testing.T) {
	t.Run("the channel registers with conservative pacing", func(t *testing.T) {
		h := newHarness(t, nil)
		l := h.sender.limits
		if h.sender.ch != h.c {
			t.Fatal("the channel did not register itself with the sender")
		}
		if l.PerSecond > 1 || l.PerChat > 0.5 || l.Jitter < time.Second || l.PerSecond <= 0 || l.PerChat <= 0 {
			t.Errorf("default limits %+v are not conservative", l)
		}
	})
	t.Run("the limits can be configured", func(t *testing.T) {
		s := newFakeSender()
		custom := bot.Limits{PerSecond: 0.2, PerChat: 0.1}
		if _, err := New(Config{Lock: &fakeLock{}, Media: fakeMedia{}, Limits: &custom}, &fakeEngine{}, s, fakeTexts{}); err != nil {
			t.Fatal(err)
		}
		if s.limits != custom {
			t.Errorf("registered %+v, want %+v", s.limits, custom)
		}
	})
}

func TestSendAStaffPhoto(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	img := image.NewRGBA(image.Rect(0, 0, 40, 30))
	var jpg bytes.Buffer
	if err := jpeg.Encode(&jpg, img, nil); err != nil {
		t.Fatal(err)
	}
	const kept, keptWebP = "0123456789abcdef0123456789abcdef.jpg", "fedcba9876543210fedcba9876543210.webp"
	os.WriteFile(filepath.Join(dir, kept), jpg.Bytes(), 0o600)
	// A 1×1 lossless WebP, as a staff member's browser may send.
	os.WriteFile(filepath.Join(dir, keptWebP), []byte("RIFF\x1a\x00\x00\x00WEBPVP8L\x0d\x00\x00\x00\x2f\x00\x00\x00\x10\x07\x10\x11\x11\x88\x88\xfe\x07\x00"), 0o600)
	photo := func(name, text string) bot.Reply {
		return bot.Reply{Text: text, Media: &bot.Media{Ref: name, MIME: "image/jpeg"}, From: bot.FromStaff}
	}

	t.Run("the photo is uploaded and sent as an image with the text as its caption", func(t *testing.T) {
		h := newHarness(t, fakeMedia{dir: dir})
		if err := h.c.Send(ctx, bot.Recipient{Channel: ChannelName, ChatID: phone + "@s.whatsapp.net"}, photo(kept, "Petugas mengirim foto untuk Anda.")); err != nil {
			t.Fatal(err)
		}
		if len(h.client.uploads) != 1 || !bytes.Equal(h.client.uploads[0].data, jpg.Bytes()) || h.client.uploads[0].kind != whatsmeow.MediaImage {
			t.Fatalf("uploaded %d files, want the kept JPEG as an image", len(h.client.uploads))
		}
		if len(h.client.sent) != 1 || h.client.sent[0].image == nil {
			t.Fatalf("sent %+v, want one image message", h.client.sent)
		}
		im := h.client.sent[0].image
		sum := sha256.Sum256(jpg.Bytes())
		if im.GetCaption() != "Petugas mengirim foto untuk Anda." || im.GetMimetype() != "image/jpeg" ||
			im.GetDirectPath() != "/o1/v/t62/1" || im.GetURL() != "https://mmg.whatsapp.net/o1/v/t62/1" ||
			!bytes.Equal(im.GetFileSHA256(), sum[:]) || len(im.GetMediaKey()) != 32 || im.GetFileLength() != uint64(jpg.Len()) ||
			im.GetWidth() != 40 || im.GetHeight() != 30 {
			t.Errorf("the image message does not describe the upload: %v", im)
		}
		if h.client.sent[0].to != pn(phone) {
			t.Errorf("sent to %v", h.client.sent[0].to)
		}
	})
	t.Run("a WebP goes as a JPEG, which WhatsApp shows as a photo", func(t *testing.T) {
		h := newHarness(t, fakeMedia{dir: dir})
		if err := h.c.Send(ctx, bot.Recipient{Channel: ChannelName, ChatID: phone + "@s.whatsapp.net"}, photo(keptWebP, "Foto")); err != nil {
			t.Fatal(err)
		}
		if _, format, err := image.DecodeConfig(bytes.NewReader(h.client.uploads[0].data)); err != nil || format != "jpeg" {
			t.Errorf("uploaded a %q (%v), want a JPEG", format, err)
		}
		if im := h.client.sent[0].image; im.GetMimetype() != "image/jpeg" {
			t.Errorf("mimetype %q", im.GetMimetype())
		}
	})
	t.Run("a text too long for a caption follows the photo", func(t *testing.T) {
		h := newHarness(t, fakeMedia{dir: dir})
		long := strings.Repeat("kata ", 300)
		if err := h.c.Send(ctx, bot.Recipient{Channel: ChannelName, ChatID: phone + "@s.whatsapp.net"}, photo(kept, long)); err != nil {
			t.Fatal(err)
		}
		if len(h.client.sent) != 2 || h.client.sent[0].image.GetCaption() != "" || h.client.sent[1].text != strings.TrimSpace(long) {
			t.Errorf("sent %d messages, want the photo without caption, then the text", len(h.client.sent))
		}
	})
	t.Run("a photo no longer kept fails for good and sends nothing", func(t *testing.T) {
		h := newHarness(t, fakeMedia{dir: dir})
		err := h.c.Send(ctx, bot.Recipient{Channel: ChannelName, ChatID: phone + "@s.whatsapp.net"}, photo("00000000000000000000000000000000.jpg", "Foto"))
		if bot.KindOf(err) != bot.ErrPermanent || len(h.client.sent)+len(h.client.uploads) != 0 {
			t.Errorf("Send = %v with %d sent, want a permanent failure and nothing sent", err, len(h.client.sent))
		}
	})
	t.Run("an upload cut off by a lost connection is tried again", func(t *testing.T) {
		h := newHarness(t, fakeMedia{dir: dir})
		h.client.uploadErr = whatsmeow.ErrNotConnected
		err := h.c.Send(ctx, bot.Recipient{Channel: ChannelName, ChatID: phone + "@s.whatsapp.net"}, photo(kept, "Foto"))
		if bot.KindOf(err) != bot.ErrTemporary || len(h.client.sent) != 0 {
			t.Errorf("Send = %v, want a temporary failure and no message", err)
		}
	})
}
