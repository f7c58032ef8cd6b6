package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"strings"
	"testing"

	"github.com/posbridge/posbridge/internal/access"
	"github.com/posbridge/posbridge/internal/auth"
	"github.com/posbridge/posbridge/internal/jobs"
	"github.com/posbridge/posbridge/internal/store"
	"github.com/posbridge/posbridge/internal/testdb"
)

// TestRecoveryCommands: `account reset-password` gives a console user a new password (the old
// one stops working) and `apikey create|list|revoke` manage an account's keys by its id or a
// user's email; another account's key cannot be revoked through the wrong account.
func TestRecoveryCommands(t *testing.T) {
	t.Parallel() // its own database, data dir, port and processes
	testdb.Each(t, func(t *testing.T, db testdb.Target) {
		ctx := context.Background()
		e := env(map[string]string{"POSBRIDGE_DATA_DIR": db.DataDir, "POSBRIDGE_DATABASE_URL": db.DatabaseURL})
		do := func(args ...string) (string, error) {
			var out, errOut bytes.Buffer
			err := run(ctx, args, e, &out, &errOut)
			return out.String(), err
		}
		created := map[string]map[string]string{}
		for _, email := range []string{"anna@velo.test", "bo@bar.test"} {
			out, err := do("account", "create", "--name", "Shop "+email, "--admin-email", email, "--json")
			if err != nil {
				t.Fatal(err)
			}
			m := map[string]string{}
			if err := json.Unmarshal([]byte(out), &m); err != nil {
				t.Fatal(err)
			}
			created[email] = m
		}
		anna := created["anna@velo.test"]
		out, err := do("account", "reset-password", "--email", "Anna@Velo.test", "--json")
		if err != nil {
			t.Fatal(err)
		}
		var reset map[string]string
		if err := json.Unmarshal([]byte(out), &reset); err != nil || reset["account_id"] != anna["account_id"] || len(reset["password"]) < 12 {
			t.Fatalf("reset-password answered %q (%v)", out, err)
		}
		if _, err := do("account", "reset-password", "--email", "nobody@velo.test"); err == nil || !strings.Contains(err.Error(), "no console user") {
			t.Fatalf("unknown email: %v", err)
		}

		st, err := jobs.OpenStore(ctx, store.Config{DataDir: db.DataDir, DatabaseURL: db.DatabaseURL})
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		u, err := st.UserByEmail(ctx, "anna@velo.test")
		if err != nil {
			t.Fatal(err)
		}
		if auth.CheckPassword(u.PasswordHash, anna["admin_password"]) || !auth.CheckPassword(u.PasswordHash, reset["password"]) {
			t.Fatal("after the reset the old password still works or the new one does not")
		}

		out, err = do("apikey", "create", "--email", "anna@velo.test", "--name", "Recovered", "--json")
		if err != nil {
			t.Fatal(err)
		}
		var k map[string]string
		if err := json.Unmarshal([]byte(out), &k); err != nil || !strings.HasPrefix(k["api_key"], "pbk_") || k["role"] != "admin" {
			t.Fatalf("apikey create answered %q (%v)", out, err)
		}
		acc := access.New(st)
		if p, err := acc.AuthenticateKey(ctx, k["api_key"]); err != nil || p.AccountID != anna["account_id"] {
			t.Fatalf("the new key: %+v %v", p, err)
		}
		out, err = do("apikey", "list", "--account", anna["account_id"])
		if err != nil || !strings.Contains(out, k["id"]) || !strings.Contains(out, "Recovered") || !strings.Contains(out, "Store Admin") {
			t.Fatalf("apikey list: %q %v", out, err)
		}
		if _, err := do("apikey", "create", "--account", anna["account_id"], "--role", "nope"); err == nil || !strings.HasPrefix(err.Error(), "--role:") {
			t.Fatalf("unknown role: %v", err)
		}
		// Bo's account does not reach Anna's key.
		if _, err := do("apikey", "revoke", "--email", "bo@bar.test", "--id", k["id"]); err == nil || !strings.Contains(err.Error(), "not found") {
			t.Fatalf("revoke through another account: %v", err)
		}
		if _, err := acc.AuthenticateKey(ctx, k["api_key"]); err != nil {
			t.Fatalf("another account revoked the key: %v", err)
		}
		if _, err := do("apikey", "revoke", "--account", anna["account_id"], "--id", k["id"]); err != nil {
			t.Fatal(err)
		}
		if _, err := acc.AuthenticateKey(ctx, k["api_key"]); err == nil {
			t.Fatal("a revoked key still authenticates")
		}
		if _, err := do("apikey", "list"); err == nil {
			t.Fatal("apikey list without an account")
		}
		_ = run(ctx, []string{"apikey"}, e, io.Discard, io.Discard)
	})
}
