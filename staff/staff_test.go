package staff_test

import (
	"context"
	"log/slog"
	"testing"

	"github.com/layan-id/layan/bot/webchat"
	"github.com/layan-id/layan/domain"
	"github.com/layan-id/layan/staff"
	"github.com/layan-id/layan/store/storetest"
)

// lids is a WhatsApp channel that knows the numbers of some LIDs.
type lids map[string]string

func (l lids) Phone(_ context.Context, user string) (string, bool) {
	p, ok := l[user]
	return p, ok
}

func TestStaffAreKnownByTheirConversationAsEachChannelWritesIt(t *testing.T) {
	const token = "AbCdEfGhIjKlMnOpQrStUvWxYz012345"
	d := staff.New([]string{"telegram:123456", "whatsapp:+62 812-3456-7890", "webchat:" + token},
		lids{"998877@lid": "6281234567890", "554433@lid": "6289999999999"})
	for _, tc := range []struct {
		name string
		key  string
		want bool
	}{
		{"a Telegram user id in STAFF_IDS", "telegram:123456", true},
		{"another Telegram user", "telegram:654321", false},
		{"a WhatsApp number written with + and dashes", "whatsapp:6281234567890", true},
		{"the same person known by their LID", "whatsapp:998877@lid", true},
		{"a LID whose number is not staff", "whatsapp:554433@lid", false},
		{"a LID whose number is not known yet", "whatsapp:112233@lid", false},
		{"a web chat conversation opened with the token", "webchat:" + webchat.ChatID(token), true},
		{"the token itself is not a conversation", "webchat:" + token, false},
		{"the same id on another channel", "whatsapp:123456", false},
	} {
		if got := d.IsStaff(tc.key); got != tc.want {
			t.Errorf("%s (%s): staff = %v, want %v", tc.name, tc.key, got, tc.want)
		}
	}
}

func TestWithoutWhatsAppRunningALIDIsNotStaff(t *testing.T) {
	d := staff.New([]string{"whatsapp:6281234567890"}, nil)
	if !d.IsStaff("whatsapp:6281234567890") {
		t.Error("the number itself is not staff")
	}
	if d.IsStaff("whatsapp:998877@lid") {
		t.Error("a LID counts as staff with nobody to look up its number")
	}
}

// In chat, a STAFF_IDS identity is an admin and a linked identity acts as its
// account, with its role and agency, until the account is disabled; anyone else is
// not staff.
func TestALinkedChatIdentityActsAsItsAccount(t *testing.T) {
	storetest.Each(t, func(t *testing.T, b storetest.Backend) {
		ctx := context.Background()
		accounts := b.Store.Staff()
		if err := accounts.Add(ctx, domain.StaffAccount{Name: "budi", Role: domain.RoleOfficer, Agency: "pupr"}, "kata-sandi-panjang"); err != nil {
			t.Fatal(err)
		}
		if err := accounts.Link(ctx, "budi", "telegram:555"); err != nil {
			t.Fatal(err)
		}
		d := staff.New([]string{"telegram:111", "whatsapp:6281234567890"}, lids{"998877@lid": "6281234567890"}).
			WithAccounts(accounts, slog.New(slog.DiscardHandler))
		if acc, ok := d.Account(ctx, "telegram:111"); !ok || acc.Role != domain.RoleAdmin {
			t.Errorf("STAFF_IDS entry: %+v %v, want an admin", acc, ok)
		}
		if acc, ok := d.Account(ctx, "whatsapp:998877@lid"); !ok || acc.Role != domain.RoleAdmin {
			t.Errorf("a LID whose number is in STAFF_IDS: %+v %v, want an admin", acc, ok)
		}
		acc, ok := d.Account(ctx, "telegram:555")
		if !ok || acc.Name != "budi" || acc.Role != domain.RoleOfficer || acc.Agency != "pupr" {
			t.Errorf("linked identity: %+v %v, want budi, officer of pupr", acc, ok)
		}
		if !d.May(domain.PermComplaints)("telegram:555") || d.May(domain.PermBroadcasts)("telegram:555") {
			t.Error("an officer may work on complaints and may not broadcast")
		}
		if _, ok := d.Account(ctx, "telegram:999"); ok {
			t.Error("a stranger is staff")
		}
		accounts.Disable(ctx, "budi")
		if _, ok := d.Account(ctx, "telegram:555"); ok {
			t.Error("a disabled account's chat still acts as staff")
		}
	})
}
