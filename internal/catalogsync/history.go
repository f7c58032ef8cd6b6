package catalogsync

import (
	"time"

	"github.com/posbridge/posbridge/internal/domain"
	"github.com/posbridge/posbridge/internal/store"
)

// historyOf makes the history entries of record writes that changed fields (record is product
// or customer; a stock level's change is its product's). The trigger says what brought the
// change: the source's webhook topic, the reconciliation poll or the import. A new record has
// no entry (its created_at says when it came).
func historyOf(record, trigger, integrationID string, now time.Time, chs []store.RecordChange) []domain.HistoryEntry {
	var out []domain.HistoryEntry
	for _, ch := range chs {
		if ch.ID == "" || len(ch.Changes) == 0 {
			continue
		}
		out = append(out, domain.HistoryEntry{Record: record, RecordID: ch.ID, At: now, Trigger: trigger,
			IntegrationID: integrationID, Actor: domain.ActorSystem, Changes: ch.Changes})
	}
	return out
}
