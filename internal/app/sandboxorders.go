package app

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"

	"github.com/posbridge/posbridge/internal/connector/sandbox"
	"github.com/posbridge/posbridge/internal/domain"
)

// sandboxOrderAction completes or voids an order of the account's Sandbox POS integration, as
// a cashier at the simulated POS would: the sandbox then sends its webhook to /hooks/ and the
// document follows (an invoice turns paid per the settings). It serves the console's "Complete
// in Sandbox POS" and "Void in Sandbox POS" buttons of a document's sync dialog. An order of a
// sandbox store (posbridge's simulator of a real provider) is completed or voided at that
// simulator (lifecycle.Service.SandboxStoreAct).
func (a *App) sandboxOrderAction(ctx context.Context, accountID, integrationID, orderID, action string) error {
	if i, err := a.Lifecycle.Get(ctx, accountID, integrationID); err != nil {
		return err
	} else if p, ok := a.Lifecycle.Provider(i.Type); ok && !p.SelfHosted {
		return a.Lifecycle.SandboxStoreAct(ctx, accountID, integrationID, orderID, action)
	}
	if a.Sandbox == nil || a.sandboxTenants == nil {
		return domain.Errorf(domain.CodeUnsupported, "the Sandbox POS is turned off on this server")
	}
	key, err := a.sandboxTenants.IntegrationKey(ctx, accountID, integrationID)
	if errors.Is(err, sandbox.ErrNoIntegration) {
		return domain.NotFound("Sandbox POS integration")
	}
	if err != nil {
		return err
	}
	var req *http.Request
	switch action {
	case "complete":
		b, _ := json.Marshal(map[string]string{"api_key": key})
		req = httptest.NewRequestWithContext(ctx, http.MethodPost, "/sandbox/admin/orders/"+url.PathEscape(orderID)+"/complete", bytes.NewReader(b))
	case "void":
		req = httptest.NewRequestWithContext(ctx, http.MethodPost, "/sandbox/api/v1/orders/"+url.PathEscape(orderID)+"/void", nil)
		req.Header.Set("Authorization", "Bearer "+key)
	default:
		return domain.Invalid("action", "unknown sandbox order action %q", action)
	}
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	a.Sandbox.ServeHTTP(rec, req)
	if rec.Code/100 == 2 {
		return nil
	}
	var body struct {
		Error struct {
			Message string `json:"message"`
		} `json:"error"`
	}
	_ = json.Unmarshal(rec.Body.Bytes(), &body)
	msg := body.Error.Message
	if msg == "" {
		msg = http.StatusText(rec.Code)
	}
	if rec.Code == http.StatusNotFound {
		return domain.Errorf(domain.CodeNotFound, "the Sandbox POS has no order %s: %s", orderID, msg)
	}
	return domain.Errorf(domain.CodeConflict, "The Sandbox POS refused: %s", msg)
}
