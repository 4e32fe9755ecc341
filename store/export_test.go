package store

// TopologyError exposes topologyError to the external tests.
func TopologyError(err error) bool { return topologyError(err) }
