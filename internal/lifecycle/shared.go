package lifecycle

import (
	"context"

	"github.com/posbridge/posbridge/internal/domain"
	"github.com/posbridge/posbridge/internal/store"
)

// RecordTransition writes a status change made by a service beside the lifecycle (a sales
// fetch, say) the way the lifecycle's own checks do: timeline, metrics, the app's
// integration.status_changed webhook and, when called off, the email to the admins.
func (s *Service) RecordTransition(ctx context.Context, tx *store.Tx, i domain.Integration, actor string, t *domain.Transition) error {
	return s.recordTransition(ctx, tx, i, actor, t)
}

// CallOffAfter is how many consecutive failures call an integration off.
func (s *Service) CallOffAfter() int { return s.cfg.CallOffAfter }
