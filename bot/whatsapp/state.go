package whatsapp

import (
	"fmt"
	"time"
)

// stateKind is where the channel's connection stands.
type stateKind string

const (
	stateStarting     stateKind = "starting"
	stateStoreDown    stateKind = "store_unavailable" // the device store cannot be opened
	stateNotLinked    stateKind = "not_linked"
	stateStandby      stateKind = "standby" // another replica holds the connection
	stateConnecting   stateKind = "connecting"
	stateConnected    stateKind = "connected"
	stateDisconnected stateKind = "disconnected" // lost; whatsmeow reconnects
	stateLoggedOut    stateKind = "logged_out"
	stateReplaced     stateKind = "replaced"
	stateBanned       stateKind = "banned"
	stateOutdated     stateKind = "outdated"
	stateStopped      stateKind = "stopped"
	statePairing      stateKind = "pairing" // recorded by `layan whatsapp pair` while it runs
	statePaired       stateKind = "paired"  // ... and when it is done
)

// state is the channel's connection state, for Health, Send and the status row.
type state struct {
	kind  stateKind
	since time.Time
	until time.Time // banned: when WhatsApp said the ban ends; replaced/outdated: next try
}

// ok reports a state in which WhatsApp works (or, standby, works from elsewhere).
func (s state) ok() bool { return s.kind == stateConnected || s.kind == stateStandby }

// paused reports a state in which the channel must not send at all.
func (s state) paused() bool {
	switch s.kind {
	case stateLoggedOut, stateReplaced, stateBanned, stateOutdated:
		return true
	}
	return false
}

// detail describes the state for readiness checks and `whatsapp status`; it never
// holds a phone number.
func (s state) detail(loc *time.Location) string {
	at := func(t time.Time) string { return t.In(loc).Format("02-01-2006 15:04 MST") }
	switch s.kind {
	case stateStarting:
		return "starting"
	case stateStoreDown:
		return "device store unavailable (WHATSAPP_DB); retrying"
	case stateNotLinked:
		return "not linked: run `layan whatsapp pair`"
	case stateStandby:
		return "standby: another replica holds the connection"
	case stateConnecting:
		return "connecting"
	case stateConnected:
		return "connected"
	case stateDisconnected:
		return "disconnected; reconnecting"
	case stateLoggedOut:
		return "logged out: the linked device was removed; run `layan whatsapp pair`"
	case stateReplaced:
		return fmt.Sprintf("stream replaced: another program used this WhatsApp session; retrying at %s", at(s.until))
	case stateBanned:
		if s.until.IsZero() {
			return "temporarily banned by WhatsApp; not sending"
		}
		return fmt.Sprintf("temporarily banned by WhatsApp until %s; not sending", at(s.until))
	case stateOutdated:
		return "WhatsApp refused this client version: update Layan"
	case stateStopped:
		return "stopped"
	case statePairing:
		return "pairing in progress (`layan whatsapp pair`)"
	case statePaired:
		return "paired; waiting for the service to connect"
	}
	return string(s.kind)
}
