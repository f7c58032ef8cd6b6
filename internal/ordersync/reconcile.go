package ordersync

import (
	"context"
	"time"

	"github.com/riverqueue/river"

	"github.com/posbridge/posbridge/internal/circuit"
	"github.com/posbridge/posbridge/internal/connector"
	"github.com/posbridge/posbridge/internal/domain"
	"github.com/posbridge/posbridge/internal/store"
)

// ReconcileArgs is the periodic poll that reaches the state webhooks would have brought: some
// providers say their webhooks are not guaranteed (Lightspeed), and any delivery can be lost.
type ReconcileArgs struct{}

// Kind implements river.JobArgs.
func (ReconcileArgs) Kind() string { return "reconcile_orders" }

// PeriodicJobs are the engine's periodic jobs: the reconciliation poll every interval.
func (s *Service) PeriodicJobs(every time.Duration) []*river.PeriodicJob {
	return []*river.PeriodicJob{river.NewPeriodicJob(river.PeriodicInterval(every),
		func() (river.JobArgs, *river.InsertOpts) {
			return ReconcileArgs{}, &river.InsertOpts{UniqueOpts: river.UniqueOpts{ByPeriod: max(every, time.Second)}}
		}, nil)}
}

type reconcileWorker struct {
	river.WorkerDefaults[ReconcileArgs]
	s *Service
}

// Work reads the POS state of open orders and applies completions the webhooks did not bring;
// an order that no longer carries its document's reference completes nothing and marks the
// document failed.
func (w *reconcileWorker) Work(ctx context.Context, _ *river.Job[ReconcileArgs]) error {
	s := w.s
	if err := s.sweepWebhookEvents(ctx); err != nil {
		return err
	}
	docs, err := s.st.OpenOrderDocuments(ctx, 200)
	if err != nil {
		return err
	}
	conns := map[string]connector.OrderSink{}
	for _, d := range docs {
		sink, ok := conns[d.Sync.IntegrationID]
		if !ok {
			sink = s.orderSink(ctx, d)
			conns[d.Sync.IntegrationID] = sink
		}
		if sink == nil {
			continue
		}
		// One hanging POS must not hold this run for the others: an integration whose circuit
		// is open (or whose calls are at their cap) waits for the next run, and so does the rest
		// of an integration after one call of this run timed out or failed.
		call, err := s.Circuit.Acquire(ctx, d.AccountID, d.Sync.IntegrationID)
		if err != nil {
			if circuit.AsWait(err) == nil {
				s.log.Error("reconcile: circuit", "integration", d.Sync.IntegrationID, "err", err)
			}
			conns[d.Sync.IntegrationID] = nil
			continue
		}
		o, err := ownedOrder(ctx, sink, d)
		if derr := call.Done(ctx, err); derr != nil {
			s.log.Error("record provider call outcome", "integration", d.Sync.IntegrationID, "err", derr)
		}
		if outcome, _ := circuit.Classify(err); outcome == circuit.Failure {
			conns[d.Sync.IntegrationID] = nil
		}
		if isNotLinked(err) {
			// The POS lost the order or gave it to another document: the merchant sees it
			// (failed, Send as new) instead of a link that no longer holds.
			if err := s.markNotLinked(ctx, d, d.Sync.ExternalID, err); err != nil {
				return err
			}
			continue
		}
		if err != nil {
			s.log.Info("reconcile: read order", "order", d.Sync.ExternalID, "err", err)
			continue
		}
		if o.State == domain.OrderCompleted {
			if _, err := s.Complete(ctx, d); err != nil {
				return err
			}
		}
	}
	return nil
}

// orderSink opens the order capability of the document's integration, or nil when it has none
// or gets no scheduled work.
func (s *Service) orderSink(ctx context.Context, d domain.Document) connector.OrderSink {
	i, err := s.con.Get(ctx, d.AccountID, d.Sync.IntegrationID)
	if err != nil || !i.Status.Scheduled() {
		return nil
	}
	c, err := s.con.Connector(ctx, i)
	if err != nil {
		return nil
	}
	sink, err := connector.As[connector.OrderSink](c, domain.CapOrders)
	if err != nil {
		return nil
	}
	return sink
}

// sweepWebhookEvents enqueues the apply job of every integration with an inbound webhook event
// waiting for more than a minute: its job was lost (River discards a job rescued from crashed
// processes too often, and an operator may cancel one), and nothing else would enqueue one: the
// intake skips the insert while the integration's drain is recorded open (webhook_drains), and
// the job's last look is what closes it. The job is unique per integration, so one that exists
// is left alone.
func (s *Service) sweepWebhookEvents(ctx context.Context) error {
	stale, err := s.st.IntegrationsWithStaleWebhookEvents(ctx, s.now().Add(-time.Minute), 100)
	if err != nil || len(stale) == 0 {
		return err
	}
	return s.st.InTx(ctx, func(tx *store.Tx) error {
		for _, p := range stale {
			if err := s.q.InsertTx(ctx, tx, ApplyArgs{AccountID: p.AccountID, IntegrationID: p.IntegrationID}, applyOpts); err != nil {
				return err
			}
		}
		return nil
	})
}
