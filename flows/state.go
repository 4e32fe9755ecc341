package flows

import (
	"encoding/json"
	"maps"
	"strconv"
	"strings"

	"github.com/layan-id/layan/bot"
	"github.com/layan-id/layan/domain"
)

// Typed state. Each flow keeps what it remembers between messages in a struct of its
// own, stored as JSON in Session.State under a name (the flow's name; "tips" for the
// travel tips given). Sessions saved before State kept the same as strings in
// Session.Vars ("conf" == "true", photos joined by commas); the router reads those
// once, at the start of the turn, into the typed state of the flow that wrote them
// (see handleLegacy) and drops Vars.

// loadState returns the state kept under key, or the zero S when there is none (or
// it cannot be read: the flow starts over rather than fail every message).
func loadState[S any](c *Conv, key string) S {
	var s S
	if raw := c.Session.State[key]; len(raw) > 0 {
		if err := json.Unmarshal(raw, &s); err != nil {
			c.log.Warn("flow state unreadable, starting it over", "state", key, "err", err)
			var zero S
			return zero
		}
	}
	return s
}

// saveState keeps s under key.
func saveState[S any](c *Conv, key string, s S) { setState(c.Session, key, s) }

// dropState forgets what is kept under key.
func dropState(c *Conv, key string) {
	if _, ok := c.Session.State[key]; ok {
		state := maps.Clone(c.Session.State)
		delete(state, key)
		c.Session.State = state
	}
}

// setState keeps v, a flow's state struct, under key in the session. The session is
// copied on write by the engine: the map is replaced, never changed in place.
func setState(s *bot.Session, key string, v any) {
	raw, err := json.Marshal(v)
	if err != nil {
		panic("flows: state of " + key + " is not JSON: " + err.Error()) // a flow's struct, never data
	}
	state := maps.Clone(s.State)
	if state == nil {
		state = map[string]json.RawMessage{}
	}
	state[key] = raw
	s.State = state
}

// legacyReader turns the string Vars of a session saved before typed state into the
// state of one name, when the session holds some: flow is the session's flow.
type legacyReader func(flow string, vars map[string]string) (state any, ok bool)

// handleLegacy makes read turn the Vars of old sessions into the state kept under key.
func (r *Router) handleLegacy(key string, read legacyReader) { r.legacy[key] = read }

// upgrade moves a session's Vars into the typed state of the flows that wrote them.
func (r *Router) upgrade(s *bot.Session) {
	if len(s.Vars) == 0 {
		return
	}
	for key, read := range r.legacy {
		if _, done := s.State[key]; done {
			continue
		}
		if v, ok := read(s.Flow, s.Vars); ok {
			setState(s, key, v)
		}
	}
	s.Vars = nil
}

// legacyPoint reads the "lat" and "lon" Vars (degrees with six decimals).
func legacyPoint(vars map[string]string) *domain.Location {
	lat, err1 := strconv.ParseFloat(vars["lat"], 64)
	lon, err2 := strconv.ParseFloat(vars["lon"], 64)
	if err1 != nil || err2 != nil {
		return nil
	}
	return &domain.Location{Lat: lat, Lon: lon}
}

// legacyList reads a comma-joined Var.
func legacyList(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

// keptPoint is a shared place as flows keep it: to six decimals (about 10 cm), as
// they always have.
func keptPoint(l domain.Location) *domain.Location {
	round := func(x float64) float64 {
		v, _ := strconv.ParseFloat(strconv.FormatFloat(x, 'f', 6, 64), 64)
		return v
	}
	return &domain.Location{Lat: round(l.Lat), Lon: round(l.Lon)}
}
