package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/layan-id/layan/domain"
	"github.com/redis/go-redis/v9"
)

// WhatsAppCloud keeps the state of the WhatsApp channel on Meta's Cloud API:
//
//   - wac:inbox        the queue of webhook payloads (a Queue): an entry is deleted
//     only once every message in it was handled, and one taken by a worker that died
//     is taken over by another.
//   - wac:done:WAMID   a message handled (48 h), so a redelivered payload does not
//     download its photo or mark it read again; the engine's dedupe is what keeps it
//     from being answered twice.
//   - wac:win:WA_ID    when the person last wrote (Unix ms, as Meta timestamps it), for
//     the 24-hour customer service window; it expires a day after that.
//   - wac:msg:WAMID    the broadcast run an outgoing message belongs to (7 days), so
//     that its delivery statuses are counted for the run.
//   - wac:st:WAMID:S   a status already counted (7 days): a redelivered status counts once.
//   - wac:run:RUN      counts of delivery statuses per broadcast run (sent, delivered,
//     read, failed; 30 days).
//   - wac:failed       the latest 1,000 messages Meta reported as failed, newest first,
//     with the error code (no text, no number: a pseudonym of the conversation).
type WhatsAppCloud struct {
	*Queue // wac:inbox
	s      *Store
}

// WhatsAppCloud returns the Cloud API channel's store.
func (s *Store) WhatsAppCloud() *WhatsAppCloud {
	return &WhatsAppCloud{Queue: s.queue(s.key("wac", "inbox"), "whatsapp payloads", wacQueueMax), s: s}
}

const (
	wacQueueMax   = 100_000
	wacDoneTTL    = 48 * time.Hour
	wacMsgTTL     = 7 * 24 * time.Hour
	wacRunTTL     = 30 * 24 * time.Hour
	wacFailedKeep = 1000
	// WindowLength is WhatsApp's customer service window: free-form messages may go
	// to a person within this time after their last message.
	WindowLength = 24 * time.Hour
)

func (w *WhatsAppCloud) doneKey(id string) string  { return w.s.key("wac", "done", id) }
func (w *WhatsAppCloud) winKey(waID string) string { return w.s.key("wac", "win", waID) }
func (w *WhatsAppCloud) msgKey(id string) string   { return w.s.key("wac", "msg", id) }
func (w *WhatsAppCloud) stKey(id, s string) string { return w.s.key("wac", "st", id, s) }
func (w *WhatsAppCloud) runKey(run string) string  { return w.s.key("wac", "run", run) }
func (w *WhatsAppCloud) failedKey() string         { return w.s.key("wac", "failed") }

// Handled reports whether the message with this id was handled in the last 48 hours.
func (w *WhatsAppCloud) Handled(ctx context.Context, wamid string) (bool, error) {
	n, err := w.s.rdb.Exists(ctx, w.doneKey(wamid)).Result()
	if err != nil {
		return false, fmt.Errorf("store: look up handled whatsapp message: %w", err)
	}
	return n == 1, nil
}

// MarkHandled remembers for 48 hours that the message with this id was handled.
func (w *WhatsAppCloud) MarkHandled(ctx context.Context, wamid string) error {
	if err := w.s.rdb.Set(ctx, w.doneKey(wamid), 1, wacDoneTTL).Err(); err != nil {
		return fmt.Errorf("store: mark whatsapp message handled: %w", err)
	}
	return nil
}

// noteInboundScript keeps the latest time. KEYS: win. ARGV: ms, ttl ms.
var noteInboundScript = redis.NewScript(`
local cur = tonumber(redis.call('GET', KEYS[1]) or '0')
if tonumber(ARGV[1]) > cur then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) end
return 1
`)

// NoteInbound records that the person wrote at (their message's time as Meta stamps
// it); an earlier time than the one recorded changes nothing (payloads may arrive
// out of order). now is the current time, for the key's expiry.
func (w *WhatsAppCloud) NoteInbound(ctx context.Context, waID string, at, now time.Time) error {
	ttl := at.Add(WindowLength + time.Hour).Sub(now) // an hour's slack for clock skew
	if ttl <= 0 {
		return nil // the window this message opened is already closed
	}
	err := noteInboundScript.Run(ctx, w.s.rdb, []string{w.winKey(waID)}, at.UnixMilli(), ttl.Milliseconds()).Err()
	if err != nil {
		return fmt.Errorf("store: note whatsapp message time: %w", err)
	}
	return nil
}

// LastInbound returns when the person last wrote, if within the last day or so.
func (w *WhatsAppCloud) LastInbound(ctx context.Context, waID string) (time.Time, bool, error) {
	v, err := w.s.rdb.Get(ctx, w.winKey(waID)).Result()
	if errors.Is(err, redis.Nil) {
		return time.Time{}, false, nil
	}
	if err != nil {
		return time.Time{}, false, fmt.Errorf("store: read whatsapp window: %w", err)
	}
	ms, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return time.Time{}, false, nil
	}
	return time.UnixMilli(ms), true, nil
}

// CloseWindow forgets when the person last wrote (Meta said the window is closed).
func (w *WhatsAppCloud) CloseWindow(ctx context.Context, waID string) error {
	if err := w.s.rdb.Del(ctx, w.winKey(waID)).Err(); err != nil {
		return fmt.Errorf("store: close whatsapp window: %w", err)
	}
	return nil
}

// NoteSent remembers for 7 days that the outgoing message wamid belongs to a broadcast run.
func (w *WhatsAppCloud) NoteSent(ctx context.Context, wamid, run string) error {
	_, err := w.s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Set(ctx, w.msgKey(wamid), run, wacMsgTTL)
		p.SetNX(ctx, w.stKey(wamid, "sent"), 1, wacMsgTTL)
		p.HIncrBy(ctx, w.runKey(run), "sent", 1)
		p.Expire(ctx, w.runKey(run), wacRunTTL)
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: note whatsapp message of run %s: %w", run, err)
	}
	return nil
}

// DeliveryStatus is one failed message as Failures lists it.
type DeliveryStatus struct {
	WAMID  string    `json:"wamid"`
	Status string    `json:"status"` // sent, delivered, read, failed
	Conv   string    `json:"conv"`   // a pseudonym of the conversation, never the number
	Code   int       `json:"code,omitempty"`
	Title  string    `json:"title,omitempty"`
	At     time.Time `json:"at"`
}

// RecordStatus counts a status for the broadcast run its message belongs to (once per
// message and status) and keeps a failed one in the list of failures. It returns the
// run, "" when the message was no broadcast.
// conv is a pseudonym of the conversation, never the number.
func (w *WhatsAppCloud) RecordStatus(ctx context.Context, wamid, status, conv string, code int, title string, at time.Time) (string, error) {
	st := DeliveryStatus{WAMID: wamid, Status: status, Conv: conv, Code: code, Title: title, At: at}
	run, err := w.s.rdb.Get(ctx, w.msgKey(st.WAMID)).Result()
	if err != nil && !errors.Is(err, redis.Nil) {
		return "", fmt.Errorf("store: look up whatsapp message run: %w", err)
	}
	fresh, err := w.s.rdb.SetNX(ctx, w.stKey(st.WAMID, st.Status), 1, wacMsgTTL).Result()
	if err != nil {
		return "", fmt.Errorf("store: record whatsapp status: %w", err)
	}
	if !fresh {
		return run, nil
	}
	_, err = w.s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		if run != "" {
			p.HIncrBy(ctx, w.runKey(run), st.Status, 1)
			p.Expire(ctx, w.runKey(run), wacRunTTL)
		}
		if st.Status == "failed" {
			b, _ := json.Marshal(st)
			p.LPush(ctx, w.failedKey(), b)
			p.LTrim(ctx, w.failedKey(), 0, wacFailedKeep-1)
		}
		return nil
	})
	if err != nil {
		return run, fmt.Errorf("store: record whatsapp status: %w", err)
	}
	return run, nil
}

// RunStatuses returns the counts of delivery statuses of a broadcast run's WhatsApp
// messages (sent, delivered, read, failed).
func (w *WhatsAppCloud) RunStatuses(ctx context.Context, run string) (map[string]int64, error) {
	m, err := w.s.rdb.HGetAll(ctx, w.runKey(run)).Result()
	if err != nil {
		return nil, fmt.Errorf("store: read whatsapp statuses of run %s: %w", run, err)
	}
	out := make(map[string]int64, len(m))
	for k, v := range m {
		out[k], _ = strconv.ParseInt(v, 10, 64)
	}
	return out, nil
}

// RunStatusesAt is RunStatuses of the run of broadcast at its scheduled time fire.
func (w *WhatsAppCloud) RunStatusesAt(ctx context.Context, broadcast string, fire time.Time) (map[string]int64, error) {
	return w.RunStatuses(ctx, domain.RunID(broadcast, fire))
}

// Failures returns the latest n failed messages, newest first.
func (w *WhatsAppCloud) Failures(ctx context.Context, n int) ([]DeliveryStatus, error) {
	raws, err := w.s.rdb.LRange(ctx, w.failedKey(), 0, int64(n-1)).Result()
	if err != nil {
		return nil, fmt.Errorf("store: read whatsapp failures: %w", err)
	}
	out := make([]DeliveryStatus, 0, len(raws))
	for _, r := range raws {
		var st DeliveryStatus
		if json.Unmarshal([]byte(r), &st) == nil {
			out = append(out, st)
		}
	}
	return out, nil
}
