package store

// Key is key for the external tests: the full name of a key of this store.
func (s *Store) Key(parts ...string) string { return s.key(parts...) }

// TopologyError exposes topologyError to the external tests.
func TopologyError(err error) bool { return topologyError(err) }
