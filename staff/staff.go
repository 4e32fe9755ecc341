// Package staff says who, in a chat, is a member of staff: the identities STAFF_IDS
// names (telegram:<user id>, whatsapp:<international number>, webchat:<token>),
// matched against a conversation's key (bot.Message.Key) as each channel writes it. A
// web chat token matches its conversation id, a WhatsApp number matches however it
// was written ("+62 812-…"), and a WhatsApp person the channel knows by their LID
// matches once the channel can tell their number.
//
// Staff accounts' linked chat identities (layan staff link) and roles are not read
// here yet: in chat only STAFF_IDS makes staff (see README, Staff accounts).
package staff

import (
	"context"
	"strings"
	"time"

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
	keys   map[string]bool // conversation keys (Message.Key) of staff
	phones Phones          // nil: WhatsApp LIDs are not looked up
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
