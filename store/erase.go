package store

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// Privacy forgets a person when they ask ("hapus data saya"): everything the store
// keeps about one conversation except what the regency must keep, their filed
// complaints.
//
// Per-conversation keys (all under the hash tag {c:<conv>}) and what Erase does with
// them; a new kind of key under the tag must be added here (flows'
// TestErasingLeavesOnlyWhatThePrivacyTextSaysRemains lists the tag's keys after an
// erase and fails on any other):
//
//	session      language, the step and drafts (a complaint not yet filed)   deleted
//	history      the recent messages of both sides (HISTORY_DAYS, the newest) deleted
//	seen         ids of messages handled in the last 48 h                    deleted (the turn that erases adds its own id back, nothing else)
//	ans:<id>     the replies to a message, kept 1 h for a client's retry      deleted
//	inbox        web chat replies pushed and not yet fetched                   deleted
//	photos       names of photos the person sent in the last day              deleted, with the photo files that no filed complaint holds
//	lock         the turn in progress                                          left: it ends with the turn
//	seen:<id>    a dedupe mark in the format before "seen" (no longer written) left to expire, within 48 h of the upgrade
//
// Outside the tag: web:<sha256 of the web chat token> (deleted: the token no longer
// opens the conversation); the conversation's talks with staff, under the handoff
// tag ({ho}:conv:<conv>, {ho}:byconv:<conv>, and {ho}:h:<id>, {ho}:m:<id> of each:
// deleted, see Handoffs.Erase); and the complaint records with their index by reporter
// ({cmp:N}:… in the complaint's shard, kept). Subscriptions are the broadcast store's (Broadcasts.UnsubscribeAll).
type Privacy struct {
	s        *Store
	mediaDir string
}

// Privacy returns the eraser. mediaDir is the directory of the media store (photos),
// "" when there is none.
func (s *Store) Privacy(mediaDir string) *Privacy {
	return &Privacy{s: s, mediaDir: mediaDir}
}

// photoNoteTTL is how long a photo is remembered as the conversation's: a little longer
// than the media store keeps photos no complaint holds (see Media.Prune).
const photoNoteTTL = 25 * time.Hour

const (
	kindInbox  = "inbox"  // see WebChats.inboxKeys
	kindPhotos = "photos" // see Privacy.NotePhoto
)

// NotePhoto remembers that the conversation sent the stored photo name, so that
// erasing the person's data removes the file too, when no filed complaint holds it.
func (p *Privacy) NotePhoto(ctx context.Context, conv, name string) error {
	key := p.s.convKey(conv, kindPhotos)
	_, err := p.s.rdb.TxPipelined(ctx, func(pl redis.Pipeliner) error {
		pl.SAdd(ctx, key, name)
		pl.PExpire(ctx, key, photoNoteTTL)
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: note photo of conversation: %w", err)
	}
	return nil
}

// eraseScript deletes one conversation's keys (not its lock) and returns the names of
// the photos it had sent. KEYS: session, seen, inbox, photos, history. ARGV: the
// answer key prefix ({c:conv}:ans:).
var eraseScript = redis.NewScript(`
local ids = redis.call('ZRANGE', KEYS[2], 0, -1)
for _, id in ipairs(ids) do redis.call('DEL', ARGV[1] .. id) end
local photos = redis.call('SMEMBERS', KEYS[4])
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5])
return photos
`)

// Erase forgets the conversation conv (a bot.Message.Key): its session with any
// draft, the memory of its messages with their stored answers, its talks with staff
// with their transcripts, its web chat inbox and token, and the photos it sent that no filed complaint holds. Filed complaints stay.
// It is safe inside the conversation's own turn: the lock is left alone.
func (p *Privacy) Erase(ctx context.Context, conv string) error {
	keys := []string{
		p.s.convKey(conv, kindSession), p.s.convKey(conv, kindSeen),
		p.s.convKey(conv, kindInbox), p.s.convKey(conv, kindPhotos), p.s.convKey(conv, kindHistory),
	}
	photos, err := eraseScript.Run(ctx, p.s.rdb, keys, p.s.convKey(conv, kindAnswer)).StringSlice()
	if err != nil {
		return fmt.Errorf("store: erase conversation: %w", err)
	}
	if err := p.s.Handoffs().Erase(ctx, conv); err != nil {
		return err
	}
	if id, ok := strings.CutPrefix(conv, "webchat:"); ok {
		w := p.s.WebChats()
		if err := p.s.rdb.Del(ctx, w.inboxKeys(id)...).Err(); err != nil { // one hash tag
			return fmt.Errorf("store: erase web chat inbox: %w", err)
		}
		if err := p.s.rdb.Del(ctx, w.chatKey(id)).Err(); err != nil {
			return fmt.Errorf("store: erase web chat token: %w", err)
		}
	}
	var errs []error
	for _, name := range photos {
		if err := p.removePhoto(ctx, name); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// removePhoto deletes a stored photo unless a filed complaint holds it.
func (p *Privacy) removePhoto(ctx context.Context, name string) error {
	if p.mediaDir == "" || name == "" || filepath.Base(name) != name || name[0] == '.' {
		return nil // not a file of the media store (e.g. a platform's file id)
	}
	kept, err := (&Complaints{s: p.s}).PhotoKept(ctx, name)
	if err != nil {
		return fmt.Errorf("store: erase photo: %w", err)
	}
	if kept {
		return nil
	}
	if err := os.Remove(filepath.Join(p.mediaDir, name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("store: erase photo: %w", err)
	}
	return nil
}
