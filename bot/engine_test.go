package bot_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/layan-id/layan/bot"
	"github.com/layan-id/layan/store"
	"github.com/layan-id/layan/store/storetest"
)

func quiet() *slog.Logger { return slog.New(slog.DiscardHandler) }

// echo is a handler that appends each text to the session variable "seen" and says
// the whole list, so a test can read the order in which messages were handled.
func echo(delay time.Duration) bot.HandlerFunc {
	return func(ctx context.Context, t *bot.Turn) error {
		time.Sleep(delay)
		seen := t.Session.Get("seen")
		if seen != "" {
			seen += ","
		}
		seen += t.Msg.Text
		t.Session.Set("seen", seen)
		t.Say(bot.Reply{Text: seen})
		return nil
	}
}

func msg(chat, id, text string) bot.Message {
	return bot.Message{Channel: "test", ChatID: chat, UserID: chat, ID: id, Kind: bot.KindText, Text: text}
}

func newEngine(st bot.ConversationStore, h bot.Handler, timeout time.Duration) *bot.Engine {
	return bot.NewEngine(bot.EngineConfig{
		Store: st, Handler: h, Timeout: timeout, Logger: quiet(),
		Apology: func(lang string) bot.Reply { return bot.Reply{Text: "maaf/" + lang} },
	})
}

func TestMessagesOfOneChatAreHandledOneAtATimeAcrossProcesses(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		// Two engines on one store stand for two replicas; messages of one chat
		// alternate between them, sent one after another, each while the previous
		// may still run.
		st := b.Store.Conversations(5*time.Second, time.Hour)
		engines := []*bot.Engine{newEngine(st, echo(2*time.Millisecond), time.Second), newEngine(st, echo(2*time.Millisecond), time.Second)}
		ctx := context.Background()
		const n = 20
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				if _, err := engines[i%2].Handle(ctx, msg("chat-a", strconv.Itoa(i), strconv.Itoa(i))); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		out, err := engines[0].Handle(ctx, msg("chat-a", "last", "end"))
		if err != nil {
			t.Fatal(err)
		}
		got := strings.Split(out.Replies[0].Text, ",")
		if len(got) != n+1 {
			t.Fatalf("handled %d messages, want %d (a message was lost or its turn overwritten): %v", len(got)-1, n, got)
		}
	})
}

func TestDifferentChatsRunConcurrently(t *testing.T) {
	b := storetest.Mini(t)
	release := make(chan struct{})
	var started sync.WaitGroup
	started.Add(2)
	h := bot.HandlerFunc(func(ctx context.Context, t *bot.Turn) error {
		started.Done()
		<-release
		return nil
	})
	e := newEngine(b.Store.Conversations(5*time.Second, time.Hour), h, 5*time.Second)
	var wg sync.WaitGroup
	for _, chat := range []string{"a", "b"} {
		wg.Go(func() { e.Handle(context.Background(), msg(chat, "1", "hi")) })
	}
	started.Wait() // would hang if chat b waited for chat a
	close(release)
	wg.Wait()
}

func TestARedeliveredMessageIsNotHandledAgain(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		calls := 0
		h := bot.HandlerFunc(func(ctx context.Context, t *bot.Turn) error {
			calls++
			t.Say(bot.Reply{Text: "tiket dibuat"})
			return nil
		})
		e := newEngine(b.Store.Conversations(5*time.Second, time.Hour), h, time.Second)
		ctx := context.Background()
		retried := msg("c", "m-1", "ya")
		retried.Retryable = true // a web chat page sending again what it got no answer to
		first, err := e.Handle(ctx, retried)
		if err != nil {
			t.Fatal(err)
		}
		again, err := e.Handle(ctx, retried)
		if err != nil {
			t.Fatal(err)
		}
		if calls != 1 || !again.Duplicate || first.Duplicate {
			t.Fatalf("handler ran %d times, duplicate flags %v/%v; want once, false/true", calls, first.Duplicate, again.Duplicate)
		}
		if len(again.Replies) != 1 || again.Replies[0].Text != "tiket dibuat" {
			t.Errorf("a duplicate carries %v, want the first answer", again.Replies)
		}
		// A chat platform's redelivery is dropped too, and nothing is kept to answer it
		// with: it must not be answered again.
		e.Handle(ctx, msg("c", "m-2", "ya"))
		if again, _ := e.Handle(ctx, msg("c", "m-2", "ya")); calls != 2 || !again.Duplicate || len(again.Replies) != 0 {
			t.Errorf("a redelivered platform message: handler ran %d times in all, duplicate %v, replies %v; want 2, true, none",
				calls, again.Duplicate, again.Replies)
		}
		if keys, _ := b.Store.Client().Keys(ctx, b.Store.Prefix()+"*:ans:*").Result(); len(keys) != 1 {
			t.Errorf("%d answers kept, want the retryable message's only", len(keys))
		}
		// The same id from another person is another message.
		if other, _ := e.Handle(ctx, msg("d", "m-1", "ya")); other.Duplicate || calls != 3 {
			t.Errorf("another chat's message with the same id was dropped")
		}
		// A message without id is never deduplicated.
		e.Handle(ctx, msg("c", "", "a"))
		e.Handle(ctx, msg("c", "", "a"))
		if calls != 5 {
			t.Errorf("handler ran %d times in all, want 5: messages without id are never dropped", calls)
		}
	})
}

func TestAFailingHandlerApologisesAndChangesNothing(t *testing.T) {
	cases := []struct {
		name string
		h    bot.HandlerFunc
	}{
		{"an error", func(ctx context.Context, t *bot.Turn) error {
			t.Session.Set("step", "broken")
			return errors.New("flow failed")
		}},
		{"a panic", func(ctx context.Context, t *bot.Turn) error {
			t.Session.Set("step", "broken")
			panic("nil map")
		}},
		{"a handler that overruns its time", func(ctx context.Context, t *bot.Turn) error {
			t.Session.Set("step", "broken")
			time.Sleep(300 * time.Millisecond)
			return nil
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name+" gives an apology in the person's language", func(t *testing.T) {
			b := storetest.Mini(t)
			st := b.Store.Conversations(5*time.Second, time.Hour)
			ctx := context.Background()
			setup := bot.HandlerFunc(func(ctx context.Context, t *bot.Turn) error {
				t.Session.Lang = "en"
				t.Session.Set("step", "good")
				return nil
			})
			newEngine(st, setup, time.Second).Handle(ctx, msg("c", "1", "x"))

			out, err := newEngine(st, tc.h, 50*time.Millisecond).Handle(ctx, msg("c", "2", "x"))
			if err != nil {
				t.Fatal(err)
			}
			if len(out.Replies) != 1 || out.Replies[0].Text != "maaf/en" {
				t.Errorf("replies = %v, want the English apology", out.Replies)
			}
			if out.To.Lang != "en" {
				t.Errorf("the apology goes out marked as %q, want English", out.To.Lang)
			}
			var step string
			newEngine(st, bot.HandlerFunc(func(ctx context.Context, t *bot.Turn) error {
				step = t.Session.Get("step")
				return nil
			}), time.Second).Handle(ctx, msg("c", "3", "x"))
			if step != "good" {
				t.Errorf("after the failure the session step is %q, want it unchanged (good)", step)
			}
		})
	}
}

func TestAStoreOutageIsAnErrorNotAnAnswer(t *testing.T) {
	b := storetest.Mini(t)
	e := newEngine(b.Store.Conversations(5*time.Second, time.Hour), echo(0), time.Second)
	b.Mini.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if _, err := e.Handle(ctx, msg("c", "1", "x")); err == nil {
		t.Fatal("Handle succeeded with the store down")
	}
}

func TestAWaitingMessageGivesUpWhenItsContextEnds(t *testing.T) {
	b := storetest.Mini(t)
	st := b.Store.Conversations(5*time.Second, time.Hour)
	ctx := context.Background()
	// Another process holds the chat.
	claim, err := st.Acquire(ctx, "test:c", "")
	if err != nil {
		t.Fatal(err)
	}
	e := newEngine(st, echo(0), time.Second)
	short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	if _, err := e.Handle(short, msg("c", "1", "x")); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want the deadline", err)
	}
	st.Release(ctx, claim)
	if out, err := e.Handle(ctx, msg("c", "1", "x")); err != nil || out.Replies[0].Text != "x" {
		t.Fatalf("after the release the message is handled: %v %v", out, err)
	}
}

func TestACallerThatGoesAwayLeavesTheChatUnlocked(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		st := b.Store.Conversations(30*time.Second, time.Hour)
		started := make(chan struct{})
		slow := bot.HandlerFunc(func(ctx context.Context, t *bot.Turn) error {
			close(started)
			<-ctx.Done() // the person closed the page
			return ctx.Err()
		})
		ctx, cancel := context.WithCancel(context.Background())
		go func() { <-started; cancel() }()
		if _, err := newEngine(st, slow, 5*time.Second).Handle(ctx, msg("c", "1", "x")); err != nil {
			t.Fatalf("the turn was not finished after the caller left: %v", err)
		}
		next, cancel2 := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel2()
		out, err := newEngine(st, echo(0), time.Second).Handle(next, msg("c", "2", "y"))
		if err != nil || out.Replies[0].Text != "y" {
			t.Fatalf("the next message waited for the lock to expire: %v %v", out, err)
		}
		// The failed turn is not marked handled: a redelivery gets another try.
		again, _ := newEngine(st, echo(0), time.Second).Handle(next, msg("c", "1", "x"))
		if again.Duplicate {
			t.Error("a message whose turn failed is remembered as handled")
		}
	})
}

// In a synctest bubble: the turn's deadline and the handler's clean-up after it are
// the bubble's time, so a loaded machine cannot make the turns overlap or not.
func TestAHandlerThatOverrunsDoesNotOverlapTheNextTurn(t *testing.T) {
	synctest.Test(t, testAHandlerThatOverrunsDoesNotOverlapTheNextTurn)
}

func testAHandlerThatOverrunsDoesNotOverlapTheNextTurn(t *testing.T) {
	// The embedded store: its in-memory connection blocks the way a bubble can wait on.
	emb, err := store.StartEmbedded(context.Background(), t.TempDir(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer emb.Close(context.Background())
	st := store.New(emb.Client(), "layan:").Conversations(30*time.Second, time.Hour)
	var running sync.Mutex
	var overlapped atomic.Bool
	h := bot.HandlerFunc(func(ctx context.Context, t *bot.Turn) error {
		if !running.TryLock() {
			overlapped.Store(true)
			return errors.New("two turns of one chat ran at once")
		}
		defer running.Unlock()
		<-ctx.Done()
		time.Sleep(20 * time.Millisecond) // cleaning up after the cancel
		return ctx.Err()
	})
	e := newEngine(st, h, 30*time.Millisecond)
	defer e.Close() // its kept goroutines end before the bubble does
	var wg sync.WaitGroup
	for i := range 3 {
		wg.Go(func() {
			out, err := e.Handle(context.Background(), msg("c", strconv.Itoa(i), "x"))
			if err != nil || out.Replies[0].Text != "maaf/" {
				t.Errorf("turn %d: %v %v", i, out, err)
			}
		})
	}
	wg.Wait()
	if overlapped.Load() {
		t.Error("a turn started while the previous one of the same chat was still running")
	}
}

func TestAFailedTurnDoesNotLeakChangesIntoTheSession(t *testing.T) {
	b := storetest.Mini(t)
	st := b.Store.Conversations(5*time.Second, time.Hour)
	ctx := context.Background()
	setup := bot.HandlerFunc(func(ctx context.Context, t *bot.Turn) error {
		t.Session.Set("a", "1")
		t.Session.State = map[string]json.RawMessage{"form": json.RawMessage(`{"step":1}`)}
		t.Say(bot.Reply{Text: "pick", Options: []bot.Option{{ID: "x", Label: "X"}}})
		return nil
	})
	newEngine(st, setup, time.Second).Handle(ctx, msg("c", "1", "x"))
	mutate := bot.HandlerFunc(func(ctx context.Context, t *bot.Turn) error {
		t.Session.Vars["a"] = "changed" // the same map as the stored session's?
		t.Session.State["form"] = json.RawMessage(`{"step":2}`)
		t.Session.Options[0].Label = "changed"
		return errors.New("then fails")
	})
	newEngine(st, mutate, time.Second).Handle(ctx, msg("c", "2", "x"))
	var got *bot.Session
	newEngine(st, bot.HandlerFunc(func(ctx context.Context, t *bot.Turn) error {
		got = t.Session
		return nil
	}), time.Second).Handle(ctx, msg("c", "3", "x"))
	if got.Get("a") != "1" || got.Options[0].Label != "X" || string(got.State["form"]) != `{"step":1}` {
		t.Errorf("session after a failed turn: vars %v, state %s, options %v; want them unchanged", got.Vars, got.State["form"], got.Options)
	}
}

// photoStep is a handler whose "photos" step takes photos.
type photoStep struct{ bot.HandlerFunc }

func (photoStep) Accepts(s *bot.Session, kind bot.Kind) bool {
	return s.Step == "photos" && kind == bot.KindImage
}

func TestAnAdapterCanAskWhetherTheCurrentStepTakesAPhoto(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		h := photoStep{func(ctx context.Context, t *bot.Turn) error {
			if t.Msg.Text == "lapor" {
				t.Session.Step = "photos"
			}
			t.Say(bot.Reply{Text: "ok"})
			return nil
		}}
		e := newEngine(b.Store.Conversations(5*time.Second, time.Hour), h, time.Second)
		ctx := context.Background()
		photo := bot.Message{Channel: "test", ChatID: "c", UserID: "c", ID: "p-1", Kind: bot.KindImage}
		accepts := func(t *testing.T) bool {
			t.Helper()
			ok, err := e.Accepts(ctx, photo)
			if err != nil {
				t.Fatal(err)
			}
			return ok
		}
		if accepts(t) {
			t.Error("a new conversation takes a photo, want not")
		}
		if _, err := e.Handle(ctx, msg("c", "m-1", "lapor")); err != nil {
			t.Fatal(err)
		}
		if !accepts(t) {
			t.Error("at the photo step a photo is not taken")
		}
		// Asking changed nothing: the photo's id was not marked handled.
		if out, err := e.Handle(ctx, photo); err != nil || out.Duplicate {
			t.Errorf("the photo after asking: duplicate %v, err %v; want it handled", out.Duplicate, err)
		}
		if ok, err := newEngine(b.Store.Conversations(5*time.Second, time.Hour), echo(0), time.Second).Accepts(ctx, photo); !ok || err != nil {
			t.Errorf("a handler that cannot tell: %v, %v; want accepted", ok, err)
		}
	})
}

// The replies go to the message's chat, marked with the language they are written
// in, so that a channel adds its own words (a hint, a button label) in it: the
// person's, or the turn's when the handler answered a message in its own language.
func TestRepliesGoToTheChatInTheLanguageTheyAreWrittenIn(t *testing.T) {
	b := storetest.Mini(t)
	st := b.Store.Conversations(5*time.Second, time.Hour)
	ctx := context.Background()
	h := bot.HandlerFunc(func(ctx context.Context, t *bot.Turn) error {
		t.Session.Lang = "id"
		if t.Msg.Text == "an English sentence" {
			t.ReplyLang = "en"
		}
		t.Say(bot.Reply{Text: "ok"})
		return nil
	})
	e := newEngine(st, h, time.Second)
	for _, tc := range []struct{ id, text, want string }{
		{"1", "kalimat", "id"}, {"2", "an English sentence", "en"}, {"3", "kalimat lagi", "id"},
	} {
		out, err := e.Handle(ctx, msg("c-7", tc.id, tc.text))
		if err != nil {
			t.Fatal(err)
		}
		want := bot.Recipient{Channel: "test", ChatID: "c-7", Lang: tc.want}
		if out.To != want || out.Lang != "id" {
			t.Errorf("%q: replies go to %+v (person's language %q), want %+v (person's language id)", tc.text, out.To, out.Lang, want)
		}
	}
}

// TestRecentMessagesKeepTheirLimits: the engine keeps the newest lines of both sides
// within the line limit, a long text cut to the character limit (counted in letters,
// not bytes) and marked, a short one as it is.
func TestRecentMessagesKeepTheirLimits(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		h := bot.HandlerFunc(func(ctx context.Context, t *bot.Turn) error {
			t.Say(bot.Reply{Text: "Selamat datang di layanan Kabupaten Contoh — pilih menu"})
			return nil
		})
		e := bot.NewEngine(bot.EngineConfig{
			Store: b.Store.Conversations(5*time.Second, time.Hour).WithHistory(4), Handler: h, Logger: quiet(),
			Apology: func(string) bot.Reply { return bot.Reply{Text: "maaf"} },
			History: bot.HistoryLimits{Lines: 4, Chars: 12},
		})
		ctx := context.Background()
		for i, text := range []string{"halo", "ktp hilang", "é é é é é é é é é é é é é é"} {
			if _, err := e.Handle(ctx, msg("h", fmt.Sprint("m", i), text)); err != nil {
				t.Fatal(err)
			}
		}
		s, err := e.Recall(ctx, msg("h", "", ""))
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, l := range s.History {
			got = append(got, l.Text)
		}
		want := []string{"ktp hilang", "Selamat dat…", "é é é é é é…", "Selamat dat…"}
		if !slices.Equal(got, want) {
			t.Errorf("recent messages %q, want %q", got, want)
		}
		if s, _ := e.Recall(ctx, msg("h2", "", "")); len(s.History) != 0 {
			t.Errorf("a conversation never seen recalls %v", s.History)
		}
	})
}
