package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"

	"github.com/kagi-auth/kagi/internal/auth"
)

func runCustomer(ctx context.Context, args []string, env Env) error {
	if len(args) == 0 {
		return &UsageError{"customer: want add or unlock"}
	}
	switch args[0] {
	case "add":
		return runCustomerAdd(ctx, args[1:], env)
	case "unlock":
		return runCustomerUnlock(ctx, args[1:], env)
	}
	return &UsageError{fmt.Sprintf("customer: unknown command %q", args[0])}
}

// customerJSON is what `customer add --json` prints.
type customerJSON struct {
	ID            int64  `json:"id"`
	CustomerCode  string `json:"customer_code"`
	Email         string `json:"email,omitempty"`
	EmailVerified bool   `json:"email_verified"`
	SecondFactor  string `json:"second_factor,omitempty"`
	TOTPSecret    string `json:"totp_secret,omitempty"`
	SetupRequired bool   `json:"setup_required"`
}

func runCustomerAdd(ctx context.Context, args []string, env Env) error {
	var n auth.NewCustomer
	var asJSON bool
	cfg, _, _, err := parse("customer add", args, env, func(fs *flag.FlagSet) {
		fs.StringVar(&n.Code, "code", "", "customer code (digits)")
		fs.StringVar(&n.Password, "password", "", "initial login password")
		fs.StringVar(&n.Email, "email", "", "verified e-mail address (optional: without it the customer does initial setup)")
		fs.StringVar(&n.SecondFactor, "second-factor", "", "totp or email (default: email when --email is given)")
		fs.StringVar(&n.TOTPSecret, "totp-secret", "", "base32 TOTP secret (default: generated)")
		fs.StringVar(&n.Lang, "lang", "ja", "language of the customer's mails: ja or en")
		fs.BoolVar(&asJSON, "json", false, "print the created customer as JSON")
	})
	if err != nil {
		return err
	}
	if n.Code == "" || n.Password == "" {
		return &UsageError{"customer add: --code and --password are required"}
	}
	a, err := openApp(ctx, cfg, newLogger(cfg, env.Stderr), nil)
	if err != nil {
		return err
	}
	defer a.st.Close()
	c, secret, err := a.auth.CreateCustomer(ctx, n, "cli")
	if err != nil {
		var de *auth.Error
		if errors.As(err, &de) && de.Err != nil {
			return fmt.Errorf("customer add: %v", de.Err)
		}
		return fmt.Errorf("customer add: %w", err)
	}
	out := customerJSON{
		ID: c.ID, CustomerCode: c.Code, Email: c.Email, EmailVerified: c.EmailVerified(),
		SecondFactor: c.SecondFactor, TOTPSecret: secret, SetupRequired: !c.EmailVerified() || c.SecondFactor == "",
	}
	if asJSON {
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	fmt.Fprintf(env.Stdout, "created customer %s", c.Code)
	if secret != "" {
		fmt.Fprintf(env.Stdout, " (TOTP secret %s)", secret)
	}
	if out.SetupRequired {
		fmt.Fprint(env.Stdout, "; initial setup is required at first login")
	}
	fmt.Fprintln(env.Stdout)
	return nil
}

func runCustomerUnlock(ctx context.Context, args []string, env Env) error {
	var code string
	cfg, _, _, err := parse("customer unlock", args, env, func(fs *flag.FlagSet) {
		fs.StringVar(&code, "code", "", "customer code")
	})
	if err != nil {
		return err
	}
	if code == "" {
		return &UsageError{"customer unlock: --code is required"}
	}
	a, err := openApp(ctx, cfg, newLogger(cfg, env.Stderr), nil)
	if err != nil {
		return err
	}
	defer a.st.Close()
	if err := a.auth.Unlock(ctx, code, "cli"); err != nil {
		if auth.ErrorCode(err) == auth.CodeNotFound {
			return fmt.Errorf("customer unlock: no customer %s", code)
		}
		return err
	}
	fmt.Fprintf(env.Stdout, "customer %s unlocked\n", code)
	return nil
}
