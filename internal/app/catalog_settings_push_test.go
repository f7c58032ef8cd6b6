package app_test

import (
	"context"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/posbridge/posbridge/internal/connector/woocommerce"
	"github.com/posbridge/posbridge/internal/testdb"
)

// TestCatalogSettingsChangePushes: a change of the catalog sync settings alone queues a push to
// the destinations it affects, batched, with a timeline entry: the linked products go again to
// a shop whose owned fields change, every product goes to a shop added; the same settings again
// push nothing.
func TestCatalogSettingsChangePushes(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func(t *testing.T, db testdb.Target) {
		c := newCatalogEnv(t, db)
		ctx := context.Background()
		acct := mustAccount(t, c)
		c.must(200, c.call(c.key, "PUT", "/api/v1/catalog-sync", map[string]any{"source_integration_id": c.source, "enabled": true,
			"destinations": []any{map[string]any{"integration_id": c.shop}}}))
		c.must(202, c.call(c.key, "POST", "/api/v1/catalog-sync/import", nil))
		c.waitImport("done")
		settled := func(dest string) int {
			links, linked := 0, 0
			waitFor(t, "every product pushed to "+dest, func() bool {
				pending, err := c.app.Store.PendingCatalogPushes(ctx, acct, c.source, dest, "", 1)
				if err != nil {
					t.Fatal(err)
				}
				all, err := c.app.Store.ListCatalogLinks(ctx, acct, nil)
				if err != nil {
					t.Fatal(err)
				}
				links = 0
				for _, ls := range all {
					for _, l := range ls {
						if l.IntegrationID == dest {
							links++
						}
					}
				}
				if len(pending) == 0 && links > 0 && links == linked {
					return true
				}
				linked = links
				return false
			})
			return links
		}
		linked := settled(c.shop)
		queued := func(id string) int {
			n := 0
			for _, k := range c.timelineKinds(c.key, id) {
				if k == "catalog_sync.push_queued" {
					n++
				}
			}
			return n
		}
		before, calls, entries := c.app.Catalog.PushedProducts.Load(), c.app.Catalog.PushCalls.Load(), queued(c.shop)

		// The shop gives up categories: every linked product goes again, in batches.
		c.must(200, c.call(c.key, "PUT", "/api/v1/catalog-sync", map[string]any{"destinations": []any{map[string]any{"integration_id": c.shop, "owned_fields": []string{"weight"}}}}))
		defer func() {
			if t.Failed() {
				for _, l := range strings.Split(c.logs.String(), "\n") {
					if strings.Contains(l, "catalog") && !strings.Contains(l, "snoozed") {
						t.Log(l)
					}
				}
			}
		}()
		// Every linked product, those with variants too (their variations are updated, matched by
		// SKU, not made again).
		waitFor(t, "the linked products pushed again", func() bool {
			return c.app.Catalog.PushedProducts.Load()-before >= int64(linked)
		})
		if got := c.app.Catalog.PushCalls.Load() - calls; got > int64(linked/100+2) {
			t.Errorf("%d products pushed again in %d batch calls", linked, got)
		}
		if queued(c.shop) != entries+1 {
			t.Errorf("no catalog_sync.push_queued entry for the shop: %v", c.timelineKinds(c.key, c.shop))
		}

		// The same settings again: nothing is queued.
		before, entries = c.app.Catalog.PushedProducts.Load(), queued(c.shop)
		c.must(200, c.call(c.key, "PUT", "/api/v1/catalog-sync", map[string]any{"destinations": []any{map[string]any{"integration_id": c.shop, "owned_fields": []string{"weight"}}}}))
		if queued(c.shop) != entries {
			t.Errorf("unchanged settings queued a push: %v", c.timelineKinds(c.key, c.shop))
		}

		// A second shop added: every product goes to it.
		sim := woocommerce.NewSimulator()
		hs := httptest.NewServer(sim)
		t.Cleanup(func() { sim.Close(); hs.Close() })
		second := c.must(201, c.call(c.key, "POST", "/api/v1/integrations", map[string]any{"type": "woocommerce", "nickname": "Second shop", "credentials": sim.Info(hs.URL).Credentials})).json(t)["id"].(string)
		c.waitStatus(c.key, second, "healthy")
		c.must(200, c.call(c.key, "PUT", "/api/v1/catalog-sync", map[string]any{"destinations": []any{
			map[string]any{"integration_id": c.shop}, map[string]any{"integration_id": second}}}))
		if got := settled(second); got != linked {
			t.Errorf("%d products in the second shop, want %d", got, linked)
		}
		if queued(second) != 1 || !slices.Contains(c.timelineKinds(c.key, second), "catalog_sync.push_queued") {
			t.Errorf("the added shop has no catalog_sync.push_queued entry: %v", c.timelineKinds(c.key, second))
		}
		if queued(c.shop) != entries {
			t.Errorf("adding a shop pushed again to the first one: %v", c.timelineKinds(c.key, c.shop))
		}
		if c.app.Catalog.PushedProducts.Load()-before != int64(linked) {
			t.Errorf("%d products pushed for the added shop, want %d", c.app.Catalog.PushedProducts.Load()-before, linked)
		}
	})
}
