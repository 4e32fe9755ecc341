package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/layan-id/layan/bot/webchat"
)

// env builds a getenv over a map.
func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// startServe runs the service as `go run .` does, until the returned stop is called.
func startServe(t *testing.T, vars map[string]string) (stop func() string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var out, logs syncBuffer
	done := make(chan error, 1)
	go func() { done <- run(ctx, nil, env(vars), strings.NewReader(""), &out, &logs) }()
	// A bound, not a speed check: with Redis unreachable the start retries each step,
	// and a loaded CI machine is slow.
	deadline := time.Now().Add(45 * time.Second)
	for !strings.Contains(out.String(), "http://") {
		if time.Now().After(deadline) {
			t.Fatalf("service did not start; log:\n%s", logs.String())
		}
		select {
		case err := <-done:
			t.Fatalf("service stopped: %v\n%s", err, logs.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	return func() string {
		cancel()
		if err := <-done; err != nil {
			t.Fatalf("service stopped with %v", err)
		}
		return out.String() + logs.String()
	}
}

func post(t *testing.T, addr, token, body string) (string, []string) {
	t.Helper()
	req, _ := http.NewRequest("POST", "http://"+addr+"/api/chat", strings.NewReader(body))
	if token != "" {
		req.Header.Set("X-Chat-Token", token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var r struct {
		Token   string `json:"token"`
		Replies []struct {
			Text string `json:"text"`
		} `json:"replies"`
	}
	if err := json.NewDecoder(res.Body).Decode(&r); err != nil || res.StatusCode != 200 {
		t.Fatalf("POST /api/chat %s: %d %v", body, res.StatusCode, err)
	}
	var texts []string
	for _, x := range r.Replies {
		texts = append(texts, x.Text)
	}
	return r.Token, texts
}

func TestARestartOfTheEmbeddedServiceKeepsTheConversation(t *testing.T) {
	dir := t.TempDir()
	vars := map[string]string{"DATA_DIR": dir, "HTTP_ADDR": freeAddr(t), "REGION_NAME": "Kabupaten Uji"}

	stop := startServe(t, vars)
	token, greet := post(t, vars["HTTP_ADDR"], "", `{"text":"halo","id":"1"}`)
	if len(greet) == 0 || !strings.Contains(greet[0], "Kabupaten Uji") {
		t.Fatalf("greeting = %q, want the configured region", greet)
	}
	post(t, vars["HTTP_ADDR"], token, `{"option":"language","id":"2"}`)
	output := stop()
	if !strings.Contains(output, "chat at http://"+vars["HTTP_ADDR"]) {
		t.Errorf("the start line does not say where to chat:\n%s", output)
	}
	if strings.Contains(output, "halo") || strings.Contains(output, token) {
		t.Errorf("the log shows message text or a token:\n%s", output)
	}

	stop = startServe(t, vars)
	defer stop()
	_, replies := post(t, vars["HTTP_ADDR"], token, `{"text":"2","id":"3"}`)
	if len(replies) == 0 || !strings.Contains(replies[0], "English") {
		t.Fatalf("after a restart, answering the language prompt gave %q: the conversation was lost", replies)
	}
}

func TestHealthAndReadiness(t *testing.T) {
	vars := map[string]string{"DATA_DIR": t.TempDir(), "HTTP_ADDR": freeAddr(t)}
	stop := startServe(t, vars)
	defer stop()
	for _, path := range []string{"/healthz", "/readyz"} {
		res, err := http.Get("http://" + vars["HTTP_ADDR"] + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 200 || !strings.Contains(string(body), `"ok"`) {
			t.Errorf("%s = %d %s", path, res.StatusCode, body)
		}
	}
}

func TestReadinessFailsWhileRedisIsUnreachable(t *testing.T) {
	vars := map[string]string{"REDIS_URL": "redis://" + freeAddr(t), "HTTP_ADDR": freeAddr(t)}
	stop := startServe(t, vars)
	defer stop()
	res, err := http.Get("http://" + vars["HTTP_ADDR"] + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("/readyz = %d with Redis down, want 503", res.StatusCode)
	}
}

func TestBackupAndRestoreThroughTheCommands(t *testing.T) {
	dir := t.TempDir()
	vars := map[string]string{"DATA_DIR": dir, "HTTP_ADDR": freeAddr(t)}
	stop := startServe(t, vars)
	token, _ := post(t, vars["HTTP_ADDR"], "", `{"text":"halo"}`)
	post(t, vars["HTTP_ADDR"], token, `{"option":"lang:en"}`)
	stop()

	ctx := context.Background()
	var backup bytes.Buffer
	if err := run(ctx, []string{"backup"}, env(vars), nil, &backup, io.Discard); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(backup.String(), `{"layan_backup":1`) || !strings.Contains(backup.String(), "layan:") {
		t.Fatalf("backup does not look like one:\n%s", backup.String())
	}

	t.Run("a malformed file is refused and changes nothing", func(t *testing.T) {
		bad := backup.String() + "{not json\n"
		err := run(ctx, []string{"restore"}, env(vars), strings.NewReader(bad), io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), "line") {
			t.Fatalf("restore of a malformed file = %v, want an error naming the line", err)
		}
	})

	t.Run("a restore into an empty data dir brings the conversation back", func(t *testing.T) {
		vars2 := map[string]string{"DATA_DIR": filepath.Join(t.TempDir(), "new"), "HTTP_ADDR": freeAddr(t)}
		var msg bytes.Buffer
		if err := run(ctx, []string{"restore"}, env(vars2), &backup, io.Discard, &msg); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(msg.String(), "restored") {
			t.Errorf("restore said %q", msg.String())
		}
		stop := startServe(t, vars2)
		defer stop()
		_, replies := post(t, vars2["HTTP_ADDR"], token, `{"text":"menu"}`)
		if len(replies) == 0 || !strings.Contains(replies[0], "Please choose") {
			t.Errorf("restored conversation answered %q, want the English menu", replies)
		}
	})
}

func TestASecondProcessCannotShareTheEmbeddedStore(t *testing.T) {
	vars := map[string]string{"DATA_DIR": t.TempDir(), "HTTP_ADDR": freeAddr(t)}
	stop := startServe(t, vars)
	defer stop()
	err := run(context.Background(), []string{"chat"}, env(vars), strings.NewReader(""), io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "another Layan") {
		t.Errorf("a second process on the same DATA_DIR = %v, want a clear refusal", err)
	}
}

func TestTheTerminalChat(t *testing.T) {
	vars := map[string]string{"DATA_DIR": t.TempDir()}
	var out bytes.Buffer
	if err := run(context.Background(), []string{"chat"}, env(vars), strings.NewReader("halo\nbahasa\n2\n"), &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Halo, selamat datang", "1. Tanya layanan", "2. English", "from now on I will use English"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("terminal chat lacks %q:\n%s", want, out.String())
		}
	}
}

func TestBadConfigurationIsNamed(t *testing.T) {
	cases := map[string]map[string]string{
		"HTTP_ADDR":    {"HTTP_ADDR": "8080"},
		"TZ_REGION":    {"TZ_REGION": "Asia/Atlantis"},
		"CONTENT_DIR":  {"CONTENT_DIR": "/does/not/exist"},
		"LOG_LEVEL":    {"LOG_LEVEL": "loud"},
		"REDIS_URL":    {"REDIS_URL": "http://example"},
		"HANDOFF_WAIT": {"HANDOFF_WAIT": "ten minutes"},
		"OFFICE_HOURS": {"OFFICE_HOURS": "weekdays 8-4"},
		"HISTORY_DAYS": {"HISTORY_DAYS": "0"},
	}
	for i, cron := range []string{"TZ=Asia/Jakarta", "TZ=Asia/Jakarta0 7 * * *", "CRON_TZ=Nowhere/Zone 0 7 * * *", "CRON_TZ=", "0 7 * *"} {
		cases[fmt.Sprintf("TIP_SCHEDULE (%d: %q)", i, cron)] = map[string]string{"TIP_SCHEDULE": cron}
	}
	for name, vars := range cases {
		t.Run(fmt.Sprintf("a bad %s stops the start and is named", name), func(t *testing.T) {
			if vars["DATA_DIR"] == "" {
				vars["DATA_DIR"] = t.TempDir()
			}
			err := run(context.Background(), nil, env(vars), nil, io.Discard, io.Discard)
			if want, _, _ := strings.Cut(name, " "); err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("run = %v, want an error naming %s", err, want)
			}
		})
	}
	if err := run(context.Background(), []string{"frobnicate"}, env(nil), nil, io.Discard, io.Discard); err == nil {
		t.Error("an unknown command was accepted")
	}
}

func TestWeakSecretsStopTheStart(t *testing.T) {
	const hex32 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08" // openssl rand -hex 32
	webhook := func(secret string) map[string]string {
		return map[string]string{"TELEGRAM_TOKEN": "6000000001:AAH-token", "TELEGRAM_WEBHOOK_URL": "https://layan.contoh.test/telegram/webhook",
			"TELEGRAM_WEBHOOK_SECRET": secret}
	}
	cases := []struct {
		name    string
		vars    map[string]string
		names   string // the variable the error names; "" = no error
		because string
	}{
		{"an admin token of 16 characters", map[string]string{"ADMIN_TOKEN": "rahasia-petugas1"}, "ADMIN_TOKEN", "at least 32"},
		{"an admin token of 31 characters", map[string]string{"ADMIN_TOKEN": hex32[:31]}, "ADMIN_TOKEN", "at least 32"},
		{"an admin token of one letter", map[string]string{"ADMIN_TOKEN": strings.Repeat("a", 40)}, "ADMIN_TOKEN", "repetitive"},
		{"an admin token of a word repeated", map[string]string{"ADMIN_TOKEN": strings.Repeat("rahasia-", 5)}, "ADMIN_TOKEN", "repe"},
		{"an admin token counting up", map[string]string{"ADMIN_TOKEN": "0123456789abcdefghijklmnopqrstuvwxyz"}, "ADMIN_TOKEN", "sequence"},
		{"an admin token from openssl rand -hex 32", map[string]string{"ADMIN_TOKEN": hex32}, "", ""},
		{"an admin token from openssl rand -base64 32", map[string]string{"ADMIN_TOKEN": "u3Xq9Zr1+Kd0vW7p/Lm4Nc8Ty2Hb6Ge5Fa3Jd1Ks9Qo="}, "", ""},
		{"a webhook secret of 20 characters", webhook("s3cret_Webhook-token"), "TELEGRAM_WEBHOOK_SECRET", "at least 32"},
		{"a webhook secret Telegram does not take", webhook("u3Xq9Zr1+Kd0vW7p/Lm4Nc8Ty2Hb6Ge5Fa3Jd1Ks9Qo="), "TELEGRAM_WEBHOOK_SECRET", "A-Z a-z 0-9 _ -"},
		{"a webhook secret over 256 characters", webhook(strings.Repeat(hex32, 5)), "TELEGRAM_WEBHOOK_SECRET", "256"},
		{"a repetitive webhook secret", webhook(strings.Repeat("abc", 12)), "TELEGRAM_WEBHOOK_SECRET", "repetitive"},
		{"a webhook URL without a secret", webhook(""), "TELEGRAM_WEBHOOK_SECRET", "openssl rand -hex 32"},
		{"a webhook secret from openssl rand -hex 32", webhook(hex32), "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := loadConfig(env(tc.vars))
			if tc.names == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("accepted")
			}
			msg := err.Error()
			for _, want := range []string{tc.names, tc.because, "openssl rand -hex 32"} {
				if !strings.Contains(msg, want) {
					t.Errorf("the error does not say %q: %v", want, err)
				}
			}
			for _, v := range tc.vars {
				if len(v) > 8 && strings.Contains(msg, v) && !strings.HasPrefix(v, "https://") {
					t.Errorf("the error repeats the secret: %v", err)
				}
			}
		})
	}
}

func TestStaffIdentitiesAndTheAlertChatAreChecked(t *testing.T) {
	const tgToken, webToken = "6000000001:AAH-token", "q7Xk2mP9vR4tW8yB1nC5dF3gH6jK0lZs"
	cases := []struct {
		name  string
		vars  map[string]string
		names []string // what the error names; none = no error
	}{
		{"an unknown channel in STAFF_IDS", map[string]string{"STAFF_IDS": "sms:123"}, []string{"STAFF_IDS", "sms"}},
		{"an unknown channel in STAFF_NOTIFY", map[string]string{"STAFF_NOTIFY": "sms:123"}, []string{"STAFF_NOTIFY", "sms"}},
		{"a Telegram user that is not a number", map[string]string{"STAFF_IDS": "telegram:abc", "TELEGRAM_TOKEN": tgToken}, []string{"STAFF_IDS", "telegram:abc"}},
		{"a Telegram chat that is not a number", map[string]string{"STAFF_NOTIFY": "telegram:abc", "TELEGRAM_TOKEN": tgToken}, []string{"STAFF_NOTIFY", "telegram:abc"}},
		{"a Telegram user without TELEGRAM_TOKEN", map[string]string{"STAFF_IDS": "telegram:123456789"}, []string{"STAFF_IDS", "TELEGRAM_TOKEN"}},
		{"a Telegram alert chat without TELEGRAM_TOKEN", map[string]string{"STAFF_NOTIFY": "telegram:-1001234567890"}, []string{"STAFF_NOTIFY", "TELEGRAM_TOKEN"}},
		{"a WhatsApp alert chat without WHATSAPP_ENABLED", map[string]string{"STAFF_NOTIFY": "whatsapp:6281234567890"}, []string{"STAFF_NOTIFY", "WHATSAPP_ENABLED"}},
		{"a WhatsApp alert chat that is no number", map[string]string{"STAFF_NOTIFY": "whatsapp:budi", "WHATSAPP_ENABLED": "true"}, []string{"STAFF_NOTIFY"}},
		{"a WhatsApp staff number with a leading 0", map[string]string{"STAFF_IDS": "whatsapp:081234567890"}, []string{"STAFF_IDS"}},
		{"a web chat staff member that is not a token", map[string]string{"STAFF_IDS": "webchat:budi"}, []string{"STAFF_IDS", "webchat"}},
		{"one bad identity among good ones", map[string]string{"STAFF_IDS": "telegram:123456789, sms:6281234567890", "TELEGRAM_TOKEN": tgToken}, []string{"STAFF_IDS", "sms"}},
		{"Telegram staff with Telegram on", map[string]string{"STAFF_IDS": "telegram:123456789", "STAFF_NOTIFY": "telegram:-1001234567890", "TELEGRAM_TOKEN": tgToken}, nil},
		{"WhatsApp staff and a WhatsApp group with WhatsApp on",
			map[string]string{"STAFF_IDS": "whatsapp:6281234567890", "STAFF_NOTIFY": "whatsapp:120363012345678901@g.us", "WHATSAPP_ENABLED": "true"}, nil},
		{"a web chat staff member and alert chat", map[string]string{"STAFF_IDS": "webchat:" + webToken, "STAFF_NOTIFY": "webchat:" + webToken}, nil},
		{"nobody", map[string]string{}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := loadConfig(env(tc.vars))
			if len(tc.names) == 0 {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("accepted")
			}
			for _, want := range tc.names {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("the error does not name %s: %v", want, err)
				}
			}
		})
	}
	t.Run("a web chat token is never repeated in an error", func(t *testing.T) {
		for _, v := range []string{"webchat:" + webToken + "x", "webchat:" + webToken[:20]} {
			for _, name := range []string{"STAFF_IDS", "STAFF_NOTIFY"} {
				_, err := loadConfig(env(map[string]string{name: v}))
				if err == nil || strings.Contains(err.Error(), webToken[:20]) {
					t.Errorf("%s=%s: %v", name, v, err)
				}
			}
		}
	})
	t.Run("alerts to a web chat token go to the conversation it names", func(t *testing.T) {
		c, err := loadConfig(env(map[string]string{"STAFF_NOTIFY": "webchat:" + webToken}))
		if err != nil || c.StaffNotify != "webchat:"+webchat.ChatID(webToken) {
			t.Errorf("STAFF_NOTIFY read as %q (%v)", c.StaffNotify, err)
		}
	})
}

// syncBuffer is a bytes.Buffer safe for one writer and one reader.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestTheFAQCommandWritesOneVerdictPerQuestion(t *testing.T) {
	vars := map[string]string{"DATA_DIR": t.TempDir()}
	var out bytes.Buffer
	in := strings.NewReader("ktp ku ilang gmn\nresep rendang\n")
	if err := run(context.Background(), []string{"faq"}, env(vars), in, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d lines for 2 questions:\n%s", len(lines), out.String())
	}
	var first, second struct {
		Question  string   `json:"question"`
		ID        string   `json:"id"`
		Score     float64  `json:"score"`
		Answered  bool     `json:"answered"`
		Suggested []string `json:"suggested"`
	}
	json.Unmarshal([]byte(lines[0]), &first)
	json.Unmarshal([]byte(lines[1]), &second)
	if first.Question != "ktp ku ilang gmn" || first.ID != "ktp-hilang" || !first.Answered || first.Score <= 0 {
		t.Errorf("first verdict = %+v, want ktp-hilang answered", first)
	}
	if second.Answered || second.Suggested == nil {
		t.Errorf("off-topic verdict = %+v, want not answered and an empty suggestion list", second)
	}
}

func TestTheFAQCommandReadsAnotherKnowledgeBase(t *testing.T) {
	dir := t.TempDir()
	kb := filepath.Join(dir, "kb.yaml")
	os.WriteFile(kb, []byte("- id: paspor\n  questions: [cara membuat paspor, syarat paspor baru]\n  answer: Ke kantor imigrasi.\n"), 0o644)
	var out bytes.Buffer
	err := run(context.Background(), []string{"faq", "--kb", kb}, env(map[string]string{"DATA_DIR": dir}),
		strings.NewReader("paspor gmn\n"), &out, io.Discard)
	if err != nil || !strings.Contains(out.String(), `"id":"paspor","score"`) || !strings.Contains(out.String(), `"answered":true`) {
		t.Fatalf("faq --kb: %v\n%s", err, out.String())
	}
	os.WriteFile(kb, []byte("- id: a\n  questions: [x]\n"), 0o644)
	err = run(context.Background(), []string{"faq", "--kb", kb}, env(map[string]string{"DATA_DIR": dir}), strings.NewReader(""), io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "kb.yaml:1") {
		t.Errorf("a malformed knowledge base = %v, want the file and line", err)
	}
}

func TestUnansweredQuestionsReachStaff(t *testing.T) {
	vars := map[string]string{"DATA_DIR": t.TempDir(), "HTTP_ADDR": freeAddr(t)}
	stop := startServe(t, vars)
	token, _ := post(t, vars["HTTP_ADDR"], "", `{"text":"halo"}`)
	post(t, vars["HTTP_ADDR"], token, `{"text":"skor persib tadi malam"}`)
	post(t, vars["HTTP_ADDR"], token, `{"text":"skor persib tadi malam"}`)
	stop()
	var out bytes.Buffer
	if err := run(context.Background(), []string{"faq", "unanswered"}, env(vars), nil, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "2  skor persib tadi malam") {
		t.Errorf("faq unanswered shows:\n%s", out.String())
	}
}

// postRaw sends a raw body to path and decodes the chat answer.
func postRaw(t *testing.T, addr, path, token, contentType string, body []byte) (int, []string) {
	t.Helper()
	req, _ := http.NewRequest("POST", "http://"+addr+path, bytes.NewReader(body))
	req.Header.Set("X-Chat-Token", token)
	req.Header.Set("Content-Type", contentType)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var r struct {
		Replies []struct {
			Text string `json:"text"`
		} `json:"replies"`
	}
	json.NewDecoder(res.Body).Decode(&r)
	var texts []string
	for _, x := range r.Replies {
		texts = append(texts, x.Text)
	}
	return res.StatusCode, texts
}

func TestAComplaintFiledOverTheWebChatWithAPhotoAndAPlace(t *testing.T) {
	dir := t.TempDir()
	vars := map[string]string{"DATA_DIR": dir, "HTTP_ADDR": freeAddr(t), "TICKET_PREFIX": "BTG"}
	stop := startServe(t, vars)
	defer stop()
	addr := vars["HTTP_ADDR"]
	token, _ := post(t, addr, "", `{"text":"halo"}`)
	post(t, addr, token, `{"text":"lapor"}`)
	post(t, addr, token, `{"option":"cat:jalan"}`)
	post(t, addr, token, `{"text":"Lampu jalan di depan balai desa mati sejak seminggu"}`)
	_, replies := post(t, addr, token, `{"location":{"lat":-6.92,"lon":109.74},"id":"loc-1"}`)
	if len(replies) == 0 || !strings.Contains(replies[0], "foto") {
		t.Fatalf("after the location: %q, want the photo step", replies)
	}
	status, replies := postRaw(t, addr, "/api/chat/upload?id=pdf-1", token, "image/jpeg", []byte("%PDF-1.4 not a photo"))
	if status != 200 || len(replies) == 0 || !strings.Contains(replies[0], "JPEG, PNG, atau WebP") {
		t.Fatalf("a PDF named as a JPEG: %d %q, want a kind refusal", status, replies)
	}
	var photo bytes.Buffer
	if err := png.Encode(&photo, image.NewRGBA(image.Rect(0, 0, 8, 8))); err != nil {
		t.Fatal(err)
	}
	status, replies = postRaw(t, addr, "/api/chat/upload?id=photo-1", token, "application/octet-stream", photo.Bytes())
	if status != 200 || len(replies) == 0 || !strings.Contains(replies[0], "Foto 1 dari 3") {
		t.Fatalf("a PNG: %d %q", status, replies)
	}
	post(t, addr, token, `{"text":"lanjut"}`)
	post(t, addr, token, `{"option":"conf:no"}`)
	_, replies = post(t, addr, token, `{"option":"confirm","id":"confirm-1"}`)
	if len(replies) == 0 || !strings.Contains(replies[0], "BTG-") {
		t.Fatalf("confirmation answered %q, want a ticket", replies)
	}
	_, again := post(t, addr, token, `{"option":"confirm","id":"confirm-1"}`)
	if strings.Join(again, "") != strings.Join(replies, "") {
		t.Errorf("the confirmation sent again answered %q, want the same ticket", again)
	}
	files, _ := os.ReadDir(filepath.Join(dir, "media"))
	if len(files) != 1 {
		t.Errorf("%d files in DATA_DIR/media, want the one photo", len(files))
	}
	_, replies = post(t, addr, token, `{"text":"status"}`)
	if len(replies) == 0 || strings.Count(replies[0], "BTG-") != 1 {
		t.Errorf("status shows %q, want exactly one complaint", replies)
	}
}

func TestStaffChangeAComplaintThroughTheAPIAndTheCitizenHears(t *testing.T) {
	vars := map[string]string{"DATA_DIR": t.TempDir(), "HTTP_ADDR": freeAddr(t), "ADMIN_TOKEN": "rahasia-petugas-7f3a9c2e51b84d06a1e5"}
	stop := startServe(t, vars)
	defer stop()
	addr := vars["HTTP_ADDR"]
	token, _ := post(t, addr, "", `{"text":"halo"}`)
	for _, m := range []string{`{"text":"lapor"}`, `{"option":"cat:sampah"}`, `{"text":"Sampah menumpuk di depan pasar sejak Senin"}`,
		`{"text":"lewati"}`, `{"text":"lanjut"}`, `{"option":"conf:no"}`} {
		post(t, addr, token, m)
	}
	_, replies := post(t, addr, token, `{"option":"confirm"}`)
	id := regexp.MustCompile(`ADU-\d{6}-\d{4}`).FindString(strings.Join(replies, " "))
	if id == "" {
		t.Fatalf("no ticket in %q", replies)
	}
	call := func(method, path, bearer, body string) int {
		req, _ := http.NewRequest(method, "http://"+addr+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+bearer)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	if got := call("GET", "/api/admin/complaints", "salah", ""); got != 401 {
		t.Errorf("a wrong token got %d, want 401", got)
	}
	if got := call("POST", "/api/admin/complaints/"+id+"/status", vars["ADMIN_TOKEN"], `{"status":"diverifikasi","by":"Budi"}`); got != 200 {
		t.Fatalf("verifying got %d", got)
	}
	// The news reaches the citizen's inbox (pushed in the background).
	deadline := time.Now().Add(10 * time.Second)
	for {
		req, _ := http.NewRequest("GET", "http://"+addr+"/api/chat/inbox", nil)
		req.Header.Set("X-Chat-Token", token)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		// sampah is routed to Dinas Lingkungan Hidup: verified, it is passed to it
		if strings.Contains(string(body), id) && strings.Contains(string(body), "diverifikasi") && strings.Contains(string(body), "Dinas Lingkungan Hidup") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the citizen did not hear of the change; inbox: %s", body)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestABroadcastScheduledThroughTheAPIReachesSubscribersOnce(t *testing.T) {
	vars := map[string]string{"DATA_DIR": t.TempDir(), "HTTP_ADDR": freeAddr(t), "ADMIN_TOKEN": "rahasia-petugas-7f3a9c2e51b84d06a1e5"}
	stop := startServe(t, vars)
	defer stop()
	addr := vars["HTTP_ADDR"]
	subscriber, _ := post(t, addr, "", `{"text":"halo"}`)
	post(t, addr, subscriber, `{"text":"langganan"}`)
	post(t, addr, subscriber, `{"option":"sub:darurat"}`)
	outsider, _ := post(t, addr, "", `{"text":"halo"}`) // subscribed to nothing

	call := func(method, path, body string) (int, string) {
		req, _ := http.NewRequest(method, "http://"+addr+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+vars["ADMIN_TOKEN"])
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	for _, bad := range []struct{ body, names string }{
		{`{"topics":["darurat"],"text":{"id":"x"},"cron":"61 * * * *"}`, `\"cron\"`},
		{`{"topics":["darurat"],"text":{"id":"x"},"cron":"TZ=Asia/Jakarta"}`, `\"cron\"`},
		{`{"topics":["darurat"],"text":{"id":"x"},"at":"2020-01-01T06:00:00+07:00"}`, `\"at\"`},
		{`{"topics":["bola"],"text":{"id":"x"},"at":"2099-01-01T06:00:00+07:00"}`, `\"topics\"`},
		{`{"topics":["darurat"],"text":{"id":" "},"at":"2099-01-01T06:00:00+07:00"}`, `\"text\"`},
	} {
		if status, body := call("POST", "/api/admin/broadcasts", bad.body); status != 400 || !strings.Contains(body, bad.names) {
			t.Errorf("%s: %d %s, want a 400 naming %s", bad.body, status, body, bad.names)
		}
	}
	at := time.Now().Add(time.Second).Format(time.RFC3339)
	status, body := call("POST", "/api/admin/broadcasts", `{"topics":["darurat"],"text":{"id":"Waspada banjir malam ini","en":"Flood warning tonight"},"at":"`+at+`"}`)
	if status != 201 {
		t.Fatalf("scheduling: %d %s", status, body)
	}
	var created struct{ ID string }
	json.Unmarshal([]byte(body), &created)

	inbox := func(token string) string {
		req, _ := http.NewRequest("GET", "http://"+addr+"/api/chat/inbox", nil)
		req.Header.Set("X-Chat-Token", token)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return string(b)
	}
	deadline := time.Now().Add(20 * time.Second)
	for got := ""; !strings.Contains(got, "Waspada banjir"); got = inbox(subscriber) {
		if time.Now().After(deadline) {
			t.Fatal("the subscriber did not receive the broadcast")
		}
		time.Sleep(100 * time.Millisecond)
	}
	if got := inbox(outsider); strings.Contains(got, "Waspada") {
		t.Error("a person who did not subscribe received the broadcast")
	}
	for {
		_, body = call("GET", "/api/admin/broadcasts/"+created.ID, "")
		if strings.Contains(body, `"state":"done"`) || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if !strings.Contains(body, `"recipients":1`) || !strings.Contains(body, `"sent":1`) || !strings.Contains(body, `"state":"done"`) {
		t.Errorf("the broadcast's run reads %s, want one recipient, one sent, done", body)
	}
	if status, _ := call("POST", "/api/admin/broadcasts/"+created.ID+"/pause", ""); status != 409 {
		t.Errorf("pausing a finished broadcast: %d, want 409", status)
	}
}

// On SIGTERM the service stops its parts one after another, the last started first:
// HTTP (requests in flight finish), the receivers (messages in hand are handled), the
// background work, the news (delivered), and the store last, which every other part
// may still use until it has stopped.
func TestTheServiceStopsItsPartsInReverseOrderAndTheStoreLast(t *testing.T) {
	graph := newFakeGraph(t)
	vars := graph.env(t, map[string]string{
		"LOG_LEVEL": "debug",
	})
	stop := startServe(t, vars)
	post(t, vars["HTTP_ADDR"], "", `{"text":"halo"}`)
	var started, stopped []string
	for _, line := range strings.Split(stop(), "\n") {
		_, part, ok := strings.Cut(line, "part=")
		part = strings.Trim(part, `"`)
		switch {
		case !ok:
		case strings.Contains(line, `msg="run group: start"`):
			started = append(started, part)
		case strings.Contains(line, `msg="run group: stopped"`):
			stopped = append(stopped, part)
		}
	}
	want := []string{"http", "whatsapp cloud", "photo pruning", "handoff waits", "knowledge base", "broadcasts", "news", "complaint layout", "store"}
	if !slices.Equal(stopped, want) {
		t.Errorf("parts stopped in the order %q, want %q", stopped, want)
	}
	slices.Reverse(started)
	if !slices.Equal(started, want) {
		t.Errorf("parts started in the order %q, want the reverse of %q", started, want)
	}
}
