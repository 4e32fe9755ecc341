package domain

import (
	"errors"
	"time"
)

// StaffSession is one signed-in browser of a member of staff.
type StaffSession struct {
	Name    string    `json:"name"`    // the account
	CSRF    string    `json:"csrf"`    // the token every form of this session carries
	Created time.Time `json:"created"` // when they signed in
}

// ErrBadCredentials is a sign-in with an unknown name, a wrong password or a
// disabled account: which of them is never told.
var ErrBadCredentials = errors.New("wrong name or password")

// LockedError reports an account locked after too many wrong passwords.
type LockedError struct{ Until time.Time }

func (e *LockedError) Error() string {
	return "account locked after too many wrong passwords until " + e.Until.UTC().Format(time.RFC3339)
}
