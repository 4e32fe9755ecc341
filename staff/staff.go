// Package staff says who, in a chat, is a member of staff: the identities STAFF_IDS
// names (telegram:<user id>, whatsapp:<international number>, webchat:<token>),
// matched against a conversation's key (bot.Message.Key) as each channel writes it. A
// web chat token matches its conversation id, a WhatsApp number matches however it
// was written ("+62 812-…"), and a WhatsApp person the channel knows by their LID
// matches once the channel can tell their number.
//
// A STAFF_IDS identity is an admin; with Accounts, a chat identity linked to a staff
// account (layan staff link NAME telegram:123) acts with that account's role and
// agency while the account is not disabled.
package staff

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"time"

	"github.com/layan-id/layan/domain"

	"github.com/layan-id/layan/bot/webchat"
	"github.com/layan-id/layan/bot/whatsapp"
)

// Phones tells the phone number behind a WhatsApp user id, when it is known;
// *whatsapp.Channel is one.
type Phones interface {
	Phone(ctx context.Context, userID string) (string, bool)
}

// phoneTimeout bounds one look-up of a WhatsApp LID's number.
const phoneTimeout = 2 * time.Second

// Directory knows the staff identities. It is safe for concurrent use.
type Directory struct {
	keys     map[string]bool // conversation keys (Message.Key) of staff
	phones   Phones          // nil: WhatsApp LIDs are not looked up
	accounts Accounts        // nil: only STAFF_IDS
	log      *slog.Logger
}

// Accounts finds the staff account a chat identity is linked to (*store.Staff); an
// unlinked identity or a disabled account is domain.ErrNotFound.
type Accounts interface {
	ByIdentity(ctx context.Context, identity string) (domain.StaffAccount, error)
}

// WithAccounts returns the directory that also knows the chat identities linked to
// staff accounts; a store that does not answer is logged on log, and its identities
// have no staff powers meanwhile.
func (d *Directory) WithAccounts(accounts Accounts, log *slog.Logger) *Directory {
	out := *d
	out.accounts, out.log = accounts, log
	return &out
}

// Account returns the staff account the conversation key acts as: a STAFF_IDS entry
// is an admin named by the key; a linked identity is its account. False for anyone
// else.
func (d *Directory) Account(ctx context.Context, key string) (domain.StaffAccount, bool) {
	keys := []string{key}
	if user, ok := strings.CutPrefix(key, whatsapp.ChannelName+":"); ok && d.phones != nil {
		pctx, cancel := context.WithTimeout(ctx, phoneTimeout)
		phone, found := d.phones.Phone(pctx, user)
		cancel()
		if found {
			keys = append(keys, whatsapp.ChannelName+":"+phone)
		}
	}
	for _, k := range keys {
		if d.keys[k] {
			return domain.StaffAccount{Name: key, Role: domain.RoleAdmin}, true
		}
		if d.accounts == nil {
			continue
		}
		acc, err := d.accounts.ByIdentity(ctx, k)
		if err == nil {
			return acc, true
		}
		if !errors.Is(err, domain.ErrNotFound) && d.log != nil {
			d.log.WarnContext(ctx, "look up a linked staff identity", "err", err)
		}
	}
	return domain.StaffAccount{}, false
}

// May returns whether a conversation key's account may do p, for the flows that ask
// only that (the broadcasts' and conversations' staff commands).
func (d *Directory) May(p domain.Permission) func(key string) bool {
	return func(key string) bool {
		ctx, cancel := context.WithTimeout(context.Background(), phoneTimeout)
		defer cancel()
		acc, ok := d.Account(ctx, key)
		return ok && acc.Role.Can(p)
	}
}

// New returns the directory of the identities ids (channel:identity, as STAFF_IDS
// writes them and the configuration checked them). phones, when not nil, tells the
// number of a WhatsApp person known by their LID.
func New(ids []string, phones Phones) *Directory {
	keys := map[string]bool{}
	for _, id := range ids {
		ch, who, _ := strings.Cut(id, ":")
		switch ch {
		case webchat.ChannelName:
			who = webchat.ChatID(who) // a web chat conversation is named by its token's hash
		case whatsapp.ChannelName:
			if phone, err := whatsapp.NormalizePhone(who); err == nil {
				who = phone // "+62 812-…" or "0812…" as the channel writes it
			}
		}
		keys[ch+":"+who] = true
	}
	return &Directory{keys: keys, phones: phones}
}

// IsStaff reports whether the conversation key (Message.Key) is a member of staff's.
func (d *Directory) IsStaff(key string) bool {
	if d.keys[key] {
		return true
	}
	user, ok := strings.CutPrefix(key, whatsapp.ChannelName+":")
	if !ok || d.phones == nil {
		return false
	}
	ctx, cancel := context.WithTimeout(context.Background(), phoneTimeout)
	defer cancel()
	phone, ok := d.phones.Phone(ctx, user)
	return ok && d.keys[whatsapp.ChannelName+":"+phone]
}
