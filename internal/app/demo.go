package app

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/posbridge/posbridge/internal/backoffice"
	"github.com/posbridge/posbridge/internal/connector"
	"github.com/posbridge/posbridge/internal/domain"
	"github.com/posbridge/posbridge/internal/ordersync"
)

// demoDocuments are the sample documents a fresh --demo server syncs to its Sandbox POS.
var demoDocuments = []struct {
	kind     domain.DocKind
	ref      string
	status   string
	line     string
	amount   int64
	complete bool // completed at the till, so the invoice turns paid
}{
	{domain.KindJob, "JOB-DEMO-1", "open", "Wheel truing", 2500, false},
	{domain.KindInvoice, "INV-DEMO-1", "issued", "Brake service", 4500, true},
	{domain.KindInvoice, "INV-DEMO-2", "issued", "Chain and cassette", 8990, false},
	{domain.KindSale, "SALE-DEMO-1", "completed", "Inner tube", 899, false},
}

// demoBackOfficeProducts are the first products of the demo Sandbox POS that have a SKU, as
// back-office products (nil when they cannot be read: the back office then has sample ones).
func (a *App) demoBackOfficeProducts(ctx context.Context, i domain.Integration) []backoffice.Product {
	conn, err := a.Lifecycle.Opener().Connector(ctx, i)
	if err != nil {
		return nil
	}
	src, err := connector.As[connector.ProductSource](conn, domain.CapProducts)
	if err != nil {
		return nil
	}
	page, err := src.ListProducts(ctx, "")
	if err != nil {
		a.log.Warn("demo: the Sandbox POS's products for the back office", "err", err)
		return nil
	}
	var out []backoffice.Product
	for _, p := range page.Items {
		if p.SKU == "" || p.Deleted || len(p.Variants) > 0 || p.Price.Currency != "EUR" {
			continue
		}
		out = append(out, backoffice.Product{ID: strings.ToLower(p.SKU), Name: p.Name, SKU: p.SKU, Price: p.Price.Amount})
		if len(out) == 6 {
			break
		}
	}
	return out
}

// seedDemoDocuments shows a fresh --demo server's whole flow at once: once the demo Sandbox POS
// is healthy, Automatic Sync is turned on with it as the target, a few sample documents are
// sent as an app would, and one invoice's order is completed at the sandbox's till, so it
// turns paid by the sandbox's webhook.
func (a *App) seedDemoDocuments(ctx context.Context, accountID, integrationID string) error {
	for {
		i, err := a.Lifecycle.Get(ctx, accountID, integrationID)
		if err == nil && i.Status == domain.StatusHealthy {
			break
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for the demo Sandbox POS: %w", ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
	set, err := a.Sync.Settings(ctx, accountID)
	if err != nil {
		return err
	}
	set.AutoSync, set.IntegrationID = true, integrationID
	if _, err := a.Sync.SaveSettings(ctx, accountID, domain.ActorSystem, set); err != nil {
		return fmt.Errorf("turn on Automatic Sync: %w", err)
	}
	for _, d := range demoDocuments {
		in := ordersync.PutInput{DocContent: domain.DocContent{Status: d.status, Customer: &domain.DocCustomer{Name: "Ada Lovelace"},
			Lines: []domain.DocLine{{Description: d.line, Quantity: "1", UnitPrice: domain.Money{Amount: d.amount, Currency: "EUR"}}}}}
		if _, err := a.Sync.Put(ctx, accountID, d.kind, d.ref, in); err != nil {
			return fmt.Errorf("put %s %s: %w", d.kind, d.ref, err)
		}
	}
	for _, d := range demoDocuments {
		if !d.complete {
			continue
		}
		for {
			doc, err := a.Sync.Get(ctx, accountID, d.kind, d.ref)
			if err == nil && doc.Sync.Status == domain.SyncSynced && doc.Sync.ExternalID != "" {
				if err := a.sandboxOrderAction(ctx, accountID, integrationID, doc.Sync.ExternalID, "complete"); err != nil {
					return fmt.Errorf("complete the order of %s: %w", d.ref, err)
				}
				break
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("wait for %s to sync: %w", d.ref, ctx.Err())
			case <-time.After(200 * time.Millisecond):
			}
		}
	}
	return nil
}
