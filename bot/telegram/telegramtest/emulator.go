// Package telegramtest runs the Telegram Bot API emulator (telegram-test-api from npm,
// installed by `npm ci --prefix bot/telegram/e2e`) for end-to-end tests, and speaks
// for the people in it through the emulator's client API:
//
//	POST /sendMessage   a message object with botToken, from, chat, text (or location,
//	                    photo, reply_to_message ...): a person writes
//	POST /sendCommand   the same with entities of type bot_command
//	POST /sendCallback  {botToken, from, message, data}: a person presses a button
//	POST /getUpdates    {token, chatId}: the bot's messages to that chat not yet read,
//	                    as [{messageId, message: {chat_id, text, reply_markup}}, ...]
//
// On the bot side the emulator answers getMe (the bot is BotID, @TestNameBot),
// getUpdates (ignoring offset and timeout), sendMessage, answerCallbackQuery,
// setWebhook and deleteWebhook; setMyCommands gets a 500. With a webhook set it POSTs
// each update there, without Telegram's secret header.
package telegramtest

import (
	"bytes"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// BotID is the bot's user id in the emulator (its getMe).
const BotID = 666

// Emulator is a running emulator.
type Emulator struct {
	URL string // http://127.0.0.1:PORT; the Bot API is URL + "/bot%s/%s"
}

// Start starts the emulator on a free loopback port for the test, and stops it when
// the test ends. Without Node or the npm package it skips on a developer's machine
// and fails in CI (CI set).
func Start(t testing.TB) *Emulator {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	dir := filepath.Join(filepath.Dir(file), "..", "e2e")
	node, err := exec.LookPath("node")
	if err == nil {
		_, err = os.Stat(filepath.Join(dir, "node_modules", "telegram-test-api", "package.json"))
	}
	if err != nil {
		msg := "the Telegram Bot API emulator is not installed (" + err.Error() + "): install Node.js 18 or newer, then run `npm ci --prefix bot/telegram/e2e`"
		if os.Getenv("CI") == "" {
			t.Skip(msg)
		}
		t.Fatal(msg + " (CI must run this test)")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	ln.Close()

	cmd := exec.Command(node, "server.js", port, "--exit-with-stdin")
	cmd.Dir = dir
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start the emulator: %v", err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		stdin.Close() // server.js stops when its input ends
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			t.Logf("emulator output:\n%s", out)
		}
	})
	base := "http://127.0.0.1:" + port
	deadline := time.Now().Add(15 * time.Second)
	for {
		resp, err := http.Post(base+"/bot0:probe/getMe", "application/json", nil)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return &Emulator{URL: base}
			}
		}
		select {
		case <-exited:
			t.Fatalf("the emulator exited:\n%s", out)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("the emulator did not answer within 15 s:\n%s", out)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Endpoint is the Bot API endpoint pattern (TELEGRAM_API_ENDPOINT) of the emulator.
func (e *Emulator) Endpoint() string { return e.URL + "/bot%s/%s" }

// Person is someone writing to the bot Token in a chat: their private chat with the
// bot, or a group when Group is set.
type Person struct {
	API   string
	Token string
	ID    int64
	Name  string
	Group int64          // the group's chat id (negative); 0 = the private chat
	Seen  []BotMessage   // everything received so far in the chat
	mu    *sync.Mutex    // shared by the people of one group (one chat to read)
	inbox *[]BotMessage  // the group's messages read but not yet taken by anyone
	read  map[int64]bool // message ids this person has taken
}

// Member returns another person of p's group, who reads the same chat.
func (p *Person) Member(id int64, name string) *Person {
	p.shared()
	return &Person{API: p.API, Token: p.Token, ID: id, Name: name, Group: p.Group, mu: p.mu, inbox: p.inbox}
}

func (p *Person) shared() {
	if p.mu == nil {
		p.mu, p.inbox = &sync.Mutex{}, &[]BotMessage{}
	}
}

// BotMessage is a message the bot sent, as the emulator keeps it.
type BotMessage struct {
	ID     int64          `json:"-"` // its message id
	Text   string         `json:"text"`
	ChatID any            `json:"chat_id"`
	Markup map[string]any `json:"reply_markup"`
}

// Buttons maps the inline buttons' callback data to their labels.
func (m BotMessage) Buttons() map[string]string {
	out := map[string]string{}
	rows, _ := m.Markup["inline_keyboard"].([]any)
	for _, row := range rows {
		for _, b := range row.([]any) {
			b := b.(map[string]any)
			data, _ := b["callback_data"].(string)
			out[data], _ = b["text"].(string)
		}
	}
	return out
}

// ReplyKeyboard returns the first row of a reply keyboard.
func (m BotMessage) ReplyKeyboard() []map[string]any {
	rows, _ := m.Markup["keyboard"].([]any)
	if len(rows) == 0 {
		return nil
	}
	var out []map[string]any
	for _, b := range rows[0].([]any) {
		out = append(out, b.(map[string]any))
	}
	return out
}

func (p *Person) user() map[string]any {
	return map[string]any{"id": p.ID, "is_bot": false, "first_name": p.Name, "username": strings.ToLower(p.Name), "language_code": "id"}
}

func (p *Person) chat() map[string]any {
	if p.Group != 0 {
		return map[string]any{"id": p.Group, "type": "supergroup", "title": "Petugas"}
	}
	return map[string]any{"id": p.ID, "type": "private", "first_name": p.Name}
}

func (p *Person) chatID() int64 {
	if p.Group != 0 {
		return p.Group
	}
	return p.ID
}

func (p *Person) post(t testing.TB, path string, body map[string]any) []byte {
	t.Helper()
	b, _ := json.Marshal(body)
	resp, err := http.Post(p.API+path, "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST %s: status %d: %s", path, resp.StatusCode, msg)
	}
	return msg
}

// Say sends a message with the given fields (text, location, photo ...).
func (p *Person) Say(t testing.TB, fields map[string]any) {
	t.Helper()
	m := map[string]any{"botToken": p.Token, "from": p.user(), "chat": p.chat(), "date": time.Now().Unix()}
	for k, v := range fields {
		m[k] = v
	}
	p.post(t, "/sendMessage", m)
}

// Reply answers the bot's message to with text, as Telegram clients do (in a group
// the reply is what addresses the bot).
func (p *Person) Reply(t testing.TB, to BotMessage, text string) {
	t.Helper()
	p.Say(t, map[string]any{"text": text, "reply_to_message": map[string]any{
		"message_id": to.ID, "date": time.Now().Unix(), "chat": p.chat(), "text": to.Text,
		"from": map[string]any{"id": BotID, "is_bot": true, "first_name": "Test First name", "username": "TestNameBot"},
	}})
}

// Command sends a bot command as Telegram clients do.
func (p *Person) Command(t testing.TB, text string) {
	t.Helper()
	p.post(t, "/sendCommand", map[string]any{
		"botToken": p.Token, "from": p.user(), "chat": p.chat(), "date": time.Now().Unix(), "text": text,
		"entities": []map[string]any{{"offset": 0, "length": len(strings.Fields(text)[0]), "type": "bot_command"}},
	})
}

// Press presses the button of msg whose callback data is data.
func (p *Person) Press(t testing.TB, msg BotMessage, data string) {
	t.Helper()
	if _, ok := msg.Buttons()[data]; !ok {
		t.Fatalf("no button %q on %q (buttons %v)", data, msg.Text, msg.Buttons())
	}
	p.post(t, "/sendCallback", map[string]any{
		"botToken": p.Token, "from": p.user(), "data": data, "date": time.Now().Unix(),
		"message": map[string]any{"from": p.user(), "chat": p.chat()},
	})
}

// Expect reads the bot's new messages in the person's chat until one satisfies
// done, and returns those read in this call. It waits up to 20 s. In a group, the
// messages read by one member are seen by the others too.
func (p *Person) Expect(t testing.TB, what string, done func(BotMessage) bool) []BotMessage {
	t.Helper()
	p.shared()
	var got []BotMessage
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		p.mu.Lock()
		*p.inbox = append(*p.inbox, p.fetch(t)...)
		if p.read == nil {
			p.read = map[int64]bool{}
		}
		for _, m := range *p.inbox {
			if p.read[m.ID] {
				continue
			}
			p.read[m.ID] = true
			got = append(got, m)
			p.Seen = append(p.Seen, m)
			if done(m) {
				p.mu.Unlock()
				return got
			}
		}
		p.mu.Unlock()
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("waited 20 s for %s; the bot said %q", what, Texts(got))
	return nil
}

// fetch returns the bot's messages in the chat that the emulator had not handed out.
func (p *Person) fetch(t testing.TB) []BotMessage {
	t.Helper()
	body := p.post(t, "/getUpdates", map[string]any{"token": p.Token, "chatId": p.chatID()})
	var page struct {
		Result []struct {
			MessageID int64      `json:"messageId"`
			Message   BotMessage `json:"message"`
		} `json:"result"`
	}
	if err := json.Unmarshal(body, &page); err != nil {
		t.Fatalf("read the bot's messages: %v", err)
	}
	var out []BotMessage
	for _, r := range page.Result {
		r.Message.ID = r.MessageID
		out = append(out, r.Message)
	}
	return out
}

// HasButton matches a message with a button for the option data.
func HasButton(data string) func(BotMessage) bool {
	return func(m BotMessage) bool { _, ok := m.Buttons()[data]; return ok }
}

// HasText matches a message holding s.
func HasText(s string) func(BotMessage) bool {
	return func(m BotMessage) bool { return strings.Contains(m.Text, s) }
}

// HasAnyText matches a message holding one of ss (a sentence the bot words in
// several ways).
func HasAnyText(ss ...string) func(BotMessage) bool {
	return func(m BotMessage) bool {
		return slices.ContainsFunc(ss, func(s string) bool { return strings.Contains(m.Text, s) })
	}
}

// ContainsText reports whether one of ms holds s.
func ContainsText(ms []BotMessage, s string) bool {
	return slices.ContainsFunc(ms, HasText(s))
}

// Texts returns the texts of ms.
func Texts(ms []BotMessage) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.Text)
	}
	return out
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
