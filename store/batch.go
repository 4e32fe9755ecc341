package store

import (
	"context"
	"slices"
	"sync"

	"github.com/redis/go-redis/v9"
)

// batcher sends the commands that many goroutines give it at about the same moment
// as pipelines: each command is its own (its reply, its error), but a hundred
// conversations' lock scripts cost Redis and this process one write and one read of
// the connection instead of a hundred. It adds no wait: a command given while no
// pipeline is under way is sent at once by its caller; commands given while
// maxPipelines are under way wait for the first to finish and go out together in the
// next. Alone, a command costs what it would cost sent directly.
//
// The commands of one batch are independent: nothing orders them against each other
// (one goroutine's commands are ordered, since it waits for each). On a Redis Cluster
// go-redis splits a pipeline by node. A script sent with EVALSHA that Redis does not
// know (a restarted or flushed Redis) is sent again with its source.
type batcher struct {
	rdb redis.UniversalClient

	mu      sync.Mutex
	queue   []*batchCall
	sending int // pipelines under way
}

// maxPipelines is how many pipelines may be under way at once; maxBatch, how many
// commands one carries at most. Fewer pipelines make the batches larger, and each
// message cheaper; more let a process that waits for Redis use its idle CPU. At 50
// chats BenchmarkEngine (the engine alone, held by its round trips with CPU to spare)
// and bench/tgload (the whole Telegram path, held by CPU) were measured with one, two
// and four, the binaries taking turns. The engine's ratio to raw GET+SET pairs: with
// one 0.56-0.66 (median 0.61), two 0.57-0.71 (0.65), four 0.66-0.82 (0.71). But the
// Telegram path answered fewer updates a second with more (two: a median 6 % fewer
// over eight turns; four: about a tenth), Redis spending more CPU per update on the
// smaller batches. The service's hot path is the platforms', so one. Every command
// sent through the batcher is short: the conversation's lock and commit, a queue's
// XADD and acknowledgement.
const (
	maxPipelines = 1
	maxBatch     = 128
)

// batchCall is what one caller gives the batcher: one command, or a few that go out
// one after another in the same pipeline (not as a transaction: other clients'
// commands may run between them). For a script, script, keys and args are set too,
// to send it again with EVAL on NOSCRIPT.
type batchCall struct {
	cmds   []redis.Cmder
	script *redis.Script
	keys   []string
	args   []any
	done   chan struct{}
}

func newBatcher(rdb redis.UniversalClient) *batcher { return &batcher{rdb: rdb} }

// do sends cmds, one after another, alone or in a pipeline with others' commands, and
// returns the first error among them; each reply is in its command. When ctx ends
// before the replies came, do returns ctx's error: commands still queued are not
// sent, those already in a pipeline run.
func (b *batcher) do(ctx context.Context, cmds ...redis.Cmder) error {
	return b.call(ctx, &batchCall{cmds: cmds})
}

// run runs script like (*redis.Script).Run, in a pipeline with others.
func (b *batcher) run(ctx context.Context, script *redis.Script, keys []string, args ...any) *redis.Cmd {
	cmdArgs := make([]any, 0, 3+len(keys)+len(args))
	cmdArgs = append(cmdArgs, "evalsha", script.Hash(), len(keys))
	for _, k := range keys {
		cmdArgs = append(cmdArgs, k)
	}
	cmdArgs = append(cmdArgs, args...)
	cmd := redis.NewCmd(ctx, cmdArgs...) // go-redis finds the first key of an EVALSHA itself (Cluster)
	b.call(ctx, &batchCall{cmds: []redis.Cmder{cmd}, script: script, keys: keys, args: args})
	return cmd
}

func (b *batcher) call(ctx context.Context, c *batchCall) error {
	b.mu.Lock()
	b.queue = append(b.queue, c)
	if b.sending >= maxPipelines {
		c.done = make(chan struct{})
		b.mu.Unlock()
		select {
		case <-c.done:
			return c.err()
		case <-ctx.Done():
			b.drop(c)
			return ctx.Err()
		}
	}
	b.sending++
	batch := b.take()
	b.mu.Unlock()
	b.send(ctx, batch) // c is in it
	if next := b.next(); next != nil {
		go b.keepSending(context.WithoutCancel(ctx), next)
	}
	return c.err()
}

// err is the first error of the call's commands (a missing key, redis.Nil, counts).
func (c *batchCall) err() error {
	for _, cmd := range c.cmds {
		if err := cmd.Err(); err != nil {
			return err
		}
	}
	return nil
}

// drop takes c out of the queue when no pipeline has taken it yet: a caller that
// gave up has its commands not sent at all (once taken, they run, like a command
// already written to the connection).
func (b *batcher) drop(c *batchCall) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if i := slices.Index(b.queue, c); i >= 0 {
		b.queue = slices.Delete(b.queue, i, i+1)
	}
}

// take removes up to maxBatch calls from the queue. b.mu is held.
func (b *batcher) take() []*batchCall {
	n := min(len(b.queue), maxBatch)
	batch := make([]*batchCall, n)
	copy(batch, b.queue)
	b.queue = append(b.queue[:0], b.queue[n:]...)
	if len(b.queue) == 0 {
		b.queue = nil // let a burst's long queue go
	}
	return batch
}

// next takes the next batch for a sender that finished one, or, with nothing queued,
// ends its turn.
func (b *batcher) next() []*batchCall {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.queue) == 0 {
		b.sending--
		return nil
	}
	return b.take()
}

// keepSending sends batches until the queue is empty.
func (b *batcher) keepSending(ctx context.Context, batch []*batchCall) {
	for batch != nil {
		b.send(ctx, batch)
		batch = b.next()
	}
}

// send sends a batch and wakes its callers. The pipeline does not end with the
// context of the caller that happens to send it: the others still wait for it.
func (b *batcher) send(ctx context.Context, batch []*batchCall) {
	ctx = context.WithoutCancel(ctx)
	if len(batch) == 1 && len(batch[0].cmds) == 1 {
		_ = b.rdb.Process(ctx, batch[0].cmds[0])
	} else {
		_, _ = b.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			for _, c := range batch {
				for _, cmd := range c.cmds {
					_ = p.Process(ctx, cmd)
				}
			}
			return nil
		})
	}
	for _, c := range batch {
		if c.script != nil && isNoScript(c.cmds[0].Err()) {
			// Redis lost its scripts: send this one with its source, which loads it.
			cmd := c.cmds[0].(*redis.Cmd)
			v, err := c.script.Eval(ctx, b.rdb, c.keys, c.args...).Result()
			cmd.SetVal(v)
			cmd.SetErr(err)
		}
		if c.done != nil {
			close(c.done)
		}
	}
}

// isNoScript reports a server that does not have a script loaded yet.
func isNoScript(err error) bool { return err != nil && redis.HasErrorPrefix(err, "NOSCRIPT") }
