package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/posbridge/posbridge/internal/access"
	"github.com/posbridge/posbridge/internal/accounts"
	"github.com/posbridge/posbridge/internal/app"
	"github.com/posbridge/posbridge/internal/domain"
	"github.com/posbridge/posbridge/internal/jobs"
	"github.com/posbridge/posbridge/internal/store"
)

const resetUsage = `usage: posbridge account reset-password --email E [--json]`

// resetPassword is `posbridge account reset-password`: an operator with access to the database
// recovers a lost console password. The new password is printed once; the user's sessions end.
func resetPassword(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("account reset-password", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg app.Config
	var email string
	var asJSON bool
	storageFlags(settings{fs, getenv}, &cfg)
	fs.StringVar(&email, "email", "", "the console user's email")
	fs.BoolVar(&asJSON, "json", false, "print one JSON object")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if email == "" {
		return errors.New("--email is required\n" + resetUsage)
	}
	st, err := jobs.OpenStore(ctx, store.Config{DataDir: cfg.DataDir, DatabaseURL: cfg.DatabaseURL})
	if err != nil {
		return err
	}
	defer st.Close()
	r, err := accounts.ResetPassword(ctx, st, email)
	if err != nil {
		return plain(err)
	}
	if asJSON {
		return json.NewEncoder(stdout).Encode(r)
	}
	fmt.Fprintf(stdout, "password reset (shown once; the user's sessions ended)\n  account id: %s\n  email:      %s\n  password:   %s\n",
		r.AccountID, r.Email, r.Password)
	return nil
}

const apikeyUsage = `usage:
  posbridge apikey create (--account ID | --email E) [--name N] [--role R] [--json]
  posbridge apikey list   (--account ID | --email E) [--json]
  posbridge apikey revoke (--account ID | --email E) --id KEY_ID`

// apikey is `posbridge apikey create|list|revoke`: an operator manages an account's API keys
// from the command line, acting as a Store Admin of it (a lost key is revoked and a new one
// created). The account is named by its id or by the email of one of its console users.
func apikey(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || (args[0] != "create" && args[0] != "list" && args[0] != "revoke") {
		return errors.New(apikeyUsage)
	}
	verb := args[0]
	fs := flag.NewFlagSet("apikey "+verb, flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg app.Config
	var accountID, email, name, role, id string
	var asJSON bool
	storageFlags(settings{fs, getenv}, &cfg)
	fs.StringVar(&accountID, "account", "", "the account's id (acct_...)")
	fs.StringVar(&email, "email", "", "instead of --account: the email of a console user of the account")
	switch verb {
	case "create":
		fs.StringVar(&name, "name", "command line", "what the key is for")
		fs.StringVar(&role, "role", domain.RoleStoreAdmin, "the key's role: admin (Store Admin), manager, staff or a custom role's id")
	case "revoke":
		fs.StringVar(&id, "id", "", "the key's id (key_..., from apikey list)")
	}
	if verb != "revoke" {
		fs.BoolVar(&asJSON, "json", false, "print JSON")
	}
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if (accountID == "") == (email == "") {
		return errors.New("name the account with --account or --email (one of them)\n" + apikeyUsage)
	}
	if verb == "revoke" && id == "" {
		return errors.New("--id is required\n" + apikeyUsage)
	}
	st, err := jobs.OpenStore(ctx, store.Config{DataDir: cfg.DataDir, DatabaseURL: cfg.DatabaseURL})
	if err != nil {
		return err
	}
	defer st.Close()
	acct, err := accounts.Find(ctx, st, accountID, email)
	if err != nil {
		return plain(err)
	}
	admin, _ := domain.PresetRole(domain.RoleStoreAdmin)
	p := access.Principal{AccountID: acct.ID, Kind: "operator", Actor: accounts.ActorCommandLine, Role: admin}
	acc := access.New(st)
	switch verb {
	case "create":
		k, key, err := acc.CreateAPIKey(ctx, p, name, role)
		if err != nil {
			return plain(err)
		}
		if asJSON {
			return json.NewEncoder(stdout).Encode(map[string]string{"id": k.ID, "account_id": acct.ID, "name": k.Name, "role": k.Role, "api_key": key})
		}
		fmt.Fprintf(stdout, "API key created for %s (shown once)\n  id:      %s\n  name:    %s\n  role:    %s\n  API key: %s\n",
			acct.Name, k.ID, k.Name, acc.RoleName(ctx, acct.ID, k.Role), key)
	case "list":
		keys, err := acc.ListAPIKeys(ctx, p)
		if err != nil {
			return err
		}
		if asJSON {
			out := make([]map[string]any, 0, len(keys))
			for _, k := range keys {
				out = append(out, map[string]any{"id": k.ID, "name": k.Name, "prefix": k.Prefix, "role": k.Role,
					"created_at": k.CreatedAt.UTC(), "last_used_at": k.LastUsedAt})
			}
			return json.NewEncoder(stdout).Encode(map[string]any{"account_id": acct.ID, "data": out})
		}
		tw := tabwriter.NewWriter(stdout, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tNAME\tKEY\tROLE\tCREATED\tLAST USED")
		for _, k := range keys {
			used := "never"
			if k.LastUsedAt != nil {
				used = k.LastUsedAt.UTC().Format("2006-01-02 15:04 UTC")
			}
			fmt.Fprintf(tw, "%s\t%s\t%s…\t%s\t%s\t%s\n", k.ID, k.Name, k.Prefix, acc.RoleName(ctx, acct.ID, k.Role),
				k.CreatedAt.UTC().Format("2006-01-02 15:04 UTC"), used)
		}
		return tw.Flush()
	case "revoke":
		if err := acc.RevokeAPIKey(ctx, p, id); err != nil {
			return plain(err)
		}
		fmt.Fprintf(stdout, "API key %s revoked: it is refused from the next request on\n", id)
	}
	return nil
}

// plain turns a refusal into the sentence it carries (with the flag it names), and leaves
// other errors as they are.
func plain(err error) error {
	var de *domain.Error
	if errors.As(err, &de) && de.Code != domain.CodeInternal {
		if de.Field != "" && de.Code == domain.CodeInvalid {
			return fmt.Errorf("--%s: %s", de.Field, de.Message)
		}
		return errors.New(de.Message)
	}
	return err
}
