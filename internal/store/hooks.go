package store

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Inbound webhook intake at volume: the receiving side stores the events of many requests in one
// transaction (IntakeWebhookEvents), and one apply job per integration drains what is pending in
// arrival order (PendingWebhookEvents, FinishWebhookEvents). The two meet under a per-integration
// lock (shared for intake, exclusive for the drain's last look, LockWebhookDrain) so that a drain
// that found nothing and completes its job cannot miss events committed meanwhile: either it sees
// them, or it completed before their transaction enqueued the next job.

// IntakeWebhookEvents stores events in the transaction it is called in, skipping any whose
// (integration, provider event id) is stored already, takes the shared intake lock of every
// integration among them and then reads which of those integrations have an open drain (as
// OpenWebhookDrains). It reports, event by event, whether it was new, and the open drains. The
// events must not repeat a (integration, provider event id) pair among themselves. On
// PostgreSQL it is one round trip (behind the transaction's BEGIN when it is its first statement).
func (s queries) IntakeWebhookEvents(ctx context.Context, evs []WebhookEvent) ([]bool, map[string]bool, error) {
	fresh := make([]bool, len(evs))
	if len(evs) == 0 {
		return fresh, map[string]bool{}, nil
	}
	if s.dialect != Postgres {
		// In-process database and one writer: the prepared one-row insert, once per event, is
		// as fast as any multi-row form, and the write lock the transaction holds is the lock.
		var integrations []string
		seen := map[string]bool{}
		for k, e := range evs {
			n, err := s.q.exec(ctx, insertWebhookEvent,
				e.ID, e.AccountID, e.IntegrationID, e.ProviderEventID, e.Type, e.Topic, e.ObjectID, string(e.Status), e.Reason, e.Payload, micros(e.ReceivedAt))
			if err != nil {
				return nil, nil, fmt.Errorf("store webhook event: %w", err)
			}
			fresh[k] = n == 1
			if !seen[e.IntegrationID] {
				seen[e.IntegrationID] = true
				integrations = append(integrations, e.IntegrationID)
			}
		}
		open, err := s.OpenWebhookDrains(ctx, integrations)
		if err != nil {
			return nil, nil, err
		}
		return fresh, open, nil
	}
	n := len(evs)
	ids, accts, ints, peids, types, topics, objs, sts, reasons, payloads := make([]string, n), make([]string, n), make([]string, n),
		make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	recv := make([]int64, n)
	index := make(map[string]int, n)
	seen := map[string]bool{}
	var integrations []string
	for k, e := range evs {
		ids[k], accts[k], ints[k], peids[k], types[k], topics[k], objs[k], sts[k], reasons[k], payloads[k], recv[k] =
			e.ID, e.AccountID, e.IntegrationID, e.ProviderEventID, e.Type, e.Topic, e.ObjectID, string(e.Status), e.Reason, e.Payload, micros(e.ReceivedAt)
		index[e.ID] = k
		if !seen[e.IntegrationID] {
			seen[e.IntegrationID] = true
			integrations = append(integrations, e.IntegrationID)
		}
	}
	// One round trip: the rows as arrays (one statement text whatever the count, so it stays
	// prepared), then the intake locks, then the open drains (read under the locks).
	open := map[string]bool{}
	err := s.q.batch(ctx, []step{
		{q: `INSERT INTO webhook_events (id, account_id, integration_id, provider_event_id, type, topic, object_id, status, reason, payload, received_at)
			SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::bigint[])
			ON CONFLICT (integration_id, provider_event_id) DO NOTHING RETURNING id`,
			args: []any{ids, accts, ints, peids, types, topics, objs, sts, reasons, payloads, recv},
			rows: func(rs rows) error {
				for rs.Next() {
					var id string
					if err := rs.Scan(&id); err != nil {
						return err
					}
					if k, ok := index[id]; ok {
						fresh[k] = true
					}
				}
				return rs.Err()
			}},
		{q: `SELECT pg_advisory_xact_lock_shared(hashtextextended(x, ` + hookLockSeed + `)) FROM unnest($1::text[]) AS x`,
			args: []any{integrations}},
		{q: openDrainsSQL, args: []any{integrations}, rows: func(rs rows) error { return scanOpenDrains(rs, open) }},
	})
	if err != nil {
		return nil, nil, fmt.Errorf("store webhook events: %w", err)
	}
	return fresh, open, nil
}

const openDrainsSQL = `SELECT integration_id FROM webhook_drains WHERE integration_id = ANY($1::text[])`

func scanOpenDrains(rs rows, open map[string]bool) error {
	for rs.Next() {
		var id string
		if err := rs.Scan(&id); err != nil {
			return err
		}
		open[id] = true
	}
	return rs.Err()
}

// OpenWebhookDrains tells which of the integrations have an apply job queued or running that has
// not yet made its last look (a row in webhook_drains). Read after IntakeWebhookEvents took the
// intake locks, an open drain will see this transaction's events: the intake skips its job insert.
func (s queries) OpenWebhookDrains(ctx context.Context, integrationIDs []string) (map[string]bool, error) {
	open := map[string]bool{}
	if len(integrationIDs) == 0 {
		return open, nil
	}
	q, args := openDrainsSQL, []any{integrationIDs}
	if s.dialect != Postgres {
		q, args = `SELECT integration_id FROM webhook_drains WHERE integration_id IN (SELECT value FROM json_each($1))`, []any{jsonList(integrationIDs)}
	}
	rs, err := s.q.query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("open webhook drains: %w", err)
	}
	defer rs.Close()
	if err := scanOpenDrains(rs, open); err != nil {
		return nil, fmt.Errorf("open webhook drains: %w", err)
	}
	return open, nil
}

// OpenWebhookDrain records that the integration's apply job was enqueued in this transaction.
func (s queries) OpenWebhookDrain(ctx context.Context, integrationID string) error {
	if _, err := s.q.exec(ctx, `INSERT INTO webhook_drains (integration_id) VALUES ($1) ON CONFLICT (integration_id) DO NOTHING`, integrationID); err != nil {
		return fmt.Errorf("open webhook drain of %s: %w", integrationID, err)
	}
	return nil
}

// CloseWebhookDrain records, in the transaction of the drain's last look (under
// LockWebhookDrain), that the integration's apply job completes: the next intake enqueues one.
func (s queries) CloseWebhookDrain(ctx context.Context, integrationID string) error {
	if _, err := s.q.exec(ctx, `DELETE FROM webhook_drains WHERE integration_id = $1`, integrationID); err != nil {
		return fmt.Errorf("close webhook drain of %s: %w", integrationID, err)
	}
	return nil
}

// hookLockSeed separates the webhook locks' keys from any other advisory lock's.
const hookLockSeed = "7031"

const insertWebhookEvent = `INSERT INTO webhook_events (id, account_id, integration_id, provider_event_id, type, topic, object_id, status, reason, payload, received_at)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT (integration_id, provider_event_id) DO NOTHING`

// LockWebhookDrain takes the integration's intake lock exclusively until the transaction ends:
// no intake of its events commits meanwhile. (SQLite: the transaction's write lock is it.)
func (s queries) LockWebhookDrain(ctx context.Context, integrationID string) error {
	if s.dialect != Postgres {
		return nil
	}
	if _, err := s.q.exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended($1, `+hookLockSeed+`))`, integrationID); err != nil {
		return fmt.Errorf("lock webhook intake of %s: %w", integrationID, err)
	}
	return nil
}

// PendingWebhookEvents lists up to limit of the integration's events still to be applied, oldest
// first.
func (s queries) PendingWebhookEvents(ctx context.Context, accountID, integrationID string, limit int) ([]WebhookEvent, error) {
	rs, err := s.q.query(ctx, `SELECT `+eventCols+` FROM webhook_events WHERE integration_id = $2 AND status = 'received' AND account_id = $1
		ORDER BY received_at, id LIMIT $3`, accountID, integrationID, limit)
	if err != nil {
		return nil, fmt.Errorf("pending webhook events: %w", err)
	}
	defer rs.Close()
	var out []WebhookEvent
	for rs.Next() {
		e, err := scanEvent(rs)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rs.Err()
}

// PendingWebhookEventsAfter is PendingWebhookEvents from a position on: the events after
// (afterAt, afterID) in arrival order. An apply job that continues from the last event it
// finished starts its look in the pending events' index there, instead of stepping again over
// the index entries of every event it finished: those stay in the index until a vacuum removes
// them, which a long transaction anywhere in the database holds off.
func (s queries) PendingWebhookEventsAfter(ctx context.Context, accountID, integrationID string, afterAt time.Time, afterID string, limit int) ([]WebhookEvent, error) {
	rs, err := s.q.query(ctx, `SELECT `+eventCols+` FROM webhook_events WHERE integration_id = $2 AND status = 'received' AND account_id = $1
		AND (received_at, id) > ($3, $4) ORDER BY received_at, id LIMIT $5`, accountID, integrationID, micros(afterAt), afterID, limit)
	if err != nil {
		return nil, fmt.Errorf("pending webhook events: %w", err)
	}
	defer rs.Close()
	var out []WebhookEvent
	for rs.Next() {
		e, err := scanEvent(rs)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rs.Err()
}

// HasPendingWebhookEvents tells whether the integration has an event still to be applied.
func (s queries) HasPendingWebhookEvents(ctx context.Context, accountID, integrationID string) (bool, error) {
	// The shape of PendingWebhookEvents' query, so that it too is one look into the partial
	// index webhook_events_pending (SQLite, without statistics, otherwise reads every event of
	// the integration through webhook_events_integration).
	var id string
	err := s.q.queryRow(ctx, `SELECT id FROM webhook_events WHERE integration_id = $2 AND status = 'received' AND account_id = $1
		ORDER BY received_at, id LIMIT 1`, accountID, integrationID).Scan(&id)
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("pending webhook events: %w", err)
	}
	return true, nil
}

// EventOutcome is how applying one webhook event ended.
type EventOutcome struct {
	ID     string
	Status EventStatus
	Reason string
}

// FinishWebhookEvents records how applying each event ended: one statement on PostgreSQL, the
// prepared one-row update per event on SQLite (call it in a transaction there: one commit).
func (s queries) FinishWebhookEvents(ctx context.Context, accountID string, outs []EventOutcome, now time.Time) error {
	if len(outs) == 0 {
		return nil
	}
	if s.dialect != Postgres {
		for _, o := range outs {
			if err := s.FinishWebhookEvent(ctx, accountID, o.ID, o.Status, o.Reason, now); err != nil {
				return fmt.Errorf("finish webhook event %s: %w", o.ID, err)
			}
		}
		return nil
	}
	ids, sts, reasons := make([]string, len(outs)), make([]string, len(outs)), make([]string, len(outs))
	for k, o := range outs {
		ids[k], sts[k], reasons[k] = o.ID, string(o.Status), o.Reason
	}
	_, err := s.q.exec(ctx, `UPDATE webhook_events AS w SET status = u.status, reason = u.reason, processed_at = $5
		FROM unnest($2::text[], $3::text[], $4::text[]) AS u(id, status, reason) WHERE w.account_id = $1 AND w.id = u.id`,
		accountID, ids, sts, reasons, micros(now))
	if err != nil {
		return fmt.Errorf("finish webhook events: %w", err)
	}
	return nil
}

// CountWebhookEvents counts the integration's stored events and those still to be applied.
func (s queries) CountWebhookEvents(ctx context.Context, accountID, integrationID string) (total, pending int, err error) {
	err = s.q.queryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE status = 'received') FROM webhook_events WHERE account_id = $1 AND integration_id = $2`,
		accountID, integrationID).Scan(&total, &pending)
	if err != nil {
		err = fmt.Errorf("count webhook events: %w", err)
	}
	return total, pending, err
}

// WebhookProviderEventIDs lists the provider event ids of the integration's stored events.
func (s queries) WebhookProviderEventIDs(ctx context.Context, accountID, integrationID string) ([]string, error) {
	rs, err := s.q.query(ctx, `SELECT provider_event_id FROM webhook_events WHERE account_id = $1 AND integration_id = $2`, accountID, integrationID)
	if err != nil {
		return nil, fmt.Errorf("webhook event ids: %w", err)
	}
	defer rs.Close()
	var out []string
	for rs.Next() {
		var id string
		if err := rs.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rs.Err()
}

// PendingWebhookIntegration names an integration with events waiting to be applied.
type PendingWebhookIntegration struct{ AccountID, IntegrationID string }

// IntegrationsWithStaleWebhookEvents lists (up to limit) the integrations, of any account, that
// have an event received before the time and still not applied: the apply job that should have
// drained it was lost (discarded after crashes), and the sweep enqueues another.
func (s queries) IntegrationsWithStaleWebhookEvents(ctx context.Context, before time.Time, limit int) ([]PendingWebhookIntegration, error) {
	// Grouped by integration_id, so that SQLite reads the partial index webhook_events_pending
	// (pending events only) rather than the whole table.
	rs, err := s.q.query(ctx, `SELECT integration_id, min(account_id) FROM webhook_events WHERE status = 'received' AND received_at < $1
		GROUP BY integration_id LIMIT $2`,
		micros(before), limit)
	if err != nil {
		return nil, fmt.Errorf("integrations with stale webhook events: %w", err)
	}
	defer rs.Close()
	var out []PendingWebhookIntegration
	for rs.Next() {
		var p PendingWebhookIntegration
		if err := rs.Scan(&p.IntegrationID, &p.AccountID); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rs.Err()
}

// EventStatus is how far applying a stored webhook event got. The queries of webhook_events
// (and its partial index of pending events) spell EventReceived as the literal 'received'.
type EventStatus string

// Webhook event statuses.
const (
	EventReceived  EventStatus = "received"  // stored, waiting to be applied
	EventProcessed EventStatus = "processed" // its effect is done (Reason says what)
	EventIgnored   EventStatus = "ignored"   // nothing to do (Reason says why)
	EventFailed    EventStatus = "failed"    // applying it failed (Reason has the error)
)

// WebhookEvent is an inbound provider webhook event as stored ("View Webhook").
type WebhookEvent struct {
	ID              string
	AccountID       string
	IntegrationID   string
	ProviderEventID string
	Type            string
	Topic           string
	ObjectID        string
	Status          EventStatus
	Reason          string
	Payload         string
	ReceivedAt      time.Time
	ProcessedAt     *time.Time
}

// InsertWebhookEvent stores an event unless the integration already has one with its provider
// event id; it reports whether it was new.
func (s queries) InsertWebhookEvent(ctx context.Context, e WebhookEvent) (bool, error) {
	n, err := s.q.exec(ctx, `INSERT INTO webhook_events (id, account_id, integration_id, provider_event_id, type, topic, object_id, status, reason, payload, received_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT (integration_id, provider_event_id) DO NOTHING`,
		e.ID, e.AccountID, e.IntegrationID, e.ProviderEventID, e.Type, e.Topic, e.ObjectID, string(e.Status), e.Reason, e.Payload, micros(e.ReceivedAt))
	if err != nil {
		return false, fmt.Errorf("store webhook event: %w", err)
	}
	return n == 1, nil
}

const eventCols = `id, account_id, integration_id, provider_event_id, type, topic, object_id, status, reason, payload, received_at, processed_at`

func scanEvent(r row) (WebhookEvent, error) {
	var e WebhookEvent
	var status string
	var recv int64
	var proc *int64
	err := r.Scan(&e.ID, &e.AccountID, &e.IntegrationID, &e.ProviderEventID, &e.Type, &e.Topic, &e.ObjectID, &status, &e.Reason, &e.Payload, &recv, &proc)
	e.Status, e.ReceivedAt, e.ProcessedAt = EventStatus(status), fromMicros(recv), fromMicrosPtr(proc)
	return e, err
}

// GetWebhookEvent reads an event.
func (s queries) GetWebhookEvent(ctx context.Context, accountID, id string) (WebhookEvent, error) {
	return scanEvent(s.q.queryRow(ctx, `SELECT `+eventCols+` FROM webhook_events WHERE account_id = $1 AND id = $2`, accountID, id))
}

// FinishWebhookEvent records how processing ended.
func (s queries) FinishWebhookEvent(ctx context.Context, accountID, id string, status EventStatus, reason string, now time.Time) error {
	_, err := s.q.exec(ctx, `UPDATE webhook_events SET status = $3, reason = $4, processed_at = $5 WHERE account_id = $1 AND id = $2`,
		accountID, id, string(status), reason, micros(now))
	return err
}

// ListWebhookEvents lists an integration's events, newest first.
func (s queries) ListWebhookEvents(ctx context.Context, accountID, integrationID string, limit int) ([]WebhookEvent, error) {
	rs, err := s.q.query(ctx, `SELECT `+eventCols+` FROM webhook_events WHERE account_id = $1 AND integration_id = $2
		ORDER BY received_at DESC, id DESC LIMIT $3`, accountID, integrationID, limit)
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	out := []WebhookEvent{}
	for rs.Next() {
		e, err := scanEvent(rs)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rs.Err()
}

// CountPendingWebhookEvents counts the inbound webhook events not yet applied (status
// 'received'), which retention never deletes.
func (s queries) CountPendingWebhookEvents(ctx context.Context) (int64, error) {
	var n int64
	if err := s.q.queryRow(ctx, `SELECT count(*) FROM webhook_events WHERE status = 'received'`).Scan(&n); err != nil {
		return 0, fmt.Errorf("count pending webhook events: %w", err)
	}
	return n, nil
}

// IgnoredEvents counts an integration's inbound webhook events of one topic that were
// acknowledged without being stored, because nothing acts on them (see AddIgnoredWebhookEvents).
type IgnoredEvents struct {
	AccountID     string
	IntegrationID string
	Topic         string
	Count         int64
	LastAt        time.Time
}

// AddIgnoredWebhookEvents adds counts of events acknowledged without being stored to the
// integration's running totals per topic (the latest of LastAt kept).
func (s queries) AddIgnoredWebhookEvents(ctx context.Context, counts []IgnoredEvents) error {
	for _, c := range counts {
		if _, err := s.q.exec(ctx, `INSERT INTO webhook_events_ignored (integration_id, topic, account_id, count, last_at) VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (integration_id, topic) DO UPDATE SET count = webhook_events_ignored.count + excluded.count,
			last_at = CASE WHEN excluded.last_at > webhook_events_ignored.last_at THEN excluded.last_at ELSE webhook_events_ignored.last_at END`,
			c.IntegrationID, c.Topic, c.AccountID, c.Count, micros(c.LastAt)); err != nil {
			return fmt.Errorf("count ignored webhook events of %s: %w", c.IntegrationID, err)
		}
	}
	return nil
}

// IgnoredWebhookEvents lists the integration's counts of events acknowledged without being
// stored, by topic (most recent first).
func (s queries) IgnoredWebhookEvents(ctx context.Context, accountID, integrationID string) ([]IgnoredEvents, error) {
	rs, err := s.q.query(ctx, `SELECT topic, count, last_at FROM webhook_events_ignored WHERE integration_id = $2 AND account_id = $1
		ORDER BY last_at DESC, topic`, accountID, integrationID)
	if err != nil {
		return nil, fmt.Errorf("ignored webhook events of %s: %w", integrationID, err)
	}
	defer rs.Close()
	out := []IgnoredEvents{}
	for rs.Next() {
		c := IgnoredEvents{AccountID: accountID, IntegrationID: integrationID}
		var last int64
		if err := rs.Scan(&c.Topic, &c.Count, &last); err != nil {
			return nil, fmt.Errorf("ignored webhook events of %s: %w", integrationID, err)
		}
		c.LastAt = fromMicros(last)
		out = append(out, c)
	}
	return out, rs.Err()
}
