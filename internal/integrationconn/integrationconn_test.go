package integrationconn_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/posbridge/posbridge/internal/connector"
	"github.com/posbridge/posbridge/internal/connector/registry"
	"github.com/posbridge/posbridge/internal/domain"
	"github.com/posbridge/posbridge/internal/integrationconn"
	"github.com/posbridge/posbridge/internal/storetest"
	"github.com/posbridge/posbridge/internal/testdb"
)

// TestOpener: what the opener guarantees about credentials, sandboxes, providers and the
// webhook secret, on both databases.
func TestOpener(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.Target) {
		ctx := context.Background()
		st := storetest.Open(t, db, "acct_1")
		now := time.Now().UTC()
		box := storetest.Box(t)
		add := func(id, typ, creds string) domain.Integration {
			t.Helper()
			i := domain.Integration{ID: id, AccountID: "acct_1", Type: typ, Status: domain.StatusHealthy, CreatedAt: now, UpdatedAt: now}
			sc, err := box.Seal([]byte(creds), id+"/credentials")
			if err != nil {
				t.Fatal(err)
			}
			sw, err := box.Seal([]byte("hook-secret-"+id), id+"/webhook")
			if err != nil {
				t.Fatal(err)
			}
			if err := st.CreateIntegration(ctx, i, sc, sw); err != nil {
				t.Fatal(err)
			}
			return i
		}
		o := integrationconn.New(st, box, integrationconn.Config{Providers: registry.All(), SelfURL: "http://127.0.0.1:1"})

		// A sandbox store that this process does not serve is the integration's fault, said so.
		sq := add("int_sq", "square", `{"`+integrationconn.SandboxCredential+`":"true"}`)
		_, err := o.Connector(ctx, sq)
		if connector.KindOf(err) != connector.KindInvalid || !strings.Contains(err.Error(), "not served here") {
			t.Errorf("sandbox store not served: %v (kind %v), want KindInvalid naming it", err, connector.KindOf(err))
		}

		// Real credentials open a connector.
		sbx := add("int_sbx", "sandbox", `{"api_key":"sbx_0123456789abcdef0123456789abcdef01234567"}`)
		if _, err := o.Connector(ctx, sbx); err != nil {
			t.Errorf("open the Sandbox POS connector: %v", err)
		}

		// A type this build has no provider for, and credentials sealed with another key.
		gone := add("int_gone", "no_such_pos", `{}`)
		if _, err := o.Connector(ctx, gone); err == nil || !strings.Contains(err.Error(), "not available in this build") {
			t.Errorf("unknown provider type: %v", err)
		}
		other := integrationconn.New(st, storetest.Box(t), integrationconn.Config{Providers: registry.All()})
		if _, err := other.Connector(ctx, sbx); err == nil || !strings.Contains(err.Error(), "--secret-key") {
			t.Errorf("credentials under another key: %v, want the hint about --secret-key", err)
		}

		// The webhook secret comes back decrypted; another account's integration is not found.
		if s, err := o.WebhookSecret(ctx, sbx); err != nil || s != "hook-secret-int_sbx" {
			t.Errorf("webhook secret = %q, %v", s, err)
		}
		if _, err := o.Get(ctx, "acct_other", "int_sbx"); !domain.IsCode(err, domain.CodeNotFound) {
			t.Errorf("another account's integration: %v, want not found", err)
		}

		// Providers are sorted with the self-hosted Sandbox POS first.
		ps := o.Providers()
		if len(ps) == 0 || !ps[0].SelfHosted {
			t.Errorf("providers start with %+v, want the Sandbox POS", ps)
		}
		if o.DisplayName("no_such_pos") != "no_such_pos" || o.DisplayName("square") == "square" {
			t.Errorf("display names: %q, %q", o.DisplayName("no_such_pos"), o.DisplayName("square"))
		}
	})
}
