package main

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/layan-id/layan/domain"
)

// staffWho tells who a chat identity (Message.Key) is on the staff side: a STAFF_IDS
// entry is an admin named by the identity; a chat identity linked to an account
// (layan staff link NAME telegram:123) acts with that account's role and agency, as
// long as the account is not disabled.
type staffWho struct {
	ids      map[string]bool // STAFF_IDS as conversation keys (staffKeys)
	accounts interface {
		ByIdentity(ctx context.Context, identity string) (domain.StaffAccount, error)
	}
	// aliases gives the other keys a conversation key may be known by (a WhatsApp
	// LID's phone number); nil: none.
	aliases func(key string) []string
	log     *slog.Logger
}

// Account returns the staff account key acts as, or false for a person who is not
// staff (or when the store does not answer: logged, and no staff powers meanwhile).
func (s staffWho) Account(ctx context.Context, key string) (domain.StaffAccount, bool) {
	keys := []string{key}
	if s.aliases != nil {
		keys = append(keys, s.aliases(key)...)
	}
	for _, k := range keys {
		if s.ids[k] {
			return domain.StaffAccount{Name: key, Role: domain.RoleAdmin}, true
		}
		acc, err := s.accounts.ByIdentity(ctx, k)
		if err == nil {
			return acc, true
		}
		if !errors.Is(err, domain.ErrNotFound) {
			s.log.WarnContext(ctx, "look up a linked staff identity", "err", err)
		}
	}
	return domain.StaffAccount{}, false
}

// May returns whether a key's account may do p, for the flows that ask only that.
func (s staffWho) May(p domain.Permission) func(key string) bool {
	return func(key string) bool {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		acc, ok := s.Account(ctx, key)
		return ok && acc.Role.Can(p)
	}
}
