package store

import (
	"context"
	"encoding"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// journalHook puts every command of the embedded store's client through Embedded.process.
type journalHook struct{ e *Embedded }

func (h journalHook) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h journalHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		return h.e.process(ctx, []redis.Cmder{cmd}, func(ctx context.Context) error { return next(ctx, cmd) })
	}
}

// ProcessPipelineHook also sees transactions: their commands come wrapped in MULTI and
// EXEC.
func (h journalHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		return h.e.process(ctx, cmds, func(ctx context.Context) error { return next(ctx, cmds) })
	}
}

// access is how a command takes part in the journal.
type access int

const (
	accessRead  access = iota // runs beside other reads; waits for what it could have seen to be durable
	accessWrite               // runs alone and is journalled before its reply returns
	accessAside               // runs without the lock and is not journalled (blocking, pub/sub, consumer-group reads)
)

// readCommands change nothing. Anything not named here or in asideCommands counts as a
// write, so a command added later is journalled rather than lost. Commands that use
// the random source (SRANDMEMBER, RANDOMKEY…) are writes on purpose: replay must
// consume the random source exactly as the live store did.
var readCommands = map[string]bool{
	"GET": true, "MGET": true, "GETRANGE": true, "STRLEN": true, "EXISTS": true, "TYPE": true,
	"TTL": true, "PTTL": true, "EXPIRETIME": true, "PEXPIRETIME": true, "DBSIZE": true, "KEYS": true, "SCAN": true,
	"HGET": true, "HMGET": true, "HGETALL": true, "HKEYS": true, "HVALS": true, "HLEN": true, "HEXISTS": true, "HSTRLEN": true, "HSCAN": true,
	"LRANGE": true, "LLEN": true, "LINDEX": true, "LPOS": true,
	"SMEMBERS": true, "SISMEMBER": true, "SMISMEMBER": true, "SCARD": true, "SSCAN": true, "SINTER": true, "SUNION": true, "SDIFF": true, "SINTERCARD": true,
	"ZRANGE": true, "ZRANGEBYSCORE": true, "ZREVRANGE": true, "ZREVRANGEBYSCORE": true, "ZRANGEBYLEX": true, "ZREVRANGEBYLEX": true,
	"ZSCORE": true, "ZMSCORE": true, "ZCARD": true, "ZCOUNT": true, "ZLEXCOUNT": true, "ZRANK": true, "ZREVRANK": true, "ZSCAN": true,
	"XRANGE": true, "XREVRANGE": true, "XLEN": true, "XINFO": true, "XPENDING": true,
	"ECHO": true, "TIME": true, "INFO": true, "COMMAND": true,
	"WATCH": true, "UNWATCH": true, "MULTI": true, "DISCARD": true, "QUIT": true, "PUBLISH": true, "OBJECT": true, "MEMORY": true,
	"EVALSHA_RO": true, "EVAL_RO": true,
}

// asideCommands set up a connection (go-redis sends them while it opens one, inside
// another command's turn), may block, or change only consumer-group bookkeeping, which
// snapshots do not keep either: after a restart unacknowledged stream entries are
// delivered again (at least once).
var asideCommands = map[string]bool{
	"HELLO": true, "AUTH": true, "CLIENT": true, "SELECT": true, "PING": true, "QUIT": true, "RESET": true,
	"XREADGROUP": true, "XREAD": true, "XAUTOCLAIM": true, "XCLAIM": true, "XACK": true,
	"BLPOP": true, "BRPOP": true, "BLMOVE": true, "BZPOPMIN": true, "BZPOPMAX": true,
	"SUBSCRIBE": true, "PSUBSCRIBE": true, "UNSUBSCRIBE": true, "PUNSUBSCRIBE": true,
}

func accessOf(cmds []redis.Cmder) access {
	a := accessRead
	for _, c := range cmds {
		name := strings.ToUpper(c.Name())
		switch {
		case name == "EXEC" || readCommands[name]:
		case asideCommands[name]:
			if a == accessRead {
				a = accessAside
			}
		default:
			return accessWrite
		}
	}
	return a
}

// process runs cmds against the store (run) with the journal's guarantees.
func (e *Embedded) process(ctx context.Context, cmds []redis.Cmder, run func(context.Context) error) error {
	switch accessOf(cmds) {
	case accessAside:
		return run(ctx)
	case accessRead:
		e.mu.RLock()
		err := run(ctx)
		j := e.j
		n := j.last()
		e.mu.RUnlock()
		if werr := j.wait(n); werr != nil && err == nil {
			err = werr
		}
		return err
	}
	e.mu.Lock()
	// Once sent, a write must finish and be journalled whatever the caller's context
	// does: its outcome is only known from the reply.
	err := run(context.WithoutCancel(ctx))
	j := e.j
	var n uint64
	var jerr error
	for _, p := range e.recordsLocked(cmds) {
		if n, jerr = j.append(p); jerr != nil {
			break
		}
	}
	e.mu.Unlock()
	if jerr == nil && n > 0 {
		jerr = j.wait(n)
	}
	if jerr != nil {
		e.log.Error("store: embedded journal failed: writes are refused", "err", jerr)
		return fmt.Errorf("store: embedded journal: %w", jerr)
	}
	return err
}

// recordsLocked returns the journal records for the commands just run: the clock when
// it moved, the source of scripts the segment lacks, and the commands that ran. A
// transaction that did not run (EXEC failed) gives none.
func (e *Embedded) recordsLocked(cmds []redis.Cmder) [][]byte {
	if len(cmds) > 1 && strings.EqualFold(cmds[0].Name(), "multi") {
		if cmds[len(cmds)-1].Err() != nil {
			return nil
		}
		cmds = cmds[1 : len(cmds)-1]
	}
	var out [][]byte
	var batch [][]string
	for _, c := range cmds {
		name := strings.ToUpper(c.Name())
		if readCommands[name] || asideCommands[name] || name == "EXEC" {
			continue
		}
		if err := c.Err(); err != nil && !isRedisError(err) {
			continue // not known to have run: the caller gets the error
		}
		args, err := cmdArgs(c)
		if err != nil {
			e.log.Error("store: embedded journal: command not recorded", "command", name, "err", err)
			continue
		}
		switch name {
		case "SCRIPT":
			if len(args) == 3 && strings.EqualFold(args[1], "load") && c.Err() == nil {
				e.scripts[scriptSHA(args[2])] = args[2]
			}
			continue // the source is recorded where a command first uses it
		case "EVAL", "EVALSHA":
			if c.Err() != nil && strings.HasPrefix(c.Err().Error(), "NOSCRIPT") {
				continue
			}
			sha := args[1]
			if name == "EVAL" {
				sha = scriptSHA(args[1])
				e.scripts[sha] = args[1]
				args[0], args[1] = "EVALSHA", sha
			}
			if !e.segScripts[sha] {
				if src, ok := e.scripts[sha]; ok {
					out = append(out, scriptRecord(src))
					e.segScripts[sha] = true
				}
			}
		}
		batch = append(batch, args)
	}
	if len(batch) == 0 {
		return out
	}
	if e.pendingTick {
		out = append([][]byte{tickRecord(e.now)}, out...)
		e.pendingTick = false
	}
	return append(out, commandsRecord(batch))
}

// cmdArgs returns the arguments of c as Redis receives them, formatted the way
// go-redis writes them.
func cmdArgs(c redis.Cmder) ([]string, error) {
	raw := c.Args()
	out := make([]string, len(raw))
	for i, a := range raw {
		s, err := argString(a)
		if err != nil {
			return nil, err
		}
		out[i] = s
	}
	return out, nil
}

func argString(v any) (string, error) {
	switch v := v.(type) {
	case nil:
		return "", nil
	case string:
		return v, nil
	case []byte:
		return string(v), nil
	case int:
		return strconv.FormatInt(int64(v), 10), nil
	case int8:
		return strconv.FormatInt(int64(v), 10), nil
	case int16:
		return strconv.FormatInt(int64(v), 10), nil
	case int32:
		return strconv.FormatInt(int64(v), 10), nil
	case int64:
		return strconv.FormatInt(v, 10), nil
	case uint:
		return strconv.FormatUint(uint64(v), 10), nil
	case uint8:
		return strconv.FormatUint(uint64(v), 10), nil
	case uint16:
		return strconv.FormatUint(uint64(v), 10), nil
	case uint32:
		return strconv.FormatUint(uint64(v), 10), nil
	case uint64:
		return strconv.FormatUint(v, 10), nil
	case float32:
		return strconv.FormatFloat(float64(v), 'f', -1, 64), nil
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64), nil
	case bool:
		if v {
			return "1", nil
		}
		return "0", nil
	case time.Time:
		return v.Format(time.RFC3339Nano), nil
	case time.Duration:
		return strconv.FormatInt(v.Nanoseconds(), 10), nil
	case net.IP:
		return string(v), nil
	case encoding.BinaryMarshaler:
		b, err := v.MarshalBinary()
		return string(b), err
	case *string:
		if v == nil {
			return "", nil
		}
		return *v, nil
	}
	return "", fmt.Errorf("cannot journal an argument of type %T", v)
}
