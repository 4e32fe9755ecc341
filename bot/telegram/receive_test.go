package telegram_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/jpeg"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/layan-id/layan/bot"
	"github.com/layan-id/layan/bot/telegram"
	"github.com/layan-id/layan/locales"
	"github.com/layan-id/layan/store"
	"github.com/layan-id/layan/store/storetest"
)

const testSecret = "s3cret_Webhook-token_9f86d081884c7d65"

func webhookConfig(c *telegram.Config) {
	c.WebhookURL = "https://layan.contoh.test" + telegram.WebhookPath
	c.WebhookSecret = testSecret
}

// textUpdate is a private text message as Telegram sends it.
func textUpdate(updateID int, chat int64, msgID int, text string) string {
	b, _ := json.Marshal(map[string]any{
		"update_id": updateID,
		"message": map[string]any{
			"message_id": msgID, "date": time.Now().Unix(), "text": text,
			"from": map[string]any{"id": chat, "is_bot": false, "first_name": "Warga"},
			"chat": map[string]any{"id": chat, "type": "private", "first_name": "Warga"},
		},
	})
	return string(b)
}

func (r *rig) post(t testing.TB, secret string, body string) int {
	t.Helper()
	return r.postFor(t, secret, body).Code
}

// postFor posts body to the webhook and returns the whole response.
func (r *rig) postFor(t testing.TB, secret string, body string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest("POST", telegram.WebhookPath, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if secret != "" {
		req.Header.Set("X-Telegram-Bot-Api-Secret-Token", secret)
	}
	rec := httptest.NewRecorder()
	r.mux.ServeHTTP(rec, req)
	return rec
}

func TestWebhook(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		r := newRig(t, b, webhookConfig)
		queue := b.Store.Telegram()
		outer := t
		ctx := context.Background()

		t.Run("a wrong or missing secret gets 401 and queues nothing", func(t *testing.T) {
			for _, secret := range []string{"", "wrong", testSecret + "x", strings.ToUpper(testSecret)} {
				if code := r.post(t, secret, textUpdate(1, 1122334455, 1, "halo")); code != http.StatusUnauthorized {
					t.Errorf("secret %q: status %d, want 401", secret, code)
				}
			}
			if n, _ := queue.Queued(ctx); n != 0 {
				t.Errorf("%d updates queued, want none", n)
			}
		})

		t.Run("a body that is no update gets 400", func(t *testing.T) {
			for _, body := range []string{"", "{", `{"ok":true}`, `[1,2]`} {
				if code := r.post(t, testSecret, body); code != http.StatusBadRequest {
					t.Errorf("body %q: status %d, want 400", body, code)
				}
			}
		})

		t.Run("with the right secret the update is queued and 200 comes back before it is handled", func(t *testing.T) {
			if code := r.post(t, testSecret, textUpdate(10, 1122334455, 41, "ktp ku ilang gmn")); code != http.StatusOK {
				t.Fatalf("status %d, want 200", code)
			}
			if n, _ := queue.Queued(ctx); n != 1 {
				t.Errorf("%d updates queued, want 1", n)
			}
			if got := r.handler.handled(); len(got) != 0 {
				t.Errorf("handled before the channel runs: %v", got)
			}
		})

		t.Run("the webhook is registered with its secret, and the queued update is handled and answered", func(t *testing.T) {
			r.start(outer) // runs for the rest of the test
			waitFor(t, 5*time.Second, "the reply", func() bool { return len(r.api.callsOf("sendMessage")) == 1 })
			set := last(t, r.api.callsOf("setWebhook"))
			if set.Params.Get("url") != "https://layan.contoh.test/telegram/webhook" || set.Params.Get("secret_token") != testSecret {
				t.Errorf("setWebhook %v, want the URL and the secret", set.Params)
			}
			if len(r.api.callsOf("deleteWebhook")) != 0 {
				t.Error("webhook mode deleted the webhook")
			}
			if got := r.handler.handled(); len(got) != 1 || got[0].Text != "ktp ku ilang gmn" || got[0].ID != "1122334455:41" {
				t.Errorf("handled %+v", got)
			}
			waitFor(t, 5*time.Second, "the queue to empty", func() bool { n, _ := queue.Queued(ctx); return n == 0 })
		})

		t.Run("an update delivered twice reaches the flows once and is answered once", func(t *testing.T) {
			before := len(r.api.callsOf("sendMessage"))
			u := textUpdate(11, 1122334455, 42, "jam buka MPP")
			for range 2 {
				if code := r.post(t, testSecret, u); code != http.StatusOK {
					t.Fatalf("status %d, want 200", code)
				}
			}
			// An update leaves the queue only once it was handled: both deliveries are done.
			waitFor(t, 5*time.Second, "the queue to empty", func() bool { n, _ := queue.Queued(ctx); return n == 0 })
			n := 0
			for _, m := range r.handler.handled() {
				if m.ID == "1122334455:42" {
					n++
				}
			}
			if n != 1 {
				t.Errorf("the flows saw the update %d times, want 1", n)
			}
			if sent := len(r.api.callsOf("sendMessage")) - before; sent != 1 {
				t.Errorf("%d replies sent, want 1", sent)
			}
		})

		t.Run("a pressed button is answered, its spinner stopped, and a long option id comes back whole", func(t *testing.T) {
			long := "faq:entry:" + strings.Repeat("izin-usaha-mikro-", 5)
			if err := r.ch.Send(ctx, bot.Recipient{Channel: telegram.ChannelName, ChatID: "1122334455"}, bot.Reply{Text: "Maksud Anda?", Options: []bot.Option{{ID: long, Label: "Izin usaha"}}}); err != nil {
				t.Fatal(err)
			}
			kb := last(t, r.api.callsOf("sendMessage")).markup(t)["inline_keyboard"].([]any)
			data := kb[0].([]any)[0].(map[string]any)["callback_data"].(string)
			cb := fmt.Sprintf(`{"update_id":12,"callback_query":{"id":"cbq-77","from":{"id":1122334455,"is_bot":false,"first_name":"Siti"},
				"message":{"message_id":9,"date":1,"chat":{"id":1122334455,"type":"private"}},"chat_instance":"1","data":%q}}`, data)
			resp := r.postFor(t, testSecret, cb)
			if resp.Code != http.StatusOK {
				t.Fatalf("status %d", resp.Code)
			}
			// The spinner is stopped in the webhook's response (Telegram calls the
			// method it names), not by a call of the worker's.
			var answer map[string]string
			if err := json.Unmarshal(resp.Body.Bytes(), &answer); err != nil || answer["method"] != "answerCallbackQuery" ||
				answer["callback_query_id"] != "cbq-77" || resp.Header().Get("Content-Type") != "application/json" {
				t.Errorf("the webhook answered %s %q (%v), want answerCallbackQuery for cbq-77 in JSON", resp.Header().Get("Content-Type"), resp.Body, err)
			}
			waitFor(t, 5*time.Second, "the button press to be handled", func() bool {
				return slices.ContainsFunc(r.handler.handled(), func(m bot.Message) bool { return m.ID == "cb:cbq-77" })
			})
			got := r.handler.handled()
			if m := got[len(got)-1]; m.Kind != bot.KindOption || m.Option != long {
				t.Errorf("the flows got %v %q, want the option %q", m.Kind, m.Option, long)
			}
			if ans := r.api.callsOf("answerCallbackQuery"); len(ans) != 0 {
				t.Errorf("answerCallbackQuery called %v besides the webhook's response", ans)
			}
			// A message is not a button: the webhook's response to it is empty.
			if resp := r.postFor(t, testSecret, textUpdate(13, 1122334455, 61, "halo")); resp.Code != http.StatusOK || resp.Body.Len() != 0 {
				t.Errorf("the webhook answered a message with %d %q", resp.Code, resp.Body)
			}
		})

		t.Run("a button whose long option id was forgotten arrives as its label", func(t *testing.T) {
			raw, _ := os.ReadFile(filepath.Join("testdata", "callback_long_option.json"))
			if code := r.post(t, testSecret, string(raw)); code != http.StatusOK {
				t.Fatalf("status %d", code)
			}
			waitFor(t, 5*time.Second, "the button press to be handled", func() bool {
				return slices.ContainsFunc(r.handler.handled(), func(m bot.Message) bool { return m.ID == "cb:4382bfdwdsb323b2e0" })
			})
			got := r.handler.handled()
			if m := got[len(got)-1]; m.Kind != bot.KindText || m.Text != "Syarat izin usaha mikro lewat OSS?" || m.Option != "" {
				t.Errorf("the flows got %v %q %q, want the label as text", m.Kind, m.Text, m.Option)
			}
		})

		t.Run("a person who blocks the bot is reported", func(t *testing.T) {
			raw, _ := os.ReadFile(filepath.Join("testdata", "my_chat_member_kicked.json"))
			if code := r.post(t, testSecret, string(raw)); code != http.StatusOK {
				t.Fatalf("status %d", code)
			}
			select {
			case key := <-r.blocked:
				if key != "telegram:1122334455" {
					t.Errorf("reported %q", key)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("the blocked person was not reported")
			}
		})
	})
}

func TestAnUpdateQueuedByAWorkerThatDiedIsHandledByAnother(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		queue := b.Store.Telegram()
		// Another replica's webhook queued the update, its worker took it and crashed.
		if err := queue.Enqueue(ctx, []byte(textUpdate(20, 1122334455, 60, "halo"))); err != nil {
			t.Fatal(err)
		}
		if ids, _, err := queue.Read(ctx, "replica-that-died", 10, 10*time.Millisecond); err != nil || len(ids) != 1 {
			t.Fatalf("Read = %v, %v", ids, err)
		}
		r := newRig(t, b, func(c *telegram.Config) { webhookConfig(c); c.ClaimAfter = 200 * time.Millisecond })
		r.run(t)
		waitFor(t, 10*time.Second, "the update to be handled", func() bool { return len(r.handler.handled()) == 1 })
		waitFor(t, 5*time.Second, "the queue to empty", func() bool { n, _ := queue.Queued(ctx); return n == 0 })
		if len(r.api.callsOf("sendMessage")) != 1 {
			t.Errorf("%d replies, want 1", len(r.api.callsOf("sendMessage")))
		}
	})
}

func TestAQueuedUpdateIsKeptUntilTheEngineCanHandleIt(t *testing.T) {
	b := storetest.Mini(t)
	ctx := context.Background()
	r := newRig(t, b, func(c *telegram.Config) { webhookConfig(c); c.ClaimAfter = 300 * time.Millisecond })
	r.conv.fail.Store(true) // the conversation store is down
	r.run(t)
	if code := r.post(t, testSecret, textUpdate(30, 1122334455, 70, "halo")); code != http.StatusOK {
		t.Fatalf("status %d", code)
	}
	waitFor(t, 5*time.Second, "the engine to fail on the update", func() bool { return r.conv.failed.Load() > 0 })
	if n, _ := b.Store.Telegram().Queued(ctx); n != 1 {
		t.Fatalf("%d queued while the engine fails, want the update kept", n)
	}
	r.conv.fail.Store(false)
	waitFor(t, 10*time.Second, "the update to be handled once the store is back", func() bool { return len(r.handler.handled()) == 1 })
	waitFor(t, 5*time.Second, "the queue to empty", func() bool { n, _ := b.Store.Telegram().Queued(ctx); return n == 0 })
}

func TestPolling(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		t.Run("a batch is handled and answered before the offset moves past it", func(t *testing.T) {
			r := newRig(t, b, nil)
			r.api.queueUpdates(textUpdate(100, 1111, 1, "satu"), textUpdate(101, 2222, 1, "dua"), textUpdate(102, 1111, 2, "tiga"))
			r.run(t)
			waitFor(t, 5*time.Second, "a getUpdates with the next offset", func() bool {
				return slices.ContainsFunc(r.api.callsOf("getUpdates"), func(c call) bool { return c.Params.Get("offset") == "103" })
			})
			if len(r.api.callsOf("deleteWebhook")) != 1 {
				t.Error("polling mode did not delete the webhook")
			}
			var confirmAt time.Time
			for _, c := range r.api.callsOf("getUpdates") {
				if c.Params.Get("offset") == "103" {
					confirmAt = c.At
					break
				}
			}
			sends := r.api.callsOf("sendMessage")
			if len(sends) != 3 {
				t.Fatalf("%d replies, want 3", len(sends))
			}
			for _, s := range sends {
				if !s.At.Before(confirmAt) {
					t.Errorf("a reply was sent after the offset had moved on")
				}
			}
			var order []string
			for _, m := range r.handler.handled() {
				if m.ChatID == "1111" {
					order = append(order, m.Text)
				}
			}
			if !slices.Equal(order, []string{"satu", "tiga"}) {
				t.Errorf("chat 1111 handled in order %v, want [satu tiga]", order)
			}
		})

		t.Run("a pressed button fetched by polling is answered with a call", func(t *testing.T) {
			r := newRig(t, b, nil)
			r.api.queueUpdates(`{"update_id":150,"callback_query":{"id":"cbq-150","from":{"id":5555,"is_bot":false,"first_name":"Siti"},
				"message":{"message_id":3,"date":1,"chat":{"id":5555,"type":"private"}},"chat_instance":"1","data":"menu"}}`)
			r.run(t)
			waitFor(t, 5*time.Second, "answerCallbackQuery for the pressed button", func() bool {
				return slices.ContainsFunc(r.api.callsOf("answerCallbackQuery"), func(c call) bool { return c.Params.Get("callback_query_id") == "cbq-150" })
			})
		})

		t.Run("an update the engine could not handle is fetched again, not skipped", func(t *testing.T) {
			r := newRig(t, b, nil)
			r.conv.fail.Store(true)
			r.api.queueUpdates(textUpdate(200, 3333, 1, "halo"))
			r.run(t)
			waitFor(t, 5*time.Second, "a getUpdates after the failure", func() bool { return len(r.api.callsOf("getUpdates")) >= 2 })
			for _, c := range r.api.callsOf("getUpdates")[1:] {
				if off := c.Params.Get("offset"); off != "200" {
					t.Fatalf("after a failed update getUpdates asked for offset %q, want 200 (fetch it again)", off)
				}
			}
		})

		t.Run("an empty answer is followed by a pause, not a busy loop", func(t *testing.T) {
			r := newRig(t, b, func(c *telegram.Config) { c.PollInterval = 100 * time.Millisecond })
			r.run(t)
			time.Sleep(500 * time.Millisecond)
			if n := len(r.api.callsOf("getUpdates")); n > 8 {
				t.Errorf("%d getUpdates calls in 0.5 s with a 100 ms interval, want at most 8", n)
			}
		})

		t.Run("only one process polls at a time", func(t *testing.T) {
			r1 := newRig(t, b, nil)
			r2 := newRig(t, b, nil)
			r1.api.queueUpdates(textUpdate(300, 4444, 1, "halo"))
			r1.run(t)
			waitFor(t, 5*time.Second, "the first process to poll", func() bool { return len(r1.api.callsOf("getUpdates")) > 0 })
			r2.run(t)
			time.Sleep(300 * time.Millisecond)
			if n := len(r2.api.callsOf("getUpdates")); n != 0 {
				t.Errorf("the second process polled %d times while the first holds the lease", n)
			}
		})
	})
}

func TestStartUp(t *testing.T) {
	t.Run("an unreachable API is retried in the background until it answers", func(t *testing.T) {
		r := newRig(t, storetest.Mini(t), func(c *telegram.Config) { c.MaxBackoff = 100 * time.Millisecond })
		down := `{"ok":false,"error_code":502,"description":"Bad Gateway"}`
		r.api.script("getMe", answer{502, down}, answer{502, down}, answer{200,
			`{"ok":true,"result":{"id":6000000001,"is_bot":true,"first_name":"Layan","username":"LayanTestBot"}}`})
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		done := make(chan struct{})
		go func() { r.ch.Run(ctx); close(done) }()
		waitFor(t, 10*time.Second, "the channel to connect", func() bool { return r.ch.Me() != nil })
		if n := len(r.api.callsOf("getMe")); n != 3 {
			t.Errorf("getMe called %d times, want 3", n)
		}
		if !strings.Contains(r.logs.String(), "will retry") {
			t.Errorf("the retries were not logged")
		}
		cancel()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatal("Run did not return after its context ended")
		}
	})

	t.Run("Run returns when its context ends even while the API never answers", func(t *testing.T) {
		r := newRig(t, storetest.Mini(t), nil)
		r.api.script("getMe", answer{502, `{"ok":false,"error_code":502,"description":"Bad Gateway"}`})
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		start := time.Now()
		r.ch.Run(ctx)
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("Run took %v after its context ended", d)
		}
	})

	t.Run("commands are registered in Indonesian for everyone and in English", func(t *testing.T) {
		r := newRig(t, storetest.Mini(t), nil)
		r.run(t)
		waitFor(t, 5*time.Second, "setMyCommands", func() bool { return len(r.api.callsOf("setMyCommands")) == 2 })
		calls := r.api.callsOf("setMyCommands")
		langs := map[string]string{}
		for _, c := range calls {
			langs[c.Params.Get("language_code")] = c.Params.Get("commands")
		}
		for lang, code := range map[string]string{"id": "", "en": "en"} {
			var cmds []struct{ Command, Description string }
			if err := json.Unmarshal([]byte(langs[code]), &cmds); err != nil {
				t.Fatalf("commands for %q: %v", code, err)
			}
			var names []string
			for _, c := range cmds {
				names = append(names, c.Command)
				if want := lang + ":telegram.commands." + c.Command; c.Description != want {
					t.Errorf("description %q, want %q", c.Description, want)
				}
			}
			want := []string{"start", "menu", "tanya", "lapor", "status", "wisata", "langganan", "bahasa", "bantuan"}
			if !slices.Equal(names, want) {
				t.Errorf("%s commands %v, want %v", lang, names, want)
			}
		}
	})

	t.Run("a server that refuses setMyCommands is logged as a warning and the channel goes on", func(t *testing.T) {
		r := newRig(t, storetest.Mini(t), nil)
		r.api.script("setMyCommands", answer{500, `{"message":"API method 'setMyCommands' is not supported."}`})
		r.api.queueUpdates(textUpdate(400, 5555, 1, "halo"))
		r.run(t)
		waitFor(t, 5*time.Second, "the update to be handled", func() bool { return len(r.handler.handled()) == 1 })
		if !strings.Contains(r.logs.String(), "level=WARN msg=\"telegram: setMyCommands failed") {
			t.Errorf("no warning about setMyCommands in the logs")
		}
	})

	t.Run("the staff group is recognised", func(t *testing.T) {
		r := newRig(t, storetest.Mini(t), func(c *telegram.Config) { c.StaffChatID = -1009998887776 })
		if !r.ch.IsStaffChat("-1009998887776") || r.ch.IsStaffChat("-1001234567890") || r.ch.IsStaffChat("x") {
			t.Error("IsStaffChat does not recognise exactly the staff group")
		}
	})

	t.Run("webhook mode without a secret is refused", func(t *testing.T) {
		_, err := telegram.New(telegram.Config{Token: testToken, WebhookURL: "https://x.test/telegram/webhook"},
			bot.NewEngine(bot.EngineConfig{Handler: &recordingHandler{}, Apology: func(string) bot.Reply { return bot.Reply{} }}),
			bot.NewSender(nil), storetest.Mini(t).Store.Telegram(), fakeTexts{})
		if err == nil || !strings.Contains(err.Error(), "secret") {
			t.Errorf("New = %v, want an error about the secret", err)
		}
	})
}

func TestLogsHoldNoMessageText(t *testing.T) {
	r := newRig(t, storetest.Mini(t), nil)
	r.api.queueUpdates(textUpdate(500, 6666, 1, "NIK saya 3325012345678901"))
	r.run(t)
	waitFor(t, 5*time.Second, "the reply", func() bool { return len(r.api.callsOf("sendMessage")) == 1 })
	logs := r.logs.String()
	if strings.Contains(logs, "3325012345678901") || strings.Contains(logs, "NIK saya") {
		t.Errorf("the logs hold message text:\n%s", logs)
	}
	if strings.Contains(logs, "6666") {
		t.Errorf("the logs hold a Telegram user id:\n%s", logs)
	}
}

func TestPhotosAreKeptInTheMediaStore(t *testing.T) {
	var photo bytes.Buffer // a real JPEG: the media store decodes the header
	if err := jpeg.Encode(&photo, image.NewRGBA(image.Rect(0, 0, 8, 8)), nil); err != nil {
		t.Fatal(err)
	}
	jpeg := photo.String()
	raw, err := os.ReadFile(filepath.Join("testdata", "photo.json"))
	if err != nil {
		t.Fatal(err)
	}
	const fileID = "AgACAgUAAxkBAAIBSmaLarge" // the largest size in photo.json
	tests := []struct {
		name     string
		content  string
		getFile  []answer
		wantKind bot.Kind
	}{
		{"a photo is downloaded and kept; the flows get its name in the media store", jpeg, nil, bot.KindImage},
		{"a file that is no JPEG, PNG or WebP is refused kindly", "%PDF-1.4 surat kehilangan", nil, bot.KindBadFile},
		{"a file Telegram will not hand out is refused kindly", "", []answer{{400, `{"ok":false,"error_code":400,"description":"Bad Request: file is too big"}`}}, bot.KindBadFile},
		{"a download that fails for a while is tried again", jpeg, []answer{
			{502, `{"ok":false,"error_code":502,"description":"Bad Gateway"}`},
			{200, `{"ok":true,"result":{"file_id":"` + fileID + `","file_unique_id":"u","file_path":"photos/` + fileID + `.jpg"}}`},
		}, bot.KindImage},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			media, err := store.NewMedia(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			r := newRig(t, storetest.Mini(t), nil)
			r.ch.AcceptPhotos(media)
			if tc.content != "" {
				r.api.addFile(fileID, tc.content)
			}
			if tc.getFile != nil {
				r.api.script("getFile", tc.getFile...)
			}
			r.api.queueUpdates(string(raw))
			r.run(t)
			waitFor(t, 5*time.Second, "the photo to reach the flows", func() bool { return len(r.handler.handled()) == 1 })
			m := r.handler.handled()[0]
			if m.Kind != tc.wantKind {
				t.Fatalf("the flows got %v, want %v", m.Kind, tc.wantKind)
			}
			if tc.wantKind == bot.KindImage {
				if m.Media == nil || !strings.HasSuffix(m.Media.Ref, ".jpg") || m.Media.Ref == fileID+".jpg" || m.Media.MIME != "image/jpeg" {
					t.Fatalf("media %+v, want a name in the media store", m.Media)
				}
				f, err := media.Open(m.Media.Ref)
				if err != nil {
					t.Fatalf("the kept photo cannot be opened: %v", err)
				}
				kept, _ := io.ReadAll(f)
				f.Close()
				if string(kept) != tc.content {
					t.Errorf("kept %d bytes, want the %d downloaded", len(kept), len(tc.content))
				}
			} else if m.Media != nil {
				t.Errorf("a refused file still carries media %+v", m.Media)
			}
		})
	}
}

func TestEveryCommandHasADescriptionInEveryLanguage(t *testing.T) {
	texts, err := locales.Load("", nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, lang := range locales.Languages() {
		for _, cmd := range telegram.DefaultCommands() {
			t.Run("/"+cmd.Name+" in "+lang, func(t *testing.T) {
				desc, err := texts.Text(lang, "telegram.commands."+cmd.Name, nil)
				if err != nil {
					t.Fatal(err)
				}
				if n := len([]rune(desc)); n < 1 || n > 256 {
					t.Errorf("description %q has %d characters; Telegram takes 1 to 256", desc, n)
				}
			})
		}
		if _, err := texts.Text(lang, "telegram.share_location", nil); err != nil {
			t.Errorf("%s: %v", lang, err)
		}
	}
}
