package domain

import "time"

// Sort is the order of the inbox.
type Sort string

// The inbox's orders.
const (
	// SortNewest: newest filed first (the default).
	SortNewest Sort = "newest"
	// SortOverdue: the earliest running deadline first, so the most overdue lead and
	// those due soonest follow; only complaints with a running deadline (not finished
	// or rejected) are listed.
	SortOverdue Sort = "overdue"
)

// InboxQuery is what the staff inbox asks for. Every filter that is set must hold.
type InboxQuery struct {
	Status   Status // "" any
	Category string // "" any
	// Agency is an agency code, "-" for complaints with no agency yet, "" any. An
	// officer's query is always their agency's (the caller sets it).
	Agency string
	// Overdue keeps only complaints whose running deadline had passed at the query's
	// time.
	Overdue bool
	From    time.Time // filed at or after (zero: no bound)
	To      time.Time // filed before (zero: no bound)
	// Text is a ticket (in any case, with spaces or dots for its dashes) or words
	// that must all be in the description or address (any case; words of fewer than
	// three letters and the commonest ones are ignored).
	Text string
	Sort Sort
	Page int // from 1
	Size int // complaints a page
}

// InboxPage is one page of the inbox: its complaints, how many match in all, and
// the counts per status (and overdue) within the query's agency (all agencies when
// it names none), whatever the other filters.
type InboxPage struct {
	Complaints []*Complaint
	Total      int64
	Counts     map[Status]int64
	Overdue    int64
}

// NoAgency is the inbox's agency filter for complaints with no agency yet (with the
// admins).
const NoAgency = "-"

// MaxInboxPage is the largest page the inbox answers.
const MaxInboxPage = 200
