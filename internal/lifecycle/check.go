package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/riverqueue/river"

	"github.com/posbridge/posbridge/internal/connector"
	"github.com/posbridge/posbridge/internal/domain"
	"github.com/posbridge/posbridge/internal/store"
)

// Check calls the provider now (verify credentials, load stores) and records the outcome in the
// status machine. Called-off and inactive integrations answer 409 (called_off / inactive).
func (s *Service) Check(ctx context.Context, accountID, actor, id string) (domain.Integration, error) {
	i, err := s.Get(ctx, accountID, id)
	if err != nil {
		return i, err
	}
	if err := i.CheckAllowed(); err != nil {
		return i, err
	}
	return s.check(ctx, i, actor)
}

// Connector opens a connector for an integration with its decrypted credentials.
func (s *Service) Connector(ctx context.Context, i domain.Integration) (connector.Connector, error) {
	return s.conns.Connector(ctx, i)
}

// probe makes the check's provider calls and says how they went.
func (s *Service) probe(ctx context.Context, i domain.Integration) ([]domain.Store, error) {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.CheckTimeout)
	defer cancel()
	c, err := s.Connector(ctx, i)
	if err != nil {
		return nil, err
	}
	if err := c.Verify(ctx); err != nil {
		return nil, fmt.Errorf("verify credentials: %w", err)
	}
	stores, err := c.Stores(ctx)
	if err != nil {
		return nil, fmt.Errorf("load stores: %w", err)
	}
	return stores, nil
}

func (s *Service) check(ctx context.Context, before domain.Integration, actor string) (domain.Integration, error) {
	stores, perr := s.probe(ctx, before)
	if s.CheckObserver != nil {
		s.CheckObserver(ctx, before.AccountID, before.ID, perr)
	}
	kind := connector.KindOf(perr)
	outcome := domain.CheckOutcome{OK: perr == nil}
	if perr != nil {
		outcome.Message = connector.Message(perr)
		outcome.CredentialsRejected = kind == connector.KindCredentials
	}
	label := "ok"
	switch {
	case perr == nil:
	case kind == connector.KindRateLimited:
		label = "rate_limited"
	default:
		label = "failed"
	}
	s.checks.WithLabelValues(before.Type, label).Inc()
	if perr == nil && before.Status.Scheduled() {
		// Subscribe before the check records the integration healthy: once it reads healthy,
		// the POS's webhooks are set up (or the timeline says why not), and no call of the
		// subscription is still to come.
		s.subscribe(ctx, before)
	}
	var result domain.Integration
	err := s.st.InTx(ctx, func(tx *store.Tx) error {
		i, err := s.lock(ctx, tx, before.AccountID, before.ID)
		if err != nil {
			return err
		}
		if !i.Status.Scheduled() {
			result = i // deactivated or called off while the call was out: nothing to record
			return nil
		}
		now := s.now()
		next := now.Add(s.jitter(s.cfg.CheckInterval))
		if kind == connector.KindRateLimited && perr != nil {
			// The provider is there and asks us to wait: not a failure of the integration.
			var ce *connector.Error
			if errors.As(perr, &ce) && ce.RetryAfter > 0 {
				next = now.Add(ce.RetryAfter)
			}
			i.NextCheckAt, i.UpdatedAt = &next, now
			if err := tx.UpdateIntegration(ctx, i); err != nil {
				return err
			}
			result = i
			return s.timeline(ctx, tx, i, actor, domain.KindIntegrationChecked, "Check postponed: the POS asked to slow down ("+outcome.Message+")")
		}
		t := i.ApplyCheck(outcome, s.cfg.CallOffAfter, now)
		i.NextCheckAt, i.UpdatedAt = &next, now
		if i.Status == domain.StatusCalledOff {
			i.NextCheckAt = nil
		}
		if outcome.OK {
			if err := tx.ReplaceStores(ctx, i.AccountID, i.ID, stores); err != nil {
				return err
			}
			if i.StoreID == "" && len(stores) > 0 {
				i.StoreID = stores[0].ID
				if err := s.timeline(ctx, tx, i, domain.ActorSystem, domain.KindSettingsChanged,
					fmt.Sprintf("Default store set to %q; change it under Edit", stores[0].Name)); err != nil {
					return err
				}
			}
		}
		if err := tx.UpdateIntegration(ctx, i); err != nil {
			return err
		}
		msg := fmt.Sprintf("Checked the POS: OK, %d store(s)", len(stores))
		if !outcome.OK {
			msg = fmt.Sprintf("Checked the POS: failed (%d in a row): %s", i.ConsecutiveFailures, outcome.Message)
		}
		if err := s.timeline(ctx, tx, i, actor, domain.KindIntegrationChecked, msg); err != nil {
			return err
		}
		result = i
		return s.recordTransition(ctx, tx, i, actor, t)
	})
	if perr != nil && err == nil {
		s.log.Info("integration check failed", "integration", before.ID, "type", before.Type, "kind", kind.String(), "status", result.Status)
	}
	return result, err
}

func (s *Service) jitter(d time.Duration) time.Duration {
	spread := int64(d) / 10
	if spread <= 0 {
		return d
	}
	return d - time.Duration(spread) + time.Duration(rand.Int64N(2*spread))
}

// ScheduleArgs is the periodic sweep that enqueues due checks.
type ScheduleArgs struct{}

// Kind implements river.JobArgs.
func (ScheduleArgs) Kind() string { return "schedule_checks" }

// PeriodicJobs are the lifecycle's periodic River jobs: a sweep every interval that enqueues a
// check for each integration whose next check is due (their times are spread by jitter).
func (s *Service) PeriodicJobs(sweep time.Duration) []*river.PeriodicJob {
	return []*river.PeriodicJob{river.NewPeriodicJob(river.PeriodicInterval(sweep),
		func() (river.JobArgs, *river.InsertOpts) {
			return ScheduleArgs{}, &river.InsertOpts{UniqueOpts: river.UniqueOpts{ByPeriod: max(sweep, time.Second)}}
		}, &river.PeriodicJobOpts{RunOnStart: true})}
}

// Register adds the lifecycle's workers.
func (s *Service) Register(w *river.Workers) {
	river.AddWorker(w, &checkWorker{s: s})
	river.AddWorker(w, &scheduleWorker{s: s})
}

type checkWorker struct {
	river.WorkerDefaults[CheckArgs]
	s *Service
}

func (w *checkWorker) Work(ctx context.Context, job *river.Job[CheckArgs]) error {
	i, err := w.s.Get(ctx, job.Args.AccountID, job.Args.IntegrationID)
	if domain.IsCode(err, domain.CodeNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if !i.Status.Scheduled() {
		return nil // called off or inactive: no scheduled work
	}
	_, err = w.s.check(ctx, i, domain.ActorSystem)
	return err
}

type scheduleWorker struct {
	river.WorkerDefaults[ScheduleArgs]
	s *Service
}

func (w *scheduleWorker) Work(ctx context.Context, _ *river.Job[ScheduleArgs]) error {
	s := w.s
	if _, err := s.st.DeleteExpiredSessions(ctx, s.now()); err != nil {
		return fmt.Errorf("purge expired sessions: %w", err)
	}
	due, err := s.st.DueIntegrations(ctx, s.now(), 1000)
	if err != nil {
		return err
	}
	for _, i := range due {
		err := s.st.InTx(ctx, func(tx *store.Tx) error {
			// Push the mark forward so the next sweep does not enqueue it again; the check sets
			// the precise next time when it runs.
			claimed, err := tx.ClaimDueCheck(ctx, i.AccountID, i.ID, s.now(), s.now().Add(s.cfg.CheckInterval))
			if err != nil || !claimed {
				return err
			}
			return s.enqueueCheck(ctx, tx, i)
		})
		if err != nil {
			return fmt.Errorf("schedule check of %s: %w", i.ID, err)
		}
	}
	return nil
}

// WebhookSecret is the secret the integration's inbound webhooks are signed with.
func (s *Service) WebhookSecret(ctx context.Context, i domain.Integration) (string, error) {
	return s.conns.WebhookSecret(ctx, i)
}

// HookURL is where the provider posts the integration's webhooks.
func (s *Service) HookURL(id string) string {
	base := s.cfg.HookBaseURL
	if base == "" {
		base = s.cfg.SelfURL
	}
	return strings.TrimRight(base, "/") + "/hooks/" + id
}

// subscribe asks the provider to send the integration's webhooks to posbridge, once.
func (s *Service) subscribe(ctx context.Context, i domain.Integration) {
	p := s.providers[i.Type]
	if !p.Has(domain.CapWebhooks) {
		return
	}
	sub, err := s.st.WebhookSubscription(ctx, i.AccountID, i.ID)
	if err != nil || sub != "" {
		return
	}
	c, err := s.Connector(ctx, i)
	if err != nil {
		return
	}
	ws, ok := c.(connector.WebhookSubscriber)
	if !ok {
		return
	}
	var id string
	var record func() error
	if ks, issues := c.(connector.KeyIssuingSubscriber); issues {
		// The provider makes the key: keep it, sealed, with the subscription.
		var key string
		id, key, err = ks.SubscribeIssuingKey(ctx, s.HookURL(i.ID), nil)
		record = func() error {
			if key == "" {
				return s.st.SetWebhookSubscription(ctx, i.AccountID, i.ID, id)
			}
			sealed, err := s.box.Seal([]byte(key), i.ID+"/webhook")
			if err != nil {
				return err
			}
			return s.st.SetIssuedWebhookSubscription(ctx, i.AccountID, i.ID, id, sealed)
		}
	} else {
		secret, serr := s.WebhookSecret(ctx, i)
		if serr != nil {
			return
		}
		id, err = ws.Subscribe(ctx, s.HookURL(i.ID), secret, nil)
		record = func() error { return s.st.SetWebhookSubscription(ctx, i.AccountID, i.ID, id) }
	}
	msg := "Subscribed to the POS's webhooks at " + s.HookURL(i.ID)
	if err != nil {
		msg = "Could not subscribe to the POS's webhooks (changes are still found by polling): " + connector.Message(err)
	} else if err := record(); err != nil {
		s.log.Error("record webhook subscription", "integration", i.ID, "err", err)
		return
	}
	_ = s.st.AddTimeline(ctx, domain.TimelineEntry{AccountID: i.AccountID, At: s.now(), Kind: domain.KindSettingsChanged,
		IntegrationID: i.ID, Actor: domain.ActorSystem, Message: msg})
}
