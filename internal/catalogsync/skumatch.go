package catalogsync

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"

	"github.com/posbridge/posbridge/internal/connector"
	"github.com/posbridge/posbridge/internal/domain"
	"github.com/posbridge/posbridge/internal/store"
)

// The one-off SKU match of a first import. posbridge links a source's product to a shop's
// product by the shop's id only (POST /api/v1/links, or the product it created there); a pass
// started with match_by_sku, allowed only while none of the source's products is linked, also
// links each product the shop had before posbridge to the source's product with the same SKU,
// after its products phase and before any of them is pushed. A SKU matches only when it is not
// empty and exactly one product has it on each side; the SKUs two products share on either side
// are counted as ambiguous and left unlinked.

// SKUMatchOpen tells whether an import may still match by SKU: a source is set and none of its
// products is linked to a shop.
func (s *Service) SKUMatchOpen(ctx context.Context, accountID string) (bool, error) {
	settings, err := s.st.GetCatalogSyncSettings(ctx, accountID)
	if err != nil || settings.SourceIntegrationID == "" {
		return false, err
	}
	n, err := s.st.CountCatalogSourceLinks(ctx, accountID, settings.SourceIntegrationID)
	return n == 0, err
}

// skuMatchStep matches the products of one destination (the cursor is the index of the next
// one in the settings) and commits its links with the report; after the last destination the
// pass goes on to the stock phase and the products wait no longer for their push.
func (s *Service) skuMatchStep(ctx context.Context, a ImportArgs, imp domain.CatalogImport) error {
	settings, err := s.st.GetCatalogSyncSettings(ctx, a.AccountID)
	if err != nil {
		return err
	}
	idx := 0
	if imp.Cursor != "" {
		if idx, err = strconv.Atoi(imp.Cursor); err != nil {
			return fmt.Errorf("the SKU match's cursor %q: %w", imp.Cursor, err)
		}
	}
	var dest string
	var matches []domain.SKUMatch
	var ambiguous int
	if idx < len(settings.Destinations) {
		dest = settings.Destinations[idx].IntegrationID
		if matches, ambiguous, err = s.matchBySKU(ctx, a.AccountID, imp.IntegrationID, dest); err != nil {
			return err
		}
	}
	next := ""
	if idx+1 < len(settings.Destinations) {
		next = strconv.Itoa(idx + 1)
	}
	return s.st.InTx(ctx, func(tx *store.Tx) error {
		cur, err := tx.LockCatalogImport(ctx, a.AccountID)
		if err != nil {
			return err
		}
		if cur.Pass != imp.Pass || cur.Phase != imp.Phase || cur.Cursor != imp.Cursor {
			return nil // another worker matched this destination meanwhile
		}
		now := s.now()
		made := domain.SKUMatchReport{Ambiguous: ambiguous, Examples: []domain.SKUMatch{}}
		for _, m := range matches {
			err := tx.CreateCatalogLink(ctx, a.AccountID, domain.CatalogLink{ProductID: m.ProductID, IntegrationID: m.IntegrationID,
				ExternalID: m.ExternalID, Origin: domain.LinkSKUMatch, CreatedAt: now})
			if domain.IsCode(err, domain.CodeConflict) {
				continue // linked meanwhile (POST /api/v1/links): that link stands
			}
			if err != nil {
				return fmt.Errorf("link %s to %s of %s: %w", m.ProductID, m.ExternalID, m.IntegrationID, err)
			}
			made.Matched++
			if len(made.Examples) < domain.SKUMatchExamples {
				made.Examples = append(made.Examples, m)
			}
		}
		if cur.SKUMatches == nil {
			cur.SKUMatches = &domain.SKUMatchReport{Examples: []domain.SKUMatch{}}
		}
		cur.SKUMatches.Add(made)
		if dest != "" {
			if err := tx.AddTimeline(ctx, domain.TimelineEntry{AccountID: a.AccountID, At: now, Kind: domain.KindCatalogLinked,
				IntegrationID: dest, Actor: domain.ActorSystem, Message: made.Sentence()}); err != nil {
				return err
			}
		}
		cur.Cursor, cur.Error = next, ""
		if next == "" {
			cur.Phase = domain.PhaseStock
		}
		if err := tx.SaveCatalogImport(ctx, a.AccountID, cur); err != nil {
			return err
		}
		if next != "" {
			return nil
		}
		return s.enqueuePushes(ctx, tx, a.AccountID, settings)
	})
}

// matchBySKU reads every product of the destination and pairs those not linked with the
// source's products not linked to it by SKU: the matches (in SKU order) and how many SKUs both
// sides have that two products share on either side. A destination disconnected, gone or that
// cannot list its products matches nothing.
func (s *Service) matchBySKU(ctx context.Context, accountID, sourceID, destID string) ([]domain.SKUMatch, int, error) {
	i, err := s.con.Get(ctx, accountID, destID)
	if domain.IsCode(err, domain.CodeNotFound) {
		return nil, 0, nil
	}
	if err != nil {
		return nil, 0, err
	}
	if i.Status == domain.StatusInactive {
		return nil, 0, nil
	}
	conn, err := s.con.Connector(ctx, i)
	if err != nil {
		return nil, 0, err
	}
	src, ok := conn.(connector.ProductSource)
	if !ok {
		return nil, 0, nil
	}
	shop := map[string][]string{} // SKU -> the shop's products with it
	for cursor := ""; ; {
		page, err := src.ListProducts(ctx, cursor)
		if err != nil {
			return nil, 0, fmt.Errorf("read the products of %s to match them by SKU: %w", s.con.DisplayName(i.Type), err)
		}
		for _, p := range page.Items {
			if p.SKU != "" && !p.Deleted {
				shop[p.SKU] = append(shop[p.SKU], p.ID)
			}
		}
		if page.Next == "" {
			break
		}
		cursor = page.Next
	}
	if len(shop) == 0 {
		return nil, 0, nil
	}
	linked, err := s.st.CatalogLinkedExternalIDs(ctx, accountID, destID)
	if err != nil {
		return nil, 0, err
	}
	ours, err := s.st.CatalogSKUProducts(ctx, accountID, sourceID, destID)
	if err != nil {
		return nil, 0, err
	}
	out, ambiguous := pairBySKU(destID, shop, linked, ours)
	return out, ambiguous, nil
}

// pairBySKU pairs the destination's products (shop: SKU -> their ids; linked: the ids linked
// already) with the source's products by SKU: a SKU pairs when exactly one product has it on
// each side and neither is linked; a SKU both sides have that two products share on either side
// is counted as ambiguous. The pairs come in SKU order.
func pairBySKU(destID string, shop map[string][]string, linked map[string]bool, ours []store.SKUProduct) ([]domain.SKUMatch, int) {
	source := map[string][]store.SKUProduct{}
	for _, p := range ours {
		if p.SKU != "" {
			source[p.SKU] = append(source[p.SKU], p)
		}
	}
	var out []domain.SKUMatch
	ambiguous := 0
	for _, sku := range slices.Sorted(maps.Keys(shop)) {
		theirs, mine := shop[sku], source[sku]
		switch {
		case sku == "" || len(mine) == 0 || len(theirs) == 0:
		case len(theirs) > 1 || len(mine) > 1:
			ambiguous++
		case linked[theirs[0]] || mine[0].Linked:
			// one side is linked already: that link stands
		default:
			out = append(out, domain.SKUMatch{ProductID: mine[0].ID, SourceExternalID: mine[0].ExternalID, IntegrationID: destID, ExternalID: theirs[0], SKU: sku})
		}
	}
	return out, ambiguous
}

func plural(n int64, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
