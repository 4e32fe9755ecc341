package telegram_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/png"
	"io"
	"net"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/layan-id/layan/bot"
	"github.com/layan-id/layan/bot/telegram"
	"github.com/layan-id/layan/store"
	"github.com/layan-id/layan/store/storetest"
)

func TestSendShapesMessagesTheWayTelegramShowsThem(t *testing.T) {
	r := newRig(t, storetest.Mini(t), nil)
	ctx := context.Background()

	t.Run("options become an inline keyboard, one button a row, carrying the option ids", func(t *testing.T) {
		err := r.ch.Send(ctx, bot.Recipient{Channel: telegram.ChannelName, ChatID: "1122334455"}, bot.Reply{Text: "Pilih bahasa:", Options: []bot.Option{
			{ID: "lang:id", Label: "Bahasa Indonesia"}, {ID: "lang:en", Label: "English"},
		}})
		if err != nil {
			t.Fatal(err)
		}
		c := last(t, r.api.callsOf("sendMessage"))
		want := map[string]any{"inline_keyboard": []any{
			[]any{map[string]any{"text": "Bahasa Indonesia", "callback_data": "lang:id"}},
			[]any{map[string]any{"text": "English", "callback_data": "lang:en"}},
		}}
		if got := c.markup(t); !reflect.DeepEqual(got, want) {
			t.Errorf("reply_markup = %v\nwant %v", got, want)
		}
		if c.Params.Get("chat_id") != "1122334455" || c.Params.Get("text") != "Pilih bahasa:" {
			t.Errorf("sent %v", c.Params)
		}
	})

	t.Run("an option id longer than 64 bytes travels as a short key", func(t *testing.T) {
		long := "faq:entry:" + strings.Repeat("persyaratan-izin-usaha-", 4)
		if err := r.ch.Send(ctx, bot.Recipient{Channel: telegram.ChannelName, ChatID: "1122334455"}, bot.Reply{Text: "Maksud Anda?", Options: []bot.Option{{ID: long, Label: "Izin usaha"}}}); err != nil {
			t.Fatal(err)
		}
		kb := last(t, r.api.callsOf("sendMessage")).markup(t)["inline_keyboard"].([]any)
		data := kb[0].([]any)[0].(map[string]any)["callback_data"].(string)
		if len(data) > telegram.MaxCallbackData || !strings.HasPrefix(data, "~") {
			t.Fatalf("callback_data %q (%d bytes), want a ~key within 64 bytes", data, len(data))
		}
		if got, _ := r.backend.Store.Telegram().Option(ctx, data); got != long {
			t.Errorf("the store maps %q to %q, want the long id", data, got)
		}
	})

	t.Run("asking for a location shows a one-time keyboard whose first button shares it, labelled in the recipient's language", func(t *testing.T) {
		err := r.ch.Send(ctx, bot.Recipient{Channel: telegram.ChannelName, ChatID: "1122334455", Lang: "en"}, bot.Reply{Text: "Where is it?", AskLocation: true,
			Options: []bot.Option{{ID: "skip", Label: "Lewati"}}})
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]any{
			"keyboard": []any{
				[]any{map[string]any{"text": "en:telegram.share_location", "request_location": true}},
				[]any{map[string]any{"text": "Lewati"}},
			},
			"resize_keyboard": true, "one_time_keyboard": true,
		}
		if got := last(t, r.api.callsOf("sendMessage")).markup(t); !reflect.DeepEqual(got, want) {
			t.Errorf("reply_markup = %v\nwant %v", got, want)
		}
	})

	t.Run("a plain reply in a private chat removes a keyboard left from before", func(t *testing.T) {
		if err := r.ch.Send(ctx, bot.Recipient{Channel: telegram.ChannelName, ChatID: "1122334455"}, bot.Reply{Text: "Terima kasih."}); err != nil {
			t.Fatal(err)
		}
		want := map[string]any{"remove_keyboard": true}
		if got := last(t, r.api.callsOf("sendMessage")).markup(t); !reflect.DeepEqual(got, want) {
			t.Errorf("reply_markup = %v, want %v", got, want)
		}
	})

	t.Run("a plain reply in a group carries no keyboard at all", func(t *testing.T) {
		if err := r.ch.Send(ctx, bot.Recipient{Channel: telegram.ChannelName, ChatID: "-1001234567890"}, bot.Reply{Text: "Jam buka 08.00."}); err != nil {
			t.Fatal(err)
		}
		if got := last(t, r.api.callsOf("sendMessage")).Params.Get("reply_markup"); got != "" {
			t.Errorf("reply_markup = %q, want none", got)
		}
	})

	t.Run("text goes without parse_mode, so Markdown and HTML in it are shown as typed", func(t *testing.T) {
		text := "Laporan Anda: *tebal* <b>jalan</b> [rusak](http://contoh.test) _miring_ `kode`"
		if err := r.ch.Send(ctx, bot.Recipient{Channel: telegram.ChannelName, ChatID: "1122334455"}, bot.Reply{Text: text}); err != nil {
			t.Fatal(err)
		}
		c := last(t, r.api.callsOf("sendMessage"))
		if _, set := c.Params["parse_mode"]; set {
			t.Errorf("parse_mode = %q, want none", c.Params.Get("parse_mode"))
		}
		if e := c.Params.Get("entities"); e != "" && e != "null" && e != "[]" {
			t.Errorf("entities = %s, want none", e)
		}
		if c.Params.Get("text") != text {
			t.Errorf("text = %q, want it unchanged: %q", c.Params.Get("text"), text)
		}
	})

	t.Run("a long text is split at sentence ends into parts within the limit, the keyboard on the last", func(t *testing.T) {
		sentence := "Kalimat ini panjangnya tidak seberapa, tetapi diulang berkali-kali sampai melewati batas Telegram. "
		text := strings.Repeat(sentence, 100) // about 10,000 characters
		before := len(r.api.callsOf("sendMessage"))
		err := r.ch.Send(ctx, bot.Recipient{Channel: telegram.ChannelName, ChatID: "1122334455"}, bot.Reply{Text: text, Options: []bot.Option{{ID: "menu", Label: "Menu"}}})
		if err != nil {
			t.Fatal(err)
		}
		parts := r.api.callsOf("sendMessage")[before:]
		if len(parts) != 3 {
			t.Fatalf("sent %d messages, want 3", len(parts))
		}
		var joined []string
		for i, p := range parts {
			s := p.Params.Get("text")
			if n := utf8.RuneCountInString(s); n > telegram.MaxText {
				t.Errorf("part %d has %d characters, over %d", i, n, telegram.MaxText)
			}
			if !strings.HasSuffix(s, "Telegram.") {
				t.Errorf("part %d ends %q, want a sentence end", i, s[max(0, len(s)-20):])
			}
			if hasKeyboard := p.Params.Get("reply_markup") != ""; hasKeyboard != (i == len(parts)-1) {
				t.Errorf("part %d has keyboard %v", i, hasKeyboard)
			}
			joined = append(joined, s)
		}
		if got := strings.Join(joined, " "); got != strings.TrimSpace(text) {
			t.Errorf("the parts do not add up to the text")
		}
	})

	t.Run("a reply with a photo sends the photo first, by URL or file id", func(t *testing.T) {
		err := r.ch.Send(ctx, bot.Recipient{Channel: telegram.ChannelName, ChatID: "1122334455"}, bot.Reply{Text: "Pantai Sigandu", Media: &bot.Media{Ref: "https://contoh.test/sigandu.jpg", MIME: "image/jpeg"}})
		if err != nil {
			t.Fatal(err)
		}
		calls := r.api.allCalls()
		if n := len(calls); n < 2 || calls[n-2].Method != "sendPhoto" || calls[n-1].Method != "sendMessage" {
			t.Fatalf("last calls %v, want sendPhoto then sendMessage", methods(calls[max(0, n-2):]))
		}
		if got := calls[len(calls)-2].Params.Get("photo"); got != "https://contoh.test/sigandu.jpg" {
			t.Errorf("photo = %q", got)
		}
	})

	t.Run("a photo kept in the media store (from staff) is uploaded", func(t *testing.T) {
		media, err := store.NewMedia(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		r.ch.AcceptPhotos(media)
		defer r.ch.AcceptPhotos(nil)
		var photo bytes.Buffer
		png.Encode(&photo, image.NewRGBA(image.Rect(0, 0, 8, 8)))
		tinyPNG := photo.String()
		name, mime, err := media.Save(strings.NewReader(tinyPNG))
		if err != nil {
			t.Fatal(err)
		}
		err = r.ch.Send(ctx, bot.Recipient{Channel: telegram.ChannelName, ChatID: "1122334455"}, bot.Reply{Text: "Petugas mengirim foto untuk Anda.", Media: &bot.Media{Ref: name, MIME: mime}})
		if err != nil {
			t.Fatal(err)
		}
		calls := r.api.allCalls()
		if n := len(calls); n < 2 || calls[n-2].Method != "sendPhoto" || calls[n-1].Method != "sendMessage" {
			t.Fatalf("last calls %v, want sendPhoto then sendMessage", methods(calls[max(0, n-2):]))
		}
		want := fmt.Sprintf("upload:%s:%d", name, len(tinyPNG))
		if got := calls[len(calls)-2].Params.Get("photo"); got != want {
			t.Errorf("photo = %q, want the kept file uploaded (%s)", got, want)
		}
	})

	t.Run("a kept photo that is gone is a permanent error", func(t *testing.T) {
		media, err := store.NewMedia(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		r.ch.AcceptPhotos(media)
		defer r.ch.AcceptPhotos(nil)
		err = r.ch.Send(ctx, bot.Recipient{Channel: telegram.ChannelName, ChatID: "1122334455"}, bot.Reply{Text: "x", Media: &bot.Media{Ref: "0123456789abcdef0123456789abcdef.jpg"}})
		if bot.KindOf(err) != bot.ErrPermanent {
			t.Errorf("error %v, want permanent", err)
		}
	})

	t.Run("a chat id that is no number is a permanent error", func(t *testing.T) {
		err := r.ch.Send(ctx, bot.Recipient{Channel: telegram.ChannelName, ChatID: "web-123"}, bot.Reply{Text: "x"})
		if bot.KindOf(err) != bot.ErrPermanent {
			t.Errorf("error %v, want permanent", err)
		}
	})
}

func TestSendErrorsAreTypedByWhatTheSenderShouldDo(t *testing.T) {
	tests := []struct {
		name       string
		status     int
		body       string
		kind       bot.ErrorKind
		retryAfter time.Duration
		blocked    bool
	}{
		{"429 with retry_after is rate limited with the wait", 429,
			`{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 7","parameters":{"retry_after":7}}`,
			bot.ErrRateLimited, 7 * time.Second, false},
		{"403 blocked by the user is blocked, and the person is reported", 403,
			`{"ok":false,"error_code":403,"description":"Forbidden: bot was blocked by the user"}`, bot.ErrBlocked, 0, true},
		{"403 user is deactivated is blocked", 403,
			`{"ok":false,"error_code":403,"description":"Forbidden: user is deactivated"}`, bot.ErrBlocked, 0, true},
		{"403 for another reason is permanent", 403,
			`{"ok":false,"error_code":403,"description":"Forbidden: bot can't initiate conversation with a user"}`, bot.ErrPermanent, 0, false},
		{"400 chat not found is permanent", 400,
			`{"ok":false,"error_code":400,"description":"Bad Request: chat not found"}`, bot.ErrPermanent, 0, false},
		{"502 from Telegram is temporary", 502,
			`{"ok":false,"error_code":502,"description":"Bad Gateway"}`, bot.ErrTemporary, 0, false},
		{"a proxy's HTML page is temporary", 503, `<html>Service Unavailable</html>`, bot.ErrTemporary, 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, storetest.Mini(t), nil)
			r.api.script("sendMessage", answer{tc.status, tc.body})
			err := r.ch.Send(context.Background(), bot.Recipient{Channel: telegram.ChannelName, ChatID: "1122334455"}, bot.Reply{Text: "Halo"})
			var se *bot.SendError
			if !errors.As(err, &se) {
				t.Fatalf("error %v (%T), want *bot.SendError", err, err)
			}
			if se.Kind != tc.kind || se.RetryAfter != tc.retryAfter {
				t.Errorf("kind %v retry after %v, want %v %v", se.Kind, se.RetryAfter, tc.kind, tc.retryAfter)
			}
			select {
			case key := <-r.blocked:
				if !tc.blocked || key != "telegram:1122334455" {
					t.Errorf("reported %q as blocked, want a report: %v", key, tc.blocked)
				}
			default:
				if tc.blocked {
					t.Error("the person who blocked the bot was not reported")
				}
			}
		})
	}

	t.Run("the sender waits out retry_after and then delivers", func(t *testing.T) {
		r := newRig(t, storetest.Mini(t), nil)
		r.api.script("sendMessage",
			answer{429, `{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 1","parameters":{"retry_after":1}}`},
			answer{200, `{"ok":true,"result":{"message_id":1,"date":1,"chat":{"id":1122334455,"type":"private"}}}`})
		if err := r.sender.Send(context.Background(), bot.Recipient{Channel: telegram.ChannelName, ChatID: "1122334455"}, bot.Reply{Text: "Halo"}); err != nil {
			t.Fatal(err)
		}
		sends := r.api.callsOf("sendMessage")
		if len(sends) != 2 {
			t.Fatalf("%d sendMessage calls, want 2", len(sends))
		}
		if gap := sends[1].At.Sub(sends[0].At); gap < 900*time.Millisecond {
			t.Errorf("retried after %v, want at least the 1 s Telegram asked for", gap)
		}
	})
}

func TestTheTokenNeverAppearsInErrorsOrLogs(t *testing.T) {
	// A port nobody listens on: every call fails with a *url.Error, whose text holds
	// the request URL and so the token.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	deadEndpoint := "http://" + ln.Addr().String() + "/bot%s/%s"
	ln.Close()

	for _, tc := range []struct {
		name     string
		endpoint string
	}{
		{"an unreachable endpoint", deadEndpoint},
		{"an endpoint that is not a URL", "http://bad host/bot%s/%s"},
	} {
		t.Run("with "+tc.name, func(t *testing.T) {
			r := newRig(t, storetest.Mini(t), func(c *telegram.Config) { c.Endpoint = tc.endpoint })
			err := r.ch.Send(context.Background(), bot.Recipient{Channel: telegram.ChannelName, ChatID: "1122334455"}, bot.Reply{Text: "Halo"})
			if err == nil {
				t.Fatal("Send to an unreachable API succeeded")
			}
			if bot.KindOf(err) != bot.ErrTemporary {
				t.Errorf("kind %v, want temporary", bot.KindOf(err))
			}
			assertNoToken(t, "Send error", err.Error())
			if !strings.Contains(err.Error(), "<token>") {
				t.Errorf("error %q does not show where the token was redacted", err)
			}
			var ue *url.Error
			if errors.As(err, &ue) {
				assertNoToken(t, "the wrapped *url.Error", ue.Error())
			}
			_, _, err = r.ch.Fetch(context.Background(), "AgACAgUAAxkBAAIBSmaLarge")
			if err == nil {
				t.Fatal("Fetch from an unreachable API succeeded")
			}
			assertNoToken(t, "Fetch error", err.Error())

			// Start-up against the dead API logs its retries: without the token.
			ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
			defer cancel()
			r.ch.Run(ctx)
			if !strings.Contains(r.logs.String(), "getMe") {
				t.Errorf("no log line about the failing getMe: %s", r.logs)
			}
			assertNoToken(t, "logs", r.logs.String())
		})
	}
}

func assertNoToken(t *testing.T, what, s string) {
	t.Helper()
	for _, form := range []string{testToken, url.PathEscape(testToken), url.QueryEscape(testToken), "secretTOKENvalue"} {
		if strings.Contains(s, form) {
			t.Errorf("%s holds the token (%q): %s", what, form, s)
		}
	}
}

func TestFetchDownloadsThroughTheConfiguredEndpoint(t *testing.T) {
	r := newRig(t, storetest.Mini(t), nil)
	r.api.addFile("AgACAgUAAxkBAAIBSmaLarge", "JPEGBYTES")
	body, mime, err := r.ch.Fetch(context.Background(), "AgACAgUAAxkBAAIBSmaLarge")
	if err != nil {
		t.Fatal(err)
	}
	defer body.Close()
	b, err := io.ReadAll(body)
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != "JPEGBYTES" || mime != "image/jpeg" {
		t.Errorf("fetched %q as %q, want the file as image/jpeg", b, mime)
	}
	if got := last(t, r.api.callsOf("getFile")).Params.Get("file_id"); got != "AgACAgUAAxkBAAIBSmaLarge" {
		t.Errorf("getFile asked for %q", got)
	}
	if len(r.api.callsOf("download photos/AgACAgUAAxkBAAIBSmaLarge.jpg")) != 1 {
		t.Errorf("the file was not downloaded from the configured endpoint's /file/bot<token>/ path")
	}
}

func last(t testing.TB, calls []call) call {
	t.Helper()
	if len(calls) == 0 {
		t.Fatal("no such call was made")
	}
	return calls[len(calls)-1]
}

func methods(calls []call) []string {
	var out []string
	for _, c := range calls {
		out = append(out, c.Method)
	}
	return out
}
