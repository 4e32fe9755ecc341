// Package domain holds what Layan is about, apart from any chat platform, store or
// screen: complaints and the rules of their lifecycle, broadcasts with their schedules
// and runs, conversations handed to a person, staff roles and agencies, and places.
//
// It depends on no other Layan package; flows, the store, the channels, the staff API
// and the broadcast service all depend on it.
package domain
