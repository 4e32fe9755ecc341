package miniredis

import "time"

// Reserve sizes the maps of the selected database for about n keys while it is
// empty, so that a bulk load does not grow them step by step; on a database that
// holds keys it does nothing. (Layan: loading a snapshot of a million keys spent a
// quarter of its time rehashing growing maps.)
func (m *Miniredis) Reserve(n int) {
	m.Lock()
	defer m.Unlock()
	db := m.db(m.selectedDB)
	if len(db.keys) > 0 || n <= 0 {
		return
	}
	db.keys = make(map[string]string, n)
	db.lru = make(map[string]time.Time, n)
	db.keyVersion = make(map[string]uint, n)
	db.stringKeys = make(map[string]string, n/2)
	db.ttl.at = make(map[string]time.Duration, n)
}

// KeyCount returns how many keys the selected database holds, without listing
// them. (Layan)
func (m *Miniredis) KeyCount() int {
	m.Lock()
	defer m.Unlock()
	return len(m.db(m.selectedDB).keys)
}
