package cli

import (
	"context"
	"flag"
	"fmt"

	"github.com/kagi-auth/kagi/internal/audit"
)

// `kagi audit verify` (SPEC O5): walk the whole hash chain of the audit log,
// recompute every link and report the first one that does not hold, with a
// non-zero exit status.

// ErrAuditBroken is returned (exit status 1) when the chain does not verify.
type ErrAuditBroken struct{ *audit.Break }

func runAudit(ctx context.Context, args []string, env Env) error {
	if len(args) == 0 || args[0] != "verify" {
		fmt.Fprintln(env.Stderr, "usage: kagi audit verify [--page N] [--quiet]")
		return &UsageError{"audit: want verify"}
	}
	var page int
	var quiet bool
	cfg, _, _, err := parse("audit verify", args[1:], env, func(fs *flag.FlagSet) {
		fs.IntVar(&page, "page", audit.DefaultPage, "entries read per query")
		fs.BoolVar(&quiet, "quiet", false, "print only a broken link")
	})
	if err != nil {
		return err
	}
	if page < 1 || page > 100000 {
		return &UsageError{"audit verify: --page must be between 1 and 100000"}
	}
	st, where, err := openStore(ctx, cfg, newLogger(cfg, env.Stderr))
	if err != nil {
		return err
	}
	defer st.Close()
	res, err := audit.Verify(ctx, st, page, nil)
	if err != nil {
		return err
	}
	if !res.OK() {
		fmt.Fprintf(env.Stdout, "audit chain BROKEN at seq %d: %s\n(%d entries read in %s; nothing from seq %d on can be trusted)\n",
			res.Broken.Seq, res.Broken.Reason, res.Entries, where, res.Broken.Seq)
		return ErrAuditBroken{res.Broken}
	}
	if !quiet {
		fmt.Fprintf(env.Stdout, "audit chain verified: %d entries, seq 1 to %d, in %s\n", res.Entries, res.LastSeq, where)
	}
	return nil
}
