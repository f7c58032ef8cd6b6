// Package secrets encrypts what posbridge keeps secret at rest (provider credentials, webhook
// secrets) with AES-256-GCM under one installation key, bound to the row it belongs to through
// the additional authenticated data, and loads or creates that key.
package secrets

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// KeySize is the size of the installation key in bytes (AES-256).
const KeySize = 32

// KeyFileName is the file in the data directory that holds the generated key.
const KeyFileName = "secret.key"

// sealedPrefix marks the format of sealed values: "v1:" + base64(nonce | ciphertext | tag).
const sealedPrefix = "v1:"

var (
	// ErrMalformed is returned by Open for a value that is not a sealed value of this package.
	ErrMalformed = errors.New("secrets: malformed sealed value")
	// ErrDecrypt is returned by Open when the value does not authenticate: another key, another
	// aad (the value was moved to another row) or tampered bytes. GCM cannot tell these apart.
	ErrDecrypt = errors.New("secrets: sealed value does not authenticate (wrong key, wrong row or tampered)")
)

// LoadOrCreateKey returns the installation key. configured is the --secret-key flag
// (POSBRIDGE_SECRET_KEY): 64 hex characters, or standard or URL base64 (padded or not) of 32
// bytes. When configured is empty the key is read from dataDir/secret.key, or generated and
// written there with mode 0600; created then tells the caller to log that it made a new key
// (and that losing the file makes every stored secret unreadable).
func LoadOrCreateKey(dataDir string, configured string) (key []byte, created bool, err error) {
	if s := strings.TrimSpace(configured); s != "" {
		key, err := ParseKey(s)
		if err != nil {
			return nil, false, fmt.Errorf("--secret-key (POSBRIDGE_SECRET_KEY): %w", err)
		}
		return key, false, nil
	}
	if dataDir == "" {
		return nil, false, errors.New("secret key: no --secret-key given and no data directory to keep a key file in")
	}
	path := filepath.Join(dataDir, KeyFileName)
	key, err = readKeyFile(path)
	if err == nil {
		return key, false, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, false, err
	}

	key = make([]byte, KeySize)
	if _, err := rand.Read(key); err != nil {
		return nil, false, fmt.Errorf("generate secret key: %w", err)
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, false, fmt.Errorf("create data directory for the secret key: %w", err)
	}
	// O_EXCL: when two processes start at once on one data directory, the loser reads the
	// winner's key instead of overwriting it.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		key, err = readKeyFile(path)
		return key, false, err
	}
	if err != nil {
		return nil, false, fmt.Errorf("create secret key file %s: %w", path, err)
	}
	_, werr := f.WriteString(hex.EncodeToString(key) + "\n")
	if werr == nil {
		werr = f.Sync()
	}
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		_ = os.Remove(path)
		return nil, false, fmt.Errorf("write secret key file %s: %w", path, werr)
	}
	return key, true, nil
}

func readKeyFile(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		return nil, fmt.Errorf("read secret key file %s: %w", path, err)
	}
	key, err := ParseKey(string(bytes.TrimSpace(b)))
	if err != nil {
		return nil, fmt.Errorf("secret key file %s: %w", path, err)
	}
	return key, nil
}

// ParseKey decodes a key written as 64 hex characters or as standard or URL base64 (padded or
// not) of 32 bytes. The error never repeats the value.
func ParseKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if len(s) == 2*KeySize {
		if key, err := hex.DecodeString(s); err == nil {
			return key, nil
		}
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if key, err := enc.DecodeString(s); err == nil && len(key) == KeySize {
			return key, nil
		}
	}
	return nil, fmt.Errorf("want 64 hex characters or base64 of %d bytes, got %d characters that are neither (generate one with: openssl rand -hex 32)", KeySize, len(s))
}

// Box seals and opens values with one key. It is safe for concurrent use.
type Box struct {
	aead cipher.AEAD
}

// NewBox returns a Box for a 32-byte key.
func NewBox(key []byte) (*Box, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("secrets: key is %d bytes, want %d", len(key), KeySize)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("secrets: aes cipher: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("secrets: gcm: %w", err)
	}
	return &Box{aead: aead}, nil
}

// Seal encrypts plaintext bound to aad (pass the id of the row that stores the value, e.g. the
// integration id, so a sealed value copied to another row does not open) and returns
// "v1:" + base64(nonce | ciphertext).
func (b *Box) Seal(plaintext []byte, aad string) (string, error) {
	ns := b.aead.NonceSize()
	buf := make([]byte, ns, ns+len(plaintext)+b.aead.Overhead())
	if _, err := rand.Read(buf); err != nil {
		return "", fmt.Errorf("secrets: nonce: %w", err)
	}
	buf = b.aead.Seal(buf, buf[:ns], plaintext, []byte(aad))
	return sealedPrefix + base64.StdEncoding.EncodeToString(buf), nil
}

// Open decrypts a value made by Seal with the same key and aad. It returns ErrMalformed for a
// value of another format and ErrDecrypt when the value does not authenticate.
func (b *Box) Open(sealed, aad string) ([]byte, error) {
	rest, ok := strings.CutPrefix(sealed, sealedPrefix)
	if !ok {
		return nil, fmt.Errorf("%w: missing %q prefix", ErrMalformed, sealedPrefix)
	}
	raw, err := base64.StdEncoding.DecodeString(rest)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	ns := b.aead.NonceSize()
	if len(raw) < ns+b.aead.Overhead() {
		return nil, fmt.Errorf("%w: %d bytes is too short", ErrMalformed, len(raw))
	}
	pt, err := b.aead.Open(nil, raw[:ns], raw[ns:], []byte(aad))
	if err != nil {
		return nil, ErrDecrypt
	}
	return pt, nil
}

// SealJSON seals a map of strings (credentials) as JSON.
func (b *Box) SealJSON(m map[string]string, aad string) (string, error) {
	if m == nil {
		m = map[string]string{}
	}
	js, err := json.Marshal(m)
	if err != nil {
		return "", fmt.Errorf("secrets: encode map: %w", err)
	}
	return b.Seal(js, aad)
}

// OpenJSON opens a value made by SealJSON.
func (b *Box) OpenJSON(sealed, aad string) (map[string]string, error) {
	js, err := b.Open(sealed, aad)
	if err != nil {
		return nil, err
	}
	m := map[string]string{}
	if err := json.Unmarshal(js, &m); err != nil {
		return nil, fmt.Errorf("secrets: decode map: %w", err)
	}
	return m, nil
}
