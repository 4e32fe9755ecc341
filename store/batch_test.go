package store_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/layan-id/layan/bot"
	"github.com/layan-id/layan/store/storetest"
)

// The conversation store sends the lock scripts of conversations handled at the same
// moment together (pipelines): each must still get its own session and its own
// verdict on duplicates.
func TestManyConversationsAtOnceEachGetTheirOwnSessionAndVerdict(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		cs := b.Store.Conversations(5*time.Second, time.Hour)
		ctx := context.Background()
		const convs, turns = 60, 5
		var wg sync.WaitGroup
		errs := make(chan error, convs)
		for c := range convs {
			wg.Go(func() {
				conv := fmt.Sprintf("webchat:batch%d", c)
				for i := range turns {
					cl, err := cs.Acquire(ctx, conv, fmt.Sprintf("m%d", i))
					if err != nil {
						errs <- err
						return
					}
					if cl.Duplicate {
						errs <- fmt.Errorf("%s: new message m%d taken for a duplicate", conv, i)
						return
					}
					if want := fmt.Sprint(c, "/", i); i > 0 && cl.Session.Step != fmt.Sprint(c, "/", i-1) {
						errs <- fmt.Errorf("%s: turn %d read step %q, want the previous turn's (%s)", conv, i, cl.Session.Step, want)
						return
					}
					s := *cl.Session
					s.Step = fmt.Sprint(c, "/", i)
					if err := cs.Commit(ctx, cl, &s, []bot.Reply{{Text: "jawaban " + s.Step}}); err != nil {
						errs <- err
						return
					}
				}
				cl, err := cs.Acquire(ctx, conv, "m0") // the first message again
				if err != nil {
					errs <- err
					return
				}
				if !cl.Duplicate || len(cl.Replies) != 1 || cl.Replies[0].Text != fmt.Sprint("jawaban ", c, "/0") {
					errs <- fmt.Errorf("%s: a redelivered m0 gave duplicate=%v replies=%v", conv, cl.Duplicate, cl.Replies)
				}
				if err := cs.Release(ctx, cl); err != nil {
					errs <- err
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
	})
}

// A Redis that lost its scripts (restarted, or SCRIPT FLUSH) answers NOSCRIPT: the
// store sends the script again with its source, and the person notices nothing.
func TestConversationsCarryOnAfterRedisForgotItsScripts(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		cs := b.Store.Conversations(5*time.Second, time.Hour)
		ctx := context.Background()
		turn(t, cs, "telegram:flush", "1", "pertama")
		if err := b.Store.Client().ScriptFlush(ctx).Err(); err != nil {
			t.Fatal(err)
		}
		if cl := turn(t, cs, "telegram:flush", "2", "kedua"); cl.Duplicate {
			t.Fatal("a new message after SCRIPT FLUSH was taken for a duplicate")
		}
		if cl := turn(t, cs, "telegram:flush", "2", ""); !cl.Duplicate || len(cl.Replies) != 1 || cl.Replies[0].Text != "kedua" {
			t.Fatalf("the redelivery after SCRIPT FLUSH: duplicate=%v replies=%v", cl.Duplicate, cl.Replies)
		}
	})
}
