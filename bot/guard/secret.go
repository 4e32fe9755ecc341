package guard

import (
	"fmt"
	"unicode/utf8"
)

// MinSecretLen is the fewest characters a secret may have.
const MinSecretLen = 32

// minDistinct is the fewest different characters a secret may have. A 32-character
// hex string from a random source has fewer than this with a chance of about 2 in
// 10^10.
const minDistinct = 7

// GenerateHint says how to make a good secret, for error messages.
const GenerateHint = "generate one with: openssl rand -hex 32"

// CheckSecret returns why secret is too weak to guard a door, or nil: it must have
// at least MinSecretLen characters and must not be trivially repetitive (few
// different characters, a short stretch repeated, or mostly a run such as "aaaa…",
// "abcd…" or "0246…"). A 32-character or longer hex or base64url string from a
// random source always passes. The error never repeats the secret.
func CheckSecret(secret string) error {
	rs := []rune(secret)
	n := len(rs)
	if !utf8.ValidString(secret) {
		return fmt.Errorf("not valid UTF-8")
	}
	if n < MinSecretLen {
		return fmt.Errorf("too short: %d characters, at least %d needed", n, MinSecretLen)
	}
	distinct := map[rune]bool{}
	for _, r := range rs {
		distinct[r] = true
	}
	if len(distinct) < minDistinct {
		return fmt.Errorf("too repetitive: only %d different characters", len(distinct))
	}
	// Nearly periodic: three quarters of the characters equal the one p places on.
	for p := 1; p <= n/2; p++ {
		same := 0
		for i := p; i < n; i++ {
			if rs[i] == rs[i-p] {
				same++
			}
		}
		if 4*same >= 3*(n-p) {
			return fmt.Errorf("too repetitive: it repeats itself every %d characters", p)
		}
	}
	// Runs: three quarters of the steps from one character to the next are small
	// ("aaaa", "abcd", "dcba") or all the same ("aceg", "0369").
	small, steps := 0, map[rune]int{}
	for i := 1; i < n; i++ {
		d := rs[i] - rs[i-1]
		if d >= -1 && d <= 1 {
			small++
		}
		steps[d]++
	}
	most := 0
	for _, c := range steps {
		most = max(most, c)
	}
	if 4*small >= 3*(n-1) || 4*most >= 3*(n-1) {
		return fmt.Errorf("too predictable: mostly a run of characters in sequence")
	}
	return nil
}
