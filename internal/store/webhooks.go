package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/posbridge/posbridge/internal/domain"
)

// CreateWebhookEndpoint stores an endpoint with its sealed signing secret.
func (s queries) CreateWebhookEndpoint(ctx context.Context, w domain.WebhookEndpoint, sealedSecret string) error {
	ev, _ := json.Marshal(w.Events)
	_, err := s.q.exec(ctx, `INSERT INTO webhook_endpoints (id, account_id, url, description, events, secret, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		w.ID, w.AccountID, w.URL, w.Description, string(ev), sealedSecret, micros(w.CreatedAt))
	if err != nil {
		return fmt.Errorf("insert webhook endpoint: %w", err)
	}
	return nil
}

func scanEndpoint(r row) (domain.WebhookEndpoint, string, error) {
	var w domain.WebhookEndpoint
	var ev, secret string
	var created int64
	if err := r.Scan(&w.ID, &w.AccountID, &w.URL, &w.Description, &ev, &secret, &created); err != nil {
		return w, "", err
	}
	w.CreatedAt = fromMicros(created)
	if err := json.Unmarshal([]byte(ev), &w.Events); err != nil {
		return w, "", fmt.Errorf("endpoint %s events: %w", w.ID, err)
	}
	return w, secret, nil
}

const endpointCols = `id, account_id, url, description, events, secret, created_at`

// ListWebhookEndpoints lists the account's endpoints.
func (s queries) ListWebhookEndpoints(ctx context.Context, accountID string) ([]domain.WebhookEndpoint, error) {
	rs, err := s.q.query(ctx, listEndpoints, accountID)
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	return scanEndpoints(rs)
}

const listEndpoints = `SELECT ` + endpointCols + ` FROM webhook_endpoints WHERE account_id = $1 ORDER BY created_at, id`

func scanEndpoints(rs rows) ([]domain.WebhookEndpoint, error) {
	out := []domain.WebhookEndpoint{}
	for rs.Next() {
		w, _, err := scanEndpoint(rs)
		if err != nil {
			return nil, err
		}
		out = append(out, w)
	}
	return out, rs.Err()
}

// GetWebhookEndpoint reads an endpoint and its sealed secret.
func (s queries) GetWebhookEndpoint(ctx context.Context, accountID, id string) (domain.WebhookEndpoint, string, error) {
	return scanEndpoint(s.q.queryRow(ctx, `SELECT `+endpointCols+` FROM webhook_endpoints WHERE account_id = $1 AND id = $2`, accountID, id))
}

// DeleteWebhookEndpoint removes an endpoint.
func (s queries) DeleteWebhookEndpoint(ctx context.Context, accountID, id string) error {
	n, err := s.q.exec(ctx, `DELETE FROM webhook_endpoints WHERE account_id = $1 AND id = $2`, accountID, id)
	if err != nil {
		return err
	}
	if n == 0 {
		return ErrNotFound
	}
	return nil
}

// Delivery is one outbound webhook message to one endpoint.
type Delivery struct {
	ID, AccountID, EndpointID, EventType, Status string
	Attempts, LastStatus                         int
	LastError                                    string
	CreatedAt, UpdatedAt                         time.Time
	Body                                         []byte     // the event as sent (signed at each attempt)
	NextAttemptAt                                *time.Time // while retrying
}

const deliveryCols = `id, account_id, endpoint_id, event_type, status, attempts, last_status, last_error, created_at, updated_at, body, next_attempt_at`

func scanDelivery(r row) (Delivery, error) {
	var d Delivery
	var c, u int64
	var next *int64
	var body string
	if err := r.Scan(&d.ID, &d.AccountID, &d.EndpointID, &d.EventType, &d.Status, &d.Attempts, &d.LastStatus, &d.LastError, &c, &u, &body, &next); err != nil {
		return d, err
	}
	d.CreatedAt, d.UpdatedAt, d.NextAttemptAt, d.Body = fromMicros(c), fromMicros(u), fromMicrosPtr(next), []byte(body)
	return d, nil
}

// ListEndpointDeliveries lists an endpoint's deliveries, newest first.
func (s queries) ListEndpointDeliveries(ctx context.Context, accountID, endpointID string, limit int) ([]Delivery, error) {
	rs, err := s.q.query(ctx, `SELECT `+deliveryCols+` FROM webhook_deliveries WHERE account_id = $1 AND endpoint_id = $2
		ORDER BY created_at DESC, id DESC LIMIT $3`, accountID, endpointID, limit)
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	out := []Delivery{}
	for rs.Next() {
		d, err := scanDelivery(rs)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, rs.Err()
}

// GetDelivery reads one delivery of the account's endpoint.
func (s queries) GetDelivery(ctx context.Context, accountID, endpointID, id string) (Delivery, error) {
	return scanDelivery(s.q.queryRow(ctx, `SELECT `+deliveryCols+` FROM webhook_deliveries WHERE account_id = $1 AND endpoint_id = $2 AND id = $3`,
		accountID, endpointID, id))
}

// RequeueDelivery marks a delivery pending again (redeliver).
func (s queries) RequeueDelivery(ctx context.Context, accountID, id string, now time.Time) error {
	_, err := s.q.exec(ctx, `UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = NULL, updated_at = $3
		WHERE account_id = $1 AND id = $2`, accountID, id, micros(now))
	return err
}

// CreateDelivery records a pending delivery.
func (s queries) CreateDelivery(ctx context.Context, d Delivery) error {
	_, err := s.q.exec(ctx, `INSERT INTO webhook_deliveries (id, account_id, endpoint_id, event_type, status, created_at, updated_at, body) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		d.ID, d.AccountID, d.EndpointID, d.EventType, d.Status, micros(d.CreatedAt), micros(d.UpdatedAt), string(d.Body))
	return err
}

// RecordDeliveryAttempt records the outcome of one attempt.
func (s queries) RecordDeliveryAttempt(ctx context.Context, accountID, id, status string, httpStatus int, lastErr string, now time.Time, next *time.Time) error {
	_, err := s.q.exec(ctx, `UPDATE webhook_deliveries SET status = $3, attempts = attempts + 1, last_status = $4, last_error = $5, updated_at = $6, next_attempt_at = $7
		WHERE account_id = $1 AND id = $2`, accountID, id, status, httpStatus, lastErr, micros(now), microsPtr(next))
	return err
}

// ListDeliveries lists the account's recent deliveries, newest first.
func (s queries) ListDeliveries(ctx context.Context, accountID string, limit int) ([]Delivery, error) {
	rs, err := s.q.query(ctx, `SELECT id, account_id, endpoint_id, event_type, status, attempts, last_status, last_error, created_at, updated_at
		FROM webhook_deliveries WHERE account_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2`, accountID, limit)
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	var out []Delivery
	for rs.Next() {
		var d Delivery
		var c, u int64
		if err := rs.Scan(&d.ID, &d.AccountID, &d.EndpointID, &d.EventType, &d.Status, &d.Attempts, &d.LastStatus, &d.LastError, &c, &u); err != nil {
			return nil, err
		}
		d.CreatedAt, d.UpdatedAt = fromMicros(c), fromMicros(u)
		out = append(out, d)
	}
	return out, rs.Err()
}
