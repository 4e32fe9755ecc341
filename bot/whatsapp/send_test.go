package whatsapp

import (
	"context"
	"errors"
	"fmt"
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
			name:  "a reply with only media sends nothing (WhatsApp replies are text only)",
			reply: bot.Reply{Media: &bot.Media{Ref: "x.jpg"}},
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
