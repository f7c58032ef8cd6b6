package backoffice

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/posbridge/posbridge/internal/access"
	"github.com/posbridge/posbridge/internal/domain"
	"github.com/posbridge/posbridge/internal/store"
)

// MaxPublishDelay is the longest publish delay an account may set.
const MaxPublishDelay = time.Hour

// AccountSettings are an account's back-office settings as the API shows them.
type AccountSettings struct {
	// PublishDelaySeconds is how long after Save and Publish the store's terminals and POS
	// integrations get the version.
	PublishDelaySeconds int `json:"publish_delay_seconds"`
	// Default tells that the account has not set it and the server's default applies.
	Default   bool       `json:"default"`
	UpdatedAt *time.Time `json:"updated_at"`
	UpdatedBy string     `json:"updated_by"`
}

// GetSettings reads the account's back-office settings; unset, the server's default delay.
func (s *Service) GetSettings(ctx context.Context, p access.Principal) (AccountSettings, error) {
	b, err := s.st.GetBackOfficeSettings(ctx, p.AccountID)
	if errors.Is(err, store.ErrNotFound) {
		return AccountSettings{PublishDelaySeconds: int(s.Delay / time.Second), Default: true}, nil
	}
	if err != nil {
		return AccountSettings{}, fmt.Errorf("read back-office settings: %w", err)
	}
	return AccountSettings{PublishDelaySeconds: b.PublishDelaySeconds, UpdatedAt: &b.UpdatedAt, UpdatedBy: b.UpdatedBy}, nil
}

// SaveSettings sets the account's publish delay (0 to MaxPublishDelay seconds); versions
// published before keep the time they were given.
func (s *Service) SaveSettings(ctx context.Context, p access.Principal, delaySeconds int) (AccountSettings, error) {
	if err := p.Require(domain.PermEditBackOffice); err != nil {
		return AccountSettings{}, err
	}
	if delaySeconds < 0 || delaySeconds > int(MaxPublishDelay/time.Second) {
		return AccountSettings{}, domain.Invalid("publish_delay_seconds", "publish_delay_seconds must be 0 to %d seconds", int(MaxPublishDelay/time.Second))
	}
	now := s.now()
	err := s.st.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.PutBackOfficeSettings(ctx, p.AccountID, store.BackOfficeSettings{PublishDelaySeconds: delaySeconds, UpdatedAt: now, UpdatedBy: p.Actor}); err != nil {
			return err
		}
		return tx.AddTimeline(ctx, domain.TimelineEntry{AccountID: p.AccountID, At: now, Kind: "back_office.settings_changed", Actor: p.Actor,
			Message: fmt.Sprintf("Back office publish delay set to %d seconds", delaySeconds)})
	})
	if err != nil {
		return AccountSettings{}, fmt.Errorf("save back-office settings: %w", err)
	}
	return s.GetSettings(ctx, p)
}

// delay is the account's publish delay.
func (s *Service) delay(ctx context.Context, tx *store.Tx, accountID string) (time.Duration, error) {
	b, err := tx.GetBackOfficeSettings(ctx, accountID)
	if errors.Is(err, store.ErrNotFound) {
		return s.Delay, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read the publish delay: %w", err)
	}
	return time.Duration(b.PublishDelaySeconds) * time.Second, nil
}
