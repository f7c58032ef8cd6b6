package store_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/posbridge/posbridge/internal/domain"
	"github.com/posbridge/posbridge/internal/store"
	"github.com/posbridge/posbridge/internal/testdb"
)

// withAccounts opens the target's store with acct_a and acct_b, each with an admin user
// (user_a, user_b), created at the time it answers.
func withAccounts(t *testing.T, db testdb.Target) (*store.Store, time.Time) {
	t.Helper()
	st := open(t, db)
	ctx := context.Background()
	now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	for _, a := range []string{"a", "b"} {
		if err := st.CreateAccount(ctx, domain.Account{ID: "acct_" + a, Name: a, CreatedAt: now}); err != nil {
			t.Fatal(err)
		}
		if err := st.CreateUser(ctx, domain.User{ID: "user_" + a, AccountID: "acct_" + a, Email: a + "@example.com", Role: domain.RoleAdmin,
			PasswordHash: "hash", CreatedAt: now, ActivatedAt: &now}); err != nil {
			t.Fatal(err)
		}
	}
	return st, now
}

// TestSessionsEndWithTheirUser: a session is live until it expires or is logged out; a
// deactivated user's sessions end at once and stay ended when the user is reactivated; a new
// password ends every other session of the user; an email is one user's only.
func TestSessionsEndWithTheirUser(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.Target) {
		st, now := withAccounts(t, db)
		ctx := context.Background()
		if err := st.CreateUser(ctx, domain.User{ID: "user_c", AccountID: "acct_b", Email: "a@example.com", Role: domain.RoleStaff, CreatedAt: now}); !isConflict(err, "email") {
			t.Fatalf("a second user with a taken email: %v, want a conflict on email", err)
		}
		hour := now.Add(time.Hour)
		for _, tok := range []string{"s1", "s2", "s3"} {
			if err := st.CreateSession(ctx, tok, store.Session{UserID: "user_a", AccountID: "acct_a", ExpiresAt: hour}, now); err != nil {
				t.Fatal(err)
			}
		}
		if err := st.CreateSession(ctx, "sb", store.Session{UserID: "user_b", AccountID: "acct_b", ExpiresAt: hour}, now); err != nil {
			t.Fatal(err)
		}
		live := func(tok string, at time.Time) bool {
			t.Helper()
			s, err := st.GetSession(ctx, tok, at)
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				t.Fatal(err)
			}
			return err == nil && s.UserID != ""
		}
		if s, err := st.GetSession(ctx, "s1", now); err != nil || s.AccountID != "acct_a" || !s.ExpiresAt.Equal(hour) {
			t.Fatalf("live session: %+v %v", s, err)
		}
		if live("s1", hour) {
			t.Fatal("a session is live at its expiry")
		}

		if err := st.DeleteSession(ctx, "s3"); err != nil || live("s3", now) {
			t.Fatalf("logged-out session: %v, live %v", err, live("s3", now))
		}
		// A new password from session s1 ends s2 but keeps s1 (and touches no other user).
		if err := st.SetUserPassword(ctx, "acct_a", "user_a", "hash2", "s1", now); err != nil {
			t.Fatal(err)
		}
		if !live("s1", now) || live("s2", now) || !live("sb", now) {
			t.Fatalf("after a new password: s1 %v s2 %v sb %v, want s1 and sb only", live("s1", now), live("s2", now), live("sb", now))
		}
		if err := st.SetUserPassword(ctx, "acct_b", "user_a", "hash3", "", now); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("another account sets the password: %v", err)
		}
		if err := st.SetUserDeactivated(ctx, "acct_b", "user_a", &now); !errors.Is(err, store.ErrNotFound) || !live("s1", now) {
			t.Fatalf("another account deactivates the user: %v, session live %v", err, live("s1", now))
		}
		if err := st.SetUserDeactivated(ctx, "acct_a", "user_a", &now); err != nil || live("s1", now) {
			t.Fatalf("deactivated user's session: %v, live %v", err, live("s1", now))
		}
		if err := st.SetUserDeactivated(ctx, "acct_a", "user_a", nil); err != nil || live("s1", now) {
			t.Fatalf("reactivation brought back a session: %v, live %v", err, live("s1", now))
		}
		if n, err := st.DeleteExpiredSessions(ctx, hour); err != nil || n != 1 || live("sb", now) {
			t.Fatalf("expired sessions removed: %d %v, want the one left (sb)", n, err)
		}
	})
}

// TestUserTokensAreOneTime: a one-time link can be read any number of times but used once
// (of concurrent uses exactly one wins), not after it expires, and a newer link of the same
// kind replaces an older unused one.
func TestUserTokensAreOneTime(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.Target) {
		st, now := withAccounts(t, db)
		ctx := context.Background()
		tok := store.UserToken{UserID: "user_a", AccountID: "acct_a", Kind: "reset", ExpiresAt: now.Add(time.Hour)}
		if err := st.CreateUserToken(ctx, "old", tok, now); err != nil {
			t.Fatal(err)
		}
		if err := st.CreateUserToken(ctx, "new", tok, now); err != nil {
			t.Fatal(err)
		}
		if _, err := st.PeekUserToken(ctx, "old", now); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("the replaced link: %v, want not found", err)
		}
		for range 2 {
			if got, err := st.PeekUserToken(ctx, "new", now); err != nil || got.UserID != "user_a" || got.Kind != "reset" {
				t.Fatalf("peek: %+v %v", got, err)
			}
		}
		if _, err := st.UseUserToken(ctx, "new", now.Add(time.Hour)); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("use at expiry: %v, want not found", err)
		}

		won := race(func() bool {
			_, err := st.UseUserToken(ctx, "new", now)
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				t.Errorf("a use of the link failed otherwise: %v", err)
			}
			return err == nil
		})
		if won != 1 {
			t.Fatalf("%d concurrent uses of a one-time link succeeded, want 1", won)
		}
		if _, err := st.UseUserToken(ctx, "new", now); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("use after use: %v", err)
		}
	})
}

// TestAPIKeysRevokedAtOnce: a revoked key is not found by its hash, nor listed, and only its
// own account can revoke it.
func TestAPIKeysRevokedAtOnce(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.Target) {
		st, now := withAccounts(t, db)
		ctx := context.Background()
		for _, k := range []domain.APIKey{
			{ID: "key_1", AccountID: "acct_a", Name: "shop", Prefix: "pbk_1", Hash: "h1", CreatedAt: now},
			{ID: "key_2", AccountID: "acct_a", Name: "report", Prefix: "pbk_2", Hash: "h2", CreatedAt: now.Add(time.Second), Role: "viewer"},
		} {
			if err := st.CreateAPIKey(ctx, k); err != nil {
				t.Fatal(err)
			}
		}
		if k, err := st.APIKeyByHash(ctx, "h2"); err != nil || k.ID != "key_2" || k.AccountID != "acct_a" || k.Role != "viewer" {
			t.Fatalf("key by hash: %+v %v", k, err)
		}
		if err := st.RevokeAPIKey(ctx, "acct_b", "key_1", now); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("another account revokes the key: %v", err)
		}
		if err := st.RevokeAPIKey(ctx, "acct_a", "key_1", now); err != nil {
			t.Fatal(err)
		}
		if _, err := st.APIKeyByHash(ctx, "h1"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("revoked key by hash: %v, want not found", err)
		}
		if err := st.RevokeAPIKey(ctx, "acct_a", "key_1", now); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("second revocation: %v, want not found", err)
		}
		keys, err := st.ListAPIKeys(ctx, "acct_a")
		if err != nil || len(keys) != 1 || keys[0].ID != "key_2" {
			t.Fatalf("live keys: %+v %v", keys, err)
		}
		if other, _ := st.ListAPIKeys(ctx, "acct_b"); len(other) != 0 {
			t.Fatalf("another account lists %+v", other)
		}
	})
}

// TestDueChecksClaimedOnce: the scheduler sees the scheduled integrations whose check is due,
// oldest first, never called-off or inactive ones or one not yet due; of concurrent claims of
// one due check exactly one wins.
func TestDueChecksClaimedOnce(t *testing.T) {
	testdb.Each(t, func(t *testing.T, db testdb.Target) {
		st, now := withAccounts(t, db)
		ctx := context.Background()
		at := func(d time.Duration) *time.Time { t := now.Add(d); return &t }
		for _, i := range []domain.Integration{
			{ID: "int_late", AccountID: "acct_a", Status: domain.StatusHealthy, NextCheckAt: at(-time.Hour)},
			{ID: "int_due", AccountID: "acct_b", Status: domain.StatusFailed, NextCheckAt: at(-time.Minute)},
			{ID: "int_new", AccountID: "acct_a", Status: domain.StatusInitializing, NextCheckAt: at(0)},
			{ID: "int_later", AccountID: "acct_a", Status: domain.StatusHealthy, NextCheckAt: at(time.Minute)},
			{ID: "int_off", AccountID: "acct_a", Status: domain.StatusCalledOff, NextCheckAt: at(-time.Hour)},
			{ID: "int_gone", AccountID: "acct_b", Status: domain.StatusInactive, NextCheckAt: at(-time.Hour)},
		} {
			i.Type, i.CreatedAt, i.UpdatedAt = "sandbox", now, now
			if err := st.CreateIntegration(ctx, i, "sealed", ""); err != nil {
				t.Fatal(err)
			}
		}
		due, err := st.DueIntegrations(ctx, now, 10)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, i := range due {
			ids = append(ids, i.ID)
		}
		if want := "int_late int_due int_new"; join(ids) != want {
			t.Fatalf("due: %s, want %s", join(ids), want)
		}
		if two, _ := st.DueIntegrations(ctx, now, 2); len(two) != 2 {
			t.Fatalf("limit 2 gave %d", len(two))
		}
		if ok, err := st.ClaimDueCheck(ctx, "acct_b", "int_late", now, now.Add(time.Hour)); err != nil || ok {
			t.Fatalf("another account claims the check: %v %v", ok, err)
		}
		if ok, err := st.ClaimDueCheck(ctx, "acct_a", "int_off", now, now.Add(time.Hour)); err != nil || ok {
			t.Fatalf("claim of a called-off integration: %v %v", ok, err)
		}

		won := race(func() bool {
			ok, err := st.ClaimDueCheck(ctx, "acct_a", "int_late", now, now.Add(time.Hour))
			if err != nil {
				t.Errorf("claim: %v", err)
			}
			return ok
		})
		if won != 1 {
			t.Fatalf("%d concurrent claims of one due check won, want 1", won)
		}
		due, _ = st.DueIntegrations(ctx, now, 10)
		for _, i := range due {
			if i.ID == "int_late" {
				t.Fatal("a claimed check is still due")
			}
		}
	})
}

// race runs try in six goroutines at once and counts those that won.
func race(try func() bool) int {
	var wg sync.WaitGroup
	var mu sync.Mutex
	won := 0
	for range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if try() {
				mu.Lock()
				won++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return won
}

func join(ids []string) string { return strings.Join(ids, " ") }

func isConflict(err error, field string) bool {
	var de *domain.Error
	return errors.As(err, &de) && de.Code == domain.CodeConflict && de.Field == field
}
