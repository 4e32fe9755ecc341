package guard_test

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/layan-id/layan/bot/guard"
)

func TestWeakSecretsAreRefused(t *testing.T) {
	cases := []struct{ name, secret, says string }{
		{"an empty secret", "", "too short"},
		{"a short random-looking secret", "s3cret_Webhook-token", "too short"},
		{"31 characters", "9f86d081884c7d659a2feaa0c55ad01", "too short"},
		{"one character repeated", strings.Repeat("a", 40), "repetitive"},
		{"two characters alternating", strings.Repeat("ab", 20), "repetitive"},
		{"abc repeated", strings.Repeat("abc", 12), "repetitive"},
		{"a word repeated", strings.Repeat("password", 4), "repetit"},
		{"a random half repeated", "9f86d081884c7d659a2feaa0c55ad015" + "9f86d081884c7d659a2feaa0c55ad015", "repeats itself"},
		{"a word repeated with something at the end", strings.Repeat("rahasia", 6) + "x1", "repeats itself"},
		{"digits counting up", "0123456789012345678901234567890123456789", "repetitive"},
		{"the alphabet", "abcdefghijklmnopqrstuvwxyzABCDEFGH", "sequence"},
		{"counting down", "zyxwvutsrqponmlkjihgfedcbaZYXWVUTSR", "sequence"},
		{"every other letter", "acegikmoqsuwy" + "ACEGIKMOQSUWY" + "0246813579", "sequence"},
		{"stairs", "aaabbbcccdddeeefffggghhhiiijjjkkklll", "sequence"},
		{"mostly one letter", strings.Repeat("a", 30) + "bcdefgh", "repeats itself"},
	}
	for _, tc := range cases {
		t.Run(tc.name+" is refused", func(t *testing.T) {
			err := guard.CheckSecret(tc.secret)
			if err == nil {
				t.Fatalf("CheckSecret(%q) accepted it", tc.secret)
			}
			if !strings.Contains(err.Error(), tc.says) {
				t.Errorf("CheckSecret(%q) = %v, want it to say %q", tc.secret, err, tc.says)
			}
			if len(tc.secret) > 3 && strings.Contains(err.Error(), tc.secret) {
				t.Errorf("the error repeats the secret: %v", err)
			}
		})
	}
}

func TestRandomSecretsAlwaysPass(t *testing.T) {
	encodings := []struct {
		name   string
		bytes  int
		encode func([]byte) string
	}{
		{"hex of 16 bytes (32 characters)", 16, hex.EncodeToString},
		{"hex of 32 bytes (openssl rand -hex 32)", 32, hex.EncodeToString},
		{"upper-case hex of 16 bytes", 16, func(b []byte) string { return strings.ToUpper(hex.EncodeToString(b)) }},
		{"base64url of 24 bytes (32 characters)", 24, base64.RawURLEncoding.EncodeToString},
		{"base64url of 32 bytes", 32, base64.RawURLEncoding.EncodeToString},
		{"base64 of 32 bytes (openssl rand -base64 32)", 32, base64.StdEncoding.EncodeToString},
	}
	const each = 20000
	for _, enc := range encodings {
		t.Run(enc.name, func(t *testing.T) {
			b := make([]byte, enc.bytes)
			for range each {
				rand.Read(b)
				s := enc.encode(b)
				if err := guard.CheckSecret(s); err != nil {
					t.Fatalf("CheckSecret(%q) = %v", s, err)
				}
			}
		})
	}
	t.Run("secrets people write out by hand but long and mixed pass too", func(t *testing.T) {
		for _, s := range []string{"staff-token-2f8c1e9a7b3d4c6e5f0a1b2c3d4e5f60", "Kab-Batang_webhook_7Qx9-Lm2Pz4Rt8Vw3Ny6"} {
			if err := guard.CheckSecret(s); err != nil {
				t.Errorf("CheckSecret(%q) = %v", s, err)
			}
		}
	})
}
