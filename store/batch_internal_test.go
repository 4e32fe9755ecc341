package store

import (
	"context"
	"errors"
	"runtime"
	"testing"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
)

// A caller whose context ends while its command still waits for a pipeline gets its
// context's error, and the command is never sent (a lock nobody would hold is not
// taken).
func TestACommandWhoseCallerGaveUpBeforeItsPipelineIsNotSent(t *testing.T) {
	m := miniredis.RunT(t)
	rdb := redis.NewClient(&redis.Options{Addr: m.Addr()})
	t.Cleanup(func() { rdb.Close() })
	b := newBatcher(rdb)
	b.sending = maxPipelines // as if pipelines were under way: the next command waits

	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- b.do(ctx, redis.NewStatusCmd(ctx, "set", "lock", "x", "nx")) }()
	for {
		b.mu.Lock()
		queued := len(b.queue)
		b.mu.Unlock()
		if queued == 1 {
			break
		}
		runtime.Gosched()
	}
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("the caller got %v, want its context's error", err)
	}
	if b.next() != nil || m.Exists("lock") {
		t.Fatal("the command of a caller that gave up was still queued or sent")
	}
}
