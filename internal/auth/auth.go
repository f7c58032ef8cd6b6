// Package auth holds posbridge's credential primitives: bcrypt password hashes, one-time
// passwords, API keys (shown once, stored as a SHA-256 hash with a visible prefix), session
// tokens, CSRF tokens bound to a session, and time-ordered random ids.
package auth

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// Cost is the bcrypt cost of new password hashes. Tests may lower it (bcrypt.MinCost) to stay fast.
var Cost = 10

// APIKeyPrefix starts every API key, so leaked keys are easy to recognise and scan for.
const APIKeyPrefix = "pbk_"

// APIKeyDisplayLen is the length of the visible prefix kept next to an API key's hash
// ("pbk_" and 8 random characters), for listing keys and finding the row to check.
const APIKeyDisplayLen = 12

const (
	base62Alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	// readableAlphabet leaves out look-alikes (0 O o, 1 l I, 5 S s, 2 Z z, 8 B, u v) so a
	// one-time password can be read aloud or typed from a printout.
	readableAlphabet = "abcdefghjkmnpqrtwxy34679ACDEFGHJKLMNPQRTWXY"
	// sortableBase32 is base32hex in lower case: its characters are in ASCII order, so
	// equal-length ids sort like the numbers they encode.
	sortableBase32 = "0123456789abcdefghijklmnopqrstuv"
)

// ErrEmptyPassword is returned by HashPassword for an empty password.
var ErrEmptyPassword = errors.New("password is empty")

// HashPassword returns the bcrypt hash of pw at Cost. bcrypt reads at most 72 bytes; longer
// passwords are refused rather than silently truncated.
func HashPassword(pw string) (string, error) {
	if pw == "" {
		return "", ErrEmptyPassword
	}
	if len(pw) > 72 {
		return "", fmt.Errorf("hash password: %d bytes is longer than the 72 bcrypt reads", len(pw))
	}
	h, err := bcrypt.GenerateFromPassword([]byte(pw), Cost)
	if err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	return string(h), nil
}

// CheckPassword tells whether pw matches a hash made by HashPassword.
func CheckPassword(hash, pw string) bool {
	if hash == "" || pw == "" {
		return false
	}
	return bcrypt.CompareHashAndPassword([]byte(hash), []byte(pw)) == nil
}

// NewPassword returns a one-time password of 16 random characters from an alphabet without
// look-alikes, in groups of four: "xxxx-xxxx-xxxx-xxxx" (about 87 bits).
func NewPassword() string {
	s := randomString(readableAlphabet, 16)
	return s[0:4] + "-" + s[4:8] + "-" + s[8:12] + "-" + s[12:16]
}

// NewAPIKey returns a new API key: plain ("pbk_" + 32 random base62 characters, about 190
// bits) is shown to the user once; prefix (the first 12 characters) is stored and shown to
// recognise the key; hash (HashToken(plain)) is stored to check it.
func NewAPIKey() (plain, prefix, hash string) {
	plain = APIKeyPrefix + randomString(base62Alphabet, 32)
	return plain, plain[:APIKeyDisplayLen], HashToken(plain)
}

// APIKeyPrefixOf returns the stored prefix of a presented key, "" when it cannot be one of
// our API keys (so callers skip the lookup).
func APIKeyPrefixOf(plain string) string {
	if !strings.HasPrefix(plain, APIKeyPrefix) || len(plain) != len(APIKeyPrefix)+32 {
		return ""
	}
	return plain[:APIKeyDisplayLen]
}

// HashToken returns the hex SHA-256 of a high-entropy token (API key, session token), the
// form stored and looked up. Tokens are random, so a fast unsalted hash is the right tool.
func HashToken(plain string) string {
	sum := sha256.Sum256([]byte(plain))
	return hex.EncodeToString(sum[:])
}

// NewSessionToken returns 32 random bytes in unpadded base64url (43 characters).
func NewSessionToken() string {
	b := make([]byte, 32)
	randRead(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// CSRFToken returns the CSRF token of a session: unpadded base64url of
// HMAC-SHA256(key, "posbridge-csrf:" + sessionToken). key is a server secret; an empty key
// is refused by CheckCSRF.
func CSRFToken(sessionToken string, key []byte) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("posbridge-csrf:"))
	m.Write([]byte(sessionToken))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// CheckCSRF tells, in constant time, whether token is the CSRF token of sessionToken.
func CheckCSRF(sessionToken, token string, key []byte) bool {
	if sessionToken == "" || token == "" || len(key) == 0 {
		return false
	}
	return hmac.Equal([]byte(CSRFToken(sessionToken, key)), []byte(token))
}

// NewID returns prefix + "_" + 20 lowercase base32 characters: 10 encode the Unix time in
// milliseconds and 10 are random (50 bits), so ids sort by creation to the millisecond and
// stay unguessable. An empty prefix gives the bare 20 characters.
func NewID(prefix string) string {
	return newIDAt(prefix, time.Now())
}

func newIDAt(prefix string, t time.Time) string {
	var b [20]byte
	ms := uint64(t.UnixMilli())
	for i := 9; i >= 0; i-- {
		b[i] = sortableBase32[ms&31]
		ms >>= 5
	}
	var r [10]byte
	randRead(r[:])
	for i, x := range r {
		b[10+i] = sortableBase32[x&31]
	}
	if prefix == "" {
		return string(b[:])
	}
	return prefix + "_" + string(b[:])
}

// IDTime returns the creation time encoded in an id made by NewID, to the millisecond.
func IDTime(id string) (time.Time, bool) {
	if i := strings.LastIndexByte(id, '_'); i >= 0 {
		id = id[i+1:]
	}
	if len(id) != 20 {
		return time.Time{}, false
	}
	var ms uint64
	for i := 0; i < 10; i++ {
		v := strings.IndexByte(sortableBase32, id[i])
		if v < 0 {
			return time.Time{}, false
		}
		ms = ms<<5 | uint64(v)
	}
	return time.UnixMilli(int64(ms)), true
}

// randomString returns n characters drawn uniformly from alphabet (rejection sampling, no
// modulo bias).
func randomString(alphabet string, n int) string {
	limit := 256 - 256%len(alphabet)
	out := make([]byte, 0, n)
	buf := make([]byte, n+n/2)
	for len(out) < n {
		randRead(buf)
		for _, x := range buf {
			if int(x) < limit {
				out = append(out, alphabet[int(x)%len(alphabet)])
				if len(out) == n {
					break
				}
			}
		}
	}
	return string(out)
}

// randRead fills b from crypto/rand. Since Go 1.24 crypto/rand.Read never returns an error
// (it crashes the program irrecoverably instead), so there is nothing to handle here.
func randRead(b []byte) {
	_, _ = rand.Read(b)
}
