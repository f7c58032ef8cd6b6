package app

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"time"

	"github.com/posbridge/posbridge/internal/secrets"
	"github.com/posbridge/posbridge/internal/store"
)

// sandboxPersister keeps the Sandbox POS's tenants in the database, so its orders survive a
// restart. Tenants are keyed by a hash of their API key and their state is encrypted: the
// key a merchant typed never lands on disk.
type sandboxPersister struct {
	st  *store.Store
	box *secrets.Box
}

func keyHash(apiKey string) string {
	h := sha256.Sum256([]byte("sandbox:" + apiKey))
	return hex.EncodeToString(h[:])
}

func (p *sandboxPersister) Load(ctx context.Context, apiKey string) ([]byte, bool, error) {
	kh := keyHash(apiKey)
	sealed, found, err := p.st.LoadSandboxState(ctx, kh)
	if err != nil || !found {
		return nil, false, err
	}
	b, err := p.box.Open(sealed, "sandbox/"+kh)
	return b, err == nil, err
}

func (p *sandboxPersister) Save(ctx context.Context, apiKey string, state []byte) error {
	kh := keyHash(apiKey)
	sealed, err := p.box.Seal(state, "sandbox/"+kh)
	if err != nil {
		return err
	}
	return p.st.SaveSandboxState(ctx, kh, sealed, time.Now())
}
