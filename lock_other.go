//go:build !unix

package main

// lockDataDir does nothing where flock is missing: run one Layan per DATA_DIR.
func lockDataDir(config) (func(), error) { return func() {}, nil }
