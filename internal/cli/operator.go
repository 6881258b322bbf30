package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/kagi-auth/kagi/internal/auth"
	"github.com/kagi-auth/kagi/internal/config"
	"github.com/kagi-auth/kagi/internal/console"
	"github.com/kagi-auth/kagi/internal/store"
)

// The call center from the command line (issue 7): operators and their
// enrollment codes, and the console's procedures for scripted use. A
// procedure runs as an operator (--as NAME), is audited as "operator:NAME"
// with "via":"cli", and follows the console's rules: a reason for everything,
// roles, and four eyes — `kagi operator request` records a request that
// `kagi operator approve --as OTHER` (a supervisor) carries out.

const operatorUsage = `usage:
  kagi operator add --name N --role agent|supervisor    create an operator; prints a one-time enrollment code
  kagi operator enroll --name N [--revoke-passkeys]     a new enrollment code (another device; with the flag, after a loss)
  kagi operator disable --name N                        the operator can no longer log in
  kagi operator list
procedures (each --as NAME --code CUSTOMER --reason TEXT):
  kagi operator unlock | freeze | send-setup-guide
  kagi operator revoke-passkey (--id N | --all)
  kagi operator unsuspend-passkey --id N
four eyes:
  kagi operator request second-factor-email ...
  kagi operator request email-change --email ADDR [--inquiry N] ...
  kagi operator request unfreeze --id-check METHOD [--id-note TEXT] ...
  kagi operator requests [--status pending|approved|rejected|cancelled|all] [--json]
  kagi operator approve | reject | cancel --id N --as NAME --reason TEXT
inquiries:
  kagi operator inquiries [--json]`

// ConsoleConfig maps the configuration onto the console's domain.
func ConsoleConfig(cfg *config.Config) auth.ConsoleConfig {
	return auth.ConsoleConfig{RP: auth.RP{ID: cfg.ConsoleRPID(), Origin: cfg.ConsoleOrigin, Name: cfg.Brokerage + " オペレーターコンソール"}}
}

func runOperator(ctx context.Context, args []string, env Env) error {
	if len(args) == 0 {
		fmt.Fprintln(env.Stderr, operatorUsage)
		return &UsageError{"operator: want a command"}
	}
	cmd, rest := args[0], args[1:]
	var o opFlags
	extra := func(fs *flag.FlagSet) { o.register(cmd, fs) }
	switch cmd {
	case "add", "enroll", "disable", "list", "unlock", "freeze", "send-setup-guide", "revoke-passkey",
		"unsuspend-passkey", "approve", "reject", "cancel", "requests", "inquiries":
	case "request":
		if len(rest) == 0 {
			return &UsageError{"operator request: want second-factor-email, email-change or unfreeze"}
		}
		o.kind, rest = rest[0], rest[1:]
	case "help", "-h", "--help":
		fmt.Fprintln(env.Stdout, operatorUsage)
		return nil
	default:
		fmt.Fprintln(env.Stderr, operatorUsage)
		return &UsageError{fmt.Sprintf("operator: unknown command %q", cmd)}
	}
	cfg, _, _, err := parse("operator "+cmd, rest, env, extra)
	if err != nil {
		return err
	}
	a, err := openApp(ctx, cfg, newLogger(cfg, env.Stderr), nil)
	if err != nil {
		return err
	}
	defer a.st.Close()
	con, err := a.auth.NewConsole(ConsoleConfig(cfg))
	if err != nil {
		return err
	}
	if err := o.run(ctx, cmd, cfg, con, env); err != nil {
		var de *auth.Error
		if errors.As(err, &de) {
			if de.Err != nil {
				return fmt.Errorf("operator %s: %s: %v", cmd, de.Code, de.Err)
			}
			return fmt.Errorf("operator %s: %s", cmd, de.Code)
		}
		return fmt.Errorf("operator %s: %w", cmd, err)
	}
	return nil
}

// opFlags are every operator command's options; each command registers the
// ones it takes.
type opFlags struct {
	name, role, as, code, reason, email, idCheck, idNote, status, kind string
	id, inquiry                                                        int64
	all, revoke, asJSON                                                bool
}

func (o *opFlags) register(cmd string, fs *flag.FlagSet) {
	switch cmd {
	case "add":
		fs.StringVar(&o.name, "name", "", "operator name: 2-32 of a-z 0-9 . _ -, starting with a letter")
		fs.StringVar(&o.role, "role", "", "agent or supervisor")
	case "enroll":
		fs.StringVar(&o.name, "name", "", "operator name")
		fs.BoolVar(&o.revoke, "revoke-passkeys", false, "revoke the operator's passkeys and sessions first (lost device)")
	case "disable":
		fs.StringVar(&o.name, "name", "", "operator name")
	case "list":
	case "requests":
		fs.StringVar(&o.status, "status", "pending", "pending, approved, rejected, cancelled or all")
		fs.BoolVar(&o.asJSON, "json", false, "print JSON")
	case "inquiries":
		fs.BoolVar(&o.asJSON, "json", false, "print JSON")
	default: // procedures, requests and decisions
		fs.StringVar(&o.as, "as", "", "the operator acting (audited as operator:NAME)")
		fs.StringVar(&o.reason, "reason", "", "why (required)")
		switch cmd {
		case "approve", "reject", "cancel":
			fs.Int64Var(&o.id, "id", 0, "request number")
			return
		}
		fs.StringVar(&o.code, "code", "", "customer code")
		switch cmd {
		case "revoke-passkey":
			fs.Int64Var(&o.id, "id", 0, "passkey id (see the console)")
			fs.BoolVar(&o.all, "all", false, "revoke every passkey of the customer")
		case "unsuspend-passkey":
			fs.Int64Var(&o.id, "id", 0, "passkey id")
		case "request":
			switch o.kind {
			case "email-change":
				fs.StringVar(&o.email, "email", "", "the new address (default: the inquiry's)")
				fs.Int64Var(&o.inquiry, "inquiry", 0, "the inquiry it answers")
			case "unfreeze":
				fs.StringVar(&o.idCheck, "id-check", "", "how the identity was re-verified (required)")
				fs.StringVar(&o.idNote, "id-note", "", "what was checked")
			}
		}
	}
}

var requestKinds = map[string]string{
	"second-factor-email": store.RequestSecondFactorEmail,
	"email-change":        store.RequestEmailChange,
	"unfreeze":            store.RequestUnfreeze,
}

func (o *opFlags) run(ctx context.Context, cmd string, cfg *config.Config, con *auth.Console, env Env) error {
	out := env.Stdout
	need := func(ok bool, what string) error {
		if !ok {
			return &UsageError{fmt.Sprintf("operator %s: %s", cmd, what)}
		}
		return nil
	}
	switch cmd {
	case "add", "enroll":
		if err := need(o.name != "", "--name is required"); err != nil {
			return err
		}
		var en *auth.Enrollment
		var err error
		if cmd == "add" {
			if err := need(o.role == store.RoleAgent || o.role == store.RoleSupervisor, "--role must be agent or supervisor"); err != nil {
				return err
			}
			en, err = con.AddOperator(ctx, o.name, o.role, "cli")
		} else {
			en, err = con.IssueEnrollment(ctx, o.name, o.revoke, "cli")
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "operator %s (%s)\nenrollment code: %s\nvalid until %s, once\n",
			en.Operator.Name, en.Operator.Role, en.Code, en.ExpiresAt.In(config.Tokyo).Format("2006-01-02 15:04 MST"))
		fmt.Fprintf(out, "open %s/enroll, enter the name and the code, and register a passkey\n", strings.TrimSuffix(cfg.ConsoleOrigin, "/"))
		return nil
	case "disable":
		if err := need(o.name != "", "--name is required"); err != nil {
			return err
		}
		if err := con.DisableOperator(ctx, o.name, "cli"); err != nil {
			return err
		}
		fmt.Fprintf(out, "operator %s disabled\n", o.name)
		return nil
	case "list":
		ops, err := con.Operators(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "NAME\tROLE\tSTATE\tCREATED")
		for _, op := range ops {
			state := "active"
			switch {
			case !op.Active():
				state = "disabled"
			case len(op.EnrollHash) > 0:
				state = "enrollment pending"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", op.Name, op.Role, state, op.CreatedAt.In(config.Tokyo).Format("2006-01-02 15:04"))
		}
		return tw.Flush()
	case "requests":
		status := o.status
		if status == "all" {
			status = ""
		}
		rs, err := con.Requests(ctx, status, 0)
		if err != nil {
			return err
		}
		return printRequests(ctx, con, rs, o.asJSON, env)
	case "inquiries":
		qs, err := con.OpenInquiries(ctx, 0)
		if err != nil {
			return err
		}
		if o.asJSON {
			return json.NewEncoder(out).Encode(qs)
		}
		tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tRECEIVED\tCUSTOMER\tTOPIC\tEMAIL")
		for _, q := range qs {
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\n", q.ID, q.CreatedAt.In(config.Tokyo).Format("2006-01-02 15:04"), q.CustomerCode, q.Topic, q.Email)
		}
		return tw.Flush()
	}

	// Everything else acts as an operator.
	if err := need(o.as != "", "--as NAME is required"); err != nil {
		return err
	}
	a, err := con.CLIActor(ctx, o.as)
	if err != nil {
		return err
	}
	switch cmd {
	case "approve", "reject", "cancel":
		if err := need(o.id > 0, "--id is required"); err != nil {
			return err
		}
		switch cmd {
		case "approve":
			r, err := con.Approve(ctx, a, o.id, o.reason)
			if err != nil {
				return err
			}
			fmt.Fprintf(out, "request %d approved and carried out (%s)\n", r.ID, r.Kind)
			if r.Kind == store.RequestEmailChange {
				fmt.Fprintf(out, "a confirmation code was mailed to %s; the address changes when the customer enters it on the inquiry page\n", auth.PayloadOf(r).Email)
			}
		case "reject":
			if err := con.Reject(ctx, a, o.id, o.reason); err != nil {
				return err
			}
			fmt.Fprintf(out, "request %d rejected\n", o.id)
		case "cancel":
			if err := con.Cancel(ctx, a, o.id, o.reason); err != nil {
				return err
			}
			fmt.Fprintf(out, "request %d withdrawn\n", o.id)
		}
		return nil
	}
	if err := need(o.code != "", "--code is required"); err != nil {
		return err
	}
	switch cmd {
	case "unlock":
		err = con.Unlock(ctx, a, o.code, o.reason)
	case "freeze":
		err = con.Freeze(ctx, a, o.code, o.reason)
	case "send-setup-guide":
		err = con.SendSetupGuide(ctx, a, o.code, o.reason)
	case "revoke-passkey":
		if err := need(o.all != (o.id > 0), "give --id N or --all"); err != nil {
			return err
		}
		if o.all {
			err = con.RevokeAllPasskeys(ctx, a, o.code, o.reason)
		} else {
			err = con.RevokePasskey(ctx, a, o.code, o.id, o.reason)
		}
	case "unsuspend-passkey":
		if err := need(o.id > 0, "--id is required"); err != nil {
			return err
		}
		err = con.LiftSuspension(ctx, a, o.code, o.id, o.reason)
	case "request":
		kind, ok := requestKinds[o.kind]
		if err := need(ok, fmt.Sprintf("unknown request %q: want second-factor-email, email-change or unfreeze", o.kind)); err != nil {
			return err
		}
		r, err := con.Request(ctx, a, auth.NewRequest{Kind: kind, Code: o.code, Reason: o.reason, Email: o.email,
			InquiryID: o.inquiry, IDCheck: o.idCheck, IDNote: o.idNote})
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "request %d recorded (%s for customer %s); another operator, a supervisor, approves it:\n  kagi operator approve --id %d --as NAME --reason TEXT\n",
			r.ID, r.Kind, o.code, r.ID)
		return nil
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "%s done for customer %s\n", cmd, o.code)
	return nil
}

type requestJSON struct {
	ID           int64     `json:"id"`
	Kind         string    `json:"kind"`
	CustomerCode string    `json:"customer_code"`
	Status       string    `json:"status"`
	Reason       string    `json:"reason"`
	RequestedBy  string    `json:"requested_by"`
	RequestedAt  time.Time `json:"requested_at"`
	DecidedBy    string    `json:"decided_by,omitempty"`
	Email        string    `json:"email,omitempty"`
	IDCheck      string    `json:"id_check,omitempty"`
}

func printRequests(ctx context.Context, con *auth.Console, rs []*store.ApprovalRequest, asJSON bool, env Env) error {
	out := make([]requestJSON, 0, len(rs))
	for _, r := range rs {
		code := ""
		if c, err := con.CustomerByID(ctx, r.CustomerID); err == nil {
			code = c.Code
		}
		p := auth.PayloadOf(r)
		out = append(out, requestJSON{ID: r.ID, Kind: r.Kind, CustomerCode: code, Status: r.Status, Reason: r.Reason,
			RequestedBy: r.RequestedBy, RequestedAt: r.RequestedAt, DecidedBy: r.DecidedBy, Email: p.Email, IDCheck: p.IDCheck})
	}
	if asJSON {
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tKIND\tCUSTOMER\tSTATUS\tBY\tAT\tREASON")
	for _, r := range out {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\n", r.ID, r.Kind, r.CustomerCode, r.Status, r.RequestedBy,
			r.RequestedAt.In(config.Tokyo).Format("2006-01-02 15:04"), r.Reason)
	}
	return tw.Flush()
}

// consoleServer is the operator console's listener in `kagi serve`.
type consoleServer struct {
	srv *http.Server
	ln  net.Listener
	con *auth.Console
	log *slog.Logger
}

// startConsole listens on --console-addr; run serves it.
func startConsole(a *app, log *slog.Logger) (*consoleServer, error) {
	cfg := a.cfg
	con, err := a.auth.NewConsole(ConsoleConfig(cfg))
	if err != nil {
		return nil, err
	}
	proxies, _ := cfg.Proxies() // validated with the config
	h, err := console.NewServer(console.Deps{
		Origin: cfg.ConsoleOrigin, Console: con, Store: a.st, Logger: log.With("site", "console"),
		TrustedProxies: proxies, RateLimitIP: cfg.RateLimitIP,
	})
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", cfg.ConsoleAddr)
	if err != nil {
		return nil, fmt.Errorf("console: listen on %s: %w", cfg.ConsoleAddr, err)
	}
	srv := &http.Server{
		Handler: h, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second, WriteTimeout: 60 * time.Second,
		IdleTimeout: 2 * time.Minute, MaxHeaderBytes: 64 << 10, ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	log.Info("operator console starting", "addr", ln.Addr().String(), "origin", cfg.ConsoleOrigin, "rp_id", cfg.ConsoleRPID())
	return &consoleServer{srv: srv, ln: ln, con: con, log: log}, nil
}

// run serves until the server is shut down and sweeps expired console
// sessions until bg ends; a serving error goes to errc.
func (c *consoleServer) run(bg context.Context, errc chan<- error) {
	go func() {
		t := time.NewTicker(time.Minute)
		defer t.Stop()
		for {
			select {
			case <-bg.Done():
				return
			case <-t.C:
				if err := c.con.Sweep(bg); err != nil && bg.Err() == nil {
					c.log.Warn("console sweep failed", "err", err.Error())
				}
			}
		}
	}()
	if err := c.srv.Serve(c.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		errc <- fmt.Errorf("console: %w", err)
	}
}

func (c *consoleServer) shutdown(ctx context.Context) error {
	if err := c.srv.Shutdown(ctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// demoOperators are the console's demo accounts: one of each role, so that
// the four-eyes rule can be tried (one requests, the other approves).
var demoOperators = []struct{ name, role string }{
	{"sato", store.RoleSupervisor},
	{"suzuki", store.RoleAgent},
	{"tanaka", store.RoleSupervisor},
}

// seedDemoOperators creates the demo operators once and prints a fresh
// enrollment code for each that has no passkey yet.
func seedDemoOperators(ctx context.Context, con *auth.Console, origin string, w io.Writer) error {
	fmt.Fprintf(w, "Demo operators of the console %s (enrollment codes are new at every start, until a passkey is registered):\n", origin)
	for _, d := range demoOperators {
		var en *auth.Enrollment
		op, err := con.Service().Store().OperatorByName(ctx, d.name)
		switch {
		case errors.Is(err, store.ErrNotFound):
			en, err = con.AddOperator(ctx, d.name, d.role, "demo")
		case err != nil:
			return err
		default:
			ps, perr := con.Service().Store().OperatorPasskeys(ctx, op.ID)
			if perr != nil {
				return perr
			}
			if len(ps) > 0 || !op.Active() {
				fmt.Fprintf(w, "  %-8s %-10s already has a passkey: log in at %s/login\n", d.name, d.role, origin)
				continue
			}
			en, err = con.IssueEnrollment(ctx, d.name, false, "demo")
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "  %-8s %-10s enrollment code %s (at %s/enroll)\n", d.name, d.role, en.Code, origin)
	}
	fmt.Fprintln(w)
	return nil
}

// close releases the listener of a console that never served (nil-safe).
func (c *consoleServer) close() {
	if c != nil {
		c.ln.Close()
	}
}
