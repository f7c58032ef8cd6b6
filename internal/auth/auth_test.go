package auth

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

func TestMain(m *testing.M) {
	Cost = bcrypt.MinCost
	m.Run()
}

func TestHashAndCheckPassword(t *testing.T) {
	h, err := HashPassword("correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$2a$") || strings.Contains(h, "horse") {
		t.Fatalf("hash %q is not a bcrypt hash", h)
	}
	if !CheckPassword(h, "correct horse battery staple") {
		t.Fatal("right password refused")
	}
	for _, pw := range []string{"", "correct horse battery stapl", "Correct horse battery staple"} {
		if CheckPassword(h, pw) {
			t.Fatalf("wrong password %q accepted", pw)
		}
	}
	if CheckPassword("", "x") || CheckPassword("not-a-hash", "x") {
		t.Fatal("garbage hash accepted")
	}
	h2, _ := HashPassword("correct horse battery staple")
	if h == h2 {
		t.Fatal("hashes are not salted")
	}
}

func TestHashPasswordCost(t *testing.T) {
	h, err := HashPassword("pw")
	if err != nil {
		t.Fatal(err)
	}
	if c, _ := bcrypt.Cost([]byte(h)); c != Cost {
		t.Fatalf("cost %d, want %d", c, Cost)
	}
}

func TestHashPasswordRefuses(t *testing.T) {
	if _, err := HashPassword(""); err != ErrEmptyPassword {
		t.Fatalf("empty: %v", err)
	}
	if _, err := HashPassword(strings.Repeat("a", 73)); err == nil {
		t.Fatal("73-byte password accepted (bcrypt would truncate it)")
	}
	if _, err := HashPassword(strings.Repeat("a", 72)); err != nil {
		t.Fatalf("72-byte password: %v", err)
	}
}

func TestNewPassword(t *testing.T) {
	re := regexp.MustCompile(`^[` + readableAlphabet + `]{4}(-[` + readableAlphabet + `]{4}){3}$`)
	seen := map[string]bool{}
	for range 200 {
		pw := NewPassword()
		if !re.MatchString(pw) || len(strings.ReplaceAll(pw, "-", "")) < 16 {
			t.Fatalf("password %q has the wrong shape", pw)
		}
		if seen[pw] {
			t.Fatalf("password %q repeated", pw)
		}
		seen[pw] = true
	}
	for _, c := range "0O1lI" {
		if strings.ContainsRune(readableAlphabet, c) {
			t.Fatalf("alphabet holds look-alike %q", c)
		}
	}
}

func TestNewAPIKey(t *testing.T) {
	re := regexp.MustCompile(`^pbk_[0-9A-Za-z]{32}$`)
	seen := map[string]bool{}
	for range 100 {
		plain, prefix, hash := NewAPIKey()
		if !re.MatchString(plain) {
			t.Fatalf("key %q has the wrong shape", plain)
		}
		if prefix != plain[:12] || len(prefix) != 12 {
			t.Fatalf("prefix %q of %q", prefix, plain)
		}
		sum := sha256.Sum256([]byte(plain))
		if hash != hex.EncodeToString(sum[:]) || hash != HashToken(plain) {
			t.Fatalf("hash %q is not the hex SHA-256 of the key", hash)
		}
		if strings.Contains(hash, plain[4:]) {
			t.Fatal("hash contains the key")
		}
		if APIKeyPrefixOf(plain) != prefix {
			t.Fatalf("APIKeyPrefixOf(%q) = %q", plain, APIKeyPrefixOf(plain))
		}
		if seen[plain] {
			t.Fatal("key repeated")
		}
		seen[plain] = true
	}
	for _, s := range []string{"", "pbk_short", "xyz_0123456789012345678901234567890a"} {
		if APIKeyPrefixOf(s) != "" {
			t.Fatalf("APIKeyPrefixOf(%q) is not empty", s)
		}
	}
}

func TestHashToken(t *testing.T) {
	// SHA-256("abc"), FIPS 180-2 test vector.
	if got := HashToken("abc"); got != "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" {
		t.Fatalf("HashToken(abc) = %s", got)
	}
}

func TestNewSessionToken(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		tok := NewSessionToken()
		b, err := base64.RawURLEncoding.DecodeString(tok)
		if err != nil || len(b) != 32 {
			t.Fatalf("token %q: %d bytes, %v", tok, len(b), err)
		}
		if seen[tok] {
			t.Fatal("token repeated")
		}
		seen[tok] = true
	}
}

func TestCSRF(t *testing.T) {
	key := []byte("0123456789abcdef0123456789abcdef")
	sess := NewSessionToken()
	tok := CSRFToken(sess, key)
	if tok != CSRFToken(sess, key) {
		t.Fatal("CSRF token is not deterministic")
	}
	if _, err := base64.RawURLEncoding.DecodeString(tok); err != nil {
		t.Fatalf("token %q is not base64url: %v", tok, err)
	}
	if !CheckCSRF(sess, tok, key) {
		t.Fatal("right token refused")
	}
	cases := []struct {
		name      string
		sess, tok string
		key       []byte
	}{
		{"other session", NewSessionToken(), tok, key},
		{"other key", sess, tok, []byte("another key")},
		{"tampered", sess, flipFirst(tok), key},
		{"empty token", sess, "", key},
		{"empty session", "", CSRFToken("", key), key},
		{"empty key", sess, CSRFToken(sess, nil), nil},
		{"session token itself", sess, sess, key},
	}
	for _, c := range cases {
		if CheckCSRF(c.sess, c.tok, c.key) {
			t.Errorf("%s: accepted", c.name)
		}
	}
}

func flipFirst(s string) string {
	if s[0] == 'A' {
		return "B" + s[1:]
	}
	return "A" + s[1:]
}

func TestNewID(t *testing.T) {
	re := regexp.MustCompile(`^int_[0-9a-v]{20}$`)
	id := NewID("int")
	if !re.MatchString(id) {
		t.Fatalf("id %q has the wrong shape", id)
	}
	if bare := NewID(""); len(bare) != 20 || strings.Contains(bare, "_") {
		t.Fatalf("bare id %q", bare)
	}
	seen := map[string]bool{}
	for range 10000 {
		id := NewID("x")
		if seen[id] {
			t.Fatalf("id %q repeated", id)
		}
		seen[id] = true
	}
}

func TestNewIDSortsByTime(t *testing.T) {
	base := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	var ids []string
	for i := range 500 {
		ids = append(ids, newIDAt("evt", base.Add(time.Duration(i)*time.Millisecond)))
	}
	// Far apart times too, including across a change in the leading character.
	ids = append(ids, newIDAt("evt", base.Add(24*365*time.Hour)), newIDAt("evt", base.Add(50*24*365*time.Hour)))
	if !slices.IsSorted(ids) {
		t.Fatal("ids made in time order do not sort in time order")
	}
	for i, id := range ids[:500] {
		got, ok := IDTime(id)
		if !ok || !got.Equal(base.Add(time.Duration(i)*time.Millisecond)) {
			t.Fatalf("IDTime(%q) = %v, %v", id, got, ok)
		}
	}
	now := NewID("a")
	if got, ok := IDTime(now); !ok || time.Since(got) > time.Minute || time.Since(got) < -time.Minute {
		t.Fatalf("IDTime of a fresh id = %v, %v", got, ok)
	}
	if _, ok := IDTime("int_short"); ok {
		t.Fatal("IDTime accepted a short id")
	}
}

func TestRandomStringUniform(t *testing.T) {
	// Every character of the alphabet shows up; a coarse guard against a broken sampler.
	s := randomString(base62Alphabet, 20000)
	for _, c := range base62Alphabet {
		n := strings.Count(s, string(c))
		if n < 150 || n > 520 { // expected ~323
			t.Fatalf("character %q drawn %d times in 20000", c, n)
		}
	}
}

func BenchmarkHashPasswordCost10(b *testing.B) {
	old := Cost
	Cost = 10
	defer func() { Cost = old }()
	for b.Loop() {
		if _, err := HashPassword("correct horse battery staple"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkNewAPIKey(b *testing.B) {
	for b.Loop() {
		NewAPIKey()
	}
}

func BenchmarkNewID(b *testing.B) {
	for b.Loop() {
		NewID("evt")
	}
}

func BenchmarkCheckCSRF(b *testing.B) {
	key := []byte("0123456789abcdef0123456789abcdef")
	sess := NewSessionToken()
	tok := CSRFToken(sess, key)
	for b.Loop() {
		if !CheckCSRF(sess, tok, key) {
			b.Fatal("refused")
		}
	}
}
