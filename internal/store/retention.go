package store

import (
	"context"
	"fmt"
	"time"
)

// HistoryTable names a table whose rows retention removes once they are older than its window.
type HistoryTable string

// The history tables. Each is pruned oldest first through an index on its time column
// (migration 00007).
const (
	WebhookEventsTable  HistoryTable = "webhook_events"     // inbound provider webhooks, by received_at
	DeliveriesTable     HistoryTable = "webhook_deliveries" // outbound webhook deliveries, by created_at
	TimelineTable       HistoryTable = "timeline"           // the account's timeline, by at
	SyncHistoryTable    HistoryTable = "sync_history"       // documents' sync history, by at
	CatalogChangesTable HistoryTable = "catalog_changes"    // the catalog's change feed, by at (migration 00013)
	CatalogHistoryTable HistoryTable = "catalog_history"    // products' and customers' field history, by at
)

// HistoryTables lists every history table, in the order retention prunes them.
var HistoryTables = []HistoryTable{WebhookEventsTable, DeliveriesTable, TimelineTable, SyncHistoryTable, CatalogChangesTable, CatalogHistoryTable}

// pruneSQL deletes at most $2 rows older than $1, found oldest first through the table's age
// index and deleted by primary key, so that one statement touches (and locks) a bounded set of
// rows. A webhook event still to be applied (status 'received') is never deleted, however old.
// On PostgreSQL rows another transaction holds are skipped, not waited for (the next run gets
// them).
func pruneSQL(t HistoryTable, d Dialect) (string, error) {
	at, err := historyTime(t)
	if err != nil {
		return "", err
	}
	key, filter := "id", ""
	if t == WebhookEventsTable {
		filter = ` AND status <> 'received'`
	}
	pick := fmt.Sprintf(`SELECT %[1]s FROM %[2]s WHERE %[3]s < $1%[4]s ORDER BY %[3]s LIMIT $2`, key, t, at, filter)
	if d == Postgres {
		// An array, not IN (subquery): PostgreSQL would hash-join IN against a scan of the
		// whole table; = ANY of an array is one primary key look-up per row.
		return fmt.Sprintf(`DELETE FROM %s WHERE %s = ANY(ARRAY(%s FOR UPDATE SKIP LOCKED))%s`, t, key, pick, filter), nil
	}
	return fmt.Sprintf(`DELETE FROM %s WHERE %s IN (%s)%s`, t, key, pick, filter), nil
}

// PruneHistory deletes at most limit rows of the table that are older than before (pending
// webhook events excepted) in one short statement, and says how many it deleted.
func (s queries) PruneHistory(ctx context.Context, t HistoryTable, before time.Time, limit int) (int64, error) {
	q, err := pruneSQL(t, s.dialect)
	if err != nil {
		return 0, err
	}
	n, err := s.q.exec(ctx, q, micros(before), limit)
	if err != nil {
		return 0, fmt.Errorf("prune %s: %w", t, err)
	}
	return n, nil
}

// historyTime is the column by which the table's rows age.
func historyTime(t HistoryTable) (string, error) {
	switch t {
	case WebhookEventsTable:
		return "received_at", nil
	case DeliveriesTable:
		return "created_at", nil
	case TimelineTable, SyncHistoryTable, CatalogChangesTable, CatalogHistoryTable:
		return "at", nil
	}
	return "", fmt.Errorf("no such history table %q", t)
}

// CountHistoryBetween counts the table's rows (of every account) whose time is at or after
// from and before until: what a window of time holds, and whether a prune left anything older
// than its cutoff.
func (s queries) CountHistoryBetween(ctx context.Context, t HistoryTable, from, until time.Time) (int64, error) {
	at, err := historyTime(t)
	if err != nil {
		return 0, err
	}
	var n int64
	q := fmt.Sprintf(`SELECT count(*) FROM %s WHERE %[2]s >= $1 AND %[2]s < $2`, t, at)
	if err := s.q.queryRow(ctx, q, micros(from), micros(until)).Scan(&n); err != nil {
		return 0, fmt.Errorf("count %s between %s and %s: %w", t, from, until, err)
	}
	return n, nil
}

// CountHistory counts the table's rows (of every account): the figure retention keeps flat.
func (s queries) CountHistory(ctx context.Context, t HistoryTable) (int64, error) {
	if _, err := pruneSQL(t, s.dialect); err != nil {
		return 0, err
	}
	var n int64
	if err := s.q.queryRow(ctx, `SELECT count(*) FROM `+string(t)).Scan(&n); err != nil {
		return 0, fmt.Errorf("count %s: %w", t, err)
	}
	return n, nil
}
