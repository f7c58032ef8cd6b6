package secrets

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func testKey(b byte) []byte { return bytes.Repeat([]byte{b}, KeySize) }

func newBox(t testing.TB, key []byte) *Box {
	t.Helper()
	b, err := NewBox(key)
	if err != nil {
		t.Fatalf("NewBox: %v", err)
	}
	return b
}

func TestSealOpenRoundTrip(t *testing.T) {
	box := newBox(t, testKey(1))
	for _, pt := range [][]byte{[]byte("cs_live_0123456789abcdef"), {}, bytes.Repeat([]byte{0, 255}, 5000)} {
		sealed, err := box.Seal(pt, "int_1")
		if err != nil {
			t.Fatalf("Seal: %v", err)
		}
		if !strings.HasPrefix(sealed, "v1:") {
			t.Fatalf("sealed %q lacks v1: prefix", sealed)
		}
		got, err := box.Open(sealed, "int_1")
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		if !bytes.Equal(got, pt) {
			t.Fatalf("round trip: got %q, want %q", got, pt)
		}
	}
}

func TestSealIsRandomized(t *testing.T) {
	box := newBox(t, testKey(1))
	a, _ := box.Seal([]byte("same"), "x")
	b, _ := box.Seal([]byte("same"), "x")
	if a == b {
		t.Fatal("two seals of the same plaintext are equal; nonce is not random")
	}
}

func TestOpenRefusesWrongAAD(t *testing.T) {
	box := newBox(t, testKey(1))
	sealed, _ := box.Seal([]byte("secret"), "int_1")
	if _, err := box.Open(sealed, "int_2"); !errors.Is(err, ErrDecrypt) {
		t.Fatalf("Open with another aad: err = %v, want ErrDecrypt", err)
	}
}

func TestOpenRefusesWrongKey(t *testing.T) {
	sealed, _ := newBox(t, testKey(1)).Seal([]byte("secret"), "int_1")
	if _, err := newBox(t, testKey(2)).Open(sealed, "int_1"); !errors.Is(err, ErrDecrypt) {
		t.Fatalf("Open with another key: err = %v, want ErrDecrypt", err)
	}
}

func TestOpenRefusesTampered(t *testing.T) {
	box := newBox(t, testKey(1))
	sealed, _ := box.Seal([]byte("secret value"), "int_1")
	raw, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(sealed, "v1:"))
	for i := range raw {
		c := bytes.Clone(raw)
		c[i] ^= 0x01
		if _, err := box.Open("v1:"+base64.StdEncoding.EncodeToString(c), "int_1"); !errors.Is(err, ErrDecrypt) {
			t.Fatalf("flipped byte %d: err = %v, want ErrDecrypt", i, err)
		}
	}
	if _, err := box.Open("v1:"+base64.StdEncoding.EncodeToString(raw[:len(raw)-1]), "int_1"); !errors.Is(err, ErrDecrypt) {
		t.Fatalf("truncated: err = %v, want ErrDecrypt", err)
	}
}

func TestOpenRefusesMalformed(t *testing.T) {
	box := newBox(t, testKey(1))
	for _, s := range []string{"", "secret", "v2:AAAA", "v1:!!!", "v1:AAAA"} {
		if _, err := box.Open(s, "x"); !errors.Is(err, ErrMalformed) {
			t.Errorf("Open(%q): err = %v, want ErrMalformed", s, err)
		}
	}
}

func TestPlaintextNeverInSealedOutput(t *testing.T) {
	box := newBox(t, testKey(1))
	pt := "cs_a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0"
	sealed, err := box.SealJSON(map[string]string{"consumer_secret": pt}, "int_1")
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(sealed, "v1:"))
	for _, hay := range [][]byte{[]byte(sealed), raw} {
		if bytes.Contains(hay, []byte(pt)) || bytes.Contains(hay, []byte("consumer_secret")) {
			t.Fatal("plaintext appears in the sealed output")
		}
	}
	if strings.Contains(sealed, base64.StdEncoding.EncodeToString([]byte(pt))[:20]) {
		t.Fatal("base64 of the plaintext appears in the sealed output")
	}
}

func TestSealJSONRoundTrip(t *testing.T) {
	box := newBox(t, testKey(3))
	in := map[string]string{"consumer_key": "ck_1", "consumer_secret": "cs_2", "url": "https://shop.example"}
	sealed, err := box.SealJSON(in, "int_9")
	if err != nil {
		t.Fatal(err)
	}
	out, err := box.OpenJSON(sealed, "int_9")
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != len(in) {
		t.Fatalf("got %v, want %v", out, in)
	}
	for k, v := range in {
		if out[k] != v {
			t.Fatalf("key %s: got %q, want %q", k, out[k], v)
		}
	}
	if _, err := box.OpenJSON(sealed, "int_8"); !errors.Is(err, ErrDecrypt) {
		t.Fatalf("OpenJSON with another aad: %v", err)
	}
	empty, _ := box.SealJSON(nil, "a")
	if m, err := box.OpenJSON(empty, "a"); err != nil || len(m) != 0 {
		t.Fatalf("nil map round trip: %v %v", m, err)
	}
}

func TestNewBoxKeySize(t *testing.T) {
	for _, n := range []int{0, 16, 31, 33, 64} {
		if _, err := NewBox(make([]byte, n)); err == nil {
			t.Errorf("NewBox with %d bytes: no error", n)
		}
	}
}

func TestLoadOrCreateKeyConfigured(t *testing.T) {
	want := testKey(7)
	dir := t.TempDir()
	for _, s := range []string{
		hex.EncodeToString(want),
		strings.ToUpper(hex.EncodeToString(want)),
		base64.StdEncoding.EncodeToString(want),
		base64.RawStdEncoding.EncodeToString(want),
		base64.URLEncoding.EncodeToString(want),
		base64.RawURLEncoding.EncodeToString(want),
		"  " + hex.EncodeToString(want) + "\n",
	} {
		key, created, err := LoadOrCreateKey(dir, s)
		if err != nil {
			t.Fatalf("LoadOrCreateKey(%q): %v", s, err)
		}
		if created || !bytes.Equal(key, want) {
			t.Fatalf("LoadOrCreateKey(%q) = %x, %v", s, key, created)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, KeyFileName)); err == nil {
		t.Fatal("a configured key must not write a key file")
	}
}

func TestLoadOrCreateKeyConfiguredInvalid(t *testing.T) {
	bad := []string{
		"tooshort",
		hex.EncodeToString(make([]byte, 16)),
		base64.StdEncoding.EncodeToString(make([]byte, 24)),
		strings.Repeat("z", 64),
	}
	for _, s := range bad {
		_, _, err := LoadOrCreateKey(t.TempDir(), s)
		if err == nil {
			t.Fatalf("LoadOrCreateKey(%q): no error", s)
		}
		if !strings.Contains(err.Error(), "--secret-key") {
			t.Errorf("error %q does not name --secret-key", err)
		}
		if strings.Contains(err.Error(), s) {
			t.Errorf("error %q repeats the secret value", err)
		}
	}
}

func TestLoadOrCreateKeyFileCreatedAndReused(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	key1, created, err := LoadOrCreateKey(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	if !created || len(key1) != KeySize {
		t.Fatalf("first call: created=%v len=%d", created, len(key1))
	}
	path := filepath.Join(dir, KeyFileName)
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS != "windows" && st.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v, want 0600", st.Mode().Perm())
	}
	key2, created, err := LoadOrCreateKey(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	if created || !bytes.Equal(key1, key2) {
		t.Fatalf("second call: created=%v, same key=%v", created, bytes.Equal(key1, key2))
	}
	// The key in the file opens what the first key sealed.
	sealed, _ := newBox(t, key1).Seal([]byte("x"), "a")
	if _, err := newBox(t, key2).Open(sealed, "a"); err != nil {
		t.Fatal(err)
	}
}

func TestLoadOrCreateKeyBadFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, KeyFileName)
	if err := os.WriteFile(path, []byte("garbage\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, _, err := LoadOrCreateKey(dir, "")
	if err == nil || !strings.Contains(err.Error(), path) {
		t.Fatalf("err = %v, want an error naming %s", err, path)
	}
	// The bad file is left for the operator, never replaced by a new key.
	b, _ := os.ReadFile(path)
	if string(b) != "garbage\n" {
		t.Fatal("bad key file was overwritten")
	}
}

func TestLoadOrCreateKeyNoDir(t *testing.T) {
	if _, _, err := LoadOrCreateKey("", ""); err == nil {
		t.Fatal("no error without key and data dir")
	}
}

func BenchmarkSeal(b *testing.B) {
	box := newBox(b, testKey(1))
	pt := []byte(`{"consumer_key":"ck_0123456789","consumer_secret":"cs_0123456789abcdef"}`)
	for b.Loop() {
		if _, err := box.Seal(pt, "int_1"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkOpen(b *testing.B) {
	box := newBox(b, testKey(1))
	sealed, _ := box.Seal([]byte(`{"consumer_key":"ck_0123456789","consumer_secret":"cs_0123456789abcdef"}`), "int_1")
	for b.Loop() {
		if _, err := box.Open(sealed, "int_1"); err != nil {
			b.Fatal(err)
		}
	}
}
