package domain

import (
	"errors"
	"fmt"
	"regexp"
	"time"
)

// Role is what a staff account may do.
type Role string

// The staff roles: an admin does everything (accounts too), an officer handles the
// complaints of their agency (and conversations handed to a person), a broadcaster
// broadcasts and schedules tips, a viewer only reads.
const (
	RoleAdmin       Role = "admin"
	RoleOfficer     Role = "officer"
	RoleBroadcaster Role = "broadcaster"
	RoleViewer      Role = "viewer"
)

// Roles lists the roles in the order they are shown.
func Roles() []Role { return []Role{RoleAdmin, RoleOfficer, RoleBroadcaster, RoleViewer} }

// Valid reports whether r is one of Roles.
func (r Role) Valid() bool {
	switch r {
	case RoleAdmin, RoleOfficer, RoleBroadcaster, RoleViewer:
		return true
	}
	return false
}

// Permission is one kind of staff action.
type Permission string

// The permissions the staff side checks.
const (
	PermRead         Permission = "read"          // see complaints, broadcasts, conversations
	PermComplaints   Permission = "complaints"    // work on a complaint: process, finish, notes, messages
	PermTriage       Permission = "triage"        // verify, dispose to an agency, reject, mark a duplicate
	PermAudit        Permission = "audit"         // read the audit log
	PermBroadcasts   Permission = "broadcasts"    // create, pause, resume, cancel broadcasts and tips
	PermConversation Permission = "conversations" // take and answer conversations handed to a person
	PermAccounts     Permission = "accounts"      // manage staff accounts
	PermKnowledge    Permission = "knowledge"     // read the FAQ's gaps and feedback, edit, publish and export the knowledge base
)

// Can reports whether role r may do p. An officer's complaint permissions hold
// only for the complaints of their agency (Complaint.VisibleTo).
func (r Role) Can(p Permission) bool {
	switch r {
	case RoleAdmin:
		return true
	case RoleOfficer:
		return p == PermRead || p == PermComplaints || p == PermConversation
	case RoleBroadcaster:
		return p == PermRead || p == PermBroadcasts
	case RoleViewer:
		return p == PermRead
	}
	return false
}

// StaffAccount is a member of staff who signs in. The password's hash and the
// tokens' hashes are the store's business, never part of this record.
type StaffAccount struct {
	Name     string    `json:"name"`
	Role     Role      `json:"role"`
	Agency   string    `json:"agency,omitempty"` // an officer's agency code
	Disabled bool      `json:"disabled,omitempty"`
	Created  time.Time `json:"created"`
	// Links are chat identities (telegram:123) that act as this account.
	Links []string `json:"links,omitempty"`
}

// Agency is a regional government agency (OPD) that acts on complaints.
type Agency struct {
	Code string `yaml:"code" json:"code"`
	Name string `yaml:"name" json:"name"`
	// Notify is the agency's staff chat (as STAFF_NOTIFY: telegram:-100123, ...),
	// where its overdue complaints and daily digest go; empty: STAFF_NOTIFY.
	Notify string `yaml:"notify,omitempty" json:"notify,omitempty"`
}

var staffName = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{1,31}$`)

// ErrBadAccount reports an account that cannot be created as asked.
var ErrBadAccount = errors.New("bad account")

// ValidateAccount checks a new account's name, role and agency; agencies are the
// known agency codes.
func ValidateAccount(name string, role Role, agency string, agencies []Agency) error {
	if !staffName.MatchString(name) {
		return fmt.Errorf("%w: name must be 2 to 32 of a-z, 0-9, '.', '_', '-', starting with a letter or digit", ErrBadAccount)
	}
	if !role.Valid() {
		return fmt.Errorf("%w: role must be one of admin, officer, broadcaster, viewer", ErrBadAccount)
	}
	if role == RoleOfficer && agency == "" {
		return fmt.Errorf("%w: an officer needs --agency (one of %s)", ErrBadAccount, agencyCodes(agencies))
	}
	if role != RoleOfficer && agency != "" {
		return fmt.Errorf("%w: only an officer has an agency", ErrBadAccount)
	}
	if agency != "" {
		for _, a := range agencies {
			if a.Code == agency {
				return nil
			}
		}
		return fmt.Errorf("%w: unknown agency %q (one of %s)", ErrBadAccount, agency, agencyCodes(agencies))
	}
	return nil
}

func agencyCodes(as []Agency) string {
	s := ""
	for i, a := range as {
		if i > 0 {
			s += ", "
		}
		s += a.Code
	}
	if s == "" {
		return "none: add agencies to region.yaml"
	}
	return s
}
