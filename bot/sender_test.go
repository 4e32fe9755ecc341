package bot_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/layan-id/layan/bot"
)

// scripted is a channel whose sends fail with the given errors in turn, then succeed.
type scripted struct {
	mu    sync.Mutex
	errs  []error
	times []time.Time
	sent  []string
}

func (s *scripted) Name() string { return "fake" }

func (s *scripted) Send(ctx context.Context, to bot.Recipient, r bot.Reply) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.times = append(s.times, time.Now())
	if len(s.errs) > 0 {
		err := s.errs[0]
		s.errs = s.errs[1:]
		return err
	}
	s.sent = append(s.sent, to.ChatID+":"+to.Lang+":"+r.Text)
	return nil
}

func TestSenderRetriesByErrorType(t *testing.T) {
	temp := &bot.SendError{Kind: bot.ErrTemporary, Err: errors.New("502")}
	cases := []struct {
		name      string
		errs      []error
		wantKind  bot.ErrorKind // 0: delivered
		wantTries int
	}{
		{"a temporary error is retried until it goes through", []error{temp, temp}, 0, 3},
		{"an untyped error counts as temporary", []error{errors.New("connection reset")}, 0, 2},
		{"temporary errors give up after the attempts", []error{temp, temp, temp, temp}, bot.ErrTemporary, 3},
		{"a block by the person is not retried", []error{&bot.SendError{Kind: bot.ErrBlocked}}, bot.ErrBlocked, 1},
		{"a permanent error is not retried", []error{&bot.SendError{Kind: bot.ErrPermanent}}, bot.ErrPermanent, 1},
		{"a rate limit waits and does not use up attempts", []error{
			&bot.SendError{Kind: bot.ErrRateLimited, RetryAfter: 10 * time.Millisecond},
			&bot.SendError{Kind: bot.ErrRateLimited, RetryAfter: 10 * time.Millisecond},
			&bot.SendError{Kind: bot.ErrRateLimited, RetryAfter: 10 * time.Millisecond},
		}, 0, 4},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ch := &scripted{errs: tc.errs}
			s := bot.NewSender(quiet())
			s.Register(ch, bot.Limits{Attempts: 3, Backoff: time.Millisecond})
			err := s.Send(context.Background(), bot.Recipient{Channel: "fake", ChatID: "42"}, bot.Reply{Text: "halo"})
			if tc.wantKind == 0 && err != nil {
				t.Fatalf("Send = %v, want delivered", err)
			}
			if tc.wantKind != 0 && bot.KindOf(err) != tc.wantKind {
				t.Fatalf("Send = %v, want kind %v", err, tc.wantKind)
			}
			if len(ch.times) != tc.wantTries {
				t.Errorf("tried %d times, want %d", len(ch.times), tc.wantTries)
			}
		})
	}
}

func TestSenderHonoursRetryAfterForTheWholeChannel(t *testing.T) {
	ch := &scripted{errs: []error{&bot.SendError{Kind: bot.ErrRateLimited, RetryAfter: 150 * time.Millisecond}}}
	s := bot.NewSender(quiet())
	s.Register(ch, bot.Limits{Backoff: time.Millisecond})
	if err := s.Send(context.Background(), bot.Recipient{Channel: "fake", ChatID: "1"}, bot.Reply{Text: "a"}); err != nil {
		t.Fatal(err)
	}
	if gap := ch.times[1].Sub(ch.times[0]); gap < 150*time.Millisecond {
		t.Errorf("retried after %v, before the platform's retry-after of 150ms", gap)
	}
}

func TestSenderKeepsThePerChatRate(t *testing.T) {
	ch := &scripted{}
	s := bot.NewSender(quiet())
	s.Register(ch, bot.Limits{PerChat: 20}) // one message per 50 ms to one chat
	ctx := context.Background()
	s.Send(ctx, bot.Recipient{Channel: "fake", ChatID: "1"}, bot.Reply{Text: "a"}, bot.Reply{Text: "b"}, bot.Reply{Text: "c"})
	if gap := ch.times[2].Sub(ch.times[0]); gap < 90*time.Millisecond {
		t.Errorf("three messages to one chat went out within %v, want at least 100ms apart in all", gap)
	}
	if len(ch.sent) != 3 || ch.sent[0] != "1::a" || ch.sent[2] != "1::c" {
		t.Errorf("sent %v, want a, b, c in order", ch.sent)
	}
}

func TestSenderRefusesAnUnknownChannel(t *testing.T) {
	err := bot.NewSender(quiet()).Send(context.Background(), bot.Recipient{Channel: "nowhere", ChatID: "1"}, bot.Reply{Text: "a"})
	if bot.KindOf(err) != bot.ErrPermanent {
		t.Errorf("Send to an unknown channel = %v, want a permanent error", err)
	}
}

func TestSenderGivesTheChannelTheRecipientsLanguage(t *testing.T) {
	ch := &scripted{}
	s := bot.NewSender(quiet())
	s.Register(ch, bot.Limits{})
	to := bot.Recipient{Channel: "fake", ChatID: "7", Lang: "en"}
	if err := s.Send(context.Background(), to, bot.Reply{Text: "a"}); err != nil {
		t.Fatal(err)
	}
	if err := s.SendBulk(context.Background(), to, bot.Reply{Text: "b"}); err != nil {
		t.Fatal(err)
	}
	if len(ch.sent) != 2 || ch.sent[0] != "7:en:a" || ch.sent[1] != "7:en:b" {
		t.Errorf("the channel was given %v, want both replies for chat 7 in English", ch.sent)
	}
}

// TestSenderCountsRetriesAndThrottling: what metrics read of a channel: tries repeated
// after temporary errors, the platform's "retry after" answers, and nothing left
// waiting once the sends are done.
func TestSenderCountsRetriesAndThrottling(t *testing.T) {
	temp := &bot.SendError{Kind: bot.ErrTemporary, Err: errors.New("502")}
	limited := &bot.SendError{Kind: bot.ErrRateLimited, RetryAfter: time.Millisecond}
	ch := &scripted{errs: []error{temp, limited, limited, temp}}
	s := bot.NewSender(quiet())
	s.Register(ch, bot.Limits{Attempts: 4, Backoff: time.Millisecond})
	if err := s.Send(context.Background(), bot.Recipient{Channel: "fake", ChatID: "42"}, bot.Reply{Text: "halo"}); err != nil {
		t.Fatal(err)
	}
	stats := s.Stats()
	if len(stats) != 1 || stats[0] != (bot.SenderStats{Channel: "fake", Retries: 2, Throttled: 2}) {
		t.Errorf("stats %+v, want 2 retries and 2 throttled on fake, none waiting", stats)
	}
}
