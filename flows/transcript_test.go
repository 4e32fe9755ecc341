package flows_test

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/layan-id/layan/bot"
	"github.com/layan-id/layan/flows"
	"github.com/layan-id/layan/flows/faq"
	"github.com/layan-id/layan/locales"
	"github.com/layan-id/layan/store/storetest"
)

var update = flag.Bool("update", false, "rewrite the expected bot lines of flows/testdata/*.txt")

// TestTranscripts plays every conversation in testdata/*.txt through the real engine,
// router and store (miniredis), and compares what the bot says with the '<' lines.
//
// Transcript format: '>' lines are the person, '<' lines the bot, '#' lines comments.
// A reply's options follow its text as "<   N. Label {id}"; replies are separated by
// a lone '<'. The person can also send:
//
//	> [sticker]  > [voice]  > [image]  > [location]     a message of that kind
//	> [pick ID]                                        press the button with option ID
//	> [pick-with-text ID N]                            an option sent with a text of N letters
//	> [repeat X N]                                     text X repeated N times
//	> [quoted "..."]                                   a Go-quoted text (control characters)
//	> [redeliver]                                      the platform sends the last message again
//	> [empty]                                          a text of only white space
func TestTranscripts(t *testing.T) {
	files, err := filepath.Glob("testdata/*.txt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no transcripts in testdata: %v", err)
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txt"), func(t *testing.T) {
			runTranscript(t, file)
		})
	}
}

// failOnError is a log handler that fails the test on any error logged (a missing
// text, a broken template, a failed turn).
type failOnError struct {
	slog.Handler
	t *testing.T
}

func (h failOnError) Handle(ctx context.Context, r slog.Record) error {
	if r.Level >= slog.LevelError {
		h.t.Errorf("logged an error: %s", r.Message)
	}
	return nil
}

func newEngine(t *testing.T) *bot.Engine {
	t.Helper()
	texts, err := locales.Load("", map[string]any{"Region": "Kabupaten Contoh"})
	if err != nil {
		t.Fatal(err)
	}
	b := storetest.Mini(t)
	log := slog.New(failOnError{slog.DiscardHandler, t})
	matcher, err := faq.Load(locales.Content(""))
	if err != nil {
		t.Fatal(err)
	}
	router := flows.NewRouter(texts, log)
	router.Register("faq", flows.NewAskFlow(matcher, b.Store.FAQStats(), router))
	return bot.NewEngine(bot.EngineConfig{
		Store:   b.Store.Conversations(30*time.Second, time.Hour),
		Handler: router,
		Apology: router.Apology,
		Logger:  log,
	})
}

func runTranscript(t *testing.T, file string) {
	src, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	e := newEngine(t)
	var out strings.Builder
	var last bot.Message
	n := 0
	for _, line := range strings.Split(strings.TrimRight(string(src), "\n"), "\n") {
		switch {
		case strings.HasPrefix(line, "<"):
			continue // expectations are regenerated below
		case !strings.HasPrefix(line, ">"):
			out.WriteString(line + "\n")
			continue
		}
		out.WriteString(line + "\n")
		n++
		msg := person(t, strings.TrimSpace(strings.TrimPrefix(line, ">")), n)
		if msg.ID == "" {
			msg = last
		}
		last = msg
		res, err := e.Handle(context.Background(), msg)
		if err != nil {
			t.Fatalf("%s: message %d: %v", file, n, err)
		}
		if !res.Duplicate {
			out.WriteString(render(res.Replies))
		}
	}
	got := out.String()
	if *update {
		if err := os.WriteFile(file, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if got != string(src) {
		t.Errorf("transcript %s differs (run go test ./flows -update and review the diff):\n%s", file, diff(string(src), got))
	}
	if strings.Contains(got, "<no value>") || strings.Contains(got, "[") && strings.Contains(got, "< [") {
		t.Errorf("transcript %s shows a missing text or field", file)
	}
}

// person turns a '>' line into a message; a [redeliver] returns a message without ID.
func person(t *testing.T, s string, n int) bot.Message {
	m := bot.Message{Channel: "test", ChatID: "chat-1", UserID: "user-1", ID: strconv.Itoa(n), Kind: bot.KindText, Text: s, Time: time.Now()}
	if !strings.HasPrefix(s, "[") || !strings.HasSuffix(s, "]") {
		return m
	}
	cmd, arg, _ := strings.Cut(strings.Trim(s, "[]"), " ")
	m.Text = ""
	switch cmd {
	case "sticker", "voice", "image", "location":
		m.Kind = bot.Kind(cmd)
	case "pick":
		m.Kind, m.Option = bot.KindOption, arg
	case "pick-with-text":
		id, count, _ := strings.Cut(arg, " ")
		c, err := strconv.Atoi(count)
		if err != nil {
			t.Fatalf("bad [pick-with-text %s]", arg)
		}
		m.Kind, m.Option, m.Text = bot.KindOption, id, strings.Repeat("a", c)
	case "repeat":
		x, count, _ := strings.Cut(arg, " ")
		c, err := strconv.Atoi(count)
		if err != nil {
			t.Fatalf("bad [repeat %s]", arg)
		}
		m.Text = strings.Repeat(x, c)
	case "quoted":
		q, err := strconv.Unquote(arg)
		if err != nil {
			t.Fatalf("bad [quoted %s]: %v", arg, err)
		}
		m.Text = q
	case "empty":
		m.Text = "   "
	case "redeliver":
		return bot.Message{}
	default:
		t.Fatalf("unknown directive %s", s)
	}
	return m
}

func render(replies []bot.Reply) string {
	var b strings.Builder
	for i, r := range replies {
		if i > 0 {
			b.WriteString("<\n")
		}
		for _, l := range strings.Split(r.Text, "\n") {
			b.WriteString(strings.TrimRight("< "+l, " ") + "\n")
		}
		for j, o := range r.Options {
			fmt.Fprintf(&b, "<   %d. %s {%s}\n", j+1, o.Label, o.ID)
		}
	}
	return b.String()
}

func diff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < len(w) || i < len(g); i++ {
		var a, b string
		if i < len(w) {
			a = w[i]
		}
		if i < len(g) {
			b = g[i]
		}
		if a != b {
			return fmt.Sprintf("line %d\nwant: %q\ngot:  %q", i+1, a, b)
		}
	}
	return ""
}
